"""Session Reject / BusinessMessageReject: validation, CompID, SendingTime, MsgType, application errors,
FIX.4.0/4.1 wording, reverse routing, and garbled messages."""

from __future__ import annotations

import pytest

from fix_engine.application import (
    BusinessReject,
    FieldNotFoundReject,
    IncorrectDataFormat,
    IncorrectTagValue,
    TagNotDefined,
)
from fix_engine.codec import Frame
from fix_engine.codec.framing import FrameError
from fix_engine.dictionary.violations import SessionRejectReason as R
from fix_engine.dictionary.violations import Violation
from fix_engine.session.state import SessionState


def accept_all(message):
    return None


def only_heartbeat(message):
    return [Violation(R.TAG_APPEARS_MORE_THAN_ONCE, 55)] if message.get(35) == "0" else []


# ----------------------------------------------------------------- validation


def test_validator_violation_rejected_with_373_371_372_58(make_harness):
    def validator(message):
        if message.get(35) == "D":
            return [Violation(R.REQUIRED_TAG_MISSING, 55)]
        return []

    h = make_harness(logged_on=True, validator=validator)
    step = h.feed("D", (11, "1"))
    reject = step.only("3")
    assert (reject.get(45), reject.get(372), reject.get(373), reject.get(371)) == ("2", "D", "1", "55")
    assert reject.get(58) == "Required tag missing"
    assert h.session.next_target_seq_num == 3  # the rejected message consumed its number
    assert "from_app" not in h.app.names()


@pytest.mark.parametrize("begin", ["FIX.4.0", "FIX.4.1"])
def test_fix40_41_reject_puts_tag_in_text(make_harness, begin):
    h = make_harness(begin=begin, logged_on=True)
    step = h.feed("D", (11, "1"), omit=[56])
    reject = step.only("3")
    assert reject.get(45) == "2"
    assert reject.get(58) == "Required tag missing (56)"
    for tag in (371, 372, 373):
        assert tag not in reject


def test_fix42_omits_reasons_above_11(make_harness):
    h = make_harness(begin="FIX.4.2", logged_on=True, validator=only_heartbeat)
    reject = h.feed("0").only("3")
    assert 373 not in reject
    assert (reject.get(371), reject.get(372), reject.get(58)) == ("55", "0", "Tag appears more than once")


def test_fix43_keeps_reasons_above_11(make_harness):
    h = make_harness(begin="FIX.4.3", logged_on=True, validator=only_heartbeat)
    assert h.feed("0").only("3").get(373) == "13"


def test_missing_sending_time_rejected(make_harness):
    h = make_harness(logged_on=True)
    reject = h.feed("0", omit=[52]).only("3")
    assert (reject.get(373), reject.get(371)) == ("1", "52")


def test_garbled_violation_is_ignored_without_consuming(make_harness):
    h = make_harness(logged_on=True)
    h.session._validator = lambda m: [Violation(R.OTHER, None, "bad checksum", garbled=True)]
    step = h.feed("0")
    assert step.messages == [] and step.disconnect is None
    assert h.session.next_target_seq_num == 2


def test_invalid_msg_type_rejected_373_11(make_harness):
    h = make_harness(
        logged_on=True, is_known_msg_type=lambda t: t in {"0", "1", "2", "3", "4", "5", "A", "D"}
    )
    reject = h.feed("ZZ").only("3")
    assert (reject.get(45), reject.get(372), reject.get(373)) == ("2", "ZZ", "11")
    assert reject.get(58) == "Invalid MsgType"
    assert h.session.next_target_seq_num == 3


# ----------------------------------------------------------------- CompID / SendingTime / BeginString


def test_comp_id_mismatch_after_logon_rejects_then_logs_out(make_harness):
    """QuickFIX doBadCompID: Reject 373=9, then a Logout without Text, waiting for the answer."""
    h = make_harness(logged_on=True)
    step = h.feed("0", sender="INTRUDER")
    assert step.types == ["3", "5"]
    reject, logout = step.messages
    assert (reject.get(45), reject.get(373), reject.get(58)) == ("2", "9", "CompID problem")
    assert 58 not in logout
    assert step.disconnect is None
    assert h.state is SessionState.LOGOUT_SENT
    assert h.session.next_target_seq_num == 3  # the rejected message consumed its number
    # still processing while the answer is awaited
    assert h.feed("1", (112, "x")).only("0").get(112) == "x"
    step = h.feed("5")
    assert step.messages == []
    assert step.disconnect
    assert h.state is SessionState.DISCONNECTED


