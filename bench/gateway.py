"""The broker gateway end to end: orders per second, order-to-ack and order-to-fill latency.

The whole path is measured: client FIX session -> vetting -> internal venue (matching, journal)
-> booking in the registry (SQLite, or PostgreSQL with ``--db``) -> ExecutionReport back.  Each
server runs in its own process, started by this script, one after the other in the same run:

``fixgate``   ``fixgate run -c gateway.cfg`` (the real CLI) with a generated config in a temp
              dir: client sessions CLIENT1..CLIENTN (FIX.4.4), each entitled to its own account
              ACCn funded generously (cash and the three instruments), the internal venue with
              AAPL, MSFT, IBM at reference price 100.00, no duplicate-order detection, no throttle,
              registry on SQLite (default) or ``--db postgresql+psycopg2://...`` (a fresh schema
              made for the run and dropped after it)
``quickfix``  the peer: an executor on the quickfix Python binding (SocketAcceptor, FileStore,
              one acceptor session per client) answering every NewOrderSingle with an
              ExecutionReport fill (150=F, 39=2), like ``bench/session.py``'s

The load is the same for both: ``--procs`` load-generator processes of fixgate initiators
holding the N client sessions between them.  Order k of a session is a limit order for 100 at
100.00 on AAPL/MSFT/IBM (round robin per pair), a buy when k is even and a sell when k is odd,
so every sell crosses a resting buy (or the other way round) and every order is filled: booking
is exercised on every order.  Two modes:

``closed``  (default) every session keeps ``--window`` orders in flight (the slot frees on the
            order's ack, ExecType=0; for the quickfix executor its fill is its ack): max throughput.
``--rate R`` open loop: R orders per second in total, at a constant rate (spread over the
            sessions, sent from a 1 ms timer), for ``--seconds``; latency counts from each order's
            scheduled send time, so a stalled server shows up in the percentiles.

Also printed: the server process's CPU time (user + system, every thread) per order over the load
phase -- it moves far less with the machine's noise than orders/s.  With ``--db postgresql...`` the
PostgreSQL server's own CPU is not in it.  The gateway's registry writer runs its batches on a
thread of the gateway process by default (``--writer thread``, as the gateway's own default
``RegistryWriterProcess=N``) or in a child process (``--writer process``:
``RegistryWriterProcess=Y``); the child's CPU per order is printed in its own column
(``writer child``), the gateway process's (reactor, plus the writer thread if any) in ``CPU``, and
their sum in ``total``.

Throughput is orders acked per second (first order to last ack; the load generators' windows
overlap in time).  Order-to-ack: NewOrderSingle sent -> its ExecType=0 report received;
order-to-fill: sent -> the report with OrdStatus=2 received (an order resting until the counter
order arrives waits for it: it is a latency of the flow, not only of the server).  Not a test.

    python bench/gateway.py [--sessions 10] [--db sqlite|postgresql+psycopg2://...] [--orders 20000]
                            [--window 10] [--rate 2000 --seconds 10] [--procs 1] [--only fixgate|quickfix]
                            [--writer process|thread] [--profile gateway.prof]
"""

from __future__ import annotations

import argparse
import ast
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import free_port, percentile, quickfix_defaults  # noqa: E402  (bench/ is on sys.path when run)

SYMBOLS = (b"AAPL", b"MSFT", b"IBM")






def client_names(n: int) -> list[str]:
    return [f"CLIENT{i}" for i in range(1, n + 1)]


# --------------------------------------------------------------------------- servers


