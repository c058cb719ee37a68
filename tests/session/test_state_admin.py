"""SessionState transition table and the admin message builders."""

from __future__ import annotations

import pytest

from fix_engine.codec import FixMessage
from fix_engine.session import admin
from fix_engine.session.state import TRANSITIONS, InvalidTransition, SessionState, check_transition

S = SessionState

ALLOWED = {
    (S.DISCONNECTED, S.AWAITING_LOGON),
    (S.DISCONNECTED, S.LOGON_SENT),
    (S.AWAITING_LOGON, S.ACTIVE),
    (S.AWAITING_LOGON, S.DISCONNECTED),
    (S.LOGON_SENT, S.ACTIVE),
    (S.LOGON_SENT, S.DISCONNECTED),
    (S.ACTIVE, S.LOGOUT_SENT),
    (S.ACTIVE, S.DISCONNECTED),
    (S.LOGOUT_SENT, S.DISCONNECTED),
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_transition_table_is_exactly_the_documented_one(current, target):
    if (current, target) in ALLOWED:
        assert check_transition(current, target) is target
    else:
        with pytest.raises(InvalidTransition):
            check_transition(current, target)


def test_every_state_is_in_the_table_and_documented():
    assert set(TRANSITIONS) == set(S)
    for state in S:
        assert state.__doc__ or S.__doc__


def test_state_properties():
    assert [s for s in S if s.logged_on] == [S.ACTIVE, S.LOGOUT_SENT]
    assert [s for s in S if not s.connected] == [S.DISCONNECTED]
    assert [s for s in S if s.awaiting_logon] == [S.AWAITING_LOGON, S.LOGON_SENT]


# ----------------------------------------------------------------- builders


def ref_message(**extra):
    msg = FixMessage.new("D", (11, "1"))
    msg.set(34, 7)
    for tag, value in extra.items():
        msg.set(int(tag[1:]), value)
    return msg


def test_reject_fix44():
    r = admin.session_reject("FIX.4.4", ref_message(), "Required tag missing", reason=1, tag=55)
    assert r.to_text() == "35=3|45=7|372=D|373=1|371=55|58=Required tag missing|"


def test_reject_fix41_text_carries_tag():
    r = admin.session_reject("FIX.4.1", ref_message(), "Required tag missing", reason=1, tag=55)
    assert r.to_text() == "35=3|45=7|58=Required tag missing (55)|"


def test_reject_fix42_drops_reason_above_11():
    r = admin.session_reject("FIX.4.2", ref_message(), "Tag appears more than once", reason=13, tag=55)
    assert 373 not in r and r.get(371) == "55"
    r = admin.session_reject("FIX.4.2", ref_message(), "Invalid MsgType", reason=11)
    assert r.get(373) == "11"


def test_business_message_reject_default_text():
    r = admin.business_message_reject(ref_message(), 3)
    assert (r.get(45), r.get(372), r.get(380), r.get(58)) == ("7", "D", "3", "Unsupported Message Type")


def test_reverse_route_both_directions_skipping_empty():
    ref = ref_message(t115="A", t116="", t128="B", t145="LOC")
    reply = admin.reverse_route(FixMessage.new("3"), ref)
    assert (reply.get(128), reply.get(115), reply.get(144)) == ("A", "B", "LOC")
    assert 129 not in reply


def test_reverse_route_leaves_sender_and_target_sub_ids_alone():
    """QuickFIX 1.16 reverses only OnBehalfOf*/DeliverTo* (checked against the python binding)."""
    ref = ref_message(t50="THEIR_SUB", t57="OUR_SUB", t142="THEIR_LOC")
    reply = admin.reverse_route(FixMessage.new("3"), ref)
    assert not {50, 57, 142, 143} & {tag for tag, _ in reply.fields}


def test_logon_builder():
    msg = admin.logon(
        30,
        reset_seq_num=True,
        next_expected_msg_seq_num=5,
        username="u",
        password="p",
        default_appl_ver_id="9",
    )
    assert msg.to_text() == "35=A|98=0|108=30|141=Y|789=5|553=u|554=p|1137=9|"


def test_sequence_reset_builder():
    assert admin.sequence_reset(9, gap_fill=True).to_text() == "35=4|123=Y|36=9|"
    assert admin.sequence_reset(9, gap_fill=False).to_text() == "35=4|36=9|"


def test_version_rules():
    assert admin.is_infinite_end_seq_no("FIX.4.4", 0)
    assert not admin.is_infinite_end_seq_no("FIX.4.1", 0)
    assert admin.is_infinite_end_seq_no("FIX.4.1", 999999)
    assert admin.is_infinite_end_seq_no("FIX.4.2", 999999)
    assert not admin.is_infinite_end_seq_no("FIX.4.4", 999999)
    assert admin.has_business_reject("FIXT.1.1") and not admin.has_business_reject("FIX.4.1")
    assert admin.appl_ver_id_code("FIX.5.0SP2") == "9" and admin.appl_ver_id_code("7") == "7"
