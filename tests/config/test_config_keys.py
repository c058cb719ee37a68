"""fix_engine.config: every QuickFIX key lands in its SessionSettings field; aliases; inheritance."""

from __future__ import annotations

import dataclasses
from datetime import UTC, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fix_engine.config import ConfigError, load_config, parse_config
from fix_engine.session.schedule import SessionSchedule
from fix_engine.session.session_id import SessionID
from fix_engine.session.settings import ConnectionType, SessionSettings

ACCEPTOR = """\
[DEFAULT]
ConnectionType=acceptor
SocketAcceptPort=9878
[SESSION]
BeginString=FIX.4.4
SenderCompID=GW
TargetCompID=CL
"""

INITIATOR = """\
[DEFAULT]
ConnectionType=initiator
SocketConnectHost=127.0.0.1
SocketConnectPort=9878
[SESSION]
BeginString=FIX.4.4
SenderCompID=CL
TargetCompID=GW
"""


def one(text: str, **kwargs: Any) -> SessionSettings:
    config = parse_config(text, "x.cfg", **kwargs)
    assert len(config.sessions) == 1
    return config.sessions[0]


def with_keys(*lines: str, base: str = ACCEPTOR) -> SessionSettings:
    return one(base + "\n".join(lines) + "\n")


# (key=value line, field, expected) -- values chosen to differ from the defaults.
MAPPINGS: list[tuple[str, str, Any]] = [
    ("SessionQualifier=Q1", "session_id", SessionID("FIX.4.4", "GW", "CL", "Q1")),
    ("SocketAcceptAddress=10.0.0.1", "socket_accept_address", "10.0.0.1"),
    ("ReconnectInterval=7", "reconnect_interval", 7.0),
    ("SocketNodelay=N", "socket_nodelay", False),
    ("SocketReuseAddress=N", "socket_reuse_address", False),
    ("AllowedRemoteAddresses=10.0.0.1, 10.0.0.2 ,", "allowed_remote_addresses", ("10.0.0.1", "10.0.0.2")),
    ("MaxMessageSize=4096", "max_message_size", 4096),
    ("MaxPendingOutput=1048576", "max_pending_output", 1048576),
    ("HeartBtInt=45", "heart_bt_int", 45),
    ("LogonTimeout=3", "logon_timeout", 3.0),
    ("LogoutTimeout=4.5", "logout_timeout", 4.5),
    ("TestRequestDelayMultiplier=0.75", "test_request_delay_multiplier", 0.75),
    ("HeartBeatTimeoutMultiplier=2", "heartbeat_timeout_multiplier", 2.0),
    ("ResetOnLogon=Y", "reset_on_logon", True),
    ("ResetOnLogout=Y", "reset_on_logout", True),
    ("ResetOnDisconnect=y", "reset_on_disconnect", True),
    ("RefreshOnLogon=Y", "refresh_on_logon", True),
    ("SendRedundantResendRequests=Y", "send_redundant_resend_requests", True),
    ("SendNextExpectedMsgSeqNum=Y", "send_next_expected_msg_seq_num", True),
    ("CheckCompID=N", "check_comp_id", False),
    ("CheckLatency=N", "check_latency", False),
    ("MaxLatency=30", "max_latency", 30.0),
    ("TimestampPrecision=6", "timestamp_precision", 6),
    ("MillisecondsInTimeStamp=N", "timestamp_precision", 0),
    ("PersistMessages=N", "persist_messages", False),
    ("ResendRequestChunkSize=2500", "resend_request_chunk_size", 2500),
    ("ValidateSequenceNumbers=N", "validate_sequence_numbers", False),
    ("Username=alice", "username", "alice"),
    ("Password=s3cr#t=x", "password", "s3cr#t=x"),  # '#' and '=' inside a value are kept
    ("UseDataDictionary=N", "use_data_dictionary", False),
    ("DataDictionary=FIX44.xml", "data_dictionary", "FIX44.xml"),
    ("TransportDataDictionary=FIXT11.xml", "transport_data_dictionary", "FIXT11.xml"),
    ("AppDataDictionary=FIX50SP2.xml", "app_data_dictionary", "FIX50SP2.xml"),
    ("ValidateFieldsOutOfOrder=N", "validate_fields_out_of_order", False),
    ("ValidateFieldsHaveValues=N", "validate_fields_have_values", False),
    ("ValidateUserDefinedFields=N", "validate_user_defined_fields", False),
    ("AllowUnknownMsgFields=Y", "allow_unknown_msg_fields", True),
    ("ValidateLengthAndChecksum=N", "validate_length_and_checksum", False),
    ("ValidateIncomingMessage=N", "validate_incoming_message", False),
    ("FileStorePath=/var/fix/store", "file_store_path", "/var/fix/store"),
    ("FileStoreSync=Y", "file_store_sync", True),
    ("FileStoreMaxCachedMsgs=50", "file_store_max_cached_msgs", 50),
    ("FileLogPath=/var/fix/log", "file_log_path", "/var/fix/log"),
    ("SQLStoreURL=sqlite:///store.db", "sql_store_url", "sqlite:///store.db"),
    ("SQLLogURL=postgresql+psycopg2://u@db/fix", "sql_log_url", "postgresql+psycopg2://u@db/fix"),
    ("ScreenLogShowIncoming=N", "screen_log_show_incoming", False),
    ("ScreenLogShowOutgoing=N", "screen_log_show_outgoing", False),
    ("ScreenLogShowEvents=N", "screen_log_show_events", False),
    ("ScreenLogShowEvents=Y", "screen_log", True),
    ("ServerCertificateFile=/pki/s.crt", "server_certificate_file", "/pki/s.crt"),
    ("ServerCertificateKeyFile=/pki/s.key", "server_certificate_key_file", "/pki/s.key"),
    ("ClientCertificateFile=/pki/c.crt", "client_certificate_file", "/pki/c.crt"),
    ("ClientCertificateKeyFile=/pki/c.key", "client_certificate_key_file", "/pki/c.key"),
    ("CertificationAuthoritiesFile=/pki/ca.crt", "certification_authorities_file", "/pki/ca.crt"),
    ("CertificateVerifyLevel=2", "certificate_verify_level", 2),
    ("SSLProtocol=+TLSv1.2 +TLSv1.3", "ssl_protocol", "+TLSv1.2 +TLSv1.3"),
    ("SSLCipherSuite=HIGH:!aNULL", "ssl_cipher_suite", "HIGH:!aNULL"),
]


