"""Logon: acceptor and initiator sides, resets, refusals, schedule, FIXT.1.1."""

from __future__ import annotations

from datetime import time

from fix_engine.application import RejectLogon
from fix_engine.codec import Frame
from fix_engine.codec.framing import FrameError
from fix_engine.session.schedule import SessionSchedule
from fix_engine.session.state import SessionState

# ----------------------------------------------------------------- acceptor


def test_acceptor_answers_logon_echoing_encrypt_method_and_heartbtint(make_harness):
    h = make_harness("acceptor", heart_bt_int=30)
    step = h.logon(heart_bt_int=45)
    logon = step.only("A")
    assert logon.get(98) == "0"
    assert logon.get(108) == "45"
    assert (logon.get(49), logon.get(56), logon.get(34)) == ("ACC", "INI", "1")
    assert 141 not in logon
    assert h.state is SessionState.ACTIVE
    assert h.session.heart_bt_int == 45  # adopted the peer's
    assert h.session.next_target_seq_num == 2
    assert h.session.next_sender_seq_num == 2
    assert h.app.names().count("on_logon") == 1
    assert ("from_admin", "A") in h.app.calls


def test_acceptor_logon_is_stored_before_it_is_returned(make_harness):
    h = make_harness("acceptor")
    step = h.logon()
    assert h.store.get_range(1, 1) == [(1, step.actions[0].data)]


def test_message_sent_from_on_logon_follows_the_logon_answer(make_harness):
    """An application that sends from ``on_logon`` gets the Logon answer ahead of its message
    (the transport performs the callback's actions before those on_frame returns)."""
    from fix_engine.session.actions import Send

    h = make_harness("acceptor")
    performed: list[list[object]] = []
    h.app.on_logon = lambda session_id: performed.append(h.session.send(h.app_message("HELLO"), h.now))
    step = h.logon()
    wire = [a.data for a in [*performed[0], *step.actions] if isinstance(a, Send)]
    assert [b"35=A\x01" in data for data in wire] == [True, False]
    assert b"34=2\x01" in wire[1]


def test_first_message_not_logon_disconnects_without_reply(make_harness):
    h = make_harness("acceptor")
    step = h.feed("0")
    assert step.messages == []
    assert step.disconnect
    assert h.state is SessionState.DISCONNECTED
    assert h.session.next_target_seq_num == 1


def test_logon_with_wrong_begin_string_disconnects_without_reply(make_harness):
    h = make_harness("acceptor", "FIX.4.4")
    step = h.logon(begin="FIX.4.2")
    assert step.messages == [] and step.disconnect


def test_garbled_first_message_disconnects_without_reply(make_harness):
    h = make_harness("acceptor")
    raw = h.build("A", (98, 0), (108, 30))
    length = raw.split(b"\x01")[1]  # b"9=NN"
    bad_length = raw.replace(length, b"9=%d" % (int(length[2:]) - 5), 1)
    step = h.feed_raw(bad_length)
    assert step.messages == [] and step.disconnect


def test_garbled_frame_object_before_logon_disconnects(make_harness):
    h = make_harness("acceptor")
    step = h.feed_frame(Frame(h.build("A", (98, 0), (108, 30)), FrameError.CHECKSUM))
    assert step.messages == [] and step.disconnect


def test_logon_with_unknown_comp_id_disconnects_without_reply(make_harness):
    h = make_harness("acceptor")
    step = h.logon(sender="STRANGER")
    assert step.messages == [] and step.disconnect
    h2 = make_harness("acceptor")
    step = h2.logon(target="NOTUS")
    assert step.messages == [] and step.disconnect


def test_logon_comp_id_not_checked_when_check_comp_id_off(make_harness):
    h = make_harness("acceptor", check_comp_id=False)
    assert h.logon(sender="STRANGER").types == ["A"]


def test_logon_outside_max_latency_disconnects_without_reply(make_harness):
    h = make_harness("acceptor", max_latency=120)
    step = h.logon(sending_time=h.ts(-121))
    assert step.messages == [] and step.disconnect
    h2 = make_harness("acceptor", max_latency=120)
    assert h2.logon(sending_time=h2.ts(-119)).types == ["A"]


def test_logon_latency_not_checked_when_check_latency_off(make_harness):
    h = make_harness("acceptor", check_latency=False)
    assert h.logon(sending_time=h.ts(-3600)).types == ["A"]


