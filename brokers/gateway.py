"""Gateway: the broker gateway's composition root -- one Twisted MultiService.

It builds, in order: the registry (schema upgraded, configured accounts opened and funded once),
the internal venue (recovered from its journal), the external venues (one FIX initiator session
each), the dispatcher with the routing policy, the OMS vetter with the configured limits, the
registry writer (its batches on one thread of this process, the default, or in a child process with
``RegistryWriterProcess=Y``), the client application (its working orders recovered from the
client-order journal and the registry) and the client acceptor.

Start: the registry writer's thread starts (or its child process is spawned), initiators connect,
the acceptor listens.
Stop (graceful): every client session gets a Logout, then the external sessions; the registry
writer drains (every queued booking commits) and its child process exits (or its thread stops);
the venue journal, the message stores and the registry are closed.

Inbound flow control: client orders are accepted asynchronously (each queues a registry operation;
its ack waits in the Outbox for the batch's commit), so clients offering more than the registry
commits would grow the writer's queue, the Outbox and the ack latency without bound.  When the
writer's backlog reaches ``MaxRegistryBacklog`` operations the gateway holds client input: the
acceptor stops reading from its logged-on client connections (TCP pushes back on the senders, as
with QuickFIX's synchronous engine), until the backlog is down to ``RegistryBacklogResume``.  Each
connection's hold lapses after ``MaxInputHold`` (at most HeartBtInt/4) for one read, so held
clients keep their heartbeats; connections still logging on are not held; the hold ends when the
gateway stops (the Logout answers must be read) or its writer is lost.  An event line is echoed
when a hold starts and ends (at most one pair per 10 s; the next line counts the others).

Fatal stop: if the registry writer is lost -- its child process died, or answered garbage --
with a batch in flight, that batch's outcome is unknown, so nothing of it is reported to clients;
a critical error naming the batch is logged and echoed, ``failure`` holds it, and the gateway stops
itself the graceful way (nothing left to drain), then stops the reactor (``stop_reactor_on_fatal``)
so that ``fixgate run`` exits.  A restart recovers from the registry and the journals.

Restart on the same files: the message stores give back the sequence numbers, the venue
journal its books (working orders), the registry its balances and the journal the client side
of the working orders (ClOrdID chain, session, venue); bookings are idempotent on (venue, ExecID).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from twisted.application import service
from twisted.internet import defer
from twisted.python import log as twisted_log

from brokers.client.accounts import AccountCache
from brokers.client.journal import OrderJournal, session_from
from brokers.client.orders import BrokerIds, GatewayOrder, OrderStore
from brokers.client.writer import RegistryWriter
from brokers.client.writer_process import ProcessRunner
from brokers.client_fix import ClientApplication
from brokers.domain.accounts import Account
from brokers.domain.limits import LimitsBook
from brokers.domain.orders import ClientOrder, ClientOrderStatus
from brokers.gateway_config import GatewayConfig
from brokers.limits_journal import LimitsJournal
from brokers.oms.context import InstrumentInfo
from brokers.oms.reservations import Reservation
from brokers.oms.vetting import Vetter
from brokers.recovery import Reconciler, book_missing_fills
from brokers.registry import Registry
from brokers.routing.dispatcher import Dispatcher, VenueEntry
from fix_engine.gc_tuning import freeze_startup_objects
from fix_engine.transport.acceptor import AcceptorService
from fix_engine.transport.host import SessionRegistry
from fix_engine.transport.session_builder import SessionBuilder
from venues.base import OrdType, Side, TimeInForce
from venues.internal.journal import FileJournal

__all__ = ["Gateway"]

Echo = Callable[[str], None]


def _wall_ns() -> int:
    return time.time_ns()


class Gateway(service.MultiService):
    """The broker gateway: client acceptor, venues, registry and OMS in one service."""

    def __init__(self, config: GatewayConfig, *, reactor: Any = None, clock_ns: Callable[[], int] = _wall_ns,
                 echo: Echo | None = None, stop_reactor_on_fatal: bool = True) -> None:
        super().__init__()
        if reactor is None:
            from twisted.internet import reactor as global_reactor

            reactor = global_reactor
        self.config = config
        self.reactor = reactor
        self.clock_ns = clock_ns
        self.echo: Echo = echo or (lambda text: twisted_log.msg(text))
        self._closed = False
        self._stopping: defer.Deferred[None] | None = None
        self._stop_waiters: list[defer.Deferred[None]] = []
        self._stop_done = False
        self.stop_reactor_on_fatal = stop_reactor_on_fatal
        #: the critical error that stopped the gateway (its registry writer was lost), else None
        self.failure: str | None = None
        self.registry = self._open_registry()
        self.sessions = SessionRegistry()
        self.internal = self._open_internal_venue()
        self.dispatcher = Dispatcher(config.routing)
        if self.internal is not None:
            self.dispatcher.add(VenueEntry(self.internal, asynchronous=False))
        self._child_journals: list[Any] = []
        self.external_venues: list[Any] = []
        self.external_service = self._open_external_venues()
        self.recovery: Reconciler | None = None
        if self.internal is not None:  # crash recovery, phase 1: book journaled fills, close dead bookings
            self.recovery = Reconciler(self.registry, self.internal, config.order_journal, clock_ns,
                                       fees=config.fees.for_account)
            self.recovery.reconcile_registry()
        self._book_external_journaled_fills()
        self.accounts = AccountCache(config.fees)
        for account in self.registry.accounts():
            if account.kind.value == "CLIENT":
                self.accounts.load(account, self.registry.balances(account.name))
        self.ids = BrokerIds.from_time(clock_ns())
        self.order_journal = OrderJournal(config.order_journal)
        runner = None
        if config.registry_writer_process:  # the child appends the order journal: this process must not
            runner = ProcessRunner(reactor, config.registry_url, journal=config.order_journal, echo=self.echo,
                                   gc_freeze=config.gc_freeze)
        #: client input is held because the registry backlog is deep (see the module docstring)
        self.input_held = False
        #: how many times client input was held, and for how long in all (reactor seconds)
        self.input_holds = 0
        self.input_held_seconds = 0.0
        self._hold_started = 0.0
        self._hold_logged = False  #: the current hold's start was echoed (so its end is too)
        self._hold_log_at: float | None = None  #: when a hold's start was last echoed
        self._holds_unlogged = 0  #: holds since then that were not echoed
        self._holds_off = False  #: stopping: no more holds
        backlog = config.max_registry_backlog
        self.writer = RegistryWriter(self.registry, reactor, journal=None if runner else self.order_journal,
                                     runner=runner, on_snapshot=self.accounts.snapshot,
                                     linger=config.registry_batch_linger, on_fatal=self._writer_lost,
                                     high_water=backlog or None,
                                     low_water=config.registry_backlog_resume if backlog else None,
                                     on_backlog_high=self._backlog_high, on_backlog_low=self._backlog_low)
        self.limits = LimitsBook(config.limits)
        self.limits_journal: LimitsJournal | None = None
        if config.limits_journal:  # runtime edits and kill switches of earlier runs, on the config's limits
            self.limits_journal = LimitsJournal(FileJournal(config.limits_journal, sync=True),
                                                source=config.limits_journal)
            restored = self.limits_journal.restore(self.limits)
            if restored:
                self.echo(f"fixgate: {restored} runtime limit edit(s) re-applied from {config.limits_journal}")
        self.application = ClientApplication(
            sessions=self.sessions, dispatcher=self.dispatcher, vetter=Vetter(self.limits),
            writer=self.writer, accounts=self.accounts, instruments=self._instruments(),
            entitlements=config.entitlements, ids=self.ids, clock_ns=clock_ns, store=OrderStore(),
            drop_copy=config.drop_copy, cancel_on_disconnect=config.cancel_on_disconnect,
        )
        self.admin_listener: Any = None
        self.writer.on_committed = self.application.on_batch_committed
        recovered = self._recover_orders()
        if runner is not None:
            self.order_journal.close()  # from now on only the writer process appends to it
        if recovered:
            self.echo(f"fixgate: recovered {recovered} working client order(s)")
        self.builder = SessionBuilder(self.application)
        self.acceptor = AcceptorService(config.client_sessions, self.builder, reactor, registry=self.sessions)
        self.acceptor.max_input_hold = config.max_input_hold
        if self.input_held:
            self.acceptor.hold_input()
        if self.recovery is not None:  # phase 2: store the fill reports no client store holds (resend)
            self.echo(self.recovery.report_to_clients(self.sessions, self.application._send_now).summary())
        self.acceptor.setServiceParent(self)
        if self.external_service is not None:
            self.external_service.setServiceParent(self)

    # ---- construction --------------------------------------------------------------------------

    def _open_registry(self) -> Registry:
        registry = Registry(self.config.registry_url)
        revision = registry.upgrade()
        self.echo(f"fixgate: registry {self.config.registry_url} at schema revision {revision}")
        existing = {a.name for a in registry.accounts()}
        symbols = self._symbols()
        for name in self.config.accounts:
            if name in existing:
                continue
            registry.open_account(Account(name))
            for asset, amount in self.config.funding.get(name, {}).items():
                if asset in symbols:  # an instrument; anything else is a currency
                    registry.deposit_holding(name, asset, amount)
                else:
                    registry.deposit(name, amount, asset)
            self.echo(f"fixgate: opened account {name}" + (" (funded)" if name in self.config.funding else ""))
        return registry

    def _symbols(self) -> set[str]:
        from venues.internal.reference_data import instruments_from_settings

        specs = instruments_from_settings(self.config.instrument_settings, self.config.base_dir)
        return {s.symbol for s in specs} | set(self.config.routing.by_symbol)

    def _open_internal_venue(self) -> Any:
        name = self.config.internal_venue
        if not name:
            return None
        from brokers.recovery import open_internal_venue
        from venues.internal.reference_data import instruments_from_settings

        target = self.config.venue_journal
        if "://" in target:
            from venues.internal.journal_sql import SqlJournal

            journal: Any = SqlJournal(target)
        else:
            from venues.internal.journal import FileJournal

            journal = FileJournal(target)
        self._venue_journal = journal
        specs = instruments_from_settings(self.config.instrument_settings, self.config.base_dir)
        if journal.last_sequence:
            self.echo(f"fixgate: replaying venue journal {target} ({journal.last_sequence} commands)")

        def progress(done: int, total: int) -> None:
            self.echo(f"fixgate: venue journal replay {done}/{total}")

        venue = open_internal_venue(name, specs, journal, self.clock_ns, progress=progress)  # keeps replayed fills
        self.echo(f"fixgate: internal venue {name}: {', '.join(s.symbol for s in venue.instruments())}")
        return venue

    def _open_external_venues(self) -> Any:
        if not self.config.external_venues:
            return None
        from venues.external.fix_venue import FixVenue
        from venues.external.journal import default_journal_path, journal_from_settings
        from venues.external.service import external_initiator

        venues = []
        beside_orders = Path(self.config.order_journal).parent
        for ext in self.config.external_venues:
            # an explicit ChildOrderJournalPath is as written; the default lies beside the OrderJournal
            journal = journal_from_settings(ext.settings, ext.name,
                                            default=str(beside_orders / default_journal_path(ext.name)))
            self._child_journals.append(journal)
            venue = FixVenue(ext.settings, self.sessions, name=ext.name, clock=self.reactor, journal=journal)
            self.dispatcher.add(VenueEntry(venue, asynchronous=True))
            venues.append(venue)
        self.external_venues = venues
        return external_initiator(venues, self.reactor, self.sessions)

    def _book_external_journaled_fills(self) -> None:
        """Crash recovery for external venues: fills their child-order journals applied in an
        earlier run but the registry never booked (the exchange will not send them again)."""
        for venue in self.external_venues:
            fills, venue.journaled_fills = venue.journaled_fills, []
            if not fills:
                continue
            if self.recovery is not None:
                before = len(self.recovery.report.booked)
                self.recovery.book_external_fills(venue.name, fills)
                booked = len(self.recovery.report.booked) - before
            else:
                booked = len(book_missing_fills(self.registry, venue.name, fills, self.config.fees.for_account))
            if booked:
                self.echo(f"fixgate recovery: {booked} fill(s) of venue {venue.name} booked from its "
                          f"child-order journal")

    def _instruments(self) -> dict[str, InstrumentInfo]:
        out: dict[str, InstrumentInfo] = {}
        if self.internal is not None:
            for spec in self.internal.instruments():
                stats = self.internal.market_stats(spec.symbol)
                out[spec.symbol] = InstrumentInfo(
                    spec.symbol, tick_size=spec.tick_size, lot_size=spec.lot_size, last_trade_px=stats.last_px,
                    close_px=stats.close if stats.close is not None else spec.reference_price, currency=spec.currency,
                )
        for symbol in self.config.routing.by_symbol:
            out.setdefault(symbol, InstrumentInfo(symbol))
        return out

    def _recover_orders(self) -> int:
        """Working client orders from the order journal, their executions from the registry."""
        store = self.application.store
        done: list[dict[str, Any]] = []
        count = 0
        for new, changes in self.order_journal.replay():
            bookings = [new["booking"], *(c["booking"] for c in changes)]
            with self.registry.uow() as uow:
                booked = uow.orders.get_many(bookings)
            current = booked.get(bookings[-1])
            if current is None or not current.status.is_open:
                done.append({"t": "done", "id": new["id"]})
                continue
            cum = sum((b.cum_qty for b in booked.values()), Decimal(0))
            notional = sum((b.notional for b in booked.values()), Decimal(0))
            last = changes[-1] if changes else new
            qty = Decimal(last["qty"])
            price = Decimal(last["px"]) if last.get("px") is not None else None
            stop = Decimal(last["stop"]) if last.get("stop") is not None else None
            session_id = session_from(new["session"])
            order = ClientOrder(
                new["id"], new["cl"], str(session_id), new["acct"], new["sym"], Side(new["side"]),
                OrdType(new["type"]), qty, price, stop, TimeInForce(new["tif"]), new.get("exp"), new["venue"],
                status=ClientOrderStatus.PARTIALLY_FILLED if cum > 0 else ClientOrderStatus.NEW,
                cum_qty=cum, gross_notional=notional,
                cl_ord_id_chain=(new["cl"], *(c["cl"] for c in changes)),
            )
            order.cl_ord_id = order.cl_ord_id_chain[-1]
            reservation = None
            if order.side is Side.BUY and price is not None:
                reservation = Reservation.for_buy(qty - cum, price, self.accounts.fees_for(order.account))
            g = GatewayOrder(order, session_id, new["venue"], venue_cl_ord_id=last["vcl"],
                             booking_id=bookings[-1], currency=new.get("cur", "USD"), reservation=reservation,
                             id_tag=f"{self.ids.prefix}-")
            store.add(g)
            self.application.track_open_buy(g)
            for cl in order.cl_ord_id_chain[:-1]:
                store.index_cl_ord_id(g, cl)
            count += 1
        if done:
            self.order_journal.append(done)
        return count

    # ---- service -------------------------------------------------------------------------------

    @property
    def bound_ports(self) -> list[int]:
        return self.acceptor.bound_ports

    @property
    def listening(self) -> defer.Deferred[Any] | None:
        return getattr(self.acceptor, "listening", None)

    async def listen(self) -> list[int]:
        """Listen now (tests: to learn the ports before starting); then call ``startService``."""
        await self.acceptor.listen()
        return self.bound_ports

    def listen_admin(self, port: int | None = None) -> int:
        """Open the OMS admin channel (``fixgate oms ...``) on 127.0.0.1; ``port`` defaults to the
        config's ``AdminPort`` (0 = any free port).  ``fixgate run`` calls it; returns the port."""
        from brokers.oms_cli import listen_oms_admin

        self.admin_listener = listen_oms_admin(self, self.config.admin_port if port is None else port,
                                               reactor=self.reactor)
        return int(self.admin_listener.getHost().port)

    def privilegedStartService(self) -> None:
        """Bind the OMS admin channel on ``AdminPort`` (as twistd binds ports here; ``fixgate run``
        calls this, tests that only ``listen()`` + ``startService()`` open it with ``listen_admin``),
        and with ``GCFreeze=Y`` (the default) move everything built so far out of the collector's
        reach (:func:`freeze_startup_objects`)."""
        if self.config.admin_port and self.admin_listener is None:
            port = self.listen_admin()
            self.echo(f"fixgate: OMS admin channel on 127.0.0.1:{port}")
        if self.config.gc_freeze:
            freeze_startup_objects()
        super().privilegedStartService()

    def startService(self) -> None:
        self.writer.start()
        super().startService()

    def stopService(self) -> defer.Deferred[None]:
        """Logout clients, stop external sessions, drain the registry writer, close everything.

        Idempotent: a second call (``fixgate run``'s shutdown trigger after a fatal stop) fires when
        the first stop has finished."""
        if self._stopping is not None:
            d: defer.Deferred[None] = defer.Deferred()
            if self._stop_done:
                d.callback(None)
            else:
                self._stop_waiters.append(d)
            return d
        service.Service.stopService(self)
        self._holds_off = True  # the clients' Logout answers must be read
        if self.input_held:
            self._backlog_low(self.writer.backlog)
        d = defer.maybeDeferred(self.acceptor.stopService)
        if self.admin_listener is not None:
            listener, self.admin_listener = self.admin_listener, None
            d.addBoth(lambda _: listener.stopListening())
        if self.external_service is not None:
            d.addBoth(lambda _: self.external_service.stopService())
        d.addBoth(lambda _: self.writer.stop())
        d.addBoth(lambda _: self.close())
        self._stopping = d

        def _stopped(result: object) -> object:
            self._stop_done = True
            waiters, self._stop_waiters = self._stop_waiters, []
            for waiter in waiters:
                waiter.callback(None)
            return result

        return d.addBoth(_stopped)

    # ---- inbound flow control -------------------------------------------------------------------

    _HOLD_LOG_INTERVAL = 10.0  #: seconds between two echoed hold starts

    def _backlog_high(self, backlog: int) -> None:
        """The writer's backlog reached ``MaxRegistryBacklog``: stop reading client input."""
        if self.input_held or self._holds_off:
            return
        self.input_held = True
        self.input_holds += 1
        now = self._hold_started = self.reactor.seconds()
        acceptor = getattr(self, "acceptor", None)  # None while the gateway is being built
        if acceptor is not None:
            acceptor.hold_input()
        last = self._hold_log_at
        self._hold_logged = last is None or now - last >= self._HOLD_LOG_INTERVAL
        if not self._hold_logged:
            self._holds_unlogged += 1
            return
        others = ""
        if self._holds_unlogged:
            others = f" ({self._holds_unlogged} more hold(s) since the last report)"
            self._holds_unlogged = 0
        self._hold_log_at = now
        self.echo(f"fixgate: registry backlog {backlog} operation(s) reached MaxRegistryBacklog "
                  f"({self.config.max_registry_backlog}): holding client input until it is down to "
                  f"{self.config.registry_backlog_resume}{others}")

    def _backlog_low(self, backlog: int) -> None:
        """The backlog is down to ``RegistryBacklogResume`` (or the gateway stops): read client input."""
        if not self.input_held:
            return
        self.input_held = False
        held = self.reactor.seconds() - self._hold_started
        self.input_held_seconds += held
        acceptor = getattr(self, "acceptor", None)
        if acceptor is not None:
            acceptor.release_input()
        if self._hold_logged:
            self.echo(f"fixgate: registry backlog down to {backlog} operation(s): client input resumed "
                      f"after {held:.3f}s")

    def _writer_lost(self, message: str) -> None:
        """The registry writer was lost (see the module docstring): stop, then stop the reactor."""
        if self.failure is not None:
            return
        self.failure = message
        self.echo(message)
        d = self.stopService() if self.running or self._stopping is not None else defer.succeed(None)

        def _stop_reactor(_: object) -> None:
            if self.stop_reactor_on_fatal and getattr(self.reactor, "running", False):
                self.reactor.stop()

        d.addBoth(_stop_reactor)

    def close(self) -> None:
        """Release files and connections (idempotent; ``stopService`` calls it)."""
        if self._closed:
            return
        self._closed = True
        self.writer.close()
        self.order_journal.close()
        journal = getattr(self, "_venue_journal", None)
        if journal is not None:
            journal.flush()
            journal.close()
        for host in self.sessions:
            store = getattr(host.session, "store", None)
            if store is not None:
                store.flush()
        for child_journal in self._child_journals:
            child_journal.close()
        if self.limits_journal is not None:
            self.limits_journal.close()
        self.builder.close()
        self.registry.close()