@pytest.mark.parametrize(("line", "name", "expected"), MAPPINGS, ids=[m[0].split("=")[0] for m in MAPPINGS])
def test_key_maps_to_field(line: str, name: str, expected: Any) -> None:
    settings = with_keys(line)
    assert getattr(settings, name) == expected
    assert getattr(SessionSettings(SessionID("FIX.4.4", "A", "B")), name) != expected, (
        "pick a non-default value"
    )
    assert dict(settings.extra) == {}


def test_identity_keys() -> None:
    settings = with_keys(
        "SenderSubID=DESK",
        "SenderLocationID=LDN",
        "TargetSubID=TRADER",
        "TargetLocationID=NYC",
        "SessionQualifier=2",
    )
    assert settings.session_id == SessionID("FIX.4.4", "GW", "CL", "2", "DESK", "LDN", "TRADER", "NYC")
    assert settings.connection_type is ConnectionType.ACCEPTOR
    assert settings.socket_accept_port == 9878
    assert settings.source == "x.cfg:4"


def test_ssl_and_screen_log_flags() -> None:
    settings = with_keys("SocketUseSSL=Y", "ServerCertificateFile=/pki/s.crt")
    assert settings.socket_use_ssl is True
    assert with_keys("ScreenLogShowIncoming=N").screen_log is False
    assert with_keys().screen_log is False


def test_initiator_hosts_and_failovers() -> None:
    settings = with_keys(
        "SocketConnectHost1=10.0.0.2",
        "SocketConnectPort1=9001",
        "SocketConnectHost2=backup.example.com",
        "SocketConnectPort2=9002",
        "ReconnectInterval=5",
        base=INITIATOR,
    )
    assert settings.is_initiator
    assert settings.socket_connect_hosts == (
        ("127.0.0.1", 9878),
        ("10.0.0.2", 9001),
        ("backup.example.com", 9002),
    )
    assert settings.socket_accept_port is None
    assert settings.reconnect_interval == 5.0


