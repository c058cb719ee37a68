"""The internal venue over FIX: orders per second and order-to-ack latency on 127.0.0.1.

Two servers take the same load in the same run, one after the other, each in its own process:

``venue``     fixgate's venue: acceptor + :class:`venues.internal.fix_exchange.FixExchange` +
              :class:`venues.internal.venue.InternalVenue` with its journal on (a file journal;
              ``--journal sqlite`` for the SQLite journal), matching every order.  Group commit
              per reactor batch is on (``GroupCommit=Y``: the journal is flushed once per batch of
              received data, before that batch's acks go out); ``--no-group-commit`` flushes per command
``quickfix``  an executor on the quickfix Python binding (SocketAcceptor, FileStore, Python
              ``fromApp``) that answers every NewOrderSingle with an ExecutionReport ack (150=0)

The client is the same for both: a fixgate initiator in a third process keeping ``--window``
orders in flight, each a FIX.4.4 NewOrderSingle (buys at one price: every order rests, so every
order gets exactly one ack; ``--cross`` alternates buys and sells so half of them trade).  It
measures throughput (first order to last ack) and the latency from sending an order to receiving
its ack (ExecType=0 with its ClOrdID).  Not a test.

    python bench/venue_fix.py [--orders 20000] [--window 50] [--only venue|quickfix] [--cross] [--no-group-commit] [--no-log]
                              [--profile venue.prof]
    python bench/venue_fix.py --in-process [--orders 20000] [--cross] [--profile venue.prof]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
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
    percentile,
    quickfix_defaults,
    quickfix_log_factories,
)


def cpu_seconds() -> float:
    """User + system CPU time of this process so far (all threads)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def write_cpu(workdir: Path, start: float) -> None:
    """Record the server's CPU time since READY (read by :func:`run_server`): unlike the
    throughput, it hardly moves when other processes share the cores."""
    (workdir / "cpu.txt").write_text(repr(cpu_seconds() - start))






# --------------------------------------------------------------------------- servers


def serve_venue(workdir: Path, port: int, journal: str, group_commit: bool = True, profile: str | None = None) -> None:
    """The fixgate venue (run until the client logs out)."""
    from twisted.internet import defer, reactor

    from venues.cli import VenueFixService, load_venue_config

    journal_line = (f"JournalURL=sqlite:///{workdir / 'venue.db'}" if journal == "sqlite"
                    else f"JournalFile={workdir / 'venue.journal'}")
    cfg_text = f"""[DEFAULT]
ConnectionType=acceptor
SenderCompID=FIXGATE
SocketAcceptAddress=127.0.0.1
SocketAcceptPort={port}
NonStopSession=Y
ResetOnLogon=Y
HeartBtInt=30
UseDataDictionary=Y
FileStorePath={workdir}/venue_store
FileStoreSync=N
{fixgate_log_line(workdir, 'venue_log')}
ScreenLogShowIncoming=N
ScreenLogShowOutgoing=N
ScreenLogShowEvents=N
GroupCommit={"Y" if group_commit else "N"}
{journal_line}
Instruments=IBM 0.01 1 10.00
AdminPort=0

[SESSION]
BeginString=FIX.4.4
TargetCompID=*
DataDictionary=FIX44.xml
"""
    path = workdir / "venue.cfg"
    path.write_text(cfg_text)
    service = VenueFixService(load_venue_config(path), reactor)
    original = service.exchange.on_logout

    def on_logout(session_id) -> None:  # noqa: ANN001
        original(session_id)
        reactor.callLater(0.1, stop)

    service.exchange.on_logout = on_logout  # type: ignore[method-assign]

    cpu_start = [0.0]
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()

    def stop() -> None:
        write_cpu(workdir, cpu_start[0])
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        defer.ensureDeferred(service.stop()).addBoth(lambda _: reactor.stop())

    async def start() -> None:
        await service.start()
        cpu_start[0] = cpu_seconds()
        if profiler is not None:
            profiler.enable()
        print("READY", flush=True)

    reactor.callWhenRunning(lambda: defer.ensureDeferred(start()))
    reactor.callLater(900, stop)
    reactor.run()