def gateway_config_text(port: int, sessions: int, workdir: Path, registry_url: str, writer: str = "process") -> str:
    funding = "USD:1000000000000.00,AAPL:1000000000,MSFT:1000000000,IBM:1000000000"
    blocks = "\n".join(
        f"[SESSION]\nBeginString=FIX.4.4\nTargetCompID={name}\nDataDictionary=FIX44.xml\n"
        f"Accounts=ACC{i}\nDefaultAccount=ACC{i}\n"
        for i, name in enumerate(client_names(sessions), start=1)
    )
    funds = "\n".join(f"Fund.ACC{i}={funding}" for i in range(1, sessions + 1))
    return f"""[DEFAULT]
ConnectionType=acceptor
SenderCompID=FIXGATE
SocketAcceptAddress=127.0.0.1
SocketAcceptPort={port}
SocketReuseAddress=Y
StartTime=00:00:00
EndTime=00:00:00
HeartBtInt=30
ResetOnLogon=Y
UseDataDictionary=Y
ValidateUserDefinedFields=N
FileStorePath={workdir}/store
FileStoreSync=N
FileLogPath={workdir}/log
ScreenLogShowIncoming=N
ScreenLogShowOutgoing=N
ScreenLogShowEvents=N
RegistryURL={registry_url}
RegistryWriterProcess={"Y" if writer == "process" else "N"}
OrderJournal={workdir}/orders.jsonl
InternalVenueName=INTERNAL
VenueJournal={workdir}/venue.journal
Instruments=AAPL 0.01 1 100.00;MSFT 0.01 1 100.00;IBM 0.01 1 100.00
RouteDefault=INTERNAL
{funds}

{blocks}"""


class PgSchema:
    """A fresh PostgreSQL schema for one run (search_path in the URL); dropped afterwards."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine, text

        self.name = f"bench_gw_{uuid.uuid4().hex[:10]}"
        self.base = url
        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with self.engine.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {self.name}"))
        sep = "&" if "?" in url else "?"
        self.url = f"{url}{sep}options=-csearch_path%3D{self.name}"

    def drop(self) -> None:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {self.name} CASCADE"))
        self.engine.dispose()


def start_fixgate(args: argparse.Namespace, workdir: Path, port: int, registry_url: str) -> subprocess.Popen:
    cfg = workdir / "gateway.cfg"
    cfg.write_text(gateway_config_text(port, args.sessions, workdir, registry_url, args.writer))
    cli = [sys.executable, "-m", "brokers.cli", "run", "-c", str(cfg)]
    if args.profile:
        cli = [sys.executable, "-m", "cProfile", "-o", args.profile, "-m", "brokers.cli", "run", "-c", str(cfg)]
    proc = subprocess.Popen(cli, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=workdir,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "listening on" in line:
            break
    else:
        raise RuntimeError("fixgate gateway did not start:\n" + "".join(lines[-30:]))
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    return proc


def serve_quickfix(workdir: Path, port: int, sessions: int) -> None:
    """The peer: a quickfix executor filling every NewOrderSingle (runs until SIGTERM)."""
    import quickfix as fix

    blocks = "".join(f"[SESSION]\nConnectionType=acceptor\nBeginString=FIX.4.4\nSenderCompID=FIXGATE\n"
                     f"TargetCompID={name}\nSocketAcceptPort={port}\n" for name in client_names(sessions))
    path = workdir / "qf_acceptor.cfg"
    path.write_text(quickfix_defaults(workdir) + blocks)
    stop = threading.Event()
    counter = [0]

    class Executor(fix.Application):
        def onCreate(self, sid): pass  # noqa: E704,N802
        def onLogon(self, sid): pass  # noqa: E704,N802
        def onLogout(self, sid): pass  # noqa: E704,N802
        def toAdmin(self, m, sid): pass  # noqa: E704,N802
        def fromAdmin(self, m, sid): pass  # noqa: E704,N802
        def toApp(self, m, sid): pass  # noqa: E704,N802

        def fromApp(self, message, sid):  # noqa: N802
            counter[0] += 1
            n = counter[0]
            report = fix.Message()
            report.getHeader().setField(fix.MsgType("8"))
            qty = message.getField(38)
            px = message.getField(44)
            for tag, value in ((6, px), (11, message.getField(11)), (14, qty), (17, f"E{n}"), (31, px), (32, qty),
                               (37, f"O{n}"), (38, qty), (39, "2"), (40, "2"), (54, message.getField(54)),
                               (55, message.getField(55)), (150, "F"), (151, "0")):
                report.setField(tag, value)
            fix.Session.sendToTarget(report, sid)

    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    settings = fix.SessionSettings(str(path))
    acceptor = fix.SocketAcceptor(Executor(), fix.FileStoreFactory(settings), settings, fix.FileLogFactory(settings))
    acceptor.start()
    print("fixgate-bench quickfix listening on", port, flush=True)
    stop.wait(timeout=1800)
    acceptor.stop()


def start_quickfix(args: argparse.Namespace, workdir: Path, port: int) -> subprocess.Popen:
    cmd = [sys.executable, __file__, "--role", "quickfix", "--workdir", str(workdir), "--port", str(port),
           "--sessions", str(args.sessions)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        raise RuntimeError(f"quickfix executor did not start: {line!r}")
    return proc


# --------------------------------------------------------------------------- load generator


def run_load(port: int, names: list[str], workdir: Path, orders: int, window: int, rate: float,
             seconds: float, start_at: float) -> dict:
    """Fixgate initiators for ``names``; returns raw latencies (µs) and timings."""
    from twisted.internet import defer, reactor, task

    from fix_engine.application import Application
    from fix_engine.codec.message import FixMessage
    from fix_engine.config import parse_config
    from fix_engine.transport.host import SessionRegistry
    from fix_engine.transport.initiator import InitiatorService
    from fix_engine.transport.session_builder import SessionBuilder

    blocks = "".join(f"[SESSION]\nConnectionType=initiator\nBeginString=FIX.4.4\nSenderCompID={name}\n"
                     f"TargetCompID=FIXGATE\nSocketConnectHost=127.0.0.1\nSocketConnectPort={port}\n"
                     f"ReconnectInterval=1\n" for name in names)
    cfg = f"""[DEFAULT]
