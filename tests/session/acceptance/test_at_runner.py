"""The acceptance runner itself: parsing, the bytes it sends, how it compares, and that it fails."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from at_runner import (  # noqa: E402
    SOH,
    ATFailure,
    ATRunner,
    DefinitionError,
    build_outgoing,
    checksum,
    compare,
    frame_problem,
    parse_definition,
    reflector_sessions,
    utc_epoch,
)

NOW = utc_epoch("20240102-03:04:05")
LOGON = "8=FIX.4.4|35=A|34=1|49=TW|52=<TIME>|56=ISLD|98=0|108=30"
LOGON_ANSWER = "8=FIX.4.4|35=A|34=1|49=ISLD|52=00000000-00:00:00.000|56=TW|98=0|108=30"


def test_parse_steps_and_separators() -> None:
    steps = parse_definition(
        "# comment\n\niCONNECT\nI8=FIX.4.4^A35=0\x0134=2|49=TW\nE2,8=FIX.4.4|35=0\ni2,CONNECT\ne2,DISCONNECT\n"
        "iDISCONNECT\n"
    )
    assert [(s.action, s.connection) for s in steps] == [
        ("connect", 1), ("send", 1), ("expect", 2), ("connect", 2), ("expect_disconnect", 2), ("disconnect", 1),
    ]
    assert steps[1].text == SOH.join(["8=FIX.4.4", "35=0", "34=2", "49=TW"])
    assert (steps[0].line, steps[1].line) == (3, 4)


@pytest.mark.parametrize("line", ["xCONNECT", "iJUMP", "eHELLO", "I35=0|8=FIX.4.4"])
def test_bad_lines_are_refused(line: str) -> None:
    with pytest.raises(DefinitionError):
        parse_definition(line)


def test_outgoing_gets_time_body_length_and_checksum() -> None:
    data = build_outgoing(SOH.join(["8=FIX.4.4", "35=0", "52=<TIME>", "122=<TIME-60>"]), NOW)
    body = b"35=0\x0152=20240102-03:04:05\x01122=20240102-03:03:05\x01"
    head = b"8=FIX.4.4\x019=%d\x01" % len(body)
    assert data == head + body + b"10=%03d\x01" % checksum(head + body)
    assert frame_problem(data) is None


def test_outgoing_keeps_given_length_and_checksum() -> None:
    data = build_outgoing(SOH.join(["8=FIX.4.4", "9=5", "35=0", "10=123"]), NOW)
    assert data == b"8=FIX.4.4\x019=5\x0135=0\x0110=123\x01"
    assert frame_problem(data) is not None
    wrong = build_outgoing(SOH.join(["8=FIX.4.4", "35=0", "10=<WRONG>"]), NOW)
    right = build_outgoing(SOH.join(["8=FIX.4.4", "35=0"]), NOW)
    assert wrong[:-4] == right[:-4] and wrong != right


def test_compare_ignores_length_checksum_and_times_but_not_order_or_values() -> None:
    actual = build_outgoing(SOH.join(["8=FIX.4.4", "35=3", "52=20240102-03:04:05.123", "122=20240102-03:04:00", "45=2"]), NOW)
    assert compare(SOH.join(["8=FIX.4.4", "9=1", "35=3", "52=x", "122=00000000-00:00:00", "45=2", "10=0"]), actual) is None
    assert compare(SOH.join(["8=FIX.4.4", "35=3", "52=x", "122=<TIME>", "45=2"]), actual) is None
    assert "45: expected '3'" in (compare(SOH.join(["8=FIX.4.4", "35=3", "52=x", "122=<TIME>", "45=3"]), actual) or "")
    assert "missing field 58" in (compare(SOH.join(["8=FIX.4.4", "35=3", "52=x", "122=<TIME>", "45=2", "58=a"]), actual) or "")
    assert "unexpected field 45" in (compare(SOH.join(["8=FIX.4.4", "35=3", "52=x", "122=<TIME>"]), actual) or "")
    assert "expected 45=2, got 122" in (compare(SOH.join(["8=FIX.4.4", "35=3", "52=x", "45=2", "122=<TIME>"]), actual) or "")


def test_the_server_is_the_shipped_reflector_with_tw_for_every_version() -> None:
    sessions = reflector_sessions()
    names = {(s.session_id.begin_string, s.session_id.target_comp_id) for s in sessions}
    for begin in ("FIX.4.0", "FIX.4.1", "FIX.4.2", "FIX.4.3", "FIX.4.4", "FIXT.1.1"):
        assert (begin, "TW") in names
    assert all(s.session_id.sender_comp_id == "ISLD" and s.reset_on_logon for s in sessions)
    assert all(s.socket_accept_port == 0 for s in sessions)


def run(text: str) -> None:
    runner = ATRunner()
    try:
        runner.run(parse_definition(text))
    finally:
        runner.close()


def test_a_matching_script_passes() -> None:
    run(f"iCONNECT\nI{LOGON}\nE{LOGON_ANSWER}\n")


def test_a_wrong_expectation_fails_with_a_transcript() -> None:
    with pytest.raises(ATFailure) as caught:
        run(f"iCONNECT\nI{LOGON}\nE{LOGON_ANSWER.replace('108=30', '108=31')}\n")
    assert "108: expected '31', got '30'" in str(caught.value)
    assert "--- transcript ---" in str(caught.value)


def test_an_unexpected_message_fails() -> None:
    with pytest.raises(ATFailure, match="unexpected messages"):
        run(f"iCONNECT\nI{LOGON}\n")


def test_an_expected_disconnect_that_does_not_come_fails() -> None:
    with pytest.raises(ATFailure, match="eDISCONNECT|expect_disconnect|sent a message instead|not within"):
        run(f"iCONNECT\nI{LOGON}\nE{LOGON_ANSWER}\neDISCONNECT\n")


def test_an_expected_message_after_a_disconnect_fails() -> None:
    with pytest.raises(ATFailure, match="disconnected instead"):
        run("iCONNECT\nI8=FIX.4.4|35=0|34=1|49=TW|52=<TIME>|56=ISLD\nE8=FIX.4.4|35=0\n")
