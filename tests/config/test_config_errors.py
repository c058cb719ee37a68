"""fix_engine.config: every kind of bad input is a ConfigError whose message names file:line: key."""

from __future__ import annotations

import pytest

from fix_engine.config import ConfigError, parse_config

# Line numbers below count from 1; the session block header is line 4.
ACCEPTOR = """\
[DEFAULT]
ConnectionType=acceptor
SocketAcceptPort=9878
[SESSION]
BeginString=FIX.4.4
SenderCompID=GW
TargetCompID=CL
"""
INITIATOR = ACCEPTOR.replace("ConnectionType=acceptor", "ConnectionType=initiator").replace(
    "SocketAcceptPort=9878", "SocketConnectHost=127.0.0.1\nSocketConnectPort=9878"
)  # session block header is line 5 here


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "x.cfg")
    return str(info.value)


# A bad value on line 8 (the first line after ACCEPTOR): exact messages.
BAD_VALUES = [
    ("HeartBtInt=abc", "x.cfg:8: HeartBtInt: 'abc' is not an integer"),
    ("HeartBtInt=-1", "x.cfg:8: HeartBtInt: '-1' must be at least 0"),
    ("ResetOnLogon=yes", "x.cfg:8: ResetOnLogon: 'yes' is not Y or N"),
    ("SSLEnable=true", "x.cfg:8: SSLEnable: 'true' is not Y or N"),
    ("ReconnectInterval=0", "x.cfg:8: ReconnectInterval: '0' must be greater than 0"),
    ("LogonTimeout=soon", "x.cfg:8: LogonTimeout: 'soon' is not a number"),
    ("TimestampPrecision=12", "x.cfg:8: TimestampPrecision: '12' is not in 0..9"),
    ("CertificateVerifyLevel=x", "x.cfg:8: CertificateVerifyLevel: 'x' is not an integer"),
    ("MaxPendingOutput=64MiB", "x.cfg:8: MaxPendingOutput: '64MiB' is not an integer"),
    ("MaxPendingOutput=0", "x.cfg:8: MaxPendingOutput: '0' must be at least 1"),
    (
        "StartTime=25:00:00\nEndTime=17:00:00",
        "x.cfg:8: StartTime: '25:00:00' is not a time of day (HH:MM:SS)",
    ),
    ("StartTime=08:00:00\nEndTime=5pm", "x.cfg:9: EndTime: '5pm' is not a time of day (HH:MM:SS)"),
    (
        "StartDay=Funday\nEndDay=Fri\nStartTime=08:00:00\nEndTime=17:00:00",
        "x.cfg:8: StartDay: 'Funday' is not a day of the week",
    ),
    (
        "Weekdays=Mon,Xyz\nStartTime=08:00:00\nEndTime=17:00:00",
        "x.cfg:8: Weekdays: 'Xyz' is not a day of the week",
    ),
    (
        "TimeZone=Mars/Olympus\nStartTime=08:00:00\nEndTime=17:00:00",
        "x.cfg:8: TimeZone: 'Mars/Olympus' is not a known time zone (IANA name such as America/New_York)",
    ),
    ("UseLocalTime=maybe", "x.cfg:8: UseLocalTime: 'maybe' is not Y or N"),
    ("NonStopSession=1", "x.cfg:8: NonStopSession: '1' is not Y or N"),
    ("MillisecondsInTimeStamp=X", "x.cfg:8: MillisecondsInTimeStamp: 'X' is not Y or N"),
    ("PostgreSQLStorePort=db", "x.cfg:8: PostgreSQLStorePort: 'db' is not an integer"),
    ("SQLStoreURL=store.db", "x.cfg:8: SQLStoreURL: 'store.db' is not an SQLAlchemy URL (dialect://...)"),
    (
        "DefaultApplVerID=FIX.6.0",
        "x.cfg:8: DefaultApplVerID: 'FIX.6.0' is not an ApplVerID (e.g. 9 or FIX.5.0SP2)",
    ),
]


@pytest.mark.parametrize(("line", "message"), BAD_VALUES, ids=[b[0].split("=")[0] for b in BAD_VALUES])
def test_bad_value_names_file_line_and_key(line: str, message: str) -> None:
    assert error_of(ACCEPTOR + line + "\n") == message


def test_bad_port_and_connection_type_and_begin_string() -> None:
    assert (
        error_of(ACCEPTOR.replace("9878", "70000")) == "x.cfg:3: SocketAcceptPort: '70000' is not in 1..65535"
    )
    assert error_of(ACCEPTOR.replace("=acceptor", "=server")) == (
        "x.cfg:2: ConnectionType: 'server' is not acceptor or initiator"
    )
    assert error_of(ACCEPTOR.replace("FIX.4.4", "FIX.9.9")) == (
        "x.cfg:5: BeginString: 'FIX.9.9' is not a supported BeginString "
        "(FIX.4.0, FIX.4.1, FIX.4.2, FIX.4.3, FIX.4.4, FIXT.1.1)"
    )


