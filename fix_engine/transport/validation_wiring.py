"""Which data dictionary validates a session, from its settings (QuickFIX's rules, fixgate's defaults).

* ``UseDataDictionary=N``: no validation; every MsgType is accepted by the session layer.
* FIX.4.x: ``DataDictionary``; when absent, the standard dictionary of that version (quickfix's
  full one when installed, else fixgate's own ``dictionaries/``).
* FIXT.1.1: ``TransportDataDictionary`` + ``AppDataDictionary`` (and any
  ``AppDataDictionary.<version>`` keys); when absent, FIXT11 + FIX50SP2.
Dictionary problems raise :class:`~fix_engine.dictionary.DictionaryError` or
``FileNotFoundError`` naming the session's config location.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..codec.message import FixMessage
from ..codec.tags import DATA_LENGTH_TAGS
from ..dictionary import (
    DataDictionary,
    DictionaryPair,
    ValidationSettings,
    Violation,
    load_dictionary,
    load_dictionary_pair,
    resolve_dictionary_path,
    validator_for,
)
from ..session.settings import SessionSettings

_DEFAULT_NAMES = {
    "FIX.4.0": "FIX40.xml",
    "FIX.4.1": "FIX41.xml",
    "FIX.4.2": "FIX42.xml",
    "FIX.4.3": "FIX43.xml",
    "FIX.4.4": "FIX44.xml",
}


class DictionaryConfigError(ValueError):
    """A session names a dictionary that cannot be found or loaded."""


@dataclass(frozen=True)
class SessionValidation:
    """What the Session needs from a dictionary: a validator, known MsgTypes, data-length tags."""

    validator: Callable[[FixMessage], list[Violation]] | None
    is_known_msg_type: Callable[[str], bool] | None
    data_length_tags: Mapping[int, int]
    dictionary: DataDictionary | DictionaryPair | None = None


NO_VALIDATION = SessionValidation(None, None, DATA_LENGTH_TAGS)


def _resolve(settings: SessionSettings, key: str, value: str) -> Path:
    base = Path(settings.source.rsplit(":", 1)[0]).parent if settings.source else None
    try:
        return resolve_dictionary_path(value, base)
    except FileNotFoundError as exc:
        raise DictionaryConfigError(f"{settings.source or settings.session_id}: {key}: {exc}") from None


def dictionary_for(settings: SessionSettings) -> DataDictionary | DictionaryPair | None:
    """The dictionary (or FIXT pair) a session validates with, or None for UseDataDictionary=N."""
    if not settings.use_data_dictionary:
        return None
    if settings.session_id.is_fixt:
        transport = _resolve(settings, "TransportDataDictionary", settings.transport_data_dictionary or "FIXT11.xml")
        app_values = [settings.app_data_dictionary or settings.data_dictionary or "FIX50SP2.xml"]
        app_values += [v for k, v in settings.extra.items() if k.startswith("AppDataDictionary.")]
        apps = [_resolve(settings, "AppDataDictionary", v) for v in app_values]
        return load_dictionary_pair(transport, apps, settings.default_appl_ver_id or None)
    name = settings.data_dictionary or _DEFAULT_NAMES.get(settings.session_id.begin_string, "")
    if not name:
        return None
    return load_dictionary(_resolve(settings, "DataDictionary", name))


def validation_for(settings: SessionSettings) -> SessionValidation:
    dictionary = dictionary_for(settings)
    if dictionary is None:
        return NO_VALIDATION
    validator = validator_for(dictionary, ValidationSettings.from_session_settings(settings))
    if isinstance(dictionary, DictionaryPair):
        dictionaries = [dictionary.transport, *dictionary.applications.values()]
    else:
        dictionaries = [dictionary]
    length_tags: dict[int, int] = dict(DATA_LENGTH_TAGS)
    for dd in dictionaries:
        length_tags.update(dd.data_length_tags)

    def is_known(msg_type: str) -> bool:
        return any(dd.is_msg_type(msg_type) for dd in dictionaries)

    validate = validator.validate if settings.validate_incoming_message else None
    return SessionValidation(validate, is_known, length_tags, dictionary)
