"""QuickFIX-format ``.cfg`` files -> ``SessionSettings``, with errors that name file, line and key.

Format (QuickFIX's): a ``[DEFAULT]`` block, then one ``[SESSION]`` block per session; ``Key=Value``
lines; whole-line comments starting with ``#`` or ``;``; blank lines.  Keys are case-sensitive
(a key that matches a known key only case-insensitively is an error, not a silent application
key); values are trimmed; a ``#`` inside a value is part of the value.  A SESSION inherits every
DEFAULT key it does not set, wherever the DEFAULT block stands.  A key set twice in one block is
an error.

Keys and aliases: see ``_BOOL_KEYS`` ... below and ``session_configs/README.md``.  QuickFIX/J and
QuickFIX/Go spellings are accepted as aliases (``SSLEnable``, ``EnableNextExpectedMsgSeqNum``,
``AllowUnknownMessageFields``, ``CheckUserDefinedFields``, ``SocketAcceptHost``,
``SocketTcpNoDelay``, ``SocketCAFile``, ``SocketCertificateFile``, ``SocketPrivateKeyFile``).
Back ends fixgate does not have (MySQL, ODBC, MSSQL, JDBC, Sleepycat, Java key stores) raise a
``ConfigError`` naming the key and the alternative.  Every other unknown key is an application
key: it lands in ``SessionSettings.extra`` and stays readable, with its line, through
``SessionConfig.entry`` / ``get_int`` / ``get_bool`` / ``get_list``.

Paths:

* ``FileStorePath``, ``FileLogPath`` and the certificate files resolve relative to the directory of
  the ``.cfg`` file (absolute results).
* ``DataDictionary``, ``TransportDataDictionary`` and ``AppDataDictionary`` resolve relative to the
  ``.cfg`` file only when that file exists; otherwise the raw value (``FIX44.xml``,
  ``dictionaries/FIX44.xml``) is kept for the dictionary loader, which looks it up in the
  installed QuickFIX dictionaries (``<sys.prefix>/share/quickfix/``) and then in the project's
  ``dictionaries/``.
* ``parse_config(text)`` without ``base_dir`` keeps every path as written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, tzinfo
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .session.schedule import SessionSchedule, parse_day, parse_time, parse_weekdays
from .session.session_id import SessionID
from .session.settings import APPL_VER_IDS, BEGIN_STRINGS, ConnectionType, SessionSettings

__all__ = [
    "ConfigEntry",
    "ConfigError",
    "SessionConfig",
    "load_config",
    "parse_config",
    "system_local_zone",
]

T = TypeVar("T")


class ConfigError(ValueError):
    """A ``.cfg`` file that cannot become sessions; the message reads ``file:line: Key: problem``."""

    def __init__(self, message: str, *, source: str = "", line: int | None = None, key: str = "") -> None:
        where = source if line is None else f"{source}:{line}"
        text = message if not key else f"{key}: {message}"
        super().__init__(f"{where}: {text}" if where else text)
        self.source = source
        self.line = line
        self.key = key


@dataclass(frozen=True)
class ConfigEntry:
    """One ``Key=Value`` line of a ``.cfg`` file: the trimmed value and where it was written."""

    key: str
    value: str
    source: str
    line: int

    @property
    def location(self) -> str:
        return f"{self.source}:{self.line}"

    def error(self, message: str) -> ConfigError:
        """A ``ConfigError`` about this value (``file:line: Key: message``) for the caller to raise."""
        return ConfigError(message, source=self.source, line=self.line, key=self.key)


@dataclass
class _Block:
    kind: str  # "DEFAULT" or "SESSION"
    source: str
    line: int
    entries: dict[str, ConfigEntry] = field(default_factory=dict)


# --- value converters: raise ValueError("'abc' is not an integer") -------------------------------

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def _to_bool(text: str) -> bool:
    if text.upper() == "Y":
        return True
    if text.upper() == "N":
        return False
    raise ValueError(f"{text!r} is not Y or N")


def _to_int(text: str) -> int:
    if not _INT.fullmatch(text):
        raise ValueError(f"{text!r} is not an integer")
    return int(text)


def _to_float(text: str) -> float:
    if not _FLOAT.fullmatch(text):
        raise ValueError(f"{text!r} is not a number")
    return float(text)


def _ranged(
    convert: Callable[[str], T], low: float | None = None, high: float | None = None
) -> Callable[[str], T]:
    def checked(text: str) -> T:
        value = convert(text)
        if (low is not None and value < low) or (high is not None and value > high):  # type: ignore[operator]
            if high is None:
                raise ValueError(f"{text!r} must be at least {low}")
            raise ValueError(f"{text!r} is not in {low}..{high}")
        return value

    return checked


def _positive(text: str) -> float:
    value = _to_float(text)
    if value <= 0:
        raise ValueError(f"{text!r} must be greater than 0")
    return value


_PORT = _ranged(_to_int, 1, 65535)


def _to_str(text: str) -> str:
    return text


# --- the key table --------------------------------------------------------------------------------
# (QuickFIX key, aliases, SessionSettings field, converter)

_BOOL_KEYS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("SocketNodelay", ("SocketTcpNoDelay",), "socket_nodelay"),
    ("SocketReuseAddress", (), "socket_reuse_address"),
    ("ResetOnLogon", (), "reset_on_logon"),
    ("ResetOnLogout", (), "reset_on_logout"),
    ("ResetOnDisconnect", (), "reset_on_disconnect"),
    ("RefreshOnLogon", (), "refresh_on_logon"),
    ("SendRedundantResendRequests", (), "send_redundant_resend_requests"),
    ("SendNextExpectedMsgSeqNum", ("EnableNextExpectedMsgSeqNum",), "send_next_expected_msg_seq_num"),
    ("CheckCompID", (), "check_comp_id"),
    ("CheckLatency", (), "check_latency"),
    ("PersistMessages", (), "persist_messages"),
    ("ValidateSequenceNumbers", (), "validate_sequence_numbers"),
    ("UseDataDictionary", (), "use_data_dictionary"),
    ("ValidateFieldsOutOfOrder", (), "validate_fields_out_of_order"),
    ("ValidateFieldsHaveValues", (), "validate_fields_have_values"),
    ("ValidateUserDefinedFields", ("CheckUserDefinedFields",), "validate_user_defined_fields"),
    ("AllowUnknownMsgFields", ("AllowUnknownMessageFields",), "allow_unknown_msg_fields"),
    ("ValidateLengthAndChecksum", (), "validate_length_and_checksum"),
    ("ValidateIncomingMessage", (), "validate_incoming_message"),
    ("FileStoreSync", (), "file_store_sync"),
    ("SocketUseSSL", ("SSLEnable",), "socket_use_ssl"),
    ("ScreenLogShowIncoming", (), "screen_log_show_incoming"),
    ("ScreenLogShowOutgoing", (), "screen_log_show_outgoing"),
    ("ScreenLogShowEvents", (), "screen_log_show_events"),
)

_VALUE_KEYS: tuple[tuple[str, tuple[str, ...], str, Callable[[str], Any]], ...] = (
    ("SocketAcceptPort", (), "socket_accept_port", _PORT),
    ("SocketAcceptAddress", ("SocketAcceptHost",), "socket_accept_address", _to_str),
    ("ReconnectInterval", (), "reconnect_interval", _positive),
    ("MaxMessageSize", (), "max_message_size", _ranged(_to_int, 1)),
    ("MaxPendingOutput", (), "max_pending_output", _ranged(_to_int, 1)),
    ("HeartBtInt", (), "heart_bt_int", _ranged(_to_int, 0)),
    ("LogonTimeout", (), "logon_timeout", _positive),
    ("LogoutTimeout", (), "logout_timeout", _positive),
    ("TestRequestDelayMultiplier", (), "test_request_delay_multiplier", _positive),
    ("HeartBeatTimeoutMultiplier", (), "heartbeat_timeout_multiplier", _positive),
    ("MaxLatency", (), "max_latency", _positive),
    ("TimestampPrecision", (), "timestamp_precision", _ranged(_to_int, 0, 9)),
    ("ResendRequestChunkSize", (), "resend_request_chunk_size", _ranged(_to_int, 0)),
    ("FileStoreMaxCachedMsgs", (), "file_store_max_cached_msgs", _ranged(_to_int, 0)),
    ("CertificateVerifyLevel", (), "certificate_verify_level", _ranged(_to_int, 0, 3)),
    ("SSLProtocol", (), "ssl_protocol", _to_str),
    ("SSLCipherSuite", (), "ssl_cipher_suite", _to_str),
    ("Username", (), "username", _to_str),
    ("Password", (), "password", _to_str),
)

# Paths resolved against the config file's directory.
_PATH_KEYS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("FileStorePath", (), "file_store_path"),
    ("FileLogPath", (), "file_log_path"),
    ("ServerCertificateFile", (), "server_certificate_file"),
    ("ServerCertificateKeyFile", (), "server_certificate_key_file"),
    ("ClientCertificateFile", (), "client_certificate_file"),
    ("ClientCertificateKeyFile", (), "client_certificate_key_file"),
    ("CertificationAuthoritiesFile", ("SocketCAFile",), "certification_authorities_file"),
)

# Dictionary paths: resolved only when the file exists next to the config (see module doc).
_DICTIONARY_KEYS: tuple[tuple[str, str], ...] = (
    ("DataDictionary", "data_dictionary"),
    ("TransportDataDictionary", "transport_data_dictionary"),
    ("AppDataDictionary", "app_data_dictionary"),
)

_SPECIAL_KEYS: tuple[str, ...] = (
    "BeginString",
    "SenderCompID",
    "TargetCompID",
    "SessionQualifier",
    "SenderSubID",
    "SenderLocationID",
    "TargetSubID",
    "TargetLocationID",
    "DefaultApplVerID",
    "ConnectionType",
    "SocketConnectHost",
    "SocketConnectPort",
    "AllowedRemoteAddresses",
    "StartTime",
    "EndTime",
    "StartDay",
    "EndDay",
    "Weekdays",
    "UseLocalTime",
    "TimeZone",
    "NonStopSession",
    "MillisecondsInTimeStamp",
    "SQLStoreURL",
    "SQLLogURL",
    "SocketCertificateFile",  # QuickFIX/Go: server or client certificate, by ConnectionType
    "SocketPrivateKeyFile",  # QuickFIX/Go: its key
)

_PG_PARTS = ("Database", "User", "Password", "Host", "Port", "UseConnectionPool")
_PG_KEYS = tuple(f"PostgreSQL{kind}{part}" for kind in ("Store", "Log") for part in _PG_PARTS)

_KNOWN_KEYS: frozenset[str] = frozenset(
    [k for k, aliases, _ in _BOOL_KEYS for k in (k, *aliases)]
    + [k for k, aliases, _, _ in _VALUE_KEYS for k in (k, *aliases)]
    + [k for k, aliases, _ in _PATH_KEYS for k in (k, *aliases)]
    + [k for k, _ in _DICTIONARY_KEYS]
    + list(_SPECIAL_KEYS)
    + list(_PG_KEYS)
)
_KNOWN_BY_LOWER: Mapping[str, str] = {k.lower(): k for k in _KNOWN_KEYS}

_STORE_HINT = "use FileStorePath, PostgreSQLStore* or SQLStoreURL"
_LOG_HINT = "use FileLogPath, PostgreSQLLog* or SQLLogURL"
_KEYSTORE_HINT = (
    "use ServerCertificateFile/ServerCertificateKeyFile, ClientCertificateFile/ClientCertificateKeyFile "
    "and CertificationAuthoritiesFile (PEM files)"
)
# Key prefixes of back ends fixgate does not have, and what to use instead.
_UNSUPPORTED: tuple[tuple[str, str], ...] = (
    ("MySQLStore", _STORE_HINT),
    ("MySQLLog", _LOG_HINT),
    ("ODBCStore", _STORE_HINT),
    ("ODBCLog", _LOG_HINT),
    ("MSSQLStore", _STORE_HINT),
    ("MSSQLLog", _LOG_HINT),
    ("JdbcLog", _LOG_HINT),
    ("Jdbc", "use PostgreSQLStore*/PostgreSQLLog* or SQLStoreURL/SQLLogURL"),
    ("Sleepycat", _STORE_HINT),
    ("SocketKeyStore", _KEYSTORE_HINT),
    ("SocketTrustStore", _KEYSTORE_HINT),
    ("KeyStoreType", _KEYSTORE_HINT),
    ("TrustStoreType", _KEYSTORE_HINT),
    ("KeyManagerFactoryAlgorithm", _KEYSTORE_HINT),
    ("TrustManagerFactoryAlgorithm", _KEYSTORE_HINT),
)

_CONNECT_NUMBERED = re.compile(r"SocketConnect(Host|Port)(\d+)")


def _check_key(entry: ConfigEntry) -> None:
    """Reject unsupported back ends and case mistakes in known keys, at the line they are on."""
    for prefix, hint in _UNSUPPORTED:
        if entry.key.startswith(prefix):
            raise entry.error(f"{entry.key} is not supported by fixgate: {hint}")
    if entry.key in _KNOWN_KEYS or _CONNECT_NUMBERED.fullmatch(entry.key):
        return
    known = _KNOWN_BY_LOWER.get(entry.key.lower())
    if known is not None:
        raise entry.error(f"unknown key (keys are case-sensitive): did you mean {known}?")


# --- reading the text -----------------------------------------------------------------------------


def _read_blocks(text: str, source: str) -> list[_Block]:
    blocks: list[_Block] = []
    current: _Block | None = None
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            name = line[1:-1].strip().upper() if line.endswith("]") else ""
            if name not in ("DEFAULT", "SESSION"):
                raise ConfigError(
                    f"{line!r} is not a [DEFAULT] or [SESSION] header", source=source, line=number
                )
            current = _Block(name, source, number)
            blocks.append(current)
            continue
        if "=" not in line:
            raise ConfigError(f"expected Key=Value, got {line!r}", source=source, line=number)
        key, value = (part.strip() for part in line.split("=", 1))
        if not key:
            raise ConfigError(f"no key before '=' in {line!r}", source=source, line=number)
        if current is None:
            raise ConfigError(
                "key outside any [DEFAULT] or [SESSION] block", source=source, line=number, key=key
            )
        entry = ConfigEntry(key, value, source, number)
        previous = current.entries.get(key)
        if previous is not None:
            raise entry.error(f"set twice in one block (first at line {previous.line})")
        _check_key(entry)
        current.entries[key] = entry
    return blocks


# --- one block -> SessionSettings -----------------------------------------------------------------


class _BlockReader:
    """Typed reads from the merged entries of one SESSION block, remembering which keys were used."""

    def __init__(self, entries: Mapping[str, ConfigEntry], block: _Block, base_dir: Path | None) -> None:
        self.entries = entries
        self.block = block
        self.base_dir = base_dir
        self.used: set[str] = set()

    def block_error(self, message: str) -> ConfigError:
        return ConfigError(f"[SESSION]: {message}", source=self.block.source, line=self.block.line)

    def entry(self, key: str, *aliases: str) -> ConfigEntry | None:
        found = [self.entries[k] for k in (key, *aliases) if k in self.entries]
        self.used.update(e.key for e in found)
        if len(found) > 1:
            raise found[1].error(f"same setting as {found[0].key} (line {found[0].line}); set only one")
        return found[0] if found else None

    def get(self, key: str, convert: Callable[[str], T], *aliases: str) -> T | None:
        entry = self.entry(key, *aliases)
        if entry is None:
            return None
        try:
            return convert(entry.value)
        except ValueError as exc:
            raise entry.error(str(exc)) from None

    def required(self, key: str) -> ConfigEntry:
        entry = self.entry(key)
        if entry is None or not entry.value:
            raise self.block_error(f"missing required key {key}")
        return entry

    def path(self, key: str, *aliases: str) -> str | None:
        entry = self.entry(key, *aliases)
        if entry is None:
            return None
        if not entry.value or self.base_dir is None or os.path.isabs(entry.value):
            return entry.value
        return os.path.normpath(self.base_dir / entry.value)

    def dictionary_path(self, key: str) -> str | None:
        entry = self.entry(key)
        if entry is None:
            return None
        if not entry.value or self.base_dir is None or os.path.isabs(entry.value):
            return entry.value
        candidate = self.base_dir / entry.value
        return os.path.normpath(candidate) if candidate.is_file() else entry.value


def _appl_ver_id(text: str) -> str:
    """``"9"``, ``"FIX.5.0SP2"`` or ``"FIX50SP2"`` -> the 1137 code ``"9"``."""
    if text in APPL_VER_IDS:
        return text
    wanted = text.replace(".", "").upper()
    for code, name in APPL_VER_IDS.items():
        if name.replace(".", "").upper() == wanted:
            return code
    raise ValueError(f"{text!r} is not an ApplVerID (e.g. 9 or FIX.5.0SP2)")


def _connection_type(text: str) -> ConnectionType:
    try:
        return ConnectionType(text.lower())
    except ValueError:
        raise ValueError(f"{text!r} is not acceptor or initiator") from None


def _begin_string(text: str) -> str:
    if text not in BEGIN_STRINGS:
        raise ValueError(f"{text!r} is not a supported BeginString ({', '.join(BEGIN_STRINGS)})")
    return text


def _time_of_day(text: str) -> tuple[time, str]:
    """QuickFIX ``HH:MM:SS``, or QuickFIX/J ``HH:MM:SS Zone/Name``."""
    parts = text.split()
    if len(parts) == 2:
        return parse_time(parts[0]), parts[1]
    return parse_time(text), ""


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a known time zone (IANA name such as America/New_York)") from None


def system_local_zone() -> tzinfo:
    """The machine's time zone, DST-aware when the system exposes it (``TZ`` or /etc/localtime)."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        with open("/etc/localtime", "rb") as handle:
            return ZoneInfo.from_file(handle, key="localtime")
    except (OSError, ValueError):
        return datetime.now().astimezone().tzinfo or ZoneInfo("UTC")


