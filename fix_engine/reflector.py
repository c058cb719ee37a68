"""ReflectorApplication: the acceptor application used to check conformance with the FIX session-level tests.

It echoes every NewOrderSingle (35=D) and SecurityDefinition (35=d) back to its sender, drops a
NewOrderSingle carrying PossResend=Y whose ClOrdID this session already echoed, and answers every
other application message with a BusinessMessageReject (the default of ``Application.from_app``).

The echo is what QuickFIX's acceptance-test server (``at``) sends: a copy of the message, header
included, sent with ``sendToTarget``.  The session fills BeginString, CompIDs, MsgSeqNum and
SendingTime and (QuickFIX ``Session::send``) drops PossDupFlag and OrigSendingTime; every other
header field (PossResend (97) for one) goes back as received.  The body goes out in QuickFIX's
order: ascending by tag, each repeating group as one block at its NumInGroup tag (the session's
data dictionary says where a group ends).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from operator import itemgetter

from .application import Application, UnsupportedMessageType
from .codec.message import Field, FixMessage
from .codec.tags import HEADER_TAGS, NUM_IN_GROUP_TAGS, TRAILER_TAGS
from .dictionary import DataDictionary, DictionaryPair
from .session.session_id import SessionID
from .transport.host import SessionRegistry

ECHOED_MSG_TYPES = frozenset({"D", "d"})

#: Fields of the received message that do not go back in the echo: the session's own header
#: fields, the two a new (not resent) message must not carry, and the trailer.
NOT_ECHOED = frozenset({8, 9, 34, 35, 43, 49, 52, 56, 122}) | TRAILER_TAGS

_first = itemgetter(0)


class ReflectorApplication(Application):
    """Echo NewOrderSingle and SecurityDefinition; BusinessMessageReject for the rest."""

    def __init__(self, registry: SessionRegistry) -> None:
        self.registry = registry
        self._echoed_cl_ord_ids: dict[SessionID, set[bytes]] = defaultdict(set)
        #: per session: MsgType -> {NumInGroup tag: every tag of that group} (from its dictionary)
        self._groups: dict[SessionID, dict[str, Mapping[int, frozenset[int]] | None]] = {}

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
        header = [(t, v) for t, v in message.fields if t in HEADER_TAGS and t not in NOT_ECHOED]
        body = [(t, v) for t, v in message.fields if t not in HEADER_TAGS and t not in NOT_ECHOED]
        appl_ver_id = message.get(1128)
        groups = self._groups_of(session_id, msg_type, appl_ver_id)
        reply = FixMessage([(35, msg_type.encode("ascii")), *header, *canonical_body(body, groups)])
        self.registry.send_to_target(reply, session_id)

    def _groups_of(
        self, session_id: SessionID, msg_type: str, appl_ver_id: str | None
    ) -> Mapping[int, frozenset[int]] | None:
        """The repeating groups of ``msg_type``'s body in the session's dictionary (None without one)."""
        cache = self._groups.setdefault(session_id, {})
        key = f"{appl_ver_id or ''}:{msg_type}"
        if key not in cache:
            cache[key] = _body_groups(self._dictionary(session_id), msg_type, appl_ver_id)
        return cache[key]

    def _dictionary(self, session_id: SessionID) -> DataDictionary | DictionaryPair | None:
        host = self.registry.get(session_id)
        if host is None:
            return None
        from .transport.validation_wiring import dictionary_for

        try:
            return dictionary_for(host.session.settings)
        except (OSError, ValueError):
            return None


def _body_groups(
    dictionary: DataDictionary | DictionaryPair | None, msg_type: str, appl_ver_id: str | None
) -> Mapping[int, frozenset[int]] | None:
    if dictionary is None:
        return None
    app = dictionary.application(appl_ver_id) if isinstance(dictionary, DictionaryPair) else dictionary
    definition = app.message(msg_type) if app is not None else None
    if definition is None:
        return None
    return {count: group.all_tags for count, group in definition.body.groups.items()}


def canonical_body(fields: list[Field], groups: Mapping[int, frozenset[int]] | None) -> list[Field]:
    """``fields`` (a flat body) in QuickFIX's order: ascending by tag, a repeating group (its
    NumInGroup field and the entries after it) moving as one block.  Without the groups of the
    message (``None``: no dictionary), a body holding a NumInGroup field keeps its order."""
    if groups is None:
        if not NUM_IN_GROUP_TAGS.isdisjoint(tag for tag, _ in fields):
            return list(fields)
        groups = {}
    blocks: list[tuple[int, list[Field]]] = []
    i, n = 0, len(fields)
    while i < n:
        tag = fields[i][0]
        members = groups.get(tag)
        j = i + 1
        if members is not None:
            while j < n and fields[j][0] in members:
                j += 1
        blocks.append((tag, fields[i:j]))
        i = j
    blocks.sort(key=_first)  # stable: a tag repeated outside groups keeps its order
    return [field for _, block in blocks for field in block]