def serve_quickfix(workdir: Path, port: int) -> None:
    """A quickfix executor: every NewOrderSingle is acknowledged (ExecutionReport 150=0)."""
    import quickfix as fix

    path = workdir / "qf_acceptor.cfg"
    path.write_text(quickfix_defaults(workdir) + f"""[SESSION]
ConnectionType=acceptor
BeginString=FIX.4.4
SenderCompID=FIXGATE
TargetCompID=CLIENT
SocketAcceptPort={port}
""")
    logged_out = threading.Event()
    counter = [0]

    class Executor(fix.Application):
        def onCreate(self, sid): pass  # noqa: E704,N802
        def onLogon(self, sid): pass  # noqa: E704,N802
        def toAdmin(self, m, sid): pass  # noqa: E704,N802
        def fromAdmin(self, m, sid): pass  # noqa: E704,N802
        def toApp(self, m, sid): pass  # noqa: E704,N802

        def onLogout(self, sid):  # noqa: N802
            logged_out.set()

        def fromApp(self, message, sid):  # noqa: N802
            counter[0] += 1
            n = counter[0]
            report = fix.Message()
            report.getHeader().setField(fix.MsgType("8"))
            qty = message.getField(38)
            for tag, value in ((6, "0"), (11, message.getField(11)), (14, "0"), (17, f"E{n}"), (37, f"O{n}"),
                               (38, qty), (39, "0"), (40, message.getField(40)), (44, message.getField(44)),
                               (54, message.getField(54)), (55, message.getField(55)), (150, "0"), (151, qty)):
                report.setField(tag, value)
            fix.Session.sendToTarget(report, sid)

    settings = fix.SessionSettings(str(path))
    acceptor = fix.SocketAcceptor(Executor(), fix.FileStoreFactory(settings), settings,
                                   *quickfix_log_factories(fix, settings))
    acceptor.start()
    cpu_start = cpu_seconds()
    print("READY", flush=True)
    logged_out.wait(timeout=900)
    write_cpu(workdir, cpu_start)
    acceptor.stop()


# --------------------------------------------------------------------------- in process


def run_in_process(orders: int, window: int, cross: bool, workdir: Path, profile: str | None,
                   runs: int = 3) -> dict[str, float]:
    """The venue's own share, without sockets or the session layer: parsed NewOrderSingles into
    ``FixExchange.from_app`` (a file journal; the exchange's group commit runs once per ``window``
    orders, as a reactor turn would), reports handed to a host that drops them.  Returns CPU us per
    order (best of ``runs``)."""
    import gc
    import time as _time

    from fix_engine.codec.encoding import encode
    from fix_engine.codec.framing import FrameParser
    from fix_engine.codec.message import FixMessage
    from fix_engine.session.session_id import SessionID
    from venues.internal.fix_exchange import FixExchange
    from venues.internal.journal import FileJournal
    from venues.internal.reference_data import parse_inline
    from venues.internal.venue import InternalVenue

    class Host:
        def __init__(self) -> None:
            self.sent = 0

        def send(self, message: object) -> bool:
            self.sent += 1
            return True

        def batched(self) -> contextlib.AbstractContextManager[None]:
            return contextlib.nullcontext()

    class Registry(dict):  # type: ignore[type-arg]
        pass

    class Clock:
        """The reactor's part: calls scheduled with callLater(0, ...) run once per ``window`` orders."""

        def __init__(self) -> None:
            self.pending: list = []

        def seconds(self) -> float:
            return _time.time()

        def callLater(self, delay: float, fn, *a):  # noqa: ANN001, ANN202, N802
            self.pending.append((fn, a))

        def run_pending(self) -> None:
            calls, self.pending = self.pending, []
            for fn, a in calls:
                fn(*a)

    sid = SessionID("FIX.4.4", "FIXGATE", "CLIENT")
    frames = []
    for n in range(orders):
        side = b"2" if cross and n % 2 else b"1"
        msg = FixMessage.new("D", (49, b"CLIENT"), (56, b"FIXGATE"), (34, b"%d" % (n + 2)),
                             (52, b"20261122-10:00:00.000"), (11, b"C%d" % n), (21, b"1"), (38, b"100"),
                             (40, b"2"), (44, b"10"), (54, side), (55, b"IBM"), (60, b"20261122-10:00:00.000"))
        frames.append(encode(msg, b"FIX.4.4"))
    parser = FrameParser()
    wire = b"".join(frames)
    best = float("inf")
    for run in range(runs):
        messages = [FixMessage.parse(f.raw) for f in parser.feed(wire)]
        journal = FileJournal(workdir / f"inproc{run}.journal")
        venue = InternalVenue("BENCH", parse_inline("IBM 0.01 1 10.00"),
                              journal, _time.time_ns, group_commit=True)
        registry = Registry()
        host = Host()
        registry[sid] = host
        clock = Clock()
        exchange = FixExchange(venue, registry, clock)
        exchange.on_logon(sid)
        from_app = exchange.from_app
        profiler = None
        if profile and run == runs - 1:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        gc.collect()
        t0 = _time.process_time()
        for i, msg in enumerate(messages, 1):
            from_app(msg, sid)
            if i % window == 0:
                clock.run_pending()  # the exchange's group commit: journal flush, then the reports
        clock.run_pending()
        elapsed = _time.process_time() - t0
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        venue.wait_snapshots()
        journal.close()
        best = min(best, elapsed)
        expected = orders + (orders if cross else 0)
        assert host.sent == expected, (host.sent, expected)
    return {"orders": float(orders), "cpu_us": best / orders * 1e6, "hash": venue.state_hash()}  # type: ignore[dict-item]


