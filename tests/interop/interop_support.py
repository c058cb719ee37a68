"""Trial-side support for the interop tests: fixgate services, a recording fixgate application,
event-driven waits on the quickfix peer, a TCP "cable" that can be cut, and child processes.

Every wait is a Deferred with a timeout (no sleeps).  The quickfix engine runs its own threads;
its callbacks reach the reactor through ``reactor.callFromThread``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from twisted.internet import defer, protocol, reactor, threads
from twisted.protocols import portforward
from twisted.trial import unittest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared test helpers

import event_waits  # noqa: E402
from qf_peer import PeerEvent, QuickFixPeer, free_port, qf_dictionary_lines, qf_settings  # noqa: E402

from fix_engine.application import Application  # noqa: E402
from fix_engine.codec.message import FixMessage  # noqa: E402
from fix_engine.config import parse_config  # noqa: E402
from fix_engine.session.session_id import SessionID  # noqa: E402
from fix_engine.transport.acceptor import AcceptorService  # noqa: E402
from fix_engine.transport.host import SessionHost, SessionRegistry  # noqa: E402
from fix_engine.transport.initiator import InitiatorService  # noqa: E402
from fix_engine.transport.session_builder import SessionBuilder  # noqa: E402

FIXGATE = "FIXGATE"
QF = "QF"
TRANSACT_TIME = "20260101-10:00:00.000"


@dataclass(frozen=True)
class Version:
    """A FIX version as both engines configure it."""

    begin_string: str
    default_appl_ver_id: str = ""

    @property
    def fixgate_dictionary_lines(self) -> str:
        if self.begin_string == "FIXT.1.1":
            app = {"FIX.5.0": "FIX50", "FIX.5.0SP1": "FIX50SP1", "FIX.5.0SP2": "FIX50SP2"}[
                self.default_appl_ver_id
            ]
            return (
                f"DefaultApplVerID={self.default_appl_ver_id}\n"
                f"TransportDataDictionary=FIXT11.xml\nAppDataDictionary={app}.xml\n"
            )
        return f"DataDictionary={self.begin_string.replace('.', '')}.xml\n"

    @property
    def qf_dictionary_lines(self) -> str:
        return qf_dictionary_lines(self.begin_string, self.default_appl_ver_id or "FIX.5.0SP2")

    @property
    def fix42(self) -> bool:
        return self.begin_string == "FIX.4.2"


FIX44 = Version("FIX.4.4")
FIX42 = Version("FIX.4.2")
FIX50SP2 = Version("FIXT.1.1", "FIX.5.0SP2")


# ----------------------------------------------------------------------------- messages


def order_fields(cl_ord_id: str, symbol: str = "IBM") -> list[tuple[int, str]]:
    """A NewOrderSingle body (valid in FIX.4.2, 4.4 and 5.0SP2) for the quickfix peer."""
    return [
        (11, cl_ord_id),
        (21, "1"),
        (38, "100"),
        (40, "2"),
        (44, "10.5"),
        (54, "1"),
        (55, symbol),
        (60, TRANSACT_TIME),
    ]


def execution_report(order: FixMessage, fix42: bool) -> FixMessage:
    """A filled ExecutionReport answering ``order``; ExecID derives from ClOrdID (duplicates are visible)."""
    cl = order.get_raw(11) or b""
    report = FixMessage.new(
        "8",
        (6, order.get_raw(44)),
        (11, cl),
        (14, order.get_raw(38)),
        (17, b"E-" + cl),
        (31, order.get_raw(44)),
        (32, order.get_raw(38)),
        (37, b"O-" + cl),
        (38, order.get_raw(38)),
        (39, "2"),
        (54, order.get_raw(54)),
        (55, order.get_raw(55)),
        (150, "2" if fix42 else "F"),
        (151, "0"),
    )
    if fix42:
        report.set(20, "0")
    return report


def news(headline: str) -> FixMessage:
    """An unsolicited News (35=B) with one line of text (a repeating group)."""
    return FixMessage.new("B", (148, headline)).add_group(33, [[(58, f"text of {headline}")]])


# ----------------------------------------------------------------------------- fixgate side


@dataclass
class AppEvent:
    kind: str
    session_id: SessionID
    message: FixMessage | None = None


@dataclass
class FixgateApp(Application):
    """Records every callback; answers each NewOrderSingle with a filled ExecutionReport."""

    registry: SessionRegistry = field(default_factory=SessionRegistry)
    execute: bool = True
    events: list[AppEvent] = field(default_factory=list)
    _waiters: list[tuple[Callable[[AppEvent], bool], defer.Deferred]] = field(default_factory=list)

    def _record(self, event: AppEvent) -> None:
        # waits fire on the next reactor turn: the waiting test resumes after the session has
        # finished with this message (e.g. consumed its MsgSeqNum), not inside the callback
        event_waits.record(self.events, self._waiters, event, next_turn=True)

    def on_create(self, session_id: SessionID) -> None:
        self._record(AppEvent("create", session_id))

    def on_logon(self, session_id: SessionID) -> None:
        self._record(AppEvent("logon", session_id))

    def on_logout(self, session_id: SessionID) -> None:
        self._record(AppEvent("logout", session_id))

    def from_admin(self, message: FixMessage, session_id: SessionID) -> None:
        self._record(AppEvent("from_admin", session_id, message))

    def to_admin(self, message: FixMessage, session_id: SessionID) -> None:
        self._record(AppEvent("to_admin", session_id, message))

    def to_app(self, message: FixMessage, session_id: SessionID) -> None:
        self._record(AppEvent("to_app", session_id, message))

    def from_app(self, message: FixMessage, session_id: SessionID) -> None:
        self._record(AppEvent("from_app", session_id, message))
        if self.execute and message.msg_type == "D":
            fix42 = session_id.begin_string == "FIX.4.2"
            self.registry.send_to_target(execution_report(message, fix42), session_id)

    def matching(self, predicate: Callable[[AppEvent], bool]) -> list[AppEvent]:
        return [e for e in self.events if predicate(e)]

    def count(self, predicate: Callable[[AppEvent], bool] | str) -> int:
        return len(self.matching(_app_predicate(predicate)))

    def wait(
        self, predicate: Callable[[AppEvent], bool] | str, timeout: float = 15.0, *, seen: bool = True
    ) -> defer.Deferred:
        """Fires with the first matching event (already recorded ones count when ``seen``)."""
        return event_waits.wait_for(
            self.events, self._waiters, _app_predicate(predicate), timeout, seen=seen,
            describe=lambda: [(e.kind, e.message and e.message.msg_type) for e in self.events],
        )


def _app_predicate(predicate: Callable[[AppEvent], bool] | str) -> Callable[[AppEvent], bool]:
    if isinstance(predicate, str):
        kind = predicate
        return lambda e: e.kind == kind
    return predicate


def fx(kind: str, msg_type: str | None = None, **tags: str) -> Callable[[AppEvent], bool]:
    """Predicate on fixgate events: ``fx("from_app", "D", t11="A1")``."""

    def check(e: AppEvent) -> bool:
        if e.kind != kind:
            return False
        if msg_type is None and not tags:
            return True
        if e.message is None or (msg_type is not None and e.message.msg_type != msg_type):
            return False
        return all(e.message.get(int(name[1:])) == value for name, value in tags.items())

    return check


def fixgate_cfg(
    *,
    initiator: bool,
    version: Version,
    port: int,
    workdir: Path,
    sender: str = FIXGATE,
    target: str = QF,
    extra: str = "",
) -> str:
    role = (
        f"ConnectionType=initiator\nReconnectInterval=1\nSocketConnectHost=127.0.0.1\nSocketConnectPort={port}\n"
        if initiator
        else f"ConnectionType=acceptor\nSocketAcceptAddress=127.0.0.1\nSocketAcceptPort={port}\n"
    )
    name = "fgi" if initiator else "fga"
    return (
        f"[DEFAULT]\n{role}FileStorePath={workdir / (name + '-store')}\nFileLogPath={workdir / (name + '-log')}\n"
        f"NonStopSession=Y\nHeartBtInt=30\nLogoutTimeout=2\n{extra.strip()}\n\n"
        f"[SESSION]\nBeginString={version.begin_string}\nSenderCompID={sender}\nTargetCompID={target}\n"
        f"{version.fixgate_dictionary_lines}"
    )


def qf_session(version: Version, sender: str, target: str, extra: str = "") -> str:
    return f"BeginString={version.begin_string}\nSenderCompID={sender}\nTargetCompID={target}\n{version.qf_dictionary_lines}{extra}"


# ----------------------------------------------------------------------------- quickfix side on the reactor


class PeerWatcher:
    """Deferred-based waits on a :class:`QuickFixPeer` (its callbacks come in via callFromThread)."""

    def __init__(self, peer: QuickFixPeer) -> None:
        self.peer = peer
        self._waiters: list[tuple[Callable[[PeerEvent], bool], defer.Deferred]] = []
        peer.listeners.append(lambda event: reactor.callFromThread(self._check, event))

    def _check(self, event: PeerEvent) -> None:
        for waiter in list(self._waiters):
            predicate, d = waiter
            if predicate(event):
                self._waiters.remove(waiter)
                d.callback(event)

    def wait(
        self, predicate: Callable[[PeerEvent], bool], timeout: float = 15.0, *, seen: bool = True
    ) -> defer.Deferred:
        """Fires with the first matching event (already recorded ones count when ``seen``)."""
        d: defer.Deferred = defer.Deferred()
        entry = (predicate, d)
        self._waiters.append(entry)  # before scanning history: an event arriving now is not missed
        if seen:
            for event in list(self.peer.history):
                if predicate(event):
                    self._waiters.remove(entry)
                    return defer.succeed(event)

        def expire() -> None:
            if entry in self._waiters:
                self._waiters.remove(entry)
                d.errback(
                    AssertionError(
                        f"quickfix: no matching event within {timeout}s; saw {self.peer.summary()}"
                    )
                )

        call = reactor.callLater(timeout, expire)
        d.addBoth(lambda r: (call.active() and call.cancel(), r)[1])
        return d

    def wait_count(
        self, predicate: Callable[[PeerEvent], bool], n: int, timeout: float = 15.0
    ) -> defer.Deferred:
        """Fires once ``n`` events matching ``predicate`` have been recorded (earlier ones count)."""
        return self.wait(lambda _event: self.peer.count(predicate) >= n, timeout)


def poll_until(
    condition: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02
) -> defer.Deferred:
    """Check ``condition`` on the reactor every ``interval`` until true; fails after ``timeout``.

    For state quickfix updates after its callback returns (e.g. the expected MsgSeqNum is
    incremented after ``fromApp``), where there is no event to wait for."""
    d: defer.Deferred = defer.Deferred()
    deadline = reactor.seconds() + timeout

    def check() -> None:
        if condition():
            d.callback(None)
        elif reactor.seconds() > deadline:
            d.errback(AssertionError(f"condition not met within {timeout}s"))
        else:
            reactor.callLater(interval, check)

    check()
    return d


# ----------------------------------------------------------------------------- a cable that can be cut


class _CableServer(portforward.ProxyServer):
    def connectionMade(self) -> None:
        self.factory.cable.connections.add(self)
        super().connectionMade()

    def connectionLost(self, reason: object) -> None:
        self.factory.cable.connections.discard(self)
        super().connectionLost(reason)


class Cable:
    """A TCP forwarder 127.0.0.1:``port`` -> 127.0.0.1:``upstream``: ``cut()`` aborts every
    connection and stops listening (new connections are refused); ``restore()`` listens again."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.connections: set[_CableServer] = set()
        self._listening = None

    def plug(self) -> None:
        factory = portforward.ProxyFactory("127.0.0.1", self.upstream)
        factory.protocol = _CableServer
        factory.cable = self
        self._listening = reactor.listenTCP(self.port, factory, interface="127.0.0.1")

    async def cut(self) -> None:
        listening, self._listening = self._listening, None
        if listening is not None:
            await defer.maybeDeferred(listening.stopListening)
        for server in list(self.connections):
            server.transport.abortConnection()
            if server.peer is not None and server.peer.transport is not None:
                server.peer.transport.abortConnection()

    restore = plug


