"""Load QuickFIX-format XML data dictionaries (``spec/FIX44.xml`` style) into the frozen model.

``load_dictionary(path)`` parses with lxml, resolves components and groups, checks the file
(unknown field or component names, duplicate field numbers or names, unknown types, cyclic
components) and raises :class:`DictionaryError` naming the file and line.  Loaded dictionaries
are cached by path, modification time and size, so loading the same file twice is cheap.

The project's own dictionaries live in the repository's top-level ``dictionaries/`` directory;
:func:`project_dictionary_path` finds them (``FIXGATE_DICTIONARY_DIR`` overrides the place).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from lxml import etree

from fix_engine.codec.tags import DATA_LENGTH_TAGS

from .model import (
    APPL_VER_IDS,
    FIELD_TYPES,
    ComponentDef,
    DataDictionary,
    DictionaryPair,
    FieldDef,
    FieldRef,
    GroupDef,
    Member,
    MessageDef,
    SectionDef,
)

#: Environment variable that overrides where the project's dictionaries are looked up.
DICTIONARY_DIR_ENV = "FIXGATE_DICTIONARY_DIR"


class DictionaryError(Exception):
    """A data dictionary file that cannot be loaded; names the file and, when known, the line."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


# --------------------------------------------------------------------------- locating files


def project_dictionary_dir() -> Path:
    """The directory of fixgate's own dictionaries (repository top level ``dictionaries/``)."""
    override = os.environ.get(DICTIONARY_DIR_ENV)
    if override:
        return Path(override)
    in_checkout = Path(__file__).resolve().parents[2] / "dictionaries"
    if in_checkout.is_dir():
        return in_checkout
    return Path(sys.prefix) / "share" / "fixgate" / "dictionaries"  # installed as data_files


def quickfix_dictionary_dir() -> Path:
    """Where the ``quickfix`` package installs the full standard dictionaries."""
    return Path(sys.prefix) / "share" / "quickfix"


def resolve_dictionary_path(value: str, base_dir: Path | None = None) -> Path:
    """Resolve a DataDictionary setting the way fixgate's configs use it.

    1. A path that exists (absolute, relative to ``base_dir``, or to the working directory).
    2. A bare file name (``FIX44.xml``): the full standard dictionary installed by quickfix
       (``<prefix>/share/quickfix/``) when present, else fixgate's own ``dictionaries/``.
    3. ``dictionaries/NAME.xml``: fixgate's own dictionary of that name.
    """
    candidate = Path(value)
    for path in ([candidate] if candidate.is_absolute() else [base_dir / candidate] if base_dir else []) + [candidate]:
        if path.is_file():
            return path
    if len(candidate.parts) == 1:
        name = candidate.name if candidate.suffix == ".xml" else candidate.name + ".xml"
        standard = quickfix_dictionary_dir() / name
        if standard.is_file():
            return standard
        return project_dictionary_path(name)
    if len(candidate.parts) == 2 and candidate.parts[0] == "dictionaries":
        return project_dictionary_path(candidate.name)
    raise FileNotFoundError(f"data dictionary {value!r} not found")


def project_dictionary_path(name: str) -> Path:
    """Path of a project dictionary by name: ``"FIX44"``, ``"FIX44.xml"`` or ``"FIX.4.4"``."""
    base = Path(name).name.removesuffix(".xml")
    if base.startswith(("FIX.", "FIXT.")):
        base = base.replace(".", "")
    path = project_dictionary_dir() / f"{base}.xml"
    if not path.is_file():
        raise FileNotFoundError(f"no project dictionary {name!r} (looked for {path})")
    return path


def load_project_dictionary(name: str) -> DataDictionary:
    """Load (cached) one of the project's dictionaries by name, e.g. ``"FIX44"``."""
    return load_dictionary(project_dictionary_path(name))