# --------------------------------------------------------------------------- the client


def run_client(port: int, orders: int, window: int, cross: bool, workdir: Path) -> dict[str, float]:
    from twisted.internet import defer, reactor

    from fix_engine.application import Application
    from fix_engine.codec.message import FixMessage
    from fix_engine.config import parse_config
    from fix_engine.transport.host import SessionRegistry
    from fix_engine.transport.initiator import InitiatorService
    from fix_engine.transport.session_builder import SessionBuilder

    cfg = f"""[DEFAULT]
FileStorePath={workdir}/client_store
FileStoreSync=N
HeartBtInt=30
ResetOnLogon=Y
UseDataDictionary=Y
DataDictionary=FIX44.xml
NonStopSession=Y
[SESSION]
ConnectionType=initiator
BeginString=FIX.4.4
SenderCompID=CLIENT
TargetCompID=FIXGATE
SocketConnectHost=127.0.0.1
SocketConnectPort={port}
ReconnectInterval=1
"""
    registry = SessionRegistry()
    sent_at: dict[bytes, int] = {}
    latencies: list[float] = []
    state = {"sent": 0, "acked": 0, "t0": 0.0, "t1": 0.0}
    done: defer.Deferred = defer.Deferred()

    class Client(Application):
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
            side = b"2" if cross and n % 2 else b"1"
            order = FixMessage.new("D", (11, cl), (21, b"1"), (38, b"100"), (40, b"2"), (44, b"10"), (54, side),
                                   (55, b"IBM"), (60, b"20261122-10:00:00.000"))
            sent_at[cl] = time.perf_counter_ns()
            registry.send_to_target(order, self.session_id)

        def from_app(self, message: FixMessage, session_id) -> None:  # noqa: ANN001
            if message.get_raw(150) != b"0":
                return
            start = sent_at.pop(message.get_raw(11), None)
            if start is None:
                return
            latencies.append((time.perf_counter_ns() - start) / 1000.0)
            state["acked"] += 1
            if state["sent"] < orders:
                self.send_one()
            elif state["acked"] == orders and not done.called:
                state["t1"] = time.perf_counter()
                done.callback(None)

    service = InitiatorService(parse_config(cfg, "bench-client").sessions, SessionBuilder(Client()), reactor,
                               registry=registry)
    timeout = reactor.callLater(600, lambda: done.called or done.errback(RuntimeError("client timed out")))

    def finish(result: object) -> None:
        if timeout.active():
            timeout.cancel()
        defer.maybeDeferred(service.stopService).addBoth(lambda _: reactor.stop())

    done.addBoth(finish)
    reactor.callWhenRunning(service.startService)
    reactor.run()
    elapsed = state["t1"] - state["t0"]
    return {"orders": float(state["acked"]), "rate": state["acked"] / elapsed if elapsed > 0 else float("nan"),
            "p50": percentile(latencies, 50), "p99": percentile(latencies, 99)}


# --------------------------------------------------------------------------- driver


