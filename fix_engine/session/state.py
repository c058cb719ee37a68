"""SessionState: the one lifecycle enum of a FIX session, with its explicit transition table.

A session is always in exactly one of these states (DESIGN.md example 4: Artio's
``SessionState``, not QuickFIX/J's bag of booleans).  Orthogonal bookkeeping that is not a
lifecycle phase lives in its own small objects: the outstanding ResendRequest range and the
queue of too-high messages in :mod:`.sequencing`, the outstanding TestRequest in
:mod:`.heartbeat`.

Transitions (anything else raises :class:`InvalidTransition`)::

    DISCONNECTED   -> AWAITING_LOGON   transport connected (acceptor), or first frame arrived
    DISCONNECTED   -> LOGON_SENT       transport connected (initiator), our Logon sent
    AWAITING_LOGON -> ACTIVE           valid Logon received and answered
    AWAITING_LOGON -> DISCONNECTED     bad first message, LogonTimeout, RejectLogon, connection lost
    LOGON_SENT     -> ACTIVE           the counterparty's Logon answered ours
    LOGON_SENT     -> DISCONNECTED     LogonTimeout, Logout received, bad answer, connection lost
    ACTIVE         -> LOGOUT_SENT      we sent a Logout and wait for the answer
    ACTIVE         -> DISCONNECTED     Logout received and answered, fatal error, connection lost
    LOGOUT_SENT    -> DISCONNECTED     Logout answer received, LogoutTimeout, connection lost
"""

from __future__ import annotations

from enum import Enum


class SessionState(Enum):
    """Where a session is in its connect -> logon -> active -> logout -> disconnect cycle."""

    #: No transport connection.  Application messages sent now are stored (sequence number
    #: consumed) and reach the counterparty by resend after the next logon.
    DISCONNECTED = "disconnected"
    #: Acceptor: connected, waiting for the counterparty's Logon (bounded by LogonTimeout).
    #: Anything but a valid Logon disconnects without a reply.
    AWAITING_LOGON = "awaiting_logon"
    #: Initiator: our Logon is on the wire, waiting for the answering Logon (LogonTimeout).
    LOGON_SENT = "logon_sent"
    #: Logged on: both Logons exchanged; heartbeats, sequencing and application traffic run.
    ACTIVE = "active"
    #: We sent a Logout and wait for the counterparty's Logout (bounded by LogoutTimeout).
    #: Still logged on: incoming messages are processed, resend requests served.
    LOGOUT_SENT = "logout_sent"

    @property
    def connected(self) -> bool:
        """A transport connection carries this session."""
        return self is not SessionState.DISCONNECTED

    @property
    def logged_on(self) -> bool:
        """Both Logons were exchanged and no Logout exchange has completed (QuickFIX isLoggedOn)."""
        return self is SessionState.ACTIVE or self is SessionState.LOGOUT_SENT

    @property
    def awaiting_logon(self) -> bool:
        """Connected but the logon exchange is not complete (either side)."""
        return self is SessionState.AWAITING_LOGON or self is SessionState.LOGON_SENT


#: The only allowed moves; see the module docstring for the event behind each one.
TRANSITIONS: dict[SessionState, frozenset[SessionState]] = {
    SessionState.DISCONNECTED: frozenset({SessionState.AWAITING_LOGON, SessionState.LOGON_SENT}),
    SessionState.AWAITING_LOGON: frozenset({SessionState.ACTIVE, SessionState.DISCONNECTED}),
    SessionState.LOGON_SENT: frozenset({SessionState.ACTIVE, SessionState.DISCONNECTED}),
    SessionState.ACTIVE: frozenset({SessionState.LOGOUT_SENT, SessionState.DISCONNECTED}),
    SessionState.LOGOUT_SENT: frozenset({SessionState.DISCONNECTED}),
}


class InvalidTransition(RuntimeError):
    """A programming error: the session tried a move the transition table does not allow."""

    def __init__(self, current: SessionState, target: SessionState) -> None:
        super().__init__(f"session cannot go from {current.name} to {target.name}")
        self.current = current
        self.target = target


def check_transition(current: SessionState, target: SessionState) -> SessionState:
    """Return ``target`` if ``current -> target`` is in :data:`TRANSITIONS`, else raise."""
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(current, target)
    return target
