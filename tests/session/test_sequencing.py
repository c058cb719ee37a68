"""Incoming sequence numbers: gaps, queueing, ResendRequests (chunked), duplicates, too low."""

from __future__ import annotations

import pytest

from fix_engine.session.sequencing import (
    GapFill,
    InboundQueue,
    ResendRange,
    SeqCheck,
    check_seq,
    plan_resend,
    plan_resend_request,
)
from fix_engine.session.state import SessionState

# ----------------------------------------------------------------- pure helpers


def test_check_seq():
    assert check_seq(5, 5) is SeqCheck.EXPECTED
    assert check_seq(6, 5) is SeqCheck.TOO_HIGH
    assert check_seq(4, 5) is SeqCheck.TOO_LOW


def test_plan_resend_request_fix42_plus_asks_to_infinity():
    plan = plan_resend_request(3, 9, "FIX.4.4")
    assert (plan.begin_seq_no, plan.end_seq_no) == (3, 0)
    assert plan.range == ResendRange(3, 9, 9)


@pytest.mark.parametrize("begin", ["FIX.4.0", "FIX.4.1"])
def test_plan_resend_request_fix40_41_asks_explicit_end(begin):
    plan = plan_resend_request(3, 9, begin)
    assert (plan.begin_seq_no, plan.end_seq_no) == (3, 9)


def test_plan_resend_request_chunks():
    first = plan_resend_request(1, 10, "FIX.4.4", chunk_size=4)
    assert (first.begin_seq_no, first.end_seq_no) == (1, 4)
    assert first.range.chunked
    last = plan_resend_request(9, 10, "FIX.4.4", chunk_size=4)
    assert (last.begin_seq_no, last.end_seq_no) == (9, 0)
    assert not last.range.chunked


def test_plan_resend_groups_admin_runs_and_store_gaps():
    stored = [(1, b"app1"), (2, b"admin"), (3, b"admin"), (4, b"app4"), (7, b"app7"), (8, b"admin")]
    items = plan_resend(1, 9, stored, lambda seq, raw: seq if raw.startswith(b"app") else None)
    assert items == [1, GapFill(2, 4), 4, GapFill(5, 7), 7, GapFill(8, 10)]


def test_plan_resend_everything_missing():
    assert plan_resend(3, 5, [], lambda s, r: s) == [GapFill(3, 6)]


def test_inbound_queue():
    q = InboundQueue()
    q.put(7, None)  # type: ignore[arg-type]
    q.put(5, None, consume_only=True)  # type: ignore[arg-type]
    assert q.lowest() == 5 and len(q) == 2
    q.discard_below(6)
    assert q.pop(5) is None
    assert q.pop(7) is not None
    assert len(q) == 0 and q.lowest() is None


# ----------------------------------------------------------------- session behaviour


def test_in_sequence_app_message_is_delivered_and_consumed(make_harness):
    h = make_harness(logged_on=True)
    h.app.from_app_hook = lambda m: None
    step = h.feed("D", (11, "A1"))
    assert step.messages == []
    assert h.app.received_ids() == ["A1"]
    assert h.session.next_target_seq_num == 3


def test_too_high_sends_one_resend_request_and_queues(make_harness):
    h = make_harness(logged_on=True)
    h.app.from_app_hook = lambda m: None
    step = h.feed("D", (11, "A5"), seq=5)
    rr = step.only("2")
    assert (rr.get(7), rr.get(16)) == ("2", "0")
    assert h.app.received_ids() == []
    # more too-high messages while the request is outstanding: no second ResendRequest
    assert h.feed("D", (11, "A6"), seq=6).messages == []
    # the gap fills in order: queued 5 and 6 then follow, in order
    h.feed("D", (11, "A2"), seq=2, poss_dup=True, orig_sending_time=h.ts(-1))
    h.feed("D", (11, "A3"), seq=3, poss_dup=True, orig_sending_time=h.ts(-1))
    assert h.app.received_ids() == ["A2", "A3"]
    h.feed("D", (11, "A4"), seq=4, poss_dup=True, orig_sending_time=h.ts(-1))
    assert h.app.received_ids() == ["A2", "A3", "A4", "A5", "A6"]
    assert h.session.next_target_seq_num == 7
    assert h.session.resend_range is None


def test_redundant_resend_requests_when_configured(make_harness):
    h = make_harness(logged_on=True, send_redundant_resend_requests=True)
    assert h.feed("0", seq=5).types == ["2"]
    rr = h.feed("0", seq=6).only("2")
    assert (rr.get(7), rr.get(16)) == ("2", "0")


@pytest.mark.parametrize("begin", ["FIX.4.0", "FIX.4.1"])
def test_resend_request_explicit_end_on_fix40_41(make_harness, begin):
    h = make_harness(begin=begin, logged_on=True)
    rr = h.feed("0", seq=8).only("2")
    assert (rr.get(7), rr.get(16)) == ("2", "7")


