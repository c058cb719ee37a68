"""Serving the counterparty's ResendRequest, and SequenceReset (GapFill and Reset modes)."""

from __future__ import annotations

import pytest

from fix_engine.codec import FixMessage

# ----------------------------------------------------------------- helpers (through the harness)


def sent_orders(h, count):
    """Send ``count`` NewOrderSingles (2..count+1 after the Logon) at increasing times."""
    originals = []
    for i in range(count):
        h.now += 1
        step = h.send(h.app_message(f"O{i}"))
        originals.append(step.only("D"))
    return originals


# ----------------------------------------------------------------- serving resends


def test_resend_app_messages_with_poss_dup_and_orig_sending_time(make_harness):
    h = make_harness(logged_on=True)  # our Logon is 1
    originals = sent_orders(h, 2)  # 2, 3
    h.now += 10
    step = h.feed("2", (7, 1), (16, 0))
    assert step.types == ["4", "D", "D"]
    gap = step.messages[0]
    assert (gap.get(34), gap.get(36), gap.get(123), gap.get(43)) == ("1", "2", "Y", "Y")
    assert gap.get(122) == gap.get(52) == h.ts().decode()
    for resent, original in zip(step.messages[1:], originals, strict=True):
        assert resent.get(34) == original.get(34)
        assert resent.get(43) == "Y"
        assert resent.get(122) == original.get(52)
        assert resent.get(52) == h.ts().decode()
        assert resent.get(11) == original.get(11)
    assert h.session.next_sender_seq_num == 4  # resends consume nothing
    assert h.app.names().count("to_app") == 4  # 2 sends + 2 resends


def test_admin_runs_become_one_gap_fill(make_harness):
    h = make_harness(logged_on=True)  # 1 = Logon
    sent_orders(h, 1)  # 2
    assert h.tick(30).types == ["0"]  # 3
    h.feed("0")
    assert h.tick(30).types == ["0"]  # 4
    h.feed("0")
    sent_orders(h, 1)  # 5
    assert h.tick(30).types == ["0"]  # 6
    h.feed("0")
    last = h.session.next_sender_seq_num - 1
    assert last == 6
    step = h.feed("2", (7, 1), (16, 0))
    assert step.types == ["4", "D", "4", "D", "4"]
    g1, _, g2, _, g3 = step.messages
    assert (g1.get(34), g1.get(36)) == ("1", "2")
    assert (g2.get(34), g2.get(36)) == ("3", "5")
    assert (g3.get(34), g3.get(36)) == ("6", str(last + 1))


def test_end_seq_no_beyond_last_sent_is_capped(make_harness):
    h = make_harness(logged_on=True)
    sent_orders(h, 2)
    step = h.feed("2", (7, 2), (16, 500))
    assert step.types == ["D", "D"]
    assert [m.get(34) for m in step.messages] == ["2", "3"]


def test_explicit_end_seq_no_is_served_exactly(make_harness):
    h = make_harness(logged_on=True)
    sent_orders(h, 4)  # 2..5
    step = h.feed("2", (7, 3), (16, 4))
    assert [m.get(34) for m in step.messages] == ["3", "4"]


@pytest.mark.parametrize("begin", ["FIX.4.0", "FIX.4.1"])
def test_end_seq_no_999999_means_infinity_on_fix40_41(make_harness, begin):
    h = make_harness(begin=begin, logged_on=True)
    sent_orders(h, 2)
    step = h.feed("2", (7, 2), (16, 999999))
    assert [m.get(34) for m in step.messages] == ["2", "3"]
    # FIX.4.0/4.1 timestamps carry no milliseconds
    assert len(step.messages[0].get(52)) == 17


def test_persist_messages_off_gap_fills_everything(make_harness):
    h = make_harness(logged_on=True, persist_messages=False)
    sent_orders(h, 3)
    assert h.store.get_range(1, 100) == []
    step = h.feed("2", (7, 1), (16, 0))
    gap = step.only("4")
    assert (gap.get(34), gap.get(36), gap.get(123)) == ("1", "5", "Y")