def _schedule(reader: _BlockReader, local_zone: Callable[[], tzinfo]) -> SessionSchedule:
    non_stop = reader.get("NonStopSession", _to_bool)
    start = reader.entry("StartTime")
    end = reader.entry("EndTime")
    start_day = reader.get("StartDay", parse_day)
    end_day = reader.get("EndDay", parse_day)
    weekdays = reader.get("Weekdays", parse_weekdays)
    use_local = reader.get("UseLocalTime", _to_bool)
    zone_entry = reader.entry("TimeZone")
    if non_stop:
        return SessionSchedule.always()
    if start is None and end is None:
        if start_day is not None or end_day is not None or weekdays is not None:
            raise reader.block_error("StartDay/EndDay/Weekdays need StartTime and EndTime")
        return SessionSchedule.always()  # fixgate: no times at all means a non-stop session
    if start is None or end is None:
        present = start or end
        assert present is not None
        missing = "EndTime" if start is not None else "StartTime"
        raise present.error(f"{missing} is missing (set both, or NonStopSession=Y)")
    start_time, start_zone = reader.get("StartTime", _time_of_day) or (time(), "")
    end_time, end_zone = reader.get("EndTime", _time_of_day) or (time(), "")
    if (start_day is None) != (end_day is None):
        present = reader.entries.get("StartDay") or reader.entries.get("EndDay")
        assert present is not None
        raise present.error("StartDay and EndDay go together (weekly session)")
    if weekdays is not None and start_day is not None:
        raise reader.entries["Weekdays"].error("cannot be combined with StartDay/EndDay")
    zone_names = {name for name in (start_zone, end_zone, zone_entry.value if zone_entry else "") if name}
    if len(zone_names) > 1:
        raise end.error(f"time zones disagree: {', '.join(sorted(zone_names))}")
    tz: tzinfo | None = None
    if zone_names:
        culprit = zone_entry or (start if start_zone else end)
        try:
            tz = _zone(zone_names.pop())
        except ValueError as exc:
            raise culprit.error(str(exc)) from None
        if use_local:
            raise reader.entries["UseLocalTime"].error("UseLocalTime=Y conflicts with an explicit time zone")
    elif use_local:
        tz = local_zone()
    return SessionSchedule(
        start_time=start_time,
        end_time=end_time,
        start_day=start_day,
        end_day=end_day,
        weekdays=weekdays or frozenset(),
        tz=tz if tz is not None else UTC,
    )


