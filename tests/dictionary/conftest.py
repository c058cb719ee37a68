"""Fixtures for the dictionary tests: the project dictionaries, a small custom one, message builders."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from fix_engine.codec import FixMessage, encode_fields
from fix_engine.dictionary import (
    DataDictionary,
    DictionaryPair,
    load_dictionary_pair,
    load_project_dictionary,
    parse_dictionary_string,
    project_dictionary_path,
)

Fields = Sequence[tuple[int, bytes]]
Build = Callable[..., FixMessage]

HEADER: list[tuple[int, bytes]] = [(34, b"2"), (49, b"CLIENT"), (52, b"20240102-10:11:12.123"), (56, b"GW")]

#: A valid FIX.4.4 NewOrderSingle body.
NOS_BODY: list[tuple[int, bytes]] = [
    (1, b"ACC1"),
    (11, b"ORD-1"),
    (21, b"1"),
    (38, b"100"),
    (40, b"2"),
    (44, b"101.25"),
    (54, b"1"),
    (55, b"AAPL"),
    (59, b"0"),
    (60, b"20240102-10:11:12.123"),
]

#: A small dictionary with what the FIX.4.4 subset lacks: a group with a required non-delimiter
#: member, a nested group with a required member, and custom fields >= 5000.
CUSTOM_XML = """<fix type="FIX" major="4" minor="4" servicepack="0">
 <header>
  <field name="BeginString" required="Y"/>
  <field name="BodyLength" required="Y"/>
  <field name="MsgType" required="Y"/>
  <field name="SenderCompID" required="Y"/>
  <field name="TargetCompID" required="Y"/>
  <field name="MsgSeqNum" required="Y"/>
  <field name="SendingTime" required="Y"/>
 </header>
 <messages>
  <message name="Heartbeat" msgtype="0" msgcat="admin">
   <field name="TestReqID" required="N"/>
  </message>
  <message name="LegOrder" msgtype="U1" msgcat="app">
   <field name="ClOrdID" required="Y"/>
   <component name="LegGrp" required="Y"/>
   <component name="OptionalBits" required="N"/>
   <field name="GatewayRoute" required="N"/>
   <field name="GatewayFlags" required="N"/>
  </message>
 </messages>
 <trailer>
  <field name="CheckSum" required="Y"/>
 </trailer>
 <components>
  <component name="LegGrp">
   <group name="NoLegs" required="Y">
    <field name="LegSymbol" required="N"/>
    <field name="LegSide" required="Y"/>
    <field name="LegQty" required="N"/>
    <group name="NoLegStipulations" required="N">
     <field name="LegStipulationType" required="N"/>
     <field name="LegStipulationValue" required="Y"/>
    </group>
   </group>
  </component>
  <component name="OptionalBits">
   <field name="Text" required="Y"/>
  </component>
 </components>
 <fields>
  <field number="8" name="BeginString" type="STRING"/>
  <field number="9" name="BodyLength" type="LENGTH"/>
  <field number="10" name="CheckSum" type="STRING"/>
  <field number="11" name="ClOrdID" type="STRING"/>
  <field number="34" name="MsgSeqNum" type="SEQNUM"/>
  <field number="35" name="MsgType" type="STRING">
   <value enum="0" description="HEARTBEAT"/>
   <value enum="U1" description="LEG_ORDER"/>
  </field>
  <field number="49" name="SenderCompID" type="STRING"/>
  <field number="52" name="SendingTime" type="UTCTIMESTAMP"/>
  <field number="56" name="TargetCompID" type="STRING"/>
  <field number="58" name="Text" type="STRING"/>
  <field number="112" name="TestReqID" type="STRING"/>
  <field number="555" name="NoLegs" type="NUMINGROUP"/>
  <field number="600" name="LegSymbol" type="STRING"/>
  <field number="624" name="LegSide" type="CHAR">
   <value enum="1" description="BUY"/>
   <value enum="2" description="SELL"/>
  </field>
  <field number="687" name="LegQty" type="QTY"/>
  <field number="683" name="NoLegStipulations" type="NUMINGROUP"/>
  <field number="688" name="LegStipulationType" type="STRING"/>
  <field number="689" name="LegStipulationValue" type="STRING"/>
  <field number="20001" name="GatewayRoute" type="STRING"/>
  <field number="20002" name="GatewayFlags" type="MULTIPLECHARVALUE">
   <value enum="A" description="ALGO"/>
   <value enum="D" description="DMA"/>
  </field>
 </fields>
</fix>
"""


def make_message(
    msg_type: bytes | str,
    body: Fields = (),
    *,
    begin: bytes = b"FIX.4.4",
    header: Fields | None = None,
    data_length_tags: dict[int, int] | None = None,
) -> FixMessage:
    """Encode 8, 35, the header, ``body`` (9 and 10 computed) and parse it back, flat."""
    mt = msg_type.encode() if isinstance(msg_type, str) else msg_type
    fields = [(8, begin), (35, mt), *(HEADER if header is None else header), *body]
    return FixMessage.parse(encode_fields(list(fields)), data_length_tags)


def parse_raw(fields: Fields, data_length_tags: dict[int, int] | None = None) -> FixMessage:
    """Encode exactly ``fields`` (8 first, 9 and 10 computed) and parse them back."""
    return FixMessage.parse(encode_fields(list(fields)), data_length_tags)


@pytest.fixture(scope="session")
def fix44() -> DataDictionary:
    return load_project_dictionary("FIX44")


@pytest.fixture(scope="session")
def fix42() -> DataDictionary:
    return load_project_dictionary("FIX42")


@pytest.fixture(scope="session")
def fixt_pair() -> DictionaryPair:
    return load_dictionary_pair(project_dictionary_path("FIXT11"), [project_dictionary_path("FIX50SP2")], "9")


@pytest.fixture(scope="session")
def custom() -> DataDictionary:
    return parse_dictionary_string(CUSTOM_XML, "custom.xml")


@pytest.fixture
def build() -> Build:
    return make_message


@pytest.fixture
def raw() -> Callable[..., FixMessage]:
    return parse_raw


@pytest.fixture
def nos_body() -> list[tuple[int, bytes]]:
    return list(NOS_BODY)
