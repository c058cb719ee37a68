"""Two Sessions (initiator + acceptor) talking to each other through FrameParser."""

from __future__ import annotations

import pytest

from fix_engine.session.state import SessionState


def accept(message):
    return None


@pytest.mark.parametrize("begin", ["FIX.4.0", "FIX.4.1", "FIX.4.2", "FIX.4.3", "FIX.4.4", "FIXT.1.1"])
def test_logon_exchange_every_version(make_pair, begin):
    pair = make_pair(begin)
    pair.connect()
    assert pair.types() == ["A", "A"]
    assert pair.ini.session.state is SessionState.ACTIVE
    assert pair.acc.session.state is SessionState.ACTIVE
    for harness in (pair.ini, pair.acc):
        assert (harness.session.next_sender_seq_num, harness.session.next_target_seq_num) == (2, 2)
    if begin == "FIXT.1.1":
        assert all(m.get(1137) == "9" for _, m in pair.transcript)


def test_application_messages_both_ways(make_pair):
    pair = make_pair()
    pair.ini.app.from_app_hook = accept
    pair.acc.app.from_app_hook = accept
    pair.connect()
    pair.send("initiator", pair.ini.app_message("I1"))
    pair.send("acceptor", pair.acc.app_message("A1"))
    assert pair.acc.app.received_ids() == ["I1"]
    assert pair.ini.app.received_ids() == ["A1"]


def test_lost_message_recovered_by_resend(make_pair):
    pair = make_pair()
    pair.acc.app.from_app_hook = accept
    pair.connect()
    pair.drop = lambda direction, m: m.get(11) == "LOST" and m.get(43) != "Y"
    pair.send("initiator", pair.ini.app_message("LOST"))
    pair.drop = lambda direction, m: False
    pair.send("initiator", pair.ini.app_message("NEXT"))
    assert pair.acc.app.received_ids() == ["LOST", "NEXT"]
    # EndSeqNo 0 (infinity): NEXT is resent too, and ignored as a PossDup duplicate
    assert pair.types() == ["A", "A", "D", "2", "D", "D"]
    resent = [m for _, m in pair.transcript[4:]]
    assert [(m.get(11), m.get(43)) for m in resent] == [("LOST", "Y"), ("NEXT", "Y")]
    assert pair.acc.session.next_target_seq_num == 4
    assert pair.acc.session.resend_range is None


def test_heartbeats_keep_both_sides_up(make_pair):
    pair = make_pair(initiator={"heart_bt_int": 10})
    pair.connect()
    for _ in range(60):
        pair.tick(1)
    assert pair.ini.session.is_logged_on and pair.acc.session.is_logged_on
    assert "0" in pair.types("I>A") and "0" in pair.types("A>I")
    assert "1" not in pair.types()


def test_logout_exchange(make_pair):
    pair = make_pair()
    pair.connect()
    pair.logout("initiator", "done")
    assert pair.types()[-2:] == ["5", "5"]
    assert pair.ini.session.state is SessionState.DISCONNECTED
    assert pair.acc.session.state is SessionState.DISCONNECTED
    assert pair.ini.app.names()[-1] == "on_logout"
    assert pair.acc.app.names()[-1] == "on_logout"


def test_reconnect_with_reset_on_logon(make_pair):
    pair = make_pair(initiator={"reset_on_logon": True})
    pair.connect()
    pair.logout("initiator")
    pair.connect()
    assert pair.types()[-2:] == ["A", "A"]
    assert [m.get(141) for _, m in pair.transcript[-2:]] == ["Y", "Y"]
    assert pair.ini.session.next_sender_seq_num == 2
    assert pair.acc.session.next_target_seq_num == 2


def test_reconnect_without_reset_continues_numbers(make_pair):
    pair = make_pair()
    pair.connect()
    pair.logout("initiator")
    pair.connect()
    logon = pair.transcript[-2][1]
    assert logon.get(34) == "3"
    assert pair.ini.session.is_logged_on