@pytest.mark.parametrize("value", ["9", "FIX.5.0SP2", "FIX50SP2", "fix.5.0sp2"])
def test_default_appl_ver_id_forms(value: str) -> None:
    settings = with_keys(
        "BeginString=FIXT.1.1",
        f"DefaultApplVerID={value}",
        base=ACCEPTOR.replace("BeginString=FIX.4.4\n", ""),
    )
    assert settings.default_appl_ver_id == "9"
    assert settings.default_appl_ver_name == "FIX.5.0SP2"
    assert settings.session_id.is_fixt


def test_default_appl_ver_id_older_versions() -> None:
    base = ACCEPTOR.replace("BeginString=FIX.4.4\n", "BeginString=FIXT.1.1\n")
    assert with_keys("DefaultApplVerID=FIX.5.0", base=base).default_appl_ver_id == "7"
    assert with_keys("DefaultApplVerID=FIX.5.0SP1", base=base).default_appl_ver_id == "8"
    assert with_keys("DefaultApplVerID=FIX.4.4", base=base).default_appl_ver_id == "6"


def test_timestamp_precision_wins_over_milliseconds() -> None:
    assert with_keys("MillisecondsInTimeStamp=N", "TimestampPrecision=9").timestamp_precision == 9
    assert with_keys("MillisecondsInTimeStamp=Y").timestamp_precision == 3


ALIASES = [
    ("SSLEnable=Y\nServerCertificateFile=/s.crt", "socket_use_ssl", True),
    ("EnableNextExpectedMsgSeqNum=Y", "send_next_expected_msg_seq_num", True),
    ("AllowUnknownMessageFields=Y", "allow_unknown_msg_fields", True),
    ("CheckUserDefinedFields=N", "validate_user_defined_fields", False),
    ("SocketAcceptHost=192.168.1.5", "socket_accept_address", "192.168.1.5"),
    ("SocketTcpNoDelay=N", "socket_nodelay", False),
    ("SocketCAFile=/pki/ca.pem", "certification_authorities_file", "/pki/ca.pem"),
    ("SocketCertificateFile=/pki/s.pem", "server_certificate_file", "/pki/s.pem"),
    ("SocketPrivateKeyFile=/pki/s.key", "server_certificate_key_file", "/pki/s.key"),
]


@pytest.mark.parametrize(("line", "name", "expected"), ALIASES, ids=[a[0].split("=")[0] for a in ALIASES])
def test_alias(line: str, name: str, expected: Any) -> None:
    settings = with_keys(line)
    assert getattr(settings, name) == expected
    assert dict(settings.extra) == {}


def test_quickfix_go_certificate_keys_follow_the_side() -> None:
    settings = with_keys(
        "SocketCertificateFile=/pki/c.pem", "SocketPrivateKeyFile=/pki/c.key", base=INITIATOR
    )
    assert settings.client_certificate_file == "/pki/c.pem"
    assert settings.client_certificate_key_file == "/pki/c.key"
    assert settings.server_certificate_file == ""


def test_defaults_are_quickfix_defaults() -> None:
    settings = with_keys()
    assert settings.heart_bt_int == 30
    assert settings.reset_on_logon is False
    assert settings.check_comp_id is True
    assert settings.use_data_dictionary is True
    assert settings.socket_connect_hosts == ()
    assert settings.schedule == SessionSchedule.always()
    assert settings.file_store_sync is False  # QuickFIX/J's FileStoreSync default; QuickFIX never fsyncs
    assert settings.max_pending_output == 67108864  # fixgate's MaxPendingOutput: 64 MiB