def test_do_not_send_on_resend_becomes_gap_fill(make_harness):
    h = make_harness(logged_on=True)
    sent_orders(h, 3)  # 2, 3, 4

    def refuse_o1(message):
        from fix_engine.application import DoNotSend

        if message.get(11) == "O1" and message.get(43) == "Y":
            raise DoNotSend()

    h.app.to_app_hook = refuse_o1
    step = h.feed("2", (7, 2), (16, 0))
    assert step.types == ["D", "4", "D"]
    assert (step.messages[1].get(34), step.messages[1].get(36)) == ("3", "4")


def test_resend_request_consumes_its_number(make_harness):
    h = make_harness(logged_on=True)
    h.feed("2", (7, 1), (16, 0))
    assert h.session.next_target_seq_num == 3


def test_resend_request_ahead_of_sequence_is_served_and_gap_requested(make_harness):
    h = make_harness(logged_on=True)
    sent_orders(h, 1)
    step = h.feed("2", (7, 2), (16, 0), seq=5)
    assert step.types == ["D", "2"]
    rr = step.messages[1]
    assert (rr.get(7), rr.get(16)) == ("2", "0")
    # when the gap fills, the queued ResendRequest is only consumed (not served again)
    step = h.feed("4", (123, "Y"), (36, 5), seq=2, poss_dup=True, orig_sending_time=h.ts())
    assert step.messages == []
    assert h.session.next_target_seq_num == 6


def test_stored_message_bytes_are_exactly_what_was_sent(make_harness):
    h = make_harness(logged_on=True)
    step = h.send(h.app_message("Z"))
    seq = int(step.only("D").get(34))
    assert h.store.get_range(seq, seq) == [(seq, step.actions[0].data)]


# ----------------------------------------------------------------- SequenceReset


def test_gap_fill_at_expected_moves_to_new_seq_no(make_harness):
    h = make_harness(logged_on=True)
    step = h.feed("4", (123, "Y"), (36, 10))
    assert step.messages == []
    assert h.session.next_target_seq_num == 10


def test_gap_fill_backwards_is_rejected_without_ref_tag(make_harness):
    """QuickFIX nextSequenceReset: NewSeqNo below the expected number -> Reject 373=5, no 371."""
    h = make_harness(logged_on=True)
    h.feed("0")
    step = h.feed("4", (123, "Y"), (36, 2), seq=3)
    reject = step.only("3")
    assert (reject.get(45), reject.get(373), reject.get(372)) == ("3", "5", "4")
    assert 371 not in reject
    assert reject.get(58) == "Value is incorrect (out of range) for this tag"
    assert h.session.next_target_seq_num == 3  # not consumed


def test_gap_fill_to_its_own_number_is_ignored(make_harness):
    h = make_harness(logged_on=True)
    step = h.feed("4", (123, "Y"), (36, 2), seq=2)
    assert step.messages == []
    assert h.session.next_target_seq_num == 2
    assert h.feed("1", (112, "x"), seq=2).only("0").get(112) == "x"


def test_gap_fill_too_high_is_queued_with_resend_request(make_harness):
    h = make_harness(logged_on=True)
    step = h.feed("4", (123, "Y"), (36, 10), seq=4)
    assert step.types == ["2"]
    assert h.session.next_target_seq_num == 2
    h.feed("0", seq=2, poss_dup=True, orig_sending_time=h.ts())
    h.feed("0", seq=3, poss_dup=True, orig_sending_time=h.ts())
    assert h.session.next_target_seq_num == 10  # queued gap fill applied


def test_gap_fill_too_low_without_poss_dup_logs_out(make_harness):
    h = make_harness(logged_on=True)
    h.feed("0")
    step = h.feed("4", (123, "Y"), (36, 10), seq=2)
    assert step.only("5").get(58) == "MsgSeqNum too low, expecting 3 but received 2"
    assert step.disconnect


def test_gap_fill_too_low_with_poss_dup_is_ignored(make_harness):
    h = make_harness(logged_on=True)
    h.feed("0")
    step = h.feed("4", (123, "Y"), (36, 10), seq=2, poss_dup=True, orig_sending_time=h.ts())
    assert step.messages == [] and step.disconnect is None
    assert h.session.next_target_seq_num == 3