def _connect_hosts(reader: _BlockReader, required: bool) -> tuple[tuple[str, int], ...]:
    hosts: list[tuple[str, int]] = []
    suffix = ""
    number = 0
    while True:
        host = reader.entry(f"SocketConnectHost{suffix}")
        port = reader.get(f"SocketConnectPort{suffix}", _PORT)
        if host is None and port is None:
            break
        if host is None or not host.value:
            culprit = host or reader.entries[f"SocketConnectPort{suffix}"]
            raise culprit.error(f"SocketConnectHost{suffix} is missing or empty")
        if port is None:
            raise host.error(f"SocketConnectPort{suffix} is missing")
        hosts.append((host.value, port))
        number += 1
        suffix = str(number)
    if not hosts and required:
        raise reader.block_error("missing required key SocketConnectHost/SocketConnectPort (initiator)")
    for key, entry in reader.entries.items():
        if _CONNECT_NUMBERED.fullmatch(key) and key not in reader.used:
            raise entry.error(
                f"failover hosts must be numbered 1, 2, ... without gaps (no {key[:-1]}{number})"
            )
    return tuple(hosts)


def _sql_url(reader: _BlockReader, kind: str) -> str | None:
    """``PostgreSQL<kind>*`` keys or ``SQL<kind>URL`` -> an SQLAlchemy URL."""
    url_entry = reader.entry(f"SQL{kind}URL")
    parts = {part: reader.entry(f"PostgreSQL{kind}{part}") for part in _PG_PARTS}
    given = [e for e in parts.values() if e is not None]
    if url_entry is not None:
        if given:
            raise given[0].error(f"conflicts with SQL{kind}URL (line {url_entry.line}); use one or the other")
        if "://" not in url_entry.value:
            raise url_entry.error(f"{url_entry.value!r} is not an SQLAlchemy URL (dialect://...)")
        return url_entry.value
    if not given:
        return None
    port = parts["Port"]
    if port is not None:
        try:
            _PORT(port.value)
        except ValueError as exc:
            raise port.error(str(exc)) from None
    if parts["UseConnectionPool"] is not None:
        try:
            _to_bool(parts["UseConnectionPool"].value)
        except ValueError as exc:
            raise parts["UseConnectionPool"].error(str(exc)) from None

    def value(part: str, default: str) -> str:
        entry = parts[part]
        return entry.value if entry is not None and entry.value else default

    user = quote(value("User", "postgres"), safe="")
    password = value("Password", "")
    auth = f"{user}:{quote(password, safe='')}" if password else user
    host = value("Host", "localhost")
    host_port = f"{host}:{port.value}" if port is not None and port.value else host
    return f"postgresql+psycopg2://{auth}@{host_port}/{quote(value('Database', 'quickfix'), safe='')}"


