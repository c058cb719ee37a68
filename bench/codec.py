"""Codec benchmark: fixgate vs simplefix vs the quickfix Python binding, measured in one run.

Usage::

    .venv/bin/python bench/codec.py [--repeat N] [--number N]

Prints microseconds per message (best of ``--repeat`` timeit repeats, because shared machines
are noisy) and the ratio fixgate speed / peer speed for

(a) frame + parse a realistic FIX.4.4 NewOrderSingle (20 fields including header and trailer),
(b) the same plus validation against the FIX.4.4 dictionary,
(c) build + encode an ExecutionReport (27 fields including header and trailer).

fixgate is measured twice: ``fixgate (C)`` with the C accelerator (``fix_engine.codec._speedups``,
built by ``pip install -e .``) and ``fixgate (pure Python)`` in a child process started with
FIXGATE_PURE_PYTHON=1.  The ratios are for the implementation this process uses (C when built).
Peers that are not installed (or a fixgate part not built yet) print ``n/a``.
This is a script, not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import timeit
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fix_engine.codec import FixMessage, FrameParser, encode, encode_fields  # noqa: E402
from fix_engine.codec.message import format_epoch_timestamp  # noqa: E402
from fix_engine.codec.parsing import IMPLEMENTATION  # noqa: E402

try:
    import simplefix
except ImportError:  # pragma: no cover - optional peer
    simplefix = None

try:
    import quickfix
except ImportError:  # pragma: no cover - optional peer
    quickfix = None

NOW = 1795341600.123  # 2026-11-22 10:00:00.123 UTC, fixed so every run encodes the same bytes

NOS_FIELDS: list[tuple[int, bytes]] = [
    (8, b"FIX.4.4"),
    (35, b"D"),
    (34, b"215"),
    (49, b"CLIENT12"),
    (52, b"20261122-10:00:00.123"),
    (56, b"FIXGATE"),
    (1, b"ACC-0001"),
    (11, b"ORD-20261122-000001"),
    (15, b"USD"),
    (21, b"1"),
    (38, b"100"),
    (40, b"2"),
    (44, b"101.25"),
    (54, b"1"),
    (55, b"AAPL"),
    (59, b"0"),
    (60, b"20261122-10:00:00.120"),
    (100, b"XNAS"),
]
NOS = encode_fields(NOS_FIELDS)  # + 9 and 10 = 20 fields


def _timer(fn: Callable[[], object], number: int, repeat: int) -> float:
    """Best-of-``repeat`` microseconds per call."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


# --------------------------------------------------------------------------- (a) frame + parse


def fixgate_parse() -> Callable[[], object]:
    parser = FrameParser()
    feed = parser.feed
    parse = FixMessage.parse

    def run() -> object:
        return [parse(frame.raw) for frame in feed(NOS)]

    return run


def simplefix_parse() -> Callable[[], object] | None:
    if simplefix is None:
        return None
    parser = simplefix.FixParser()

    def run() -> object:
        parser.append_buffer(NOS)
        return parser.get_message()

    return run


def _quickfix_dd() -> object | None:
    if quickfix is None:
        return None
    path = Path(sys.prefix) / "share" / "quickfix" / "FIX44.xml"
    if not path.exists():
        return None
    return quickfix.DataDictionary(str(path))


def quickfix_parse(dd: object | None, validate: bool) -> Callable[[], object] | None:
    if quickfix is None or dd is None:
        return None
    text = NOS.decode("ascii")
    message = quickfix.Message

    def run() -> object:
        return message(text, dd, validate)

    return run


# --------------------------------------------------------------------------- (b) + validation


def fixgate_parse_validate() -> tuple[Callable[[], object] | None, str]:
    """fixgate frame + parse + validate, if fix_engine.dictionary provides a loader and validate()."""
    try:
        from fix_engine.dictionary import loader, validation  # type: ignore[attr-defined]
    except ImportError as exc:
        return None, f"fix_engine.dictionary not built yet ({exc.name})"
    load = next((getattr(loader, n) for n in ("load_dictionary", "load", "load_xml", "from_file") if hasattr(loader, n)), None)
    validator_for = getattr(validation, "validator_for", None)  # the session's hot path: a built validator
    validate = getattr(validation, "validate", None)
    if load is None or validate is None:
        return None, "fix_engine.dictionary has no loader/validate() yet"
    path = ROOT / "dictionaries" / "FIX44.xml"
    if not path.exists():
        return None, "dictionaries/FIX44.xml not written yet"
    try:
        dictionary = load(path)
        parser = FrameParser()
        msg = FixMessage.parse(parser.feed(NOS)[0].raw)
        violations = validate(msg, dictionary)
    except Exception as exc:  # noqa: BLE001 - a bench reports, it does not crash
        return None, f"validation failed to run: {exc!r}"
    if violations:
        return None, f"sample NOS does not validate: {list(violations)[:3]}"
    feed = parser.feed
    parse = FixMessage.parse
    data_length_tags = getattr(dictionary, "data_length_tags", None)
    if validator_for is not None:
        check = validator_for(dictionary).validate

        def run() -> object:
            return [check(parse(frame.raw, data_length_tags)) for frame in feed(NOS)]

        return run, ""

    def run() -> object:
        return [validate(parse(frame.raw, data_length_tags), dictionary) for frame in feed(NOS)]

    return run, ""


