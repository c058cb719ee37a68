"""A tiny FIX acceptor standing in for the gateway in ``fixgate order`` tests.

Importable (``StubGateway``, ``stub_acceptor``) for in-process tests, and runnable as a script
(``python order_stub_gateway.py``) for subprocess tests: it listens on a free port on 127.0.0.1
and prints ``listening on <port>`` once ready.

Answers, by Symbol(55) of a NewOrderSingle:

* ``BAD``: ExecutionReport 39=8 (Rejected), OrdRejReason 103=1 (unknown symbol) with Text;
* ``REST``: New only (a resting limit order);
* ``REJ``: session Reject (35=3, IncorrectTagValue on 55);
* ``BIZ``: BusinessMessageReject (35=j);
* ``SILENT``: nothing at all;
* anything else: New, then a full Fill at the limit price (100.00 for market orders).

OrderCancelRequest: Canceled for a known order, OrderCancelReject (102=1) otherwise.
OrderCancelReplaceRequest: Replaced (OrdStatus New) for a known order, OrderCancelReject otherwise.
OrderStatusRequest: ExecType I with the order's state, or 39=8/103=5 for an unknown ClOrdID.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from fix_engine.application import Application, BusinessReject, IncorrectTagValue
from fix_engine.codec.message import FixMessage
from fix_engine.config import parse_config
from fix_engine.session.session_id import SessionID
from fix_engine.transport.acceptor import AcceptorService
from fix_engine.transport.host import SessionRegistry
from fix_engine.transport.session_builder import SessionBuilder

GATEWAY_COMP_ID = "FIXGATE"
ZERO = Decimal(0)


def stub_config_text(port: int) -> str:
    """FIXGATE accepting CLIENT1 and CLIENT2 on FIX.4.4, FIX.4.2 and FIXT.1.1/FIX.5.0SP2."""
    blocks = []
    for client in ("CLIENT1", "CLIENT2"):
        blocks += [
            f"[SESSION]\nBeginString=FIX.4.4\nTargetCompID={client}\nDataDictionary=FIX44.xml\n",
            f"[SESSION]\nBeginString=FIX.4.2\nTargetCompID={client}\nDataDictionary=FIX42.xml\n",
            f"[SESSION]\nBeginString=FIXT.1.1\nTargetCompID={client}\nDefaultApplVerID=FIX.5.0SP2\n"
            "TransportDataDictionary=FIXT11.xml\nAppDataDictionary=FIX50SP2.xml\n",
        ]
    return f"""[DEFAULT]
