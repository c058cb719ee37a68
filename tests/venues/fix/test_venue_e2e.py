"""End to end over 127.0.0.1: the venue (VenueFixService, the `fixgate venue run` composition) with
two clients - a fixgate initiator (FIXT.1.1/FIX.5.0SP2) and a quickfix SocketInitiator (FIX.4.4) -
trading with each other: order, partial fill, replace, fill, cancel, and a market data
subscription that sees the trades.  Every wait is event-driven and bounded."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from twisted.internet import defer, reactor

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[1] / "interop"))

from interop_support import (  # noqa: E402
    FIX44,
    FIX50SP2,
    FixgateApp,
    InteropTestCase,
    fixgate_cfg,
    fx,
)
from qf_peer import free_port, matcher, quickfix  # noqa: E402

from fix_engine.codec.message import FixMessage  # noqa: E402
from fix_engine.config import parse_config  # noqa: E402
from fix_engine.transport.initiator import InitiatorService  # noqa: E402
from fix_engine.transport.session_builder import SessionBuilder  # noqa: E402
from venues.cli import VenueFixService, load_venue_config  # noqa: E402

T = "20260101-10:00:00.000"


def venue_cfg(port: int, workdir: Path) -> Path:
    text = (Path(__file__).resolve().parents[3] / "session_configs" / "venue.cfg").read_text()
    text = text.replace("JournalURL=sqlite:///fixgate-venue.db", f"JournalFile={workdir / 'venue.journal'}")
    text = text.replace("AdminPort=9881", "AdminPort=0").replace("SocketAcceptPort=9880", f"SocketAcceptPort={port}")
    path = workdir / "venue.cfg"
    path.write_text(text)
    return path


class VenueTestCase(InteropTestCase):
    timeout = 60

    def setUp(self) -> None:
        super().setUp()
        self.port = free_port()
        self.venue_service: VenueFixService | None = None

    async def start_venue(self) -> VenueFixService:
        service = VenueFixService(load_venue_config(venue_cfg(self.port, self.tmp)), reactor)
        await service.start()
        self.venue_service = service
        self.addCleanup(lambda: defer.ensureDeferred(service.stop()))
        return service

    def fixgate_client(self, sender: str, version=FIX50SP2) -> tuple[FixgateApp, InitiatorService]:
        app = FixgateApp(execute=False)
        cfg = fixgate_cfg(initiator=True, version=version, port=self.port, workdir=self.tmp / sender, sender=sender,
                          target="FIXGATE", extra="ResetOnLogon=Y")
        service = InitiatorService(parse_config(cfg, f"{sender}.cfg").sessions, SessionBuilder(app), reactor,
                                   registry=app.registry)
        service.startService()
        self._services.append(service)
        return app, service


class TestFixgateClients(VenueTestCase):
    async def test_two_fixgate_clients_trade(self) -> None:
        await self.start_venue()
        buyer, _ = self.fixgate_client("BUYER")
        seller, _ = self.fixgate_client("SELLER", FIX44)
        b_logon = await buyer.wait("logon")
        s_logon = await seller.wait("logon")
        b_sid, s_sid = b_logon.session_id, s_logon.session_id
        buyer.registry.send_to_target(FixMessage.new("D", (11, "B1"), (38, "100"), (40, "2"), (44, "10.5"), (54, "1"),
                                                     (55, "IBM"), (60, T)), b_sid)
        await buyer.wait(fx("from_app", "8", t11="B1", t150="0"))
        seller.registry.send_to_target(FixMessage.new("D", (11, "S1"), (38, "100"), (40, "2"), (44, "10.5"), (54, "2"),
                                                      (55, "IBM"), (60, T)), s_sid)
        fill = await buyer.wait(fx("from_app", "8", t11="B1", t39="2"))
        other = await seller.wait(fx("from_app", "8", t11="S1", t39="2"))
        assert fill.message.get(880) and other.message.get(880) is None  # 4.4 has no TrdMatchID in ER
        assert not buyer.matching(fx("from_admin", "3")) and not seller.matching(fx("from_admin", "3"))


@pytest.mark.interop
class TestFixgateAndQuickfixTrade(VenueTestCase):
    def setUp(self) -> None:
        if quickfix is None:
            raise pytest.skip.Exception("quickfix is not installed")
        super().setUp()

    async def test_order_partial_fill_replace_fill_cancel_and_market_data(self) -> None:
        await self.start_venue()
        fg, _ = self.fixgate_client("FGCLIENT")
        peer, watcher = self.qf_initiator(FIX44, self.port, sender="QFCLIENT", target="FIXGATE",
                                          session_extra="ResetOnLogon=Y\n")
        fg_sid = (await fg.wait("logon")).session_id
        await watcher.wait(matcher("logon"))

        # market data: fixgate subscribes to IBM bids, offers and trades
        md = FixMessage.new("V", (262, "MD1"), (263, "1"), (264, "0"))
        md.add_group(267, [[(269, "0")], [(269, "1")], [(269, "2")]]).add_group(146, [[(55, "IBM")]])
        fg.registry.send_to_target(md, fg_sid)
        await fg.wait(fx("from_app", "W", t262="MD1"))

        # quickfix buys 100 @ 10.5
        peer.send([(11, "Q1"), (21, "1"), (38, "100"), (40, "2"), (44, "10.5"), (54, "1"), (55, "IBM"), (60, T)], "D")
        ack = await watcher.wait(matcher("app_in", "8", t11="Q1", t150="0"))
        order_id = ack.field(37)
        # fixgate sells 40: partial fill for quickfix, full fill for fixgate
        fg.registry.send_to_target(FixMessage.new("D", (11, "F1"), (38, "40"), (40, "2"), (44, "10.5"), (54, "2"),
                                                  (55, "IBM"), (60, T)), fg_sid)
        partial = await watcher.wait(matcher("app_in", "8", t11="Q1", t150="F", t39="1"))
        assert (partial.field(32), partial.field(31), partial.field(14), partial.field(151)) == ("40", "10.5", "40", "60")
        fg_fill = await fg.wait(fx("from_app", "8", t11="F1", t39="2"))
        assert fg_fill.message.get(851) == "2" and partial.field(851) == "1"
        # quickfix replaces: 80 total (40 left) at the same price
        peer.send([(11, "Q2"), (41, "Q1"), (37, order_id), (21, "1"), (38, "80"), (40, "2"), (44, "10.5"), (54, "1"),
                   (55, "IBM"), (60, T)], "G")
        replaced = await watcher.wait(matcher("app_in", "8", t11="Q2", t150="5"))
        assert (replaced.field(41), replaced.field(151), replaced.field(14), replaced.field(37)) == ("Q1", "40", "40", order_id)
        # fixgate sells the remaining 40: quickfix filled
        fg.registry.send_to_target(FixMessage.new("D", (11, "F2"), (38, "40"), (40, "2"), (44, "10.5"), (54, "2"),
                                                  (55, "IBM"), (60, T)), fg_sid)
        filled = await watcher.wait(matcher("app_in", "8", t11="Q2", t39="2"))
        assert (filled.field(14), filled.field(151), filled.field(6)) == ("80", "0", "10.5")
        # quickfix rests another order and cancels it
        peer.send([(11, "Q3"), (21, "1"), (38, "10"), (40, "2"), (44, "10"), (54, "1"), (55, "IBM"), (60, T)], "D")
        await watcher.wait(matcher("app_in", "8", t11="Q3", t150="0"))
        peer.send([(11, "Q4"), (41, "Q3"), (54, "1"), (55, "IBM"), (60, T)], "F")
        cancelled = await watcher.wait(matcher("app_in", "8", t11="Q4", t150="4"))
        assert (cancelled.field(39), cancelled.field(41)) == ("4", "Q3")
        # fixgate cannot cancel quickfix's order
        fg.registry.send_to_target(FixMessage.new("F", (11, "F9"), (37, order_id), (41, "Q2"), (54, "1"), (55, "IBM"),
                                                  (60, T)), fg_sid)
        reject = await fg.wait(fx("from_app", "9", t11="F9"))
        assert reject.message.get(102) == "1"
        # the subscriber saw both trades
        def trades() -> list[str]:
            out = []
            for e in fg.matching(fx("from_app", "X")):
                flat = list(e.message.fields)
                out += [flat[i + 1][1].decode() for i, (t, v) in enumerate(flat) if t == 269 and v == b"2"]
            return out
        await fg.wait(lambda e: len(trades()) >= 2)
        # nobody was session-rejected
        assert not peer.matching(matcher("app_in", "3")) and not peer.matching(matcher("admin_in", "3"))
        assert not peer.matching(matcher("admin_out", "3")) and not peer.matching(matcher("app_in", "j"))
        assert not fg.matching(fx("from_admin", "3"))
