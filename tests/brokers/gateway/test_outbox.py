"""Outbox: reports held until their registry batch commits, FIFO per session, and what one
commit releases for a session sent as one group."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from brokers.client.writer import Outbox


class Recorder:
    def __init__(self) -> None:
        self.log: list[str] = []
        self.committed = 0

    def send(self, message: str, session_id: str) -> None:
        self.log.append(f"{session_id}:{message}")

    @contextmanager
    def batched(self, session_id: str) -> Iterator[None]:
        self.log.append(f"{session_id}:(")
        yield
        self.log.append(f"{session_id}:)")


def test_held_reports_go_out_in_order_one_group_per_session_per_release() -> None:
    r = Recorder()
    box = Outbox(r.send, lambda: r.committed, batched=r.batched)
    box.send("ack1", "A", after=1)
    box.send("ack2", "A", after=1)
    box.send("fill", "A", after=2)
    box.send("ack", "B", after=1)
    box.send("now", "C")  # nothing to wait for: sent at once, no group
    assert r.log == ["C:now"]
    r.committed = 1
    box.release(1)
    assert r.log[1:] == ["A:(", "A:ack1", "A:ack2", "A:)", "B:(", "B:ack", "B:)"]
    assert len(box) == 1
    r.log.clear()
    box.send("later", "A")  # queued behind A's fill although its batch committed
    assert r.log == []
    r.committed = 2
    box.release(2)
    assert r.log == ["A:(", "A:fill", "A:later", "A:)"]
    assert len(box) == 0


def test_without_a_grouping_function_sends_are_plain() -> None:
    r = Recorder()
    box = Outbox(r.send, lambda: r.committed)
    box.send("x", "A", after=1)
    r.committed = 1
    box.release(1)
    assert r.log == ["A:x"]
