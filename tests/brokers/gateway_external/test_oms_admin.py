"""``fixgate oms``: limits edited while the gateway runs (audited), kill switches that cancel working
orders at every venue, release; and cancel-on-disconnect for client sessions.

The CLI runs in a worker thread (it blocks on its socket) while the reactor serves the admin
channel; every wait is bounded and event-driven.
"""

from __future__ import annotations

import json
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from twisted.internet import defer, threads
from twisted.trial import unittest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ext_support import ExternalGatewayHarness, held, is_er, order, reports, venue_block, wait_report  # noqa: E402
from harness import free_port  # noqa: E402
from qf_exchange import QfExchange, quickfix  # noqa: E402

from brokers.cli import main  # noqa: E402
from brokers.domain.limits import Throttle, ThrottleAction  # noqa: E402
from brokers.oms_cli import admin_address, field_name, handle_oms_line, parse_value  # noqa: E402
from venues.base import OrdType  # noqa: E402

D = Decimal


# ---- pure pieces --------------------------------------------------------------------------------


def test_field_names_and_values() -> None:
    assert field_name("MaxOrderQty") == field_name("max_order_qty") == field_name("max-order-qty") == "max_order_qty"
    with pytest.raises(ValueError, match="unknown limit field"):
        field_name("speed")
    assert parse_value("max_order_qty", "500") == D(500)
    assert parse_value("max_order_qty", "none") is None
    assert parse_value("credit_allowed", "N") is False
    assert parse_value("allowed_ord_types", "2,MARKET") == frozenset({OrdType.LIMIT, OrdType.MARKET})
    assert parse_value("throttle", "10/2/disconnect") == Throttle(10, D(2), ThrottleAction.DISCONNECT)
    with pytest.raises(ValueError):
        parse_value("max_order_qty", "lots")


def test_admin_address_defaults(tmp_path: Path) -> None:
    assert admin_address("127.0.0.1:5555", None) == ("127.0.0.1", 5555)
    assert admin_address("6000", None) == ("127.0.0.1", 6000)
    assert admin_address(None, None) == ("127.0.0.1", 9879)  # the shipped gateway.cfg
    cfg = tmp_path / "g.cfg"
    cfg.write_text("[DEFAULT]\nAdminPort=7001\n")
    assert admin_address(None, str(cfg)) == ("127.0.0.1", 7001)
    cfg.write_text("[DEFAULT]\nHeartBtInt=30\n")
    assert admin_address(None, str(cfg)) == ("127.0.0.1", 9879)


def test_oms_is_mounted() -> None:
    result = CliRunner().invoke(main, ["oms", "--help"])
    assert result.exit_code == 0
    assert {"limits", "kill", "release"} <= set(result.output.split())


# ---- against a running gateway ------------------------------------------------------------------


def cli(*args: str) -> defer.Deferred:
    """``fixgate oms ...`` in a worker thread; fires with the click Result."""
    return threads.deferToThread(CliRunner().invoke, main, ["oms", *args])


