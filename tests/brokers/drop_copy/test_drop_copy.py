"""Drop copy: read-only sessions get a copy (797=Y on FIX.4.4+) of every ER of their accounts."""

from __future__ import annotations

import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from twisted.internet import defer
from twisted.trial import unittest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway_external"))

from ext_support import ExternalGatewayHarness, is_er, order, reports, wait_report  # noqa: E402

from brokers.drop_copy import DropCopy, copy_report, refuse_application_message  # noqa: E402
from brokers.gateway_config import gateway_config  # noqa: E402
from fix_engine.codec.message import FixMessage  # noqa: E402
from fix_engine.config import ConfigError, parse_config  # noqa: E402
from fix_engine.session.session_id import SessionID  # noqa: E402

DROP_BLOCKS = """
[SESSION]
BeginString=FIX.4.4
TargetCompID=DROP1
DataDictionary=FIX44.xml
SessionType=DropCopy
Accounts=DEMO1

[SESSION]
BeginString=FIX.4.2
TargetCompID=DROP2
DataDictionary=FIX42.xml
SessionType=DropCopy
Accounts=DEMO1,DEMO2
"""


# ---- pure ---------------------------------------------------------------------------------------


def er(**tags: str) -> FixMessage:
    fields = {1: "DEMO1", 6: "100", 11: "C1", 14: "10", 17: "E1", 37: "O1", 39: "1", 54: "1", 55: "IBM",
              150: "F", 151: "5"}
    fields.update({int(k[1:]): v for k, v in tags.items()})
    return FixMessage.new("8", *sorted(fields.items()))


def test_copy_to_fix44_adds_797_and_keeps_the_body() -> None:
    sent = er()
    sent.set(34, "7").set(49, "FIXGATE").set(56, "CLIENT1")  # header fields the session added
    copy = copy_report(sent, "FIX.4.4", "FIX.4.4")
    assert copy is not None
    assert copy.get(797) == "Y" and copy.get(150) == "F" and copy.get(20) is None
    assert copy.get(34) is None and copy.get(56) is None and copy.get(37) == "O1"


def test_copy_between_fix42_and_fix44_converts_the_dialect() -> None:
    from42 = er(t150="1", t20="0", t103="3")
    copy = copy_report(from42, "FIX.4.2", "FIX.4.4")
    assert copy is not None and (copy.get(150), copy.get(20), copy.get(797)) == ("F", None, "Y")
    to42 = copy_report(er(t39="2", t103="16"), "FIX.4.4", "FIX.4.2")
    assert to42 is not None
    assert (to42.get(150), to42.get(20), to42.get(797), to42.get(103)) == ("2", "0", None, "0")
    assert copy_report(er(t150="I"), "FIX.4.4", "FIX.4.4") is None  # status answers are not copied
    assert copy_report(er(t150="0", t20="3"), "FIX.4.2", "FIX.4.4") is None


def test_fan_out_by_account() -> None:
    sent: list[tuple[str, str]] = []
    d1, d2 = SessionID("FIX.4.4", "FIXGATE", "D1"), SessionID("FIXT.1.1", "FIXGATE", "D2")
    drop = DropCopy({d1: frozenset({"DEMO1"}), d2: frozenset({"*"})},
                    lambda m, sid: sent.append((sid.target_comp_id, m.get(1))))
    src = SessionID("FIX.4.4", "FIXGATE", "CLIENT1")
    assert drop.on_report(er(), src) == 2
    assert drop.on_report(er(t1="DEMO2"), src) == 1
    assert drop.on_report(er(), d1) == 0  # never copy what goes to a drop copy session
    assert sent == [("D1", "DEMO1"), ("D2", "DEMO1"), ("D2", "DEMO2")]


def test_inbound_refusal_is_a_business_reject() -> None:
    d = FixMessage.new("D", (11, "X1"))
    assert (refuse_application_message(d, SessionID("FIX.4.4", "A", "B")).reason,
            refuse_application_message(d, SessionID("FIX.4.2", "A", "B")).reason) == (6, 0)
    assert refuse_application_message(d, SessionID("FIX.4.4", "A", "B")).ref_id == "X1"