def _build(reader: _BlockReader, local_zone: Callable[[], tzinfo]) -> SessionSettings:
    begin = reader.required("BeginString")
    try:
        begin_string = _begin_string(begin.value)
    except ValueError as exc:
        raise begin.error(str(exc)) from None
    conn_entry = reader.required("ConnectionType")
    connection_type = reader.get("ConnectionType", _connection_type)
    assert connection_type is not None and conn_entry is not None
    sender = reader.required("SenderCompID")
    target = reader.required("TargetCompID")
    if sender.value == "*":
        raise sender.error("'*' is only allowed in TargetCompID (templated acceptor sessions)")
    if target.value == "*" and connection_type is ConnectionType.INITIATOR:
        raise target.error("'*' (templated session) is only allowed for acceptors")

    def text(key: str) -> str:
        entry = reader.entry(key)
        return entry.value if entry is not None else ""

    session_id = SessionID(
        begin_string,
        sender.value,
        target.value,
        text("SessionQualifier"),
        text("SenderSubID"),
        text("SenderLocationID"),
        text("TargetSubID"),
        text("TargetLocationID"),
    )
    values: dict[str, Any] = {"session_id": session_id, "connection_type": connection_type}

    appl_ver = reader.get("DefaultApplVerID", _appl_ver_id)
    if appl_ver is not None:
        values["default_appl_ver_id"] = appl_ver
    elif begin_string == "FIXT.1.1":
        raise reader.block_error("missing required key DefaultApplVerID (BeginString=FIXT.1.1)")

    for key, aliases, name in _BOOL_KEYS:
        flag = reader.get(key, _to_bool, *aliases)
        if flag is not None:
            values[name] = flag
    for key, aliases, name, convert in _VALUE_KEYS:
        value = reader.get(key, convert, *aliases)
        if value is not None:
            values[name] = value
    for key, aliases, name in _PATH_KEYS:
        path = reader.path(key, *aliases)
        if path is not None:
            values[name] = path
    for key, name in _DICTIONARY_KEYS:
        path = reader.dictionary_path(key)
        if path is not None:
            values[name] = path

    # QuickFIX/Go: SocketCertificateFile/SocketPrivateKeyFile are ours for either side.
    side = "client" if connection_type is ConnectionType.INITIATOR else "server"
    for key, name in (
        ("SocketCertificateFile", f"{side}_certificate_file"),
        ("SocketPrivateKeyFile", f"{side}_certificate_key_file"),
    ):
        path = reader.path(key)
        if path is not None:
            if name in values:
                raise reader.entries[key].error(f"same setting as {name}; set only one")
            values[name] = path

    if connection_type is ConnectionType.ACCEPTOR and "socket_accept_port" not in values:
        raise reader.block_error("missing required key SocketAcceptPort (acceptor)")
    values["socket_connect_hosts"] = _connect_hosts(
        reader, required=connection_type is ConnectionType.INITIATOR
    )

    remote = reader.entry("AllowedRemoteAddresses")
    if remote is not None:
        values["allowed_remote_addresses"] = tuple(
            a for a in (p.strip() for p in remote.value.split(",")) if a
        )

    if "timestamp_precision" not in values:
        millis = reader.get("MillisecondsInTimeStamp", _to_bool)
        if millis is not None:
            values["timestamp_precision"] = 3 if millis else 0
    else:
        reader.get("MillisecondsInTimeStamp", _to_bool)  # validated; TimestampPrecision wins

    for kind, name in (("Store", "sql_store_url"), ("Log", "sql_log_url")):
        url = _sql_url(reader, kind)
        if url is not None:
            values[name] = url

    screen_keys = [
        e
        for e in map(
            reader.entries.get, ("ScreenLogShowIncoming", "ScreenLogShowOutgoing", "ScreenLogShowEvents")
        )
        if e
    ]
    values["screen_log"] = any(_to_bool(e.value) for e in screen_keys)

    if values.get("socket_use_ssl") and connection_type is ConnectionType.ACCEPTOR:
        if not values.get("server_certificate_file"):
            raise reader.block_error("missing required key ServerCertificateFile (SocketUseSSL=Y acceptor)")

    values["schedule"] = _schedule(reader, local_zone)
    values["extra"] = MappingProxyType(
        {k: e.value for k, e in reader.entries.items() if k not in reader.used}
    )
    values["source"] = f"{reader.block.source}:{reader.block.line}"
    return SessionSettings(**values)


