"""ScreenLog: messages and events printed to a text stream (QuickFIX ScreenLog).

Each entry is two lines, as in QuickFIX::

    <20261122-10:00:00.000, FIX.4.4:BROKER->CLIENT, incoming>
      (8=FIX.4.4|9=65|35=A|...|10=123|)

SOH is shown as ``|`` and bytes outside ASCII as ``\\xNN``.  Which kinds are shown follows
ScreenLogShowIncoming / ScreenLogShowOutgoing / ScreenLogShowEvents.
"""

from __future__ import annotations

import sys
from typing import TextIO

from ..session.session_id import SessionID
from .base import GLOBAL_LOG_NAME, Log, LogFactory, format_log_timestamp


def printable(raw: bytes) -> str:
    """A message for a terminal: SOH as ``|``, other non-printable bytes escaped."""
    return raw.replace(b"\x01", b"|").decode("ascii", "backslashreplace")


class ScreenLog(Log):
    """Writes one session's messages and events to a stream (stdout unless given one)."""

    def __init__(
        self,
        session_id: SessionID | None,
        stream: TextIO | None = None,
        *,
        incoming: bool = True,
        outgoing: bool = True,
        events: bool = True,
    ) -> None:
        self._name = str(session_id) if session_id else GLOBAL_LOG_NAME
        self._stream = stream
        self.show_incoming = incoming
        self.show_outgoing = outgoing
        self.show_events = events

    def _print(self, kind: str, text: str, now: float) -> None:
        stream = self._stream if self._stream is not None else sys.stdout  # looked up late: redirection works
        stream.write(f"<{format_log_timestamp(now).decode()}, {self._name}, {kind}>\n  ({text})\n")
        stream.flush()

    def on_incoming(self, raw: bytes, now: float) -> None:
        if self.show_incoming:
            self._print("incoming", printable(raw), now)

    def on_outgoing(self, raw: bytes, now: float) -> None:
        if self.show_outgoing:
            self._print("outgoing", printable(raw), now)

    def on_event(self, text: str, now: float) -> None:
        if self.show_events:
            self._print("event", text, now)


class ScreenLogFactory(LogFactory):
    """Creates ScreenLogs sharing one stream and one set of show-flags."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        incoming: bool = True,
        outgoing: bool = True,
        events: bool = True,
    ) -> None:
        self.stream = stream
        self.incoming = incoming
        self.outgoing = outgoing
        self.events = events

    def create(self, session_id: SessionID | None) -> Log:
        return ScreenLog(
            session_id, self.stream, incoming=self.incoming, outgoing=self.outgoing, events=self.events
        )