def test_resend_request_chunked(make_harness):
    h = make_harness(logged_on=True, resend_request_chunk_size=2)
    rr = h.feed("0", seq=7).only("2")  # gap 2..6
    assert (rr.get(7), rr.get(16)) == ("2", "3")
    h.feed("0", seq=2, poss_dup=True, orig_sending_time=h.ts())
    rr = h.feed("0", seq=3, poss_dup=True, orig_sending_time=h.ts()).only("2")
    assert (rr.get(7), rr.get(16)) == ("4", "5")
    h.feed("0", seq=4, poss_dup=True, orig_sending_time=h.ts())
    rr = h.feed("0", seq=5, poss_dup=True, orig_sending_time=h.ts()).only("2")
    assert (rr.get(7), rr.get(16)) == ("6", "0")  # last chunk: to infinity
    step = h.feed("0", seq=6, poss_dup=True, orig_sending_time=h.ts())
    assert step.messages == []
    assert h.session.next_target_seq_num == 8  # the queued 7 followed
    assert h.session.resend_range is None


def test_too_low_without_poss_dup_logs_out_and_disconnects(make_harness):
    h = make_harness(logged_on=True)
    h.feed("0")
    step = h.feed("0", seq=2)
    logout = step.only("5")
    assert logout.get(58) == "MsgSeqNum too low, expecting 3 but received 2"
    assert step.disconnect
    assert h.state is SessionState.DISCONNECTED
    assert h.app.names()[-1] == "on_logout"


def test_too_low_with_poss_dup_is_ignored(make_harness):
    h = make_harness(logged_on=True)
    h.app.from_app_hook = lambda m: None
    h.feed("D", (11, "X"))
    step = h.feed("D", (11, "X"), seq=2, poss_dup=True, orig_sending_time=h.ts(-1))
    assert step.messages == [] and step.disconnect is None
    assert h.app.received_ids() == ["X"]
    assert h.session.next_target_seq_num == 3


def test_poss_dup_without_orig_sending_time_is_rejected(make_harness):
    h = make_harness(logged_on=True)
    h.feed("0")
    step = h.feed("0", seq=2, poss_dup=True)
    reject = step.only("3")
    assert (reject.get(45), reject.get(373), reject.get(371)) == ("2", "1", "122")
    assert reject.get(58) == "Required tag missing"
    assert step.disconnect is None
    assert h.session.next_target_seq_num == 3  # too low: not consumed


def test_poss_dup_in_sequence_without_orig_sending_time_rejected_and_consumed(make_harness):
    h = make_harness(logged_on=True)
    step = h.feed("0", seq=2, poss_dup=True)
    reject = step.only("3")
    assert (reject.get(45), reject.get(373), reject.get(371), reject.get(372)) == ("2", "1", "122", "0")
    assert h.session.next_target_seq_num == 3


def test_orig_sending_time_after_sending_time_rejected_then_logout(make_harness):
    h = make_harness(logged_on=True)
    step = h.feed("0", poss_dup=True, orig_sending_time=h.ts(+5))
    assert step.types == ["3", "5"]
    reject = step.messages[0]
    assert (reject.get(45), reject.get(373)) == ("2", "10")
    assert reject.get(58) == "SendingTime accuracy problem"
    assert h.state is SessionState.LOGOUT_SENT


def test_validate_sequence_numbers_off_accepts_any_number(make_harness):
    h = make_harness(logged_on=True, validate_sequence_numbers=False)
    step = h.feed("0", seq=40)
    assert step.messages == []
    assert h.session.next_target_seq_num == 41


def test_incoming_numbers_advance_in_the_store(make_harness):
    h = make_harness(logged_on=True)
    for _ in range(3):
        h.feed("0")
    assert h.store.next_target_seq_num() == 5


def test_message_without_msg_seq_num_logs_out(make_harness):
    h = make_harness(logged_on=True)
    step = h.feed("0", omit=[34])
    assert step.only("5").get(58) == "Received message without MsgSeqNum"
    assert step.disconnect


def test_gap_left_after_explicit_resend_is_requested_again(make_harness):
    h = make_harness(begin="FIX.4.1", logged_on=True)
    rr = h.feed("0", seq=5).only("2")
    assert (rr.get(7), rr.get(16)) == ("2", "4")
    assert h.feed("0", seq=8).messages == []  # request outstanding: not sent again
    for seq in (2, 3):
        assert h.feed("0", seq=seq, poss_dup=True, orig_sending_time=h.ts()).messages == []
    rr = h.feed("0", seq=4, poss_dup=True, orig_sending_time=h.ts()).only("2")
    assert (rr.get(7), rr.get(16)) == ("6", "7")  # 5 came from the queue; 8 is still queued
    h.feed("4", (123, "Y"), (36, 8), seq=6, poss_dup=True, orig_sending_time=h.ts())
    assert h.session.next_target_seq_num == 9
    assert h.session.resend_range is None