@pytest.mark.parametrize("gap_fill_flag", [None, "N"])
def test_reset_mode_accepts_higher_new_seq_no_regardless_of_msg_seq_num(make_harness, gap_fill_flag):
    h = make_harness(logged_on=True)
    body = [(36, 20)] if gap_fill_flag is None else [(123, gap_fill_flag), (36, 20)]
    step = h.feed("4", *body, seq=99)
    assert step.messages == []
    assert h.session.next_target_seq_num == 20


def test_reset_mode_equal_new_seq_no_is_ignored(make_harness):
    h = make_harness(logged_on=True)
    step = h.feed("4", (36, 2), seq=1)
    assert step.messages == []
    assert any("ignored" in e for e in step.events)
    assert h.session.next_target_seq_num == 2


def test_reset_mode_lower_new_seq_no_is_rejected(make_harness):
    h = make_harness(logged_on=True)
    for _ in range(3):
        h.feed("0")
    step = h.feed("4", (36, 2), seq=5)
    reject = step.only("3")
    assert (reject.get(45), reject.get(373)) == ("5", "5")
    assert 371 not in reject  # QuickFIX names no RefTagID here
    assert h.session.next_target_seq_num == 5  # SequenceReset rejects do not consume (QuickFIX)


def test_reset_mode_ignores_its_own_msg_seq_num_even_zero(make_harness):
    """FIX test case 11: a SequenceReset-Reset is accepted without regard to its MsgSeqNum."""
    h = make_harness(logged_on=True)
    h.feed("0")
    step = h.feed("4", (36, 2), seq=0)
    assert (step.only("3").get(45), step.only("3").get(373)) == ("0", "5")
    assert step.disconnect is None
    assert h.feed("4", (36, 7), seq=0).messages == []
    assert h.session.next_target_seq_num == 7


def test_application_messages_sent_while_disconnected_go_out_by_resend(make_harness):
    h = make_harness("initiator")
    step = h.send(h.app_message("offline"))
    assert step.messages == []
    assert h.session.next_sender_seq_num == 2
    assert FixMessage.parse(h.store.get_range(1, 1)[0][1]).get(11) == "offline"
    logon = h.connect().only("A")
    assert logon.get(34) == "2"
    h.logon()
    step = h.feed("2", (7, 1), (16, 0))
    assert step.types == ["D", "4"]
    assert step.messages[0].get(11) == "offline"
    assert step.messages[0].get(43) == "Y"
    assert (step.messages[1].get(34), step.messages[1].get(36)) == ("2", "3")


def test_message_not_stored_when_next_logon_resets(make_harness):
    h = make_harness("initiator", reset_on_logon=True)
    step = h.send(h.app_message("lost"))
    assert step.messages == []
    assert h.session.next_sender_seq_num == 1
    assert step.events


def test_application_send_from_a_callback_goes_out_after_what_the_input_produced(make_harness):
    """A reply sent from ``from_app`` while the same input has already produced messages (here a
    resend) comes after them: the transport performs the callback's actions first, so the
    session hands those earlier messages over with them (wire order = MsgSeqNum order)."""
    from fix_engine.session.actions import Send

    h = make_harness(logged_on=True)
    h.send(h.app_message("OURS"))  # our 2
    performed: list[list[object]] = []

    def echo(message: FixMessage) -> None:
        reply = FixMessage.new("D", *[(t, v) for t, v in message.fields if t in (11, 21, 40, 54, 55, 60)])
        performed.append(h.session.send(reply, h.now))

    h.app.from_app_hook = echo
    h.feed("D", (11, "THEIRS4"), (21, "1"), (40, "1"), (54, "1"), (55, "IBM"), (60, h.ts()), seq=3)
    # their ResendRequest 2 (for our 2..): served, then their queued 3 is delivered and echoed
    step = h.feed("2", (7, 2), (16, 0), seq=2)
    wire = [a for a in [*performed[-1], *step.actions] if isinstance(a, Send)]
    seqs = [(FixMessage.parse(a.data).get(34), FixMessage.parse(a.data).get(43)) for a in wire]
    assert seqs == [("2", "Y"), ("3", "Y"), ("4", None)]  # resent 2, GapFill 3 (our RR), echo 4
