"""FixProtocol and the message store's deferred-write window: stored before sent, one store
write per socket read, nothing sent when the store fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from twisted.internet.testing import StringTransport

from fix_engine.application import Application
from fix_engine.codec.encoding import encode
from fix_engine.codec.message import FixMessage, format_epoch_timestamp
from fix_engine.config import parse_config
from fix_engine.session.session_id import SessionID
from fix_engine.store.base import MessageStoreError
from fix_engine.store.file import FileStore
from fix_engine.transport.host import SessionHost, SessionRegistry
from fix_engine.transport.protocol import FixFactoryBase, FixProtocol
from fix_engine.transport.session_builder import SessionBuilder

NOW = 1_790_000_000.0


class Executor(Application):
    """Answers every NewOrderSingle with an ExecutionReport."""

    def __init__(self, registry: SessionRegistry) -> None:
        self.registry = registry
        self.orders = 0

    def from_app(self, message: FixMessage, session_id: SessionID) -> None:
        self.orders += 1
        report = FixMessage.new(
            "8", (6, b"0"), (11, message.get_raw(11)), (14, b"0"), (17, b"E%d" % self.orders),
            (37, b"O%d" % self.orders), (39, b"0"), (54, b"1"), (55, b"IBM"), (150, b"0"), (151, b"100"),
        )
        self.registry.send_to_target(report, session_id)


class Factory(FixFactoryBase):
    def now(self) -> float:
        return NOW


def frame(seq: int, msg_type: str, *fields: tuple[int, bytes]) -> bytes:
    message = FixMessage.new(
        msg_type, (49, b"CLIENT"), (56, b"EXEC"), (34, b"%d" % seq), (52, format_epoch_timestamp(NOW, 3)), *fields
    )
    message.fields.insert(0, (8, b"FIX.4.4"))
    return encode(message)


def order(seq: int) -> bytes:
    return frame(
        seq, "D", (11, b"C%d" % seq), (21, b"1"), (38, b"100"), (40, b"2"), (44, b"10"), (54, b"1"),
        (55, b"IBM"), (60, b"20260101-00:00:00"),
    )


def connect(tmp_path: Path, extra: str = "") -> tuple[FixProtocol, StringTransport, SessionHost, Executor]:
    """An acceptor session on a fake transport (file store under ``tmp_path``), not logged on."""
    config = f"""[DEFAULT]
