"""The initiator connects only inside its session schedule (deterministic: task.Clock, fake endpoint)."""

from __future__ import annotations

import calendar

from twisted.internet import defer, task

from fix_engine.application import Application
from fix_engine.config import parse_config
from fix_engine.transport.host import SessionRegistry
from fix_engine.transport.initiator import InitiatorService
from fix_engine.transport.session_builder import SessionBuilder

CFG = """[DEFAULT]
ConnectionType=initiator
StartTime=09:00:00
EndTime=17:00:00
HeartBtInt=30
ReconnectInterval=5
UseDataDictionary=N
[SESSION]
BeginString=FIX.4.4
SenderCompID=CLIENT1
TargetCompID=SERVER
SocketConnectHost=127.0.0.1
SocketConnectPort=9999
SocketConnectHost1=127.0.0.2
SocketConnectPort1=9998
"""


class RecordingEndpoint:
    """Records each connection attempt and fails it (nothing listens)."""

    def __init__(self, log: list[tuple[str, int, float]], host: str, port: int, clock: task.Clock) -> None:
        self.log, self.host, self.port, self.clock = log, host, port, clock

    def connect(self, factory: object) -> defer.Deferred:
        self.log.append((self.host, self.port, self.clock.seconds()))
        return defer.fail(ConnectionRefusedError(self.host))


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> float:
    return float(calendar.timegm((year, month, day, hour, minute, 0)))


def make_service(clock: task.Clock, attempts: list) -> InitiatorService:
    settings = parse_config(CFG, "schedule-test.cfg").sessions
    return InitiatorService(
        settings,
        SessionBuilder(Application()),
        reactor=None,
        clock=clock,
        registry=SessionRegistry(),
        endpoint_factory=lambda s, host, port: RecordingEndpoint(attempts, host, port, clock),
    )


def test_no_connection_attempt_outside_the_schedule_then_connects_at_start_time() -> None:
    clock = task.Clock()
    clock.advance(utc(2026, 11, 23, 8, 58))  # a Monday, two minutes before StartTime
    attempts: list[tuple[str, int, float]] = []
    service = make_service(clock, attempts)
    service.startService()
    clock.pump([1.0] * 110)  # 08:59:50
    assert attempts == []
    clock.pump([1.0] * 15)  # past 09:00:00
    assert attempts, "no connection attempt after StartTime"
    assert attempts[0][2] >= utc(2026, 11, 23, 9, 0)


def test_reconnects_every_interval_rotating_failover_hosts() -> None:
    clock = task.Clock()
    clock.advance(utc(2026, 11, 23, 10, 0))
    attempts: list[tuple[str, int, float]] = []
    service = make_service(clock, attempts)
    service.startService()
    clock.pump([1.0] * 16)
    hosts = [(h, p) for h, p, _ in attempts]
    assert hosts[:4] == [("127.0.0.1", 9999), ("127.0.0.2", 9998), ("127.0.0.1", 9999), ("127.0.0.2", 9998)]
    gaps = [b[2] - a[2] for a, b in zip(attempts, attempts[1:], strict=False)]
    assert all(4.0 <= gap <= 6.0 for gap in gaps[:3]), gaps  # ReconnectInterval=5


def test_stops_connecting_after_end_time() -> None:
    clock = task.Clock()
    clock.advance(utc(2026, 11, 23, 16, 59))
    attempts: list[tuple[str, int, float]] = []
    service = make_service(clock, attempts)
    service.startService()
    clock.pump([1.0] * 120)  # until 17:01
    assert attempts
    assert max(t for _, _, t in attempts) <= utc(2026, 11, 23, 17, 0) + 1.0
    assert not service.sessions[0].client.running
