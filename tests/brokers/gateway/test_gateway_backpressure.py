"""Inbound flow control of the gateway: a deep registry backlog holds client input, a drained one
releases it; and the keys MaxRegistryBacklog / RegistryBacklogResume / MaxInputHold.

Deterministic: the gateway runs on a ``Clock`` (never listening), a client connection is a
``StringTransport`` built by the acceptor's factory, and the registry writer's batches run on a
gated runner (the real batch code on the real registry, finishing when the test says so).
``producerState`` of the client's transport is what the gateway asked of that socket's reading.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import defer
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import gateway_text  # noqa: E402

from brokers.client.writer import RunnerLost  # noqa: E402
from brokers.client.writer_child import Work, perform  # noqa: E402
from brokers.gateway import Gateway  # noqa: E402
from brokers.gateway_config import demo_config_text, gateway_config  # noqa: E402
from fix_engine.codec.encoding import encode  # noqa: E402
from fix_engine.codec.message import FixMessage, format_epoch_timestamp  # noqa: E402
from fix_engine.config import ConfigError, parse_config  # noqa: E402
from fix_engine.transport.protocol import FixProtocol  # noqa: E402

NOW = 1_790_000_000.0
PEER = IPv4Address("TCP", "127.0.0.1", 40000)


class GatedRunner:
    """Runs each batch with the writer's own code (``perform``) when the test calls ``finish``."""

    started = False
    on_lost: Any = None

    def __init__(self, registry: Any, journal: Any) -> None:
        self.registry, self.journal = registry, journal
        self.pending: list[tuple[Work, defer.Deferred[Any]]] = []

    def start(self) -> None:
        self.started = True

    def run(self, work: Work) -> defer.Deferred[Any]:
        d: defer.Deferred[Any] = defer.Deferred()
        self.pending.append((work, d))
        return d

    def finish(self) -> None:
        work, d = self.pending.pop(0)
        d.callback(perform(self.registry, self.journal, work))

    def lose(self) -> None:
        self.pending.pop(0)[1].errback(RunnerLost("the writer died"))

    def stop(self) -> defer.Deferred[None]:
        self.close()
        return defer.succeed(None)

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()


class Client:
    """A FIX.4.4 client connection to the gateway, on a StringTransport (the peer's 'kernel' keeps
    what it sends while the gateway does not read)."""

    def __init__(self, gateway: Gateway, clock: Clock, sender: str) -> None:
        self.clock, self.sender = clock, sender
        self.protocol: FixProtocol = gateway.acceptor.factories[0].buildProtocol(PEER)
        self.transport = StringTransport(peerAddress=PEER)
        self.protocol.makeConnection(self.transport)
        self.seq = 1
        self.pending: list[bytes] = []

    @property
    def reading(self) -> bool:
        return self.transport.producerState == "producing"

    def message(self, msg_type: str, *fields: tuple[int, object]) -> bytes:
        msg = FixMessage.new(msg_type, (49, self.sender), (56, "FIXGATE"), (34, str(self.seq)),
                             (52, format_epoch_timestamp(self.clock.seconds(), 3)), *fields)
        msg.fields.insert(0, (8, b"FIX.4.4"))
        self.seq += 1
        return encode(msg)

    def logon(self) -> None:
        self.protocol.dataReceived(self.message("A", (98, "0"), (108, "30")))
        assert b"35=A\x01" in self.transport.value(), self.transport.value()

    def order(self, cl_ord_id: str) -> bytes:
        return self.message("D", (1, "DEMO1"), (11, cl_ord_id), (21, "1"), (38, "1"), (40, "2"), (44, "100.00"),
                            (54, "1"), (55, "IBM"), (60, "20260101-10:00:00.000"))

    def send(self, *data: bytes) -> None:
        self.pending.extend(data)
        self.deliver()

    def deliver(self) -> None:
        if self.pending and self.reading:
            data, self.pending = b"".join(self.pending), []
            self.protocol.dataReceived(data)