@pytest.mark.network
class OmsAdminTest(unittest.TestCase):
    timeout = 60
    extra = ""
    blocks = ""

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fixgate-oms-"))
        self.exchange: QfExchange | None = None
        self.h = ExternalGatewayHarness(self.tmp, extra=self.extra, blocks=self.blocks)

    async def _teardown(self) -> None:
        await self.h.disconnect_all()
        await self.h.stop_gateway()
        if self.exchange is not None:
            await self.exchange.stop()

    def tearDown(self) -> defer.Deferred:
        return defer.ensureDeferred(self._teardown())

    async def start(self) -> str:
        gw = await self.h.start_gateway()
        port = gw.listen_admin(0)
        return f"127.0.0.1:{port}"

    async def test_limits_set_show_audit_take_effect_while_running(self) -> None:
        admin = await self.start()
        c1 = await self.h.connect("CLIENT1")
        result = await cli("limits", "set", "account", "DEMO1", "MaxOrderQty", "50", "--who", "alice", "--admin", admin)
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertEqual(result.output.strip(), "account DEMO1: max_order_qty None -> 50 (by alice)")
        self.h.send(c1, order("L1", "1", "100", "100.00"))
        rej = (await wait_report(c1, is_er("L1", "8", "8"))).message
        self.assertEqual(rej.get(103), "3")
        self.assertTrue(rej.get(58).startswith("max order quantity"), rej.get(58))
        self.h.send(c1, order("L2", "1", "50", "100.00"))
        await wait_report(c1, is_er("L2", "0", "0"))
        result = await cli("limits", "set", "session", "CLIENT2", "max_order_notional", "1000", "--who", "bob",
                           "--admin", admin)
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertEqual(len(result.output.strip().splitlines()), 3)  # CLIENT2 on FIX.4.2, FIX.4.4, FIXT.1.1
        shown = await cli("limits", "show", "account", "DEMO1", "--admin", admin)
        self.assertEqual(shown.output.strip(), "account DEMO1: max_order_qty=50")
        everything = await cli("limits", "show", "--admin", admin, "--json")
        scopes = {(r["scope"], r["key"]) for r in json.loads(everything.output)["limits"]}
        self.assertIn(("firm", ""), scopes)
        self.assertIn(("session", "FIX.4.4:FIXGATE->CLIENT2"), scopes)
        audit = json.loads((await cli("limits", "audit", "--admin", admin, "--json")).output)["audit"]
        self.assertEqual([(a["who"], a["scope"], a["key"], a["field"], a["old"], a["new"]) for a in audit][0],
                         ("alice", "account", "DEMO1", "max_order_qty", None, "50"))
        self.assertEqual({a["who"] for a in audit[1:]}, {"bob"})
        self.assertEqual(len(self.h.gateway.limits.audit_trail), 4)
        # removing the limit is audited too; errors are one clean line
        result = await cli("limits", "set", "account", "DEMO1", "max_order_qty", "none", "--who", "alice",
                           "--admin", admin)
        self.assertIn("max_order_qty 50 -> None", result.output)
        bad = await cli("limits", "set", "account", "NOPE", "max_order_qty", "1", "--admin", admin)
        self.assertEqual(bad.exit_code, 1)
        self.assertIn("unknown account 'NOPE'", bad.output)
        bad = await cli("limits", "set", "account", "DEMO1", "warp", "1", "--admin", admin)
        self.assertIn("unknown limit field 'warp'", bad.output)
        self.assertIn("audit", handle_oms_line(self.h.gateway, "limits audit"))

    async def test_kill_and_release_a_session(self) -> None:
        admin = await self.start()
        c1 = await self.h.connect("CLIENT1")
        c2 = await self.h.connect("CLIENT2")
        self.h.send(c1, order("K1", "1", "10", "99.00"))
        self.h.send(c1, order("K2", "2", "10", "101.00"))
        self.h.send(c2, order("K3", "1", "10", "98.00"))
        await wait_report(c1, is_er("K2", "0", "0"))
        await wait_report(c2, is_er("K3", "0", "0"))
        result = await cli("kill", "session", "CLIENT1", "--who", "risk", "--admin", admin)
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertIn("2 cancel(s) requested", result.output)
        for cl in ("K1", "K2"):
            cxl = (await wait_report(c1, is_er(cl, "4", "4"))).message
            self.assertEqual(cxl.get(58), "kill switch: session CLIENT1")
        self.h.send(c1, order("K4", "1", "10", "99.00"))
        rej = (await wait_report(c1, is_er("K4", "8", "8"))).message
        self.assertIn("kill switch", rej.get(58))
        self.assertEqual([m.get(150) for m in reports(c2) if m.get(11) == "K3"], ["0"])  # untouched
        result = await cli("release", "session", "CLIENT1", "--who", "risk", "--admin", admin)
        self.assertEqual(result.exit_code, 0, result.output)
        self.h.send(c1, order("K5", "1", "10", "99.00"))
        await wait_report(c1, is_er("K5", "0", "0"))
        audit = [(c.who, c.field, c.new) for c in self.h.gateway.limits.audit_trail]
        self.assertEqual(audit.count(("risk", "kill_switch", True)), 3)
        self.assertEqual(audit.count(("risk", "kill_switch", None)), 3)
        await self.h.gateway.writer.drain()
        self.assertEqual(self.h.gateway.registry.check(), [])


@pytest.mark.network
@pytest.mark.skipif(quickfix is None, reason="quickfix not installed")
class KillAcrossVenuesTest(OmsAdminTest):
    """Kill an account whose orders work on the internal venue and on a QuickFIX exchange."""

    def setUp(self) -> None:
        self.xport = free_port()
        self.extra = "Route.XYZ=XQFX\n"
        self.blocks = venue_block("XQFX", self.xport)
        super().setUp()

    async def start(self) -> str:
        (self.tmp / "qf").mkdir()
        self.exchange = QfExchange(self.tmp / "qf", self.xport)
        self.exchange.start()
        admin = await super().start()
        await self.exchange.log.wait_for(lambda e: e.kind == "logon", timeout=15)
        return admin

    async def test_kill_account_cancels_at_every_venue(self) -> None:
        admin = await self.start()
        c1 = await self.h.connect("CLIENT1")
        c2 = await self.h.connect("CLIENT2")
        self.h.send(c1, order("A1", "1", "10", "99.00"))  # internal
        self.h.send(c1, order("A2", "1", "100", "11.00", symbol="XYZ"))  # external, rests
        self.h.send(c2, order("A3", "1", "10", "11.00", symbol="XYZ"))  # DEMO2: not killed
        await wait_report(c1, is_er("A1", "0", "0"))
        await wait_report(c1, is_er("A2", "0", "0"))
        await wait_report(c2, is_er("A3", "0", "0"))
        self.assertGreater(held(self.tmp / "fixgate.db", "DEMO1")["USD"], 0)
        result = await cli("kill", "account", "DEMO1", "--who", "risk", "--admin", admin)
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertIn("2 cancel(s) requested", result.output)
        for cl in ("A1", "A2"):
            cxl = (await wait_report(c1, is_er(cl, "4", "4"))).message
            self.assertEqual(cxl.get(58), "kill switch: account DEMO1")
        f = await self.exchange.log.wait_for(lambda e: e.kind == "app_in" and e.msg_type == "F")
        self.assertEqual(f.fields[55], "XYZ")
        self.assertEqual([m.get(150) for m in reports(c2) if m.get(11) == "A3"], ["A", "0"])
        self.h.send(c1, order("A4", "1", "1", "11.00", symbol="XYZ"))
        rej = (await wait_report(c1, is_er("A4", "8", "8"))).message
        self.assertIn("kill switch", rej.get(58))
        await self.h.gateway.writer.drain()
        self.assertEqual(held(self.tmp / "fixgate.db", "DEMO1")["USD"], 0)
        self.assertEqual(self.h.gateway.registry.check(), [])

    # the inherited tests run once in OmsAdminTest; not again here
    test_limits_set_show_audit_take_effect_while_running = None  # type: ignore[assignment]
    test_kill_and_release_a_session = None  # type: ignore[assignment]


