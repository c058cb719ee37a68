"""``fixgate venue``: run the internal matching venue as a FIX exchange, and talk to a running one.

``fixgate venue`` with no arguments runs the demo venue of ``session_configs/venue.cfg``:
127.0.0.1:9880, SenderCompID FIXGATE, any client CompID on FIX.4.2, FIX.4.4 and FIXT.1.1/FIX.5.0SP2,
AAPL/MSFT/IBM, the journal in ``fixgate-venue.db`` (SQLite) in the working directory.

Venue keys (application keys of the config's ``[DEFAULT]`` block; errors name ``file:line: Key``):

``VenueName``        the venue's name (default ``FIXGATE``)
``JournalURL``       SQLAlchemy URL of the journal (``sqlite:///fixgate-venue.db``), or
``JournalFile``      a file journal (relative to the config's directory)
``Instruments`` / ``InstrumentsFile``  reference data (``venues.internal.reference_data``)
``AdminPort``        the local admin channel's port on 127.0.0.1 (0 = none)
``PhaseSchedule``    ``continuous`` (the demo) or ``HH:MM PHASE; ...`` entries, e.g.
                     ``08:00 PRE_OPEN; 09:30 CONTINUOUS; 17:30 CLOSING_CALL; 17:35 CLOSED``
                     (``venues.internal.phase_schedule``); ``PhaseScheduleTimeZone`` (default UTC)
``GroupCommit``      ``Y`` to commit the journal once per reactor turn instead of once per command
``GCFreeze``         ``Y`` (default): once the journal is replayed, freeze the objects built so far
                     out of the cyclic garbage collector and raise its young-generation threshold
                     (``fix_engine.gc_tuning``); ``N`` leaves Python's defaults

Per session: ``CancelOnDisconnect=Y`` and ``CancelOnDisconnectScope=day|all``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click

DEFAULT_VENUE_CONFIG = Path(__file__).resolve().parents[1] / "session_configs" / "venue.cfg"
DEFAULT_ADMIN_PORT = 9881


def _fail(message: str) -> click.ClickException:
    return click.ClickException(message)


@dataclass(frozen=True)
class VenueConfig:
    """What ``fixgate venue run`` needs from a config file (validated, with file:line errors)."""

    path: Path
    sessions: list[Any]
    name: str
    journal_url: str | None
    journal_file: Path | None
    instruments: list[Any]
    admin_port: int
    group_commit: bool
    phase_schedule: Any = None  # venues.internal.phase_schedule.PhaseSchedule; None = continuous
    gc_freeze: bool = True


def load_venue_config(path: Path, port: int | None = None) -> VenueConfig:
    """Read a venue config; raises ``click.ClickException`` with ``file:line: Key: problem``."""
    from fix_engine.config import ConfigError, load_config
    from venues.internal.fix_exchange import read_session_options
    from venues.internal.fix_translate import FixVersion
    from venues.internal.reference_data import ReferenceDataError, instruments_from_settings

    try:
        config = load_config(path)
        sessions = [s for s in config.sessions if not s.is_initiator]
        if not sessions:
            raise _fail(f"{path}: no acceptor session to run")
        for s in sessions:
            read_session_options(config, s)
            try:
                FixVersion.of(s.session_id.begin_string)
            except ValueError as exc:
                raise _fail(f"{s.source}: BeginString: {exc}") from None
        first = sessions[0]
        name = config.block_value(first, "VenueName", "FIXGATE") or "FIXGATE"
        journal_url = config.block_value(first, "JournalURL")
        journal_file = config.block_value(first, "JournalFile")
        admin_port = config.get_int(first, "AdminPort", 0) or 0
        if not 0 <= admin_port <= 65535:
            raise config.entry(first, "AdminPort").error(f"{admin_port} is not a port number")  # type: ignore[union-attr]
        schedule_entry = config.entry(first, "PhaseSchedule")
        phase_schedule = None
        if schedule_entry is not None:
            from venues.internal.phase_schedule import PhaseSchedule, PhaseScheduleError

            zone = config.block_value(first, "PhaseScheduleTimeZone", "") or ""
            try:
                phase_schedule = PhaseSchedule.parse(schedule_entry.value, zone)
            except PhaseScheduleError as exc:
                raise schedule_entry.error(str(exc)) from None
        group_commit = bool(config.get_bool(first, "GroupCommit", False))
        gc_freeze = bool(config.get_bool(first, "GCFreeze", True))
        settings = dict(config.entries(first))
        values = {k: e.value for k, e in settings.items()}
        try:
            instruments = instruments_from_settings(values, path.resolve().parent)
        except ReferenceDataError as exc:
            entry = config.entry(first, "InstrumentsFile") or config.entry(first, "Instruments")
            raise (entry.error(str(exc)) if entry is not None else _fail(str(exc))) from None
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    if journal_url and journal_file:
        raise _fail(f"{path}: JournalURL and JournalFile: give one of them")
    if port is not None:
        sessions = [replace(s, socket_accept_port=port) for s in sessions]
    file_path = None
    if journal_file:
        file_path = Path(journal_file)
        if not file_path.is_absolute():
            file_path = path.resolve().parent / file_path
    return VenueConfig(path, sessions, name, journal_url or (None if file_path else "sqlite:///fixgate-venue.db"),
                       file_path, instruments, admin_port, group_commit, phase_schedule, gc_freeze)


def _replay_progress() -> Any:
    """A progress callback for journal replay: a line on stderr every 10% (long replays only)."""
    state = {"shown": -1}

    def progress(done: int, total: int) -> None:
        if total < 10_000:
            return
        tenth = done * 10 // total
        if tenth != state["shown"]:
            state["shown"] = tenth
            print(f"fixgate venue: replaying journal {done:,}/{total:,} commands ({tenth * 10}%)", file=sys.stderr)

    return progress


def open_journal(cfg: VenueConfig) -> Any:
    """The configured journal (SQL by URL, or a file)."""
    if cfg.journal_file is not None:
        from venues.internal.journal import FileJournal

        return FileJournal(cfg.journal_file)
    from venues.internal.journal_sql import SqlJournal

    return SqlJournal(cfg.journal_url)  # type: ignore[arg-type]


class VenueFixService:
    """The venue, its FIX acceptor (a :class:`FixExchange` application) and its admin channel,
    started and stopped together: stop = Logout every session, then flush and close the journal."""

    def __init__(self, cfg: VenueConfig, reactor: Any, *, admin_port: int | None = None) -> None:
        from fix_engine.transport.acceptor import AcceptorService
        from fix_engine.transport.host import SessionRegistry
        from fix_engine.transport.session_builder import SessionBuilder
        from venues.internal.fix_exchange import FixExchange
        from venues.internal.venue import InternalVenue

        self.cfg = cfg
        self.reactor = reactor
        self.journal = open_journal(cfg)
        self.venue = InternalVenue.open(cfg.name, cfg.instruments, self.journal, time.time_ns,
                                        group_commit=cfg.group_commit, progress=_replay_progress())
        self.registry = SessionRegistry()
        self.exchange = FixExchange(self.venue, self.registry, reactor)
        self.builder = SessionBuilder(self.exchange)
        self.acceptor = AcceptorService(cfg.sessions, self.builder, reactor, registry=self.registry)
        self.admin_port = cfg.admin_port if admin_port is None else admin_port
        self.admin_listener: Any = None
        self.listening: Any = None
        self._commit_loop: Any = None
        self._schedule_loop: Any = None

    async def start(self) -> list[int]:
        """Listen (FIX and admin) and start the session timers; returns the FIX ports."""
        from twisted.internet import task

        await self.acceptor.listen()
        self.acceptor.startService()
        if self.admin_port:
            from venues.internal.admin import listen_admin

            self.admin_listener = listen_admin(self.venue, self.admin_port, reactor=self.reactor)
        if self.cfg.group_commit:
            self._commit_loop = task.LoopingCall(self.venue.commit)
            self._commit_loop.clock = self.reactor
            self._commit_loop.start(0.001, now=False)
        schedule = self.cfg.phase_schedule
        if schedule is not None and not schedule.continuous:
            self._schedule_loop = task.LoopingCall(self.apply_phase_schedule)
            self._schedule_loop.clock = self.reactor
            self._schedule_loop.start(1.0, now=True)
        return self.acceptor.bound_ports

    def apply_phase_schedule(self, now: float | None = None) -> None:
        """Move every instrument one legal step toward its scheduled phase; expire DAY orders at the close."""
        from venues.base import TradingPhase
        from venues.internal.phase_schedule import next_step

        schedule = self.cfg.phase_schedule
        if schedule is None or schedule.continuous:
            return
        target = schedule.phase_at(self.reactor.seconds() if now is None else now)
        closed_now = False
        for spec in self.venue.instruments():
            step = next_step(self.venue.phase(spec.symbol), target)
            if step is None:
                continue
            try:
                self.venue.set_phase(spec.symbol, step)
            except Exception as exc:  # an illegal move is reported, never fatal
                print(f"fixgate venue: {spec.symbol}: cannot move to {step.name}: {exc}", file=sys.stderr)
                continue
            closed_now = closed_now or step is TradingPhase.CLOSED
        if closed_now and all(self.venue.phase(s.symbol) is TradingPhase.CLOSED for s in self.venue.instruments()):
            self.venue.end_of_day()

    async def stop(self) -> None:
        from twisted.internet import defer

        if self._commit_loop is not None and self._commit_loop.running:
            self._commit_loop.stop()
        if self._schedule_loop is not None and self._schedule_loop.running:
            self._schedule_loop.stop()
        await defer.maybeDeferred(self.acceptor.stopService)
        if self.admin_listener is not None:
            await defer.maybeDeferred(self.admin_listener.stopListening)
        self.venue.commit()
        self.venue.wait_snapshots()  # a snapshot being written in the background completes first
        self.journal.flush()
        self.journal.close()
        self.builder.close()


# ============================================================================== commands


@click.group("venue", invoke_without_command=True)
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Venue config (default: session_configs/venue.cfg).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Override SocketAcceptPort of every session.")
@click.option("--admin-port", type=click.IntRange(0, 65535), default=None, help="Override AdminPort (0 = no admin channel).")
@click.pass_context
def venue_group(ctx: click.Context, config_path: str | None, port: int | None, admin_port: int | None) -> None:
    """The internal matching venue as a FIX exchange (runs the demo venue when no command is given)."""
    ctx.ensure_object(dict)
    ctx.obj.update(config_path=config_path, port=port, admin_port=admin_port)
    if ctx.invoked_subcommand is None:
        ctx.invoke(run, config_path=config_path, port=port, admin_port=admin_port)


@venue_group.command("run")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Venue config (default: session_configs/venue.cfg).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Override SocketAcceptPort of every session.")
@click.option("--admin-port", type=click.IntRange(0, 65535), default=None, help="Override AdminPort (0 = no admin channel).")
@click.pass_context
def run(ctx: click.Context, config_path: str | None, port: int | None, admin_port: int | None = None) -> None:
    """Run the venue: FIX acceptor, journal, admin channel (Ctrl-C stops it gracefully)."""
    from twisted.internet import defer, reactor

    from fix_engine.logging_setup import start_console_logging

    parent = (ctx.obj or {}) if ctx else {}
    config_path = config_path or parent.get("config_path")
    port = port if port is not None else parent.get("port")
    admin_port = admin_port if admin_port is not None else parent.get("admin_port")
    path = Path(config_path) if config_path else DEFAULT_VENUE_CONFIG
    cfg = load_venue_config(path, port)
    try:
        service = VenueFixService(cfg, reactor, admin_port=admin_port)
    except Exception as exc:  # journal that cannot be opened, bad dictionary, ...
        raise _fail(f"{path}: {exc}") from None

    async def started() -> None:
        try:
            ports = await service.start()
        except Exception as exc:
            click.echo(f"fixgate venue: cannot start: {exc}", err=True)
            reactor.stop()
            return
        if cfg.gc_freeze:
            from fix_engine.gc_tuning import freeze_startup_objects

            freeze_startup_objects()
        admin = f", admin on 127.0.0.1:{service.admin_port}" if service.admin_port else ""
        symbols = " ".join(spec.symbol for spec in service.venue.instruments())
        click.echo(f"fixgate venue {cfg.name}: {len(cfg.sessions)} session template(s) from {path}; "
                   f"instruments {symbols}; listening on port(s) {', '.join(map(str, ports))}{admin}")
        sys.stdout.flush()

    start_console_logging()
    reactor.addSystemEventTrigger("before", "shutdown", lambda: defer.ensureDeferred(service.stop()))
    reactor.callWhenRunning(lambda: defer.ensureDeferred(started()))
    reactor.run()


# ----- talking to a running venue (admin channel) or to its journal (offline)

_admin_options = [
    click.option("--host", default="127.0.0.1", show_default=True, help="Admin channel host."),
    click.option("--admin-port", type=click.IntRange(1, 65535), default=DEFAULT_ADMIN_PORT, show_default=True,
                 help="Admin channel port of the running venue."),
    click.option("--timeout", type=click.FloatRange(0.1, 60), default=5.0, show_default=True),
]


def _with_admin(f: Any) -> Any:
    for option in reversed(_admin_options):
        f = option(f)
    return f


def _admin(host: str, port: int, line: str, timeout: float) -> dict[str, Any]:
    from venues.internal.admin import AdminClientError, admin_request

    try:
        answer = admin_request(host, port, line, timeout)
    except AdminClientError as exc:
        raise _fail(f"{exc} (is 'fixgate venue' running with AdminPort={port}?)") from None
    if not answer.get("ok"):
        raise _fail(str(answer.get("error", "refused")))
    return answer


@venue_group.command("book")
@click.argument("symbol")
@click.option("--depth", type=click.IntRange(1, 1000), default=10, show_default=True)
@_with_admin
def book(symbol: str, depth: int, host: str, admin_port: int, timeout: float) -> None:
    """Print the order book of SYMBOL of a running venue."""
    answer = _admin(host, admin_port, f"book {symbol} {depth}", timeout)
    click.echo(f"{answer['symbol']}  phase {answer['phase']}")
    click.echo(f"{'bid qty':>12} {'bid':>12} | {'ask':<12} {'ask qty':<12}")
    bids, asks = answer.get("bids", []), answer.get("asks", [])
    for i in range(max(len(bids), len(asks))):
        b = bids[i] if i < len(bids) else ["", "", ""]
        a = asks[i] if i < len(asks) else ["", "", ""]
        click.echo(f"{b[1]:>12} {b[0]:>12} | {a[0]:<12} {a[1]:<12}")


@venue_group.command("halt")
@click.argument("symbol")
@click.argument("text", nargs=-1)
@_with_admin
def halt(symbol: str, text: tuple[str, ...], host: str, admin_port: int, timeout: float) -> None:
    """Halt trading in SYMBOL on a running venue."""
    answer = _admin(host, admin_port, " ".join(["halt", symbol, *text]), timeout)
    click.echo(f"{answer['symbol']}: {answer['phase']}")


@venue_group.command("resume")
@click.argument("symbol")
@_with_admin
def resume(symbol: str, host: str, admin_port: int, timeout: float) -> None:
    """Resume trading in SYMBOL on a running venue."""
    answer = _admin(host, admin_port, f"resume {symbol}", timeout)
    click.echo(f"{answer['symbol']}: {answer['phase']}")


@venue_group.group("instruments")
def instruments_group() -> None:
    """List or add instruments (online through the admin channel, or offline in the journal)."""


_offline_option = click.option("--offline", is_flag=True,
                               help="Work on the journal of -c/--config (the venue must not be running).")
_config_option = click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False), default=None,
                              help="Venue config naming the journal (with --offline).")


def _offline_venue(config_path: str | None) -> Any:
    from venues.internal.venue import InternalVenue

    cfg = load_venue_config(Path(config_path) if config_path else DEFAULT_VENUE_CONFIG)
    journal = open_journal(cfg)
    try:
        if journal.last_sequence:
            return InternalVenue.recover(cfg.name, journal, time.time_ns), journal
        return InternalVenue.open(cfg.name, cfg.instruments, journal, time.time_ns), journal
    except Exception as exc:
        journal.close()
        raise _fail(f"journal of {cfg.path}: {exc}") from None


def _print_instruments(rows: list[dict[str, Any]]) -> None:
    click.echo(f"{'symbol':<10}{'tick':>10}{'lot':>8}{'reference':>12}  phase")
    for r in rows:
        click.echo(f"{r['symbol']:<10}{r['tick_size']:>10}{r['lot_size']:>8}{str(r.get('reference_price') or ''):>12}  "
                   f"{r.get('phase', '')}")


@instruments_group.command("list")
@_offline_option
@_config_option
@_with_admin
def instruments_list(offline: bool, config_path: str | None, host: str, admin_port: int, timeout: float) -> None:
    """List the venue's instruments."""
    if offline:
        venue, journal = _offline_venue(config_path)
        try:
            rows = [{**s.to_dict(), "phase": venue.phase(s.symbol).value} for s in venue.instruments()]
        finally:
            journal.close()
    else:
        rows = _admin(host, admin_port, "instruments", timeout)["instruments"]
    _print_instruments(rows)


@instruments_group.command("add")
@click.argument("symbol")
@click.argument("tick_size")
@click.argument("lot_size", default="1")
@click.argument("reference_price", required=False)
@_offline_option
@_config_option
@_with_admin
def instruments_add(symbol: str, tick_size: str, lot_size: str, reference_price: str | None, offline: bool,
                    config_path: str | None, host: str, admin_port: int, timeout: float) -> None:
    """Add an instrument: SYMBOL TICK_SIZE [LOT_SIZE] [REFERENCE_PRICE] (journaled: it survives restarts)."""
    from venues.internal.reference_data import ReferenceDataError, spec_from_fields

    fields = [symbol, tick_size, lot_size] + ([reference_price] if reference_price else [])
    try:
        spec = spec_from_fields(fields)
    except ReferenceDataError as exc:
        raise click.BadParameter(str(exc)) from None
    if offline:
        venue, journal = _offline_venue(config_path)
        try:
            venue.add_instrument(spec)
        except ValueError as exc:
            raise _fail(str(exc)) from None
        finally:
            journal.close()
    else:
        _admin(host, admin_port, "add-instrument " + " ".join(fields), timeout)
    click.echo(f"added {spec.symbol} (tick {spec.tick_size}, lot {spec.lot_size})")
