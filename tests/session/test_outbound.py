"""Outgoing messages: header, precision, to_app / DoNotSend, storing before sending."""

from __future__ import annotations

from fix_engine.session.session import Session
from fix_engine.session.session_id import SessionID
from fix_engine.session.settings import ConnectionType, SessionSettings
from fix_engine.session.state import SessionState
from fix_engine.store.memory import MemoryStore


def test_header_fields_from_session_id(make_harness, T):
    from fix_engine.application import Application
    from fix_engine.codec import FixMessage

    sid = SessionID(
        "FIX.4.4",
        "ACC",
        "INI",
        sender_sub_id="DESK",
        sender_location_id="LDN",
        target_sub_id="TRADER",
        target_location_id="NY",
    )
    settings = SessionSettings(session_id=sid, connection_type=ConnectionType.INITIATOR)
    session = Session(settings, MemoryStore(T), Application())
    [send, _event] = session.on_connect(T)
    logon = FixMessage.parse(send.data)
    assert [(t, logon.get(t)) for t in (8, 35, 49, 56, 34, 50, 142, 57, 143)] == [
        (8, "FIX.4.4"),
        (35, "A"),
        (49, "ACC"),
        (56, "INI"),
        (34, "1"),
        (50, "DESK"),
        (142, "LDN"),
        (57, "TRADER"),
        (143, "NY"),
    ]
    assert logon.get(52) == "20231114-22:13:20.000"
    # canonical order: 8, 9, 35, then header tags ascending
    tags_on_wire = [int(f.split(b"=")[0]) for f in send.data.split(b"\x01")[:-1]]
    assert tags_on_wire[:3] == [8, 9, 35]
    assert tags_on_wire[3:11] == sorted(tags_on_wire[3:11]) == [34, 49, 50, 52, 56, 57, 142, 143]


def test_timestamp_precision(make_harness):
    h = make_harness("initiator", timestamp_precision=6)
    h.now += 0.123456
    assert h.connect().only("A").get(52) == "20231114-22:13:20.123456"


def test_send_while_logged_on_stores_then_sends(make_harness):
    h = make_harness(logged_on=True)
    step = h.send(h.app_message("X"))
    [send] = step.actions
    assert h.store.get_range(2, 2) == [(2, send.data)]
    assert h.session.next_sender_seq_num == 3
    assert ("to_app", "D") in h.app.calls


def test_do_not_send_consumes_no_number(make_harness):
    from fix_engine.application import DoNotSend

    h = make_harness(logged_on=True)

    def refuse(message):
        raise DoNotSend()

    h.app.to_app_hook = refuse
    step = h.send(h.app_message("X"))
    assert step.messages == [] and step.events
    assert h.session.next_sender_seq_num == 2
    assert h.store.get_range(2, 2) == []


def test_initiator_gets_unrequested_reset_in_logon_answer(make_harness):
    h = make_harness("initiator")
    h.store.set_next_sender_seq_num(5)
    h.store.set_next_target_seq_num(5)
    h.connect()  # Logon 5
    step = h.logon((141, "Y"), seq=1)
    logon = step.only("A")  # QuickFIX: reset and confirm with our own 141=Y Logon
    assert (logon.get(141), logon.get(34)) == ("Y", "1")
    assert h.state is SessionState.ACTIVE
    assert (h.session.next_sender_seq_num, h.session.next_target_seq_num) == (2, 2)