def test_comp_id_mismatch_while_logout_pending_and_timeout(make_harness):
    """As QuickFIX 1.16: each wrong-CompID message gets Reject + Logout, the answer with the same
    wrong CompIDs too; LogoutTimeout (from the first Logout) ends the session."""
    h = make_harness(logged_on=True, logout_timeout=2)
    h.feed("0", target="SOMEONE_ELSE")
    assert h.state is SessionState.LOGOUT_SENT
    assert h.feed("0", sender="INTRUDER").types == ["3", "5"]
    step = h.feed("5", sender="INTRUDER")
    assert step.types == ["3", "5"]
    assert step.disconnect is None
    assert h.tick(2).disconnect
    assert h.state is SessionState.DISCONNECTED


def test_sending_time_out_of_range_rejects_then_logs_out(make_harness):
    """QuickFIX doBadTime: Reject 373=10, then a Logout without Text, waiting for the answer."""
    h = make_harness(logged_on=True, max_latency=120)
    step = h.feed("0", sending_time=h.ts(+121))
    assert step.types == ["3", "5"]
    reject, logout = step.messages
    assert (reject.get(45), reject.get(373), reject.get(58)) == ("2", "10", "SendingTime accuracy problem")
    assert 58 not in logout
    assert step.disconnect is None
    assert h.state is SessionState.LOGOUT_SENT
    step = h.feed("5")
    assert step.disconnect
    assert h.state is SessionState.DISCONNECTED


def test_sending_time_checked_before_comp_ids(make_harness):
    h = make_harness(logged_on=True, max_latency=120)
    reject = h.feed("0", sender="INTRUDER", sending_time=h.ts(-300)).messages[0]
    assert reject.get(373) == "10"


def test_wrong_begin_string_after_logon_logs_out(make_harness):
    """QuickFIX: Logout "Incorrect BeginString", the number consumed, then wait for the answer."""
    h = make_harness(logged_on=True)
    step = h.feed("0", begin="FIX.4.2")
    assert step.only("5").get(58) == "Incorrect BeginString"
    assert step.disconnect is None
    assert h.state is SessionState.LOGOUT_SENT
    assert h.session.next_target_seq_num == 3
    step = h.feed("5")
    assert step.messages == [] and step.disconnect


def test_logout_with_wrong_begin_string_is_a_logout(make_harness):
    """QuickFIX and QuickFIX/J answer a Logout as a Logout whatever its BeginString."""
    h = make_harness(logged_on=True)
    step = h.feed("5", begin="FIX.4.2")
    logout = step.only("5")
    assert 58 not in logout
    assert step.disconnect


# ----------------------------------------------------------------- application errors


def test_unsupported_message_type_business_reject(make_harness):
    h = make_harness(logged_on=True)  # the default Application raises UnsupportedMessageType
    step = h.feed("D", (11, "1"))
    bmr = step.only("j")
    assert (bmr.get(45), bmr.get(372), bmr.get(380), bmr.get(58)) == (
        "2",
        "D",
        "3",
        "Unsupported Message Type",
    )
    assert h.session.next_target_seq_num == 3


@pytest.mark.parametrize("begin", ["FIX.4.0", "FIX.4.1"])
def test_unsupported_message_type_fix40_41_session_reject(make_harness, begin):
    h = make_harness(begin=begin, logged_on=True)
    reject = h.feed("D", (11, "1")).only("3")
    assert reject.get(45) == "2"
    assert reject.get(58) == "Unsupported message type"
    assert h.session.next_target_seq_num == 3


