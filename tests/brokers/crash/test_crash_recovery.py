"""Kill ``fixgate run`` (SIGKILL) during bursts of crossing orders, restart it on the same files, prove:

* every fill the venue made is booked exactly once (registry fills == venue journal fills, no
  duplicate (venue, ExecID)) and ``registry check`` is clean;
* each client received an ExecutionReport for every one of its fills (by ExecID; a repeat only
  with PossDupFlag=Y), after reconnecting with its file store (no ResetOnLogon);
* cash and holdings match the venue fills to the cent.

Kill points: a deterministic "between the venue's fill and the booking" crash (the test-only
``gateway_wrapper.py`` with ``FIXGATE_FAULT=crash_after_venue_fill:<n>``) and seeded points
"after K acknowledgements" / "after K fill reports" seen by a client.  Waits are bounded and
event-driven: process output lines, FIX events, process exit.
"""

from __future__ import annotations

import os
import random
import re
import sys
import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from twisted.internet import defer, protocol, reactor
from twisted.trial import unittest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "gateway"))
sys.path.insert(0, str(HERE.parents[1] / "transport"))

from harness import free_port, initiator_from  # noqa: E402
from support import RecordingApp, client_text, gateway_text, order  # noqa: E402

from brokers.recovery import CapturingVenue  # noqa: E402
from brokers.registry import Registry  # noqa: E402
from venues.internal.journal import FileJournal  # noqa: E402

pytestmark = pytest.mark.network

START_CASH = Decimal("100000000")
START_SHARES = Decimal("1000000")
SEED = int(os.environ.get("FIXGATE_CRASH_SEED", "20261122"))
WRAPPER = HERE / "gateway_wrapper.py"
TIMEOUT = 30.0


