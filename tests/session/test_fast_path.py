"""The logged-on fast path of ``Session.on_frame`` against the general path: for every message
below (clean, and with each defect the general path checks), a session with the fast path and
one without it produce the same actions, deliver the same messages and end in the same state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fix_engine.session.actions import Disconnect, Event, Send
from fix_engine.session.session import Session
from fix_engine.transport.validation_wiring import validation_for

from .conftest import Harness, make_settings

ORDER = ((11, "ORD1"), (21, "1"), (38, "100"), (40, "2"), (44, "10.5"), (54, "1"), (55, "IBM"),
         (60, "20231114-22:13:20.000"))


def order(*drop: int, extra: tuple[tuple[int, Any], ...] = ()) -> tuple[tuple[int, Any], ...]:
    return tuple(f for f in ORDER if f[0] not in drop) + extra


#: name -> (msg_type, body, build keyword arguments)
CASES: dict[str, tuple[str, tuple[tuple[int, Any], ...], dict[str, Any]]] = {
    "clean": ("D", order(), {}),
    "seq too high": ("D", order(), {"seq": 9}),
    "seq too low": ("D", order(), {"seq": 1}),
    "seq with a leading zero": ("D", order(), {"seq": "02"}),
    "poss dup without OrigSendingTime": ("D", order(), {"poss_dup": True}),
    "poss dup, already received": ("D", order(), {"poss_dup": True, "seq": 1, "orig_sending_time": b"20231114-22:13:19"}),
    "wrong SenderCompID": ("D", order(), {"sender": "OTHER"}),
    "wrong TargetCompID": ("D", order(), {"target": "OTHER"}),
    "wrong BeginString": ("D", order(), {"begin": "FIX.4.2"}),
    "SendingTime too old": ("D", order(), {"sending_time": b"20231114-20:00:00.000"}),
    "SendingTime unreadable": ("D", order(), {"sending_time": b"20231114-2x:00:00"}),
    "no SendingTime": ("D", order(), {"omit": (52,)}),
    "no SenderCompID": ("D", order(), {"omit": (49,)}),
    "required field missing": ("D", order(55), {}),
    "undefined tag": ("D", order(extra=((9999, "x"),)), {}),
    "bad enum value": ("D", order(54, extra=((54, "Z"),)), {}),
    "unknown MsgType": ("ZZ", order(), {}),
    "unsupported MsgType": ("8", ((37, "O"), (17, "E"), (150, "0"), (39, "0"), (55, "IBM"), (54, "1"),
                                 (151, "0"), (14, "0"), (6, "0")), {}),
}


def _make(fast: bool, validated: bool) -> Harness:
    settings = make_settings("acceptor", "FIX.4.4", use_data_dictionary=validated, data_dictionary="FIX44.xml")
    validation = validation_for(settings)
    h = Harness(settings, validator=validation.validator, is_known_msg_type=validation.is_known_msg_type)
    if not fast:
        h.session._fast_inbound = lambda message, now, out: False  # type: ignore[method-assign]
    h.app.from_app_hook = lambda message: None if message.get(35) == "D" else _unsupported()
    h.connect()
    h.logon()
    return h


def _unsupported() -> None:
    from fix_engine.application import UnsupportedMessageType

    raise UnsupportedMessageType()


def _summary(h: Harness, step_actions: list[object]) -> list[object]:
    out: list[object] = []
    for action in step_actions:
        if isinstance(action, Send):
            out.append(("send", action.data))
        elif isinstance(action, Disconnect):
            out.append(("disconnect", action.reason))
        elif isinstance(action, Event):
            out.append(("event", action.text))
    return out


@pytest.mark.parametrize("validated", [True, False], ids=["dictionary", "no-dictionary"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_fast_and_general_paths_agree(case: str, validated: bool) -> None:
    msg_type, body, kw = CASES[case]
    runs = []
    for fast in (True, False):
        h = _make(fast, validated)
        first = h.feed("D", *order())  # a clean order first: the type becomes fast-path eligible
        second = h.feed(msg_type, *body, **kw)
        third = h.feed("D", *order(), seq=kw.get("seq") if isinstance(kw.get("seq"), int) and kw["seq"] > 3 else None)
        runs.append((
            [_summary(h, s.actions) for s in (first, second, third)],
            h.app.received_ids(),
            h.session.state,
            h.session.next_sender_seq_num,
            h.session.next_target_seq_num,
        ))
    assert runs[0] == runs[1]


def test_the_fast_path_takes_the_clean_message(monkeypatch: pytest.MonkeyPatch) -> None:
    h = _make(True, True)
    taken: list[bool] = []
    real: Callable[..., bool] = h.session._fast_inbound

    def spy(*args: Any) -> bool:
        taken.append(real(*args))
        return taken[-1]

    monkeypatch.setattr(h.session, "_fast_inbound", spy)
    h.feed("D", *order())
    h.feed("D", *order())
    h.feed("D", *order(), seq=99)
    # the first order of a type takes the general path (which makes the type eligible)
    assert taken == [False, True, False]
    assert isinstance(h.session, Session)


def _field_error(kind: str) -> Callable[[Any], None]:
    from fix_engine.application import IncorrectTagValue

    def hook(message: Any) -> None:
        if message.get(11) != "BAD":
            return None
        if kind == "FieldNotFound":
            message.get_int(9999)
        elif kind == "FieldValueError":
            message.get_int(55)
        else:
            raise IncorrectTagValue(54)
        return None

    return hook


@pytest.mark.parametrize("validated", [True, False], ids=["dictionary", "no-dictionary"])
@pytest.mark.parametrize("kind", ["FieldNotFound", "FieldValueError", "IncorrectTagValue"])
def test_field_errors_from_from_app_agree_on_both_paths(
    kind: str, validated: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """from_app raising a field error: the same Reject / BusinessMessageReject, the number consumed
    and the session kept, whether the message took the fast path or the general one."""
    runs = []
    for fast in (True, False):
        h = _make(fast, validated)
        h.app.from_app_hook = _field_error(kind)
        taken: list[bool] = []
        real: Callable[..., bool] = h.session._fast_inbound

        def spy(*args: Any, real: Callable[..., bool] = real, taken: list[bool] = taken) -> bool:
            taken.append(real(*args))
            return taken[-1]

        monkeypatch.setattr(h.session, "_fast_inbound", spy)
        steps = [h.feed("D", *order()), h.feed("D", *order(11, extra=((11, "BAD"),))), h.feed("D", *order())]
        assert taken[1:] == ([True, True] if fast else [False, False])  # the bad order took the fast path
        assert steps[1].types == (["j"] if kind == "FieldNotFound" else ["3"])
        runs.append((
            [_summary(h, s.actions) for s in steps],
            h.app.received_ids(),
            h.session.state,
            h.session.next_sender_seq_num,
            h.session.next_target_seq_num,
        ))
    assert runs[0] == runs[1]
    assert runs[0][4] == 5  # logon, three orders: all consumed
