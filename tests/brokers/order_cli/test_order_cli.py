"""``fixgate order``: usage errors through CliRunner, real runs as subprocesses against the stub gateway.

The stub gateway runs as its own process and announces ``listening on <port>``; the test reads
that line through a selector with a deadline (no sleeps), and every subprocess has a timeout.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from brokers.cli import main
from brokers.order_client import (
    CancelOrder,
    ClientOptions,
    NewOrder,
    OrderStatus,
    ReplaceOrder,
    Report,
    client_config_text,
    client_settings,
    default_cl_ord_id,
)
from fix_engine.codec.message import FixMessage

HERE = Path(__file__).resolve().parent
STUB = HERE / "order_stub_gateway.py"
REPO = HERE.parents[2]


# ---- usage errors (exit 2, nothing sent) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["buy", "IBM", "-5", "--price", "100"], "No such option '-5'"),
        (["buy", "--price", "100", "IBM", "--", "-5"], "must be a positive number"),
        (["buy", "IBM", "0", "--market"], "must be a positive number"),
        (["sell", "IBM", "abc", "--market"], "is not a number"),
        (["buy", "IBM", "100", "--price", "100", "--market"], "--price and --market exclude each other"),
        (["buy", "IBM", "100"], "give --price P for a limit order or --market"),
        (["buy", "IBM", "100", "--price", "-1"], "must be a positive number"),
        (["buy", "IBM", "100", "--market", "--fix-version", "4.3"], "'4.3' is not one of"),
        (["buy", "IBM", "100", "--market", "--tif", "forever"], "'forever' is not one of"),
        (["buy", "IBM", "100", "--market", "--wait", "0"], "--wait"),
        (["cancel", "ORD-1", "--symbol", "IBM"], "Missing option '--side'"),
        (["cancel", "ORD-1", "--symbol", "IBM", "--side", "up"], "'up' is not one of"),
        (["replace", "ORD-1", "--symbol", "IBM", "--side", "buy"], "Missing option '--qty'"),
        (["status", "ORD-1", "--side", "buy"], "Missing option '--symbol'"),
    ],
)
def test_usage_errors_exit_2(args: list[str], complaint: str) -> None:
    result = CliRunner().invoke(main, ["order", *args])
    assert result.exit_code == 2, result.output
    assert complaint in result.output


def test_order_group_is_mounted_with_its_commands() -> None:
    result = CliRunner().invoke(main, ["order", "--help"])
    assert result.exit_code == 0, result.output
    for command in ("buy", "sell", "cancel", "replace", "status"):
        assert command in result.output
    result = CliRunner().invoke(main, ["order", "buy", "--help"])
    assert "--fix-version" in result.output and "--json" in result.output


# ---- pure pieces ---------------------------------------------------------------------------------


def test_generated_settings_per_version() -> None:
    s44 = client_settings(ClientOptions(port=9999, sender="CLIENT2"))
    assert (str(s44.session_id), s44.socket_connect_hosts, s44.reset_on_logon) == (
        "FIX.4.4:CLIENT2->FIXGATE", (("127.0.0.1", 9999),), True)
    assert s44.file_store_path == ""  # --reset without --store: a memory store
    s50 = client_settings(ClientOptions(fix_version="5.0sp2"))
    assert (s50.session_id.begin_string, s50.default_appl_ver_id) == ("FIXT.1.1", "9")
    s42 = client_settings(ClientOptions(fix_version="4.2", reset=False, store_dir=Path("/tmp/x")))
    assert (s42.session_id.begin_string, s42.reset_on_logon, s42.file_store_path) == ("FIX.4.2", False, "/tmp/x")
    assert "FileStorePath=" in client_config_text(ClientOptions(reset=False))  # default store dir


def test_messages_carry_fix_fields_in_decimal() -> None:
    d = NewOrder("sell", "IBM", Decimal("100"), Decimal("100.50"), cl_ord_id="X").to_message(0.0)
    assert [(t, d.get(t)) for t in (11, 21, 38, 40, 44, 54, 55, 59, 60)] == [
        (11, "X"), (21, "1"), (38, "100"), (40, "2"), (44, "100.5"), (54, "2"), (55, "IBM"), (59, "0"),
        (60, "19700101-00:00:00.000")]
    f = CancelOrder("X", "IBM", "sell", None, cl_ord_id="Y").to_message(0.0)
    assert (f.msg_type, f.get(11), f.get(41), f.get(38)) == ("F", "Y", "X", None)
    g = ReplaceOrder("X", "IBM", "buy", Decimal(7), None, cl_ord_id="Z").to_message(0.0)
    assert (g.msg_type, g.get(38), g.get(40), g.get(44)) == ("G", "7", "2", None)
    h = OrderStatus("X", "IBM", "buy").to_message(0.0)
    assert (h.msg_type, h.get(11), h.get(54), h.get(55)) == ("H", "X", "1", "IBM")
    assert default_cl_ord_id("CLIENT1", 1.5) == "CLIENT1-1500"


def test_report_line_and_json() -> None:
    msg = FixMessage.new("8", (6, "0"), (11, "A"), (14, "0"), (37, "G-1"), (39, "8"), (58, "no good"),
                         (103, "99"), (150, "8"), (151, "0"))
    report = Report(msg, "CLIENT1")
    assert report.line() == (
        "ExecutionReport CLIENT1 ClOrdID=A OrderID=G-1 ExecType=8(Rejected) OrdStatus=8(Rejected) "
        "OrdRejReason=99(Other) CumQty=0 LeavesQty=0 AvgPx=0 Text=no good")
    obj = report.as_json()
    assert obj["Message"] == "ExecutionReport" and obj["OrdStatusText"] == "Rejected" and obj["Text"] == "no good"


# ---- subprocess runs -----------------------------------------------------------------------------


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return env


def _fixgate() -> list[str]:
    script = Path(sys.executable).with_name("fixgate")
    return [str(script)] if script.exists() else [sys.executable, "-m", "brokers.cli"]


@pytest.fixture
def stub_port(tmp_path: Path) -> Iterator[int]:
    """Start the stub gateway as a subprocess; yield its port once it says it listens."""
    proc = subprocess.Popen([sys.executable, str(STUB)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=tmp_path, env=_env(tmp_path))
    try:
        assert proc.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 30
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                pytest.fail("stub gateway did not start within 30s")
            chunk = os.read(proc.stdout.fileno(), 1)
            if not chunk:
                pytest.fail(f"stub gateway exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            line += chunk
        selector.close()
        assert line.startswith(b"listening on "), line
        yield int(line.split()[-1])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def fixgate_order(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_fixgate(), "order", *args], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path, env=_env(tmp_path))


def test_buy_against_subprocess_gateway(stub_port: int, tmp_path: Path) -> None:
    done = fixgate_order(tmp_path, "buy", "IBM", "100", "--price", "100", "--port", str(stub_port),
                         "--cl-ord-id", "ORD-1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines == [
        "ExecutionReport CLIENT1 ClOrdID=ORD-1 OrderID=G-1 Symbol=IBM Side=1(Buy) ExecType=0(New) OrdStatus=0(New) "
        "OrderQty=100 Price=100 CumQty=0 LeavesQty=100 AvgPx=0",
        "ExecutionReport CLIENT1 ClOrdID=ORD-1 OrderID=G-1 Symbol=IBM Side=1(Buy) ExecType=F(Trade) "
        "OrdStatus=2(Filled) OrderQty=100 Price=100 LastQty=100 LastPx=100 CumQty=100 LeavesQty=0 AvgPx=100",
    ]
    assert not (tmp_path / ".fixgate").exists()  # --reset (default) keeps no store

    rejected = fixgate_order(tmp_path, "sell", "BAD", "5", "--market", "--port", str(stub_port), "--json",
                             "--fix-version", "4.2")
    assert rejected.returncode == 1, rejected.stderr
    [obj] = [json.loads(line) for line in rejected.stdout.splitlines()]
    assert (obj["OrdStatus"], obj["OrdRejReason"], obj["Text"]) == ("8", "1", "unknown symbol BAD")


def test_cannot_connect_exits_3_with_message(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = fixgate_order(tmp_path, "buy", "IBM", "1", "--market", "--port", str(port), "--wait", "1")
    assert done.returncode == 3
    assert done.stdout == ""
    assert f"could not log on to 127.0.0.1:{port} as CLIENT1 within 1s: connection refused" in done.stderr