# ----------------------------------------------------------------------------- child processes


class ChildProcess(protocol.ProcessProtocol):
    """A child process whose stdout lines are watched; ``ended`` fires with its exit code."""

    def __init__(self) -> None:
        self.out = b""
        self.err = b""
        self.ended: defer.Deferred = defer.Deferred()
        self.exit_code: int | None = None
        self._line_waiters: list[tuple[bytes, defer.Deferred]] = []

    @classmethod
    def spawn(cls, args: list[str], cwd: Path | None = None) -> ChildProcess:
        child = cls()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        reactor.spawnProcess(child, args[0], args, env=env, path=str(cwd) if cwd else None)
        return child

    def outReceived(self, data: bytes) -> None:
        self.out += data
        for waiter in list(self._line_waiters):
            if waiter[0] in self.out:
                self._line_waiters.remove(waiter)
                waiter[1].callback(self.out)

    def errReceived(self, data: bytes) -> None:
        self.err += data

    def processEnded(self, reason: object) -> None:
        self.exit_code = getattr(reason.value, "exitCode", None)  # type: ignore[attr-defined]
        for text, d in self._line_waiters:
            d.errback(
                AssertionError(
                    f"child ended (exit {self.exit_code}) before printing {text!r}; stderr: {self.err[-2000:]!r}"
                )
            )
        self._line_waiters = []
        self.ended.callback(self.exit_code)

    def wait_output(self, text: bytes, timeout: float = 20.0) -> defer.Deferred:
        """Fires when ``text`` has appeared on stdout (bounded)."""
        if text in self.out:
            return defer.succeed(self.out)
        if self.ended.called:
            return defer.fail(AssertionError(f"child already ended; stderr: {self.err[-2000:]!r}"))
        d: defer.Deferred = defer.Deferred()
        self._line_waiters.append((text, d))
        return d.addTimeout(timeout, reactor)

    def wait_ended(self, timeout: float = 20.0) -> defer.Deferred:
        d: defer.Deferred = defer.Deferred()
        self.ended.addBoth(lambda r: (None if d.called else d.callback(r), r)[1])
        return d.addTimeout(timeout, reactor)

    @property
    def running(self) -> bool:
        return not self.ended.called

    def signal(self, name: str) -> None:
        if self.running:
            try:
                self.transport.signalProcess(name)
            except Exception:  # already gone
                pass

    async def stop(self, grace: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if it has not ended within ``grace`` seconds."""
        if not self.running:
            return
        self.signal("TERM")
        try:
            await self.wait_ended(grace)
        except defer.TimeoutError:
            self.signal("KILL")
            await self.wait_ended(10)


# ----------------------------------------------------------------------------- the test base


class InteropTestCase(unittest.TestCase):
    """Owns a temp dir, and stops what a test started: quickfix engines, children, cables, services."""

    timeout = 90

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fixgate-interop-"))
        self._peers: list[QuickFixPeer] = []
        self._services: list[object] = []
        self._cables: list[Cable] = []
        self._children: list[ChildProcess] = []

    async def _teardown(self) -> None:
        # fixgate first: quickfix 1.16 may crash in stop() while a peer keeps reconnecting
        for service in reversed(self._services):
            if service.running:
                await defer.maybeDeferred(service.stopService)
            for port in list(getattr(service, "ports", [])):
                await defer.maybeDeferred(port.stopListening)
        for child in self._children:
            await child.stop()
        for cable in self._cables:
            await cable.cut()
        for peer in self._peers:  # off the reactor thread: stop() blocks until quickfix's thread ends
            await threads.deferToThread(peer.stop)  # stop(force=True) crashes quickfix 1.16
        if not os.environ.get("FIXGATE_KEEP_INTEROP_TMP"):  # set it to keep stores and logs
            shutil.rmtree(self.tmp, ignore_errors=True)

    def tearDown(self) -> defer.Deferred:
        return defer.ensureDeferred(self._teardown())

    # ----- quickfix
    def quickfix(
        self, settings_text: str, *, initiator: bool, auto_execute: bool = False
    ) -> tuple[QuickFixPeer, PeerWatcher]:
        peer = QuickFixPeer(settings_text, initiator=initiator, auto_execute=auto_execute)
        watcher = PeerWatcher(peer)
        peer.start(self.tmp)
        self._peers.append(peer)
        return peer, watcher

    def qf_initiator(
        self,
        version: Version,
        port: int,
        *,
        sender: str = QF,
        target: str = FIXGATE,
        extra: str = "",
        session_extra: str = "",
    ) -> tuple[QuickFixPeer, PeerWatcher]:
        text = qf_settings(
            initiator=True,
            workdir=self.tmp,
            port=port,
            extra=extra,
            sessions=[qf_session(version, sender, target, session_extra)],
        )
        return self.quickfix(text, initiator=True)

    def qf_acceptor(
        self,
        version: Version,
        port: int,
        *,
        sender: str = QF,
        target: str = FIXGATE,
        extra: str = "",
        auto_execute: bool = True,
    ) -> tuple[QuickFixPeer, PeerWatcher]:
        text = qf_settings(
            initiator=False,
            workdir=self.tmp,
            port=port,
            extra=extra,
            sessions=[qf_session(version, sender, target)],
        )
        return self.quickfix(text, initiator=False, auto_execute=auto_execute)

    # ----- fixgate
    async def fixgate_acceptor(
        self, app: FixgateApp, version: Version, port: int, extra: str = ""
    ) -> AcceptorService:
        cfg = fixgate_cfg(initiator=False, version=version, port=port, workdir=self.tmp, extra=extra)
        service = AcceptorService(
            parse_config(cfg, "interop-acceptor.cfg").sessions,
            SessionBuilder(app),
            reactor,
            registry=app.registry,
        )
        self._services.append(service)
        await service.listen()
        service.startService()
        return service

    def fixgate_initiator(
        self, app: FixgateApp, version: Version, port: int, extra: str = ""
    ) -> InitiatorService:
        cfg = fixgate_cfg(initiator=True, version=version, port=port, workdir=self.tmp, extra=extra)
        service = InitiatorService(
            parse_config(cfg, "interop-initiator.cfg").sessions,
            SessionBuilder(app),
            reactor,
            registry=app.registry,
        )
        self._services.append(service)
        service.startService()
        return service

    # ----- network and processes
    def cable(self, upstream: int) -> Cable:
        cable = Cable(upstream)
        cable.plug()
        self._cables.append(cable)
        return cable

    def spawn(self, args: list[str], cwd: Path | None = None) -> ChildProcess:
        child = ChildProcess.spawn(args, cwd)
        self._children.append(child)
        return child


def fixgate_session_id(version: Version, sender: str = FIXGATE, target: str = QF) -> SessionID:
    return SessionID(version.begin_string, sender, target)


def host_of(app: FixgateApp, version: Version) -> SessionHost:
    host = app.registry.get(fixgate_session_id(version))
    assert host is not None
    return host
