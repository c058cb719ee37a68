"""The header checks QuickFIX's ``Session::verify`` makes on every incoming message.  Pure.

Each function looks at one concern and answers with a SessionRejectReason code (or None when
the message passes); the Session decides what the answer is in its current state.
"""

from __future__ import annotations

from ..codec import tags
from ..codec.errors import FieldValueError
from ..codec.message import FixMessage, parse_utc_timestamp_epoch
from ..codec.parsing import speedups
from ..dictionary.violations import SessionRejectReason
from .session_id import SessionID

#: Header fields every message must carry besides 8, 9, 35 and 34 (checked separately).
REQUIRED_HEADER_TAGS: tuple[int, ...] = (tags.SenderCompID, tags.TargetCompID, tags.SendingTime)


def msg_seq_num(message: FixMessage) -> int | None:
    """MsgSeqNum (34) as a positive int; None when absent or not a positive integer."""
    raw = message.get_raw(tags.MsgSeqNum)
    if not raw or not raw.isdigit():
        return None
    value = int(raw)
    return value if value > 0 else None


def missing_header_tag(message: FixMessage) -> int | None:
    """The first of SenderCompID, TargetCompID, SendingTime that is absent or empty."""
    for tag in REQUIRED_HEADER_TAGS:
        if not message.get_raw(tag):
            return tag
    return None


def comp_ids_match(message: FixMessage, session_id: SessionID) -> bool:
    """The peer's SenderCompID is our TargetCompID and its TargetCompID is our SenderCompID.

    A templated identity (TargetCompID ``*``) accepts any counterparty.
    """
    their_sender = message.get(tags.SenderCompID)
    their_target = message.get(tags.TargetCompID)
    if their_target != session_id.sender_comp_id:
        return False
    return session_id.target_comp_id == "*" or their_sender == session_id.target_comp_id


def is_poss_dup(message: FixMessage) -> bool:
    return message.get_raw(tags.PossDupFlag) == b"Y"


#: ``YYYYMMDD-HH:MM:SS`` -> whole epoch seconds, for the seconds seen last (SendingTimes of a
#: busy session share their seconds part; parsing it through ``datetime`` once is enough).
_SECONDS: dict[bytes, int] = {}
#: the C twin of :func:`utc_timestamp_epoch` (None without the accelerator; it answers None for
#: anything it does not handle, which the Python code below then decides)
_utc_epoch = speedups.utc_epoch if speedups is not None else None
_FRACTION_LENGTHS = (21, 24, 27)  # .sss, .ssssss, .sssssssss


def utc_timestamp_epoch(tag: int, raw: bytes) -> float:
    """``parse_utc_timestamp_epoch`` (same result, same FieldValueError) with the seconds part cached
    (or in C, when the accelerator is built)."""
    if _utc_epoch is not None:
        fast = _utc_epoch(raw)
        if fast is not None:
            return fast  # type: ignore[no-any-return]
    seconds = _SECONDS.get(raw[:17])
    if seconds is None:
        prefix = raw[:17]
        try:
            seconds = int(parse_utc_timestamp_epoch(tag, prefix))  # validates the prefix
        except FieldValueError:
            raise FieldValueError(tag, raw, "UTCTimestamp") from None
        if len(_SECONDS) >= 64:
            _SECONDS.clear()
        _SECONDS[prefix] = seconds
    if len(raw) == 17:
        return float(seconds)
    if raw[17:18] != b"." or len(raw) not in _FRACTION_LENGTHS or not raw[18:].isdigit():
        raise FieldValueError(tag, raw, "UTCTimestamp")
    # what datetime.timestamp() computes: (seconds * 10**6 + microseconds) / 10**6
    return (seconds * 1_000_000 + int((raw[18:] + b"000000")[:6])) / 1_000_000


def sending_time_problem(message: FixMessage, now: float, max_latency: float) -> SessionRejectReason | None:
    """SendingTime (52) unreadable (6) or further than ``max_latency`` seconds from ``now`` (10)."""
    raw = message.get_raw(tags.SendingTime)
    if raw is None:
        return SessionRejectReason.INCORRECT_DATA_FORMAT_FOR_VALUE
    try:
        sent = utc_timestamp_epoch(tags.SendingTime, raw)
    except FieldValueError:
        return SessionRejectReason.INCORRECT_DATA_FORMAT_FOR_VALUE
    if abs(now - sent) > max_latency:
        return SessionRejectReason.SENDINGTIME_ACCURACY_PROBLEM
    return None


def poss_dup_problem(message: FixMessage) -> tuple[SessionRejectReason, int | None] | None:
    """A PossDupFlag=Y message needs OrigSendingTime (122) not later than SendingTime (52).

    Returns (reason, RefTagID): (1, 122) when 122 is missing, (6, 122) when unreadable,
    (10, None) when OrigSendingTime is later than SendingTime.
    """
    orig_raw = message.get_raw(tags.OrigSendingTime)
    if not orig_raw:
        return SessionRejectReason.REQUIRED_TAG_MISSING, tags.OrigSendingTime
    try:
        orig = utc_timestamp_epoch(tags.OrigSendingTime, orig_raw)
    except FieldValueError:
        return SessionRejectReason.INCORRECT_DATA_FORMAT_FOR_VALUE, tags.OrigSendingTime
    sent_raw = message.get_raw(tags.SendingTime)
    if sent_raw is None:
        return SessionRejectReason.INCORRECT_DATA_FORMAT_FOR_VALUE, tags.SendingTime
    try:
        sent = utc_timestamp_epoch(tags.SendingTime, sent_raw)
    except FieldValueError:
        return SessionRejectReason.INCORRECT_DATA_FORMAT_FOR_VALUE, tags.SendingTime
    if orig > sent:
        return SessionRejectReason.SENDINGTIME_ACCURACY_PROBLEM, None
    return None


def non_negative_int(message: FixMessage, tag: int) -> int | None:
    """``tag`` as a non-negative int, None when absent or malformed."""
    raw = message.get_raw(tag)
    if not raw or not raw.isdigit():
        return None
    return int(raw)