def run_server(server: str, args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    port = free_port()
    me = [sys.executable, __file__, "--workdir", str(workdir), "--port", str(port), "--journal", args.journal]
    if args.no_group_commit:
        me.append("--no-group-commit")
    if args.profile and server == "venue":
        me += ["--profile", str(Path(args.profile).resolve())]
    proc = subprocess.Popen([*me, "--role", server], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line.strip() != "READY":
            raise RuntimeError(f"{server} did not start: {line!r}")
        client = [*me, "--role", "client", "--orders", str(args.orders), "--window", str(args.window)]
        if args.cross:
            client.append("--cross")
        out = subprocess.run(client, capture_output=True, text=True, check=True, timeout=900)
        proc.wait(timeout=60)
        result: dict[str, float] = ast.literal_eval(out.stdout.strip().splitlines()[-1])
        cpu = workdir / "cpu.txt"
        result["cpu_us"] = float(cpu.read_text()) / result["orders"] * 1e6 if cpu.exists() else float("nan")
        return result
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--window", type=int, default=50, help="orders in flight")
    parser.add_argument("--cross", action="store_true", help="alternate buys and sells (half the orders trade)")
    parser.add_argument("--journal", choices=["file", "sqlite"], default="file")
    parser.add_argument("--no-group-commit", action="store_true",
                        help="venue: flush the journal per command instead of once per reactor batch")
    parser.add_argument("--profile", metavar="FILE",
                        help="venue: write a cProfile of the server (READY to logout) to FILE (pstats format)")
    parser.add_argument("--in-process", action="store_true",
                        help="only the venue's own CPU per order: FixExchange.from_app on parsed messages, no "
                             "sockets or session layer (quickfix not needed)")
    parser.add_argument("--only", choices=["venue", "quickfix"], default=None)
    parser.add_argument("--no-log", action="store_true", help="neither server keeps a file message log")
    parser.add_argument("--role", choices=["venue", "quickfix", "client"], help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.no_log:
        os.environ[NO_LOG_ENV] = "1"  # the server processes inherit it
    if args.role == "venue":
        serve_venue(Path(args.workdir), args.port, args.journal, not args.no_group_commit, args.profile)
        return
    if args.role == "quickfix":
        serve_quickfix(Path(args.workdir), args.port)
        return
    if args.role == "client":
        print(repr(run_client(args.port, args.orders, args.window, args.cross, Path(args.workdir))))
        return
    if args.in_process:
        with tempfile.TemporaryDirectory() as tmp:
            r = run_in_process(args.orders, args.window, args.cross, Path(tmp), args.profile)
        print(f"venue in process: {args.orders} orders, {'crossing' if args.cross else 'resting'}, window "
              f"{args.window}: {r['cpu_us']:.1f} CPU us/order (best of 3)  state hash {str(r['hash'])[:16]}")
        return
    results: dict[str, dict[str, float] | None] = {"venue": None, "quickfix": None}
    with tempfile.TemporaryDirectory() as tmp:
        for server in ("quickfix", "venue"):
            if args.only not in (None, server):
                continue
            if server == "quickfix":
                try:
                    import quickfix  # noqa: F401
                except ImportError:
                    continue
            workdir = Path(tmp) / server
            workdir.mkdir()
            results[server] = run_server(server, args, workdir)
    fg, qf = results["venue"], results["quickfix"]
    print(f"venue over FIX: {args.orders} orders, window {args.window}, FIX.4.4, 127.0.0.1, "
          f"{'crossing' if args.cross else 'resting'} orders, venue journal {args.journal} "
          f"({'flush per command' if args.no_group_commit else 'group commit per reactor batch'}), same fixgate client")
    print(f"{'server':<34}{'orders/s':>10}{'p50 us':>10}{'p99 us':>10}{'server CPU us/order':>21}")
    for name, r in (("fixgate venue (match + journal)", fg), ("quickfix executor (Python binding)", qf)):
        if r is None:
            print(f"{name:<34}{'n/a':>10}")
        else:
            print(f"{name:<34}{r['rate']:>10.0f}{r['p50']:>10.0f}{r['p99']:>10.0f}{r['cpu_us']:>21.0f}")
    if fg and qf:
        print(f"{'ratio venue/quickfix':<34}{fg['rate'] / qf['rate']:>9.2f}x{qf['p50'] / fg['p50']:>9.2f}x"
              f"{qf['p99'] / fg['p99']:>9.2f}x{qf['cpu_us'] / fg['cpu_us']:>20.2f}x"
              f"   (latency and CPU: quickfix/venue, above 1x the venue is better)")


if __name__ == "__main__":
    main()
