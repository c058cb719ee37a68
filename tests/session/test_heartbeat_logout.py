"""Heartbeats, TestRequests, timeouts, and the Logout exchange."""

from __future__ import annotations

from fix_engine.session.heartbeat import HeartbeatMonitor, TimerDue
from fix_engine.session.state import SessionState

# ----------------------------------------------------------------- HeartbeatMonitor (pure)


def test_monitor_rules():
    m = HeartbeatMonitor(heart_bt_int=10, test_request_delay_multiplier=0.5)
    m.restart(0.0)
    assert m.interval == 15
    assert m.due(9.9) is TimerDue.NOTHING
    assert m.due(10) is TimerDue.HEARTBEAT
    m.sent(10)
    assert m.due(15) is TimerDue.TEST_REQUEST
    m.test_request_sent("TEST", 15)
    assert m.due(24.9) is TimerDue.NOTHING
    assert m.due(25) is TimerDue.HEARTBEAT  # our own heartbeats continue meanwhile
    m.sent(25)
    assert m.due(29.9) is TimerDue.NOTHING
    assert m.due(30) is TimerDue.TIMED_OUT
    m.received(29)
    assert m.test_req_id is None
    assert m.due(30) is TimerDue.NOTHING


def test_monitor_disabled_with_zero_heartbtint():
    m = HeartbeatMonitor(heart_bt_int=0, test_request_delay_multiplier=0.5)
    m.restart(0.0)
    assert m.due(1e9) is TimerDue.NOTHING


# ----------------------------------------------------------------- session timers


def test_heartbeat_after_heartbtint_of_our_silence(make_harness):
    h = make_harness(logged_on=True, heart_bt_int=30)
    assert h.tick(29).messages == []
    h.feed("0")  # the peer talks: no effect on our heartbeat
    step = h.tick(1)
    hb = step.only("0")
    assert 112 not in hb
    assert h.tick(1).messages == []


def test_sending_anything_postpones_heartbeat(make_harness):
    h = make_harness(logged_on=True, heart_bt_int=30)
    h.app.from_app_hook = lambda m: None
    h.tick(20)
    h.feed("0")
    h.send(h.app_message())
    assert h.tick(20).messages == []
    assert h.tick(10).types == ["0"]


def test_test_request_after_peer_silence_then_disconnect(make_harness):
    h = make_harness(logged_on=True, heart_bt_int=30, test_request_delay_multiplier=0.5)
    # our own heartbeats go out every 30 s; the peer says nothing
    assert h.tick(30).types == ["0"]
    step = h.tick(15)  # 45 s of silence = 30 * 1.5
    tr = step.only("1")
    assert tr.get(112) == "TEST"
    assert h.tick(44).disconnect is None
    step = h.tick(1)  # 90 s of silence: another interval after the TestRequest
    assert step.disconnect
    assert h.state is SessionState.DISCONNECTED
    assert h.app.names()[-1] == "on_logout"


def test_any_message_clears_our_test_request(make_harness):
    h = make_harness(logged_on=True, heart_bt_int=30)
    h.tick(45)
    assert h.session._heartbeat.test_req_id == "TEST"
    h.feed("0", (112, "TEST"))
    assert h.session._heartbeat.test_req_id is None
    step = h.tick(45)
    assert step.disconnect is None


def test_test_request_answered_with_heartbeat_echoing_test_req_id(make_harness):
    h = make_harness(logged_on=True)
    step = h.feed("1", (112, "ping-42"))
    hb = step.only("0")
    assert hb.get(112) == "ping-42"
    assert h.session.next_target_seq_num == 3


def test_acceptor_uses_peer_heartbtint_for_timers(make_harness):
    h = make_harness(heart_bt_int=30)
    h.logon(heart_bt_int=5)
    assert h.tick(5).types == ["0"]


# ----------------------------------------------------------------- logout


def test_unsolicited_logout_is_answered_and_disconnected(make_harness):
    h = make_harness(logged_on=True)
    step = h.feed("5", (58, "bye"))
    logout = step.only("5")
    assert 58 not in logout
    assert step.disconnect
    assert h.state is SessionState.DISCONNECTED
    assert h.session.next_target_seq_num == 3
    assert h.app.names()[-1] == "on_logout"


def test_our_logout_waits_for_answer(make_harness):
    h = make_harness(logged_on=True)
    step = h.session.logout(h.now, "end of day")
    assert [type(a).__name__ for a in step] == ["Send", "Event"]
    assert b"58=end of day\x01" in step[0].data
    assert h.state is SessionState.LOGOUT_SENT
    step = h.feed("5")
    assert step.messages == []  # an answer is not answered
    assert step.disconnect
    assert h.state is SessionState.DISCONNECTED


def test_our_logout_times_out(make_harness):
    h = make_harness(logged_on=True, logout_timeout=2)
    h.session.logout(h.now)
    assert h.tick(1.5).disconnect is None
    assert h.tick(0.5).disconnect
    assert h.state is SessionState.DISCONNECTED


def test_messages_still_processed_while_logout_pending(make_harness):
    h = make_harness(logged_on=True)
    h.session.logout(h.now)
    step = h.feed("1", (112, "x"))
    assert step.only("0").get(112) == "x"


def test_logout_before_logon_completes_just_disconnects(make_harness):
    h = make_harness("initiator")
    h.connect()
    actions = h.session.logout(h.now)
    assert [type(a).__name__ for a in actions] == ["Disconnect"]


def test_reset_on_logout(make_harness):
    h = make_harness(logged_on=True, reset_on_logout=True)
    h.feed("5")
    assert (h.session.next_sender_seq_num, h.session.next_target_seq_num) == (1, 1)


def test_reset_on_disconnect(make_harness):
    h = make_harness(logged_on=True, reset_on_disconnect=True)
    h.feed("0")
    h.disconnect()
    assert (h.session.next_sender_seq_num, h.session.next_target_seq_num) == (1, 1)


def test_sequence_numbers_survive_disconnect_by_default(make_harness):
    h = make_harness(logged_on=True)
    h.feed("0")
    step = h.disconnect()
    assert step.events == ["Disconnected"]
    assert (h.session.next_sender_seq_num, h.session.next_target_seq_num) == (2, 3)
    assert h.app.names()[-1] == "on_logout"
    assert h.disconnect().actions == []  # idempotent


def test_public_reset(make_harness):
    h = make_harness(logged_on=True)
    h.feed("0")
    step = h._step(h.session.reset(h.now))
    assert step.types == ["5"]
    assert step.disconnect
    assert (h.session.next_sender_seq_num, h.session.next_target_seq_num) == (1, 1)


def test_timer_while_disconnected_sends_nothing(make_harness):
    h = make_harness("initiator")
    assert h.tick(1000).actions == []
