"""SessionSettings: the frozen, typed settings of one FIX session (QuickFIX key names in comments).

``fix_engine.config`` builds these from QuickFIX-format ``.cfg`` files; tests build them directly.
Every field has QuickFIX's default.  Keys the engine does not interpret (application keys such
as a gateway's account entitlements) stay available in ``extra``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING

from .session_id import SessionID

if TYPE_CHECKING:
    from .schedule import SessionSchedule


class ConnectionType(str, Enum):
    """ConnectionType: which side opens the TCP connection."""

    ACCEPTOR = "acceptor"
    INITIATOR = "initiator"


@dataclass(frozen=True)
class SessionSettings:
    """Everything the session layer and the transport need to know about one session."""

    session_id: SessionID
    connection_type: ConnectionType = ConnectionType.ACCEPTOR
    default_appl_ver_id: str = ""  # DefaultApplVerID (FIXT.1.1), e.g. "9" or "FIX.5.0SP2"

    # --- connection
    socket_accept_port: int | None = None  # SocketAcceptPort
    socket_accept_address: str = ""  # SocketAcceptAddress ("" = all interfaces)
    socket_connect_hosts: tuple[tuple[str, int], ...] = ()  # SocketConnectHost/Port, then <n> failovers
    reconnect_interval: float = 30.0  # ReconnectInterval (seconds)
    socket_nodelay: bool = True  # SocketNodelay
    socket_reuse_address: bool = True  # SocketReuseAddress
    allowed_remote_addresses: tuple[str, ...] = ()  # AllowedRemoteAddresses (empty = any)
    max_message_size: int = 1 << 20  # MaxMessageSize (fixgate): bound on one frame's bytes

    # --- schedule (StartTime/EndTime/StartDay/EndDay/Weekdays/UseLocalTime/TimeZone/NonStopSession)
    schedule: SessionSchedule | None = None  # None = non-stop

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
    file_store_sync: bool = True  # FileStoreSync (QuickFIX/J): fsync every write
    file_store_max_cached_msgs: int = 10000  # FileStoreMaxCachedMsgs
    file_log_path: str = ""  # FileLogPath
    sql_store_url: str = ""  # fixgate: SQLAlchemy URL built from PostgreSQLStore* or SQLStoreURL
    sql_log_url: str = ""  # fixgate: from PostgreSQLLog* or SQLLogURL
    screen_log: bool = False  # ScreenLogShowIncoming/Outgoing/Events any Y

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
    def is_templated(self) -> bool:
        """An acceptor block whose TargetCompID is ``*``: any counterparty may log on."""
        return self.session_id.target_comp_id == "*"
