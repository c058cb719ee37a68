"""The gateway's configuration: one QuickFIX-format ``.cfg`` with gateway keys in ``[DEFAULT]``.

Sessions:

* every **acceptor** ``[SESSION]`` is a client session; its app keys ``Accounts=DEMO1,DEMO2``
  (the accounts it may trade) and ``DefaultAccount=DEMO1`` (used when Account(1) is absent);
  ``SessionType=DropCopy`` makes it a read-only drop-copy session that receives a copy of every
  ExecutionReport of its ``Accounts=`` (``*`` = all; see :mod:`brokers.drop_copy`);
  ``CancelOnDisconnect=Y`` cancels the session's working DAY orders, at every venue, when it
  logs out or its connection drops;
* every **initiator** ``[SESSION]`` is an external venue (``VenueName=XNYS``, default its
  TargetCompID), run by :class:`venues.external.fix_venue.FixVenue`.

Gateway keys, read from the ``[DEFAULT]`` block (errors name ``file:line: Key``):

=================================  =======================================================
``RegistryURL``                    registry database (default ``sqlite:///fixgate.db``; a
                                   relative SQLite path is relative to the working directory)
``OrderJournal``                   client-order identity journal (default ``fixgate-orders.jsonl``)
``InternalVenueName``              name of the internal venue (default ``INTERNAL``); ``N`` /
                                   empty via ``InternalVenue=N`` disables it
``VenueJournal``                   the internal venue's journal: a file path (default
                                   ``fixgate-venue.journal``) or a SQLAlchemy URL (``postgresql...``)
``Instruments`` / ``InstrumentsFile``  internal venue reference data (``"AAPL 0.01 1 100.00;..."``
                                   or a CSV); default the demo set AAPL, MSFT, IBM
``RouteDefault``                   default venue (default: the internal venue)
``Route.<SYMBOL>``                 per-instrument route
``Fund.<ACCOUNT>``                 ``USD:100000000.00,AAPL:1000000`` -- opened and funded on first
                                   start only (when the account does not exist yet)
``MaxOrderQty``, ``MaxOrderNotional``, ``CollarPct``, ``MarketProtectionPct``,
``MinPrice``, ``MaxPrice``         firm limits (absent: no limit)
``MaxLongPosition``,               firm position limits per instrument: holdings + open buys +
``MaxShortPosition``               the order may not exceed ``MaxLongPosition``; open sells + the
                                   order - holdings may not exceed ``MaxShortPosition`` (absent:
                                   no limit)
``FeeBps`` / ``FeeFixed`` /        the firm fee schedule, charged per fill: ``FeeBps`` basis points
``FeeMinimum``                     of the fill's notional plus ``FeeFixed`` per fill, at least
                                   ``FeeMinimum`` (rounded up to the cent; absent: 0).  Booked as
                                   fee legs to the house fees account; buy orders reserve notional
                                   + the fee of one fill, and buying power counts it
``Fees.<ACCOUNT>``                 the account's own schedule, replacing the firm's:
                                   ``bps:2.5,fixed:1.00,min:0`` (keys optional, absent = 0)
``DuplicateWindowSeconds``         duplicate-order detection window (absent: off)
``ThrottleMessages`` / ``ThrottleSeconds``  per-session message throttle (absent: off)
``GCFreeze``                       ``Y`` (default): when ``fixgate run`` starts, the objects built so
                                   far are frozen out of Python's cyclic garbage collector
                                   (``gc.freeze``), so its full collections stop walking them, and
                                   its young-generation threshold is raised from 700 to 5000
``AdminPort``                      the OMS admin channel on 127.0.0.1 (``fixgate oms ...``;
                                   the demo uses 9879; 0 or absent: none)
``RegistryBatchLinger``            milliseconds a small registry batch (under 48 operations) waits
                                   for more before it starts (default 2; 0: at once).  Under a steady
                                   order rate bigger batches cost far less CPU per order; an ack
                                   waits at most this much longer
``RegistryWriterProcess``          ``Y``: the registry writer runs its batches (SQL and the
                                   ``OrderJournal`` appends) in a child Python process, on another
                                   core than the reactor (for machines with cores to spare: it takes
                                   30-40% of the CPU off the gateway process but costs ~17 us/order of
                                   pipe work); ``N`` (default): on one thread of the gateway process
                                   (sharing its GIL).  An in-memory SQLite ``RegistryURL`` cannot be
                                   shared with a child (``Y`` is an error there)
``LimitsJournal``                  where runtime limit edits and kill switches are journaled and
                                   replayed from at start (default ``fixgate-limits.journal`` beside
                                   the ``OrderJournal``; ``N``: not persisted)
``MaxRegistryBacklog``             inbound flow control: when this many registry operations are
                                   waiting (submitted, not yet committed) the gateway stops reading
                                   from its clients' connections -- TCP pushes back on fast senders,
                                   as with QuickFIX's synchronous engine -- until the backlog is
                                   down to ``RegistryBacklogResume`` (default 10000; 0 or ``N``: off)
``RegistryBacklogResume``          the backlog at or below which client input is read again
                                   (default half of ``MaxRegistryBacklog``; below it)
``MaxInputHold``                   milliseconds one continuous hold of a client connection may last
                                   (default 1000, 1-60000; never more than HeartBtInt/4): then that
                                   connection reads again until one message arrived, and is held
                                   again, so held clients are never timed out for silence
=================================  =======================================================

Per external venue (an initiator ``[SESSION]``): ``VenueName``, the dialect keys
(``venues.external.dialect``), and its child-order journal, which lets a restarted gateway map
the exchange's later and resent ExecutionReports back to client orders exactly once:
``ChildOrderJournalPath`` (a file, default ``fixgate-child-orders-<VenueName>.journal`` beside
the ``OrderJournal``, or a SQLAlchemy URL), ``ChildOrderJournalTable`` (SQL: default
``child_orders_<venue>``), ``ChildOrderJournalSync=Y|N`` (fsync every record; default the
session's ``FileStoreSync``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from brokers.client_fix import Entitlement
from brokers.domain.limits import Limits, Throttle
from brokers.oms.context import FeeSchedule, FeeSchedules
from brokers.routing.router import RoutingError, RoutingPolicy
from fix_engine.config import ConfigEntry, ConfigError, SessionConfig, load_config, parse_config
from fix_engine.session.session_id import SessionID
from fix_engine.session.settings import SessionSettings

__all__ = ["GatewayConfig", "ExternalVenueConfig", "demo_config_text", "load_gateway_config"]

DEFAULT_INTERNAL = "INTERNAL"
DEFAULT_MAX_REGISTRY_BACKLOG = 10000
DEMO_ADMIN_PORT = 9879
SESSION_TYPES = ("trading", "dropcopy")


@dataclass(frozen=True)
class ExternalVenueConfig:
    """One external venue: its initiator session and routing name."""

    name: str
    settings: SessionSettings


@dataclass(frozen=True)
class GatewayConfig:
    """Everything :class:`brokers.gateway.Gateway` needs, resolved and checked."""

    source: SessionConfig
    client_sessions: list[SessionSettings]
    entitlements: Mapping[SessionID, Entitlement]
    external_venues: list[ExternalVenueConfig]
    routing: RoutingPolicy
    limits: Limits
    registry_url: str = "sqlite:///fixgate.db"
    order_journal: str = "fixgate-orders.jsonl"
    internal_venue: str | None = DEFAULT_INTERNAL
    venue_journal: str = "fixgate-venue.journal"
    instrument_settings: Mapping[str, str] = field(default_factory=dict)
    base_dir: Path = Path(".")
    funding: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)
    #: drop-copy sessions and the accounts each receives copies for
    drop_copy: Mapping[SessionID, frozenset[str]] = field(default_factory=dict)
    #: client sessions whose working DAY orders are cancelled when they disconnect
    cancel_on_disconnect: frozenset[SessionID] = frozenset()
    admin_port: int = 0
    #: fee schedules: the firm's (``FeeBps``/``FeeFixed``/``FeeMinimum``) and ``Fees.<ACCOUNT>``
    fees: FeeSchedules = field(default_factory=FeeSchedules)
    #: ``GCFreeze``: freeze the startup objects out of the cyclic GC when ``fixgate run`` starts
    gc_freeze: bool = True
    #: ``RegistryBatchLinger``: seconds a small registry batch waits for more operations
    registry_batch_linger: float = 0.002
    #: ``RegistryWriterProcess``: registry batches run in a child process (else on a thread)
    registry_writer_process: bool = False
    #: ``LimitsJournal``: runtime limit edits are journaled here (None: not persisted)
    limits_journal: str | None = None
    #: ``MaxRegistryBacklog``: registry operations waiting at which client input is held (0: off)
    max_registry_backlog: int = DEFAULT_MAX_REGISTRY_BACKLOG
    #: ``RegistryBacklogResume``: the backlog at or below which client input is read again
    registry_backlog_resume: int = DEFAULT_MAX_REGISTRY_BACKLOG // 2
    #: ``MaxInputHold``: seconds one continuous hold of a client connection may last
    max_input_hold: float = 1.0

    @property
    def accounts(self) -> list[str]:
        names: set[str] = set(self.funding)
        for entitlement in self.entitlements.values():
            names |= entitlement.accounts
        return sorted(names)


DEFAULT_LIMITS_JOURNAL = "fixgate-limits.journal"


def _linger(entry: ConfigEntry | None) -> float:
    """``RegistryBatchLinger`` in milliseconds (0-1000) -> seconds."""
    if entry is None:
        return 0.002
    try:
        millis = Decimal(entry.value.strip())
    except InvalidOperation:
        raise entry.error(f"{entry.value!r} is not a number of milliseconds") from None
    if not millis.is_finite() or millis < 0 or millis > 1000:
        raise entry.error(f"{entry.value!r} must be between 0 and 1000 milliseconds")
    return float(millis) / 1000


def _writer_process(entry: ConfigEntry | None, registry_url: str) -> bool:
    """``RegistryWriterProcess`` (default N; Y is an error for an in-memory SQLite registry, which a
    child process cannot share)."""
    from brokers.registry.database import is_memory_database

    try:
        in_memory = is_memory_database(registry_url)
    except Exception:  # noqa: BLE001 - an unparsable URL is reported when the registry is opened
        in_memory = False
    wanted = _bool(entry, False)
    if wanted and in_memory:
        assert entry is not None
        raise entry.error(f"{entry.value!r}: the in-memory SQLite registry {registry_url!r} cannot be shared with a "
                          f"writer process (use N, or a registry file)")
    return wanted


def _count(entry: ConfigEntry, allow_off: bool) -> int:
    """A non-negative whole number of operations (``N`` = 0 when ``allow_off``)."""
    text = entry.value.strip()
    if allow_off and text.upper() == "N":
        return 0
    if not (text.isascii() and text.isdigit()):
        raise entry.error(f"{entry.value!r} is not a whole number of operations" + (" (or N)" if allow_off else ""))
    return int(text)


def _backlog(defaults: Mapping[str, ConfigEntry]) -> tuple[int, int]:
    """``MaxRegistryBacklog`` (0: off) and ``RegistryBacklogResume`` (below it; default half of it)."""
    high_entry = defaults.get("MaxRegistryBacklog")
    high = DEFAULT_MAX_REGISTRY_BACKLOG
    if high_entry is not None and high_entry.value.strip():
        high = _count(high_entry, allow_off=True)
    low_entry = defaults.get("RegistryBacklogResume")
    if low_entry is None or not low_entry.value.strip():
        return high, high // 2
    low = _count(low_entry, allow_off=False)
    if high and low >= high:
        raise low_entry.error(f"{low} must be below MaxRegistryBacklog ({high})")
    return high, low


def _max_input_hold(entry: ConfigEntry | None) -> float:
    """``MaxInputHold`` in milliseconds (1-60000) -> seconds."""
    if entry is None or not entry.value.strip():
        return 1.0
    text = entry.value.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 60000:
        raise entry.error(f"{entry.value!r} must be a whole number of milliseconds between 1 and 60000")
    return int(text) / 1000


def _limits_journal(text: str | None, order_journal: str) -> str | None:
    """``LimitsJournal``: a path, ``N`` (none), or absent: beside the ``OrderJournal``."""
    if text is None or not text.strip():
        return str(Path(order_journal).parent / DEFAULT_LIMITS_JOURNAL)
    return None if text.strip().upper() == "N" else text.strip()


def _decimal(entry: ConfigEntry | None) -> Decimal | None:
    if entry is None or entry.value == "":
        return None
    try:
        value = Decimal(entry.value)
    except InvalidOperation:
        raise entry.error(f"{entry.value!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise entry.error(f"{entry.value!r} must be a non-negative number")
    return value


def _bool(entry: ConfigEntry | None, default: bool) -> bool:
    if entry is None or entry.value == "":
        return default
    value = entry.value.strip().upper()
    if value not in ("Y", "N"):
        raise entry.error(f"{entry.value!r}: expected Y or N")
    return value == "Y"


def _funding(entry: ConfigEntry) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for part in (p.strip() for p in entry.value.split(",")):
        if not part:
            continue
        asset, sep, amount = part.partition(":")
        if not sep:
            raise entry.error(f"{part!r}: expected ASSET:AMOUNT")
        try:
            value = Decimal(amount.strip())
        except InvalidOperation:
            raise entry.error(f"{amount!r} is not a number") from None
        if value <= 0:
            raise entry.error(f"{part!r}: amount must be positive")
        out[asset.strip()] = value
    return out


def _limits(defaults: Mapping[str, ConfigEntry]) -> Limits:
    throttle = None
    messages = defaults.get("ThrottleMessages")
    if messages is not None and messages.value:
        if not messages.value.isdigit() or int(messages.value) < 1:
            raise messages.error(f"{messages.value!r} is not a positive integer")
        seconds = _decimal(defaults.get("ThrottleSeconds")) or Decimal(1)
        throttle = Throttle(int(messages.value), seconds)
    try:
        limits = Limits(
            max_order_qty=_decimal(defaults.get("MaxOrderQty")),
            max_order_notional=_decimal(defaults.get("MaxOrderNotional")),
            collar_pct=_decimal(defaults.get("CollarPct")),
            market_protection_pct=_decimal(defaults.get("MarketProtectionPct")),
            min_price=_decimal(defaults.get("MinPrice")),
            max_price=_decimal(defaults.get("MaxPrice")),
            duplicate_window_seconds=_decimal(defaults.get("DuplicateWindowSeconds")),
            max_long_position=_decimal(defaults.get("MaxLongPosition")),
            max_short_position=_decimal(defaults.get("MaxShortPosition")),
            throttle=throttle,
        )
        limits.check_consistent()
    except ValueError as exc:
        raise ConfigError(str(exc), source=next(iter(defaults.values())).source if defaults else "") from None
    return limits


_FEE_KEYS = {"bps": "bps", "fixed": "fixed", "min": "minimum"}


def _fee_schedule(entry: ConfigEntry) -> FeeSchedule:
    """``Fees.<ACCOUNT>=bps:2.5,fixed:1.00,min:0`` -> FeeSchedule (keys optional, absent = 0)."""
    values: dict[str, Decimal] = {}
    for part in (p.strip() for p in entry.value.split(",")):
        if not part:
            continue
        key, sep, amount = part.partition(":")
        name = _FEE_KEYS.get(key.strip().lower())
        if not sep or name is None:
            raise entry.error(f"{part!r}: expected bps:N, fixed:AMOUNT or min:AMOUNT")
        try:
            value = Decimal(amount.strip())
        except InvalidOperation:
            raise entry.error(f"{amount.strip()!r} is not a number") from None
        if not value.is_finite() or value < 0:
            raise entry.error(f"{part!r}: must be a non-negative number")
        values[name] = value
    return FeeSchedule(**values)


def _fees(defaults: Mapping[str, ConfigEntry]) -> FeeSchedules:
    firm = FeeSchedule(
        bps=_decimal(defaults.get("FeeBps")) or Decimal(0),
        fixed=_decimal(defaults.get("FeeFixed")) or Decimal(0),
        minimum=_decimal(defaults.get("FeeMinimum")) or Decimal(0),
    )
    by_account = {key.split(".", 1)[1]: _fee_schedule(e) for key, e in defaults.items() if key.startswith("Fees.")}
    return FeeSchedules(firm, by_account)


def gateway_config(config: SessionConfig, base_dir: Path | None = None) -> GatewayConfig:
    """Resolve a parsed ``.cfg`` into a :class:`GatewayConfig` (``ConfigError`` on problems)."""
    defaults = config.default_entries

    def value(key: str, default: str | None) -> str | None:
        entry = defaults.get(key)
        return default if entry is None else entry.value

    clients = [s for s in config.sessions if not s.is_initiator]
    if not clients:
        raise ConfigError("no acceptor [SESSION] for clients", source=config.path)
    entitlements: dict[SessionID, Entitlement] = {}
    drop_copy: dict[SessionID, frozenset[str]] = {}
    cancel_on_disconnect: set[SessionID] = set()
    for s in clients:
        accounts = frozenset(config.get_list(s, "Accounts"))
        kind_entry = config.entry(s, "SessionType")
        kind = (kind_entry.value if kind_entry is not None else "Trading").replace("_", "").replace("-", "").lower()
        if kind not in SESSION_TYPES:
            assert kind_entry is not None
            raise kind_entry.error(f"{kind_entry.value!r}: expected Trading or DropCopy")
        if kind == "dropcopy":
            if not accounts:
                raise ConfigError(f"{s.session_id}: a DropCopy session needs Accounts= (or Accounts=*)",
                                  source=config.path)
            drop_copy[s.session_id] = accounts
            continue
        if config.get_bool(s, "CancelOnDisconnect", False):
            cancel_on_disconnect.add(s.session_id)
        default = config.block_value(s, "DefaultAccount") or None
        if default is not None and accounts and default not in accounts:
            entry = config.entry(s, "DefaultAccount")
            assert entry is not None
            raise entry.error(f"{default!r} is not one of Accounts ({', '.join(sorted(accounts))})")
        if default is not None:
            accounts = accounts | {default}
        entitlements[s.session_id] = Entitlement(accounts, default)
    externals = [
        ExternalVenueConfig(config.block_value(s, "VenueName") or s.session_id.target_comp_id, s)
        for s in config.sessions if s.is_initiator
    ]
    for ext in externals:  # checked here so that a bad value names its file and line
        config.get_bool(ext.settings, "ChildOrderJournalSync")
    internal_flag = value("InternalVenue", "Y")
    internal = None if (internal_flag or "").upper() == "N" else value("InternalVenueName", DEFAULT_INTERNAL)
    venues = {v.name for v in externals} | ({internal} if internal else set())
    by_symbol = {key.split(".", 1)[1]: e.value for key, e in defaults.items() if key.startswith("Route.")}
    route_default = value("RouteDefault", internal)
    try:
        policy = RoutingPolicy.of(venues, route_default or None, by_symbol)
    except RoutingError as exc:
        entry = defaults.get("RouteDefault") or next((e for k, e in defaults.items() if k.startswith("Route.")), None)
        raise (entry.error(str(exc)) if entry is not None else ConfigError(str(exc), source=config.path)) from None
    funding = {key.split(".", 1)[1]: _funding(e) for key, e in defaults.items() if key.startswith("Fund.")}
    admin_port = 0
    admin_entry = defaults.get("AdminPort")
    if admin_entry is not None and admin_entry.value:
        if not admin_entry.value.isdigit() or not 0 <= int(admin_entry.value) <= 65535:
            raise admin_entry.error(f"{admin_entry.value!r} is not a port number")
        admin_port = int(admin_entry.value)
    registry_url = value("RegistryURL", "sqlite:///fixgate.db") or "sqlite:///fixgate.db"
    max_backlog, backlog_resume = _backlog(defaults)
    return GatewayConfig(
        source=config,
        client_sessions=clients,
        entitlements=entitlements,
        external_venues=externals,
        routing=policy,
        limits=_limits(defaults),
        registry_url=registry_url,
        registry_writer_process=_writer_process(defaults.get("RegistryWriterProcess"), registry_url),
        order_journal=value("OrderJournal", "fixgate-orders.jsonl") or "fixgate-orders.jsonl",
        registry_batch_linger=_linger(defaults.get("RegistryBatchLinger")),
        limits_journal=_limits_journal(value("LimitsJournal", None),
                                       value("OrderJournal", "fixgate-orders.jsonl") or "fixgate-orders.jsonl"),
        internal_venue=internal,
        venue_journal=value("VenueJournal", "fixgate-venue.journal") or "fixgate-venue.journal",
        instrument_settings={k: defaults[k].value for k in ("Instruments", "InstrumentsFile") if k in defaults},
        base_dir=base_dir or Path("."),
        funding=funding,
        drop_copy=drop_copy,
        cancel_on_disconnect=frozenset(cancel_on_disconnect),
        admin_port=admin_port,
        fees=_fees(defaults),
        gc_freeze=_bool(defaults.get("GCFreeze"), True),
        max_registry_backlog=max_backlog,
        registry_backlog_resume=backlog_resume,
        max_input_hold=_max_input_hold(defaults.get("MaxInputHold")),
    )


def load_gateway_config(path: str | Path) -> GatewayConfig:
    """Read a gateway ``.cfg`` file (FileStorePath etc. relative to its directory)."""
    config = load_config(path)
    return gateway_config(config, Path(path).resolve().parent)


DEMO_PORT = 9878


def demo_config_text(port: int = DEMO_PORT, store_dir: str = "store", log_dir: str = "log") -> str:
    """The demo gateway: CLIENT1 (DEMO1) and CLIENT2 (DEMO2) on FIX.4.4, FIX.4.2 and FIXT.1.1."""
    sessions = []
    for client, account in (("CLIENT1", "DEMO1"), ("CLIENT2", "DEMO2")):
        sessions.append(f"[SESSION]\nBeginString=FIX.4.4\nTargetCompID={client}\nDataDictionary=FIX44.xml\n"
                        f"Accounts={account}\nDefaultAccount={account}\n")
        sessions.append(f"[SESSION]\nBeginString=FIX.4.2\nTargetCompID={client}\nDataDictionary=FIX42.xml\n"
                        f"Accounts={account}\nDefaultAccount={account}\n")
        sessions.append(f"[SESSION]\nBeginString=FIXT.1.1\nTargetCompID={client}\nDefaultApplVerID=FIX.5.0SP2\n"
                        f"TransportDataDictionary=FIXT11.xml\nAppDataDictionary=FIX50SP2.xml\n"
                        f"Accounts={account}\nDefaultAccount={account}\n")
    funding = "USD:100000000.00,AAPL:1000000,MSFT:1000000,IBM:1000000"
    return f"""# fixgate broker gateway (the demo `fixgate run` starts without -c).