def test_messages_sent_while_disconnected_arrive_after_logon(make_pair):
    pair = make_pair()
    pair.acc.app.from_app_hook = accept
    pair.connect()
    pair.logout("initiator")
    pair.send("initiator", pair.ini.app_message("OFFLINE"))
    pair.connect()
    assert pair.acc.app.received_ids() == ["OFFLINE"]


def test_next_expected_msg_seq_num_resends_what_the_peer_missed(make_pair):
    both = {"send_next_expected_msg_seq_num": True}
    pair = make_pair(initiator=both, acceptor=both)
    pair.ini.app.from_app_hook = accept
    pair.connect()
    pair.drop = lambda direction, m: direction == "A>I" and m.get(35) == "D"
    pair.send("acceptor", pair.acc.app_message("M1"))
    pair.send("acceptor", pair.acc.app_message("M2"))
    pair.drop = lambda direction, m: False
    pair.logout("initiator")
    # the Logon (1) was received; M1, M2 were lost and the acceptor's Logout answer (4) was not in sequence
    assert pair.ini.session.next_target_seq_num == 2
    pair.connect()
    assert pair.ini.app.received_ids() == ["M1", "M2"]
    logon = [m for d, m in pair.transcript if d == "I>A" and m.get(35) == "A"][-1]
    assert logon.get(789) == "2"
    assert pair.ini.session.next_target_seq_num == pair.acc.session.next_sender_seq_num
    assert pair.ini.session.resend_range is None


def test_next_expected_too_high_logs_out(make_harness):
    h = make_harness("acceptor", send_next_expected_msg_seq_num=True)
    step = h.logon((789, 50))
    logout = step.only("5")
    assert "789" in logout.get(58)
    assert step.disconnect


def test_next_expected_on_acceptor_answer(make_harness):
    h = make_harness("acceptor", send_next_expected_msg_seq_num=True)
    logon = h.logon((789, 1)).only("A")
    assert logon.get(789) == "2"


def test_next_expected_both_sides_no_redundant_resend_request(make_pair):
    both = {"send_next_expected_msg_seq_num": True}
    pair = make_pair(initiator=both, acceptor=both)
    pair.ini.app.from_app_hook = accept
    pair.connect()
    pair.drop = lambda direction, m: direction == "A>I" and m.get(35) == "D"
    pair.send("acceptor", pair.acc.app_message("M1"))
    pair.drop = lambda direction, m: False
    pair.logout("initiator")
    start = len(pair.transcript)
    pair.connect()
    assert "2" not in [m.get(35) for _, m in pair.transcript[start:]]
    assert pair.ini.app.received_ids() == ["M1"]


class RecordingLog:
    def __init__(self):
        self.lines = []

    def on_incoming(self, raw, now):
        self.lines.append(("in", raw))

    def on_outgoing(self, raw, now):
        self.lines.append(("out", raw))

    def on_event(self, text, now):
        self.lines.append(("event", text))


def test_log_receives_raw_messages_in_and_out(make_harness):
    log = RecordingLog()
    h = make_harness("acceptor", log=log)
    raw = h.build("A", (98, 0), (108, 30))
    step = h.feed_raw(raw)
    assert log.lines == [("in", raw), ("out", step.actions[0].data)]


def test_on_message_accepts_parsed_messages(make_harness):
    from fix_engine.codec import FixMessage

    h = make_harness("acceptor")
    message = FixMessage.parse(h.build("A", (98, 0), (108, 30)))
    step = h._step(h.session.on_message(message, h.now))
    assert step.types == ["A"]
    assert h.session.is_logged_on


def test_acceptor_connect_then_logon(make_harness):
    h = make_harness("acceptor")
    assert h.connect().actions == []
    assert h.state is SessionState.AWAITING_LOGON
    assert h.logon().types == ["A"]