class TestInheritance:
    TEXT = """\
# comment
; another comment
[DEFAULT]
ConnectionType=acceptor
SocketAcceptPort=9878
HeartBtInt=20
  ResetOnLogon = Y
Accounts=DEMO1,DEMO2
MaxOrders=100

[SESSION]
BeginString=FIX.4.4
SenderCompID=GW
TargetCompID=A
HeartBtInt=60

[session]
BeginString=FIX.4.2
SenderCompID=GW
TargetCompID=B
Accounts=DEMO3
MaxOrders=lots

[DEFAULT]
CheckLatency=N
"""

    def test_session_inherits_default_and_overrides(self) -> None:
        config = parse_config(self.TEXT, "x.cfg")
        a, b = config.sessions
        assert (a.heart_bt_int, b.heart_bt_int) == (60, 20)
        assert a.reset_on_logon and b.reset_on_logon
        assert not a.check_latency and not b.check_latency  # a DEFAULT block anywhere applies
        assert config.default["HeartBtInt"] == "20"
        assert config.default["ResetOnLogon"] == "Y"

    def test_application_keys_stay_available_with_their_lines(self) -> None:
        config = parse_config(self.TEXT, "x.cfg")
        a, b = config.sessions
        assert a.extra == {"Accounts": "DEMO1,DEMO2", "MaxOrders": "100"}
        assert b.extra == {"Accounts": "DEMO3", "MaxOrders": "lots"}
        assert config.get_list(a, "Accounts") == ("DEMO1", "DEMO2")
        assert config.get_list(b.session_id, "Accounts") == ("DEMO3",)
        assert config.block_value(a, "Accounts") == "DEMO1,DEMO2"
        assert config.block_value(a, "Missing", "dflt") == "dflt"
        assert config.get_int(a, "MaxOrders") == 100
        assert config.get_int(a, "Missing", 5) == 5
        entry = config.entry(b, "Accounts")
        assert entry is not None and entry.location == "x.cfg:21"
        assert config.entry(a, "Accounts").location == "x.cfg:8"  # type: ignore[union-attr]
        with pytest.raises(ConfigError) as info:
            config.get_int(b, "MaxOrders")
        assert str(info.value) == "x.cfg:22: MaxOrders: 'lots' is not an integer"
        with pytest.raises(ConfigError, match=r"^x\.cfg:8: Accounts: not allowed$"):
            raise config.entry(a, "Accounts").error("not allowed")  # type: ignore[union-attr]
        assert config.session(b.session_id) is b
        assert config.get_bool(a, "Missing") is None