def test_a_bad_default_value_is_reported_at_its_default_line() -> None:
    assert error_of("[DEFAULT]\nHeartBtInt=x\n" + ACCEPTOR) == "x.cfg:2: HeartBtInt: 'x' is not an integer"


@pytest.mark.parametrize(
    "key", ["BeginString", "SenderCompID", "TargetCompID", "ConnectionType", "SocketAcceptPort"]
)
def test_missing_required_key_names_the_session_block(key: str) -> None:
    text = "\n".join(line for line in ACCEPTOR.splitlines() if not line.startswith(key + "=")) + "\n"
    header = text.splitlines().index("[SESSION]") + 1
    assert error_of(text).startswith(f"x.cfg:{header}: [SESSION]: missing required key {key}")


def test_empty_required_value_counts_as_missing() -> None:
    assert error_of(ACCEPTOR.replace("SenderCompID=GW", "SenderCompID=")) == (
        "x.cfg:4: [SESSION]: missing required key SenderCompID"
    )


def test_initiator_needs_a_host_and_port() -> None:
    text = ACCEPTOR.replace("ConnectionType=acceptor", "ConnectionType=initiator")
    assert error_of(text) == (
        "x.cfg:4: [SESSION]: missing required key SocketConnectHost/SocketConnectPort (initiator)"
    )
    assert error_of(INITIATOR.replace("SocketConnectPort=9878\n", "")) == (
        "x.cfg:3: SocketConnectHost: SocketConnectPort is missing"
    )


def test_failover_hosts_need_pairs_and_no_gaps() -> None:
    assert error_of(INITIATOR + "SocketConnectPort1=9001\n") == (
        "x.cfg:9: SocketConnectPort1: SocketConnectHost1 is missing or empty"
    )
    assert error_of(INITIATOR + "SocketConnectHost2=h\nSocketConnectPort2=9002\n") == (
        "x.cfg:9: SocketConnectHost2: failover hosts must be numbered 1, 2, ... without gaps (no SocketConnectHost1)"
    )


def test_fixt_needs_default_appl_ver_id() -> None:
    assert error_of(ACCEPTOR.replace("FIX.4.4", "FIXT.1.1")) == (
        "x.cfg:4: [SESSION]: missing required key DefaultApplVerID (BeginString=FIXT.1.1)"
    )


def test_tls_acceptor_needs_a_certificate() -> None:
    assert error_of(ACCEPTOR + "SocketUseSSL=Y\n") == (
        "x.cfg:4: [SESSION]: missing required key ServerCertificateFile (SocketUseSSL=Y acceptor)"
    )


def test_duplicate_session_ids() -> None:
    text = ACCEPTOR + "\n[SESSION]\nBeginString=FIX.4.4\nSenderCompID=GW\nTargetCompID=CL\n"
    assert error_of(text) == "x.cfg:9: [SESSION]: duplicate session FIX.4.4:GW->CL (first at x.cfg:4)"
    with_qualifier = text + "SessionQualifier=2\n"
    assert len(parse_config(with_qualifier, "x.cfg").sessions) == 2


def test_templated_session_only_for_acceptors() -> None:
    assert error_of(INITIATOR.replace("TargetCompID=CL", "TargetCompID=*")) == (
        "x.cfg:8: TargetCompID: '*' (templated session) is only allowed for acceptors"
    )
    assert error_of(ACCEPTOR.replace("SenderCompID=GW", "SenderCompID=*")) == (
        "x.cfg:6: SenderCompID: '*' is only allowed in TargetCompID (templated acceptor sessions)"
    )


class TestSyntax:
    def test_key_outside_any_block(self) -> None:
        assert error_of("# header\nHeartBtInt=30\n" + ACCEPTOR) == (
            "x.cfg:2: HeartBtInt: key outside any [DEFAULT] or [SESSION] block"
        )

    def test_line_without_equals(self) -> None:
        assert error_of(ACCEPTOR + "ResetOnLogon Y\n") == "x.cfg:8: expected Key=Value, got 'ResetOnLogon Y'"

    def test_line_without_key(self) -> None:
        assert error_of(ACCEPTOR + "=Y\n") == "x.cfg:8: no key before '=' in '=Y'"

    def test_unknown_section(self) -> None:
        assert (
            error_of(ACCEPTOR + "[SESSIONS]\n")
            == "x.cfg:8: '[SESSIONS]' is not a [DEFAULT] or [SESSION] header"
        )
        assert (
            error_of(ACCEPTOR + "[SESSION\n") == "x.cfg:8: '[SESSION' is not a [DEFAULT] or [SESSION] header"
        )

    def test_key_twice_in_one_block(self) -> None:
        assert error_of(ACCEPTOR + "HeartBtInt=30\nHeartBtInt=60\n") == (
            "x.cfg:9: HeartBtInt: set twice in one block (first at line 8)"
        )

    def test_no_session(self) -> None:
        assert error_of("[DEFAULT]\nConnectionType=acceptor\n") == "x.cfg: no [SESSION] block"

    def test_keys_are_case_sensitive(self) -> None:
        assert error_of(ACCEPTOR + "heartbtint=30\n") == (
            "x.cfg:8: heartbtint: unknown key (keys are case-sensitive): did you mean HeartBtInt?"
        )


