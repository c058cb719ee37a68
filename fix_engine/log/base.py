"""Log: the interface of FIX message and event logs (QuickFIX Log / LogFactory), and NullLog.

A session hands its log every raw message it receives or sends and every notable event, with the
time it read from its clock; logs never read the clock themselves.  Logs are for people and
audit, not for recovery: the MessageStore is what the session relies on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from ..codec.message import format_epoch_timestamp
from ..session.session_id import SessionID

#: The prefix of log files and the identity of log rows that belong to no session.
GLOBAL_LOG_NAME = "GLOBAL"


class LogError(Exception):
    """A log could not write (disk full, database down)."""


_last_log_stamp: tuple[int, bytes] = (-1, b"")  # the millisecond formatted last, and its text


def format_log_timestamp(now: float) -> bytes:
    """``20261122-10:00:00.000``: the UTC millisecond timestamp that prefixes every log line.

    ``now`` is rounded to the microsecond first, then truncated to the millisecond, so that
    ``T + 2.001`` prints ``.001`` later than ``T`` although the float is a hair below it.
    Lines within one millisecond reuse the text formatted last.
    """
    global _last_log_stamp
    millis = round(now * 1_000_000) // 1000
    last = _last_log_stamp  # one read: safe if threads race on the cache
    if last[0] == millis:
        return last[1]
    text = format_epoch_timestamp(millis / 1000, 3)  # an exact millisecond: rounding keeps it
    _last_log_stamp = (millis, text)
    return text


class Log(ABC):
    """Records one session's incoming and outgoing messages and its events."""

    @abstractmethod
    def on_incoming(self, raw: bytes, now: float) -> None:
        """A message as received (exact wire bytes)."""

    @abstractmethod
    def on_outgoing(self, raw: bytes, now: float) -> None:
        """A message as sent (exact wire bytes)."""

    @abstractmethod
    def on_event(self, text: str, now: float) -> None:
        """A session event in words (logon, resend, reject reason, disconnect ...)."""

    def clear(self) -> None:
        """Forget what was logged so far (QuickFIX calls this on a session reset)."""

    def defer_writes(self) -> None:
        """Open a write window: entries may be buffered until :meth:`write_deferred` (the
        transport opens one around each socket read, as it does for the message store)."""

    def write_deferred(self) -> None:
        """Write what the window buffered and close it."""

    def close(self) -> None:
        """Release files / connections."""


class LogFactory(ABC):
    """Creates the log of a session; ``create(None)`` is the engine-wide log (QuickFIX's global log)."""

    @abstractmethod
    def create(self, session_id: SessionID | None) -> Log: ...

    def close(self) -> None:
        """Release shared resources (engines)."""


class NullLog(Log):
    """Discards everything (no log configured)."""

    def on_incoming(self, raw: bytes, now: float) -> None:
        pass

    def on_outgoing(self, raw: bytes, now: float) -> None:
        pass

    def on_event(self, text: str, now: float) -> None:
        pass


class NullLogFactory(LogFactory):
    """Creates NullLogs."""

    def create(self, session_id: SessionID | None) -> Log:
        return NullLog()
