"""``fixgate decode``: print FIX messages from a log file or stdin with field names and enum meanings.

Input is any text holding FIX messages: raw SOH-delimited captures, ``|``- or ``^A``-delimited
logs, QuickFIX message logs (``20261122-10:00:00.000 : 8=FIX.4.4...``).  Each ``8=FIX...10=nnn``
run is a message.  Names, enum meanings and repeating groups come from a data dictionary: the
one given with ``--dict``, else the project's own one for the message's BeginString (loaded
lazily through :mod:`fix_engine.dictionary`), else a small built-in table (no groups).

Malformed messages (unparseable, truncated, BodyLength or CheckSum wrong) are reported on
stderr as ``line N: ...``; the exit code is then 1.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

import click

from .errors import ParseError
from .fieldnames import ENUM_MEANINGS, FIELD_NAMES, MESSAGE_NAMES
from .framing import checksum
from .message import FixMessage

_START = re.compile(rb"8=(FIX[^\x01|^\s]{0,16})(\x01|\||\^A)")
_END = {
    delim: re.compile(re.escape(delim) + rb"10=(\d*)(?:" + re.escape(delim) + rb"|\Z)")
    for delim in (b"\x01", b"|", b"^A")
}


# --------------------------------------------------------------------------- names


class _Group(Protocol):
    delimiter: int
    member_tags: frozenset[int]
    nested: Mapping[int, Any]


class Names(Protocol):
    """Where field names, enum meanings and group layouts come from."""

    def field(self, tag: int) -> tuple[str | None, Mapping[str, str]]: ...

    def message_name(self, msg_type: str) -> str | None: ...

    def groups(self, msg_type: str) -> Mapping[int, _Group]: ...


class BuiltinNames:
    """The fallback: :mod:`fix_engine.codec.fieldnames`, no repeating groups."""

    def field(self, tag: int) -> tuple[str | None, Mapping[str, str]]:
        return FIELD_NAMES.get(tag), ENUM_MEANINGS.get(tag, {})

    def message_name(self, msg_type: str) -> str | None:
        return MESSAGE_NAMES.get(msg_type)

    def groups(self, msg_type: str) -> Mapping[int, _Group]:
        return {}


class DictionaryNames:
    """Names from loaded dictionaries, searched in order (application first, then transport)."""

    def __init__(self, *dictionaries: Any) -> None:
        self.dictionaries = dictionaries

    def field(self, tag: int) -> tuple[str | None, Mapping[str, str]]:
        for dictionary in self.dictionaries:
            definition = dictionary.fields.get(tag)
            if definition is not None:
                return definition.name, definition.enums
        return FIELD_NAMES.get(tag), ENUM_MEANINGS.get(tag, {})

    def message_name(self, msg_type: str) -> str | None:
        for dictionary in self.dictionaries:
            definition = dictionary.messages.get(msg_type)
            if definition is not None:
                return str(definition.name)
        return MESSAGE_NAMES.get(msg_type)

    def groups(self, msg_type: str) -> Mapping[int, _Group]:
        groups: dict[int, _Group] = {}
        for dictionary in reversed(self.dictionaries):
            groups.update(dictionary.header.groups)
            groups.update(dictionary.trailer.groups)
            definition = dictionary.messages.get(msg_type)
            if definition is not None:
                groups.update(definition.body.groups)
        return groups


class NameSource:
    """Chooses :class:`Names` per message: ``--dict``, the project dictionary, or the built-in table."""

    def __init__(self, dict_path: str | None, warn: Any = None) -> None:
        self._fixed: Names | None = None
        self._by_version: dict[tuple[str, str], Names] = {}
        self._warn = warn or (lambda text: None)
        if dict_path is not None:
            try:
                from fix_engine.dictionary.loader import load_dictionary
            except ImportError as exc:  # pragma: no cover - the dictionary package is part of fixgate
                raise click.ClickException(f"--dict needs fix_engine.dictionary: {exc}") from None
            try:
                self._fixed = DictionaryNames(load_dictionary(dict_path))
            except Exception as exc:  # DictionaryError, OSError: a clear message, no traceback
                raise click.ClickException(f"cannot load dictionary {dict_path}: {exc}") from None

    def names_for(self, message: FixMessage) -> Names:
        if self._fixed is not None:
            return self._fixed
        begin = message.get(8) or ""
        appl_ver_id = (message.get(1128) or "") if begin.startswith("FIXT") else ""
        key = (begin, appl_ver_id)
        names = self._by_version.get(key)
        if names is None:
            names = self._by_version[key] = self._load(begin, appl_ver_id)
        return names

    def _load(self, begin: str, appl_ver_id: str) -> Names:
        try:
            from fix_engine.dictionary.loader import load_project_dictionary
            from fix_engine.dictionary.model import APPL_VER_IDS
        except ImportError:
            self._warn("fix_engine.dictionary is not available: built-in field names only")
            return BuiltinNames()
        try:
            if begin.startswith("FIXT"):
                transport = load_project_dictionary(begin)
                application = load_project_dictionary(APPL_VER_IDS.get(appl_ver_id, "FIX.5.0SP2"))
                return DictionaryNames(application, transport)
            return DictionaryNames(load_project_dictionary(begin))
        except Exception as exc:  # no such dictionary, or a broken one: degrade, say so once
            self._warn(f"no dictionary for {begin or 'this BeginString'} ({exc}): built-in field names only")
            return BuiltinNames()


# --------------------------------------------------------------------------- finding messages


@dataclass
class Found:
    """One ``8=FIX...`` occurrence in the input: its line, its bytes (SOH-delimited) and problems."""

    line: int
    raw: bytes
    problems: list[str] = field(default_factory=list)
    message: FixMessage | None = None


def find_messages(lines: Iterator[bytes]) -> Iterator[Found]:
    """Every message in ``lines`` (SOH, ``|`` or ``^A`` delimited, anything around them)."""
    for number, line in enumerate(lines, 1):
        line = line.rstrip(b"\r\n")
        pos = 0
        while True:
            start = _START.search(line, pos)
            if start is None:
                break
            delim = start.group(2)
            following = _START.search(line, start.end())
            limit = following.start() if following is not None else len(line)
            end = _END[delim].search(line, start.end() - len(delim), limit)
            if end is None:
                found = Found(number, _normalise(line[start.start() : limit], delim))
                found.problems.append("truncated message: no CheckSum (10) field")
                yield found
                pos = limit
                continue
            raw = line[start.start() : end.end()]
            if not raw.endswith(delim):
                raw += delim
            yield _check(Found(number, _normalise(raw, delim)))
            pos = end.end()


def _normalise(raw: bytes, delim: bytes) -> bytes:
    return raw if delim == b"\x01" else raw.replace(delim, b"\x01")


def _check(found: Found) -> Found:
    """Parse and verify BodyLength and CheckSum, collecting problems (the fields still print)."""
    raw = found.raw
    try:
        message = FixMessage.parse(raw)
    except ParseError as exc:
        found.problems.append(f"malformed message: {exc}")
        return found
    found.message = message
    fields: list[tuple[int, bytes]] = message.fields  # type: ignore[assignment]  # parsed: flat
    if len(fields) < 3 or fields[0][0] != 8 or fields[1][0] != 9 or fields[2][0] != 35:
        found.problems.append("first three fields are not 8, 9, 35")
    trailer = raw.rfind(b"\x0110=") + 1
    if len(fields) >= 2 and fields[1][0] == 9:
        body_start = len(b"8=%b\x019=%b\x01" % (fields[0][1], fields[1][1]))
        actual = trailer - body_start
        if fields[1][1] != str(actual).encode():
            found.problems.append(f"BodyLength is {fields[1][1].decode('latin-1')}, the body has {actual} bytes")
    declared = fields[-1][1]
    expected = b"%03d" % checksum(raw[:trailer])
    if declared != expected:
        found.problems.append(f"CheckSum is {declared.decode('latin-1')}, expected {expected.decode()}")
    return found


# --------------------------------------------------------------------------- rendering


def _show(value: bytes) -> str:
    """A value as text, control characters (SOH in raw data) escaped."""
    text = value.decode("latin-1")
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def field_tree(message: FixMessage, names: Names) -> list[dict[str, Any]]:
    """The message's fields as nodes ``{tag, name, value, meaning[, groups]}``, groups nested."""
    fields = message.fields
    groups = names.groups(message.get(35) or "")
    nodes: list[dict[str, Any]] = []
    i = 0
    while i < len(fields):
        tag, value = fields[i]
        node = _node(tag, value, names)  # type: ignore[arg-type]
        nodes.append(node)
        i += 1
        group = groups.get(tag)
        if group is not None:
            node["groups"], i = _entries(fields, i, group, names)  # type: ignore[arg-type]
    return nodes