def load_dictionary_pair(
    transport: str | os.PathLike[str],
    applications: Iterable[str | os.PathLike[str]],
    default_appl_ver_id: str | None = None,
) -> DictionaryPair:
    """Load a FIXT transport dictionary and application dictionaries into a :class:`DictionaryPair`.

    Each application dictionary is keyed by its ApplVerID (``"9"`` for FIX.5.0SP2...).
    ``default_appl_ver_id`` defaults to the first application's (it may be given as ``"9"``
    or ``"FIX.5.0SP2"``).
    """
    transport_dd = load_dictionary(transport)
    if not transport_dd.is_transport:
        raise DictionaryError(transport_dd.path, None, f"{transport_dd.begin_string} is not a FIXT transport dictionary")
    apps: dict[str, DataDictionary] = {}
    for path in applications:
        app = load_dictionary(path)
        key = app.appl_ver_id
        if key is None or app.is_transport:
            raise DictionaryError(app.path, None, f"{app.begin_string} has no ApplVerID: not an application dictionary")
        apps[key] = app
    if not apps:
        raise ValueError("a DictionaryPair needs at least one application dictionary")
    default = default_appl_ver_id or next(iter(apps))
    default = appl_ver_id_of(default)
    if default not in apps:
        raise ValueError(f"DefaultApplVerID {default_appl_ver_id!r} has no application dictionary")
    return DictionaryPair(transport_dd, MappingProxyType(apps), default)


def appl_ver_id_of(value: str) -> str:
    """ApplVerID for ``"9"``, ``"FIX.5.0SP2"`` or ``"FIX50SP2"`` (returns ``value`` when unknown)."""
    if value in APPL_VER_IDS:
        return value
    for key, version in APPL_VER_IDS.items():
        if value in (version, version.replace(".", "")):
            return key
    return value


# --------------------------------------------------------------------------- cache

_CACHE: dict[str, tuple[tuple[int, int], DataDictionary]] = {}


def load_dictionary(path: str | os.PathLike[str]) -> DataDictionary:
    """Load a QuickFIX-format dictionary; a second call for an unchanged file returns the same object."""
    resolved = str(Path(path).resolve())
    try:
        stat = os.stat(resolved)
    except OSError as exc:
        raise DictionaryError(str(path), None, f"cannot read dictionary: {exc.strerror}") from None
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _CACHE.get(resolved)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    dictionary = parse_dictionary_file(resolved)
    _CACHE[resolved] = (stamp, dictionary)
    return dictionary


def clear_cache() -> None:
    """Forget every cached dictionary (tests)."""
    _CACHE.clear()


# --------------------------------------------------------------------------- parsing