UNSUPPORTED = [
    ("MySQLStoreDatabase=fix", "use FileStorePath, PostgreSQLStore* or SQLStoreURL"),
    ("MySQLLogHost=db", "use FileLogPath, PostgreSQLLog* or SQLLogURL"),
    ("ODBCStoreUser=u", "use FileStorePath, PostgreSQLStore* or SQLStoreURL"),
    ("ODBCLogConnectionString=x", "use FileLogPath, PostgreSQLLog* or SQLLogURL"),
    ("MSSQLStoreDatabase=fix", "use FileStorePath, PostgreSQLStore* or SQLStoreURL"),
    ("JdbcURL=jdbc:x", "use PostgreSQLStore*/PostgreSQLLog* or SQLStoreURL/SQLLogURL"),
    ("JdbcLogIncomingTable=in", "use FileLogPath, PostgreSQLLog* or SQLLogURL"),
    ("SleepycatDatabaseDir=/db", "use FileStorePath, PostgreSQLStore* or SQLStoreURL"),
    ("SocketKeyStore=ks.jks", "use ServerCertificateFile/ServerCertificateKeyFile"),
    ("SocketTrustStorePassword=pw", "CertificationAuthoritiesFile (PEM files)"),
]


@pytest.mark.parametrize(("line", "hint"), UNSUPPORTED, ids=[u[0].split("=")[0] for u in UNSUPPORTED])
def test_unsupported_keys_name_the_alternative(line: str, hint: str) -> None:
    key = line.split("=")[0]
    message = error_of(ACCEPTOR + line + "\n")
    assert message.startswith(f"x.cfg:8: {key}: {key} is not supported by fixgate: use ")
    assert hint in message


def test_unsupported_keys_are_rejected_in_default_too() -> None:
    assert error_of("[DEFAULT]\nMySQLStoreDatabase=fix\n" + ACCEPTOR).startswith(
        "x.cfg:2: MySQLStoreDatabase: MySQLStoreDatabase is not supported by fixgate"
    )


class TestConflicts:
    def test_alias_and_key_both_set(self) -> None:
        assert error_of(ACCEPTOR + "SocketUseSSL=Y\nSSLEnable=Y\nServerCertificateFile=/s\n") == (
            "x.cfg:9: SSLEnable: same setting as SocketUseSSL (line 8); set only one"
        )

    def test_sql_url_and_postgresql_keys(self) -> None:
        assert error_of(ACCEPTOR + "SQLStoreURL=sqlite://\nPostgreSQLStoreHost=db\n") == (
            "x.cfg:9: PostgreSQLStoreHost: conflicts with SQLStoreURL (line 8); use one or the other"
        )

    def test_schedule_combinations(self) -> None:
        assert error_of(ACCEPTOR + "StartTime=08:00:00\n") == (
            "x.cfg:8: StartTime: EndTime is missing (set both, or NonStopSession=Y)"
        )
        assert error_of(ACCEPTOR + "StartTime=08:00:00\nEndTime=17:00:00\nStartDay=Mon\n") == (
            "x.cfg:10: StartDay: StartDay and EndDay go together (weekly session)"
        )
        assert error_of(
            ACCEPTOR + "StartTime=08:00:00\nEndTime=17:00:00\nStartDay=Mon\nEndDay=Fri\nWeekdays=Mon\n"
        ) == ("x.cfg:12: Weekdays: cannot be combined with StartDay/EndDay")
        assert error_of(
            ACCEPTOR + "StartTime=08:00:00\nEndTime=17:00:00\nTimeZone=Europe/Paris\nUseLocalTime=Y\n"
        ) == ("x.cfg:11: UseLocalTime: UseLocalTime=Y conflicts with an explicit time zone")
        assert error_of(ACCEPTOR + "StartDay=Mon\nEndDay=Fri\n") == (
            "x.cfg:4: [SESSION]: StartDay/EndDay/Weekdays need StartTime and EndTime"
        )
        assert error_of(
            ACCEPTOR + "StartTime=08:00:00 Europe/Paris\nEndTime=17:00:00\nTimeZone=Asia/Tokyo\n"
        ) == ("x.cfg:9: EndTime: time zones disagree: Asia/Tokyo, Europe/Paris")


def test_config_error_carries_its_parts() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(ACCEPTOR + "HeartBtInt=abc\n", "x.cfg")
    assert (info.value.source, info.value.line, info.value.key) == ("x.cfg", 8, "HeartBtInt")
    assert isinstance(info.value, ValueError)
