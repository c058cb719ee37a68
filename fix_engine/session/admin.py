"""Builders for the session (admin) messages and the version rules they depend on.

Each builder returns a :class:`FixMessage` holding MsgType and body only; the Session fills
the standard header (8, 49, 56, 34, 52, sub/location IDs) when it sends.  Pure functions.
"""

from __future__ import annotations

from ..codec import tags
from ..codec.message import FixMessage
from ..codec.tags import MsgTypes

#: BusinessRejectReason (380) values and their QuickFIX wording.
BUSINESS_REJECT_REASON_TEXT: dict[int, str] = {
    0: "Other",
    1: "Unknown ID",
    2: "Unknown Security",
    3: "Unsupported Message Type",
    4: "Application not available",
    5: "Conditionally Required Field Missing",
    6: "Not authorized",
    7: "DeliverTo firm not available at this time",
}
UNSUPPORTED_MESSAGE_TYPE = 3
CONDITIONALLY_REQUIRED_FIELD_MISSING = 5

#: Text of the session Reject sent instead of a BusinessMessageReject on FIX.4.0/4.1 (QuickFIX).
UNSUPPORTED_MESSAGE_TYPE_TEXT_PRE_42 = "Unsupported message type"

#: (OnBehalfOf*, DeliverTo*) header pairs swapped when answering a routed message.
_ROUTING_PAIRS: tuple[tuple[int, int], ...] = (
    (tags.OnBehalfOfCompID, tags.DeliverToCompID),
    (tags.OnBehalfOfSubID, tags.DeliverToSubID),
    (tags.OnBehalfOfLocationID, tags.DeliverToLocationID),
)

#: DefaultApplVerID names accepted in settings, mapped to their 1137 code.
_APPL_VER_CODES: dict[str, str] = {
    "FIX.4.0": "2",
    "FIX.4.1": "3",
    "FIX.4.2": "4",
    "FIX.4.3": "5",
    "FIX.4.4": "6",
    "FIX.5.0": "7",
    "FIX.5.0SP1": "8",
    "FIX.5.0SP2": "9",
}

#: DefaultApplVerID we announce on FIXT.1.1 when the settings name none (FIX.5.0SP2).
FALLBACK_APPL_VER_ID = "9"


# --------------------------------------------------------------------------- version rules


def version_at_least(begin_string: str, version: str) -> bool:
    """``begin_string >= version`` in FIX order (FIX.4.0 < ... < FIX.4.4 < FIXT.1.1)."""
    return begin_string >= version


def has_reject_reason_fields(begin_string: str) -> bool:
    """FIX.4.2 introduced RefTagID (371), RefMsgType (372) and SessionRejectReason (373)."""
    return version_at_least(begin_string, "FIX.4.2")


def has_business_reject(begin_string: str) -> bool:
    """BusinessMessageReject (35=j) exists from FIX.4.2 on."""
    return version_at_least(begin_string, "FIX.4.2")


def infinite_end_seq_no(begin_string: str) -> int | None:
    """EndSeqNo meaning "everything after BeginSeqNo": 0 on FIX.4.2+, None (use explicit) before."""
    return 0 if version_at_least(begin_string, "FIX.4.2") else None


def is_infinite_end_seq_no(begin_string: str, end: int) -> bool:
    """Whether a received EndSeqNo means "up to the last sent" (0 on 4.2+, 999999 up to 4.2)."""
    if end == 0 and version_at_least(begin_string, "FIX.4.2"):
        return True
    return end == 999999 and not version_at_least(begin_string, "FIX.4.3")


def sending_time_precision(begin_string: str, configured: int) -> int:
    """FIX.4.0/4.1 UTCTimestamps have no fraction of a second (QuickFIX); later versions use ours."""
    return configured if version_at_least(begin_string, "FIX.4.2") else 0


def appl_ver_id_code(value: str) -> str:
    """The 1137 code of a DefaultApplVerID setting (``"9"`` or ``"FIX.5.0SP2"``)."""
    if not value:
        return FALLBACK_APPL_VER_ID
    return _APPL_VER_CODES.get(value, value)


# --------------------------------------------------------------------------- builders


def logon(
    heart_bt_int: int,
    *,
    encrypt_method: bytes = b"0",
    reset_seq_num: bool = False,
    next_expected_msg_seq_num: int | None = None,
    username: str = "",
    password: str = "",
    default_appl_ver_id: str | None = None,
) -> FixMessage:
    """Logon (35=A): EncryptMethod, HeartBtInt, optional 141=Y, 789, 553/554 and 1137 (FIXT)."""
    msg = FixMessage.new(
        MsgTypes.Logon, (tags.EncryptMethod, encrypt_method), (tags.HeartBtInt, heart_bt_int)
    )
    if reset_seq_num:
        msg.set(tags.ResetSeqNumFlag, b"Y")
    if next_expected_msg_seq_num is not None:
        msg.set(tags.NextExpectedMsgSeqNum, next_expected_msg_seq_num)
    if username:
        msg.set(tags.Username, username)
    if password:
        msg.set(tags.Password, password)
    if default_appl_ver_id is not None:
        msg.set(tags.DefaultApplVerID, default_appl_ver_id)
    return msg