@pytest.mark.network
class CancelOnDisconnectTest(unittest.TestCase):
    timeout = 60

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fixgate-cod-"))
        # DEFAULT-level: every client session cancels on disconnect (a session block may say N)
        self.h = ExternalGatewayHarness(self.tmp, extra="CancelOnDisconnect=Y\n")

    async def _teardown(self) -> None:
        await self.h.disconnect_all()
        await self.h.stop_gateway()

    def tearDown(self) -> defer.Deferred:
        return defer.ensureDeferred(self._teardown())

    async def test_logout_cancels_the_sessions_working_day_orders_everywhere(self) -> None:
        gw = await self.h.start_gateway()
        self.assertEqual(len(gw.config.cancel_on_disconnect), 6)
        c1 = await self.h.connect("CLIENT1")
        c2 = await self.h.connect("CLIENT2")
        self.h.send(c1, order("D1", "1", "10", "99.00"))  # DAY
        self.h.send(c1, order("G1", "1", "10", "99.00", t59="1"))  # GTC: stays
        self.h.send(c2, order("O1", "1", "10", "99.00"))  # another session: stays
        await wait_report(c1, is_er("G1", "0", "0"))
        await wait_report(c2, is_er("O1", "0", "0"))
        _, service = self.h.clients.pop("CLIENT1/FIX.4.4")
        await service.stopService()  # Logout
        store = gw.application.store
        d1 = next(g for g in store if g.order.cl_ord_id == "D1")
        g1 = next(g for g in store if g.order.cl_ord_id == "G1")
        from harness import wait_until

        await wait_until(lambda: d1.order.status.is_terminal, timeout=10)
        self.assertEqual(d1.order.status.name, "CANCELED")
        self.assertFalse(g1.order.status.is_terminal)
        self.assertEqual(sorted(g.order.cl_ord_id for g in store.working()), ["G1", "O1"])
        # the unsolicited cancel waits in the session store and is resent at the next logon
        c1 = await self.h.connect("CLIENT1")
        cxl = (await wait_report(c1, is_er("D1", "4", "4"))).message
        self.assertEqual(cxl.get(58), "cancel on disconnect")
        await gw.writer.drain()
        self.assertEqual(gw.registry.check(), [])


@pytest.mark.network
class AdminPortFromConfigTest(unittest.TestCase):
    """As ``fixgate run`` starts it: privilegedStartService binds AdminPort; the CLI finds it via -c."""

    timeout = 60

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fixgate-oms-port-"))
        self.admin_port = free_port()
        self.h = ExternalGatewayHarness(self.tmp)

    async def _teardown(self) -> None:
        await self.h.stop_gateway()

    def tearDown(self) -> defer.Deferred:
        return defer.ensureDeferred(self._teardown())

    async def test_run_style_start_opens_the_admin_port_of_the_config(self) -> None:
        from twisted.internet import reactor

        from brokers.gateway import Gateway
        from brokers.gateway_config import gateway_config
        from fix_engine.config import parse_config

        text = self.h.config_text().replace("AdminPort=9879", f"AdminPort={self.admin_port}")
        cfg = self.tmp / "gateway.cfg"
        cfg.write_text(text)
        config = gateway_config(parse_config(text, str(cfg), base_dir=self.tmp), self.tmp)
        self.assertEqual(config.admin_port, self.admin_port)
        gw = self.h.gateway = Gateway(config, reactor=reactor, echo=self.h.log.append)
        gw.privilegedStartService()
        gw.startService()
        await gw.listening
        self.assertIn(f"fixgate: OMS admin channel on 127.0.0.1:{self.admin_port}", self.h.log)
        result = await cli("limits", "show", "firm", "-c", str(cfg))
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertEqual(result.output.strip(), "firm: max_order_qty=1000000 max_order_notional=50000000 collar_pct=50")
