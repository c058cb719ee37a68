"""Application: the callbacks a FIX application implements (QuickFIX's Application interface).

The session layer calls these synchronously.  ``from_app``/``from_admin`` may raise one of the
typed errors below; the session turns each into the right FIX answer:

* :class:`RejectLogon` in ``from_admin`` for a Logon -> Logout with the text, then disconnect.
* :class:`UnsupportedMessageType` -> BusinessMessageReject (380=3 "Unsupported Message Type").
* :class:`IncorrectTagValue`, :class:`FieldNotFoundReject`, :class:`IncorrectDataFormat`,
  :class:`TagNotDefined` -> session Reject with the matching SessionRejectReason.
* :class:`BusinessReject` -> BusinessMessageReject with the given reason.
* :class:`DoNotSend` in ``to_app`` -> the message is not sent (and consumes no sequence number).

The codec's own errors are answered as QuickFIX answers its ``FieldNotFound`` and
``IncorrectDataFormat``, whether a :class:`~fix_engine.codec.message.FixMessage` getter raised
them (``message.get_int(38)`` on a missing or non-numeric field) or the application did on purpose:

* :class:`FieldNotFound` (``message[tag]``, ``get_int``/``get_decimal``/... without a default) ->
  on FIX.4.2+ application messages a BusinessMessageReject 380=5 with Text
  ``"Conditionally Required Field Missing (<tag>)"``; on FIX.4.0/4.1 and for admin messages a
  session Reject 373=1 with RefTagID (FIX.4.0/4.1: ``"Required tag missing (<tag>)"`` in Text).
  Raise :class:`FieldNotFoundReject` instead to get the session Reject on every version.
* :class:`FieldValueError` (a getter's conversion failed) -> session Reject 373=6 with RefTagID,
  as :class:`IncorrectDataFormat`.

Each of these answers consumes the message's sequence number and keeps the session up, except on
a Logon, where the session disconnects (before the logon exchange completes, without a reply; a
Logon with ResetSeqNumFlag=Y while logged on gets a Logout first).  A Logout is never rejected:
an error from ``from_admin`` for it is logged and the logout goes on.  Any other exception
escapes the session: the transport logs it and drops the connection, the message not consumed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .codec.errors import FieldNotFound, FieldValueError

__all__ = [
    "Application",
    "ApplicationError",
    "BusinessReject",
    "DoNotSend",
    "FieldNotFound",
    "FieldNotFoundReject",
    "FieldValueError",
    "IncorrectDataFormat",
    "IncorrectTagValue",
    "RejectLogon",
    "SessionRejectError",
    "TagNotDefined",
    "UnsupportedMessageType",
]

if TYPE_CHECKING:
    from .codec.message import FixMessage
    from .session.session_id import SessionID


class ApplicationError(Exception):
    """Base of the typed errors an application raises to make the session answer."""


class RejectLogon(ApplicationError):
    """Refuse a Logon: the session answers with a Logout carrying ``str(self)`` and disconnects."""


class DoNotSend(ApplicationError):
    """Raised from ``to_app`` to suppress sending an application message."""


class SessionRejectError(ApplicationError):
    """Base for errors answered with a session Reject (35=3)."""

    reason: int = 99

    def __init__(self, tag: int | None = None, text: str | None = None) -> None:
        super().__init__(text or "")
        self.tag = tag
        self.text = text


class FieldNotFoundReject(SessionRejectError):
    reason = 1  # Required tag missing


class TagNotDefined(SessionRejectError):
    reason = 2  # Tag not defined for this message type


class IncorrectTagValue(SessionRejectError):
    reason = 5  # Value is incorrect (out of range) for this tag


class IncorrectDataFormat(SessionRejectError):
    reason = 6  # Incorrect data format for value


class UnsupportedMessageType(ApplicationError):
    """The application does not handle this MsgType: BusinessMessageReject 380=3."""


class BusinessReject(ApplicationError):
    """Answer with BusinessMessageReject (35=j) with BusinessRejectReason ``reason`` and Text."""

    def __init__(self, reason: int, text: str = "", ref_id: str | None = None) -> None:
        super().__init__(text)
        self.reason = reason
        self.text = text
        self.ref_id = ref_id


class Application:
    """Callbacks of a FIX application; override what you need (all default to no-ops).

    ``from_app`` defaults to raising :class:`UnsupportedMessageType`, so an application that
    handles nothing answers every application message with a BusinessMessageReject.

    ``from_app`` and ``from_admin`` may raise the typed errors of this module (see the module
    docstring for the answer to each), including QuickFIX's ``FieldNotFound``,
    ``IncorrectDataFormat`` and ``IncorrectTagValue``: reading a missing field with
    ``message.get_int(tag)`` raises :class:`FieldNotFound`, which the session answers with a
    BusinessMessageReject 380=5 (FIX.4.2+), so a QuickFIX-style application needs no try/except
    around its getters.  The message counts as received either way.
    """

    def on_create(self, session_id: SessionID) -> None:
        """A session was created (at start-up or, for templated sessions, on first logon)."""

    def on_destroy(self, session_id: SessionID) -> None:
        """A templated session created for a connection that never completed a Logon was released
        (its logon was refused): forget whatever :meth:`on_create` set up for it."""

    def on_logon(self, session_id: SessionID) -> None:
        """The session completed the logon exchange."""

    def on_logout(self, session_id: SessionID) -> None:
        """The session logged out or its connection was lost after logon."""

    def to_admin(self, message: FixMessage, session_id: SessionID) -> None:
        """An admin message is about to be sent (may be modified, e.g. to add Username/Password)."""

    def from_admin(self, message: FixMessage, session_id: SessionID) -> None:
        """An admin message was received (raise :class:`RejectLogon` to refuse a Logon)."""

    def to_app(self, message: FixMessage, session_id: SessionID) -> None:
        """An application message is about to be sent (raise :class:`DoNotSend` to drop it)."""

    def from_app(self, message: FixMessage, session_id: SessionID) -> None:
        """An application message was received, in sequence, validated."""
        raise UnsupportedMessageType()