ConnectionType=acceptor
SenderCompID={GATEWAY_COMP_ID}
SocketAcceptAddress=127.0.0.1
SocketAcceptPort={port}
NonStopSession=Y
HeartBtInt=30
UseDataDictionary=Y
ValidateUserDefinedFields=N
{"".join(blocks)}"""


@dataclass
class StubOrder:
    cl_ord_id: str
    order_id: str
    symbol: str
    side: str
    qty: Decimal
    price: Decimal | None
    status: str = "0"
    cum_qty: Decimal = ZERO


@dataclass
class StubGateway(Application):
    """Answers orders as described in the module docstring; records what it received."""

    registry: SessionRegistry = field(default_factory=SessionRegistry)
    received: list[tuple[SessionID, FixMessage]] = field(default_factory=list)
    orders: dict[str, StubOrder] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def _next(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    def _report(self, session_id: SessionID, order: StubOrder, exec_type: str, *, cl_ord_id: str | None = None,
                orig: str | None = None, last: tuple[Decimal, Decimal] | None = None,
                text: str | None = None, rej_reason: int | None = None) -> None:
        fix42 = session_id.begin_string == "FIX.4.2"
        if fix42 and exec_type == "F":
            exec_type = "2" if order.status == "2" else "1"
        avg = (order.price or Decimal("100.00")) if order.cum_qty else ZERO
        fields: list[tuple[int, Any]] = [
            (6, avg), (11, cl_ord_id or order.cl_ord_id), (14, order.cum_qty), (17, self._next("E")),
            (37, order.order_id), (38, order.qty), (39, order.status), (54, order.side), (55, order.symbol),
            (150, exec_type), (151, ZERO if order.status in ("2", "4", "8") else order.qty - order.cum_qty),
        ]
        if order.price is not None:
            fields.append((44, order.price))
        if orig:
            fields.append((41, orig))
        if last is not None:
            fields += [(31, last[1]), (32, last[0])]
        if text:
            fields.append((58, text))
        if rej_reason is not None:
            fields.append((103, rej_reason))
        if fix42:
            fields.append((20, "3" if exec_type == "I" else "0"))
        self.registry.send_to_target(FixMessage.new("8", *sorted(fields)), session_id)

    def from_app(self, message: FixMessage, session_id: SessionID) -> None:
        self.received.append((session_id, message))
        handler = {"D": self._new, "F": self._cancel, "G": self._replace, "H": self._status}.get(message.msg_type)
        if handler is None:
            super().from_app(message, session_id)
        else:
            handler(message, session_id)

    def _new(self, message: FixMessage, session_id: SessionID) -> None:
        symbol = message.get_str(55)
        if symbol == "REJ":
            raise IncorrectTagValue(55, "stub: symbol REJ is refused at session level")
        if symbol == "BIZ":
            raise BusinessReject(0, "stub: symbol BIZ is refused", ref_id=message.get(11))
        if symbol == "SILENT":
            return
        price = message.get_decimal(44) if message.get(44) else None
        order = StubOrder(message.get_str(11), self._next("G"), symbol, message.get_str(54),
                          message.get_decimal(38), price)
        if symbol == "BAD":
            order.status = "8"
            self._report(session_id, order, "8", text="unknown symbol BAD", rej_reason=1)
            return
        self.orders[order.cl_ord_id] = order
        self._report(session_id, order, "0")
        if symbol == "REST":
            return
        order.status, order.cum_qty = "2", order.qty
        self._report(session_id, order, "F", last=(order.qty, price or Decimal("100.00")))

    def _cancel_reject(self, message: FixMessage, session_id: SessionID, response_to: str) -> None:
        self.registry.send_to_target(FixMessage.new(
            "9", (11, message.get_str(11)), (37, "NONE"), (39, "8"), (41, message.get_str(41)),
            (58, f"unknown order {message.get_str(41)!r}"), (102, 1), (434, response_to),
        ), session_id)

    def _cancel(self, message: FixMessage, session_id: SessionID) -> None:
        order = self.orders.get(message.get_str(41))
        if order is None:
            self._cancel_reject(message, session_id, "1")
            return
        orig, order.cl_ord_id, order.status = order.cl_ord_id, message.get_str(11), "4"
        self.orders[order.cl_ord_id] = order
        self._report(session_id, order, "4", orig=orig)

    def _replace(self, message: FixMessage, session_id: SessionID) -> None:
        order = self.orders.get(message.get_str(41))
        if order is None:
            self._cancel_reject(message, session_id, "2")
            return
        orig, order.cl_ord_id = order.cl_ord_id, message.get_str(11)
        order.qty = message.get_decimal(38)
        if message.get(44):
            order.price = message.get_decimal(44)
        self.orders[order.cl_ord_id] = order
        self._report(session_id, order, "5", orig=orig)

    def _status(self, message: FixMessage, session_id: SessionID) -> None:
        order = self.orders.get(message.get_str(11))
        if order is None:
            unknown = StubOrder(message.get_str(11), "NONE", message.get_str(55), message.get_str(54), ZERO, None, "8")
            self._report(session_id, unknown, "I", text="unknown order", rej_reason=5)
            return
        self._report(session_id, order, "I")


def stub_acceptor(app: StubGateway, reactor: Any, port: int = 0) -> AcceptorService:
    """An AcceptorService for ``app`` on 127.0.0.1:``port`` (0 = any free port; see ``bound_ports``)."""
    sessions = parse_config(stub_config_text(port or 1), "order-stub-gateway.cfg").sessions
    sessions = [replace(s, socket_accept_port=port) for s in sessions]
    return AcceptorService(sessions, SessionBuilder(app), reactor, registry=app.registry)


def main() -> None:
    """Run the stub on a free port; print ``listening on <port>`` once it listens."""
    from twisted.internet import defer, reactor

    app = StubGateway()
    service = stub_acceptor(app, reactor)

    async def start() -> None:
        await service.listen()
        service.startService()
        print(f"listening on {service.bound_ports[0]}", flush=True)

    def started() -> None:
        d = defer.ensureDeferred(start())
        d.addErrback(lambda f: (print(f.getTraceback(), file=sys.stderr, flush=True), reactor.stop()))

    reactor.callWhenRunning(started)
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    reactor.run()


if __name__ == "__main__":
    main()
