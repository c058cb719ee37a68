"""fix_engine.dictionary: QuickFIX-format XML data dictionaries and message validation (pure).

``load_dictionary(path)`` -> :class:`DataDictionary`; ``validate(message, dictionary, settings)``
-> list of :class:`Violation` carrying SessionRejectReason (373) and RefTagID (371).
"""

from .loader import (
    DictionaryError,
    clear_cache,
    load_dictionary,
    load_dictionary_pair,
    load_project_dictionary,
    parse_dictionary_string,
    project_dictionary_dir,
    project_dictionary_path,
    quickfix_dictionary_dir,
    resolve_dictionary_path,
)
from .model import (
    APPL_VER_IDS,
    USER_DEFINED_TAG_MIN,
    ComponentDef,
    DataDictionary,
    DictionaryPair,
    FieldDef,
    FieldRef,
    GroupDef,
    MessageDef,
    SectionDef,
)
from .validation import (
    DEFAULT_SETTINGS,
    PairValidator,
    ValidationSettings,
    Validator,
    check_length_and_checksum,
    msg_type_category,
    validate,
    validator_for,
)
from .violations import REJECT_REASON_TEXT, SessionRejectReason, Violation

__all__ = [
    "APPL_VER_IDS",
    "DEFAULT_SETTINGS",
    "REJECT_REASON_TEXT",
    "USER_DEFINED_TAG_MIN",
    "ComponentDef",
    "DataDictionary",
    "DictionaryError",
    "DictionaryPair",
    "FieldDef",
    "FieldRef",
    "GroupDef",
    "MessageDef",
    "PairValidator",
    "SectionDef",
    "SessionRejectReason",
    "ValidationSettings",
    "Validator",
    "Violation",
    "check_length_and_checksum",
    "clear_cache",
    "load_dictionary",
    "load_dictionary_pair",
    "load_project_dictionary",
    "msg_type_category",
    "parse_dictionary_string",
    "project_dictionary_dir",
    "project_dictionary_path",
    "quickfix_dictionary_dir",
    "resolve_dictionary_path",
    "validate",
    "validator_for",
]