# --------------------------------------------------------------------------- (c) build + encode


def fixgate_build() -> Callable[[], object]:
    new = FixMessage.new
    price = Decimal("101.25")
    qty = Decimal("100")

    def run() -> bytes:
        ts = format_epoch_timestamp(NOW)
        msg = new(
            "8",
            (8, "FIX.4.4"),
            (49, "FIXGATE"),
            (56, "CLIENT12"),
            (34, 4711),
            (52, ts),
            (1, "ACC-0001"),
            (6, price),
            (11, "ORD-20261122-000001"),
            (14, qty),
            (15, "USD"),
            (17, "EXEC-20261122-000042"),
            (31, price),
            (32, qty),
            (37, "O-000042"),
            (38, qty),
            (39, "2"),
            (40, "2"),
            (44, price),
            (54, "1"),
            (55, "AAPL"),
            (59, "0"),
            (60, ts),
            (150, "F"),
            (151, 0),
        )
        return encode(msg)

    return run


def simplefix_build() -> Callable[[], object] | None:
    if simplefix is None:
        return None
    price = "101.25"
    qty = "100"

    def run() -> bytes:
        m = simplefix.FixMessage()
        m.append_pair(8, "FIX.4.4", header=True)
        m.append_pair(35, "8", header=True)
        m.append_pair(49, "FIXGATE", header=True)
        m.append_pair(56, "CLIENT12", header=True)
        m.append_pair(34, 4711, header=True)
        m.append_utc_timestamp(52, NOW, header=True)
        m.append_pair(1, "ACC-0001")
        m.append_pair(6, price)
        m.append_pair(11, "ORD-20261122-000001")
        m.append_pair(14, qty)
        m.append_pair(15, "USD")
        m.append_pair(17, "EXEC-20261122-000042")
        m.append_pair(31, price)
        m.append_pair(32, qty)
        m.append_pair(37, "O-000042")
        m.append_pair(38, qty)
        m.append_pair(39, "2")
        m.append_pair(40, "2")
        m.append_pair(44, price)
        m.append_pair(54, "1")
        m.append_pair(55, "AAPL")
        m.append_pair(59, "0")
        m.append_utc_timestamp(60, NOW)
        m.append_pair(150, "F")
        m.append_pair(151, 0)
        return m.encode()

    return run


def quickfix_build() -> Callable[[], object] | None:
    if quickfix is None:
        return None
    fix = quickfix
    price = 101.25
    qty = 100.0

    def run() -> str:
        m = fix.Message()
        h = m.getHeader()
        h.setField(fix.BeginString("FIX.4.4"))
        h.setField(fix.MsgType("8"))
        h.setField(fix.SenderCompID("FIXGATE"))
        h.setField(fix.TargetCompID("CLIENT12"))
        h.setField(fix.MsgSeqNum(4711))
        h.setField(fix.SendingTime())
        m.setField(fix.Account("ACC-0001"))
        m.setField(fix.AvgPx(price))
        m.setField(fix.ClOrdID("ORD-20261122-000001"))
        m.setField(fix.CumQty(qty))
        m.setField(fix.Currency("USD"))
        m.setField(fix.ExecID("EXEC-20261122-000042"))
        m.setField(fix.LastPx(price))
        m.setField(fix.LastQty(qty))
        m.setField(fix.OrderID("O-000042"))
        m.setField(fix.OrderQty(qty))
        m.setField(fix.OrdStatus("2"))
        m.setField(fix.OrdType("2"))
        m.setField(fix.Price(price))
        m.setField(fix.Side("1"))
        m.setField(fix.Symbol("AAPL"))
        m.setField(fix.TimeInForce("0"))
        m.setField(fix.TransactTime())
        m.setField(fix.ExecType("F"))
        m.setField(fix.LeavesQty(0))
        return m.toString()

    return run