def parse_dictionary_file(path: str) -> DataDictionary:
    """Parse one XML file (uncached); :class:`DictionaryError` on any problem."""
    try:
        parser = etree.XMLParser(remove_comments=True, resolve_entities=False, no_network=True)
        tree = etree.parse(path, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise DictionaryError(path, line, f"XML syntax error: {exc.msg}") from None
    except OSError as exc:
        raise DictionaryError(path, None, f"cannot read dictionary: {exc}") from None
    return _Builder(path, tree.getroot()).build()


def parse_dictionary_string(text: str | bytes, path: str = "<string>") -> DataDictionary:
    """Parse a dictionary from XML text (tests, tools); ``path`` names it in errors."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        parser = etree.XMLParser(remove_comments=True, resolve_entities=False, no_network=True)
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise DictionaryError(path, exc.lineno or None, f"XML syntax error: {exc.msg}") from None
    return _Builder(path, root).build()


def _frozen(mapping: dict[Any, Any]) -> Mapping[Any, Any]:
    return MappingProxyType(mapping)


class _Builder:
    """Turns one parsed XML tree into a :class:`DataDictionary` (one use per file)."""

    def __init__(self, path: str, root: Any) -> None:
        self.path = path
        self.root = root
        self.fields: dict[int, FieldDef] = {}
        self.by_name: dict[str, FieldDef] = {}
        self.component_elements: dict[str, Any] = {}
        self.components: dict[str, ComponentDef] = {}
        self.data_pairs: dict[int, int] = {}
        self.optional_cache: dict[str, tuple[Member, ...]] = {}

    def error(self, element: Any, message: str) -> DictionaryError:
        line = getattr(element, "sourceline", None)
        return DictionaryError(self.path, line, message)

    def attr(self, element: Any, name: str) -> str:
        value = element.get(name)
        if value is None or value == "":
            raise self.error(element, f"<{element.tag}> has no {name!r} attribute")
        return str(value)

    # ----- top level
    def build(self) -> DataDictionary:
        root = self.root
        if root.tag != "fix":
            raise self.error(root, f"root element is <{root.tag}>, expected <fix>")
        fix_type = root.get("type") or "FIX"
        if fix_type not in ("FIX", "FIXT"):
            raise self.error(root, f"<fix type={fix_type!r}>: expected FIX or FIXT")
        major = self.int_attr(root, "major")
        minor = self.int_attr(root, "minor")
        servicepack = self.int_attr(root, "servicepack", default=0)

        self.load_fields(self.section(root, "fields", required=True))
        components = self.section(root, "components", required=False)
        if components is not None:
            for element in components:
                if element.tag != "component":
                    raise self.error(element, f"unexpected <{element.tag}> in <components>")
                name = self.attr(element, "name")
                if name in self.component_elements:
                    raise self.error(element, f"component {name!r} defined twice")
                self.component_elements[name] = element
            for name in self.component_elements:
                self.resolve_component(name, ())

        header_element = self.section(root, "header", required=False)
        trailer_element = self.section(root, "trailer", required=False)
        header = self.make_section(self.members(header_element, True, ()) if header_element is not None else ())
        trailer = self.make_section(self.members(trailer_element, True, ()) if trailer_element is not None else ())

        messages: dict[str, MessageDef] = {}
        messages_element = self.section(root, "messages", required=False)
        if messages_element is not None:
            for element in messages_element:
                if element.tag != "message":
                    raise self.error(element, f"unexpected <{element.tag}> in <messages>")
                name = self.attr(element, "name")
                msg_type = self.attr(element, "msgtype")
                category = element.get("msgcat") or "app"
                if category not in ("admin", "app"):
                    raise self.error(element, f"message {name!r}: msgcat must be 'admin' or 'app', not {category!r}")
                if msg_type in messages:
                    raise self.error(element, f"MsgType {msg_type!r} defined twice")
                body = self.make_section(self.members(element, True, ()))
                messages[msg_type] = MessageDef(msg_type, name, category, body, element.sourceline or 0)

        for length_tag, data_tag in DATA_LENGTH_TAGS.items():
            if length_tag in self.fields and data_tag in self.fields:
                self.data_pairs.setdefault(length_tag, data_tag)

        return DataDictionary(
            path=self.path,
            fix_type=fix_type,
            major=major,
            minor=minor,
            servicepack=servicepack,
            fields=_frozen(self.fields),
            fields_by_name=_frozen(self.by_name),
            components=_frozen(self.components),
            header=header,
            trailer=trailer,
            messages=_frozen(messages),
            data_length_tags=_frozen(self.data_pairs),
        )

    def int_attr(self, element: Any, name: str, default: int | None = None) -> int:
        value = element.get(name)
        if value is None and default is not None:
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise self.error(element, f"<{element.tag}> attribute {name}={value!r} is not an integer") from None

    def section(self, root: Any, name: str, *, required: bool) -> Any:
        found = [child for child in root if child.tag == name]
        if len(found) > 1:
            raise self.error(found[1], f"<{name}> appears twice")
        if not found:
            if required:
                raise self.error(root, f"<fix> has no <{name}> section")
            return None
        return found[0]

    # ----- fields
    def load_fields(self, section: Any) -> None:
        for element in section:
            if element.tag != "field":
                raise self.error(element, f"unexpected <{element.tag}> in <fields>")
            number = self.int_attr(element, "number")
            if number <= 0:
                raise self.error(element, f"field number {number} is not positive")
            name = self.attr(element, "name")
            type_ = self.attr(element, "type").upper()
            if type_ not in FIELD_TYPES:
                raise self.error(element, f"field {name} ({number}) has unknown type {type_!r}")
            if number in self.fields:
                first = self.fields[number]
                raise self.error(element, f"duplicate field number {number} ({name}; first defined as {first.name} on line {first.line})")
            if name in self.by_name:
                raise self.error(element, f"duplicate field name {name!r} (numbers {self.by_name[name].number} and {number})")
            enums: dict[str, str] = {}
            for value in element:
                if value.tag != "value":
                    raise self.error(value, f"unexpected <{value.tag}> in field {name}")
                enum = value.get("enum")
                if enum is None or enum == "":
                    raise self.error(value, f"<value> of field {name} has no 'enum' attribute")
                enums[enum] = value.get("description") or ""
            field = FieldDef(
                number=number,
                name=name,
                type=type_,
                enums=_frozen(enums),
                enum_values=frozenset(e.encode("latin-1") for e in enums),
                line=element.sourceline or 0,
            )
            self.fields[number] = field
            self.by_name[name] = field

    def field_named(self, element: Any) -> FieldDef:
        name = self.attr(element, "name")
        field = self.by_name.get(name)
        if field is None:
            raise self.error(element, f"unknown field {name!r} (not in <fields>)")
        return field

    # ----- components and members
    def resolve_component(self, name: str, stack: tuple[str, ...]) -> ComponentDef:
        done = self.components.get(name)
        if done is not None:
            return done
        element = self.component_elements[name]
        if name in stack:
            raise self.error(element, f"component {name!r} contains itself ({' -> '.join(stack + (name,))})")
        members = self.members(element, True, stack + (name,))
        component = ComponentDef(name, members, element.sourceline or 0)
        self.components[name] = component
        return component

    def members(self, parent: Any, context_required: bool, stack: tuple[str, ...]) -> tuple[Member, ...]:
        """The inlined members of ``parent``; ``required`` is ANDed with the enclosing components'."""
        result: list[Member] = []
        for element in parent:
            required = context_required and (element.get("required") or "N").upper() == "Y"
            if element.tag == "field":
                field = self.field_named(element)
                result.append(FieldRef(field.number, field.name, required))
            elif element.tag == "group":
                result.append(self.group(element, required, stack))
            elif element.tag == "component":
                name = self.attr(element, "name")
                if name not in self.component_elements:
                    raise self.error(element, f"unknown component {name!r}")
                if name in stack:
                    raise self.error(element, f"component {name!r} contains itself ({' -> '.join(stack + (name,))})")
                component = self.resolve_component(name, stack)
                # an optional component's required fields are not required in the message
                result.extend(component.members if required else self.optional_members(component))
            else:
                raise self.error(element, f"unexpected <{element.tag}> in <{parent.tag}>")
        self.note_data_pairs(result)
        return self.unique(result)

    @staticmethod
    def unique(members: list[Member]) -> tuple[Member, ...]:
        """Drop repeated members, keeping the first (QuickFIX's own FIX43/FIX50 specs repeat a few)."""
        seen: set[int] = set()
        kept: list[Member] = []
        for member in members:
            tag = member.tag if isinstance(member, FieldRef) else member.count_tag
            if tag not in seen:
                seen.add(tag)
                kept.append(member)
        return tuple(kept)

    def optional_members(self, component: ComponentDef) -> tuple[Member, ...]:
        """``component``'s members with ``required`` cleared at its top level (cached)."""
        cached = self.optional_cache.get(component.name)
        if cached is None:
            cached = tuple(
                FieldRef(m.tag, m.name, False) if isinstance(m, FieldRef) else replace(m, required=False)
                for m in component.members
            )
            self.optional_cache[component.name] = cached
        return cached

    def note_data_pairs(self, members: list[Member]) -> None:
        previous: FieldDef | None = None
        for member in members:
            field = self.fields[member.tag] if isinstance(member, FieldRef) else None
            if field is not None and previous is not None and previous.type == "LENGTH" and field.type in ("DATA", "XMLDATA"):
                self.data_pairs.setdefault(previous.number, field.number)
            previous = field

    def group(self, element: Any, required: bool, stack: tuple[str, ...]) -> GroupDef:
        count = self.field_named(element)
        if count.type not in ("NUMINGROUP", "INT"):
            raise self.error(element, f"group {count.name}: count field type is {count.type}, expected NUMINGROUP")
        members = self.members(element, True, stack)
        if not members:
            raise self.error(element, f"group {count.name} has no members")
        first = members[0]
        delimiter = first.tag if isinstance(first, FieldRef) else first.count_tag
        order: dict[int, int] = {}
        nested: dict[int, GroupDef] = {}
        required_tags: list[int] = []
        for position, member in enumerate(members):
            tag = member.tag if isinstance(member, FieldRef) else member.count_tag
            order[tag] = position
            if isinstance(member, GroupDef):
                nested[tag] = member
            if member.required or tag == delimiter:
                required_tags.append(tag)
        return GroupDef(
            count_tag=count.number,
            name=count.name,
            required=required,
            members=members,
            delimiter=delimiter,
            order=_frozen(order),
            member_tags=frozenset(order),
            required_tags=tuple(required_tags),
            nested=_frozen(nested),
            line=element.sourceline or 0,
        )

    def make_section(self, members: tuple[Member, ...]) -> SectionDef:
        tags: list[int] = []
        required: list[int] = []
        groups: dict[int, GroupDef] = {}
        for member in members:
            if isinstance(member, GroupDef):
                tag = member.count_tag
                groups[tag] = member
            else:
                tag = member.tag
            tags.append(tag)
            if member.required:
                required.append(tag)
        return SectionDef(members, frozenset(tags), tuple(required), _frozen(groups))
