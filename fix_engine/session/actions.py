"""What a pure Session asks its transport to do: write bytes, drop the connection, log an event."""

from __future__ import annotations

from dataclasses import dataclass

from ..codec.message import FixMessage


@dataclass(slots=True)
class Send:
    """Write ``data`` to the connection; the message is already stored (when it has to be).

    Not frozen (one per outgoing message: a frozen dataclass costs twice as much to create);
    treat it as read-only.
    """

    data: bytes
    message: FixMessage


@dataclass(frozen=True, slots=True)
class Disconnect:
    """Close the connection.  The session has already moved to DISCONNECTED and cleaned up."""

    reason: str


@dataclass(frozen=True, slots=True)
class Event:
    """A line for the session's event log."""

    text: str


Action = Send | Disconnect | Event
