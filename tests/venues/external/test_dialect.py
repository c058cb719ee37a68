"""dialect: config keys -> overrides, applied to outgoing and incoming messages."""

from __future__ import annotations

from decimal import Decimal
from types import MappingProxyType

import pytest

from fix_engine.codec.message import FixMessage
from fix_engine.config import parse_config
from venues.base import OrderRequest, OrdType, Side, TimeInForce
from venues.external.dialect import STANDARD, Dialect, DialectError
from venues.external.translate import FixVersion, new_order_single, parse_execution_report

TT = "20260102-10:00:00.000"

CFG = """[DEFAULT]
ConnectionType=initiator
NonStopSession=Y
[SESSION]
BeginString=FIX.4.4
SenderCompID=BROKER
TargetCompID=XCHG
SocketConnectHost=127.0.0.1
SocketConnectPort=9999
DialectTagMap=100:207,5000:9000
DialectTimeInForceMap=GTD:X,day:D
DialectOrdTypeMap=STOP_LIMIT:S
DialectNewOrderFields=1:HOUSE,5001:ALGO7
DialectPassThroughTags=5002,5003
DialectOrderMassStatus=Y
DialectOrderMassCancel=N
DialectHandlInst=2
"""


def test_keys_are_read_from_the_session_config() -> None:
    settings = parse_config(CFG, "venue.cfg").sessions[0]
    dialect = Dialect.from_settings(settings.extra)
    assert dialect.tag_map == {100: 207, 5000: 9000}
    assert dialect.tif_map == {TimeInForce.GTD: "X", TimeInForce.DAY: "D"}
    assert dialect.ord_type_map == {OrdType.STOP_LIMIT: "S"}
    assert dialect.new_order_fields == ((1, "HOUSE"), (5001, "ALGO7"))
    assert dialect.pass_through_tags == frozenset({5002, 5003})
    assert dialect.order_mass_status is True
    assert dialect.order_mass_cancel is False
    assert dialect.handl_inst == "2"


def test_defaults() -> None:
    dialect = Dialect.from_settings(MappingProxyType({}))
    assert dialect == STANDARD
    assert (dialect.order_mass_status, dialect.order_mass_cancel, dialect.handl_inst) == (False, True, "1")


def test_new_order_uses_mapped_values_and_constant_fields() -> None:
    dialect = Dialect(
        tif_map={TimeInForce.GTC: "9"}, ord_type_map={OrdType.LIMIT: "L"},
        new_order_fields=((1, "HOUSE"), (5001, "ALGO7"), (38, "IGNORED")), handl_inst="3",
    )
    order = OrderRequest("IBM", "O", "C", Side.BUY, Decimal("10"), OrdType.LIMIT, Decimal("1.5"), tif=TimeInForce.GTC)
    msg = new_order_single(order, "B-1", TT, FixVersion.FIX42, dialect)
    assert [(t, v.decode()) for t, v in msg.iter_flat()] == [
        (35, "D"), (1, "HOUSE"), (11, "B-1"), (21, "3"), (38, "10"), (40, "L"), (44, "1.5"), (54, "1"),
        (55, "IBM"), (59, "9"), (60, TT), (5001, "ALGO7"),
    ]


def test_tag_map_renames_outgoing_and_incoming() -> None:
    dialect = Dialect(tag_map={55: 6055, 100: 207}, pass_through_tags=frozenset({5002}))
    assert dialect.outgoing([(55, "IBM"), (11, "B"), (100, "XNAS")]) == [(11, "B"), (207, "XNAS"), (6055, "IBM")]
    incoming = FixMessage.new("8", (17, "E"), (37, "O"), (39, "0"), (54, "1"), (150, "0"), (6055, "IBM"), (5002, "tier-2"))
    report = parse_execution_report(incoming, FixVersion.FIX44, dialect)
    assert report.symbol == "IBM"
    assert report.custom == {5002: "tier-2"}


def test_incoming_mapped_values_read_back() -> None:
    dialect = Dialect(tif_map={TimeInForce.GTD: "X"}, ord_type_map={OrdType.STOP_LIMIT: "S"})
    report = parse_execution_report(
        FixMessage.new("8", (17, "E"), (37, "O"), (39, "0"), (40, "S"), (54, "1"), (59, "X"), (150, "0")),
        FixVersion.FIX44, dialect,
    )
    assert (report.tif, report.ord_type) == (TimeInForce.GTD, OrdType.STOP_LIMIT)
    assert dialect.tif_from("0") is TimeInForce.DAY


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("DialectTagMap", "100=207", "DialectTagMap: '100=207' is not TAG:VALUE"),
        ("DialectTagMap", "abc:207", "DialectTagMap: 'abc' is not a tag number"),
        ("DialectTimeInForceMap", "SOMEDAY:1", "DialectTimeInForceMap: 'SOMEDAY' is not a TimeInForce"),
        ("DialectOrderMassStatus", "yes", "DialectOrderMassStatus: 'yes' is not Y or N"),
        ("DialectPassThroughTags", "5002,x", "DialectPassThroughTags: 'x' is not a tag number"),
        ("DialectTagMap", "100:207,101:207", "same exchange tag"),
    ],
)
def test_bad_values_name_the_key(key: str, value: str, message: str) -> None:
    with pytest.raises(DialectError, match=message):
        Dialect.from_settings({key: value})