def test_logon_seq_too_high_is_answered_then_resend_requested(make_harness):
    h = make_harness("acceptor")
    step = h.logon(seq=5)
    assert step.types == ["A", "2"]
    resend = step.messages[1]
    assert (resend.get(7), resend.get(16)) == ("1", "0")
    assert h.session.next_target_seq_num == 1
    assert h.state is SessionState.ACTIVE
    # the gap fills: 1..4 by gap fill, then the queued Logon (5) is consumed
    step = h.feed("4", (123, "Y"), (36, 5), seq=1, poss_dup=True, orig_sending_time=h.ts())
    assert h.session.next_target_seq_num == 6
    assert h.session.resend_range is None


def test_logon_seq_too_low_logs_out_and_disconnects(make_harness):
    h = make_harness("acceptor")
    h.store.set_next_target_seq_num(10)
    step = h.logon(seq=3)
    logout = step.only("5")
    assert logout.get(58) == "MsgSeqNum too low, expecting 10 but received 3"
    assert step.disconnect


def test_logon_reset_seq_num_flag_resets_both_sides_and_answers_141(make_harness):
    h = make_harness("acceptor")
    h.store.set_next_sender_seq_num(50)
    h.store.set_next_target_seq_num(40)
    step = h.logon((141, "Y"), seq=1)
    logon = step.only("A")
    assert logon.get(141) == "Y"
    assert logon.get(34) == "1"
    assert h.session.next_sender_seq_num == 2
    assert h.session.next_target_seq_num == 2


def test_acceptor_reset_on_logon_resets_store(make_harness):
    h = make_harness("acceptor", reset_on_logon=True)
    h.store.set_next_sender_seq_num(50)
    h.store.set_next_target_seq_num(40)
    step = h.logon(seq=1)
    assert step.only("A").get(34) == "1"
    assert h.session.next_target_seq_num == 2


def test_reject_logon_from_application_sends_logout_with_text(make_harness):
    h = make_harness("acceptor")

    def refuse(message):
        if message.get(35) == "A":
            raise RejectLogon("Invalid password")

    h.app.from_admin_hook = refuse
    step = h.logon()
    assert step.types == ["5"]
    assert step.only("5").get(58) == "Invalid password"
    assert step.disconnect
    assert "on_logon" not in h.app.names()
    assert "on_logout" not in h.app.names()


def test_logon_without_heartbtint_disconnects(make_harness):
    h = make_harness("acceptor")
    step = h.feed("A", (98, 0))
    assert step.messages == [] and step.disconnect


def test_logon_with_validation_error_disconnects_without_reject(make_harness):
    from fix_engine.dictionary.violations import SessionRejectReason, Violation

    h = make_harness(
        "acceptor", validator=lambda m: [Violation(SessionRejectReason.REQUIRED_TAG_MISSING, 98)]
    )
    step = h.logon()
    assert step.messages == [] and step.disconnect


def test_second_logon_without_reset_disconnects(make_harness):
    h = make_harness("acceptor", logged_on=True)
    step = h.logon()
    assert step.disconnect
    assert step.messages == []


def test_mid_session_logon_with_reset_resets_both_sides(make_harness):
    h = make_harness("acceptor", logged_on=True)
    h.feed("0")
    h.send(h.app_message())
    assert h.session.next_sender_seq_num == 3
    step = h.logon((141, "Y"), seq=1)
    logon = step.only("A")
    assert logon.get(141) == "Y"
    assert logon.get(34) == "1"
    assert h.session.next_sender_seq_num == 2
    assert h.session.next_target_seq_num == 2
    assert h.state is SessionState.ACTIVE
    assert h.app.names().count("on_logon") == 1


def test_acceptor_logon_timeout(make_harness):
    h = make_harness("acceptor", logon_timeout=10)
    h.connect()
    assert h.tick(9.5).disconnect is None
    assert h.tick(0.5).disconnect


# ----------------------------------------------------------------- initiator


def test_initiator_sends_logon_on_connect(make_harness):
    h = make_harness("initiator", heart_bt_int=20)
    step = h.connect()
    logon = step.only("A")
    assert (logon.get(98), logon.get(108)) == ("0", "20")
    assert 141 not in logon and 789 not in logon and 553 not in logon and 1137 not in logon
    assert (logon.get(49), logon.get(56), logon.get(34)) == ("ACC", "INI", "1")
    assert h.state is SessionState.LOGON_SENT
    step = h.logon(heart_bt_int=20)
    assert step.messages == []
    assert h.state is SessionState.ACTIVE
    assert h.session.next_target_seq_num == 2
    assert "on_logon" in h.app.names()


def test_initiator_logon_options(make_harness):
    h = make_harness(
        "initiator",
        reset_on_logon=True,
        send_next_expected_msg_seq_num=True,
        username="alice",
        password="secret",
    )
    h.store.set_next_sender_seq_num(7)
    h.store.set_next_target_seq_num(9)
    logon = h.connect().only("A")
    assert logon.get(141) == "Y"
    assert logon.get(34) == "1"
    assert logon.get(789) == "1"
    assert (logon.get(553), logon.get(554)) == ("alice", "secret")