# Gateway keys live in [DEFAULT]; see brokers/gateway_config.py for every key.
# Registry and journals are files in the working directory; FileStorePath/FileLogPath are
# relative to this file's directory.

[DEFAULT]
ConnectionType=acceptor
SenderCompID=FIXGATE
SocketAcceptAddress=127.0.0.1
SocketAcceptPort={port}
SocketReuseAddress=Y
StartTime=00:00:00
EndTime=00:00:00
HeartBtInt=30
UseDataDictionary=Y
ValidateUserDefinedFields=N
FileStorePath={store_dir}
FileLogPath={log_dir}
ScreenLogShowIncoming=N
ScreenLogShowOutgoing=N
ScreenLogShowEvents=N
# --- gateway
RegistryURL=sqlite:///fixgate.db
OrderJournal=fixgate-orders.jsonl
InternalVenueName=INTERNAL
VenueJournal=fixgate-venue.journal
Instruments=AAPL 0.01 1 100.00;MSFT 0.01 1 100.00;IBM 0.01 1 100.00
RouteDefault=INTERNAL
Fund.DEMO1={funding}
Fund.DEMO2={funding}
# Limits: generous (a load test of identical orders near 100.00 passes); duplicate-order
# detection (DuplicateWindowSeconds) and throttles (ThrottleMessages/ThrottleSeconds) are off.
MaxOrderQty=1000000
MaxOrderNotional=50000000
CollarPct=50
# Position limits per instrument (MaxLongPosition / MaxShortPosition, counting open orders): off.
# Fees per fill (FeeBps / FeeFixed / FeeMinimum; per account Fees.<ACCOUNT>=bps:N,fixed:X,min:Y): none.
# OMS admin channel on 127.0.0.1 (fixgate oms limits/kill/release); 0 = none
AdminPort={DEMO_ADMIN_PORT}

""" + "\n".join(sessions)


def demo_config(port: int = DEMO_PORT, base_dir: Path | None = None) -> GatewayConfig:
    """The demo configuration, with stores and logs under ``base_dir`` (default: working directory)."""
    base = (base_dir or Path.cwd()).resolve()
    text = demo_config_text(port)
    return gateway_config(parse_config(text, "<demo gateway>", base_dir=base), base)