def _entries(
    fields: list[tuple[int, bytes]], i: int, group: _Group, names: Names
) -> tuple[list[list[dict[str, Any]]], int]:
    entries: list[list[dict[str, Any]]] = []
    while i < len(fields):
        tag, value = fields[i]
        if tag == group.delimiter:
            entries.append([])
        elif tag not in group.member_tags or not entries:
            break
        node = _node(tag, value, names)
        entries[-1].append(node)
        i += 1
        nested = group.nested.get(tag)
        if nested is not None:
            node["groups"], i = _entries(fields, i, nested, names)
    return entries, i


def _node(tag: int, value: bytes, names: Names) -> dict[str, Any]:
    name, enums = names.field(tag)
    text = _show(value)
    meaning = enums.get(text)
    if meaning is None and enums and " " in text:  # MultipleValueString / MultipleCharValue
        parts = [enums.get(part) for part in text.split()]
        meaning = " ".join(p or "?" for p in parts) if any(parts) else None
    return {"tag": tag, "name": name, "value": text, "meaning": meaning}


def render_text(nodes: list[dict[str, Any]], depth: int = 0) -> Iterator[str]:
    """``35 MsgType = D (NEW_ORDER_SINGLE)`` lines, group entries indented under their count."""
    indent = "    " * depth
    for node in nodes:
        name = f" {node['name']}" if node["name"] else ""
        meaning = f" ({node['meaning']})" if node["meaning"] else ""
        yield f"{indent}{node['tag']}{name} = {node['value']}{meaning}"
        for number, entry in enumerate(node.get("groups", ()), 1):
            yield f"{indent}  [{number}]"
            yield from render_text(entry, depth + 1)


