"""A tiny exchange on a real QuickFIX acceptor (quickfix Python binding, in-process) for FixVenue tests.

quickfix runs its own threads; everything it sees is handed to the reactor thread with
``reactor.callFromThread`` and recorded in an :class:`EventLog`, whose ``wait_for`` is a Deferred
that fires on the first matching event or fails after a bounded timeout (no sleeps, no polling).

The exchange (:class:`QfExchange`):

* D: symbol ``BAD`` -> ExecutionReport 39=8 with OrdRejReason 1; otherwise New, then the
  fills configured for the symbol in ``fills`` (``{"IBM": [(30, "10.5"), ...]}``) as separate
  ExecutionReports; symbols without fills rest.
* F -> Cancelled (or OrderCancelReject 102=1 for an unknown order); G -> Replaced.
* AF -> one ExecType=I report per live order (MassStatusReqID, TotNumReports, LastRptRequested).
* ``refuse_logons`` makes fromAdmin refuse Logons (quickfix.RejectLogon), so that a test decides
  when the venue may come back.
* ``fill``/``cancel`` act from the test; ``silent=True`` changes the exchange's book without
  sending anything (only an AF answer will tell).
"""

from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from twisted.internet import defer, reactor

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/: the shared test helpers
import event_waits  # noqa: E402

quickfix: Any = None
try:
    import quickfix  # type: ignore[no-redef]
except ImportError:  # pragma: no cover
    pass

SPEC_DIR = Path(sys.prefix) / "share" / "quickfix"
SKIP_REASON = "quickfix (the interop extra) is not installed: pip install -e '.[interop]'"


