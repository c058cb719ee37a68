"""The reflector's echo: the message as QuickFIX's acceptance-test server sends it back."""

from __future__ import annotations

from fix_engine.reflector import NOT_ECHOED, canonical_body


def test_body_ascending_with_groups_as_blocks() -> None:
    groups = {386: frozenset({336, 625}), 78: frozenset({79, 80})}
    body = [
        (386, b"2"), (336, b"A"), (625, b"1"), (336, b"B"),
        (55, b"IBM"), (11, b"X"), (78, b"1"), (79, b"ACC"), (80, b"5"), (21, b"1"),
    ]
    assert canonical_body(body, groups) == [
        (11, b"X"), (21, b"1"), (55, b"IBM"),
        (78, b"1"), (79, b"ACC"), (80, b"5"),
        (386, b"2"), (336, b"A"), (625, b"1"), (336, b"B"),
    ]


def test_empty_group_and_unknown_groups() -> None:
    assert canonical_body([(386, b"0"), (11, b"X")], {386: frozenset({336})}) == [(11, b"X"), (386, b"0")]
    # without a dictionary: sorted field by field, unless a group may be torn apart
    assert canonical_body([(55, b"A"), (11, b"X")], None) == [(11, b"X"), (55, b"A")]
    flat = [(386, b"1"), (336, b"A"), (11, b"X")]
    assert canonical_body(flat, None) == flat


def test_session_owned_and_resend_fields_are_not_echoed() -> None:
    assert {8, 9, 10, 34, 35, 43, 49, 52, 56, 122} <= NOT_ECHOED
    assert 97 not in NOT_ECHOED  # PossResend goes back, as from QuickFIX's at server
