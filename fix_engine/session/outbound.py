"""Outbound: everything a Session puts on the wire, and serving the counterparty's ResendRequest.

It fills the standard header, runs ``to_admin``/``to_app`` (honouring DoNotSend), encodes, stores
the bytes with ``save_and_incr`` *before* the :class:`Send` action exists, and decides whether the
message may go on the wire in the session's current state (QuickFIX ``sendRaw``).  Resends are
stamped copies of stored messages (43=Y, 122 = original 52, new 52, same MsgSeqNum) and runs of
anything else become one SequenceReset-GapFill.  Pure: ``now`` comes in, actions go out.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import itemgetter
from typing import TYPE_CHECKING, Protocol

from ..application import Application, DoNotSend
from ..codec import tags
from ..codec.encoding import encode
from ..codec.errors import ParseError
from ..codec.message import FixMessage, format_epoch_timestamp
from ..codec.parsing import speedups
from ..codec.tags import ADMIN_MSG_TYPES, MsgTypes
from . import admin
from .actions import Action, Event, Send
from .heartbeat import HeartbeatMonitor
from .sequencing import GapFill, plan_resend
from .settings import SessionSettings
from .state import SessionState

if TYPE_CHECKING:
    from ..store.base import MessageStore

_first = itemgetter(0)
#: C twin of ``not tags.isdisjoint(map(_first, fields))`` (None without the accelerator)
_has_any_tag = speedups.has_any_tag if speedups is not None else None
_MSG_TYPE_TEXT: dict[bytes, str] = {}


def msg_type_text(raw: bytes) -> str:
    """``raw.decode("latin-1")``, memoised for the MsgTypes seen (bounded)."""
    text = _MSG_TYPE_TEXT.get(raw)
    if text is None:
        text = raw.decode("latin-1")
        if len(_MSG_TYPE_TEXT) < 1024:
            _MSG_TYPE_TEXT[raw] = text
    return text

#: Admin messages that go on the wire before the logon exchange completes (QuickFIX sendRaw).
SENT_BEFORE_LOGON = frozenset(
    {MsgTypes.Logon, MsgTypes.Logout, MsgTypes.ResendRequest, MsgTypes.SequenceReset}
)


class OutgoingLog(Protocol):
    """The part of a message log Outbound writes to."""

    def on_outgoing(self, raw: bytes, now: float) -> None: ...


class Outbound:
    """Stamps, stores and emits the outgoing messages of one session."""

    def __init__(
        self,
        settings: SessionSettings,
        store: MessageStore,
        application: Application,
        heartbeat: HeartbeatMonitor,
        *,
        data_length_tags: Mapping[int, int] | None = None,
        log: OutgoingLog | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.application = application
        self.heartbeat = heartbeat
        self.data_length_tags = data_length_tags
        self.log = log
        self.session_id = settings.session_id
        self.begin_string = self.session_id.begin_string
        self.precision = admin.sending_time_precision(self.begin_string, settings.timestamp_precision)
        sid = self.session_id
        self.header: list[tuple[int, bytes]] = [
            (tags.BeginString, self.begin_string.encode("ascii")),
            (tags.SenderCompID, sid.sender_comp_id.encode("latin-1")),
            (tags.TargetCompID, sid.target_comp_id.encode("latin-1")),
        ]
        for tag, value in (
            (tags.SenderSubID, sid.sender_sub_id),
            (tags.SenderLocationID, sid.sender_location_id),
            (tags.TargetSubID, sid.target_sub_id),
            (tags.TargetLocationID, sid.target_location_id),
        ):
            if value:
                self.header.append((tag, value.encode("latin-1")))
        #: every tag fill_header sets: when a message carries none of them (a message built
        #: with ``FixMessage.new``), the header is appended in one step
        self.header_tags = frozenset([tag for tag, _ in self.header] + [tags.MsgSeqNum, tags.SendingTime])

    def timestamp(self, now: float) -> bytes:
        """SendingTime for ``now`` (no fraction on FIX.4.0/4.1, else TimestampPrecision)."""
        return format_epoch_timestamp(now, self.precision)

    def fill_header(self, message: FixMessage, seq: int, now: float) -> None:
        fields = message.fields
        present = _has_any_tag(fields, self.header_tags) if _has_any_tag is not None else None
        if present is None:
            present = not self.header_tags.isdisjoint(map(_first, fields))
        if not present:
            # what the ``set`` calls below do when none of the tags is present: append them
            fields += self.header
            fields.append((tags.MsgSeqNum, b"%d" % seq))
            fields.append((tags.SendingTime, format_epoch_timestamp(now, self.precision)))
            return
        for tag, value in self.header:
            message.set(tag, value)
        message.set(tags.MsgSeqNum, seq)
        message.set(tags.SendingTime, self.timestamp(now))

    def send(
        self,
        message: FixMessage,
        now: float,
        out: list[Action],
        state: SessionState,
        *,
        seq: int | None = None,
    ) -> bool:
        """Fill the header, run to_admin/to_app, encode, store (unless ``seq`` is given: a
        resent number, not stored again), and emit Send when the message may go on the wire in
        ``state``.  Returns whether a Send was emitted."""
        fields = message.fields
        first = fields[0] if fields else None
        if first is not None and first[0] == tags.MsgType and type(first[1]) is bytes:
            msg_type = msg_type_text(first[1])  # FixMessage.new puts 35 first
        else:
            msg_type = message.get(tags.MsgType) or ""
        number = self.store.next_sender_seq_num() if seq is None else seq
        self.fill_header(message, number, now)
        if msg_type in ADMIN_MSG_TYPES:
            self.application.to_admin(message, self.session_id)
        else:
            if state is not SessionState.ACTIVE and not state.logged_on and self.next_logon_resets():
                out.append(Event("Not logged on and the next logon resets: application message not sent"))
                return False
            try:
                self.application.to_app(message, self.session_id)
            except DoNotSend:
                out.append(Event(f"Application refused to send {msg_type} (DoNotSend)"))
                return False
        raw = encode(message)
        if seq is None:
            if self.settings.persist_messages:
                self.store.save_and_incr(number, raw)
            else:
                self.store.set_next_sender_seq_num(number + 1)
        if state is not SessionState.ACTIVE and (
            not state.connected or not (state.logged_on or msg_type in SENT_BEFORE_LOGON)
        ):
            return False
        self.emit(raw, message, now, out)
        return True

    def emit(self, raw: bytes, message: FixMessage, now: float, out: list[Action]) -> None:
        """Put already stored (or resent) bytes on the wire."""
        if self.log is not None:
            self.log.on_outgoing(raw, now)
        self.heartbeat.sent(now)
        out.append(Send(raw, message))

    def next_logon_resets(self) -> bool:
        """QuickFIX shouldSendReset: the next logon resets, so messages stored now would be lost."""
        s = self.settings
        return (
            admin.version_at_least(self.begin_string, "FIX.4.1")
            and (s.reset_on_logon or s.reset_on_logout or s.reset_on_disconnect)
            and self.store.next_sender_seq_num() == 1
            and self.store.next_target_seq_num() == 1
        )

    # ----------------------------------------------------------------- resends

    def resend(self, begin: int, end: int, now: float, out: list[Action], state: SessionState) -> None:
        """Answer a ResendRequest for ``begin..end`` (EndSeqNo 0 / 999999 / beyond: up to our last
        sent).  PersistMessages=N gap-fills everything."""
        out.append(Event(f"Received ResendRequest FROM: {begin} TO: {end}"))
        last_sent = self.store.next_sender_seq_num() - 1
        if admin.is_infinite_end_seq_no(self.begin_string, end) or end > last_sent:
            end = last_sent
        begin = max(begin, 1)
        if begin > end:
            out.append(Event("Nothing to resend"))
            return
        if not self.settings.persist_messages:
            self.gap_fill(begin, end + 1, now, out, state)
            return
        stored = self.store.get_range(begin, end)
        for item in plan_resend(begin, end, stored, lambda s, raw: self._prepare_resend(s, raw, now, out)):
            if isinstance(item, GapFill):
                self.gap_fill(item.begin, item.new_seq_no, now, out, state)
            else:
                number, raw, message = item
                self.emit(raw, message, now, out)
                out.append(Event(f"Resending Message: {number}"))

    def gap_fill(
        self, begin: int, new_seq_no: int, now: float, out: list[Action], state: SessionState
    ) -> None:
        """SequenceReset-GapFill numbered ``begin`` (43=Y, 122=52, 123=Y, 36=``new_seq_no``)."""
        message = admin.sequence_reset(new_seq_no, gap_fill=True)
        message.set(tags.PossDupFlag, b"Y")
        message.set(tags.OrigSendingTime, self.timestamp(now))
        self.send(message, now, out, state, seq=begin)
        out.append(Event(f"Sent SequenceReset GapFill FROM: {begin} TO: {new_seq_no}"))

    def _prepare_resend(
        self, seq: int, raw: bytes, now: float, out: list[Action]
    ) -> tuple[int, bytes, FixMessage] | None:
        """A stored application message made ready to resend, or None (admin, DoNotSend)."""
        try:
            message = FixMessage.parse(raw, self.data_length_tags)
        except ParseError as exc:
            out.append(Event(f"Stored message {seq} unreadable, gap-filled ({exc})"))
            return None
        if (message.get(tags.MsgType) or "") in ADMIN_MSG_TYPES:
            return None
        original_time = message.get_raw(tags.SendingTime)
        message.remove(tags.BodyLength)
        message.remove(tags.CheckSum)
        message.set(tags.PossDupFlag, b"Y")
        if original_time:
            message.set(tags.OrigSendingTime, original_time)
        message.set(tags.SendingTime, self.timestamp(now))
        try:
            self.application.to_app(message, self.session_id)
        except DoNotSend:
            return None
        return seq, encode(message, keep_body_order=True), message
