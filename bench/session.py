"""Session-layer benchmark: NewOrderSingle -> ExecutionReport round trips over 127.0.0.1.

One initiator and one acceptor, both with file stores and file logs (``--no-log``: neither engine
logs), exchange N orders; the initiator keeps a
window of orders in flight and measures throughput (first Logon to last ExecutionReport) and
the round-trip latency of every order.  Run for fixgate and for the quickfix Python binding
(FileStore, Python callbacks) in the same run, with the ratios.  Not a test.

Arrangement (``--mode``), the same for both engines:

``split`` (default)
    the acceptor and the initiator run in two separate processes, as FIX counterparties do
    (each fixgate process has its own reactor; each quickfix process its own GIL).
``single``
    both ends in one process: fixgate on one reactor, quickfix with both engines' C++ threads
    calling Python under one GIL.

The machine is shared and noisy: each engine runs ``--repeat`` times (interleaved) and the run
with the best throughput is reported, with every run's throughput alongside.

    python bench/session.py [--orders 20000] [--window 50] [--mode split|single] [--repeat 3] [--only ENGINE] [--no-log]
"""

from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import (  # noqa: E402  (bench/ is on sys.path when run)
    NO_LOG_ENV,
    fixgate_log_line,
    free_port,
    message_logs,
    percentile,
    quickfix_defaults,
    quickfix_log_factories,
)

# --------------------------------------------------------------------------- fixgate

ROLES = ("both", "acceptor", "initiator")


def ready() -> None:
    """Tell the parent process that the acceptor listens."""
    print("READY", flush=True)


def result(latencies: list[float], received: int, elapsed: float) -> dict[str, float]:
    return {
        "orders": float(received),
        "rate": received / elapsed if elapsed > 0 else float("nan"),
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
    }


