"""Field errors raised by ``from_app`` / ``from_admin`` are answered as QuickFIX's ``Session::next``
answers them, and the session stays up:

* ``FieldNotFound`` -> BusinessMessageReject 380=5 for a FIX.4.2+ application message, session
  Reject 373=1 (with RefTagID) for admin messages and on FIX.4.0/4.1;
* ``FieldValueError`` (QuickFIX's IncorrectDataFormat from a getter) -> Reject 373=6;
* ``IncorrectTagValue`` -> Reject 373=5;
* on a Logon, any of them refuses the logon (disconnect).

The rejected message's number is consumed in every case (it counts as received)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fix_engine import application
from fix_engine.application import FieldNotFound, FieldValueError, IncorrectDataFormat, IncorrectTagValue
from fix_engine.codec import errors as codec_errors
from fix_engine.codec.message import FixMessage
from fix_engine.session.state import SessionState

ORDER = ((11, "1"), (21, "1"), (38, "100"), (40, "1"), (54, "1"), (55, "IBM"), (60, "20231114-22:13:20.000"))


def missing_tag(message: FixMessage) -> None:
    message.get_int(9999)  # not in the message: the codec raises FieldNotFound(9999)


def bad_value(message: FixMessage) -> None:
    message.get_int(55)  # "IBM" is not an int: the codec raises FieldValueError(55, ...)


def incorrect_value(message: FixMessage) -> None:
    raise IncorrectTagValue(54)


def on_orders(error: Callable[[FixMessage], None]) -> Callable[[FixMessage], None]:
    """A from_app hook that fails on the order with ClOrdID "BAD" only."""

    def hook(message: FixMessage) -> None:
        if message.get(11) == "BAD":
            error(message)

    return hook


def bad_order() -> tuple[tuple[int, str], ...]:
    return tuple((tag, "BAD" if tag == 11 else value) for tag, value in ORDER)


def assert_session_kept(h, step) -> None:
    assert step.disconnect is None
    assert h.session.state is SessionState.ACTIVE
    assert h.session.next_target_seq_num == 3  # the rejected message (2) counted as received
    nxt = h.feed("D", *ORDER)  # the session goes on: the next message is delivered
    assert nxt.messages == [] and nxt.disconnect is None
    assert h.app.received_ids().count("1") == 1
    assert h.session.next_target_seq_num == 4


# ----------------------------------------------------------------- FIX.4.2+: BMR / Reject with 373


@pytest.mark.parametrize("begin", ["FIX.4.2", "FIX.4.4", "FIXT.1.1"])
def test_field_not_found_in_from_app_is_a_business_reject_380_5(make_harness, begin):
    h = make_harness(begin=begin, logged_on=True)
    h.app.from_app_hook = on_orders(missing_tag)
    step = h.feed("D", *bad_order())
    bmr = step.only("j")
    assert (bmr.get(45), bmr.get(372), bmr.get(380), bmr.get(58)) == (
        "2",
        "D",
        "5",
        "Conditionally Required Field Missing (9999)",
    )
    assert 371 not in bmr and 373 not in bmr
    assert any("Message 2 Rejected" in e for e in step.events), step.events
    assert_session_kept(h, step)


def test_field_value_error_in_from_app_is_a_reject_373_6(make_harness):
    h = make_harness(logged_on=True)
    h.app.from_app_hook = on_orders(bad_value)
    step = h.feed("D", *bad_order())
    reject = step.only("3")
    assert (reject.get(45), reject.get(372), reject.get(373), reject.get(371), reject.get(58)) == (
        "2",
        "D",
        "6",
        "55",
        "Incorrect data format for value",
    )
    assert_session_kept(h, step)


def test_incorrect_tag_value_in_from_app_is_a_reject_373_5(make_harness):
    h = make_harness(logged_on=True)
    h.app.from_app_hook = on_orders(incorrect_value)
    step = h.feed("D", *bad_order())
    reject = step.only("3")
    assert (reject.get(45), reject.get(372), reject.get(373), reject.get(371), reject.get(58)) == (
        "2",
        "D",
        "5",
        "54",
        "Value is incorrect (out of range) for this tag",
    )
    assert_session_kept(h, step)


def test_field_not_found_raised_deliberately_by_the_application(make_harness):
    h = make_harness(logged_on=True)

    def require_account(message: FixMessage) -> None:
        if message.get(11) == "BAD" and 1 not in message:
            raise FieldNotFound(1)  # QuickFIX apps throw FieldNotFound themselves

    h.app.from_app_hook = require_account
    bmr = h.feed("D", *bad_order()).only("j")
    assert (bmr.get(380), bmr.get(58)) == ("5", "Conditionally Required Field Missing (1)")


@pytest.mark.parametrize(
    ("error", "reason", "tag"),
    [(missing_tag, "1", "9999"), (bad_value, "6", "55"), (incorrect_value, "5", "54")],
    ids=["FieldNotFound", "FieldValueError", "IncorrectTagValue"],
)
def test_field_errors_in_from_admin_are_session_rejects(make_harness, error, reason, tag):
    """Admin messages never get a BusinessMessageReject: FieldNotFound there is 373=1."""
    h = make_harness(logged_on=True)

    def hook(message: FixMessage) -> None:
        if message.get(35) == "1":
            message.set(55, "IBM")  # something for bad_value to trip on
            error(message)

    h.app.from_admin_hook = hook
    step = h.feed("1", (112, "PING"))
    reject = step.only("3")  # and no Heartbeat answer: the TestRequest was rejected
    assert (reject.get(45), reject.get(372), reject.get(373), reject.get(371)) == ("2", "1", reason, tag)
    assert step.types == ["3"]
    assert step.disconnect is None
    assert h.session.next_target_seq_num == 3
    assert h.session.state is SessionState.ACTIVE


# ----------------------------------------------------------------- FIX.4.0 / 4.1: Reject, tag in Text


@pytest.mark.parametrize("begin", ["FIX.4.0", "FIX.4.1"])
@pytest.mark.parametrize(
    ("error", "text"),
    [
        (missing_tag, "Required tag missing (9999)"),
        (bad_value, "Incorrect data format for value (55)"),
        (incorrect_value, "Value is incorrect (out of range) for this tag (54)"),
    ],
    ids=["FieldNotFound", "FieldValueError", "IncorrectTagValue"],
)
def test_field_errors_before_fix42_are_session_rejects(make_harness, begin, error, text):
    h = make_harness(begin=begin, logged_on=True)
    h.app.from_app_hook = on_orders(error)
    step = h.feed("D", *bad_order())
    reject = step.only("3")
    assert (reject.get(45), reject.get(58)) == ("2", text)
    for absent in (371, 372, 373, 380):  # FIX.4.0/4.1 have none of these
        assert absent not in reject
    assert_session_kept(h, step)


# ----------------------------------------------------------------- Logon and Logout


@pytest.mark.parametrize(
    ("error", "event"),
    [
        (missing_tag, "Required field missing from logon (9999)"),
        (bad_value, "Incorrect data format for value in logon (55)"),
        (incorrect_value, "Logon refused by the application"),
    ],
    ids=["FieldNotFound", "FieldValueError", "IncorrectTagValue"],
)
def test_field_errors_on_a_logon_disconnect(make_harness, error, event):
    h = make_harness()
    h.connect()

    def hook(message: FixMessage) -> None:
        if message.get(35) == "A":
            message.set(55, "IBM")
            error(message)

    h.app.from_admin_hook = hook
    step = h.logon()
    assert step.messages == []  # before the logon exchange completes nothing is rejected
    assert step.disconnect is not None
    assert any(event in e for e in step.events), step.events
    assert h.session.state is SessionState.DISCONNECTED
    assert "on_logon" not in h.app.names()


def test_field_error_on_a_mid_session_reset_logon_logs_out_and_disconnects(make_harness):
    h = make_harness(logged_on=True)
    h.app.from_admin_hook = lambda message: missing_tag(message) if message.get(35) == "A" else None
    step = h.logon((141, "Y"), seq=1)
    logout = step.only("5")
    assert logout.get(58) == "Required field missing from logon (9999)"
    assert step.disconnect is not None
    assert h.session.state is SessionState.DISCONNECTED


def test_field_error_on_a_logout_does_not_stop_the_logout(make_harness):
    h = make_harness(logged_on=True)
    h.app.from_admin_hook = lambda message: missing_tag(message) if message.get(35) == "5" else None
    step = h.feed("5")
    assert step.types == ["5"]  # the Logout is answered, not rejected
    assert step.disconnect is not None
    assert any("Application error on Logout ignored" in e for e in step.events), step.events


# ----------------------------------------------------------------- the exported names


def test_the_application_module_exports_quickfix_names() -> None:
    assert application.FieldNotFound is codec_errors.FieldNotFound
    assert application.FieldValueError is codec_errors.FieldValueError
    assert issubclass(IncorrectDataFormat, application.SessionRejectError)
    assert issubclass(IncorrectTagValue, application.SessionRejectError)
    assert isinstance(FieldValueError(38, b"x", "Qty"), codec_errors.FixError)
    for name in ("FieldNotFound", "IncorrectDataFormat", "IncorrectTagValue"):
        assert name in application.__all__