class TestSchedule:
    def test_daily_utc_by_default(self) -> None:
        s = with_keys("StartTime=08:00:00", "EndTime=17:00:00").schedule
        assert s == SessionSchedule(start_time=time(8), end_time=time(17), tz=UTC)

    def test_weekly(self) -> None:
        s = with_keys(
            "StartTime=17:00:00",
            "EndTime=17:00:00",
            "StartDay=sun",
            "EndDay=Friday",
            "TimeZone=America/New_York",
        ).schedule
        assert s == SessionSchedule(
            time(17), time(17), start_day=6, end_day=4, tz=ZoneInfo("America/New_York")
        )

    def test_weekdays(self) -> None:
        s = with_keys("StartTime=09:30:00", "EndTime=16:00:00", "Weekdays=Mon,Tue,Wed,Thu,Fri").schedule
        assert s is not None and s.weekdays == frozenset(range(5))

    def test_use_local_time_takes_the_given_zone(self) -> None:
        tokyo = ZoneInfo("Asia/Tokyo")
        s = one(ACCEPTOR + "StartTime=08:00:00\nEndTime=17:00:00\nUseLocalTime=Y\n", local_tz=tokyo).schedule
        assert s is not None and s.tz is tokyo

    def test_use_local_time_defaults_to_the_machine_zone(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TZ", "Asia/Tokyo")
        s = with_keys("StartTime=08:00:00", "EndTime=17:00:00", "UseLocalTime=Y").schedule
        assert s is not None and s.tz == ZoneInfo("Asia/Tokyo")

    def test_quickfixj_zone_suffix_on_times(self) -> None:
        s = with_keys("StartTime=09:00:00 Europe/London", "EndTime=17:00:00 Europe/London").schedule
        assert s is not None and s.tz == ZoneInfo("Europe/London") and s.start_time == time(9)

    def test_non_stop(self) -> None:
        assert (
            with_keys("NonStopSession=Y", "StartTime=08:00:00", "EndTime=09:00:00").schedule
            == SessionSchedule.always()
        )
        assert with_keys(
            "NonStopSession=N", "StartTime=08:00:00", "EndTime=09:00:00"
        ).schedule == SessionSchedule(time(8), time(9))


class TestSql:
    def test_postgresql_store_and_log_keys_build_urls(self) -> None:
        settings = with_keys(
            "PostgreSQLStoreDatabase=fixdb",
            "PostgreSQLStoreUser=fix user",
            "PostgreSQLStorePassword=p@ss:word/",
            "PostgreSQLStoreHost=db.internal",
            "PostgreSQLStorePort=5433",
            "PostgreSQLLogHost=logdb",
            "PostgreSQLStoreUseConnectionPool=Y",
        )
        assert (
            settings.sql_store_url
            == "postgresql+psycopg2://fix%20user:p%40ss%3Aword%2F@db.internal:5433/fixdb"
        )
        assert settings.sql_log_url == "postgresql+psycopg2://postgres@logdb/quickfix"  # QuickFIX's defaults
        assert dict(settings.extra) == {}


class TestPaths:
    def test_paths_resolve_against_the_config_directory(self, tmp_path: Path) -> None:
        (tmp_path / "conf").mkdir()
        (tmp_path / "conf" / "custom").mkdir()
        (tmp_path / "conf" / "custom" / "MY44.xml").write_text("<fix/>")
        cfg = tmp_path / "conf" / "x.cfg"
        cfg.write_text(
            ACCEPTOR
            + "FileStorePath=store\nFileLogPath=../log\nServerCertificateFile=certs/s.crt\n"
            + "CertificationAuthoritiesFile=/abs/ca.crt\nDataDictionary=custom/MY44.xml\n"
            + "TransportDataDictionary=FIXT11.xml\nAppDataDictionary=dictionaries/FIX50SP2.xml\n"
        )
        settings = load_config(cfg).sessions[0]
        conf = tmp_path.resolve() / "conf"
        assert settings.file_store_path == str(conf / "store")
        assert settings.file_log_path == str(tmp_path.resolve() / "log")
        assert settings.server_certificate_file == str(conf / "certs" / "s.crt")
        assert settings.certification_authorities_file == "/abs/ca.crt"
        assert settings.data_dictionary == str(conf / "custom" / "MY44.xml")  # exists next to the cfg
        assert settings.transport_data_dictionary == "FIXT11.xml"  # left for the dictionary loader
        assert settings.app_data_dictionary == "dictionaries/FIX50SP2.xml"

    def test_parse_config_without_base_dir_keeps_paths(self) -> None:
        settings = with_keys("FileStorePath=store", "ServerCertificateFile=certs/s.crt")
        assert (settings.file_store_path, settings.server_certificate_file) == ("store", "certs/s.crt")

    def test_load_config_error_names_the_path(self, tmp_path: Path) -> None:
        cfg = tmp_path / "x.cfg"
        cfg.write_text(ACCEPTOR + "HeartBtInt=abc\n")
        with pytest.raises(ConfigError) as info:
            load_config(cfg)
        assert str(info.value) == f"{cfg}:8: HeartBtInt: 'abc' is not an integer"
        with pytest.raises(ConfigError, match="cannot read config"):
            load_config(tmp_path / "missing.cfg")


def test_templated_acceptor() -> None:
    settings = with_keys(base=ACCEPTOR.replace("TargetCompID=CL", "TargetCompID=*"))
    assert settings.is_templated
    assert settings.session_id.for_counterparty("ANY").target_comp_id == "ANY"


def test_every_settings_field_is_reachable_from_a_key() -> None:
    """Guards the key table: a new SessionSettings field needs a key (or a listed reason)."""
    covered = {name for _, name, _ in MAPPINGS} | {name for _, name, _ in ALIASES}
    covered |= {
        "connection_type",
        "default_appl_ver_id",
        "socket_accept_port",
        "socket_connect_hosts",
        "schedule",
    }
    covered |= {"extra", "source"}
    fields = {f.name for f in dataclasses.fields(SessionSettings)}
    assert fields - covered == set()


def test_bom_and_crlf_are_accepted() -> None:
    settings = one("\ufeff" + ACCEPTOR.replace("\n", "\r\n"))
    assert settings.session_id.target_comp_id == "CL"
