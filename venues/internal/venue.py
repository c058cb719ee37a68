"""InternalVenue: the matching core as a service - sequencing, journal, clock, events, market data.

Every accepted command - orders, cancels, operator actions - goes through one path:

1. it gets the next sequence number and the venue clock's timestamp;
2. it is appended to the :class:`~venues.internal.journal.Journal` (durable before anything else
   happens, unless group commit is on - then it is buffered);
3. it is applied to the matching engine (through the Decimal edge) and the venue's own state
   (kill switches, order views, market data);
4. its events are delivered synchronously, in sequence order, to every venue listener and then its
   market data to every market data listener.  With ``group_commit=True`` step 4 waits for
   :meth:`InternalVenue.commit`, which first makes the journal durable.

Snapshots are saved every ``snapshot_every`` commands.  With ``background_snapshots`` (the FIX
front turns it on under group commit) a due snapshot is taken at the next :meth:`commit` - between
reactor batches, after the acks - and only the capture (the state as plain data plus the engine's
hash) runs there; encoding, the rest of the state hash and the file write run in a thread.

The hot path avoids per-event work that does not change the result: the journal record of a new
order is built as JSON text directly (:func:`records.encode_bytes`, byte-identical to the dict
encoding), Decimal <-> integer conversions are cached per instrument, and order views and market
data are updated in place.  Level diffs (:class:`BookLevelChanged`) are computed only for the
instruments some market data listener reads them of (all of them for a listener subscribed with
``book_levels=True``, the default; those named with :meth:`InternalVenue.publish_book_levels` for
the FIX market data service), and frozen result objects are built through
:mod:`venues.internal.fast_init`.

Recovery (:meth:`InternalVenue.recover`) loads the latest snapshot, checks it reproduces the state
hash recorded with it, and replays the rest of the journal strictly by sequence with the journaled
timestamps - so the engine's id counters (ExecIDs, OrderIDs) continue exactly where they were.

Operator actions are validated *before* they are journaled (unknown symbol -> ``UnknownInstrument``,
illegal phase change -> ``PhaseTransitionError``), so replay never meets a failing command.  Under
group commit they commit at once (with everything buffered before them).

Listeners may call back into the venue: events caused by such nested commands are queued behind
the ones being delivered, so every listener always sees sequence order.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from venues import base
from venues.base import (
    CancelReason,
    CancelRequest,
    MassCancelRequest,
    OrderRequest,
    RejectReason,
    ReplaceRequest,
    SelfTradePrevention,
    TimeInForce,
    TradingPhase,
    Venue,
    VenueListener,
)
from venues.internal.matching import (
    AdvanceTime,
    CancelOrder,
    DecimalEdge,
    EndOfDay,
    Halt,
    MatchingEngine,
    NewOrder,
    OffGridError,
    PhaseTransitionError,
    Resume,
    SetPhase,
    SetReferencePrice,
    UnknownInstrument,
)
from venues.internal.matching import events as raw
from venues.internal.matching.edge import _lots, _ticks
from venues.internal.matching.phases import can_move

from . import records
from .fast_init import positional_constructor
from .journal import Journal, JournalError
from .market_data import (
    BookLevelChanged,
    BookView,
    Level,
    MarketData,
    MarketDataEvent,
    MarketStats,
    PhaseChangedMD,
    StatsChanged,
    TradePrinted,
)
from .order_views import OrderView, OrderViews
from .records import (
    AddInstrument,
    ChangePhase,
    DayEnd,
    HaltInstrument,
    KillSwitch,
    OwnerDisconnected,
    ResumeInstrument,
    SetReference,
    TimeTick,
    VenueCommand,
)
from .reference_data import InstrumentSpec
from .snapshot import SnapshotError, decode_state, dump_engine, encode_state, load_engine

__all__ = [
    "BookLevelChanged",
    "BookView",
    "InstrumentSpec",
    "InternalVenue",
    "Level",
    "MarketDataEvent",
    "MarketDataListener",
    "MarketStats",
    "OffGridError",
    "OrderView",
    "PhaseChangedMD",
    "PhaseTransitionError",
    "SnapshotError",
    "StatsChanged",
    "TradePrinted",
    "UnknownInstrument",
]

MarketDataListener = Callable[[MarketDataEvent], None]

KILL_SWITCH_TEXT = "kill switch active"
"""Text of the Rejected event for a new order blocked by a kill switch."""

_DAY_TIFS = frozenset({TimeInForce.DAY, TimeInForce.OPG, TimeInForce.ATC})
_PROGRESS_EVERY = 1000
_CACHE_LIMIT = 4096  # entries per Decimal <-> integer cache and instrument (cleared when full)


def _hash_of(engine_hash: str, parts: list[Any]) -> str:
    """The venue state hash: the engine's hash and the venue's own state (specs, kill switches,
    order views, statistics) as compact JSON."""
    extra = json.dumps(parts, separators=(",", ":"))
    return hashlib.sha256(f"{engine_hash}|{extra}".encode()).hexdigest()


class _Conv:
    """Per-instrument Decimal <-> integer caches (same values as the Instrument's own conversions)."""

    __slots__ = ("inst", "px", "qty", "ticks", "lots")

    def __init__(self, inst: Any) -> None:
        self.inst = inst
        self.px: dict[int, Decimal] = {}  # ticks -> price
        self.qty: dict[int, Decimal] = {}  # lots -> quantity
        self.ticks: dict[Decimal, int] = {}  # price -> ticks (on-grid prices only)
        self.lots: dict[Decimal, int] = {}  # qty -> lots (valid quantities only)

    def price(self, ticks: int) -> Decimal:
        v = self.px.get(ticks)
        if v is None:
            if len(self.px) >= _CACHE_LIMIT:
                self.px.clear()
            v = self.px[ticks] = self.inst.ticks_to_price(ticks)
        return v

    def quantity(self, lots: int) -> Decimal:
        v = self.qty.get(lots)
        if v is None:
            if len(self.qty) >= _CACHE_LIMIT:
                self.qty.clear()
            v = self.qty[lots] = self.inst.lots_to_qty(lots)
        return v


_accepted = positional_constructor(base.Accepted)
_fill = positional_constructor(base.Fill)
_cancelled = positional_constructor(base.Cancelled)


class _FastEdge(DecimalEdge):
    """:class:`DecimalEdge` with cached conversions for the hot commands and events (new orders,
    acks, fills, cancels); everything else goes through the plain edge.  Results are identical."""

    def __init__(self, engine: MatchingEngine) -> None:
        super().__init__(engine)
        self._conv: dict[str, _Conv] = {}

    def conv(self, symbol: str | None) -> _Conv | None:
        c = self._conv.get(symbol)  # type: ignore[arg-type]
        if c is None:
            inst = self._instrument(symbol)
            if inst is None:
                return None
            c = self._conv[symbol] = _Conv(inst)  # type: ignore[index]
        return c

    def to_command(self, request: base.VenueRequest) -> Any:
        if type(request) is not OrderRequest:
            return super().to_command(request)
        c = self.conv(request.symbol)
        if (
            c is None
            or request.stop_px is not None
            or request.display_qty is not None
            or request.min_qty is not None
        ):
            return super().to_command(request)
        qty = request.qty
        lots = c.lots.get(qty)
        if lots is None:
            lots = _lots(c.inst, qty)
            if lots > 0:
                if len(c.lots) >= _CACHE_LIMIT:
                    c.lots.clear()
                c.lots[qty] = lots
        price = request.price
        if price is None:
            ticks = 0
        else:
            ticks = c.ticks.get(price)  # type: ignore[assignment]
            if ticks is None:
                ticks = _ticks(c.inst, price)
                if ticks > 0:
                    if len(c.ticks) >= _CACHE_LIMIT:
                        c.ticks.clear()
                    c.ticks[price] = ticks
        return NewOrder(
            request.symbol, request.owner, request.cl_ord_id, request.side, lots, ticks, request.ord_type,
            request.tif, request.account, request.stp_group, 0, request.expire_time or 0, 0, 0,
            request.post_only, request.stp,
        )  # fmt: skip

    def to_event(self, event: raw.Event) -> base.VenueEvent:
        kind = type(event)
        if kind is raw.Accepted:
            c = self._conv.get(event.symbol) or self.conv(event.symbol)  # type: ignore[arg-type]
            if c is not None:
                e: Any = event
                return _accepted(
                    e.ts, e.symbol, str(e.order_id), e.owner, e.cl_ord_id, str(e.exec_id), e.side, e.ord_type, e.tif,
                    c.quantity(e.qty), c.price(e.price) if e.price > 0 else None,
                    c.price(e.stop_px) if e.stop_px > 0 else None,
                )  # fmt: skip
        elif kind is raw.Fill:
            c = self._conv.get(event.symbol) or self.conv(event.symbol)  # type: ignore[arg-type]
            if c is not None:
                e = event
                if e.notional == e.last_px * e.cum_qty:  # all at one price: the same Decimal, cached
                    avg = c.price(e.last_px)
                else:
                    avg = Decimal(e.notional) / Decimal(e.cum_qty) * c.inst.tick_size
                return _fill(
                    e.ts, e.symbol, str(e.order_id), e.owner, e.cl_ord_id, str(e.exec_id), e.side, str(e.match_id),
                    c.quantity(e.last_qty), c.price(e.last_px), c.quantity(e.cum_qty), c.quantity(e.leaves_qty), avg,
                    e.liquidity, e.account,
                )  # fmt: skip
        elif kind is raw.Cancelled:
            c = self._conv.get(event.symbol) or self.conv(event.symbol)  # type: ignore[arg-type]
            if c is not None:
                e = event
                return _cancelled(
                    e.ts, e.symbol, str(e.order_id), e.owner, e.cl_ord_id, e.orig_cl_ord_id, str(e.exec_id), e.side,
                    c.quantity(e.cum_qty) if e.cum_qty else Decimal(0), c.quantity(e.cancelled_qty), e.reason,
                )  # fmt: skip
        return super().to_event(event)


class InternalVenue(Venue):
    """The internal matching venue: a journaled, sequenced :class:`MatchingEngine` with market data.

    ``instruments`` are journaled as the first commands of a new (empty) journal; a journal that
    already holds commands must be opened with :meth:`recover` (or :meth:`open`).  ``clock_ns``
    stamps every command (integer nanoseconds); ``snapshot_every`` commands a snapshot is saved.
    """

    def __init__(
        self,
        name: str = "INTERNAL",
        instruments: Iterable[InstrumentSpec] = (),
        journal: Journal | None = None,
        clock_ns: Callable[[], int] | None = None,
        *,
        stp_defaults: Mapping[str, SelfTradePrevention] | None = None,
        snapshot_every: int = 100_000,
        group_commit: bool = False,
    ) -> None:
        if journal is None or clock_ns is None:
            raise TypeError("InternalVenue needs a journal and a clock_ns")
        if journal.last_sequence:
            raise JournalError(f"journal holds {journal.last_sequence} commands: use InternalVenue.recover()")
        self._setup(name, journal, clock_ns, stp_defaults, snapshot_every, group_commit)
        for spec in instruments:
            self.add_instrument(spec)

    def _setup(
        self,
        name: str,
        journal: Journal,
        clock_ns: Callable[[], int],
        stp_defaults: Mapping[str, SelfTradePrevention] | None,
        snapshot_every: int,
        group_commit: bool,
    ) -> None:
        self._name = name
        self._journal = journal
        self._clock = clock_ns
        self._stp_defaults = dict(stp_defaults or {})
        self.snapshot_every = snapshot_every
        self.group_commit = group_commit
        self._engine = MatchingEngine(stp_defaults=self._stp_defaults)
        self._edge = _FastEdge(self._engine)
        #: level diffs are computed only for instruments a market data listener reads them of:
        #: None = every instrument (a listener subscribed with ``book_levels=True``)
        self._md_levels: set[str] | None = set()
        self._md = self._new_market_data()
        self._views = OrderViews()
        self._specs: dict[str, InstrumentSpec] = {}
        self._kills: list[tuple[str | None, str | None]] = []  # (account, owner); None = any
        self._seq = 0
        self._snap_seq = 0
        #: take due snapshots at the next :meth:`commit` (between reactor batches) instead of inside
        #: the command that made them due, and encode/write them in a background thread (journals
        #: with ``write_snapshot`` only; the state and its hash are captured on the caller's thread)
        self.background_snapshots = False
        self._snapshot_due = False
        self._snapshot_thread: threading.Thread | None = None
        self.snapshot_errors: list[BaseException] = []
        self._listeners: list[VenueListener] = []
        self._md_listeners: list[MarketDataListener] = []
        self._held: list[tuple[list[base.VenueEvent], list[MarketDataEvent]]] = []
        self._outbox: deque[tuple[bool, list[Any]]] = deque()
        self._delivering = False

    # ------------------------------------------------------------------ construction

    @classmethod
    def recover(
        cls,
        name: str,
        journal: Journal,
        clock_ns: Callable[[], int],
        *,
        progress: Callable[[int, int], None] | None = None,
        use_snapshot: bool = True,
        **kw: Any,
    ) -> InternalVenue:
        """Rebuild a venue from its journal: latest snapshot (hash verified) + replay by sequence.

        ``progress(done, total)`` is called every 1000 replayed commands and at the end.  No event
        of the replayed commands is delivered.  ``use_snapshot=False`` replays from the start.
        Raises :class:`SnapshotError` when the snapshot does not reproduce its state hash.
        """
        venue = cls.__new__(cls)
        venue._setup(
            name, journal, clock_ns, kw.pop("stp_defaults", None), kw.pop("snapshot_every", 100_000),
            kw.pop("group_commit", False),
        )  # fmt: skip
        if kw:
            raise TypeError(f"unexpected arguments: {', '.join(kw)}")
        start = 1
        snap = journal.latest_snapshot() if use_snapshot else None
        if snap is not None:
            venue._restore(decode_state(snap.state))
            if venue.state_hash() != snap.state_hash:
                raise SnapshotError(f"snapshot at {snap.seq} does not reproduce its state hash")
            venue._seq = venue._snap_seq = snap.seq
            start = snap.seq + 1
        total = journal.last_sequence - start + 1
        done = 0
        for rec in journal.read_from(start):
            if rec.seq != venue._seq + 1:
                raise JournalError(f"journal gap: record {rec.seq} after {venue._seq}")
            venue._apply(records.decode(rec.decode()), rec.seq, rec.ts)
            venue._seq = rec.seq
            done += 1
            if progress is not None and done % _PROGRESS_EVERY == 0:
                progress(done, total)
        if progress is not None:
            progress(done, total)
        return venue

    @classmethod
    def open(
        cls,
        name: str,
        instruments: Iterable[InstrumentSpec],
        journal: Journal,
        clock_ns: Callable[[], int],
        **kw: Any,
    ) -> InternalVenue:
        """Recover from ``journal`` if it holds commands, else start fresh; then add every configured
        instrument the venue does not hold yet (configured ones already held are left as they are)."""
        if journal.last_sequence:
            venue = cls.recover(name, journal, clock_ns, **kw)
        else:
            kw.pop("progress", None)
            kw.pop("use_snapshot", None)
            venue = cls(name, (), journal, clock_ns, **kw)
        for spec in instruments:
            if spec.symbol not in venue._specs:
                venue.add_instrument(spec)
        return venue

    # ------------------------------------------------------------------ Venue API

    @property
    def name(self) -> str:
        return self._name

    @property
    def last_sequence(self) -> int:
        """Sequence number of the last accepted (journaled) command."""
        return self._seq

    @property
    def journal(self) -> Journal:
        """The venue's journal."""
        return self._journal

    def subscribe(self, listener: VenueListener) -> None:
        self._listeners.append(listener)

    def subscribe_market_data(self, listener: MarketDataListener, *, book_levels: bool = True) -> None:
        """Deliver every future market data event to ``listener`` (after the command's venue events).

        ``book_levels=False``: the listener needs :class:`BookLevelChanged` only for the instruments
        it names with :meth:`publish_book_levels` (the venue then skips the level diffs of the
        others, a few microseconds per command; prints, statistics and phases always flow)."""
        self._md_listeners.append(listener)
        if book_levels and self._md_levels is not None:
            self._md_levels = None
            self._md.track_all_levels()

    def publish_book_levels(self, symbol: str) -> None:
        """Publish :class:`BookLevelChanged` for ``symbol`` from now on, relative to its book now
        (what :meth:`book_levels` returns right after this call)."""
        if self._md_levels is not None and symbol not in self._md_levels:
            self._md_levels.add(symbol)
            self._md.track_levels(symbol)

    def submit(self, request: OrderRequest) -> None:
        self._run(request)

    def cancel(self, request: CancelRequest) -> None:
        self._run(request)

    def replace(self, request: ReplaceRequest) -> None:
        self._run(request)

    def mass_cancel(self, request: MassCancelRequest) -> None:
        self._run(request)

    def commit(self) -> None:
        """Group commit: make the journal durable, then deliver the held events in sequence order.

        Without group commit there is nothing to do (every command is committed by itself)."""
        if not self._held:
            if self._snapshot_due:
                self.snapshot()
            return
        self._journal.flush()
        held, self._held = self._held, []
        for events, md in held:
            self._enqueue(events, md)
        self._drain()
        if self._snapshot_due and not self._delivering:
            self.snapshot()

    # ------------------------------------------------------------------ queries

    def instruments(self) -> list[InstrumentSpec]:
        """Reference data of every instrument, in the order they were added."""
        return list(self._specs.values())

    def instrument(self, symbol: str) -> InstrumentSpec | None:
        """Reference data of one instrument, or None."""
        return self._specs.get(symbol)

    def order_status(
        self, owner: str, cl_ord_id: str | None = None, order_id: str | None = None
    ) -> OrderView | None:
        """An order of ``owner`` (of today) named by venue ``order_id`` or by any ClOrdID it had."""
        return self._views.get(owner, cl_ord_id, order_id)

    def has_order(self, owner: str, cl_ord_id: str) -> bool:
        """True when ``owner`` used ``cl_ord_id`` for an order of today (``order_status`` is not None)."""
        return self._views.has_client_id(owner, cl_ord_id)

    def working_orders(
        self, owner: str | None = None, account: str | None = None, symbol: str | None = None
    ) -> list[OrderView]:
        """Working orders matching every given filter, in entry order."""
        return self._views.working(owner, account, symbol)

    def book_levels(self, symbol: str, depth: int | None = None) -> BookView:
        """Aggregated displayed levels, best first (``UnknownInstrument`` for an unknown symbol)."""
        self._known(symbol)
        return self._md.book(symbol, depth)

    def market_stats(self, symbol: str) -> MarketStats:
        """Statistics of the day of an instrument."""
        self._known(symbol)
        return self._md.stats(symbol)

    def phase(self, symbol: str) -> TradingPhase:
        """The trading phase of an instrument."""
        return self._engine.phase(symbol)

    def kill_switches(self) -> list[tuple[str | None, str | None]]:
        """Active kill switches as ``(account, owner)`` pairs (None = any)."""
        return list(self._kills)

    def state_hash(self) -> str:
        """SHA-256 over the engine's state hash and the venue's own state (instruments, kill
        switches, order views, statistics)."""
        return _hash_of(
            self._engine.state_hash(), [self._specs_dump(), self._kills, self._views.dump(), self._md.dump()]
        )

    def _specs_dump(self) -> list[dict[str, Any]]:
        return [s.to_dict() for s in self._specs.values()]

    def check_invariants(self) -> None:
        """Raise AssertionError when the books, the published market data or the views disagree."""
        self._engine.check_invariants()
        self._md.check()
        live = {str(oid) for sym in self._engine.symbols() for oid in self._engine.book(sym).orders}
        assert set(self._views.working_ids()) == live, "order views out of step with the books"

    # ------------------------------------------------------------------ operations

    def add_instrument(self, spec: InstrumentSpec) -> None:
        """Start trading an instrument (journaled; ValueError if present or inconsistent)."""
        if spec.symbol in self._specs:
            raise ValueError(f"instrument {spec.symbol} already present")
        spec.to_instrument()
        self._run(AddInstrument(spec), commit=True)

    def set_reference_price(self, symbol: str, price: Decimal) -> None:
        """Set the reference price the price bands are measured from."""
        self._known(symbol)
        self._engine.instrument(symbol).price_to_ticks(price)  # OffGridError if off the grid
        self._run(SetReference(symbol, price), commit=True)

    def halt(self, symbol: str, text: str = "") -> None:
        """Halt an instrument (orders keep accumulating; no matching)."""
        if not can_move(self.phase(symbol), TradingPhase.HALTED):
            raise PhaseTransitionError(f"{symbol}: cannot halt in {self.phase(symbol).name}")
        self._run(HaltInstrument(symbol, text), commit=True)

    def resume(self, symbol: str) -> None:
        """End a halt (through a resumption auction when it interrupted continuous trading)."""
        if self.phase(symbol) is not TradingPhase.HALTED:
            raise PhaseTransitionError(f"{symbol}: not halted")
        self._run(ResumeInstrument(symbol), commit=True)

    def set_phase(self, symbol: str, phase: TradingPhase) -> None:
        """Move an instrument to ``phase`` (through an auction where the transition table says so)."""
        if not self._engine.can_set_phase(symbol, phase):
            raise PhaseTransitionError(f"{symbol}: no transition {self.phase(symbol).name} -> {phase.name}")
        self._run(ChangePhase(symbol, phase), commit=True)

    def end_of_day(self) -> None:
        """DAY (and leftover OPG/ATC) orders expire; statistics close; done order views are dropped."""
        self._run(DayEnd(), commit=True)

    def advance_time(self) -> None:
        """Let the venue clock act: GTD orders due by now expire."""
        self._run(TimeTick(), commit=True)

    def kill_switch(self, *, account: str | None = None, owner: str | None = None) -> int:
        """Cancel every working order of the account and/or owner and refuse their new orders
        (Rejected, text "kill switch active") until released.  Returns the number cancelled."""
        if account is None and owner is None:
            raise ValueError("kill switch needs an account or an owner")
        return int(self._run(KillSwitch(True, account, owner), commit=True))

    def release_kill_switch(self, *, account: str | None = None, owner: str | None = None) -> None:
        """Release a kill switch set with the same arguments."""
        if account is None and owner is None:
            raise ValueError("kill switch needs an account or an owner")
        self._run(KillSwitch(False, account, owner), commit=True)

    def owner_disconnected(
        self, owner: str, *, day_only: bool = True, reason: CancelReason = CancelReason.CANCEL_ON_DISCONNECT
    ) -> int:
        """Cancel-on-disconnect: cancel the owner's working DAY/OPG/ATC orders (all with
        ``day_only=False``); each Cancelled carries ``reason`` (ExecRestatementReason 12, or 13 for
        CANCEL_ON_LOGOUT).  Returns the number cancelled."""
        return int(self._run(OwnerDisconnected(owner, day_only, reason), commit=True))

    def snapshot(self) -> None:
        """Save a snapshot of the current state now (also done every ``snapshot_every`` commands).

        With :attr:`background_snapshots` the state is captured here (plain data, independent of the
        live state) together with its hash, and encoded and written by a background thread; the
        journal is flushed first, so the snapshot never covers a record that is not durable."""
        self._snapshot_due = False
        views, md = self._views.dump(), self._md.dump()
        state = self._dump(views, md)  # plain data, shares nothing mutable with the live state
        parts = [state["specs"], list(self._kills), views, md]
        engine_hash = self._engine.state_hash()
        seq = self._seq
        self._snap_seq = seq
        write = getattr(self._journal, "write_snapshot", None)
        if not self.background_snapshots or write is None:
            self._journal.save_snapshot(seq, encode_state(state), _hash_of(engine_hash, parts))
            return
        self.wait_snapshots()
        self._journal.flush()

        def run() -> None:
            try:
                write(seq, encode_state(state), _hash_of(engine_hash, parts))
            except BaseException as exc:  # noqa: BLE001 - reported through snapshot_errors
                self.snapshot_errors.append(exc)

        self._snapshot_thread = threading.Thread(target=run, name=f"{self._name}-snapshot", daemon=True)
        self._snapshot_thread.start()

    def wait_snapshots(self) -> None:
        """Wait until a snapshot being written in the background is on disk."""
        t = self._snapshot_thread
        if t is not None:
            t.join()
            self._snapshot_thread = None

    # ------------------------------------------------------------------ the command path

    def _known(self, symbol: str) -> None:
        if symbol not in self._specs:
            raise UnknownInstrument(symbol)

    def _run(self, command: VenueCommand, *, commit: bool = False) -> Any:
        seq = self._seq + 1
        ts = self._clock()
        self._journal.append(seq, records.encode_bytes(command), ts, flush=not self.group_commit)
        self._seq = seq
        events, md, result = self._apply(command, seq, ts)
        if self.group_commit:
            self._held.append((events, md))
            if commit:
                self.commit()
        else:
            self._enqueue(events, md)
        if self.snapshot_every and seq - self._snap_seq >= self.snapshot_every:
            if self.background_snapshots and self.group_commit:
                self._snapshot_due = True  # taken by the next commit, after this batch's acks
            else:
                self.snapshot()
        if not self.group_commit:
            self._drain()
        return result

    def _enqueue(self, events: list[base.VenueEvent], md: list[MarketDataEvent]) -> None:
        out = self._outbox
        if events:
            out.append((True, events))
        if md:
            out.append((False, md))

    def _drain(self) -> None:
        if self._delivering:
            return  # an outer call is delivering: it will reach these events in order
        self._delivering = True
        try:
            out = self._outbox
            while out:
                is_venue, items = out.popleft()  # one command's venue events, or its market data
                listeners = self._listeners if is_venue else self._md_listeners
                for i, item in enumerate(items):
                    try:
                        for listener in listeners:
                            listener(item)
                    except BaseException:
                        if i + 1 < len(items):
                            out.appendleft((is_venue, items[i + 1 :]))  # the rest stays queued
                        raise
        finally:
            self._delivering = False

    def _apply(
        self, command: VenueCommand, seq: int, ts: int
    ) -> tuple[list[base.VenueEvent], list[MarketDataEvent], Any]:
        """Apply one command to the engine and the venue state; nothing is delivered here."""
        engine = self._engine
        result: Any = None
        account = ""
        end_of_day = False
        evs: list[raw.Event]
        if isinstance(command, OrderRequest):
            account = command.account
            if self._kills and self._blocked(command.account, command.owner):
                reject = base.Rejected(
                    ts, command.symbol, command.owner, command.cl_ord_id, f"K{seq}", command.side,
                    RejectReason.EXCHANGE_CLOSED, KILL_SWITCH_TEXT,
                )  # fmt: skip
                return [reject], [], None
            evs = engine.process(self._edge.to_command(command), ts)
        elif isinstance(command, CancelRequest | ReplaceRequest | MassCancelRequest):
            evs = engine.process(self._edge.to_command(command), ts)
        elif isinstance(command, AddInstrument):
            spec = command.spec
            engine.add_instrument(spec.to_instrument(), spec.phase)
            self._specs[spec.symbol] = spec
            self._md.add_symbol(spec.symbol)
            evs = []
        elif isinstance(command, SetReference):
            ticks = engine.instrument(command.symbol).price_to_ticks(command.price)
            evs = engine.process(SetReferencePrice(command.symbol, ticks), ts)
        elif isinstance(command, HaltInstrument):
            evs = engine.process(Halt(command.symbol, command.text or "halted by operator"), ts)
        elif isinstance(command, ResumeInstrument):
            evs = engine.process(Resume(command.symbol), ts)
        elif isinstance(command, ChangePhase):
            evs = engine.process(SetPhase(command.symbol, command.phase), ts)
        elif isinstance(command, DayEnd):
            evs = engine.process(EndOfDay(), ts)
            end_of_day = True
        elif isinstance(command, TimeTick):
            evs = engine.process(AdvanceTime(), ts)
        elif isinstance(command, KillSwitch):
            key = (command.account, command.owner)
            if command.on:
                if key not in self._kills:
                    self._kills.append(key)
                evs = self._cancel_where(ts, CancelReason.KILL_SWITCH, command.account, command.owner, False)
                result = sum(1 for e in evs if isinstance(e, raw.Cancelled))
            else:
                if key in self._kills:
                    self._kills.remove(key)
                evs = []
        elif isinstance(command, OwnerDisconnected):
            evs = self._cancel_where(ts, command.reason, None, command.owner, command.day_only)
            result = sum(1 for e in evs if isinstance(e, raw.Cancelled))
        else:  # pragma: no cover - records.decode only builds the types above
            raise TypeError(f"not a venue command: {command!r}")
        to_event = self._edge.to_event
        on_event = self._views.on_event
        events: list[base.VenueEvent] = []
        for e in evs:
            event = to_event(e)
            events.append(event)
            on_event(event, account)
        md = self._md.on_command(seq, evs, end_of_day=end_of_day)
        if end_of_day:
            self._views.forget_done()
        return events, md, result

    def _new_market_data(self) -> MarketData:
        md = MarketData(self._engine, all_levels=self._md_levels is None)
        for symbol in self._md_levels or ():
            md.track_levels(symbol)
        return md

    def _blocked(self, account: str, owner: str) -> bool:
        for acct, own in self._kills:
            if (acct is None or acct == account) and (own is None or own == owner):
                return True
        return False

    def _cancel_where(
        self, ts: int, reason: CancelReason, account: str | None, owner: str | None, day_only: bool
    ) -> list[raw.Event]:
        """Cancel (unsolicited) every live order of the account/owner, in order id order per
        instrument; every resulting Cancelled carries ``reason``."""
        engine = self._engine
        evs: list[raw.Event] = []
        for symbol in engine.symbols():
            book = engine.book(symbol)
            targets = [
                o
                for o in book.orders.values()
                if (account is None or o.account == account)
                and (owner is None or o.owner == owner)
                and (not day_only or o.tif in _DAY_TIFS)
            ]
            for o in sorted(targets, key=lambda o: o.order_id):
                for e in engine.process(CancelOrder(symbol, o.owner, "", order_id=o.order_id), ts):
                    if isinstance(e, raw.Cancelled) and e.order_id == o.order_id:
                        e.reason = reason
                    evs.append(e)
        return evs

    # ------------------------------------------------------------------ snapshots

    def _dump(self, views: Any = None, md: Any = None) -> dict[str, Any]:
        return {
            "format": 1,
            "seq": self._seq,
            "specs": self._specs_dump(),
            "kills": [list(k) for k in self._kills],
            "engine": dump_engine(self._engine),
            "views": self._views.dump() if views is None else views,
            "md": self._md.dump() if md is None else md,
        }

    def _restore(self, state: dict[str, Any]) -> None:
        specs = [InstrumentSpec.from_dict(d) for d in state["specs"]]
        self._specs = {s.symbol: s for s in specs}
        self._kills = [(a, o) for a, o in state["kills"]]
        self._engine = load_engine(specs, state["engine"], stp_defaults=self._stp_defaults)
        self._edge = _FastEdge(self._engine)
        self._md = self._new_market_data()
        self._md.load(state["md"])
        self._views = OrderViews.load(state["views"])
