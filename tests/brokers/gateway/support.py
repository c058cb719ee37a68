"""Shared helpers for the gateway tests: configs in a temp dir, FIX clients, waits (no sleeps)."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

from twisted.internet import defer, reactor

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "transport"))

from harness import AppEvent, RecordingApp, free_port, initiator_from, wait_until  # noqa: E402

from brokers.gateway import Gateway  # noqa: E402
from brokers.gateway_config import demo_config_text, gateway_config  # noqa: E402
from fix_engine.codec.message import FixMessage  # noqa: E402
from fix_engine.config import parse_config  # noqa: E402
from fix_engine.session.session_id import SessionID  # noqa: E402

__all__ = ["AppEvent", "GatewayHarness", "RecordingApp", "wait_until"]


def gateway_text(tmp: Path, port: int, extra: str = "") -> str:
    text = demo_config_text(port, store_dir=str(tmp / "store"), log_dir=str(tmp / "log"))
    text = text.replace("sqlite:///fixgate.db", f"sqlite:///{tmp / 'fixgate.db'}")
    text = text.replace("OrderJournal=fixgate-orders.jsonl", f"OrderJournal={tmp / 'orders.jsonl'}")
    text = text.replace("VenueJournal=fixgate-venue.journal", f"VenueJournal={tmp / 'venue.journal'}")
    text = text.replace("HeartBtInt=30", "HeartBtInt=30\nLogoutTimeout=2")
    return text.replace("# --- gateway", "# --- gateway\n" + extra)


def client_text(tmp: Path, port: int, sender: str, begin: str = "FIX.4.4") -> str:
    dictionary = {"FIX.4.4": "DataDictionary=FIX44.xml", "FIX.4.2": "DataDictionary=FIX42.xml",
                  "FIXT.1.1": "DefaultApplVerID=FIX.5.0SP2\nTransportDataDictionary=FIXT11.xml\n"
                              "AppDataDictionary=FIX50SP2.xml"}[begin]
    return f"""[DEFAULT]
ConnectionType=initiator
FileStorePath={tmp / ('client-' + sender + '-' + begin)}
NonStopSession=Y
HeartBtInt=30
ReconnectInterval=1
LogoutTimeout=2
UseDataDictionary=Y
ValidateUserDefinedFields=N
{dictionary}
[SESSION]
BeginString={begin}
SenderCompID={sender}
TargetCompID=FIXGATE
SocketConnectHost=127.0.0.1
SocketConnectPort={port}
"""


def order(cl_ord_id: str, side: str, qty: str, price: str, symbol: str = "IBM", account: str | None = None,
          **extra: str) -> FixMessage:
    fields: list[tuple[int, object]] = [(11, cl_ord_id), (21, "1"), (38, qty), (40, "2"), (44, price), (54, side),
                                        (55, symbol), (60, "20260101-10:00:00.000")]
    if account is not None:
        fields.append((1, account))
    fields.extend((int(k[1:]), v) for k, v in extra.items())
    return FixMessage.new("D", *fields)


class GatewayHarness:
    """A gateway on 127.0.0.1 and FIX clients connected to it, on the real reactor."""

    def __init__(self, tmp: Path, extra: str = "") -> None:
        self.tmp = tmp
        self.port = free_port()
        self.extra = extra
        self.gateway: Gateway | None = None
        self.clients: dict[str, tuple[RecordingApp, object]] = {}
        self.log: list[str] = []

    async def start_gateway(self) -> Gateway:
        text = gateway_text(self.tmp, self.port, self.extra)
        config = gateway_config(parse_config(text, "test-gateway.cfg", base_dir=self.tmp), self.tmp)
        self.gateway = Gateway(config, reactor=reactor, echo=self.log.append)
        await self.gateway.listen()
        self.gateway.startService()
        return self.gateway

    async def stop_gateway(self) -> None:
        if self.gateway is not None and self.gateway.running:
            await self.gateway.stopService()
            for port in self.gateway.acceptor.ports:
                await defer.maybeDeferred(port.stopListening)

    async def connect(self, sender: str, begin: str = "FIX.4.4") -> RecordingApp:
        app = RecordingApp()
        service = initiator_from(client_text(self.tmp, self.port, sender, begin), app)
        service.startService()
        self.clients[f"{sender}/{begin}"] = (app, service)
        await app.wait_for(lambda e: e.kind == "logon", timeout=10)
        return app

    async def disconnect_all(self) -> None:
        for _app, service in self.clients.values():
            if service.running:  # type: ignore[attr-defined]
                await service.stopService()  # type: ignore[attr-defined]
        self.clients.clear()

    @staticmethod
    def session_of(app: RecordingApp) -> SessionID:
        return next(e.session_id for e in app.events if e.kind == "logon")

    def send(self, app: RecordingApp, message: FixMessage) -> None:
        app.registry.send_to_target(message, self.session_of(app))


def reports(app: RecordingApp, msg_type: str = "8") -> list[FixMessage]:
    return [e.message for e in app.events if e.kind == "from_app" and e.message is not None
            and e.message.msg_type == msg_type]


def wait_report(app: RecordingApp, predicate, timeout: float = 10.0) -> defer.Deferred:  # type: ignore[no-untyped-def]
    return app.wait_for(lambda e: e.kind == "from_app" and e.message is not None and predicate(e.message),
                        timeout=timeout)


def is_er(cl_ord_id: str, exec_type: str, ord_status: str | None = None):  # type: ignore[no-untyped-def]
    def check(m: FixMessage) -> bool:
        return (m.msg_type == "8" and m.get(11) == cl_ord_id and m.get(150) == exec_type
                and (ord_status is None or m.get(39) == ord_status))
    return check


D = Decimal