FileStorePath={tmp_path}/store
{extra}FileStoreSync=N
HeartBtInt=30
StartTime=00:00:00
EndTime=00:00:00
[SESSION]
ConnectionType=acceptor
BeginString=FIX.4.4
SenderCompID=EXEC
TargetCompID=CLIENT
SocketAcceptPort=1
"""
    settings = parse_config(config, "test").sessions[0]
    registry = SessionRegistry()
    app = Executor(registry)
    host = SessionBuilder(app).build(settings, settings.session_id, lambda: NOW)
    registry.add(host)
    protocol = FixProtocol(Factory(), host)
    transport = StringTransport()
    protocol.makeConnection(transport)
    return protocol, transport, host, app


@pytest.fixture
def connection(tmp_path: Path) -> tuple[FixProtocol, StringTransport, SessionHost, Executor]:
    protocol, transport, host, app = connect(tmp_path)
    protocol.dataReceived(frame(1, "A", (98, b"0"), (108, b"30")))
    assert b"35=A" in transport.value()
    transport.clear()
    return protocol, transport, host, app


def test_one_read_is_one_store_write_made_before_the_socket_write(connection) -> None:  # noqa: ANN001
    protocol, transport, host, app = connection
    store = host.session.store
    assert isinstance(store, FileStore)
    seen: list[bytes] = []
    real = store.write_deferred

    def recording_write_deferred() -> None:
        seen.append(transport.value())  # what the socket had when the store wrote
        real()

    store.write_deferred = recording_write_deferred  # type: ignore[method-assign]
    protocol.dataReceived(b"".join(order(seq) for seq in range(2, 7)))
    assert app.orders == 5
    assert seen == [b""]
    assert transport.value().count(b"35=8") == 5
    reopened = FileStore(str(Path(store.body_path).parent), host.session_id, NOW, sync=False)
    assert reopened.next_target_seq_num() == 7
    assert reopened.next_sender_seq_num() == 7  # Logon + 5 reports
    assert [seq for seq, _ in reopened.get_range(1, 10)] == [1, 2, 3, 4, 5, 6]


def test_nothing_is_sent_and_the_connection_aborted_when_the_store_fails(connection) -> None:  # noqa: ANN001
    protocol, transport, host, app = connection

    def failing_write_deferred() -> None:
        raise MessageStoreError("disk full")

    host.session.store.write_deferred = failing_write_deferred  # type: ignore[method-assign]
    protocol.dataReceived(order(2) + order(3))
    assert app.orders == 2
    assert transport.value() == b""
    assert transport.disconnected  # aborted, not a graceful close that would flush
    assert protocol.closing


def test_outside_a_read_the_store_writes_through(connection) -> None:  # noqa: ANN001
    protocol, transport, host, app = connection
    store = host.session.store
    report = FixMessage.new("8", (6, b"0"), (11, b"X"), (14, b"0"), (17, b"E"), (37, b"O"), (39, b"0"),
                            (54, b"1"), (55, b"IBM"), (150, b"0"), (151, b"1"))
    assert host.send(report)
    assert b"35=8" in transport.value()
    reopened = FileStore(str(Path(store.body_path).parent), host.session_id, NOW, sync=False)
    assert reopened.next_sender_seq_num() == 3


def report(n: int) -> FixMessage:
    return FixMessage.new("8", (6, b"0"), (11, b"X%d" % n), (14, b"0"), (17, b"E%d" % n), (37, b"O"), (39, b"0"),
                          (54, b"1"), (55, b"IBM"), (150, b"0"), (151, b"1"))


def test_batched_sends_are_one_store_write_and_one_socket_write(connection) -> None:  # noqa: ANN001
    protocol, transport, host, app = connection
    store = host.session.store
    writes: list[bytes] = []
    transport.write = writes.append  # type: ignore[method-assign]
    stored: list[int] = []
    real = store.write_deferred

    def recording_write_deferred() -> None:
        stored.append(len(writes))  # socket writes made before the store wrote
        real()

    store.write_deferred = recording_write_deferred  # type: ignore[method-assign]
    with host.batched():
        for n in range(3):
            assert host.send(report(n))
        assert writes == []  # nothing on the wire inside the block
    assert stored == [0]
    assert len(writes) == 1 and writes[0].count(b"35=8") == 3
    reopened = FileStore(str(Path(store.body_path).parent), host.session_id, NOW, sync=False)
    assert reopened.next_sender_seq_num() == 5  # Logon + 3 reports


def test_batched_sends_without_a_connection_are_stored(connection) -> None:  # noqa: ANN001
    protocol, transport, host, app = connection
    protocol.connectionLost(None)
    with host.batched():
        assert not host.send(report(1))
    assert host.session.store.next_sender_seq_num() == 3


def test_the_session_log_is_flushed_once_per_read(tmp_path: Path) -> None:
    from fix_engine.log.file import FileLog

    protocol, _transport, host, _app = connect(tmp_path, extra=f"FileLogPath={tmp_path}/log\n")
    log = host.log
    assert isinstance(log, FileLog)
    flushes: list[str] = []
    real = log.write_deferred
    log.write_deferred = lambda: (flushes.append("flush"), real())[1]  # type: ignore[method-assign]
    protocol.dataReceived(frame(1, "A", (98, b"0"), (108, b"30")) + order(2) + order(3))
    assert flushes == ["flush"]
    lines = Path(log.incoming_path).read_bytes().count(b"\n")
    assert lines == 6  # 3 in, 3 out (Logon + 2 reports), all flushed