def test_initiator_next_expected_without_reset(make_harness):
    h = make_harness("initiator", send_next_expected_msg_seq_num=True)
    h.store.set_next_target_seq_num(9)
    assert h.connect().only("A").get(789) == "9"


def test_initiator_logon_timeout(make_harness):
    h = make_harness("initiator", logon_timeout=10)
    h.connect()
    assert h.tick(5).disconnect is None
    step = h.tick(5)
    assert step.disconnect
    assert h.state is SessionState.DISCONNECTED


def test_initiator_keeps_its_heartbtint(make_harness):
    h = make_harness("initiator", heart_bt_int=20)
    h.connect()
    h.logon(heart_bt_int=60)
    assert h.session.heart_bt_int == 20


def test_initiator_logon_rejected_by_logout(make_harness):
    h = make_harness("initiator")
    h.connect()
    step = h.feed("5", (58, "go away"))
    assert step.types == ["5"]
    assert step.disconnect
    assert "on_logout" not in h.app.names()


def test_refresh_on_logon_refreshes_store(make_harness):
    h = make_harness("initiator", refresh_on_logon=True)
    calls = []
    h.store.refresh = lambda: calls.append("refresh")  # type: ignore[method-assign]
    h.connect()
    assert calls == ["refresh"]
    a = make_harness("acceptor", refresh_on_logon=True)
    a.store.refresh = lambda: calls.append("acceptor")  # type: ignore[method-assign]
    a.logon()
    assert calls == ["refresh", "acceptor"]


# ----------------------------------------------------------------- FIXT.1.1


def test_fixt_initiator_sends_default_appl_ver_id(make_harness):
    h = make_harness("initiator", "FIXT.1.1", default_appl_ver_id="FIX.5.0SP2")
    logon = h.connect().only("A")
    assert logon.get(8) == "FIXT.1.1"
    assert logon.get(1137) == "9"


def test_fixt_acceptor_answers_with_default_appl_ver_id(make_harness):
    h = make_harness("acceptor", "FIXT.1.1", default_appl_ver_id="7")
    logon = h.logon().only("A")
    assert logon.get(1137) == "7"
    assert h.session.target_default_appl_ver_id == "9"


def test_fixt_logon_without_default_appl_ver_id_disconnects(make_harness):
    h = make_harness("acceptor", "FIXT.1.1")
    step = h.feed("A", (98, 0), (108, 30))
    assert step.messages == [] and step.disconnect


# ----------------------------------------------------------------- schedule

# 2023-11-14 22:13:20 UTC is T0: a 08:00-17:00 UTC session is closed then, 20:00-23:00 is open.
CLOSED = SessionSchedule(start_time=time(8), end_time=time(17))
OPEN = SessionSchedule(start_time=time(20), end_time=time(23))


def test_acceptor_outside_schedule_disconnects_logon(make_harness):
    h = make_harness("acceptor", schedule=CLOSED)
    step = h.logon()
    assert step.messages == [] and step.disconnect


def test_initiator_outside_schedule_does_not_logon(make_harness):
    h = make_harness("initiator", schedule=CLOSED)
    step = h.connect()
    assert step.messages == []
    assert step.disconnect
    assert h.state is SessionState.DISCONNECTED


def test_new_schedule_period_resets_store_on_logon(make_harness, T):
    from fix_engine.store.memory import MemoryStore

    h = make_harness("acceptor", schedule=OPEN, store=MemoryStore(T - 86_400))  # yesterday's period
    h.store.set_next_sender_seq_num(30)
    h.store.set_next_target_seq_num(30)
    step = h.logon(seq=1)
    assert step.types == ["A"]
    assert step.only("A").get(34) == "1"
    assert h.session.next_target_seq_num == 2
    assert h.store.creation_time() == T


def test_same_schedule_period_keeps_store(make_harness, T):
    from fix_engine.store.memory import MemoryStore

    h = make_harness("acceptor", schedule=OPEN, store=MemoryStore(T - 60))
    h.store.set_next_target_seq_num(30)
    step = h.logon(seq=30)
    assert step.types == ["A"]
    assert h.session.next_target_seq_num == 31


def test_end_of_session_period_logs_out_and_disconnects(make_harness):
    h = make_harness("acceptor", schedule=OPEN, logged_on=True)
    h.logon  # noqa: B018 - logged on at 22:13:20
    step = h.tick(3600)  # 23:13:20: the period is over
    assert step.types == ["5"]
    assert step.disconnect