FileStorePath={workdir}/store
FileStoreSync=N
HeartBtInt=30
ResetOnLogon=Y
UseDataDictionary=Y
DataDictionary=FIX44.xml
NonStopSession=Y
{blocks}"""
    registry = SessionRegistry()
    ack_lat: list[float] = []
    fill_lat: list[float] = []
    done: defer.Deferred = defer.Deferred()
    st = {"logged_on": 0, "sent": 0, "acked": 0, "filled": 0, "t0": 0.0, "t1": 0.0, "rejects": 0}
    per_session = orders // len(names) if not rate else 0
    rate_total = orders if rate else per_session * len(names)
    clock = time.perf_counter_ns

    class Load(Application):
        def __init__(self) -> None:
            self.sids: list = []
            self.sent: dict = {}            # session -> orders sent
            self.t_sent: dict = {}          # ClOrdID -> send time (ns)
            self.unacked: set = set()       # ClOrdIDs waiting for their ack
            self.ticker = None
            self.target = 0

        def on_logon(self, session_id) -> None:  # noqa: ANN001
            self.sids.append(session_id)
            self.sent[session_id] = 0
            if len(self.sids) == len(names):
                delay = max(0.0, start_at - time.time())
                reactor.callLater(delay, self.go)

        def go(self) -> None:
            st["t0"] = time.perf_counter()
            self.t0_ns = clock()
            if rate:
                self.ticker = task.LoopingCall(self.tick)
                self.ticker.start(0.001)
            else:
                for sid in self.sids:
                    for _ in range(min(window, per_session)):
                        self.send_one(sid, clock())

        def tick(self) -> None:
            now = clock()
            due = min(rate_total, int((now - self.t0_ns) * rate / 1e9) + 1)
            sids = self.sids
            while st["sent"] < due:
                k = st["sent"]
                intended = self.t0_ns + int(k * 1e9 / rate)
                self.send_one(sids[k % len(sids)], intended)
            if st["sent"] >= rate_total:
                self.ticker.stop()

        def send_one(self, sid, t_intended: int) -> None:  # noqa: ANN001
            k = self.sent[sid]
            self.sent[sid] = k + 1
            st["sent"] += 1
            cl = b"%s-%d" % (sid.sender_comp_id.encode(), k)
            order = FixMessage.new(
                "D", (11, cl), (21, b"1"), (38, b"100"), (40, b"2"), (44, b"100.00"),
                (54, b"2" if k & 1 else b"1"), (55, SYMBOLS[(k >> 1) % 3]), (59, b"0"),
                (60, b"20261122-10:00:00.000"),
            )
            self.t_sent[cl] = t_intended
            self.unacked.add(cl)
            registry.send_to_target(order, sid)

        def from_app(self, message: FixMessage, session_id) -> None:  # noqa: ANN001
            now = clock()
            cl = message.get_raw(11)
            exec_type = message.get_raw(150)
            if exec_type == b"8":
                st["rejects"] += 1
            if cl in self.unacked:  # the first report of an order is its ack (150=0, or F / 8)
                self.unacked.discard(cl)
                ack_lat.append((now - self.t_sent[cl]) / 1000.0)
                st["acked"] += 1
                if st["acked"] == rate_total:
                    st["t1"] = time.perf_counter()
                if not rate and self.sent[session_id] < per_session:
                    self.send_one(session_id, now)
            if message.get_raw(39) in (b"2", b"8"):
                start = self.t_sent.pop(cl, None)
                if start is not None:
                    fill_lat.append((now - start) / 1000.0)
                    st["filled"] += 1
            if st["filled"] == rate_total and not done.called:
                done.callback(None)

    app = Load()
    service = InitiatorService(parse_config(cfg, "bench-load").sessions, SessionBuilder(app), reactor,
                               registry=registry)
    limit = 120 + (seconds if rate else orders / 500)
    timeout = reactor.callLater(limit, lambda: done.called or done.callback(None))

    def finish(_: object) -> None:
        if timeout.active():
            timeout.cancel()
        defer.maybeDeferred(service.stopService).addBoth(lambda _: reactor.stop())

    done.addBoth(finish)
    reactor.callWhenRunning(service.startService)
    reactor.run()
    if not st["t1"]:
        st["t1"] = time.perf_counter()
    return {"acked": st["acked"], "filled": st["filled"], "sent": st["sent"], "rejects": st["rejects"],
            "t0": st["t0"] + time.time() - time.perf_counter(), "t1": st["t1"] + time.time() - time.perf_counter(),
            "ack": ack_lat, "fill": fill_lat}


def drive(args: argparse.Namespace, port: int, workdir: Path) -> dict[str, float]:
    """Start the load generators against ``port``; merge their results."""
    names = client_names(args.sessions)
    procs = max(1, min(args.procs, len(names)))
    groups = [names[i::procs] for i in range(procs)]
    start_at = time.time() + 3.0 + args.sessions * 0.02
    orders = args.orders if not args.rate else int(args.rate * args.seconds)
    children = []
    for i, group in enumerate(groups):
        part = orders * len(group) // len(names)
        rate = args.rate * len(group) / len(names) if args.rate else 0
        d = workdir / f"load{i}"
        d.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, __file__, "--role", "load", "--port", str(port), "--workdir", str(d),
               "--names", ",".join(group), "--orders", str(int(rate * args.seconds) if rate else part),
               "--window", str(args.window), "--rate", str(rate), "--seconds", str(args.seconds),
               "--start-at", repr(start_at)]
        children.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True))
    outs = []
    for child in children:
        out, _ = child.communicate(timeout=1800)
        if child.returncode != 0:
            raise RuntimeError(f"load generator failed ({child.returncode})")
        outs.append(ast.literal_eval(out.strip().splitlines()[-1]))
    acked = sum(o["acked"] for o in outs)
    elapsed = max(o["t1"] for o in outs) - min(o["t0"] for o in outs)
    ack = [x for o in outs for x in o["ack"]]
    fill = [x for o in outs for x in o["fill"]]
    return {"sent": sum(o["sent"] for o in outs), "acked": acked, "filled": sum(o["filled"] for o in outs),
            "rejects": sum(o["rejects"] for o in outs), "rate": acked / elapsed if elapsed > 0 else float("nan"),
            "ack50": percentile(ack, 50), "ack99": percentile(ack, 99),
            "fill50": percentile(fill, 50), "fill99": percentile(fill, 99)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its threads so far (Linux ``/proc``; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    """The live child processes of ``pid`` (Linux ``/proc``): the gateway's registry writer process."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def stop_server(proc: subprocess.Popen, sig: int) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_server(server: str, args: argparse.Namespace, tmp: Path) -> dict[str, float]:
    workdir = tmp / server
    workdir.mkdir()
    port = free_port()
    schema = None
    if server == "fixgate":
        if args.db == "sqlite":
            url = f"sqlite:///{workdir / 'registry.db'}"
        else:
            schema = PgSchema(args.db)
            url = schema.url
        try:
            proc = start_fixgate(args, workdir, port, url)
        except BaseException:
            if schema is not None:
                schema.drop()
            raise
    else:
        proc = start_quickfix(args, workdir, port)
    try:
        children = child_pids(proc.pid)
        cpu0 = cpu_seconds(proc.pid)
        child0 = sum(cpu_seconds(c) for c in children)
        r = drive(args, port, workdir)
        r["cpu_us"] = (cpu_seconds(proc.pid) - cpu0) / max(1, r["acked"]) * 1e6
        r["child_cpu_us"] = (sum(cpu_seconds(c) for c in children) - child0) / max(1, r["acked"]) * 1e6
        return r
    finally:
        stop_server(proc, signal.SIGINT if server == "fixgate" else signal.SIGTERM)
        if schema is not None:
            schema.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--db", default="sqlite", help="registry: sqlite (a file) or a postgresql+psycopg2:// URL")
    parser.add_argument("--orders", type=int, default=20000, help="closed loop: orders in total")
    parser.add_argument("--window", type=int, default=10, help="closed loop: orders in flight per session")
    parser.add_argument("--rate", type=float, default=0.0, help="open loop: orders per second in total")
    parser.add_argument("--seconds", type=float, default=10.0, help="open loop: duration")
    parser.add_argument("--procs", type=int, default=1, help="load-generator processes")
    parser.add_argument("--only", choices=["fixgate", "quickfix"], default=None)
    parser.add_argument("--writer", choices=["process", "thread"], default="thread",
                        help="fixgate's registry writer: a thread of the gateway process (RegistryWriterProcess=N, "
                             "the default) or a child process (Y)")
    parser.add_argument("--profile", default=None, help="cProfile the gateway process into this file")
    parser.add_argument("--role", choices=["quickfix", "load"], help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--names", help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "quickfix":
        serve_quickfix(Path(args.workdir), args.port, args.sessions)
        return
    if args.role == "load":
        r = run_load(args.port, args.names.split(","), Path(args.workdir), args.orders, args.window, args.rate,
                     args.seconds, args.start_at)
        print(repr(r))
        return
    if args.profile:
        args.profile = str(Path(args.profile).resolve())
    results: dict[str, dict[str, float] | None] = {"fixgate": None, "quickfix": None}
    with tempfile.TemporaryDirectory() as tmp:
        for server in ("quickfix", "fixgate"):
            if args.only not in (None, server):
                continue
            if server == "quickfix":
                try:
                    import quickfix  # noqa: F401
                except ImportError:
                    continue
            results[server] = run_server(server, args, Path(tmp))
    db = "SQLite" if args.db == "sqlite" else "PostgreSQL"
    mode = f"open loop {args.rate:.0f} orders/s for {args.seconds:.0f}s" if args.rate else \
        f"closed loop, window {args.window}/session, {args.orders} orders"
    print(f"gateway end to end: {args.sessions} sessions, registry {db}, {mode}, {args.procs} load process(es), "
          f"registry writer: {args.writer}")
    print(f"{'server':<40}{'orders/s':>10}{'ack p50':>10}{'ack p99':>10}{'fill p50':>10}{'fill p99':>10}"
          f"{'acked':>8}{'filled':>8}{'rej':>6}{'CPU us/order':>14}{'writer child':>14}{'total':>8}"
          f"   (latency ms; server CPU, all threads)")
    for name, key in (("fixgate gateway (vet+venue+registry)", "fixgate"),
                      ("quickfix executor (Python binding)", "quickfix")):
        r = results[key]
        if r is None:
            print(f"{name:<40}{'n/a':>10}")
            continue
        print(f"{name:<40}{r['rate']:>10.0f}{r['ack50'] / 1000:>10.2f}{r['ack99'] / 1000:>10.2f}"
              f"{r['fill50'] / 1000:>10.2f}{r['fill99'] / 1000:>10.2f}{r['acked']:>8}{r['filled']:>8}"
              f"{r['rejects']:>6}{r['cpu_us']:>14.0f}{r.get('child_cpu_us', 0.0):>14.0f}"
              f"{r['cpu_us'] + r.get('child_cpu_us', 0.0):>8.0f}")
    fg, qf = results["fixgate"], results["quickfix"]
    if fg and qf:
        print(f"{'ratio fixgate/quickfix':<40}{fg['rate'] / qf['rate']:>9.2f}x{qf['ack50'] / fg['ack50']:>9.2f}x"
              f"{qf['ack99'] / fg['ack99']:>9.2f}x   (latency: quickfix/fixgate, above 1x fixgate is faster)")


if __name__ == "__main__":
    main()
