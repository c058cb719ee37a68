"""Runtime limit edits and kill switches survive a gateway restart (LimitsJournal), end to end:
edited through the OMS admin command handler, the gateway stopped and started again on the same
files, an order refused by the restored kill switch."""

from __future__ import annotations

import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from twisted.internet import defer
from twisted.trial import unittest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import GatewayHarness, is_er, order, wait_report  # noqa: E402

from brokers.domain.limits import LimitScope  # noqa: E402
from brokers.oms_cli import handle_oms_line  # noqa: E402

pytestmark = pytest.mark.network


class LimitsPersistedTest(unittest.TestCase):
    timeout = 60

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fixgate-gw-limits-"))
        self.h = GatewayHarness(self.tmp)

    def tearDown(self):  # type: ignore[no-untyped-def]
        async def down() -> None:
            await self.h.disconnect_all()
            await self.h.stop_gateway()
        return defer.ensureDeferred(down())

    async def test_edits_and_kill_switches_are_back_after_a_restart(self) -> None:
        gw = await self.h.start_gateway()
        self.assertEqual(gw.config.limits_journal, str(self.tmp / "fixgate-limits.journal"))
        answer = handle_oms_line(gw, "limits set account DEMO1 MaxOrderQty 250 by ops")
        self.assertTrue(answer["ok"], answer)
        answer = handle_oms_line(gw, "kill account DEMO2 by risk")
        self.assertTrue(answer["ok"], answer)
        trail = gw.limits.audit_trail
        await self.h.stop_gateway()

        gw = await self.h.start_gateway()
        self.assertEqual(gw.limits.get(LimitScope.ACCOUNT, "DEMO1").max_order_qty, Decimal(250))
        self.assertTrue(gw.limits.get(LimitScope.ACCOUNT, "DEMO2").kill_switch)
        self.assertEqual(gw.limits.audit_trail, trail)
        self.assertIn(f"fixgate: 2 runtime limit edit(s) re-applied from {self.tmp / 'fixgate-limits.journal'}",
                      self.h.log)
        client = await self.h.connect("CLIENT2")
        self.h.send(client, order("K1", "1", "10", "100.00", account="DEMO2"))
        reject = await wait_report(client, is_er("K1", "8"))
        assert reject.message is not None
        self.assertIn("kill switch", reject.message.get(58) or "")
        # released after the restart, and the release is journaled too
        self.assertTrue(handle_oms_line(gw, "release account DEMO2")["ok"])
        await self.h.disconnect_all()
        await self.h.stop_gateway()
        gw = await self.h.start_gateway()
        self.assertFalse(gw.limits.get(LimitScope.ACCOUNT, "DEMO2").kill_switch)
        self.assertEqual(gw.limits.get(LimitScope.ACCOUNT, "DEMO1").max_order_qty, Decimal(250))

    async def test_limits_journal_n_keeps_nothing(self) -> None:
        self.h.extra = "LimitsJournal=N\n"
        gw = await self.h.start_gateway()
        self.assertIsNone(gw.limits_journal)
        self.assertTrue(handle_oms_line(gw, "kill account DEMO2")["ok"])
        await self.h.stop_gateway()
        gw = await self.h.start_gateway()
        self.assertFalse(gw.limits.get(LimitScope.ACCOUNT, "DEMO2").kill_switch)