class GatewayProcess(protocol.ProcessProtocol):
    """One ``fixgate run`` subprocess: waits on its output lines and on its exit (bounded)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._buffer = b""
        self._line_waiters: list[tuple[str, defer.Deferred]] = []
        self.ended: defer.Deferred = defer.Deferred()
        self.exited = False

    def outReceived(self, data: bytes) -> None:
        self._buffer += data
        while b"\n" in self._buffer:
            raw, self._buffer = self._buffer.split(b"\n", 1)
            line = raw.decode(errors="replace")
            self.lines.append(line)
            for waiter in list(self._line_waiters):
                if waiter[0] in line:
                    self._line_waiters.remove(waiter)
                    waiter[1].callback(line)

    errReceived = outReceived

    def processEnded(self, reason: object) -> None:
        self.exited = True
        for _, d in self._line_waiters:
            d.errback(AssertionError("gateway exited:\n" + "\n".join(self.lines[-30:])))
        self._line_waiters.clear()
        self.ended.callback(None)

    def wait_line(self, text: str, timeout: float = TIMEOUT) -> defer.Deferred:
        for line in self.lines:
            if text in line:
                return defer.succeed(line)
        d: defer.Deferred = defer.Deferred()
        self._line_waiters.append((text, d))
        return d.addTimeout(timeout, reactor)

    def kill(self) -> defer.Deferred:
        if not self.exited:
            self.transport.signalProcess("KILL")
        return self.ended


class CrashHarness(unittest.TestCase):
    """A ``fixgate run`` subprocess on tmp files, two fixgate FIX clients in process, the checks."""

    timeout = 240

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fixgate-crash-"))
        self.port = free_port()
        self.cfg = self.tmp / "gateway.cfg"
        # no OMS admin channel (a fixed demo port; not what this test is about)
        self.cfg.write_text(re.sub(r"(?m)^AdminPort=.*$", "AdminPort=0", gateway_text(self.tmp, self.port)))
        self.gateway: GatewayProcess | None = None
        self.clients: dict[str, tuple[RecordingApp, object]] = {}
        self.rng = random.Random(SEED)
        self.outputs: list[str] = []

    async def _teardown(self) -> None:
        for _app, service in self.clients.values():
            if service.running:  # type: ignore[attr-defined]
                await service.stopService()  # type: ignore[attr-defined]
        if self.gateway is not None:
            await self.gateway.kill()

    def tearDown(self):  # type: ignore[no-untyped-def]
        return defer.ensureDeferred(self._teardown())

    # ---- helpers -------------------------------------------------------------------------------

    async def start_gateway(self, fault: str | None = None) -> GatewayProcess:
        env = {k: v for k, v in os.environ.items() if k != "FIXGATE_FAULT"}
        if fault:
            env["FIXGATE_FAULT"] = fault
        root = str(Path(__file__).resolve().parents[3])
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        proc = GatewayProcess()
        reactor.spawnProcess(proc, sys.executable, [sys.executable, str(WRAPPER), "run", "-c", str(self.cfg)],
                             env=env, path=str(self.tmp))
        self.gateway = proc
        await proc.wait_line("listening on")
        return proc

    async def stop_gateway(self, *, kill: bool = True) -> None:
        assert self.gateway is not None
        if not kill:
            self.gateway.transport.signalProcess("TERM")
        await self.gateway.kill() if kill else await self.gateway.ended.addTimeout(TIMEOUT, reactor)
        self.outputs.append("\n".join(self.gateway.lines))

    def logons(self, app: RecordingApp) -> int:
        return sum(1 for e in app.events if e.kind == "logon")

    async def connect(self, sender: str) -> RecordingApp:
        app = RecordingApp()
        service = initiator_from(client_text(self.tmp, self.port, sender), app)
        service.startService()
        self.clients[sender] = (app, service)
        await app.wait_for("logon", timeout=TIMEOUT)
        return app

    async def wait_logons(self, counts: dict[str, int]) -> None:
        for name, (app, _) in self.clients.items():
            await app.wait_for(lambda e, a=app, n=counts[name]: e.kind == "logon" and self.logons(a) > n,
                               timeout=TIMEOUT)

    def send(self, name: str, message: object) -> None:
        app = self.clients[name][0]
        session_id = next(e.session_id for e in app.events if e.kind == "logon")
        app.registry.send_to_target(message, session_id)  # type: ignore[arg-type]

    def burst(self, tag: str, n: int) -> None:
        """CLIENT1 buys and CLIENT2 sells IBM, interleaved, crossing at 100.00-100.02."""
        for i in range(n):
            qty = str(self.rng.randint(1, 30) * 10)
            px = ("100.00", "100.01", "100.02")[self.rng.randrange(3)]
            self.send("CLIENT1", order(f"{tag}B{i}", "1", qty, px))
            self.send("CLIENT2", order(f"{tag}S{i}", "2", qty, "100.00"))

    @staticmethod
    def received(app: RecordingApp, predicate) -> int:  # type: ignore[no-untyped-def]
        return sum(1 for e in app.events if e.kind == "from_app" and e.message is not None and predicate(e.message))

    async def wait_received(self, name: str, predicate, count: int) -> None:  # type: ignore[no-untyped-def]
        app = self.clients[name][0]
        await app.wait_for(lambda e: self.received(app, predicate) >= count, timeout=TIMEOUT)

    async def sync_clients(self, tag: str) -> None:
        """An OrderMassStatusRequest per client; its last answer comes after every earlier report."""
        for name, (app, _) in self.clients.items():
            req_id = f"{tag}-{name}"
            from fix_engine.codec.message import FixMessage

            self.send(name, FixMessage.new("AF", (584, req_id), (585, "7")))
            await app.wait_for(lambda e, r=req_id: e.kind == "from_app" and e.message is not None
                               and e.message.get(584) == r and e.message.get(912) == "Y", timeout=TIMEOUT)

    # ---- the checks ----------------------------------------------------------------------------

    def venue_fills(self) -> list:  # type: ignore[type-arg]
        journal = FileJournal(str(self.tmp / "venue.journal"))
        try:
            venue = CapturingVenue.recover("INTERNAL", journal, lambda: 0, use_snapshot=False)
            return venue.stop_capture()
        finally:
            journal.close()

    def check_files(self, min_fills: int = 1) -> None:
        fills = self.venue_fills()
        self.assertGreaterEqual(len(fills), min_fills)
        with Registry(f"sqlite:///{self.tmp / 'fixgate.db'}") as registry:
            booked = [e for e in registry.fills() if e.fill is not None]
            keys = Counter((e.venue, e.exec_id) for e in booked)
            self.assertEqual([k for k, n in keys.items() if n > 1], [])
            self.assertEqual(set(keys), {("INTERNAL", f.exec_id) for f in fills})
            self.assertEqual(registry.check(), [])
            for account, client, sign in (("DEMO1", "CLIENT1", 1), ("DEMO2", "CLIENT2", -1)):
                mine = [f for f in fills if f.owner.endswith("->" + client)]
                notional = sum((f.last_qty * f.last_px for f in mine), Decimal(0))
                shares = sum((f.last_qty for f in mine), Decimal(0))
                balances = {b.asset.code: b.amount for b in registry.balances(account)}
                self.assertEqual(balances["USD"], START_CASH - sign * notional, account)
                self.assertEqual(balances["IBM"], START_SHARES + sign * shares, account)
        for client in ("CLIENT1", "CLIENT2"):
            app = self.clients[client][0]
            ers = [e.message for e in app.events if e.kind == "from_app" and e.message is not None
                   and e.message.msg_type == "8" and e.message.get(150) == "F"]
            seen: Counter[str] = Counter()
            for m in ers:
                exec_id = m.get(17)
                if seen[exec_id]:
                    self.assertEqual(m.get(43), "Y", f"{client}: repeated ExecID {exec_id} without PossDupFlag")
                seen[exec_id] += 1
            expected = {f"INTERNAL.{f.exec_id}" for f in fills if f.owner.endswith("->" + client)}
            self.assertEqual(set(seen), expected, client)
            # the reports of each order add up to what the venue filled for it
            qty_by_exec = {f"INTERNAL.{f.exec_id}": f.last_qty for f in fills}
            by_order: dict[str, Decimal] = {}
            for m in ers:
                by_order[m.get(37)] = max(by_order.get(m.get(37), Decimal(0)), Decimal(m.get(14)))
            self.assertEqual(sum(by_order.values(), Decimal(0)),
                             sum((qty_by_exec[x] for x in expected), Decimal(0)), client)


class CrashRecoveryTest(CrashHarness):
    """A burst of crossing orders, killed at seeded and deterministic points."""

    # ---- the scenario --------------------------------------------------------------------------

    async def test_kill_during_bursts_no_fill_lost_or_booked_twice(self) -> None:
        is_ack = lambda m: m.msg_type == "8" and m.get(150) == "0"  # noqa: E731
        is_fill = lambda m: m.msg_type == "8" and m.get(150) == "F"  # noqa: E731

        # round 1: crash between the venue's fill and its booking (the 7th fill event)
        await self.start_gateway(fault="crash_after_venue_fill:7")
        await self.connect("CLIENT1")
        await self.connect("CLIENT2")
        counts = {n: self.logons(a) for n, (a, _) in self.clients.items()}
        self.burst("R1", 20)
        await self.gateway.ended.addTimeout(TIMEOUT, reactor)  # type: ignore[union-attr]
        self.assertTrue(any("FAULT crash_after_venue_fill" in line for line in self.gateway.lines))  # type: ignore[union-attr]
        self.outputs.append("\n".join(self.gateway.lines))  # type: ignore[union-attr]

        # round 2: restart; crash after K acknowledgements of a new burst (seeded K)
        await self.start_gateway()
        self.assertIn("fixgate recovery:", "\n".join(self.gateway.lines))  # type: ignore[union-attr]
        await self.wait_logons(counts)
        counts = {n: self.logons(a) for n, (a, _) in self.clients.items()}
        await self.sync_clients("R2sync")
        c1 = self.clients["CLIENT1"][0]
        base_acks = self.received(c1, is_ack)
        k = self.rng.randint(3, 15)
        self.burst("R2", 20)
        await self.wait_received("CLIENT1", is_ack, base_acks + k)
        await self.stop_gateway(kill=True)

        # round 3: restart; crash after K more fill reports (seeded K)
        await self.start_gateway()
        await self.wait_logons(counts)
        counts = {n: self.logons(a) for n, (a, _) in self.clients.items()}
        await self.sync_clients("R3sync")
        c2 = self.clients["CLIENT2"][0]
        base_fills = self.received(c2, is_fill)
        k = self.rng.randint(2, 10)
        self.burst("R3", 20)
        await self.wait_received("CLIENT2", is_fill, base_fills + k)
        await self.stop_gateway(kill=True)

        # round 4: a second fill-to-booking crash right after a restart (recovered orders trade)
        await self.start_gateway(fault="crash_after_venue_fill:3")
        await self.wait_logons(counts)
        counts = {n: self.logons(a) for n, (a, _) in self.clients.items()}
        await self.sync_clients("R4sync")
        self.burst("R4", 10)
        await self.gateway.ended.addTimeout(TIMEOUT, reactor)  # type: ignore[union-attr]
        self.outputs.append("\n".join(self.gateway.lines))  # type: ignore[union-attr]

        # round 5: crash after fills were booked, before their reports were stored (and sent)
        await self.start_gateway(fault="crash_after_fill_booked:4")
        await self.wait_logons(counts)
        counts = {n: self.logons(a) for n, (a, _) in self.clients.items()}
        await self.sync_clients("R5sync")
        self.burst("R5", 10)
        await self.gateway.ended.addTimeout(TIMEOUT, reactor)  # type: ignore[union-attr]
        self.assertTrue(any("FAULT crash_after_fill_booked" in line for line in self.gateway.lines))  # type: ignore[union-attr]
        self.outputs.append("\n".join(self.gateway.lines))  # type: ignore[union-attr]

        # final: restart, let both clients catch up by resend, stop cleanly
        await self.start_gateway()
        await self.wait_logons(counts)
        await self.sync_clients("final")
        for _app, service in list(self.clients.values()):
            await service.stopService()  # type: ignore[attr-defined]
        await self.stop_gateway(kill=False)
        self.check_files(min_fills=20)
        summaries = [line for out in self.outputs for line in out.splitlines() if "fixgate recovery:" in line]
        # after the fill->booking crashes recovery booked fills; after the booking->report crash it
        # regenerated reports for fills it did not have to book
        self.assertTrue(any(" 0 booked now" not in s for s in summaries), summaries)
        regenerated_only = [s for s in summaries if " 0 booked now" in s and " 0 execution report" not in s]
        self.assertTrue(regenerated_only, summaries)
        possdup = sum(1 for app, _ in self.clients.values() for e in app.events
                      if e.kind == "from_app" and e.message is not None and e.message.get(43) == "Y")
        self.assertGreater(possdup, 0)
        if os.environ.get("FIXGATE_CRASH_DEBUG"):
            print("\n=====\n".join(o for o in self.outputs))


class ReplaceCancelCrashTest(CrashHarness):
    """Kill right after the venue applied a replace, then a cancel: recovery completes them."""

    async def test_kill_after_replace_and_after_cancel(self) -> None:
        from fix_engine.codec.message import FixMessage

        ts = (60, "20260101-10:00:00.000")
        await self.start_gateway(fault="crash_after_venue_replaced:1")
        c1 = await self.connect("CLIENT1")
        await self.connect("CLIENT2")
        counts = {n: self.logons(a) for n, (a, _) in self.clients.items()}
        self.send("CLIENT1", order("B1", "1", "300", "100.00"))
        await self.wait_received("CLIENT1", lambda m: m.get(11) == "B1" and m.get(150) == "0", 1)
        self.send("CLIENT2", order("S1", "2", "100", "100.00"))
        await self.wait_received("CLIENT1", lambda m: m.get(11) == "B1" and m.get(150) == "F", 1)
        self.send("CLIENT1", FixMessage.new("G", (11, "B1R"), (21, "1"), (38, "500"), (40, "2"), (41, "B1"),
                                            (44, "100.01"), (54, "1"), (55, "IBM"), ts))
        await self.gateway.ended.addTimeout(TIMEOUT, reactor)  # type: ignore[union-attr]
        self.assertTrue(any("FAULT crash_after_venue_replaced" in line for line in self.gateway.lines))  # type: ignore[union-attr]
        self.outputs.append("\n".join(self.gateway.lines))  # type: ignore[union-attr]

        # restart: the replace is completed (journal, bookings) and reported by resend
        await self.start_gateway(fault="crash_after_venue_cancelled:1")
        self.assertIn("1 replace(s) completed", "\n".join(self.gateway.lines))  # type: ignore[union-attr]
        await self.wait_logons(counts)
        counts = {n: self.logons(a) for n, (a, _) in self.clients.items()}
        await self.sync_clients("after-replace")
        replaced = [e.message for e in c1.events if e.kind == "from_app" and e.message is not None
                    and e.message.get(150) == "5"]
        self.assertEqual(len(replaced), 1)
        m = replaced[0]
        self.assertEqual((m.get(11), m.get(41), m.get(38), m.get(14), m.get(151), m.get(44), m.get(43)),
                         ("B1R", "B1", "500", "100", "400", "100.01", "Y"))
        # the recovered order trades under its new terms, and its fill is booked and reported
        self.send("CLIENT2", order("S2", "2", "150", "100.00"))
        await self.wait_received("CLIENT1", lambda m: m.get(11) == "B1R" and m.get(150) == "F"
                                 and m.get(14) == "250" and m.get(31) == "100.01", 1)
        self.send("CLIENT1", FixMessage.new("F", (11, "B1C"), (41, "B1R"), (54, "1"), (55, "IBM"), ts))
        await self.gateway.ended.addTimeout(TIMEOUT, reactor)  # type: ignore[union-attr]
        self.assertTrue(any("FAULT crash_after_venue_cancelled" in line for line in self.gateway.lines))  # type: ignore[union-attr]
        self.outputs.append("\n".join(self.gateway.lines))  # type: ignore[union-attr]

        # restart: the cancel is booked (holds released) and reported
        await self.start_gateway()
        await self.wait_logons(counts)
        await self.sync_clients("after-cancel")
        cancelled = [e.message for e in c1.events if e.kind == "from_app" and e.message is not None
                     and e.message.get(150) == "4"]
        self.assertEqual([(m.get(37), m.get(39), m.get(14), m.get(151)) for m in cancelled],
                         [(replaced[0].get(37), "4", "250", "0")])
        for _app, service in list(self.clients.values()):
            await service.stopService()  # type: ignore[attr-defined]
        await self.stop_gateway(kill=False)
        self.check_files(min_fills=2)
        with Registry(f"sqlite:///{self.tmp / 'fixgate.db'}") as registry:
            for account in ("DEMO1", "DEMO2"):
                self.assertEqual({b.asset.code: b.held for b in registry.balances(account) if b.held}, {}, account)