class Rig:
    def __init__(self, tmp_path: Path, extra: str) -> None:
        self.clock = Clock()
        self.clock.advance(NOW)
        self.log: list[str] = []
        text = gateway_text(tmp_path, 9, "RegistryBatchLinger=0\n" + extra)
        config = gateway_config(parse_config(text, "g.cfg", base_dir=tmp_path), tmp_path)
        self.gateway = Gateway(config, reactor=self.clock, echo=self.log.append, stop_reactor_on_fatal=False)
        thread_runner = self.gateway.writer.runner  # never started: replaced by the gated runner
        self.runner = GatedRunner(thread_runner.registry, thread_runner.journal)  # type: ignore[attr-defined]
        self.gateway.writer.runner = self.runner
        self.runner.on_lost = self.gateway.writer._runner_lost
        self.gateway.startService()

    def client(self, sender: str = "CLIENT1") -> Client:
        client = Client(self.gateway, self.clock, sender)
        client.logon()
        return client

    def turn(self) -> None:
        self.clock.advance(0)  # the writer's flush call: the open batch goes to the runner


@pytest.fixture
def rig(tmp_path: Path) -> Any:
    made = Rig(tmp_path, "MaxRegistryBacklog=3\nRegistryBacklogResume=1\nMaxInputHold=200\n")
    yield made
    made.gateway.close()


def held_lines(log: list[str]) -> list[str]:
    return [line for line in log if "client input" in line]


def test_a_deep_backlog_holds_client_input_and_a_drained_one_releases_it(rig: Rig) -> None:
    client = rig.client()
    client.send(*(client.order(f"A{i}") for i in range(5)))  # one read: all five are processed
    writer = rig.gateway.writer
    assert writer.backlog == 5 and rig.gateway.input_held and rig.gateway.input_holds == 1
    assert not client.reading and client.protocol.input_held
    assert held_lines(rig.log) == [
        "fixgate: registry backlog 3 operation(s) reached MaxRegistryBacklog (3): holding client input until "
        "it is down to 1"]
    client.send(client.order("A5"))
    rig.turn()
    assert writer.backlog == 5  # A5 waits in the peer's kernel buffer
    rig.runner.finish()  # the five commit: acks go out, the backlog is 0, input is read again
    assert writer.backlog == 0 and not rig.gateway.input_held
    assert client.reading and not client.protocol.input_held
    assert client.transport.value().count(b"\x01150=0\x01") == 5
    assert held_lines(rig.log)[-1] == "fixgate: registry backlog down to 0 operation(s): client input resumed after 0.000s"
    client.deliver()  # A5 is read now
    assert writer.backlog == 1 and not rig.gateway.input_held
    rig.turn()
    rig.runner.finish()
    assert client.transport.value().count(b"\x01150=0\x01") == 6


def test_a_held_client_reads_again_after_max_input_hold_and_new_clients_can_log_on(rig: Rig) -> None:
    first = rig.client("CLIENT1")
    first.send(*(first.order(f"B{i}") for i in range(3)))
    rig.turn()
    assert rig.gateway.input_held and not first.reading
    first.send(first.order("B3"))
    rig.clock.advance(0.19)
    assert not first.reading
    rig.clock.advance(0.02)  # MaxInputHold=200 ms: the hold lapses for one read
    assert first.reading
    first.deliver()
    assert not first.reading and rig.gateway.writer.backlog == 4  # B3 read, held again
    # a client logging on during the hold is read until its Logon is answered, then held
    second = Client(rig.gateway, rig.clock, "CLIENT2")
    assert second.reading
    second.logon()
    assert not second.reading and second.protocol.input_held
    rig.runner.finish()  # batch 1 (B0-B2): 1 left (B3) == RegistryBacklogResume
    assert not rig.gateway.input_held and first.reading and second.reading


def test_stopping_the_gateway_releases_the_hold(rig: Rig) -> None:
    client = rig.client()
    client.send(*(client.order(f"C{i}") for i in range(3)))
    rig.turn()
    assert rig.gateway.input_held
    stopped = rig.gateway.stopService()
    assert not rig.gateway.input_held and client.reading  # the Logout answer must be read
    assert b"35=5\x01" in client.transport.value()
    rig.runner.finish()  # the writer drains
    rig.clock.advance(3)  # LogoutTimeout (2 s) passes: the unanswered connection is aborted
    assert stopped.called


def test_a_lost_writer_releases_the_hold(rig: Rig) -> None:
    client = rig.client()
    client.send(*(client.order(f"D{i}") for i in range(3)))
    rig.turn()
    assert rig.gateway.input_held
    rig.runner.lose()
    assert rig.gateway.failure is not None and not rig.gateway.input_held and client.reading