def run_fixgate(role: str, orders: int, window: int, workdir: Path, port: int) -> dict[str, float] | None:
    from twisted.internet import defer, reactor

    from fix_engine.application import Application
    from fix_engine.codec.message import FixMessage
    from fix_engine.config import parse_config
    from fix_engine.transport.acceptor import AcceptorService
    from fix_engine.transport.host import SessionRegistry
    from fix_engine.transport.initiator import InitiatorService
    from fix_engine.transport.session_builder import SessionBuilder

    common = f"""[DEFAULT]
FileStorePath={workdir}/fg_store
FileStoreSync=N
{fixgate_log_line(workdir)}
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

        def on_logout(self, session_id) -> None:  # noqa: ANN001
            if role == "acceptor" and not done.called:
                done.callback(None)  # the initiator has finished and logged out

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

    services = []
    acceptor = initiator = None
    if role in ("both", "acceptor"):
        acceptor_settings = parse_config(acceptor_cfg, "bench-acceptor").sessions
        acceptor = AcceptorService(acceptor_settings, SessionBuilder(Executor()), reactor, registry=acc_registry)
        services.append(acceptor)
    if role in ("both", "initiator"):
        initiator_settings = parse_config(initiator_cfg, "bench-initiator").sessions
        initiator = InitiatorService(initiator_settings, SessionBuilder(Banzai()), reactor, registry=ini_registry)
        services.append(initiator)

    def start() -> None:
        if acceptor is not None:
            acceptor.privilegedStartService()
            acceptor.startService()
            if initiator is not None:
                acceptor.listening.addCallback(lambda _: initiator.startService())
            else:
                acceptor.listening.addCallback(lambda _: ready())
        elif initiator is not None:
            initiator.startService()

    def finish(_: object) -> None:
        # initiator first: its Logout reaches the acceptor before the acceptor stops
        stopping = [service.stopService() for service in reversed(services)]
        defer.DeferredList(stopping).addBoth(lambda _: reactor.stop())

    timeout = reactor.callLater(600, lambda: done.called or done.errback(RuntimeError("fixgate bench timed out")))
    done.addBoth(lambda r: (timeout.active() and timeout.cancel(), r)[1])
    done.addCallback(finish)
    done.addErrback(lambda f: (print(f, file=sys.stderr), reactor.stop()))
    reactor.callWhenRunning(start)
    reactor.run()
    if role == "acceptor":
        return None
    return result(latencies, state["received"], state["t1"] - state["t0"])


# --------------------------------------------------------------------------- quickfix


def run_quickfix(role: str, orders: int, window: int, workdir: Path, port: int) -> dict[str, float] | None:
    import quickfix as fix

    common = quickfix_defaults(workdir)
    acc_path = workdir / "qf_acceptor.cfg"
    ini_path = workdir / "qf_initiator.cfg"
    acc_path.write_text(common + f"[SESSION]\nConnectionType=acceptor\nBeginString=FIX.4.4\nSenderCompID=EXEC\nTargetCompID=BANZAI\nSocketAcceptPort={port}\n")
    ini_path.write_text(common + f"[SESSION]\nConnectionType=initiator\nBeginString=FIX.4.4\nSenderCompID=BANZAI\nTargetCompID=EXEC\nSocketConnectHost=127.0.0.1\nSocketConnectPort={port}\nReconnectInterval=1\n")

    latencies: list[float] = []
    sent_at: dict[str, int] = {}
    lock = threading.Lock()
    finished = threading.Event()
    logged_out = threading.Event()
    state = {"sent": 0, "received": 0, "exec": 0, "t0": 0.0, "t1": 0.0}

    class Executor(fix.Application):
        def onCreate(self, sid): pass  # noqa: E704,N802
        def onLogon(self, sid): pass  # noqa: E704,N802
        def toAdmin(self, m, sid): pass  # noqa: E704,N802
        def fromAdmin(self, m, sid): pass  # noqa: E704,N802
        def toApp(self, m, sid): pass  # noqa: E704,N802

        def onLogout(self, sid):  # noqa: N802
            logged_out.set()

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

    acceptor = initiator = None
    if role in ("both", "acceptor"):
        acc_settings = fix.SessionSettings(str(acc_path))
        acceptor = fix.SocketAcceptor(Executor(), fix.FileStoreFactory(acc_settings), acc_settings,
                                       *quickfix_log_factories(fix, acc_settings))
        acceptor.start()
    if role == "acceptor":
        ready()
        ok = logged_out.wait(timeout=600)
        acceptor.stop()
        if not ok:
            raise RuntimeError("quickfix bench acceptor timed out")
        return None
    ini_settings = fix.SessionSettings(str(ini_path))
    initiator = fix.SocketInitiator(Banzai(), fix.FileStoreFactory(ini_settings), ini_settings,
                                    *quickfix_log_factories(fix, ini_settings))
    initiator.start()
    ok = finished.wait(timeout=600)
    initiator.stop()
    if acceptor is not None:
        acceptor.stop()
    if not ok:
        raise RuntimeError("quickfix bench timed out")
    return result(latencies, state["received"], state["t1"] - state["t0"])


# --------------------------------------------------------------------------- driver

RUNNERS = {"fixgate": run_fixgate, "quickfix": run_quickfix}


def child_command(engine: str, role: str, args: argparse.Namespace, workdir: Path, port: int) -> list[str]:
    return [
        sys.executable, __file__, "--engine", engine, "--role", role, "--orders", str(args.orders),
        "--window", str(args.window), "--workdir", str(workdir), "--port", str(port),
    ]


def last_dict(stdout: str) -> dict[str, float]:
    return ast.literal_eval(stdout.strip().splitlines()[-1])


def run_engine(engine: str, args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    """One engine's run in child processes (Twisted's reactor cannot restart, and the split
    arrangement needs two processes anyway)."""
    port = free_port()
    if args.mode == "single":
        out = subprocess.run(child_command(engine, "both", args, workdir, port), capture_output=True, text=True,
                             check=True, timeout=900)
        return last_dict(out.stdout)
    acceptor = subprocess.Popen(child_command(engine, "acceptor", args, workdir, port), stdout=subprocess.PIPE,
                                text=True)
    try:
        assert acceptor.stdout is not None
        line = acceptor.stdout.readline()
        if line.strip() != "READY":
            raise RuntimeError(f"{engine} acceptor did not start: {line!r}")
        out = subprocess.run(child_command(engine, "initiator", args, workdir, port), capture_output=True,
                             text=True, check=True, timeout=900)
        acceptor.wait(timeout=30)  # it exits when the initiator has logged out
        return last_dict(out.stdout)
    finally:
        if acceptor.poll() is None:
            acceptor.kill()
            acceptor.wait()


def quickfix_available() -> bool:
    try:
        import quickfix  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--window", type=int, default=50, help="orders in flight")
    parser.add_argument("--mode", choices=["split", "single"], default="split",
                        help="acceptor and initiator in separate processes (split) or in one (single)")
    parser.add_argument("--only", choices=sorted(RUNNERS), default=None)
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine; the best is reported")
    parser.add_argument("--no-log", action="store_true", help="neither engine keeps a file message log")
    # child processes
    parser.add_argument("--engine", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    parser.add_argument("--role", choices=ROLES, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.no_log:
        os.environ[NO_LOG_ENV] = "1"  # the child processes inherit it
    if args.engine:
        r = RUNNERS[args.engine](args.role, args.orders, args.window, Path(args.workdir), args.port)
        if r is not None:
            print(repr(r))
        return
    if os.environ.get("FIXGATE_BENCH_CHILD") == "1" and args.only == "fixgate":
        # profiling hook: fixgate, both ends in this process (--mode single), no child process
        with tempfile.TemporaryDirectory() as tmp:
            print(repr(run_fixgate("both", args.orders, args.window, Path(tmp), free_port())))
        return
    runs: dict[str, list[dict[str, float]]] = {"fixgate": [], "quickfix": []}
    engines = [e for e in ("quickfix", "fixgate")
               if args.only in (None, e) and (e != "quickfix" or quickfix_available())]
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(args.repeat):  # engines interleaved: both see the same machine load
            for engine in engines:
                workdir = Path(tmp) / f"{engine}-{attempt}"
                workdir.mkdir()
                runs[engine].append(run_engine(engine, args, workdir))
    best = {e: max(r, key=lambda x: x["rate"]) if r else None for e, r in runs.items()}
    fg, qf = best["fixgate"], best["quickfix"]
    where = ("acceptor and initiator in separate processes" if args.mode == "split"
             else "acceptor and initiator in one process")
    print(f"session round trips: {args.orders} orders, window {args.window}, file stores{' and logs' if message_logs() else ', no logs'}, 127.0.0.1, {where}; "
          f"best of {args.repeat} runs by throughput")
    print(f"{'engine':<28}{'orders/s':>12}{'p50 us':>12}{'p99 us':>12}   all runs orders/s")
    for name, key in (("fixgate", "fixgate"), ("quickfix (Python binding)", "quickfix")):
        r = best[key]
        if r is None:
            print(f"{name:<28}{'n/a':>12}")
        else:
            every = ", ".join(f"{x['rate']:.0f}" for x in runs[key])
            print(f"{name:<28}{r['rate']:>12.0f}{r['p50']:>12.0f}{r['p99']:>12.0f}   {every}")
    if fg and qf:
        print(f"{'ratio fixgate/quickfix':<28}{fg['rate'] / qf['rate']:>11.2f}x"
              f"{qf['p50'] / fg['p50']:>11.2f}x{qf['p99'] / fg['p99']:>11.2f}x"
              "   (latency ratios: quickfix/fixgate, above 1x fixgate is faster)")


if __name__ == "__main__":
    main()
