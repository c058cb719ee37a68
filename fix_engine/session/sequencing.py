"""Sequence-number bookkeeping of a session: gap detection, our ResendRequests, the queue of
too-high messages, and the plan for serving the counterparty's ResendRequest.  Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from ..codec.message import FixMessage
from .admin import infinite_end_seq_no

T = TypeVar("T")


class SeqCheck(Enum):
    """How an incoming MsgSeqNum compares with the next one we expect."""

    EXPECTED = "expected"
    TOO_HIGH = "too high"  # a gap: ask for a resend, queue the message
    TOO_LOW = "too low"  # a duplicate (PossDupFlag=Y) or a fatal error


def check_seq(seq: int, expected: int) -> SeqCheck:
    """Classify ``seq`` against ``expected``."""
    if seq == expected:
        return SeqCheck.EXPECTED
    return SeqCheck.TOO_HIGH if seq > expected else SeqCheck.TOO_LOW


# --------------------------------------------------------------------------- our ResendRequests


@dataclass(frozen=True, slots=True)
class ResendRange:
    """Our outstanding ResendRequest: the gap ``begin..end`` and the end of the chunk asked for.

    Without ResendRequestChunkSize the whole gap is asked at once (``chunk_end == end``).
    """

    begin: int
    end: int
    chunk_end: int

    @property
    def chunked(self) -> bool:
        """More chunks remain to be asked after the current one."""
        return self.chunk_end < self.end


@dataclass(frozen=True, slots=True)
class ResendRequestPlan:
    """What to put in one ResendRequest (7, 16) and the range it leaves outstanding."""

    begin_seq_no: int
    end_seq_no: int
    range: ResendRange


def plan_resend_request(begin: int, end: int, begin_string: str, chunk_size: int = 0) -> ResendRequestPlan:
    """The ResendRequest for the gap ``begin..end`` (ResendRequestChunkSize ``chunk_size``).

    The last (or only) chunk asks "up to infinity" (EndSeqNo 0) on FIX.4.2+, so that the
    counterparty also resends what it sent after the message that revealed the gap; FIX.4.0/4.1
    ask for the explicit number ``end``.  Earlier chunks ask for their explicit end.
    """
    chunk_end = end if chunk_size <= 0 else min(end, begin + chunk_size - 1)
    if chunk_end == end:
        infinite = infinite_end_seq_no(begin_string)
        end_field = end if infinite is None else infinite
    else:
        end_field = chunk_end
    return ResendRequestPlan(begin, end_field, ResendRange(begin, end, chunk_end))


# --------------------------------------------------------------------------- the queue


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """A message that arrived ahead of sequence, waiting for the gap before it to fill.

    ``consume_only`` marks messages already acted upon when they arrived (a Logon, a served
    ResendRequest): when their turn comes they only advance the expected number (QuickFIX).
    """

    message: FixMessage
    consume_only: bool = False


class InboundQueue(dict[int, QueuedMessage]):
    """Too-high messages by MsgSeqNum, released in order as the expected number reaches them.

    A ``dict`` by sequence number, so that ``if queue:`` on every incoming message is a C-level
    check; use the methods below to change it.
    """

    __slots__ = ()

    def put(self, seq: int, message: FixMessage, *, consume_only: bool = False) -> None:
        """Queue ``message``; a later copy of the same number replaces an earlier one."""
        self[seq] = QueuedMessage(message, consume_only)

    def pop(self, seq: int, default: QueuedMessage | None = None) -> QueuedMessage | None:  # type: ignore[override]
        """Take the message numbered ``seq`` out of the queue, if there."""
        return super().pop(seq, default)

    def discard_below(self, seq: int) -> None:
        """Drop messages numbered below ``seq`` (already received by resend or skipped by reset)."""
        for stale in [s for s in self if s < seq]:
            del self[stale]

    def lowest(self) -> int | None:
        """The lowest queued number, or None when empty."""
        return min(self) if self else None


# --------------------------------------------------------------------------- serving resends


@dataclass(frozen=True, slots=True)
class GapFill:
    """One SequenceReset-GapFill standing in for ``begin .. new_seq_no - 1``."""

    begin: int
    new_seq_no: int


def plan_resend(
    begin: int,
    end: int,
    stored: Iterable[tuple[int, bytes]],
    prepare: Callable[[int, bytes], T | None],
) -> list[GapFill | T]:
    """Plan the answer to a ResendRequest for ``begin..end`` (both inclusive, ``end`` resolved).

    ``stored`` are the stored messages in that range, ascending.  ``prepare(seq, raw)`` returns
    what to resend for an application message, or None when it must not be resent (an admin
    message, DoNotSend).  Each run of numbers not resent (admin, refused, or missing from the
    store) becomes ONE :class:`GapFill` whose ``begin`` is the run's first number.
    """
    items: list[GapFill | T] = []
    run_start: int | None = None
    cursor = begin
    for seq, raw in stored:
        if seq < begin or seq > end:
            continue
        if seq > cursor and run_start is None:
            run_start = cursor  # numbers missing from the store
        prepared = prepare(seq, raw)
        if prepared is None:
            if run_start is None:
                run_start = seq
        else:
            if run_start is not None:
                items.append(GapFill(run_start, seq))
                run_start = None
            items.append(prepared)
        cursor = seq + 1
    if run_start is None and cursor <= end:
        run_start = cursor
    if run_start is not None:
        items.append(GapFill(run_start, end + 1))
    return items