# --- the public API -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionConfig:
    """A parsed ``.cfg`` file: the [DEFAULT] values, one ``SessionSettings`` per [SESSION] block,
    and where every value was written, so applications can read their own keys with errors that
    name ``file:line: Key``."""

    path: str
    default: Mapping[str, str]
    sessions: list[SessionSettings]
    default_entries: Mapping[str, ConfigEntry] = field(default_factory=dict)
    _entries: Mapping[SessionID, Mapping[str, ConfigEntry]] = field(default_factory=dict, repr=False)

    def session(self, session_id: SessionID) -> SessionSettings:
        """The settings of one configured session."""
        for settings in self.sessions:
            if settings.session_id == session_id:
                return settings
        raise KeyError(session_id)

    def entries(self, session: SessionSettings | SessionID) -> Mapping[str, ConfigEntry]:
        """Every key of a session block (DEFAULT inherited), with the line it came from."""
        session_id = session.session_id if isinstance(session, SessionSettings) else session
        return self._entries[session_id]

    def entry(self, session: SessionSettings | SessionID, key: str) -> ConfigEntry | None:
        return self.entries(session).get(key)

    def block_value(
        self, session: SessionSettings | SessionID, key: str, default: str | None = None
    ) -> str | None:
        """The raw value of ``key`` for a session (DEFAULT inherited), or ``default``."""
        entry = self.entry(session, key)
        return default if entry is None else entry.value

    def get_int(
        self, session: SessionSettings | SessionID, key: str, default: int | None = None
    ) -> int | None:
        """An application integer key; a bad value raises ``ConfigError`` naming file:line: key."""
        return self._typed(session, key, _to_int, default)

    def get_bool(
        self, session: SessionSettings | SessionID, key: str, default: bool | None = None
    ) -> bool | None:
        """An application Y/N key; a bad value raises ``ConfigError`` naming file:line: key."""
        return self._typed(session, key, _to_bool, default)

    def get_list(self, session: SessionSettings | SessionID, key: str) -> tuple[str, ...]:
        """An application comma-separated list (``Accounts=DEMO1,DEMO2``); empty when absent."""
        value = self.block_value(session, key) or ""
        return tuple(item for item in (part.strip() for part in value.split(",")) if item)

    def _typed(
        self, session: SessionSettings | SessionID, key: str, convert: Callable[[str], T], default: T | None
    ) -> T | None:
        entry = self.entry(session, key)
        if entry is None:
            return default
        try:
            return convert(entry.value)
        except ValueError as exc:
            raise entry.error(str(exc)) from None