def heartbeat(test_req_id: bytes | None = None) -> FixMessage:
    """Heartbeat (35=0), echoing TestReqID (112) when answering a TestRequest."""
    msg = FixMessage.new(MsgTypes.Heartbeat)
    if test_req_id is not None:
        msg.set(tags.TestReqID, test_req_id)
    return msg


def test_request(test_req_id: str) -> FixMessage:
    """TestRequest (35=1) with TestReqID (112)."""
    return FixMessage.new(MsgTypes.TestRequest, (tags.TestReqID, test_req_id))


def resend_request(begin_seq_no: int, end_seq_no: int) -> FixMessage:
    """ResendRequest (35=2) for BeginSeqNo (7) .. EndSeqNo (16)."""
    return FixMessage.new(
        MsgTypes.ResendRequest, (tags.BeginSeqNo, begin_seq_no), (tags.EndSeqNo, end_seq_no)
    )


def sequence_reset(new_seq_no: int, *, gap_fill: bool) -> FixMessage:
    """SequenceReset (35=4): GapFill mode (123=Y) or Reset mode (123 absent)."""
    msg = FixMessage.new(MsgTypes.SequenceReset)
    if gap_fill:
        msg.set(tags.GapFillFlag, b"Y")
    msg.set(tags.NewSeqNo, new_seq_no)
    return msg


def logout(text: str = "") -> FixMessage:
    """Logout (35=5) with an optional Text (58)."""
    msg = FixMessage.new(MsgTypes.Logout)
    if text:
        msg.set(tags.Text, text)
    return msg


def session_reject(
    begin_string: str,
    ref: FixMessage,
    text: str,
    *,
    reason: int | None = None,
    tag: int | None = None,
) -> FixMessage:
    """Reject (35=3) of ``ref``: 45, and on FIX.4.2+ 372, 373 and 371; Text (58) always.

    FIX.4.2's SessionRejectReason stops at 11, so higher reasons are left out there (QuickFIX).
    FIX.4.0/4.1 have none of 371/372/373: the tag goes into the text, ``"Required tag missing (56)"``.
    """
    msg = FixMessage.new(MsgTypes.Reject)
    ref_seq = ref.get_raw(tags.MsgSeqNum)
    if ref_seq:
        msg.set(tags.RefSeqNum, ref_seq)
    if has_reject_reason_fields(begin_string):
        ref_type = ref.get_raw(tags.MsgType)
        if ref_type:
            msg.set(tags.RefMsgType, ref_type)
        if reason is not None and (version_at_least(begin_string, "FIX.4.3") or reason <= 11):
            msg.set(tags.SessionRejectReason, int(reason))
        if tag is not None:
            msg.set(tags.RefTagID, tag)
        if text:
            msg.set(tags.Text, text)
    elif tag is not None:
        msg.set(tags.Text, f"{text} ({tag})")
    elif text:
        msg.set(tags.Text, text)
    reverse_route(msg, ref)
    return msg


def business_message_reject(
    ref: FixMessage, reason: int, text: str = "", ref_id: str | None = None
) -> FixMessage:
    """BusinessMessageReject (35=j) of ``ref``: 45, 372, 380, optional 379, Text (58)."""
    msg = FixMessage.new(MsgTypes.BusinessMessageReject)
    ref_seq = ref.get_raw(tags.MsgSeqNum)
    if ref_seq:
        msg.set(tags.RefSeqNum, ref_seq)
    ref_type = ref.get_raw(tags.MsgType)
    if ref_type:
        msg.set(tags.RefMsgType, ref_type)
    if ref_id:
        msg.set(tags.BusinessRejectRefID, ref_id)
    msg.set(tags.BusinessRejectReason, reason)
    text = text or BUSINESS_REJECT_REASON_TEXT.get(reason, "")
    if text:
        msg.set(tags.Text, text)
    reverse_route(msg, ref)
    return msg


def reverse_route(reply: FixMessage, ref: FixMessage) -> FixMessage:
    """Address ``reply`` back through the routing of ``ref``: OnBehalfOf* <-> DeliverTo*.

    Empty routing values are not reversed.
    """
    for on_behalf_of, deliver_to in _ROUTING_PAIRS:
        value = ref.get_raw(on_behalf_of)
        if value:
            reply.set(deliver_to, value)
        value = ref.get_raw(deliver_to)
        if value:
            reply.set(on_behalf_of, value)
    return reply
