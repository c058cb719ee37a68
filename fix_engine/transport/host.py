"""SessionHost and SessionRegistry: where a pure Session meets its current connection.

A :class:`SessionHost` owns one :class:`~fix_engine.session.session.Session` for the life of the
process and is attached to at most one :class:`FixProtocol` at a time.  Application code sends
through the host (``send_to_target``) whether or not a connection is up: while disconnected the
session stores the message and it goes out by resend after the next logon.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..codec.message import FixMessage
from ..session.actions import Send
from ..session.session_id import SessionID

if TYPE_CHECKING:
    from ..log.base import Log
    from ..session.session import Session
    from .protocol import FixProtocol


class SessionNotFound(LookupError):
    """``send_to_target`` named a session this process does not host."""


class SessionHost:
    """One session, its log, and the connection currently carrying it (if any)."""

    def __init__(self, session: Session, now: Callable[[], float], log: Log | None = None) -> None:
        self.session = session
        self.session_id: SessionID = session.session_id
        self.protocol: FixProtocol | None = None
        self._now = now
        self.log = log

    def attach(self, protocol: FixProtocol) -> bool:
        """Bind a connection; refused (False) while another connection carries the session."""
        if self.protocol is not None and self.protocol is not protocol:
            return False
        self.protocol = protocol
        return True

    def detach(self, protocol: FixProtocol) -> None:
        if self.protocol is protocol:
            self.protocol = None

    @property
    def connected(self) -> bool:
        return self.protocol is not None

    def send(self, message: FixMessage) -> bool:
        """Send (or, while disconnected, store for resend) an application message."""
        actions = self.session.send(message, self._now())
        if self.protocol is not None:
            self.protocol.perform(actions)
        for action in actions:
            if isinstance(action, Send):
                return True
        return False

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Send several messages as one group: ``with host.batched(): host.send(a); host.send(b)``
        stores and logs them in one write each and puts them on the wire in one write (see
        :meth:`FixProtocol.output_batch`).  Without a connection, each send is stored as usual."""
        protocol = self.protocol
        if protocol is None:
            yield
            return
        with protocol.output_batch():
            yield

    def logout(self, text: str = "") -> None:
        actions = self.session.logout(self._now(), text)
        if self.protocol is not None:
            self.protocol.perform(actions)

    def tick(self, now: float) -> None:
        if self.protocol is not None:
            self.protocol.timer_tick(now)
        else:
            self.session.on_timer(now)

    def event(self, text: str) -> None:
        if self.log is not None:
            self.log.on_event(text, self._now())


class SessionRegistry:
    """The sessions one engine hosts, by SessionID (what ``send_to_target`` looks up)."""

    def __init__(self) -> None:
        self._hosts: dict[SessionID, SessionHost] = {}

    def add(self, host: SessionHost) -> None:
        self._hosts[host.session_id] = host

    def remove(self, session_id: SessionID) -> None:
        self._hosts.pop(session_id, None)

    def get(self, session_id: SessionID) -> SessionHost | None:
        return self._hosts.get(session_id)

    def __iter__(self) -> Iterator[SessionHost]:
        return iter(list(self._hosts.values()))

    def __len__(self) -> int:
        return len(self._hosts)

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._hosts

    def send_to_target(self, message: FixMessage, session_id: SessionID) -> bool:
        """Send ``message`` on ``session_id``; raises :class:`SessionNotFound` if not hosted here."""
        host = self._hosts.get(session_id)
        if host is None:
            raise SessionNotFound(f"no session {session_id}")
        return host.send(message)


#: The registry engines use unless given their own (QuickFIX's static Session::sendToTarget).
DEFAULT_REGISTRY = SessionRegistry()


def send_to_target(message: FixMessage, session_id: SessionID, registry: SessionRegistry | None = None) -> bool:
    """QuickFIX-style ``Session.sendToTarget``: send on a session hosted by this process."""
    return (registry or DEFAULT_REGISTRY).send_to_target(message, session_id)