class EventLog:
    """Events recorded on the reactor thread, with bounded event-driven waits."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self._waiters: list[tuple[Callable[[Any], bool], defer.Deferred]] = []

    def record(self, event: Any) -> None:
        event_waits.record(self.events, self._waiters, event)

    def wait_for(self, predicate: Callable[[Any], bool], timeout: float = 10.0, *, seen: bool = True) -> defer.Deferred:
        return event_waits.wait_for(self.events, self._waiters, predicate, timeout, seen=seen)

    def wait_count(self, predicate: Callable[[Any], bool], count: int, timeout: float = 10.0) -> defer.Deferred:
        """Fires when ``count`` matching events have been recorded in total."""
        matched = [e for e in self.events if predicate(e)]
        if len(matched) >= count:
            return defer.succeed(matched)
        seen = len(matched)

        def nth(event: Any) -> bool:
            nonlocal seen
            if predicate(event):
                seen += 1
            return seen >= count

        d = self.wait_for(nth, timeout, seen=False)
        d.addCallback(lambda _: [e for e in self.events if predicate(e)])
        return d


@dataclass
class QfEvent:
    kind: str  # create/logon/logout/app_in/admin_in
    msg_type: str = ""
    fields: dict[int, str] = field(default_factory=dict)


@dataclass
class ExchangeOrder:
    cl_ord_id: str
    order_id: str
    symbol: str
    side: str
    ord_type: str
    qty: Decimal
    price: Decimal | None
    cum: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    status: str = "0"

    @property
    def leaves(self) -> Decimal:
        return Decimal(0) if self.status in ("2", "4", "8", "C") else self.qty - self.cum

    @property
    def avg(self) -> Decimal:
        return self.notional / self.cum if self.cum else Decimal(0)


def parse_fields(raw: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for part in raw.split("\x01"):
        tag, sep, value = part.partition("=")
        if sep and tag.isdigit():
            out.setdefault(int(tag), value)
    return out


class QfExchange:
    """A quickfix SocketAcceptor with a small matching-free exchange behind it."""

    def __init__(self, workdir: Path, port: int, begin_string: str = "FIX.4.4", *, sender: str = "XCHG",
                 target: str = "BROKER", fills: dict[str, list[tuple[int, str]]] | None = None) -> None:
        assert quickfix is not None, SKIP_REASON
        self.workdir, self.port, self.begin_string = workdir, port, begin_string
        self.sender, self.target = sender, target
        self.fills = fills or {}
        self.log = EventLog()
        self.orders: dict[str, ExchangeOrder] = {}  # by every ClOrdID of the chain
        self.refuse_logons = False
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.session_id: Any = None
        self.engine: Any = None

    # ----- engine
    def settings_text(self) -> str:
        if self.begin_string == "FIXT.1.1":
            dictionaries = (
                f"DefaultApplVerID=FIX.5.0SP2\nTransportDataDictionary={SPEC_DIR / 'FIXT11.xml'}\n"
                f"AppDataDictionary={SPEC_DIR / 'FIX50SP2.xml'}\n"
            )
        else:
            dictionaries = f"DataDictionary={SPEC_DIR / (self.begin_string.replace('.', '') + '.xml')}\n"
        return (
            "[DEFAULT]\nConnectionType=acceptor\n"
            f"SocketAcceptPort={self.port}\nFileStorePath={self.workdir / 'qf-store'}\n"
            f"FileLogPath={self.workdir / 'qf-log'}\nStartTime=00:00:00\nEndTime=00:00:00\n"
            f"UseDataDictionary=Y\n{dictionaries}"
            f"[SESSION]\nBeginString={self.begin_string}\nSenderCompID={self.sender}\nTargetCompID={self.target}\n"
        )

    def start(self) -> None:
        path = self.workdir / "qf_exchange.cfg"
        path.write_text(self.settings_text())
        settings = quickfix.SessionSettings(str(path))
        store = quickfix.FileStoreFactory(settings)
        logs = quickfix.FileLogFactory(settings)
        self._app = _make_application(self)
        self._keep = (settings, store, logs)
        # the threaded engine: quickfix 1.16's SocketAcceptor.stop() races its own thread (it closes
        # a SocketServer that thread deletes) and crashes the process now and then
        self.engine = quickfix.ThreadedSocketAcceptor(self._app, store, settings, logs)
        self.engine.start()

    def stop(self) -> defer.Deferred:
        """Stop the engine in a thread (it waits for Logouts, which need the reactor running)."""
        from twisted.internet import threads

        engine, self.engine = self.engine, None
        if engine is None:
            return defer.succeed(None)
        return threads.deferToThread(engine.stop)  # stop(force=True) crashes quickfix 1.16

    # ----- test-side actions
    def fill(self, cl_ord_id: str, qty: int, px: str, *, silent: bool = False) -> None:
        with self._lock:
            order = self.orders[cl_ord_id]
            report = self._trade(order, Decimal(qty), Decimal(px))
        if not silent:
            self._send(report)

    def cancel(self, cl_ord_id: str, *, silent: bool = False) -> None:
        with self._lock:
            order = self.orders[cl_ord_id]
            order.status = "4"
            report = self._report(order, "4", order.cl_ord_id)
        if not silent:
            self._send(report)

    # ----- quickfix side
    def on_app(self, fields: dict[int, str], msg_type: str) -> None:
        """Runs on a quickfix thread."""
        with self._lock:
            if msg_type == "D":
                reports = self._new_order(fields)
            elif msg_type == "F":
                reports = self._cancel_request(fields)
            elif msg_type == "G":
                reports = self._replace_request(fields)
            elif msg_type == "AF":
                reports = self._mass_status(fields)
            else:
                reports = []
        for report in reports:
            self._send(report)

    def _new_order(self, f: dict[int, str]) -> list[tuple[str, list[tuple[int, str]]]]:
        n = next(self._ids)
        order = ExchangeOrder(f[11], f"X{n}", f[55], f[54], f[40], Decimal(f[38]), Decimal(f[44]) if 44 in f else None)
        self.orders[order.cl_ord_id] = order
        if order.symbol == "BAD":
            order.status = "8"
            return [self._report(order, "8", order.cl_ord_id, (103, "1"), (58, "Unknown symbol"))]
        reports = [self._report(order, "0", order.cl_ord_id)]
        for qty, px in self.fills.get(order.symbol, []):
            reports.append(self._trade(order, Decimal(qty), Decimal(px)))
        return reports

    def _cancel_request(self, f: dict[int, str]) -> list[tuple[str, list[tuple[int, str]]]]:
        order = self.orders.get(f[41])
        if order is None or order.leaves == 0:
            return [("9", [(11, f[11]), (37, order.order_id if order else "NONE"), (39, order.status if order else "8"),
                           (41, f[41]), (58, "unknown order"), (102, "1"), (434, "1")])]
        order.status = "4"
        return [self._report(order, "4", f[11], (41, f[41]))]

    def _replace_request(self, f: dict[int, str]) -> list[tuple[str, list[tuple[int, str]]]]:
        order = self.orders[f[41]]
        order.qty = Decimal(f[38])
        if 44 in f:
            order.price = Decimal(f[44])
        old, order.cl_ord_id = order.cl_ord_id, f[11]
        self.orders[order.cl_ord_id] = order
        return [self._report(order, "5", f[11], (41, old))]

    def _mass_status(self, f: dict[int, str]) -> list[tuple[str, list[tuple[int, str]]]]:
        live = {id(o): o for o in self.orders.values() if o.status not in ("8",)}.values()
        live = [o for o in live]
        reports = []
        for i, order in enumerate(live, start=1):
            reports.append(self._report(order, "I", order.cl_ord_id, (584, f[584]), (911, str(len(live))),
                                        (912, "Y" if i == len(live) else "N")))
        return reports

    def _trade(self, order: ExchangeOrder, qty: Decimal, px: Decimal) -> tuple[str, list[tuple[int, str]]]:
        order.cum += qty
        order.notional += qty * px
        order.status = "2" if order.cum >= order.qty else "1"
        return self._report(order, "F", order.cl_ord_id, (31, str(px)), (32, str(qty)))

    def _report(self, order: ExchangeOrder, exec_type: str, cl_ord_id: str, *extra: tuple[int, str]) -> tuple[str, list[tuple[int, str]]]:
        status = order.status if exec_type not in ("0",) else "0"
        if exec_type == "5":
            status = "1" if order.cum else "0"
        if exec_type == "I" and order.status in ("0", "1", "2", "4"):
            status = order.status
        fields = [
            (6, str(order.avg.normalize()) if order.cum else "0"), (11, cl_ord_id), (14, str(order.cum)),
            (17, f"XE{next(self._ids)}"), (37, order.order_id), (38, str(order.qty)), (39, status),
            (40, order.ord_type), (54, order.side), (55, order.symbol), (151, str(order.leaves)),
            (60, _now_text()),
        ]
        if order.price is not None:
            fields.append((44, str(order.price)))
        if self.begin_string == "FIX.4.2":
            fields.append((20, "3" if exec_type == "I" else "0"))
            if exec_type == "F":
                exec_type = status
            elif exec_type == "I":
                exec_type = status
        fields.append((150, exec_type))
        fields.extend(extra)
        return "8", fields

    def _send(self, report: tuple[str, list[tuple[int, str]]]) -> None:
        msg_type, fields = report
        message = quickfix.Message()
        message.getHeader().setField(quickfix.BeginString(self.begin_string))
        message.getHeader().setField(quickfix.MsgType(msg_type))
        for tag, value in fields:
            message.setField(tag, value)
        quickfix.Session.sendToTarget(message, self.session_id)


def _now_text() -> str:
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y%m%d-%H:%M:%S.") + f"{now.microsecond // 1000:03d}"


def _make_application(exchange: QfExchange) -> Any:
    def record(kind: str, message: Any = None) -> None:
        fields = parse_fields(message.toString()) if message is not None else {}
        reactor.callFromThread(exchange.log.record, QfEvent(kind, fields.get(35, ""), fields))

    class _App(quickfix.Application):  # type: ignore[misc, name-defined]
        def onCreate(self, session_id: Any) -> None:  # noqa: N802
            exchange.session_id = session_id

        def onLogon(self, session_id: Any) -> None:  # noqa: N802
            record("logon")

        def onLogout(self, session_id: Any) -> None:  # noqa: N802
            record("logout")

        def toAdmin(self, message: Any, session_id: Any) -> None:  # noqa: N802
            pass

        def fromAdmin(self, message: Any, session_id: Any) -> None:  # noqa: N802
            record("admin_in", message)
            if exchange.refuse_logons and message.getHeader().getField(35) == "A":
                raise quickfix.RejectLogon("exchange not open yet")

        def toApp(self, message: Any, session_id: Any) -> None:  # noqa: N802
            pass

        def fromApp(self, message: Any, session_id: Any) -> None:  # noqa: N802
            record("app_in", message)
            exchange.on_app(parse_fields(message.toString()), message.getHeader().getField(35))

    return _App()