def parse_config(
    text: str,
    name: str = "<string>",
    *,
    base_dir: str | os.PathLike[str] | None = None,
    local_tz: tzinfo | None = None,
) -> SessionConfig:
    """Parse QuickFIX ``.cfg`` text; ``name`` appears in error messages, ``base_dir`` anchors
    relative paths (None keeps them as written), ``local_tz`` is the zone for ``UseLocalTime=Y``
    (None = the machine's zone)."""
    blocks = _read_blocks(text, name)
    default_entries: dict[str, ConfigEntry] = {}
    for block in blocks:
        if block.kind == "DEFAULT":
            default_entries.update(block.entries)
    sessions = [block for block in blocks if block.kind == "SESSION"]
    if not sessions:
        raise ConfigError("no [SESSION] block", source=name)

    zone_cache: list[tzinfo] = [local_tz] if local_tz is not None else []

    def local_zone() -> tzinfo:
        if not zone_cache:
            zone_cache.append(system_local_zone())
        return zone_cache[0]

    base = Path(base_dir) if base_dir is not None else None
    built: list[SessionSettings] = []
    entries_by_id: dict[SessionID, Mapping[str, ConfigEntry]] = {}
    first_seen: dict[SessionID, str] = {}
    for block in sessions:
        merged = {**default_entries, **block.entries}
        settings = _build(_BlockReader(merged, block, base), local_zone)
        sid = settings.session_id
        if sid in first_seen:
            raise ConfigError(
                f"[SESSION]: duplicate session {sid} (first at {first_seen[sid]})",
                source=name,
                line=block.line,
            )
        first_seen[sid] = settings.source
        built.append(settings)
        entries_by_id[sid] = MappingProxyType(merged)
    return SessionConfig(
        path=name,
        default=MappingProxyType({k: e.value for k, e in default_entries.items()}),
        sessions=built,
        default_entries=MappingProxyType(default_entries),
        _entries=MappingProxyType(entries_by_id),
    )


def load_config(path: str | os.PathLike[str], *, local_tz: tzinfo | None = None) -> SessionConfig:
    """Read and parse a ``.cfg`` file; relative paths in it resolve against its directory."""
    file_path = Path(path)
    try:
        text = file_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror or exc}", source=str(path)) from None
    return parse_config(text, str(path), base_dir=file_path.resolve().parent, local_tz=local_tz)