@pytest.mark.parametrize(
    ("error", "reason", "text"),
    [
        (FieldNotFoundReject(55), "1", "Required tag missing"),
        (TagNotDefined(9999), "2", "Tag not defined for this message type"),
        (IncorrectTagValue(54), "5", "Value is incorrect (out of range) for this tag"),
        (IncorrectDataFormat(38), "6", "Incorrect data format for value"),
    ],
)
def test_session_reject_errors_from_application(make_harness, error, reason, text):
    h = make_harness(logged_on=True)

    def raise_error(message):
        raise error

    h.app.from_app_hook = raise_error
    reject = h.feed("D", (11, "1")).only("3")
    assert (reject.get(45), reject.get(373), reject.get(371), reject.get(58)) == (
        "2",
        reason,
        str(error.tag),
        text,
    )
    assert h.session.next_target_seq_num == 3


def test_business_reject_from_application(make_harness):
    h = make_harness(logged_on=True)

    def raise_error(message):
        raise BusinessReject(6, "Not authorized for IBM", ref_id="1")

    h.app.from_app_hook = raise_error
    bmr = h.feed("D", (11, "1")).only("j")
    assert (bmr.get(45), bmr.get(372), bmr.get(380), bmr.get(379), bmr.get(58)) == (
        "2",
        "D",
        "6",
        "1",
        "Not authorized for IBM",
    )


def test_received_reject_is_consumed_and_passed_to_application(make_harness):
    h = make_harness(logged_on=True)
    step = h.feed("3", (45, 1), (58, "whatever"))
    assert step.messages == []
    assert ("from_admin", "3") in h.app.calls
    assert h.session.next_target_seq_num == 3


# ----------------------------------------------------------------- reverse routing


def test_reject_reverse_routes_on_behalf_of_to_deliver_to(make_harness):
    h = make_harness(logged_on=True, is_known_msg_type=lambda t: t != "ZZ")
    reject = h.feed("ZZ", header=[(115, "CLIENT"), (116, "DESK"), (144, "NY")]).only("3")
    assert (reject.get(128), reject.get(129), reject.get(145)) == ("CLIENT", "DESK", "NY")
    assert 115 not in reject


def test_business_reject_reverse_routes_deliver_to_to_on_behalf_of(make_harness):
    h = make_harness(logged_on=True)
    bmr = h.feed("D", (11, "1"), header=[(128, "VENUE"), (129, "")]).only("j")
    assert bmr.get(115) == "VENUE"
    assert 116 not in bmr  # empty routing tags are not reversed
    assert 128 not in bmr


def test_logout_reply_reverse_routes(make_harness):
    h = make_harness(logged_on=True)
    logout = h.feed("5", header=[(115, "CLIENT")]).only("5")
    assert logout.get(128) == "CLIENT"


def test_too_low_logout_reverse_routes(make_harness):
    h = make_harness(logged_on=True)
    h.feed("0")
    logout = h.feed("0", seq=1, header=[(128, "HUB")]).only("5")
    assert logout.get(115) == "HUB"


# ----------------------------------------------------------------- garbled frames


@pytest.mark.parametrize("error", list(FrameError))
def test_garbled_frame_after_logon_is_ignored_without_consuming(make_harness, error):
    h = make_harness(logged_on=True)
    raw = h.build("0", seq=2)
    step = h.feed_frame(Frame(raw, error))
    assert step.messages == [] and step.disconnect is None
    assert step.events
    assert h.session.next_target_seq_num == 2
    h.peer_seq = 2
    h.feed("0")
    assert h.session.next_target_seq_num == 3


def test_bad_checksum_on_the_wire_is_ignored(make_harness):
    h = make_harness(logged_on=True)
    raw = h.build("0", seq=2)
    corrupted = raw[:-4] + b"%03d\x01" % ((int(raw[-4:-1]) + 1) % 256)
    step = h.feed_raw(corrupted)
    assert step.messages == [] and step.disconnect is None
    assert h.session.next_target_seq_num == 2


def test_unparseable_message_is_ignored(make_harness):
    from fix_engine.codec import encode_fields

    h = make_harness(logged_on=True)
    raw = encode_fields(
        [(8, b"FIX.4.4"), (35, b"0"), (49, b"INI"), (56, b"ACC"), (34, b"2"), (95, b"x5"), (96, b"y")]
    )
    step = h.feed_raw(raw)
    assert step.messages == [] and step.disconnect is None
    assert h.session.next_target_seq_num == 2