def test_max_registry_backlog_0_never_holds(tmp_path: Path) -> None:
    rig = Rig(tmp_path, "MaxRegistryBacklog=0\n")
    try:
        client = rig.client()
        client.send(*(client.order(f"E{i}") for i in range(20)))
        assert rig.gateway.writer.backlog == 20 and not rig.gateway.input_held and client.reading
        assert rig.gateway.writer.high_water is None
    finally:
        rig.gateway.close()


# --------------------------------------------------------------------------- the keys


def config_with(extra: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    text = demo_config_text().replace("# --- gateway", "# --- gateway\n" + extra)
    return gateway_config(parse_config(text, "g.cfg", base_dir=tmp_path), tmp_path)


def test_backlog_keys_defaults(tmp_path: Path) -> None:
    config = config_with("", tmp_path)
    assert (config.max_registry_backlog, config.registry_backlog_resume, config.max_input_hold) == (10000, 5000, 1.0)


@pytest.mark.parametrize(("extra", "expected"), [
    ("MaxRegistryBacklog=2000\n", (2000, 1000, 1.0)),
    ("MaxRegistryBacklog=2000\nRegistryBacklogResume=0\n", (2000, 0, 1.0)),
    ("MaxRegistryBacklog=2000\nRegistryBacklogResume=1999\n", (2000, 1999, 1.0)),
    ("RegistryBacklogResume=100\n", (10000, 100, 1.0)),
    ("MaxRegistryBacklog=0\n", (0, 0, 1.0)),
    ("MaxRegistryBacklog=N\nRegistryBacklogResume=7\n", (0, 7, 1.0)),
    ("MaxInputHold=250\n", (10000, 5000, 0.25)),
    ("MaxInputHold=60000\n", (10000, 5000, 60.0)),
])
def test_backlog_keys_good_values(tmp_path: Path, extra: str, expected: tuple[int, int, float]) -> None:
    config = config_with(extra, tmp_path)
    assert (config.max_registry_backlog, config.registry_backlog_resume, config.max_input_hold) == expected


@pytest.mark.parametrize(("extra", "message"), [
    ("MaxRegistryBacklog=lots", "MaxRegistryBacklog: 'lots' is not a whole number of operations (or N)"),
    ("MaxRegistryBacklog=-5", "MaxRegistryBacklog: '-5' is not a whole number of operations (or N)"),
    ("MaxRegistryBacklog=1.5", "MaxRegistryBacklog: '1.5' is not a whole number of operations (or N)"),
    ("RegistryBacklogResume=x", "RegistryBacklogResume: 'x' is not a whole number of operations"),
    ("RegistryBacklogResume=N", "RegistryBacklogResume: 'N' is not a whole number of operations"),
    ("MaxRegistryBacklog=100\nRegistryBacklogResume=100", "RegistryBacklogResume: 100 must be below "
                                                           "MaxRegistryBacklog (100)"),
    ("RegistryBacklogResume=20000", "RegistryBacklogResume: 20000 must be below MaxRegistryBacklog (10000)"),
    ("MaxInputHold=0", "MaxInputHold: '0' must be a whole number of milliseconds between 1 and 60000"),
    ("MaxInputHold=60001", "MaxInputHold: '60001' must be a whole number of milliseconds between 1 and 60000"),
    ("MaxInputHold=0.5", "MaxInputHold: '0.5' must be a whole number of milliseconds between 1 and 60000"),
])
def test_backlog_keys_bad_values_name_file_line_and_key(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        config_with(extra + "\n", tmp_path)
    text = str(info.value)
    assert message in text
    line = next(n for n, row in enumerate(demo_config_text().replace("# --- gateway", "# --- gateway\n" + extra)
                                          .splitlines(), 1) if row.startswith(message.split(":")[0] + "="))
    assert f"g.cfg:{line}:" in text


def test_the_gateway_gives_the_keys_to_the_writer_and_the_acceptor(tmp_path: Path) -> None:
    rig = Rig(tmp_path, "MaxRegistryBacklog=40\nRegistryBacklogResume=10\nMaxInputHold=300\n")
    try:
        assert (rig.gateway.writer.high_water, rig.gateway.writer.low_water) == (40, 10)
        assert [f.max_input_hold for f in rig.gateway.acceptor.factories] == [0.3] * len(rig.gateway.acceptor.factories)
    finally:
        rig.gateway.close()