def test_config_needs_accounts(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway"))
    from support import gateway_text

    text = gateway_text(tmp_path, 1234) + DROP_BLOCKS
    config = gateway_config(parse_config(text, "g.cfg", base_dir=tmp_path), tmp_path)
    assert {s.target_comp_id: a for s, a in config.drop_copy.items()} == {
        "DROP1": frozenset({"DEMO1"}), "DROP2": frozenset({"DEMO1", "DEMO2"})}
    assert not any(s.target_comp_id.startswith("DROP") for s in config.entitlements)
    with pytest.raises(ConfigError, match="Accounts"):
        gateway_config(parse_config(text.replace("Accounts=DEMO1,DEMO2", ""), "g.cfg", base_dir=tmp_path), tmp_path)
    with pytest.raises(ConfigError, match="SessionType"):
        gateway_config(parse_config(text.replace("SessionType=DropCopy\nAccounts=DEMO1\n", "SessionType=Spy\n"),
                                    "g.cfg", base_dir=tmp_path), tmp_path)


# ---- on the wire --------------------------------------------------------------------------------


@pytest.mark.network
class DropCopyGatewayTest(unittest.TestCase):
    timeout = 60

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fixgate-dropcopy-"))
        self.h = ExternalGatewayHarness(self.tmp, blocks=DROP_BLOCKS)

    async def _teardown(self) -> None:
        await self.h.disconnect_all()
        await self.h.stop_gateway()

    def tearDown(self) -> defer.Deferred:
        return defer.ensureDeferred(self._teardown())

    async def test_copies_of_every_report_for_the_entitled_accounts(self) -> None:
        await self.h.start_gateway()
        drop44 = await self.h.connect("DROP1", "FIX.4.4")
        drop42 = await self.h.connect("DROP2", "FIX.4.2")
        c1 = await self.h.connect("CLIENT1", "FIX.4.4")
        c2 = await self.h.connect("CLIENT2", "FIX.4.2")
        self.h.send(c1, order("B1", "1", "300", "100.05"))
        await wait_report(c1, is_er("B1", "0", "0"))
        self.h.send(c2, order("S1", "2", "100", "100.00"))
        await wait_report(c2, lambda m: m.get(11) == "S1" and m.get(39) == "2")
        await wait_report(c1, is_er("B1", "F", "1"))
        self.h.send(c1, FixMessage.new("H", (11, "B1"), (54, "1"), (55, "IBM")))  # status: not copied
        await wait_report(c1, lambda m: m.get(150) == "I")
        self.h.send(c1, FixMessage.new("F", (11, "B1-C"), (41, "B1"), (54, "1"), (55, "IBM"),
                                       (60, "20260101-10:00:00.000")))
        await wait_report(c1, is_er("B1-C", "4", "4"))
        # DROP1 (FIX.4.4, DEMO1): B1 new, fill, cancel -- all 797=Y, FIX.4.4 ExecTypes
        await wait_report(drop44, lambda m: m.get(11) == "B1-C" and m.get(150) == "4")
        copies = reports(drop44)
        self.assertEqual([(m.get(11), m.get(150), m.get(39), m.get(797)) for m in copies],
                         [("B1", "0", "0", "Y"), ("B1", "F", "1", "Y"), ("B1-C", "4", "4", "Y")])
        originals = [m for m in reports(c1) if m.get(150) != "I"]
        for original, copy in zip(originals, copies, strict=True):
            for tag in (1, 6, 11, 14, 17, 31, 32, 37, 38, 39, 41, 44, 54, 55, 151):
                self.assertEqual(copy.get(tag), original.get(tag), tag)
        # DROP2 (FIX.4.2, DEMO1 + DEMO2): both sides, FIX.4.2 dialect, no 797
        await wait_report(drop42, lambda m: m.get(11) == "B1-C" and m.get(150) == "4")
        seen = [(m.get(1), m.get(11), m.get(150), m.get(20), m.get(797)) for m in reports(drop42)]
        self.assertEqual(sorted(seen), sorted([
            ("DEMO1", "B1", "0", "0", None), ("DEMO2", "S1", "0", "0", None), ("DEMO2", "S1", "2", "0", None), ("DEMO1", "B1", "1", "0", None),
            ("DEMO1", "B1-C", "4", "0", None)]))
        self.assertEqual(self.h.gateway.application.drop_copy.copies_sent, 8)
        self.assertEqual(len(reports(drop44, "3")) + len(reports(drop42, "3")), 0)
        self.assertEqual([m.get(31) for m in reports(drop42) if m.get(11) == "S1"], [None, "100.05"])
        self.assertEqual(Decimal(reports(drop44)[1].get(32)), Decimal(100))

    async def test_application_messages_from_a_drop_copy_session_are_refused(self) -> None:
        await self.h.start_gateway()
        drop44 = await self.h.connect("DROP1", "FIX.4.4")
        drop42 = await self.h.connect("DROP2", "FIX.4.2")
        self.h.send(drop44, order("X1", "1", "10", "100.00", account="DEMO1"))
        self.h.send(drop42, order("X2", "1", "10", "100.00", account="DEMO1"))
        self.h.send(drop44, FixMessage.new("F", (11, "X3"), (41, "X1"), (54, "1"), (55, "IBM"),
                                           (60, "20260101-10:00:00.000")))
        j44 = (await wait_report(drop44, lambda m: m.msg_type == "j" and m.get(379) == "X1")).message
        self.assertEqual((j44.get(372), j44.get(380)), ("D", "6"))
        self.assertIn("read-only", j44.get(58))
        j42 = (await wait_report(drop42, lambda m: m.msg_type == "j")).message
        self.assertEqual((j42.get(372), j42.get(380), j42.get(379)), ("D", "0", "X2"))
        cxl = (await wait_report(drop44, lambda m: m.msg_type == "j" and m.get(379) == "X3")).message
        self.assertEqual(cxl.get(372), "F")
        self.assertEqual(len(self.h.gateway.application.store), 0)  # nothing was ordered
        self.assertEqual(reports(drop44), [])
