"""Hypothesis strategies for hostile FIX *application* messages, and the checks of their answers.

Shared by the property tests of the gateway's client application
(``tests/brokers/gateway/test_hostile_app_messages.py``) and of the venue's FIX front
(``tests/venues/fix/test_hostile_app_messages.py``).

A message is built flat, as the session hands a parsed message to ``from_app`` when it does not
validate (``UseDataDictionary=N``): ``(tag, bytes)`` pairs in the order given, repeating groups as
their count field followed by the entries' fields (the count may be wrong).  Each message starts
valid and coherent, then up to three of its fields are made hostile (empty, absurd numbers,
non-FIX numbers, unknown enum values, bad timestamps, 10k characters, latin-1 bytes) or removed;
:func:`sequences` points most cancels, replaces and status requests at an order sent earlier, and
:func:`numeric_orders` puts numbers of any size and precision into otherwise valid orders.  Values
never contain SOH (a parsed field cannot).

Answers: the session turns the typed errors of :mod:`fix_engine.application` (and the codec's
``FieldNotFound`` / ``FieldValueError``) into a Reject or BusinessMessageReject
(``ANSWERED_BY_SESSION``); every other exception escaping ``from_app`` is a bug.
:func:`check_answer` checks that what the application sent for one message is the answer that
message type needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from hypothesis import strategies as st

from fix_engine.application import BusinessReject, SessionRejectError, UnsupportedMessageType
from fix_engine.codec.encoding import encode
from fix_engine.codec.errors import FieldNotFound, FieldValueError
from fix_engine.codec.message import FixMessage

__all__ = [
    "ANSWERED_BY_SESSION",
    "BEGIN_STRINGS",
    "Inbound",
    "check_answer",
    "check_encodable",
    "messages",
    "numeric_orders",
    "sequences",
    "same_text",
]

#: exceptions from ``from_app`` that the session answers (Reject 35=3 / BusinessMessageReject 35=j)
ANSWERED_BY_SESSION = (SessionRejectError, BusinessReject, UnsupportedMessageType, FieldNotFound, FieldValueError)
BEGIN_STRINGS = ("FIX.4.2", "FIX.4.4", "FIXT.1.1")

LONG = "L" * 10_000
LATIN = "\xe9t\xe9\xff"  # latin-1 bytes that are not UTF-8

HOSTILE_NUMBERS = [
    "", "1e30", "999999999999999999999", "0", "-5", "-0", "NaN", "Infinity", "-Infinity", "1e5", "0x10",
    " 5", "5 ", "5.", ".5", ".", "-", "100.001", "1.00000000000000000000000000001", "9" * 40,
    "1" + "0" * 30 + ".5", "0.000000001", "1E+999999", "12abc", LATIN, "9" * 5000,
]
HOSTILE_STRINGS = ["", " ", LONG, LATIN, "NONE"]
BAD_TIMESTAMPS = [
    "", "2026-01-01", "20261301-00:00:00", "20260230-10:00:00", "99999999-99:99:99", "now",
    "20260101-25:00:00.000", "00000000-00:00:00", "20260101-10:00:00.0000000000", "1" * 40,
]
GOOD_TIMESTAMPS = ["20260101-10:00:00.000", "20260101-10:00:00"]
FUTURE = ["20400101-00:00:00", "20400101-00:00:00.123456"]  # the rigs' clocks are in 2026
PAST = ["20200101-00:00:00"]

CL_IDS = ["A1", "A2", "A3"]
SYMBOLS = ["IBM", "AAPL", "LOT"]
HOSTILE_SYMBOLS = ["", "NOPE", "ibm", LONG, LATIN]


@dataclass(frozen=True)
class Inbound:
    """One generated message: to ``session`` (an index), flat ``fields`` without 35."""

    session: int
    msg_type: str
    fields: tuple[tuple[int, str], ...]

    def get(self, tag: int) -> str | None:
        for t, v in self.fields:
            if t == tag:
                return v
        return None

    def message(self) -> FixMessage:
        """As parsed: flat ``(tag, bytes)`` fields (latin-1, what the codec's ``get`` decodes)."""
        return FixMessage([(35, self.msg_type.encode("ascii")),
                           *((t, v.encode("latin-1")) for t, v in self.fields)])

    def __repr__(self) -> str:  # keep falsifying examples readable
        shown = [(t, v if len(v) < 60 else f"{v[:20]}...({len(v)} chars)") for t, v in self.fields]
        return f"Inbound({self.session}, {self.msg_type!r}, {shown})"


@dataclass(frozen=True)
class Field:
    """A tag, its valid values (None: absent, for optional tags) and hostile ones."""

    tag: int
    valid: tuple[str | None, ...]
    hostile: tuple[str, ...] = ()


def F(tag: int, valid: Sequence[str | None], hostile: Sequence[str] = ()) -> Field:  # noqa: N802
    return Field(tag, tuple(valid), tuple(hostile))


NUM = tuple(HOSTILE_NUMBERS)
#: well-formed FIX floats of up to 40 integer and 32 decimal digits (beyond the 28 of a Decimal context)
LONG_NUMBERS = st.from_regex(r"\A-?[0-9]{1,40}(\.[0-9]{0,32})?\Z")
IDS = tuple(HOSTILE_STRINGS)
SYMS = tuple(HOSTILE_SYMBOLS)
TS = tuple(BAD_TIMESTAMPS)
PRICES = ["99.50", "100", "100.00", "100.05", "101", "10.5", "100.10"]
QTYS = ["1", "10", "100", "250", "300"]
STOPS = ["99", "101", "100.50"]
ORDER_IDS_HOSTILE = ("NONE", "abc", "-1", "0", "99999999999999999999999", "", "1.5", LONG, LATIN)


def _fields(msg_type: str, symbols: Sequence[str], accounts: Sequence[str],
            order_ids: Sequence[str]) -> list[Field]:
    acct = [None, None, *accounts]
    symbols = [symbols[0], symbols[0], *symbols]  # mostly one instrument: replaces find the orders
    ref = [F(11, CL_IDS, IDS), F(37, [None, None, None, *order_ids], ORDER_IDS_HOSTILE), F(41, CL_IDS, IDS)]
    if msg_type == "D":
        return [
            F(1, acct, ("", LONG, LATIN, "NOBODY")), F(11, CL_IDS, IDS),
            F(18, [None, None, None, None, None, "6"], ("6 G", "garbage", "", "G 6 6", LATIN)),
            F(21, [None, "1"], ("3", "Z")), F(38, QTYS, NUM),
            F(40, ["2", "2", "2", "1", "3", "4"], ("Q", "P", "K", "", "22", LATIN)),
            F(44, PRICES, NUM), F(54, ["1", "2", "1", "2", "5"], ("Z", "0", "", "12", "3", "8")),
            F(55, symbols, SYMS), F(59, [None, None, "0", "1", "3", "4", "6"], ("9", "Z", "", "2", "5", "7")),
            F(60, GOOD_TIMESTAMPS, TS), F(99, [None, None, None, *STOPS], NUM),
            F(100, [None, None, None, "INTERNAL"], ("XNYS", "", LONG)),
            F(110, [None, None, None, "1", "10"], ("500", "1000", *NUM)),
            F(111, [None, None, None, "10", "50"], ("500", "1000", *NUM)),
            F(126, [None, None, None, *FUTURE], (*PAST, *TS)), F(432, [None], ("20400101", "2026", "abcdefgh", "")),
            F(1138, [None], ("10", "1000", *NUM)),
            F(58, [None, None, "hello"], (LONG, LATIN)),
        ]
    if msg_type == "F":
        return [*ref, F(38, [None, *QTYS], NUM), F(54, ["1", "2"], ("Z", "")), F(55, symbols, SYMS),
                F(60, GOOD_TIMESTAMPS, TS)]
    if msg_type == "G":
        return [
            F(1, acct, ("NOBODY", "")), *ref, F(38, [*QTYS, "50", "400"], NUM), F(40, ["2", "2", "1", "4"], ("Q", "")),
            F(44, [None, *PRICES], NUM), F(54, ["1", "2"], ("Z", "", "5")), F(55, symbols, SYMS),
            F(59, [None, "0", "1"], ("9",)), F(60, GOOD_TIMESTAMPS, TS), F(99, [None, None, *STOPS], NUM),
            F(110, [None, None, "5"], ("1000", "-1", "abc")), F(111, [None, None, "5"], ("1000", "-1", "abc")),
        ]
    if msg_type == "H":
        return [*ref[:2], F(54, ["1", "2"], ("Z", "")), F(55, symbols, SYMS), F(790, [None, "S1"], ("", LONG))]
    if msg_type == "q":
        return [F(1, acct, ("NOBODY", "", LATIN)), F(11, ["M1", "M2"], IDS), F(530, ["1", "7"], ("3", "Z", "", "77")),
                F(55, symbols, SYMS), F(60, GOOD_TIMESTAMPS, TS)]
    if msg_type == "AF":
        return [F(1, acct, ("NOBODY", "")), F(55, symbols, SYMS), F(584, ["S1", "S2"], IDS),
                F(585, ["1", "7", "8"], ("Z", "", "99"))]
    if msg_type == "V":
        return [F(262, ["R1", "R2"], IDS), F(263, ["0", "1", "2"], ("3", "Z", "")),
                F(264, ["0", "1", "5"], ("-1", "abc", "99999", "", "1e3", " 5", "9" * 5000)),
                F(265, [None, "0", "1"], ("2", ""))]
    if msg_type == "x":
        return [F(55, [None, *symbols], SYMS), F(320, ["L1"], IDS), F(559, ["0", "4"], ("Z", "", "99"))]
    if msg_type == "c":
        return [F(55, symbols, SYMS), F(320, ["Q1"], IDS), F(321, ["0", "3"], ("Z", ""))]
    return [F(11, ["X1"])]  # a type no application serves


@st.composite
def _group(draw: st.DrawFn, count_tag: int, entry_tag: int, valid: Sequence[str],
           hostile: Sequence[str]) -> list[tuple[int, str]]:
    """A repeating group of one-field entries; its NoXXX count right, or (1 in 4) wrong, garbage or absent."""
    values = draw(st.lists(st.sampled_from(list(valid)), min_size=1, max_size=3))
    if draw(st.integers(0, 3)) == 0:
        values = draw(st.lists(st.one_of(st.sampled_from(list(valid)), st.sampled_from(list(hostile))), max_size=4))
    count: str | None = str(len(values))
    if draw(st.integers(0, 3)) == 0:
        count = draw(st.sampled_from(["0", "-1", "3", "7", "abc", "", "99999999999999999999", None]))
    out = [] if count is None else [(count_tag, count)]
    return out + [(entry_tag, v) for v in values]


@st.composite
def _coherent_order(draw: st.DrawFn, symbol: str, new: bool) -> dict[int, str | None]:
    """Quantity, type, prices and time in force that fit together (and the LOT instrument's grid)."""
    lot = symbol == "LOT"
    qty = draw(st.sampled_from(["100", "200", "300"] if lot else QTYS))
    ord_type = draw(st.sampled_from(["2", "2", "2", "1", "3", "4"]))
    prices = ["99.50", "100", "100.00", "100.05", "101", "100.10"] if lot else PRICES
    values: dict[int, str | None] = {
        38: qty, 40: ord_type, 44: draw(st.sampled_from(prices)) if ord_type in ("2", "4") else None,
        99: draw(st.sampled_from(STOPS)) if ord_type in ("3", "4") else None,
    }
    if new:
        tif = draw(st.sampled_from([None, None, "0", "1", "3", "4", "6"]))
        values[59] = tif
        values[126] = draw(st.sampled_from(FUTURE)) if tif == "6" else None
        resting = ord_type == "2" and tif in (None, "0", "1", "6")
        values[111] = draw(st.sampled_from([None, None, None, "100" if lot else "10"])) if resting else None
        values[110] = draw(st.sampled_from([None, None, None, "100" if lot else "1"]))
    return values


@st.composite
def _inbound(draw: st.DrawFn, msg_type: str, sessions: int, symbols: Sequence[str], accounts: Sequence[str],
             order_ids: Sequence[str]) -> Inbound:
    """A valid message, then 0 to 3 of its fields made hostile or removed."""
    fields = _fields(msg_type, symbols, accounts, order_ids)
    values: dict[int, str | None] = {f.tag: draw(st.sampled_from(f.valid)) for f in fields}
    if msg_type in ("D", "G"):
        values.update(draw(_coherent_order(values[55] or "IBM", msg_type == "D")))
    # numeric fields are spoiled three times as often, sometimes with any number of digits
    weighted = [f for f in fields for _ in range(3 if f.hostile is NUM else 1)]
    spoiled = draw(st.lists(st.sampled_from(weighted), max_size=3, unique_by=lambda f: f.tag))
    for f in spoiled:
        if not f.hostile:
            values[f.tag] = None
        elif f.hostile is NUM:
            values[f.tag] = draw(st.one_of(st.none(), st.sampled_from(NUM), LONG_NUMBERS))
        else:
            values[f.tag] = draw(st.one_of(st.none(), st.sampled_from(f.hostile)))
    flat = [(t, v) for t, v in values.items() if v is not None]
    if msg_type == "V":
        flat += draw(_group(267, 269, ["0", "1", "2", "4", "7", "8", "B"], ["Z", "", LATIN]))
        flat += draw(_group(146, 55, symbols, SYMS))
    # most messages go to the first session (cancels and replaces find its orders), some elsewhere
    session = draw(st.sampled_from([0, 0, 0, *range(sessions)]))
    return Inbound(session, msg_type, tuple(flat))


def _linked(inbound: Inbound, order: Inbound) -> Inbound:
    """``inbound`` (F, G or H) about ``order`` (an earlier D): its session, OrigClOrdID, side and
    symbol, no OrderID."""
    links = {41 if inbound.msg_type != "H" else 11: order.get(11), 54: order.get(54), 55: order.get(55)}
    fields = [(t, links.pop(t) or v if t in links else v) for t, v in inbound.fields if t != 37]
    fields += [(t, v) for t, v in links.items() if v is not None]
    return Inbound(order.session, inbound.msg_type, tuple((t, v) for t, v in fields if v is not None))


@st.composite
def sequences(draw: st.DrawFn, types: Sequence[str], *, sessions: int, max_size: int = 12,
              **kw: Sequence[str]) -> list[Inbound]:
    """Up to ``max_size`` messages; most cancels, replaces and status requests name an order sent
    earlier in the sequence (its session, ClOrdID, side and symbol), whatever else they carry."""
    batch = draw(st.lists(messages(types, sessions=sessions, **kw), min_size=1, max_size=max_size))
    out: list[Inbound] = []
    for inbound in batch:
        earlier = [m for m in out if m.msg_type == "D" and m.get(11)]
        if inbound.msg_type in ("F", "G", "H") and earlier and draw(st.integers(0, 3)) > 0:
            inbound = _linked(inbound, draw(st.sampled_from(earlier)))
        out.append(inbound)
    return out


#: any FIX float: a usual one, many digits, or a Decimal of any magnitude and precision
NUMBERS = st.one_of(
    st.sampled_from(["1", "10", "100", "100.05", "0.01", "99.5"]), st.sampled_from(NUM), LONG_NUMBERS,
    st.builds(lambda digits, places: format(Decimal(digits).scaleb(-places), "f"),
              st.one_of(st.integers(-10**40, 10**40), st.integers(10**27, 10**40)),
              st.sampled_from([0, 0, 1, 2, 8, 9, 27, 30, 32])),
)


@st.composite
def numeric_orders(draw: st.DrawFn, symbols: Sequence[str] = ("IBM", "AAPL")) -> Inbound:
    """A well-formed limit or stop-limit NewOrderSingle, one of whose numbers may be anything."""
    ord_type = draw(st.sampled_from(["2", "2", "4"]))
    values = {38: draw(st.sampled_from(QTYS)), 44: draw(st.sampled_from(PRICES)),
              99: draw(st.sampled_from(STOPS)) if ord_type == "4" else None, 110: None, 111: None}
    wild = draw(st.sampled_from([38, 38, 44, 44, 99, 110, 111]))
    values[wild] = draw(NUMBERS)
    fields = [(11, draw(st.sampled_from(CL_IDS))), (40, ord_type), (54, draw(st.sampled_from(["1", "2"]))),
              (55, draw(st.sampled_from(list(symbols)))), (60, GOOD_TIMESTAMPS[0]),
              *((t, v) for t, v in values.items() if v is not None)]
    return Inbound(0, "D", tuple(fields))


def messages(types: Sequence[str], *, sessions: int, symbols: Sequence[str] = SYMBOLS,
             accounts: Sequence[str] = ("ACC1",),
             order_ids: Sequence[str] = ("1", "2", "3")) -> st.SearchStrategy[Inbound]:
    """One inbound message of one of ``types`` to one of ``sessions`` sessions."""
    # new orders three times as often as the rest: cancels and replaces need live orders
    weighted = [t for t in types for _ in range(3 if t == "D" else 1)]
    return st.sampled_from(weighted).flatmap(lambda t: _inbound(t, sessions, symbols, accounts, order_ids))


# ---- checking the answers -----------------------------------------------------------------------


def same_text(sent: str, echoed: str | None) -> bool:
    """``echoed`` (decoded latin-1, as ``FixMessage.get`` does) is ``sent``: byte for byte, or as the
    UTF-8 encoding of the latin-1 decoded text (the codec decodes fields as latin-1 but encodes
    ``str`` values as UTF-8, so a non-ASCII identifier comes back re-encoded)."""
    return echoed is not None and (echoed == sent or echoed == sent.encode("utf-8").decode("latin-1"))


def check_encodable(message: FixMessage, begin_string: str) -> None:
    """What the application sends can go on the wire (no SOH in a value, every value bytes)."""
    encode(message, begin_string.encode("ascii"))


def _reports(sent: Sequence[FixMessage], msg_type: str, tag: int, expected: str | None) -> list[FixMessage]:
    return [m for m in sent if m.msg_type == msg_type and (expected is None or same_text(expected, m.get(tag)))]


def _check_er_reject(m: FixMessage, what: str) -> None:
    assert m.get(39) == "8", f"{what}: reject with OrdStatus {m.get(39)}"
    assert m.get(103) is not None, f"{what}: order reject without OrdRejReason(103): {m}"
    assert m.get(58), f"{what}: order reject without Text(58): {m}"


def check_answer(inbound: Inbound, sent: Sequence[FixMessage], begin_string: str, *,
                 silent_ok: bool = False) -> None:
    """``sent`` (what the application sent to the message's session while handling it, and at once
    after) is an answer of the right kind for ``inbound``; raises AssertionError otherwise.

    ``silent_ok``: the message legitimately needs no answer (a market data unsubscribe)."""
    t = inbound.msg_type
    what = repr(inbound)
    if t == "D":
        cl = inbound.get(11) or ""
        reports = _reports(sent, "8", 11, cl)
        assert reports, f"{what}: no ExecutionReport for the new order; sent {sent}"
        first = reports[0]
        assert first.get(150) in ("0", "8", "A"), f"{what}: first report ExecType {first.get(150)}: {first}"
        if first.get(150) == "8":
            _check_er_reject(first, what)
        else:  # acknowledged as sent: no rounding of the quantity or the price on the way
            assert Decimal(first.get(38) or "NaN") == Decimal(inbound.get(38) or "NaN"), f"{what}: ack {first}"
            if first.get(44) is not None:
                assert Decimal(first.get(44) or "") == Decimal(inbound.get(44) or "NaN"), f"{what}: ack {first}"
            assert (first.get(54), first.get(55)) == (inbound.get(54), inbound.get(55)), f"{what}: ack {first}"
    elif t in ("F", "G"):
        cl = inbound.get(11) or ""
        response_to = "1" if t == "F" else "2"
        exec_types = ("4", "6") if t == "F" else ("5", "E", "4")
        rejects = [m for m in _reports(sent, "9", 11, cl)]
        reports = [m for m in _reports(sent, "8", 11, cl) if m.get(150) in exec_types]
        assert rejects or reports, f"{what}: neither OrderCancelReject nor report; sent {sent}"
        for m in rejects:
            assert m.get(434) == response_to, f"{what}: CxlRejResponseTo {m.get(434)}"
            assert m.get(102) is not None and m.get(58), f"{what}: cancel reject without 102/58: {m}"
    elif t == "H":
        status = [m for m in sent if m.msg_type == "8" and (m.get(150) == "I" or m.get(20) == "3")]
        assert status, f"{what}: no status report; sent {sent}"  # ClOrdID: the order's current one
    elif t == "q":
        reports = _reports(sent, "r", 11, inbound.get(11) or "")
        assert reports, f"{what}: no OrderMassCancelReport; sent {sent}"
        for m in reports:
            if m.get(531) == "0":
                assert m.get(58), f"{what}: refused mass cancel without Text: {m}"
    elif t == "AF":
        reports = _reports(sent, "8", 584, inbound.get(584) or "")
        assert reports, f"{what}: no report for the mass status request; sent {sent}"
        if begin_string != "FIX.4.2":
            assert reports[-1].get(912) == "Y", f"{what}: last report without LastRptRequested=Y"
    elif t == "V":
        if silent_ok:
            return
        answers = [m for m in sent if m.msg_type in ("W", "Y") and same_text(inbound.get(262) or "", m.get(262))]
        assert answers, f"{what}: no snapshot nor MarketDataRequestReject; sent {sent}"
        for m in answers:
            if m.msg_type == "Y":
                assert m.get(58), f"{what}: 35=Y without Text: {m}"
    elif t in ("x", "c"):
        answer_type = "y" if t == "x" else "d"
        assert _reports(sent, answer_type, 320, inbound.get(320) or ""), f"{what}: no {answer_type}; sent {sent}"
    else:  # pragma: no cover - only the types above are generated
        raise AssertionError(f"unexpected message type {t}")
    for m in sent:
        check_encodable(m, begin_string)
