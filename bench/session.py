"""Session-layer benchmark: NewOrderSingle -> ExecutionReport round trips over 127.0.0.1.

One initiator and one acceptor, both with file stores, exchange N orders; the initiator keeps a
window of orders in flight.  Measured for fixgate (both ends on one Twisted reactor in this
process) and for the quickfix Python binding (SocketInitiator + SocketAcceptor with FileStore,
both in one process, Python callbacks) in the same run, with the ratio.  Not a test.

    python bench/session.py [--orders 20000] [--window 50]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- fixgate


def run_fixgate(orders: int, window: int, workdir: Path) -> dict[str, float]:
    from twisted.internet import defer, reactor

    from fix_engine.application import Application
    from fix_engine.codec.message import FixMessage
    from fix_engine.config import parse_config
    from fix_engine.transport.acceptor import AcceptorService
    from fix_engine.transport.host import SessionRegistry
    from fix_engine.transport.initiator import InitiatorService
    from fix_engine.transport.session_builder import SessionBuilder

    port = free_port()
    common = f"""[DEFAULT]
FileStorePath={workdir}/fg_store
FileStoreSync=N
HeartBtInt=30
ResetOnLogon=Y
UseDataDictionary=Y
DataDictionary=FIX44.xml
StartTime=00:00:00
EndTime=00:00:00
"""
    acceptor_cfg = common + f"""[SESSION]
ConnectionType=acceptor
BeginString=FIX.4.4
SenderCompID=EXEC
TargetCompID=BANZAI
SocketAcceptPort={port}
SocketAcceptAddress=127.0.0.1
"""
    initiator_cfg = common + f"""[SESSION]
ConnectionType=initiator
BeginString=FIX.4.4
SenderCompID=BANZAI
TargetCompID=EXEC
SocketConnectHost=127.0.0.1
SocketConnectPort={port}
ReconnectInterval=1
"""
    acc_registry = SessionRegistry()
    ini_registry = SessionRegistry()
    sent_at: dict[bytes, int] = {}
    latencies: list[float] = []
    done = defer.Deferred()
    state = {"sent": 0, "received": 0, "exec": 0, "t0": 0.0, "t1": 0.0}

    class Executor(Application):
        def from_app(self, message: FixMessage, session_id) -> None:  # noqa: ANN001
            state["exec"] += 1
            n = state["exec"]
            qty = message.get_raw(38) or b"0"
            px = message.get_raw(44) or b"0"
            report = FixMessage.new(
                "8",
                (6, px), (11, message.get_raw(11)), (14, qty), (17, b"E%d" % n), (31, px), (32, qty),
                (37, b"O%d" % n), (38, qty), (39, b"2"), (40, b"2"), (54, message.get_raw(54)),
                (55, message.get_raw(55)), (150, b"F"), (151, b"0"),
            )
            acc_registry.send_to_target(report, session_id)

    class Banzai(Application):
        session_id = None

        def on_logon(self, session_id) -> None:  # noqa: ANN001
            self.session_id = session_id
            state["t0"] = time.perf_counter()
            for _ in range(min(window, orders)):
                self.send_one()

        def send_one(self) -> None:
            n = state["sent"]
            state["sent"] += 1
            cl = b"C%d" % n
            order = FixMessage.new(
                "D", (11, cl), (21, b"1"), (38, b"100"), (40, b"2"), (44, b"10.25"), (54, b"1"),
                (55, b"IBM"), (60, b"20261122-10:00:00.000"),
            )
            sent_at[cl] = time.perf_counter_ns()
            ini_registry.send_to_target(order, self.session_id)

        def from_app(self, message: FixMessage, session_id) -> None:  # noqa: ANN001
            cl = message.get_raw(11)
            latencies.append((time.perf_counter_ns() - sent_at.pop(cl)) / 1000.0)
            state["received"] += 1
            if state["sent"] < orders:
                self.send_one()
            elif state["received"] == orders and not done.called:
                state["t1"] = time.perf_counter()
                done.callback(None)

    acceptor_settings = parse_config(acceptor_cfg, "bench-acceptor").sessions
    initiator_settings = parse_config(initiator_cfg, "bench-initiator").sessions
    acceptor = AcceptorService(acceptor_settings, SessionBuilder(Executor()), reactor, registry=acc_registry)
    initiator = InitiatorService(initiator_settings, SessionBuilder(Banzai()), reactor, registry=ini_registry)

    def start() -> None:
        acceptor.privilegedStartService()
        acceptor.startService()
        acceptor.listening.addCallback(lambda _: initiator.startService())

    def finish(_: object) -> None:
        d1 = initiator.stopService()
        d2 = acceptor.stopService()
        defer.DeferredList([d1, d2]).addBoth(lambda _: reactor.stop())

    timeout = reactor.callLater(600, lambda: done.called or done.errback(RuntimeError("fixgate bench timed out")))
    done.addBoth(lambda r: (timeout.active() and timeout.cancel(), r)[1])
    done.addCallback(finish)
    done.addErrback(lambda f: (print(f), reactor.stop()))
    reactor.callWhenRunning(start)
    reactor.run()
    elapsed = state["t1"] - state["t0"]
    return {
        "orders": float(state["received"]),
        "rate": state["received"] / elapsed if elapsed > 0 else float("nan"),
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
    }


# --------------------------------------------------------------------------- quickfix


def run_quickfix(orders: int, window: int, workdir: Path) -> dict[str, float] | None:
    try:
        import quickfix as fix
    except ImportError:
        return None
    spec = Path(sys.prefix) / "share" / "quickfix" / "FIX44.xml"
    port = free_port()
    common = f"""[DEFAULT]
