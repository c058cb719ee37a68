"""The gateway with its registry writer in a child process: orders flow; a lost child stops the gateway.

* in process: the child is killed while a client's order is in its batch (the batch is held on the
  SQLite write lock, so it surely is in flight): the client gets no ack, the gateway logs a critical
  error naming the batch and stops itself (logouts, no hang); a restart on the same files recovers.
* ``fixgate run``: the child is killed; the whole process exits (bounded wait), the error on its output.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import defer, protocol, reactor
from twisted.trial import unittest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import GatewayHarness, gateway_text, is_er, order, reports, wait_report  # noqa: E402

from brokers.client.writer_process import ProcessRunner  # noqa: E402
from brokers.gateway import Gateway  # noqa: E402
from brokers.gateway_config import gateway_config  # noqa: E402
from fix_engine.config import parse_config  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/: the shared test helpers
import event_waits  # noqa: E402

pytestmark = pytest.mark.network
WAIT = 30.0
ROOT = Path(__file__).resolve().parents[3]


class _Harness(GatewayHarness):
    """The shared harness, with a gateway that does not stop the test's reactor on a fatal error."""

    async def start_gateway(self) -> Gateway:
        text = gateway_text(self.tmp, self.port, "RegistryWriterProcess=Y\n" + self.extra)
        config = gateway_config(parse_config(text, "test-gateway.cfg", base_dir=self.tmp), self.tmp)
        self.gateway = Gateway(config, reactor=reactor, echo=self.log.append, stop_reactor_on_fatal=False)
        await self.gateway.listen()
        self.gateway.startService()
        return self.gateway


class WriterProcessGatewayTest(unittest.TestCase):
    """A gateway in this process whose writer child is killed."""

    timeout = 120

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fixgate-writer-gw-"))
        self.h = _Harness(self.tmp)
        self.events: list[tuple[str, Any]] = []
        self.waiters: list[event_waits.Waiter] = []

    async def _teardown(self) -> None:
        await self.h.disconnect_all()
        await self.h.stop_gateway()

    def tearDown(self) -> defer.Deferred[None]:
        return defer.ensureDeferred(self._teardown())

    def wait(self, kind: str) -> defer.Deferred[Any]:
        return event_waits.wait_for(self.events, self.waiters, lambda e: e[0] == kind, WAIT)

    def watch_batches(self, runner: ProcessRunner) -> None:
        """Record every batch the runner is given (an event to wait on)."""
        run = runner.run

        def recorded(work: Any) -> Any:
            d = run(work)
            event_waits.record(self.events, self.waiters, ("batch", [item[1] for item in work.items]))
            return d

        runner.run = recorded  # type: ignore[method-assign]

    async def test_a_lost_child_stops_the_gateway_without_acking_and_a_restart_recovers(self) -> None:
        gateway = await self.h.start_gateway()
        runner = gateway.writer.runner
        assert isinstance(runner, ProcessRunner)
        c1 = await self.h.connect("CLIENT1")
        self.h.send(c1, order("B1", "1", "100", "99.00"))
        await wait_report(c1, is_er("B1", "0", "0"), timeout=WAIT)  # booked by the child, then acked
        assert any("registry writer process" in line and "ready" in line for line in self.h.log)
        assert '"cl":"B1"' in (self.tmp / "orders.jsonl").read_text()
        self.watch_batches(runner)
        lock = sqlite3.connect(self.tmp / "fixgate.db", isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        try:
            self.h.send(c1, order("B2", "1", "100", "99.00"))
            await self.wait("batch")
            assert runner.pid is not None
            os.kill(runner.pid, signal.SIGKILL)
            await c1.wait_for(lambda e: e.kind == "logout", timeout=WAIT)  # the gateway stops by itself
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        await gateway.stopService().addTimeout(WAIT, reactor)  # idempotent: fires once the stop is done
        assert gateway.failure is not None and "registry batch" in gateway.failure
        assert "outcome is unknown" in gateway.failure and gateway.failure in self.h.log
        assert not gateway.running
        assert [m.get(11) for m in reports(c1)] == ["B1"]  # no ack for B2
        await self.h.disconnect_all()
        for port in gateway.acceptor.ports:
            await defer.maybeDeferred(port.stopListening)
        # restart on the same files: B1 is a working order again, B2 never existed
        self.h.log.clear()
        gateway = await self.h.start_gateway()
        assert "fixgate: recovered 1 working client order(s)" in self.h.log
        assert len(gateway.application.store) == 1
        with gateway.registry.uow() as uow:
            assert len(uow.orders.list("DEMO1")) == 1  # B2 was never booked


class _RunProcess(protocol.ProcessProtocol):
    """``fixgate run`` as a subprocess: its output lines and its exit, as events."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.waiters: list[event_waits.Waiter] = []
        self._buffer = b""

    def outReceived(self, data: bytes) -> None:  # noqa: N802 - Twisted's API
        self._buffer += data
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            event_waits.record(self.events, self.waiters, ("line", line.decode(errors="replace")))

    errReceived = outReceived  # noqa: N815 - Twisted's API

    def processEnded(self, reason: Any) -> None:  # noqa: N802 - Twisted's API
        event_waits.record(self.events, self.waiters, ("ended", reason.value))

    def wait(self, predicate: Any) -> defer.Deferred[Any]:
        return event_waits.wait_for(self.events, self.waiters, predicate, WAIT,
                                    describe=lambda: [e[1] for e in self.events][-30:])

    @property
    def lines(self) -> list[str]:
        return [value for kind, value in self.events if kind == "line"]


class FixgateRunTest(unittest.TestCase):
    """``fixgate run`` in a subprocess whose writer child is killed."""

    timeout = 120

    async def test_fixgate_run_exits_when_its_writer_child_dies(self) -> None:
        tmp = Path(tempfile.mkdtemp(prefix="fixgate-writer-run-"))
        cfg = tmp / "gateway.cfg"
        port = self.free_port()
        cfg.write_text(gateway_text(tmp, port, "RegistryWriterProcess=Y\n"))
        proc = _RunProcess()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        transport = reactor.spawnProcess(proc, sys.executable, [sys.executable, "-m", "brokers.cli", "run", "-c",
                                                                str(cfg)], env=env, path=str(tmp))
        try:
            ready = (await proc.wait(lambda e: e[0] == "line" and "registry writer process" in e[1]))[1]
            await proc.wait(lambda e: e[0] == "line" and "listening on" in e[1])
            child = int(ready.split("registry writer process")[1].split()[0])
            os.kill(child, signal.SIGKILL)
            ended = (await proc.wait(lambda e: e[0] == "ended"))[1]
            assert getattr(ended, "exitCode", None) == 1, ended  # the failure shows in the exit status
        finally:
            if not any(kind == "ended" for kind, _ in proc.events):
                transport.signalProcess("KILL")
                await proc.wait(lambda e: e[0] == "ended")
        output = "\n".join(proc.lines)
        assert "CRITICAL: the registry writer was lost" in output and "was killed by signal 9" in output

    @staticmethod
    def free_port() -> int:
        from harness import free_port

        return int(free_port())
