"""HeartbeatMonitor: when to send a Heartbeat or a TestRequest, and when the peer is gone.

Rules (times are the ``now`` floats the session is given):

* We send a Heartbeat when we have sent nothing for HeartBtInt seconds.
* The peer has been silent for ``interval = HeartBtInt * (1 + TestRequestDelayMultiplier)``
  seconds (default multiplier 0.5, QuickFIX/J's; QuickFIX C++ hard-codes 1.2 * HeartBtInt):
  we send a TestRequest.
* Still silent after another such interval (2 * interval in all): the peer is lost, disconnect.
* Any message from the peer clears the outstanding TestRequest.

HeartBtInt 0 disables all three.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class TimerDue(Enum):
    """What the heartbeat rules ask for at a timer tick."""

    NOTHING = "nothing"
    HEARTBEAT = "heartbeat"
    TEST_REQUEST = "test request"
    TIMED_OUT = "timed out"


@dataclass(slots=True)
class HeartbeatMonitor:
    """Last-sent / last-received times of one connection and the outstanding TestRequest."""

    heart_bt_int: float
    test_request_delay_multiplier: float
    last_sent: float = 0.0
    last_received: float = 0.0
    test_req_id: str | None = None

    @property
    def interval(self) -> float:
        """Silence from the peer after which we test it (and again after which we give up)."""
        return self.heart_bt_int * (1.0 + self.test_request_delay_multiplier)

    def restart(self, now: float, heart_bt_int: float | None = None) -> None:
        """A new connection or logon: both clocks start now, nothing outstanding."""
        if heart_bt_int is not None:
            self.heart_bt_int = heart_bt_int
        self.last_sent = now
        self.last_received = now
        self.test_req_id = None

    def sent(self, now: float) -> None:
        self.last_sent = now

    def received(self, now: float) -> None:
        """A message arrived: the peer is alive, our TestRequest (if any) is answered."""
        self.last_received = now
        self.test_req_id = None

    def test_request_sent(self, test_req_id: str, now: float) -> None:
        self.test_req_id = test_req_id
        self.last_sent = now

    def due(self, now: float) -> TimerDue:
        """What to do at ``now``."""
        if self.heart_bt_int <= 0:
            return TimerDue.NOTHING
        silence = now - self.last_received
        if self.test_req_id is not None:
            if silence >= 2 * self.interval:
                return TimerDue.TIMED_OUT
        elif silence >= self.interval:
            return TimerDue.TEST_REQUEST
        if now - self.last_sent >= self.heart_bt_int:
            return TimerDue.HEARTBEAT
        return TimerDue.NOTHING