FileStorePath={workdir}/qf_store
FileLogPath={workdir}/qf_log
HeartBtInt=30
ResetOnLogon=Y
StartTime=00:00:00
EndTime=00:00:00
UseDataDictionary=Y
DataDictionary={spec}
"""
    acc_path = workdir / "qf_acceptor.cfg"
    ini_path = workdir / "qf_initiator.cfg"
    acc_path.write_text(common + f"[SESSION]\nConnectionType=acceptor\nBeginString=FIX.4.4\nSenderCompID=EXEC\nTargetCompID=BANZAI\nSocketAcceptPort={port}\n")
    ini_path.write_text(common + f"[SESSION]\nConnectionType=initiator\nBeginString=FIX.4.4\nSenderCompID=BANZAI\nTargetCompID=EXEC\nSocketConnectHost=127.0.0.1\nSocketConnectPort={port}\nReconnectInterval=1\n")

    latencies: list[float] = []
    sent_at: dict[str, int] = {}
    lock = threading.Lock()
    finished = threading.Event()
    state = {"sent": 0, "received": 0, "exec": 0, "t0": 0.0, "t1": 0.0}

    class Executor(fix.Application):
        def onCreate(self, sid): pass  # noqa: E704,N802
        def onLogon(self, sid): pass  # noqa: E704,N802
        def onLogout(self, sid): pass  # noqa: E704,N802
        def toAdmin(self, m, sid): pass  # noqa: E704,N802
        def fromAdmin(self, m, sid): pass  # noqa: E704,N802
        def toApp(self, m, sid): pass  # noqa: E704,N802

        def fromApp(self, message, sid):  # noqa: N802
            state["exec"] += 1
            n = state["exec"]
            report = fix.Message()
            report.getHeader().setField(fix.MsgType("8"))
            qty = message.getField(38)
            px = message.getField(44)
            for tag, value in ((6, px), (11, message.getField(11)), (14, qty), (17, f"E{n}"), (31, px), (32, qty),
                               (37, f"O{n}"), (38, qty), (39, "2"), (40, "2"), (54, message.getField(54)),
                               (55, message.getField(55)), (150, "F"), (151, "0")):
                report.setField(tag, value)
            fix.Session.sendToTarget(report, sid)

    class Banzai(fix.Application):
        sid = None

        def onCreate(self, sid): pass  # noqa: E704,N802
        def onLogout(self, sid): pass  # noqa: E704,N802
        def toAdmin(self, m, sid): pass  # noqa: E704,N802
        def fromAdmin(self, m, sid): pass  # noqa: E704,N802
        def toApp(self, m, sid): pass  # noqa: E704,N802

        def onLogon(self, sid):  # noqa: N802
            self.sid = sid
            state["t0"] = time.perf_counter()
            for _ in range(min(window, orders)):
                self.send_one()

        def send_one(self):
            with lock:
                n = state["sent"]
                state["sent"] += 1
            cl = f"C{n}"
            order = fix.Message()
            order.getHeader().setField(fix.MsgType("D"))
            for tag, value in ((11, cl), (21, "1"), (38, "100"), (40, "2"), (44, "10.25"), (54, "1"),
                               (55, "IBM"), (60, "20261122-10:00:00.000")):
                order.setField(tag, value)
            sent_at[cl] = time.perf_counter_ns()
            fix.Session.sendToTarget(order, self.sid)

        def fromApp(self, message, sid):  # noqa: N802
            cl = message.getField(11)
            latencies.append((time.perf_counter_ns() - sent_at.pop(cl)) / 1000.0)
            with lock:
                state["received"] += 1
                more = state["sent"] < orders
                last = state["received"] == orders
            if more:
                self.send_one()
            elif last:
                state["t1"] = time.perf_counter()
                finished.set()

    acc_settings = fix.SessionSettings(str(acc_path))
    ini_settings = fix.SessionSettings(str(ini_path))
    executor, banzai = Executor(), Banzai()
    acceptor = fix.SocketAcceptor(executor, fix.FileStoreFactory(acc_settings), acc_settings, fix.FileLogFactory(acc_settings))
    initiator = fix.SocketInitiator(banzai, fix.FileStoreFactory(ini_settings), ini_settings, fix.FileLogFactory(ini_settings))
    acceptor.start()
    initiator.start()
    ok = finished.wait(timeout=600)
    initiator.stop()
    acceptor.stop()
    if not ok:
        raise RuntimeError("quickfix bench timed out")
    elapsed = state["t1"] - state["t0"]
    return {
        "orders": float(state["received"]),
        "rate": state["received"] / elapsed,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--window", type=int, default=50, help="orders in flight")
    parser.add_argument("--only", choices=["fixgate", "quickfix"], default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        qf = None if args.only == "fixgate" else run_quickfix(args.orders, args.window, workdir)
        fg = None
        if args.only != "quickfix":
            # Twisted's reactor cannot restart: run fixgate in a child process
            if os.environ.get("FIXGATE_BENCH_CHILD") == "1":
                fg = run_fixgate(args.orders, args.window, workdir)
                print(repr(fg))
                return
            import ast
            import subprocess

            out = subprocess.run(
                [sys.executable, __file__, "--orders", str(args.orders), "--window", str(args.window), "--only", "fixgate"],
                env={**os.environ, "FIXGATE_BENCH_CHILD": "1"}, capture_output=True, text=True, check=True,
            ).stdout.strip().splitlines()[-1]
            fg = ast.literal_eval(out)
    print(f"session round trips: {args.orders} orders, window {args.window}, file stores, 127.0.0.1")
    print(f"{'engine':<28}{'orders/s':>12}{'p50 us':>12}{'p99 us':>12}")
    for name, r in (("fixgate", fg), ("quickfix (Python binding)", qf)):
        if r is None:
            print(f"{name:<28}{'n/a':>12}")
        else:
            print(f"{name:<28}{r['rate']:>12.0f}{r['p50']:>12.0f}{r['p99']:>12.0f}")
    if fg and qf:
        print(f"throughput ratio fixgate/quickfix: {fg['rate'] / qf['rate']:.2f}x; "
              f"p50 ratio quickfix/fixgate: {qf['p50'] / fg['p50']:.2f}x")


if __name__ == "__main__":
    main()
