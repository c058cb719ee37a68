"""ReflectorApplication: the acceptor application used to check conformance with the FIX session-level tests.

It echoes every NewOrderSingle (35=D) and SecurityDefinition (35=d) back to its sender, drops a
NewOrderSingle carrying PossResend=Y whose ClOrdID this session already echoed, and answers every
other application message with a BusinessMessageReject (the default of ``Application.from_app``).
"""

from __future__ import annotations

from collections import defaultdict

from .application import Application, UnsupportedMessageType
from .codec.message import FixMessage
from .codec.tags import HEADER_TAGS, TRAILER_TAGS
from .session.session_id import SessionID
from .transport.host import SessionRegistry

ECHOED_MSG_TYPES = frozenset({"D", "d"})


class ReflectorApplication(Application):
    """Echo NewOrderSingle and SecurityDefinition; BusinessMessageReject for the rest."""

    def __init__(self, registry: SessionRegistry) -> None:
        self.registry = registry
        self._echoed_cl_ord_ids: dict[SessionID, set[bytes]] = defaultdict(set)

    def on_logon(self, session_id: SessionID) -> None:
        # ResetOnLogon starts a new conversation: forget what was echoed in the previous one
        self._echoed_cl_ord_ids.pop(session_id, None)

    def from_app(self, message: FixMessage, session_id: SessionID) -> None:
        msg_type = message.msg_type
        if msg_type not in ECHOED_MSG_TYPES:
            raise UnsupportedMessageType()
        if msg_type == "D":
            cl_ord_id = message.get_raw(11) or b""
            echoed = self._echoed_cl_ord_ids[session_id]
            if message.get_raw(97) == b"Y" and cl_ord_id in echoed:
                return  # a possible resend of an order we already echoed
            echoed.add(cl_ord_id)
        reply = FixMessage(
            [(tag, value) for tag, value in message.fields if tag not in HEADER_TAGS and tag not in TRAILER_TAGS]
        )
        reply.fields.insert(0, (35, msg_type.encode("ascii")))
        self.registry.send_to_target(reply, session_id)
