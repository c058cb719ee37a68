"""Session: the pure FIX session state machine (logon, sequencing, heartbeats, resend, reject, logout).

No sockets, no clock: the transport calls ``on_connect``/``on_frame``/``on_timer``/``on_disconnect``
with ``now`` (epoch seconds) and performs the :mod:`actions <.actions>` returned (DESIGN.md
example 1).  Every outgoing message is stored before its :class:`Send` is returned.

Incoming processing follows QuickFIX's ``Session::next``/``Session::verify``:

1. MsgSeqNum present and numeric (else Logout + Disconnect; before logon: Disconnect).
2. BeginString equals the session's (else Logout "Incorrect BeginString", consuming the number,
   and wait for the answer; a Logout is a Logout whatever its BeginString).  QuickFIX checks it
   before the dictionary, since the dictionary is chosen by BeginString.
3. Validation: SenderCompID/TargetCompID/SendingTime present, ``is_known_msg_type``, then the
   injected ``validator`` (first violation answered with a Reject).
4. Logon state: before logon only a Logon (or, for an initiator, a Logout) is acceptable;
   a Logon while logged on must carry ResetSeqNumFlag=Y.
5. SendingTime within MaxLatency (CheckLatency), then 6. CompIDs (CheckCompID), in QuickFIX's
   order: Reject 373=10 / 373=9, then a Logout without Text (QuickFIX doBadTime/doBadCompID),
   waiting LogoutTimeout for the answer (every such message gets the pair, as in QuickFIX).
7. Sequence: too high -> queue + ResendRequest; too low -> PossDup duplicate ignored, otherwise
   Logout "MsgSeqNum too low, expecting X but received Y" + Disconnect.  PossDupFlag=Y needs a
   sane OrigSendingTime.
8. ``from_admin``/``from_app``, then the admin handler; the MsgSeqNum is consumed.

Before the logon exchange completes nothing is ever rejected: any problem disconnects without
a reply (QuickFIX cannot send a Reject while not logged on).

A session Reject consumes the rejected message's number when it is the expected one, except for
Logon and SequenceReset (QuickFIX's ``generateReject``). A SequenceReset whose NewSeqNo would move
the expected number back is rejected with 373=5 and no RefTagID (QuickFIX); in Reset mode its own
MsgSeqNum is not checked at all (even 0 is taken); a GapFill to its own number is ignored. A
Logout is consumed only when in sequence (QuickFIX/J). A received Reject is sequence-checked like
any message (QuickFIX C++ skips the too-high check there; we do not).

SendNextExpectedMsgSeqNum (QuickFIX/J semantics): our Logon carries 789 = the next number we
expect; a counterparty Logon whose 789 is above our next sender number is answered with Logout
and Disconnect (we cannot resend what we never sent); below it, we resend from 789 up to our
last sent message right after the logon exchange, as if the peer had sent a ResendRequest.
When both Logons carry 789 and the counterparty's Logon is ahead of sequence, we send no
ResendRequest: the counterparty resends from our 789 by itself.

Other rules live in their own modules: the lifecycle in :mod:`.state`, heartbeat/TestRequest
timing in :mod:`.heartbeat` (TestRequest after HeartBtInt * (1 + TestRequestDelayMultiplier)
of silence, Disconnect after twice that), gap bookkeeping and resend planning in
:mod:`.sequencing`, header checks in :mod:`.checks`, message builders in :mod:`.admin`, and
storing/sending/resending in :mod:`.outbound`.  An acceptor's transport may hand the first frame
to a DISCONNECTED session without calling ``on_connect``; the session then starts awaiting the
Logon.  A Logon's ResetSeqNumFlag=Y is echoed; an acceptor's own ResetOnLogon resets its store
without announcing 141=Y (QuickFIX).

An application that sends from a callback (``from_app``, ``on_logon``) while an input is being
handled gets, ahead of its own Send, the actions that input produced so far: the transport
performs the callback's actions at once and the input's only when ``on_frame`` returns, so this
keeps the wire in MsgSeqNum order (a Logon answer before what ``on_logon`` sends, resent messages
before a reply to the message that followed the ResendRequest).

The application's ``on_logout`` is called only after ``on_logon`` was (QuickFIX also calls it
when just a Logon was sent).  The codec's field errors from ``from_app``/``from_admin`` are
answered as QuickFIX's ``Session::next`` answers them, consuming the number and keeping the
session: :class:`FieldNotFound` -> BusinessMessageReject 380=5 "Conditionally Required Field
Missing (<tag>)" for a FIX.4.2+ application message, else Reject 373=1 with RefTagID;
:class:`FieldValueError` -> Reject 373=6 with RefTagID.  On a Logon they refuse the logon
(disconnect); on a Logout they are logged and the logout proceeds.  Exceptions other than these
and the typed :mod:`fix_engine.application` errors propagate to the transport (the message is
not consumed; QuickFIX behaves the same).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

from ..application import (
    Application,
    ApplicationError,
    BusinessReject,
    RejectLogon,
    SessionRejectError,
    UnsupportedMessageType,
)
from ..codec import tags
from ..codec.encoding import encode
from ..codec.errors import FieldNotFound, FieldValueError, ParseError
from ..codec.framing import Frame
from ..codec.message import FixMessage
from ..codec.tags import ADMIN_MSG_TYPES, MsgTypes
from ..dictionary.violations import REJECT_REASON_TEXT, SessionRejectReason, Violation
from . import admin, checks
from .actions import Action, Disconnect, Event
from .heartbeat import HeartbeatMonitor, TimerDue
from .outbound import Outbound, msg_type_text
from .sequencing import (
    InboundQueue,
    ResendRange,
    SeqCheck,
    check_seq,
    plan_resend_request,
)
from .session_id import SessionID
from .settings import SessionSettings
from .state import SessionState, check_transition

if TYPE_CHECKING:
    from ..store.base import MessageStore

Validator = Callable[[FixMessage], list[Violation]]
R = SessionRejectReason

#: TestReqID of the TestRequests we send (QuickFIX uses the same constant).
TEST_REQ_ID = "TEST"

#: MsgTypes :meth:`Session._sequenced` hands to their own handlers (the others go by
#: ``_in_sequence`` then ``_deliver``).
#: header tags the fast path reads at once (MsgType, MsgSeqNum, BeginString, SenderCompID,
#: TargetCompID, SendingTime, PossDupFlag)
_FAST_PATH_TAGS = (
    tags.MsgType, tags.MsgSeqNum, tags.BeginString, tags.SenderCompID, tags.TargetCompID,
    tags.SendingTime, tags.PossDupFlag,
)

_OWN_SEQUENCE_RULES = frozenset(
    {MsgTypes.Logon, MsgTypes.Logout, MsgTypes.ResendRequest, MsgTypes.SequenceReset}
)


class SessionLog(Protocol):
    """What the session needs from a message log (``fix_engine.log.base.Log`` fits)."""

    def on_incoming(self, raw: bytes, now: float) -> None: ...

    def on_outgoing(self, raw: bytes, now: float) -> None: ...


class Session:
    """One FIX session (FIX.4.0 - 4.4, FIXT.1.1) as a pure state machine; see the module docstring.

    ``store`` keeps sequence numbers and sent messages; ``application`` gets the callbacks.
    ``validator`` returns the violations of a parsed message (None: no dictionary validation);
    ``is_known_msg_type`` says whether a MsgType exists (None: all do); ``data_length_tags``
    are the LENGTH -> DATA pairs for parsing.  ``log`` receives every raw message in and out;
    events are returned as :class:`Event` actions (the transport writes them to the log).
    """

    def __init__(
        self,
        settings: SessionSettings,
        store: MessageStore,
        application: Application,
        *,
        validator: Validator | None = None,
        is_known_msg_type: Callable[[str], bool] | None = None,
        data_length_tags: Mapping[int, int] | None = None,
        log: SessionLog | None = None,
    ) -> None:
        self.settings = settings
        self.session_id: SessionID = settings.session_id
        self.store = store
        self.application = application
        self.state: SessionState = SessionState.DISCONNECTED
        #: DefaultApplVerID (1137) the counterparty announced on its FIXT.1.1 Logon.
        self.target_default_appl_ver_id = ""
        self._validator = validator
        self._is_known_msg_type = is_known_msg_type
        self._data_length_tags = dict(data_length_tags) if data_length_tags is not None else None
        self._log = log
        self._begin = self.session_id.begin_string
        # hot-path constants: incoming header fields are compared as bytes, not decoded
        self._begin_raw = self._begin.encode("latin-1")
        self._sender_raw = self.session_id.sender_comp_id.encode("latin-1")
        self._target_raw = self.session_id.target_comp_id.encode("latin-1")
        self._any_target = self.session_id.target_comp_id == "*"
        #: MsgTypes the dictionary knows (memoised answers of ``is_known_msg_type``)
        self._known_msg_types: set[bytes] = set()
        #: application MsgTypes that passed every check once: eligible for the fast path
        self._known_app_msg_types: set[bytes] = set()
        self._heartbeat = HeartbeatMonitor(settings.heart_bt_int, settings.test_request_delay_multiplier)
        self._outbound = Outbound(
            settings, store, application, self._heartbeat, data_length_tags=self._data_length_tags, log=log
        )
        self._queue = InboundQueue()
        self._resend_range: ResendRange | None = None
        self._connected_at = 0.0
        self._logout_sent_at = 0.0
        self._sent_reset = False  # our Logon of the current exchange carried 141=Y
        #: the actions of the input being handled (on_frame, on_timer, ...), not yet returned: an
        #: application that sends from a callback gets them first (see :meth:`_take_pending`)
        self._pending: list[Action] | None = None

    # ================================================================== public API

    @property
    def is_logged_on(self) -> bool:
        """Both Logons exchanged and the connection still up (also while our Logout is pending)."""
        return self.state.logged_on

    @property
    def next_sender_seq_num(self) -> int:
        return self.store.next_sender_seq_num()

    @next_sender_seq_num.setter
    def next_sender_seq_num(self, value: int) -> None:
        self.store.set_next_sender_seq_num(value)

    @property
    def next_target_seq_num(self) -> int:
        return self.store.next_target_seq_num()

    @next_target_seq_num.setter
    def next_target_seq_num(self, value: int) -> None:
        self.store.set_next_target_seq_num(value)

    @property
    def heart_bt_int(self) -> float:
        """The HeartBtInt in force (an acceptor adopts the counterparty's)."""
        return self._heartbeat.heart_bt_int

    @property
    def resend_range(self) -> ResendRange | None:
        """Our outstanding ResendRequest, if any."""
        return self._resend_range

    def on_connect(self, now: float) -> list[Action]:
        """The transport connected.  An initiator sends its Logon (if in session)."""
        out: list[Action] = []
        outer = self._pending
        self._pending = out
        try:
            if self.state.connected:
                out.append(Event("Connect ignored: already connected"))
                return out
            if not self.settings.is_initiator:
                self._accept_connection(now)
                return out
            schedule = self.settings.schedule
            if schedule is not None and not schedule.is_in_session(now):
                out.append(Event("Outside of session time: not logging on"))
                out.append(Disconnect("outside of session time"))
                return out
            self._reset_if_new_period(now, out)
            if self.settings.refresh_on_logon:
                self.store.refresh()
            self._enter(SessionState.LOGON_SENT)
            self._connected_at = now
            self._heartbeat.restart(now, self.settings.heart_bt_int)
            self._sent_reset = self.settings.reset_on_logon
            if self._sent_reset:
                self.store.reset(now)
            logon = admin.logon(
                self.settings.heart_bt_int,
                reset_seq_num=self._sent_reset,
                next_expected_msg_seq_num=(
                    self.store.next_target_seq_num() if self.settings.send_next_expected_msg_seq_num else None
                ),
                username=self.settings.username,
                password=self.settings.password,
                default_appl_ver_id=self._default_appl_ver_id(),
            )
            self._send(logon, now, out)
            out.append(Event("Initiated logon request"))
            return out
        finally:
            self._pending = outer

    def on_frame(self, frame: Frame, now: float) -> list[Action]:
        """One framed message from the connection (possibly garbled)."""
        out: list[Action] = []
        outer = self._pending
        self._pending = out
        try:
            if not self._ready_for_input(now, out):
                return out
            if self._log is not None:
                self._log.on_incoming(frame.raw, now)
            if frame.error is not None:
                self._garbled(f"Garbled message ignored ({frame.error.value})", now, out)
                return out
            try:
                message = FixMessage.parse(frame.raw, self._data_length_tags)
            except ParseError as exc:
                self._garbled(f"Garbled message ignored ({exc})", now, out)
                return out
            if self.state is not SessionState.ACTIVE or not self._fast_inbound(message, now, out):
                self._receive(message, now, out)
            return out
        finally:
            self._pending = outer

    def _fast_inbound(self, message: FixMessage, now: float, out: list[Action]) -> bool:
        """The usual message of a logged-on session, checked in one go: an application message
        of a known type, the expected MsgSeqNum, no PossDupFlag, our BeginString and CompIDs, a
        SendingTime within MaxLatency, valid for the dictionary, nothing queued or being
        resent.  Delivered exactly as :meth:`_receive` would; False (nothing done) for anything
        else, which then takes the general path."""
        msg_type_raw, seq_raw, begin, sender, target, sending_time, poss_dup = map(
            message.field_index().get, _FAST_PATH_TAGS
        )
        if (
            msg_type_raw not in self._known_app_msg_types
            or begin != self._begin_raw
            or poss_dup is not None
            or not sender
            or type(sending_time) is not bytes
            or not sending_time
            or self._queue
            or self._resend_range is not None
        ):
            return False
        store = self.store
        seq = store.next_target_seq_num()
        if seq_raw != b"%d" % seq:
            return False
        settings = self.settings
        if settings.check_comp_id and (
            target != self._sender_raw or not (self._any_target or sender == self._target_raw)
        ):
            return False
        if settings.check_latency:
            try:
                if abs(now - checks.utc_timestamp_epoch(tags.SendingTime, sending_time)) > settings.max_latency:
                    return False
            except FieldValueError:
                return False
        if not target:
            return False
        validator = self._validator
        if validator is not None and validator(message):
            return False
        self._heartbeat.received(now)
        self._deliver(message, msg_type_text(msg_type_raw), seq, now, out)
        if (self._queue or self._resend_range is not None) and self.state.logged_on:
            self._drain_queue(now, out)
            if self.state.logged_on:
                self._follow_up_resend(now, out)
        return True

    def on_message(self, message: FixMessage, now: float) -> list[Action]:
        """An already parsed message (flat, as ``FixMessage.parse`` returns it)."""
        out: list[Action] = []
        outer = self._pending
        self._pending = out
        try:
            if not self._ready_for_input(now, out):
                return out
            if self._log is not None:
                try:
                    self._log.on_incoming(encode(message, keep_body_order=True), now)
                except ValueError:  # no BeginString / MsgType: _verify deals with it
                    pass
            self._receive(message, now, out)
            return out
        finally:
            self._pending = outer

    def on_disconnect(self, now: float) -> list[Action]:
        """The connection was lost or closed."""
        out: list[Action] = []
        outer = self._pending
        self._pending = out
        try:
            if self.state.connected:
                out.append(Event("Disconnected"))
                self._cleanup(now)
            return out
        finally:
            self._pending = outer

    def on_timer(self, now: float) -> list[Action]:
        """About once a second: timeouts, heartbeats, test requests, the schedule."""
        out: list[Action] = []
        outer = self._pending
        self._pending = out
        try:
            if not self.state.connected:
                schedule = self.settings.schedule
                if schedule is not None and schedule.is_in_session(now):
                    self._reset_if_new_period(now, out)
                return out
            if not self._check_schedule(now, out):
                return out
            if self.state.awaiting_logon:
                if now - self._connected_at >= self.settings.logon_timeout:
                    out.append(Event("Timed out waiting for logon"))
                    self._disconnect("logon timeout", now, out)
                return out
            if (
                self.state is SessionState.LOGOUT_SENT
                and now - self._logout_sent_at >= self.settings.logout_timeout
            ):
                out.append(Event("Timed out waiting for logout response"))
                self._disconnect("logout timeout", now, out)
                return out
            due = self._heartbeat.due(now)
            if due is TimerDue.TIMED_OUT:
                out.append(Event("Timed out waiting for heartbeat"))
                self._disconnect("heartbeat timeout", now, out)
            elif due is TimerDue.TEST_REQUEST:
                self._send(admin.test_request(TEST_REQ_ID), now, out)
                self._heartbeat.test_request_sent(TEST_REQ_ID, now)
                out.append(Event(f"Sent test request {TEST_REQ_ID}"))
            elif due is TimerDue.HEARTBEAT:
                self._send(admin.heartbeat(), now, out)
            return out
        finally:
            self._pending = outer

    def send(self, message: FixMessage, now: float) -> list[Action]:
        """Send an application message (header filled here).  While not logged on it is stored
        and reaches the counterparty by resend after the next logon."""
        out = self._take_pending()
        produced = len(out)
        if not self._send(message, now, out) and len(out) == produced:
            seq = message.get(tags.MsgSeqNum)
            out.append(
                Event(f"Not logged on: message {seq} stored, it goes out by resend after the next logon")
            )
        return out

    def logout(self, now: float, text: str = "") -> list[Action]:
        """Start a logout: send Logout and wait LogoutTimeout for the answer.  Before the logon
        exchange completes this just disconnects."""
        out = self._take_pending()
        if self.state is SessionState.ACTIVE:
            self._send_logout(text, now, out)
            out.append(Event("Initiated logout request"))
        elif self.state.awaiting_logon:
            self._disconnect("logout before logon completed", now, out)
        return out

    def reset(self, now: float) -> list[Action]:
        """QuickFIX ``Session::reset``: Logout if logged on, disconnect, both numbers back to 1."""
        out = self._take_pending()
        if self.state is SessionState.ACTIVE:
            self._send(admin.logout(), now, out)
        if self.state.connected:
            self._disconnect("session reset", now, out)
        self.store.reset(now)
        out.append(Event("Session reset: sequence numbers set to 1"))
        return out

    def _take_pending(self) -> list[Action]:
        """Start the actions of a public call (send, logout, reset).

        Called from an application callback while an input is being handled (``from_app``
        sending a reply, ``on_logon`` sending its first message), the actions that input has
        produced so far (a Logon answer, resent messages) come first: they are taken out of the
        input's list, which the transport performs only after the callback's own actions, so the
        messages reach the wire in MsgSeqNum order.
        """
        pending = self._pending
        if not pending:
            return []
        taken = pending[:]
        pending.clear()
        return taken

    # ================================================================== connection lifecycle

    def _enter(self, target: SessionState) -> None:
        self.state = check_transition(self.state, target)

    def _accept_connection(self, now: float) -> None:
        self._enter(SessionState.AWAITING_LOGON)
        self._connected_at = now
        self._heartbeat.restart(now)

    def _ready_for_input(self, now: float, out: list[Action]) -> bool:
        """Input while disconnected: an acceptor's transport may hand us the first frame
        without calling ``on_connect``; anything else is ignored."""
        if self.state.connected:
            return True
        if self.settings.is_initiator:
            out.append(Event("Message ignored: not connected"))
            return False
        self._accept_connection(now)
        return True

    def _disconnect(self, reason: str, now: float, out: list[Action]) -> None:
        out.append(Disconnect(reason))
        self._cleanup(now)

    def _cleanup(self, now: float) -> None:
        was_logged_on = self.state.logged_on
        self._enter(SessionState.DISCONNECTED)
        self._queue.clear()
        self._resend_range = None
        self._sent_reset = False
        self._heartbeat.test_req_id = None
        if self.settings.reset_on_disconnect:
            self.store.reset(now)
        if was_logged_on:
            self.application.on_logout(self.session_id)

    def _check_schedule(self, now: float, out: list[Action]) -> bool:
        """Connected: leave when the session period is over (or a new one began)."""
        schedule = self.settings.schedule
        if schedule is None:
            return True
        if schedule.is_in_session(now) and schedule.is_same_session(self.store.creation_time(), now):
            return True
        if schedule.is_in_session(now) and self.state.awaiting_logon:
            return True  # a new period began before the Logon: it resets the store on arrival
        out.append(Event("End of session period"))
        if self.state is SessionState.ACTIVE:
            self._send(admin.logout(), now, out)
        self._disconnect("end of session period", now, out)
        self.store.reset(now)
        return False

    def _reset_if_new_period(self, now: float, out: list[Action]) -> None:
        schedule = self.settings.schedule
        if schedule is not None and not schedule.is_same_session(self.store.creation_time(), now):
            out.append(Event("New session period: sequence numbers reset to 1"))
            self.store.reset(now)

    # ================================================================== outgoing

    def _default_appl_ver_id(self) -> str | None:
        if not self.session_id.is_fixt:
            return None
        return admin.appl_ver_id_code(self.settings.default_appl_ver_id)

    def _send(self, message: FixMessage, now: float, out: list[Action], *, seq: int | None = None) -> bool:
        return self._outbound.send(message, now, out, self.state, seq=seq)

    def _send_logout(self, text: str, now: float, out: list[Action], ref: FixMessage | None = None) -> None:
        """Send Logout and wait for the answer (ACTIVE -> LOGOUT_SENT)."""
        message = admin.logout(text)
        if ref is not None:
            admin.reverse_route(message, ref)
        self._send(message, now, out)
        if self.state is SessionState.ACTIVE:
            self._enter(SessionState.LOGOUT_SENT)
            self._logout_sent_at = now

    def _logout_and_disconnect(
        self, text: str, now: float, out: list[Action], ref: FixMessage | None = None
    ) -> None:
        out.append(Event(text))
        message = admin.logout(text)
        if ref is not None:
            admin.reverse_route(message, ref)
        self._send(message, now, out)
        self._disconnect(text, now, out)

    def _reject(
        self,
        ref: FixMessage,
        reason: int | None,
        tag: int | None,
        now: float,
        out: list[Action],
        text: str | None = None,
    ) -> None:
        """Session Reject of ``ref``; consumes its number when it is the expected one (not for
        Logon and SequenceReset, as QuickFIX)."""
        if text is None:
            text = REJECT_REASON_TEXT.get(reason, "Other") if reason is not None else ""
        seq = checks.msg_seq_num(ref)
        msg_type = ref.get(tags.MsgType)
        detail = f"{text}:{tag}" if tag is not None else text
        out.append(Event(f"Message {seq} Rejected: {detail}"))
        if (
            msg_type not in (MsgTypes.Logon, MsgTypes.SequenceReset)
            and seq == self.store.next_target_seq_num()
        ):
            self.store.incr_next_target_seq_num()
        self._send(admin.session_reject(self._begin, ref, text, reason=reason, tag=tag), now, out)

    def _business_reject(
        self,
        ref: FixMessage,
        reason: int,
        text: str,
        now: float,
        out: list[Action],
        ref_id: str | None = None,
    ) -> None:
        """BusinessMessageReject (FIX.4.2+; a session Reject with the text before); consumes the number."""
        if not admin.has_business_reject(self._begin):
            self._reject(
                ref, None, None, now, out, text=text or admin.BUSINESS_REJECT_REASON_TEXT.get(reason, "")
            )
            return
        seq = checks.msg_seq_num(ref)
        out.append(
            Event(f"Message {seq} Rejected: {text or admin.BUSINESS_REJECT_REASON_TEXT.get(reason, '')}")
        )
        if seq == self.store.next_target_seq_num():
            self.store.incr_next_target_seq_num()
        self._send(admin.business_message_reject(ref, reason, text, ref_id), now, out)

    # ================================================================== incoming: verify

    def _garbled(self, text: str, now: float, out: list[Action]) -> None:
        out.append(Event(text))
        if not self.state.logged_on:
            self._disconnect("garbled message before logon", now, out)

    def _receive(self, message: FixMessage, now: float, out: list[Action]) -> None:
        self._heartbeat.received(now)
        self._verify(message, now, out)
        # nothing queued and no ResendRequest outstanding (the usual case): nothing to follow up
        if (self._queue or self._resend_range is not None) and self.state.logged_on:
            self._drain_queue(now, out)
            if self.state.logged_on:
                self._follow_up_resend(now, out)

    def _verify(self, message: FixMessage, now: float, out: list[Action]) -> None:
        """Steps 1-6 of the module docstring, then the sequenced part.

        Header fields are read once, as bytes, and compared with the session's pre-encoded
        values (the hot path of every incoming message).
        """
        state = self.state
        before_logon = state is SessionState.AWAITING_LOGON or state is SessionState.LOGON_SENT
        get_raw = message.get_raw
        msg_type_raw = get_raw(tags.MsgType)
        if not msg_type_raw:
            self._garbled("Message without MsgType ignored", now, out)
            return
        msg_type = msg_type_text(msg_type_raw)
        # 1. MsgSeqNum
        seq_raw = get_raw(tags.MsgSeqNum)
        seq = int(seq_raw) if seq_raw and seq_raw.isdigit() else 0
        if seq <= 0 and not (
            seq == 0 and seq_raw is not None and seq_raw.isdigit() and not before_logon
            and msg_type == MsgTypes.SequenceReset and get_raw(tags.GapFillFlag) != b"Y"
        ):
            what = "without" if seq_raw is None else "with an invalid"
            text = f"Received message {what} MsgSeqNum"
            if before_logon:
                out.append(Event(text))
                self._disconnect(text, now, out)
            else:
                self._logout_and_disconnect(text, now, out, message)
            return
        # 2. BeginString
        if get_raw(tags.BeginString) != self._begin_raw:
            text = "Incorrect BeginString"
            if before_logon:
                out.append(Event(f"{text}: {message.get(tags.BeginString)}"))
                self._disconnect(text, now, out)
            elif msg_type == MsgTypes.Logout:
                # QuickFIX and QuickFIX/J: a Logout ends the session whatever its BeginString
                self._on_logout(message, seq, now, out)
            else:
                # QuickFIX: Logout "Incorrect BeginString", the number consumed, then wait
                # LogoutTimeout for the answer
                out.append(Event(f"{text}: {message.get(tags.BeginString)}"))
                if seq == self.store.next_target_seq_num():
                    self.store.incr_next_target_seq_num()
                self._send_logout(text, now, out, message)
            return
        # 3. validation
        sender = get_raw(tags.SenderCompID)
        target = get_raw(tags.TargetCompID)
        sending_time = get_raw(tags.SendingTime)
        violation: Violation | None
        if not sender:
            violation = Violation(R.REQUIRED_TAG_MISSING, tags.SenderCompID)
        elif not target:
            violation = Violation(R.REQUIRED_TAG_MISSING, tags.TargetCompID)
        elif not sending_time:
            violation = Violation(R.REQUIRED_TAG_MISSING, tags.SendingTime)
        else:
            violation = self._dictionary_problem(message, msg_type, msg_type_raw)
        if violation is not None:
            if violation.garbled:
                self._garbled(f"Garbled message ignored ({violation.detail or violation.text})", now, out)
            elif before_logon or msg_type == MsgTypes.Logon:
                out.append(Event(f"Invalid {msg_type} message: {violation.text} ({violation.tag})"))
                self._disconnect(f"invalid message before logon: {violation.text}", now, out)
            else:
                self._reject(message, int(violation.reason), violation.tag, now, out, text=violation.text)
            return
        # 4. logon state
        if before_logon:
            if not (
                msg_type == MsgTypes.Logon
                or (msg_type == MsgTypes.Logout and state is SessionState.LOGON_SENT)
            ):
                out.append(Event(f"First message is not a Logon (35={msg_type})"))
                self._disconnect("first message is not a Logon", now, out)
                return
        elif msg_type == MsgTypes.Logon and get_raw(tags.ResetSeqNumFlag) != b"Y":
            out.append(Event("Logon received while logged on"))
            self._disconnect("Logon received while logged on", now, out)
            return
        settings = self.settings
        # 5. SendingTime (QuickFIX checks it before the CompIDs)
        if settings.check_latency:
            problem = checks.sending_time_problem(message, now, settings.max_latency)
            if problem is not None:
                text = REJECT_REASON_TEXT[problem]
                if before_logon:
                    out.append(Event(f"{text}: SendingTime {message.get(tags.SendingTime)}"))
                    self._disconnect(text, now, out)
                elif problem is R.SENDINGTIME_ACCURACY_PROBLEM:
                    self._reject_and_log_out(message, problem, now, out)
                else:
                    self._reject(message, problem, tags.SendingTime, now, out)
                return
        # 6. CompIDs (as checks.comp_ids_match, on the bytes)
        if settings.check_comp_id and (
            target != self._sender_raw or not (self._any_target or sender == self._target_raw)
        ):
            text = REJECT_REASON_TEXT[R.COMPID_PROBLEM]
            if before_logon:
                out.append(
                    Event(f"{text}: {message.get(tags.SenderCompID)}->{message.get(tags.TargetCompID)}")
                )
                self._disconnect(text, now, out)
            else:
                self._reject_and_log_out(message, R.COMPID_PROBLEM, now, out)
            return
        if (
            msg_type_raw not in self._known_app_msg_types
            and msg_type not in ADMIN_MSG_TYPES
            and len(self._known_app_msg_types) < 4096
        ):
            self._known_app_msg_types.add(msg_type_raw)
        self._sequenced(message, msg_type, seq, now, out)

    def _reject_and_log_out(
        self, message: FixMessage, reason: SessionRejectReason, now: float, out: list[Action]
    ) -> None:
        """A logged-on message with a bad SendingTime or CompID (QuickFIX doBadTime/doBadCompID):
        Reject, then a Logout without Text, and wait LogoutTimeout for the answer.  As QuickFIX,
        every such message gets the pair, also while our Logout waits for its answer (a Logout
        answer with the same wrong CompIDs too): LogoutTimeout, counted from the first Logout,
        ends the session then."""
        self._reject(message, reason, None, now, out)
        self._send_logout("", now, out, message)

    def _validation_problem(self, message: FixMessage, msg_type: str) -> Violation | None:
        missing = checks.missing_header_tag(message)
        if missing is not None:
            return Violation(R.REQUIRED_TAG_MISSING, missing)
        return self._dictionary_problem(message, msg_type, msg_type.encode("latin-1"))

    def _dictionary_problem(self, message: FixMessage, msg_type: str, msg_type_raw: bytes) -> Violation | None:
        """Unknown MsgType, then the first violation the injected validator finds."""
        if self._is_known_msg_type is not None and msg_type_raw not in self._known_msg_types:
            if not self._is_known_msg_type(msg_type):
                return Violation(R.INVALID_MSGTYPE)
            if len(self._known_msg_types) < 4096:
                self._known_msg_types.add(msg_type_raw)
        if self._validator is not None:
            violations = self._validator(message)
            if violations:
                return violations[0]
        return None

    # ================================================================== incoming: sequencing

    def _sequenced(self, message: FixMessage, msg_type: str, seq: int, now: float, out: list[Action]) -> None:
        """Step 7-8: dispatch by MsgType with the sequence checks each type gets."""
        if msg_type not in _OWN_SEQUENCE_RULES:
            if self._in_sequence(message, msg_type, seq, now, out):
                self._deliver(message, msg_type, seq, now, out)
        elif msg_type == MsgTypes.Logon:
            self._on_logon(message, seq, now, out)
        elif msg_type == MsgTypes.Logout:
            self._on_logout(message, seq, now, out)
        elif msg_type == MsgTypes.ResendRequest:
            self._on_resend_request(message, seq, now, out)
        elif msg_type == MsgTypes.SequenceReset and message.get_raw(tags.GapFillFlag) != b"Y":
            self._on_sequence_reset(message, now, out)
        elif self._in_sequence(message, msg_type, seq, now, out):
            self._deliver(message, msg_type, seq, now, out)

    def _in_sequence(
        self, message: FixMessage, msg_type: str, seq: int, now: float, out: list[Action]
    ) -> bool:
        """True when ``message`` is the expected one (and a PossDup copy is sane)."""
        expected = self.store.next_target_seq_num()
        if seq == expected:  # the usual case
            if message.get_raw(tags.PossDupFlag) == b"Y" and msg_type != MsgTypes.SequenceReset:
                return self._poss_dup_ok(message, now, out)
            return True
        if not self.settings.validate_sequence_numbers and seq != expected:
            self.store.set_next_target_seq_num(seq)
            expected = seq
        check = check_seq(seq, expected)
        if check is SeqCheck.TOO_HIGH:
            self._too_high(message, seq, now, out)
            return False
        poss_dup = checks.is_poss_dup(message)
        if check is SeqCheck.TOO_LOW:
            if not poss_dup:
                self._too_low(message, seq, now, out)
            elif self._poss_dup_ok(message, now, out):
                out.append(Event(f"Duplicate message {seq} ignored (PossDupFlag=Y)"))
            return False
        if poss_dup and msg_type != MsgTypes.SequenceReset:
            return self._poss_dup_ok(message, now, out)
        return True

    def _too_low(self, message: FixMessage, seq: int, now: float, out: list[Action]) -> None:
        text = f"MsgSeqNum too low, expecting {self.store.next_target_seq_num()} but received {seq}"
        self._logout_and_disconnect(text, now, out, message)

    def _too_high(
        self, message: FixMessage, seq: int, now: float, out: list[Action], *, consume_only: bool = False
    ) -> None:
        """Queue ``message`` and ask for the gap (unless a ResendRequest is already out)."""
        expected = self.store.next_target_seq_num()
        out.append(Event(f"MsgSeqNum too high, expecting {expected} but received {seq}"))
        self._queue.put(seq, message, consume_only=consume_only)
        pending = self._resend_range
        if pending is not None and not self.settings.send_redundant_resend_requests and seq >= pending.begin:
            out.append(
                Event(
                    f"Already sent ResendRequest FROM: {pending.begin} TO: {pending.end}. Not sending another."
                )
            )
            return
        self._send_resend_request(expected, seq - 1, now, out)

    def _send_resend_request(self, begin: int, end: int, now: float, out: list[Action]) -> ResendRange:
        """Ask for ``begin..end`` (or its first chunk); the range becomes the outstanding one."""
        plan = plan_resend_request(begin, end, self._begin, self.settings.resend_request_chunk_size)
        self._send(admin.resend_request(plan.begin_seq_no, plan.end_seq_no), now, out)
        self._resend_range = plan.range
        out.append(Event(f"Sent ResendRequest FROM: {plan.begin_seq_no} TO: {plan.end_seq_no}"))
        return plan.range

    def _poss_dup_ok(self, message: FixMessage, now: float, out: list[Action]) -> bool:
        problem = checks.poss_dup_problem(message)
        if problem is None:
            return True
        reason, tag = problem
        self._reject(message, reason, tag, now, out)
        if reason is R.SENDINGTIME_ACCURACY_PROBLEM and self.state is SessionState.ACTIVE:
            self._send_logout("", now, out, message)
        return False

    def _drain_queue(self, now: float, out: list[Action]) -> None:
        """Process queued messages that are now in sequence, in order."""
        while self.state.logged_on and len(self._queue):
            expected = self.store.next_target_seq_num()
            self._queue.discard_below(expected)
            item = self._queue.pop(expected)
            if item is None:
                return
            if item.consume_only:
                self.store.incr_next_target_seq_num()
                continue
            message = item.message
            out.append(Event(f"Processing queued message {expected}"))
            self._sequenced(message, message.get(tags.MsgType) or "", expected, now, out)

    def _follow_up_resend(self, now: float, out: list[Action]) -> None:
        """After processing: note a satisfied ResendRequest, ask for the next chunk, or ask for a
        gap still left before queued messages."""
        pending = self._resend_range
        highest = self.store.next_target_seq_num() - 1
        if pending is not None:
            if highest >= pending.end:
                out.append(
                    Event(
                        f"ResendRequest for messages FROM: {pending.begin} TO: {pending.end} has been satisfied."
                    )
                )
                self._resend_range = None
            elif pending.chunked and highest >= pending.chunk_end:
                chunk = self._send_resend_request(pending.chunk_end + 1, pending.end, now, out)
                self._resend_range = ResendRange(pending.begin, pending.end, chunk.chunk_end)
                return
        lowest = self._queue.lowest()
        if self._resend_range is None and lowest is not None and lowest > highest + 1:
            self._send_resend_request(highest + 1, lowest - 1, now, out)

    # ================================================================== incoming: handlers

    def _deliver(self, message: FixMessage, msg_type: str, seq: int, now: float, out: list[Action]) -> None:
        """An in-sequence message: application callback, admin handling, number consumed."""
        if not self._callback(message, msg_type, now, out):
            return
        if msg_type == MsgTypes.TestRequest:
            self._send(admin.heartbeat(message.get_raw(tags.TestReqID)), now, out)
        elif msg_type == MsgTypes.SequenceReset:
            self._gap_fill(message, seq, now, out)
            return
        self.store.incr_next_target_seq_num()

    def _callback(self, message: FixMessage, msg_type: str, now: float, out: list[Action]) -> bool:
        """from_admin / from_app, turning the typed application errors into their FIX answer."""
        try:
            if msg_type in ADMIN_MSG_TYPES:
                self.application.from_admin(message, self.session_id)
            else:
                self.application.from_app(message, self.session_id)
        except UnsupportedMessageType:
            if admin.has_business_reject(self._begin):
                self._business_reject(message, admin.UNSUPPORTED_MESSAGE_TYPE, "", now, out)
            else:
                self._reject(message, None, None, now, out, text=admin.UNSUPPORTED_MESSAGE_TYPE_TEXT_PRE_42)
            return False
        except SessionRejectError as exc:
            self._reject(
                message,
                exc.reason,
                exc.tag,
                now,
                out,
                text=exc.text or REJECT_REASON_TEXT.get(exc.reason, "Other"),
            )
            return False
        except BusinessReject as exc:
            self._business_reject(message, exc.reason, exc.text, now, out, exc.ref_id)
            return False
        except FieldNotFound as exc:
            if msg_type not in ADMIN_MSG_TYPES and admin.has_business_reject(self._begin):
                # QuickFIX: BusinessRejectReason 5, the tag in the text (no RefTagID in a 35=j)
                reason = admin.CONDITIONALLY_REQUIRED_FIELD_MISSING
                text = f"{admin.BUSINESS_REJECT_REASON_TEXT[reason]} ({exc.tag})"
                self._business_reject(message, reason, text, now, out)
            else:
                self._reject(message, R.REQUIRED_TAG_MISSING, exc.tag, now, out)
            return False
        except FieldValueError as exc:
            self._reject(message, R.INCORRECT_DATA_FORMAT_FOR_VALUE, exc.tag, now, out)
            return False
        except RejectLogon as exc:
            self._logout_and_disconnect(str(exc), now, out, message)
            return False
        except ApplicationError as exc:
            out.append(Event(f"Application error on {msg_type} ignored: {exc!r}"))
        return True

    def _gap_fill(self, message: FixMessage, seq: int, now: float, out: list[Action]) -> None:
        """SequenceReset-GapFill at the expected number: jump to NewSeqNo."""
        new_seq_no = checks.non_negative_int(message, tags.NewSeqNo)
        if new_seq_no is None:
            self._reject(message, R.REQUIRED_TAG_MISSING, tags.NewSeqNo, now, out)
            return
        if new_seq_no <= seq:
            if new_seq_no < seq:
                # QuickFIX nextSequenceReset: reason 5 without RefTagID; the number is not consumed
                self._reject(message, R.VALUE_IS_INCORRECT, None, now, out)
            else:
                out.append(Event(f"SequenceReset-GapFill to its own number {seq} ignored"))
            return
        out.append(Event(f"Received SequenceReset FROM: {seq} TO: {new_seq_no}"))
        self.store.set_next_target_seq_num(new_seq_no)

    def _on_sequence_reset(self, message: FixMessage, now: float, out: list[Action]) -> None:
        """SequenceReset in Reset mode: no sequence checks; only moves forward."""
        if not self._callback(message, MsgTypes.SequenceReset, now, out):
            return
        new_seq_no = checks.non_negative_int(message, tags.NewSeqNo)
        expected = self.store.next_target_seq_num()
        if new_seq_no is None:
            self._reject(message, R.REQUIRED_TAG_MISSING, tags.NewSeqNo, now, out)
        elif new_seq_no > expected:
            out.append(Event(f"Received SequenceReset FROM: {expected} TO: {new_seq_no}"))
            self.store.set_next_target_seq_num(new_seq_no)
        elif new_seq_no == expected:
            out.append(Event(f"SequenceReset to the expected number {new_seq_no} ignored"))
        else:
            # QuickFIX nextSequenceReset: reason 5 without RefTagID
            self._reject(message, R.VALUE_IS_INCORRECT, None, now, out)

    def _on_logout(self, message: FixMessage, seq: int, now: float, out: list[Action]) -> None:
        """A Logout: answer it unless it answers ours; then disconnect."""
        try:
            self.application.from_admin(message, self.session_id)
        except (ApplicationError, FieldNotFound, FieldValueError) as exc:
            out.append(Event(f"Application error on Logout ignored: {exc!r}"))
        if self.state is SessionState.LOGOUT_SENT:
            out.append(Event("Received logout response"))
        else:
            text = message.get(tags.Text)
            out.append(Event("Received logout request" + (f": {text}" if text else "")))
            reply = admin.reverse_route(admin.logout(), message)
            self._send(reply, now, out)
            out.append(Event("Sending logout response"))
        if seq == self.store.next_target_seq_num():
            self.store.incr_next_target_seq_num()
        if self.settings.reset_on_logout:
            self.store.reset(now)
        self._disconnect("logout", now, out)

    def _on_resend_request(self, message: FixMessage, seq: int, now: float, out: list[Action]) -> None:
        """Serve a ResendRequest at once, even ahead of sequence (both sides may have gaps)."""
        check = check_seq(seq, self.store.next_target_seq_num())
        if check is SeqCheck.TOO_LOW:
            if not checks.is_poss_dup(message):
                self._too_low(message, seq, now, out)
            elif self._poss_dup_ok(message, now, out):
                out.append(Event(f"Duplicate ResendRequest {seq} ignored (PossDupFlag=Y)"))
            return
        if (
            check is SeqCheck.EXPECTED
            and checks.is_poss_dup(message)
            and not self._poss_dup_ok(message, now, out)
        ):
            return
        if not self._callback(message, MsgTypes.ResendRequest, now, out):
            return
        begin = checks.non_negative_int(message, tags.BeginSeqNo)
        end = checks.non_negative_int(message, tags.EndSeqNo)
        if begin is None or end is None:
            self._reject(
                message, R.REQUIRED_TAG_MISSING, tags.BeginSeqNo if begin is None else tags.EndSeqNo, now, out
            )
            return
        self._serve_resend(begin, end, now, out)
        if check is SeqCheck.TOO_HIGH:
            self._too_high(message, seq, now, out, consume_only=True)
        else:
            self.store.incr_next_target_seq_num()

    def _serve_resend(self, begin: int, end: int, now: float, out: list[Action]) -> None:
        self._outbound.resend(begin, end, now, out, self.state)

    # ================================================================== incoming: Logon

    def _on_logon(self, message: FixMessage, seq: int, now: float, out: list[Action]) -> None:
        """A Logon: the counterparty's request (acceptor), the answer to ours (initiator), or a
        mid-session sequence reset (141=Y)."""
        initiator = self.settings.is_initiator
        mid_session = self.state.logged_on
        received_reset = message.get_raw(tags.ResetSeqNumFlag) == b"Y"
        heart_bt_int = checks.non_negative_int(message, tags.HeartBtInt)
        if heart_bt_int is None:
            self._refuse_logon("Logon without a valid HeartBtInt(108)", now, out)
            return
        if self.session_id.is_fixt:
            appl_ver_id = message.get(tags.DefaultApplVerID)
            if not appl_ver_id:
                self._refuse_logon("Logon without DefaultApplVerID(1137)", now, out)
                return
            self.target_default_appl_ver_id = appl_ver_id
        if not mid_session:
            if self.settings.refresh_on_logon and not initiator:
                self.store.refresh()
            schedule = self.settings.schedule
            if schedule is not None and not schedule.is_in_session(now):
                out.append(Event("Received logon outside of valid logon time"))
                self._disconnect("logon outside of session time", now, out)
                return
            self._reset_if_new_period(now, out)
        if received_reset and not self._sent_reset:
            out.append(Event("Logon contains ResetSeqNumFlag=Y, resetting sequence numbers to 1"))
            self.store.reset(now)
            self._queue.clear()
            self._resend_range = None
        elif not initiator and not mid_session and self.settings.reset_on_logon:
            self.store.reset(now)
        expected = self.store.next_target_seq_num()
        if seq < expected and not received_reset:
            self._too_low(message, seq, now, out)
            return
        next_sender = self.store.next_sender_seq_num()
        next_expected = self._next_expected_of(message)
        if next_expected is not None and next_expected > next_sender:
            text = (
                f"NextExpectedMsgSeqNum(789) too high, expecting at most {next_sender} "
                f"but received {next_expected}"
            )
            self._logout_and_disconnect(text, now, out, message)
            return
        try:
            self.application.from_admin(message, self.session_id)
        except RejectLogon as exc:
            self._logout_and_disconnect(str(exc), now, out, message)
            return
        except ApplicationError as exc:
            self._refuse_logon(f"Logon refused by the application: {exc!r}", now, out)
            return
        except FieldNotFound as exc:
            # QuickFIX Session::next: "Required field missing from logon", then disconnect
            self._refuse_logon(f"Required field missing from logon ({exc.tag})", now, out)
            return
        except FieldValueError as exc:
            self._refuse_logon(f"Incorrect data format for value in logon ({exc.tag})", now, out)
            return
        answer = not initiator or (received_reset and not self._sent_reset)
        if answer:
            too_high = seq > expected and not received_reset
            reply = admin.logon(
                heart_bt_int,
                encrypt_method=message.get_raw(tags.EncryptMethod) or b"0",
                reset_seq_num=received_reset,
                next_expected_msg_seq_num=(
                    (expected if too_high else expected + 1)
                    if self.settings.send_next_expected_msg_seq_num
                    else None
                ),
                default_appl_ver_id=self._default_appl_ver_id(),
            )
            self._send(reply, now, out)
            out.append(Event("Responding to logon request"))
        else:
            out.append(Event("Received logon response"))
        self._sent_reset = False
        if not mid_session:
            self._enter(SessionState.ACTIVE)
        self._heartbeat.restart(now, heart_bt_int if not initiator or answer else self.settings.heart_bt_int)
        if seq > expected and not received_reset:
            if next_expected is not None:
                # both Logons carry 789: the counterparty resends from the 789 we sent (QuickFIX/J),
                # so the gap counts as requested and no ResendRequest goes out
                self._queue.put(seq, message, consume_only=True)
                self._resend_range = ResendRange(expected, seq - 1, seq - 1)
                out.append(
                    Event(
                        f"MsgSeqNum too high, expecting {expected} but received {seq}: awaiting resend for 789"
                    )
                )
            else:
                self._too_high(message, seq, now, out, consume_only=True)
        else:
            self.store.incr_next_target_seq_num()
        if next_expected is not None and next_expected < next_sender:
            out.append(
                Event(f"NextExpectedMsgSeqNum(789) {next_expected}: resending up to {next_sender - 1}")
            )
            self._serve_resend(next_expected, next_sender - 1, now, out)
        if not mid_session:
            self.application.on_logon(self.session_id)

    def _next_expected_of(self, message: FixMessage) -> int | None:
        if not self.settings.send_next_expected_msg_seq_num:
            return None
        return checks.non_negative_int(message, tags.NextExpectedMsgSeqNum)

    def _refuse_logon(self, text: str, now: float, out: list[Action]) -> None:
        """A Logon we cannot accept: disconnect without a reply before logon; Logout after."""
        if self.state.logged_on:
            self._logout_and_disconnect(text, now, out)
        else:
            out.append(Event(text))
            self._disconnect(text, now, out)