# --------------------------------------------------------------------------- the command


@click.command("decode")
@click.argument("file", type=click.File("rb"), default="-")
@click.option("--dict", "dict_path", type=click.Path(dir_okay=False), help="Data dictionary (QuickFIX XML) to use.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message, for machines.")
def decode(file: IO[bytes], dict_path: str | None, as_json: bool) -> None:
    """Decode the FIX messages in FILE (default: stdin) with field names and enum meanings."""
    warned: set[str] = set()

    def warn(text: str) -> None:
        if text not in warned:
            warned.add(text)
            click.echo(f"note: {text}", err=True)

    source = NameSource(dict_path, warn)
    bad = 0
    count = 0
    for found in find_messages(iter(file)):
        count += 1
        if found.problems:
            bad += 1
            for problem in found.problems:
                click.echo(f"line {found.line}: {problem}", err=True)
        _print(found, source, as_json)
    if count == 0:
        click.echo("note: no FIX messages found", err=True)
    if bad:
        click.echo(f"{bad} of {count} messages malformed", err=True)
        raise SystemExit(1)


def _print(found: Found, source: NameSource, as_json: bool) -> None:
    message = found.message
    if message is None:
        raw_text = _show(found.raw.replace(b"\x01", b"|"))
        if as_json:
            click.echo(json.dumps({"line": found.line, "raw": raw_text, "errors": found.problems}))
        else:
            click.echo(f"--- line {found.line}: not decoded: {raw_text}")
        return
    names = source.names_for(message)
    nodes = field_tree(message, names)
    msg_type = message.get(35) or ""
    msg_name = names.message_name(msg_type)
    if as_json:
        obj = {
            "line": found.line,
            "begin_string": message.get(8),
            "msg_type": msg_type,
            "msg_name": msg_name,
            "fields": nodes,
            "errors": found.problems,
        }
        click.echo(json.dumps(obj))
        return
    title = " ".join(part for part in (message.get(8), msg_name or f"MsgType {msg_type}") if part)
    click.echo(f"--- line {found.line}: {title}" + (" (MALFORMED)" if found.problems else ""))
    for text in render_text(nodes):
        click.echo(text)