# --------------------------------------------------------------------------- report


def _fmt(us: float | None) -> str:
    return "n/a" if us is None else f"{us:.2f}"


def _ratio(ours: float | None, peer: float | None) -> str:
    return "n/a" if ours is None or peer is None else f"{peer / ours:.1f}x"


def _fixgate_rows(t: Callable[[Callable[[], object] | None], float | None]) -> tuple[list[float | None], str]:
    """fixgate's (a), (b), (c) in this process's implementation, and the note for (b)."""
    b_fn, b_note = fixgate_parse_validate()
    return [t(fixgate_parse()), t(b_fn), t(fixgate_build())], b_note


def _pure_python_rows(args: argparse.Namespace) -> list[float | None]:
    """fixgate's (a), (b), (c) measured in a child process with FIXGATE_PURE_PYTHON=1."""
    env = dict(os.environ, FIXGATE_PURE_PYTHON="1")
    cmd = [sys.executable, __file__, "--fixgate-only", "--repeat", str(args.repeat), "--number", str(args.number)]
    try:
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])["fixgate"]  # type: ignore[no-any-return]
    except (subprocess.CalledProcessError, ValueError, KeyError, IndexError):  # pragma: no cover - a bench reports
        return [None, None, None]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="timeit repeats; the minimum is reported")
    ap.add_argument("--number", type=int, default=20_000, help="calls per repeat")
    ap.add_argument("--fixgate-only", action="store_true", help="print fixgate's figures as JSON (used for the pure-Python run)")
    args = ap.parse_args(argv)

    def t(fn: Callable[[], object] | None) -> float | None:
        return None if fn is None else _timer(fn, args.number, args.repeat)

    # sanity: every contender produces what it should, so we never time an error path
    assert fixgate_parse()()[0].get_raw(11) == b"ORD-20261122-000001"  # type: ignore[index]
    built = fixgate_build()()
    assert FixMessage.parse(FrameParser().feed(built)[0].raw).get_raw(17) == b"EXEC-20261122-000042"

    if args.fixgate_only:
        ours, _ = _fixgate_rows(t)
        print(json.dumps({"implementation": IMPLEMENTATION, "fixgate": ours}))
        return 0

    dd = _quickfix_dd()
    ours, b_note = _fixgate_rows(t)
    pure = _pure_python_rows(args) if IMPLEMENTATION == "C" else list(ours)
    accel: list[float | None] = list(ours) if IMPLEMENTATION == "C" else [None, None, None]
    names = ["(a) frame + parse NewOrderSingle", "(b) (a) + validate vs FIX.4.4", "(c) build + encode ExecutionReport"]
    peers = [
        (t(simplefix_parse()), t(quickfix_parse(dd, False))),
        (None, t(quickfix_parse(dd, True))),
        (t(simplefix_build()), t(quickfix_build())),
    ]

    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; "
          f"best of {args.repeat} x {args.number} calls; NOS {len(NOS)} bytes, ER {len(built)} bytes")
    print(f"fixgate codec in use: {IMPLEMENTATION}"
          + ("" if IMPLEMENTATION == "C" else " (C accelerator not built, or FIXGATE_PURE_PYTHON set)"))
    print(f"simplefix: {'installed' if simplefix else 'n/a'}; quickfix: "
          f"{'installed' if quickfix else 'n/a'}{'' if dd is not None or quickfix is None else ' (no FIX44.xml)'}")
    print()
    head = (f"{'benchmark':36} {'fixgate (C) us':>15} {'fixgate (pure Python) us':>25} {'simplefix us':>13} "
            f"{'quickfix us':>12} {'vs simplefix':>13} {'vs quickfix':>12}")
    print(head)
    print("-" * len(head))
    for name, c_us, py_us, ours_us, (sf, qf) in zip(names, accel, pure, ours, peers, strict=True):
        print(f"{name:36} {_fmt(c_us):>15} {_fmt(py_us):>25} {_fmt(sf):>13} {_fmt(qf):>12} "
              f"{_ratio(ours_us, sf):>13} {_ratio(ours_us, qf):>12}")
    if b_note:
        print(f"    fixgate (b): n/a - {b_note}")
    print()
    print(f"ratios: peer us / fixgate ({IMPLEMENTATION}) us; above 1x fixgate is faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
