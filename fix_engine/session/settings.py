"""SessionSettings: the frozen, typed settings of one FIX session (QuickFIX key names in comments).

``fix_engine.config`` builds these from QuickFIX-format ``.cfg`` files; tests build them directly.
Every field has QuickFIX's default.  Keys the engine does not interpret (application keys such
as a gateway's account entitlements) stay available in ``extra``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

from .session_id import SessionID

if TYPE_CHECKING:
    from .schedule import SessionSchedule


#: The BeginString values fixgate speaks (FIX.5.0 and later ride on FIXT.1.1).
BEGIN_STRINGS: tuple[str, ...] = ("FIX.4.0", "FIX.4.1", "FIX.4.2", "FIX.4.3", "FIX.4.4", "FIXT.1.1")

#: ApplVerID(1128) / DefaultApplVerID(1137) codes and the FIX version each one names.
APPL_VER_IDS: Mapping[str, str] = MappingProxyType(
    {
        "2": "FIX.4.0",
        "3": "FIX.4.1",
        "4": "FIX.4.2",
        "5": "FIX.4.3",
        "6": "FIX.4.4",
        "7": "FIX.5.0",
        "8": "FIX.5.0SP1",
        "9": "FIX.5.0SP2",
    }
)


#: MaxPendingOutput's default: 64 MiB of unsent output to a peer that does not read.
DEFAULT_MAX_PENDING_OUTPUT = 64 << 20


class ConnectionType(StrEnum):
    """ConnectionType: which side opens the TCP connection."""

    ACCEPTOR = "acceptor"
    INITIATOR = "initiator"


@dataclass(frozen=True)
class SessionSettings:
    """Everything the session layer and the transport need to know about one session."""

    session_id: SessionID
    connection_type: ConnectionType = ConnectionType.ACCEPTOR
    # DefaultApplVerID (FIXT.1.1) as its 1137 code: the config accepts "9", "FIX.5.0SP2" or "FIX50SP2"
    # and stores "9"; APPL_VER_IDS maps the code back to "FIX.5.0SP2".
    default_appl_ver_id: str = ""

    # --- connection
    socket_accept_port: int | None = None  # SocketAcceptPort
    socket_accept_address: str = ""  # SocketAcceptAddress ("" = all interfaces)
    socket_connect_hosts: tuple[tuple[str, int], ...] = ()  # SocketConnectHost/Port, then <n> failovers
    reconnect_interval: float = 30.0  # ReconnectInterval (seconds)
    socket_nodelay: bool = True  # SocketNodelay
    socket_reuse_address: bool = True  # SocketReuseAddress
    allowed_remote_addresses: tuple[str, ...] = ()  # AllowedRemoteAddresses (empty = any)
    max_message_size: int = 1 << 20  # MaxMessageSize (fixgate): bound on one frame's bytes
    #: MaxPendingOutput (fixgate): unsent bytes a peer that stops reading may accumulate before
    #: the transport aborts its connection (64 MiB)
    max_pending_output: int = DEFAULT_MAX_PENDING_OUTPUT

    # --- schedule (StartTime/EndTime/StartDay/EndDay/Weekdays/UseLocalTime/TimeZone/NonStopSession)
    schedule: SessionSchedule | None = None  # None = non-stop (fix_engine.config always sets one)

    # --- session behaviour
    heart_bt_int: int = 30  # HeartBtInt (initiator sends it; acceptor takes the peer's)
    logon_timeout: float = 10.0  # LogonTimeout
    logout_timeout: float = 2.0  # LogoutTimeout
    test_request_delay_multiplier: float = 0.5  # TestRequestDelayMultiplier (QuickFIX/J)
    heartbeat_timeout_multiplier: float = 1.4  # HeartBeatTimeoutMultiplier (QuickFIX/J)
    reset_on_logon: bool = False  # ResetOnLogon
    reset_on_logout: bool = False  # ResetOnLogout
    reset_on_disconnect: bool = False  # ResetOnDisconnect
    refresh_on_logon: bool = False  # RefreshOnLogon
    send_redundant_resend_requests: bool = False  # SendRedundantResendRequests
    send_next_expected_msg_seq_num: bool = False  # SendNextExpectedMsgSeqNum / EnableNextExpectedMsgSeqNum
    check_comp_id: bool = True  # CheckCompID
    check_latency: bool = True  # CheckLatency
    max_latency: float = 120.0  # MaxLatency (seconds)
    timestamp_precision: int = 3  # TimestampPrecision (0, 3, 6, 9); MillisecondsInTimeStamp=N -> 0
    persist_messages: bool = True  # PersistMessages
    resend_request_chunk_size: int = 0  # ResendRequestChunkSize (0 = everything at once)
    validate_sequence_numbers: bool = True  # ValidateSequenceNumbers (QuickFIX/J)
    username: str = ""  # fixgate: Username (553) sent on Logon by an initiator
    password: str = ""  # fixgate: Password (554) sent on Logon by an initiator

    # --- validation (UseDataDictionary, DataDictionary, TransportDataDictionary, AppDataDictionary)
    use_data_dictionary: bool = True
    data_dictionary: str = ""
    transport_data_dictionary: str = ""
    app_data_dictionary: str = ""
    validate_fields_out_of_order: bool = True  # ValidateFieldsOutOfOrder
    validate_fields_have_values: bool = True  # ValidateFieldsHaveValues
    validate_user_defined_fields: bool = True  # ValidateUserDefinedFields / CheckUserDefinedFields
    allow_unknown_msg_fields: bool = False  # AllowUnknownMsgFields / AllowUnknownMessageFields
    validate_length_and_checksum: bool = True  # ValidateLengthAndChecksum
    validate_incoming_message: bool = True  # ValidateIncomingMessage (QuickFIX/J)

    # --- store and log
    file_store_path: str = ""  # FileStorePath
    file_store_sync: bool = False  # FileStoreSync (QuickFIX/J, default N): fsync every write group
    file_store_max_cached_msgs: int = 10000  # FileStoreMaxCachedMsgs
    file_log_path: str = ""  # FileLogPath
    sql_store_url: str = ""  # fixgate: SQLAlchemy URL built from PostgreSQLStore* or SQLStoreURL
    sql_log_url: str = ""  # fixgate: from PostgreSQLLog* or SQLLogURL
    screen_log: bool = False  # any ScreenLogShowIncoming/Outgoing/Events key set to Y
    screen_log_show_incoming: bool = True  # ScreenLogShowIncoming
    screen_log_show_outgoing: bool = True  # ScreenLogShowOutgoing
    screen_log_show_events: bool = True  # ScreenLogShowEvents

    # --- TLS
    socket_use_ssl: bool = False  # SocketUseSSL / SSLEnable
    server_certificate_file: str = ""
    server_certificate_key_file: str = ""
    client_certificate_file: str = ""
    client_certificate_key_file: str = ""
    certification_authorities_file: str = ""
    certificate_verify_level: int = 0  # 0 none, 1 verify peer if presented, 2+ require peer cert
    ssl_protocol: str = ""  # SSLProtocol, e.g. "+TLSv1.2 +TLSv1.3" or "all -SSLv3"
    ssl_cipher_suite: str = ""  # SSLCipherSuite (OpenSSL cipher string)

    # --- everything else in the block, verbatim (application keys), and where it came from
    extra: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    source: str = ""  # "file.cfg:12" of the [SESSION] header, for error messages

    @property
    def is_initiator(self) -> bool:
        return self.connection_type is ConnectionType.INITIATOR

    @property
    def default_appl_ver_name(self) -> str:
        """DefaultApplVerID as a version name (``"FIX.5.0SP2"``); ``""`` when not configured."""
        return APPL_VER_IDS.get(self.default_appl_ver_id, "")

    @property
    def is_templated(self) -> bool:
        """An acceptor block whose TargetCompID is ``*``: any counterparty may log on."""
        return self.session_id.target_comp_id == "*"
