"""``fixgate decode`` through click's CliRunner: delimiters, log prefixes, groups, JSON, bad input."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from fix_engine.codec import FixMessage, encode
from fix_engine.codec.cli import decode

NOS = FixMessage.new(
    "D", (8, "FIX.4.4"), (49, "CLIENT"), (56, "GATE"), (34, 2), (52, "20261122-10:00:00.000"),
    (11, "ORD1"), (55, "AAPL"), (54, "1"), (38, 100), (40, "2"), (44, "10.5"),
)
NOS.add_group(453, [[(448, "P1"), (447, "D"), (452, 1)], [(448, "P2"), (447, "D"), (452, 3)]])
WIRE = encode(NOS)
PIPED = WIRE.replace(b"\x01", b"|")


def run(data: bytes, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(decode, list(args), input=data)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_soh_message_from_stdin_with_names_enums_and_groups() -> None:
    code, out, err = run(WIRE + b"\n")
    assert code == 0, err
    assert "--- line 1: FIX.4.4 NewOrderSingle" in out
    assert "35 MsgType = D (NEW_ORDER_SINGLE)" in out
    assert "54 Side = 1 (BUY)" in out
    assert "453 NoPartyIDs = 2" in out
    assert "\n    448 PartyID = P2\n" in out  # group entries indented under the count


def test_pipe_delimited_with_timestamp_and_quickfix_prefixes(tmp_path: Path) -> None:
    log = tmp_path / "session.log"
    log.write_bytes(
        b"20261122-10:00:00.000: " + PIPED + b"\n"
        + b"some event line without a message\n"
        + b"20261122-10:00:01.000 : " + WIRE + b"\r\n"
        + PIPED.replace(b"|", b"^A") + b"\n"
    )
    result = CliRunner().invoke(decode, [str(log)])
    assert result.exit_code == 0, result.stderr
    assert [line for line in result.stdout.splitlines() if line.startswith("---")] == [
        "--- line 1: FIX.4.4 NewOrderSingle",
        "--- line 3: FIX.4.4 NewOrderSingle",
        "--- line 4: FIX.4.4 NewOrderSingle",
    ]


def test_two_messages_on_one_line() -> None:
    hb = encode(FixMessage.new("0", (8, "FIX.4.4"), (34, 3)))
    code, out, _ = run(WIRE + hb)
    assert code == 0
    assert out.count("--- line 1:") == 2
    assert "--- line 1: FIX.4.4 Heartbeat" in out


def test_json_output() -> None:
    code, out, _ = run(PIPED + b"\n", "--json")
    assert code == 0
    (obj,) = [json.loads(line) for line in out.splitlines()]
    assert obj["line"] == 1 and obj["msg_type"] == "D" and obj["msg_name"] == "NewOrderSingle"
    assert obj["errors"] == []
    by_tag = {f["tag"]: f for f in obj["fields"]}
    assert by_tag[35] == {"tag": 35, "name": "MsgType", "value": "D", "meaning": "NEW_ORDER_SINGLE"}
    parties = by_tag[453]["groups"]
    assert [[f["value"] for f in entry] for entry in parties] == [["P1", "D", "1"], ["P2", "D", "3"]]
    assert parties[1][2]["meaning"] == "CLIENT_ID"


def test_bad_messages_are_reported_with_line_numbers_and_exit_1() -> None:
    wrong_checksum = PIPED[:-4] + b"000|"
    wrong_length = PIPED.replace(b"|9=", b"|9=1", 1)
    truncated = PIPED[:40]
    unparseable = b"8=FIX.4.4|9=5|35=0|garbage|10=000|"
    code, out, err = run(b"\n".join([PIPED, wrong_checksum, wrong_length, truncated, unparseable]) + b"\n")
    assert code == 1
    assert "Traceback" not in out + err
    assert "line 2: CheckSum is 000, expected" in err
    assert "line 3: BodyLength is 1" in err
    assert "line 4: truncated message: no CheckSum (10) field" in err
    assert "line 5: malformed message:" in err
    assert "4 of 5 messages malformed" in err
    assert "--- line 2: FIX.4.4 NewOrderSingle (MALFORMED)" in out  # still decoded
    assert "--- line 5: not decoded: 8=FIX.4.4|9=5|35=0|garbage|10=000|" in out


def test_json_reports_errors_too() -> None:
    code, out, _ = run(PIPED[:40] + b"\n", "--json")
    assert code == 1
    assert json.loads(out)["errors"] == ["truncated message: no CheckSum (10) field"]


def test_explicit_dictionary_and_bad_dictionary(tmp_path: Path) -> None:
    xml = tmp_path / "tiny.xml"
    xml.write_text(
        '<fix type="FIX" major="4" minor="4" servicepack="0"><header><field name="BeginString" required="Y"/></header>'
        '<trailer><field name="CheckSum" required="Y"/></trailer><messages/><components/><fields>'
        '<field number="8" name="BeginString" type="STRING"/><field number="10" name="CheckSum" type="STRING"/>'
        '<field number="55" name="Ticker" type="STRING"/></fields></fix>'
    )
    code, out, err = run(WIRE, "--dict", str(xml))
    assert code == 0, err
    assert "55 Ticker = AAPL" in out
    assert "35 MsgType = D (NEW_ORDER_SINGLE)" in out  # not in the tiny dictionary: built-in table
    broken = tmp_path / "broken.xml"
    broken.write_text("<fix>")
    code, _, err = run(WIRE, "--dict", str(broken))
    assert code == 1 and "cannot load dictionary" in err and "Traceback" not in err


def test_unknown_begin_string_degrades_to_builtin_names() -> None:
    m = encode(FixMessage.new("D", (8, "FIX.9.9"), (55, "X"), (5001, "custom")))
    code, out, err = run(m)
    assert code == 0
    assert "55 Symbol = X" in out and "5001 = custom" in out
    assert "built-in field names only" in err


def test_no_messages() -> None:
    code, out, err = run(b"nothing here\n")
    assert code == 0 and out == "" and "no FIX messages found" in err


def test_mounted_as_fixgate_decode() -> None:
    from brokers.cli import main

    result = CliRunner().invoke(main, ["decode", "--help"])
    assert result.exit_code == 0 and "--json" in result.output
