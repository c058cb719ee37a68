"""A small runner for QuickFIX-style acceptance test scripts (``.def`` files) against the reflector.

The scripts follow QuickFIX's AT format (``quickfix/test/definitions/server/...``), one step a line:

``iCONNECT`` / ``i2,CONNECT``        connect test initiator 1 (or 2, ...) to the server
``iDISCONNECT`` / ``i2,DISCONNECT``  the initiator hangs up
``I<message>`` / ``I2,<message>``    the initiator sends ``<message>``
``E<message>`` / ``E2,<message>``    the server must send ``<message>`` next (on that connection)
``eDISCONNECT`` / ``e2,DISCONNECT``  the server must hang up next (nothing else arriving first)
``# ...`` and blank lines            comments

Fields of a message are separated by SOH, written as a raw ``\\x01``, as ``^A`` or as ``|``.  In
an ``I`` line, BodyLength (9) is inserted after BeginString and CheckSum (10) appended unless the
line gives them (so a script can send wrong ones; ``10=<WRONG>`` is the right CheckSum plus one,
a fixgate extension for messages whose CheckSum depends on ``<TIME>``); ``<TIME>``, ``<TIME-n>`` and ``<TIME+n>`` become
the current UTCTimestamp (offset by ``n`` seconds).  An ``E`` line is compared field by field, in
order, with the message received: BodyLength and CheckSum are not compared (they are verified
against the received bytes instead), SendingTime (52) only has to be present, and a field whose
expected value is ``<TIME...>`` or ``00000000-00:00:00[.000]`` (QuickFIX's placeholder) only has to
hold a UTCTimestamp.

The server is the shipped reflector: ``ReflectorApplication`` with the sessions of
``session_configs/reflector.cfg`` (every setting as shipped; only the port differs: 0, a free one),
plus a ``TW`` identity for each BeginString that the shipped file only names ``TW42``, ``TW50SP2``
and so on (QuickFIX's own acceptance server, ``test/cfg/at.cfg``, is ``ISLD`` <- ``TW`` for every
version, and the scripts log on as ``TW``).  It listens on a real 127.0.0.1 socket; the initiators
are real TCP clients.  Both run on a private Twisted reactor driven from this thread, so no global
reactor is involved and nothing sleeps.

Time: the sessions read a virtual clock that starts at the real time and only moves while an
``E``/``eDISCONNECT`` step waits with the connection idle: then it advances one second at a time
(ticking the sessions, as the acceptor's once-a-second timer does) until the expectation is met or
a bound is reached.  Heartbeat, TestRequest and Logout timeouts therefore run in milliseconds.
``<TIME>`` is read from the same clock.  Every wait is bounded in iterations, in virtual seconds and
in real seconds.

After the last step the runner checks that the server sent nothing that was not expected.
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from twisted.internet import defer, protocol, task
from twisted.internet.selectreactor import SelectReactor

from fix_engine.cli import DEFAULT_REFLECTOR_CONFIG
from fix_engine.config import load_config
from fix_engine.reflector import ReflectorApplication
from fix_engine.session.session_id import SessionID
from fix_engine.session.settings import SessionSettings
from fix_engine.transport.acceptor import AcceptorService
from fix_engine.transport.host import SessionRegistry
from fix_engine.transport.session_builder import SessionBuilder

SOH = "\x01"

#: The CompID the acceptance scripts log on with, and the server's.
AT_INITIATOR = "TW"
AT_SERVER = "ISLD"

#: Bounds of every wait (see the module docstring).
POLL_SECONDS = 0.005  # one reactor iteration waits at most this long for I/O
QUIET_ITERATIONS = 4  # this many iterations without any event: the connections are idle
MAX_VIRTUAL_SECONDS = 75  # how far one step may move the virtual clock
STEP_REAL_SECONDS = 10.0  # how long one step may take in real time
MAX_ITERATIONS = 20_000  # iterations of one step, whatever happens

_TIME = re.compile(r"<TIME([+-]\d+)?>")
_TIMESTAMP = re.compile(r"^\d{8}-\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6}|\.\d{9})?$")
_ZERO_TIME = re.compile(r"^0{8}-00:00:00(\.0+)?$")
_FRAME = re.compile(rb"8=[^\x01]*\x01.*?\x0110=\d{3}\x01", re.DOTALL)
_STEP = re.compile(r"^([iIeE])(?:(\d+),)?(.*)$", re.DOTALL)


class DefinitionError(ValueError):
    """A ``.def`` line the runner does not understand."""


class ATFailure(AssertionError):
    """A step did not happen as the script says."""


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class Step:
    """One line of a script."""

    line: int
    action: str  # "connect", "disconnect", "send", "expect", "expect_disconnect"
    connection: int
    text: str = ""  # the message, fields separated by SOH (send / expect)

    def describe(self) -> str:
        shown = self.text.replace(SOH, "|")
        return f"line {self.line}: {self.action} #{self.connection} {shown}".rstrip()


def normalise_separators(text: str) -> str:
    """SOH written as ``^A`` or ``|`` -> SOH."""
    return text.replace("^A", SOH).replace("|", SOH)


def parse_definition(text: str) -> list[Step]:
    """The steps of a ``.def`` script."""
    steps: list[Step] = []
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip(" \t\r\n")
        if not line or line.startswith("#"):
            continue
        match = _STEP.match(line)
        if match is None:
            raise DefinitionError(f"line {number}: not a step: {line!r}")
        kind, conn, rest = match.groups()
        connection = int(conn) if conn else 1
        if kind == "i":
            action = {"CONNECT": "connect", "DISCONNECT": "disconnect"}.get(rest)
            if action is None:
                raise DefinitionError(f"line {number}: unknown initiator action {rest!r}")
            steps.append(Step(number, action, connection))
        elif kind == "e":
            if rest != "DISCONNECT":
                raise DefinitionError(f"line {number}: unknown expectation {rest!r}")
            steps.append(Step(number, "expect_disconnect", connection))
        else:
            message = normalise_separators(rest).rstrip(SOH)
            if not message.startswith("8="):
                raise DefinitionError(f"line {number}: a message must start with 8=: {rest!r}")
            steps.append(Step(number, "send" if kind == "I" else "expect", connection, message))
    return steps


def format_timestamp(epoch: float) -> str:
    """UTCTimestamp with seconds, as the QuickFIX acceptance runner writes ``<TIME>``."""
    return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(int(epoch)))


def substitute_time(text: str, now: float) -> str:
    return _TIME.sub(lambda m: format_timestamp(now + int(m.group(1) or 0)), text)


def checksum(data: bytes) -> int:
    return sum(data) % 256


def build_outgoing(text: str, now: float) -> bytes:
    """The bytes an ``I`` line sends: ``<TIME>`` filled in, BodyLength and CheckSum added when absent.

    Works on the raw text (no parsing), so deliberately broken fields survive as written.
    """
    fields = substitute_time(text, now).split(SOH)
    has_length = any(f.startswith("9=") for f in fields)
    has_checksum = fields[-1].startswith("10=")
    body_fields = fields[1:-1] if has_checksum else fields[1:]
    if not has_length:
        body = "".join(f + SOH for f in body_fields)
        fields.insert(1, f"9={len(body.encode('latin-1'))}")
    data = "".join(f + SOH for f in (fields[:-1] if has_checksum else fields)).encode("latin-1")
    if not has_checksum:
        return data + b"10=%03d\x01" % checksum(data)
    if fields[-1] == "10=<WRONG>":
        return data + b"10=%03d\x01" % ((checksum(data) + 1) % 256)
    return data + fields[-1].encode("latin-1") + SOH.encode()


def split_fields(message: str) -> list[tuple[str, str]]:
    out = []
    for item in message.split(SOH):
        if not item:
            continue
        tag, sep, value = item.partition("=")
        out.append((tag, value if sep else "\0<no '='>"))
    return out


def frame_problem(raw: bytes) -> str | None:
    """BodyLength or CheckSum of a received frame is wrong (the server must never send that)."""
    first = raw.index(b"\x01") + 1
    if not raw.startswith(b"9=", first):
        return "second field is not BodyLength (9)"
    second = raw.index(b"\x01", first) + 1
    trailer = raw.rindex(b"10=")
    declared = raw[first + 2 : second - 1]
    if not declared.isdigit() or int(declared) != trailer - second:
        return f"BodyLength {declared!r} but the body has {trailer - second} bytes"
    if int(raw[trailer + 3 : trailer + 6]) != checksum(raw[:trailer]):
        return f"CheckSum {raw[trailer + 3 : trailer + 6]!r} but the bytes sum to {checksum(raw[:trailer]):03d}"
    return None


def compare(expected: str, actual: bytes) -> str | None:
    """None when ``actual`` matches the ``E`` line ``expected``; else what differs."""
    want = [(t, v) for t, v in split_fields(expected) if t not in ("9", "10")]
    got = [(t, v) for t, v in split_fields(actual.decode("latin-1")) if t not in ("9", "10")]
    problems = []
    for index in range(max(len(want), len(got))):
        w = want[index] if index < len(want) else None
        g = got[index] if index < len(got) else None
        if w is None:
            problems.append(f"unexpected field {g[0]}={g[1]}")  # type: ignore[index]
            continue
        if g is None:
            problems.append(f"missing field {w[0]}={w[1]}")
            continue
        if w[0] != g[0]:
            problems.append(f"field {index + 1}: expected {w[0]}={w[1]}, got {g[0]}={g[1]}")
            break  # the rest is shifted: one line says enough
        if w[1] == g[1]:
            continue
        if (w[0] == "52" or _TIME.fullmatch(w[1]) or _ZERO_TIME.match(w[1])) and _TIMESTAMP.match(g[1]):
            continue
        problems.append(f"{w[0]}: expected {w[1]!r}, got {g[1]!r}")
    return "; ".join(problems) or None


# --------------------------------------------------------------------------- the server


def reflector_sessions(path: Path = DEFAULT_REFLECTOR_CONFIG) -> list[SessionSettings]:
    """The shipped reflector's sessions on 127.0.0.1:0, plus ISLD <- TW for every BeginString.

    Each added ``TW`` session is a copy of the shipped session for that BeginString (for
    FIXT.1.1, the FIX.5.0SP2 one), so it has exactly the shipped settings.
    """
    shipped = [
        replace(s, socket_accept_port=0, socket_accept_address="127.0.0.1")
        for s in load_config(path).sessions
        if not s.is_initiator
    ]
    by_begin: dict[str, SessionSettings] = {}
    for s in shipped:
        begin = s.session_id.begin_string
        if begin == "FIXT.1.1":
            if begin not in by_begin or s.default_appl_ver_id == "9":
                by_begin[begin] = s
        else:
            by_begin.setdefault(begin, s)
    names = {(s.session_id.begin_string, s.session_id.target_comp_id) for s in shipped}
    added = [
        replace(s, session_id=SessionID(begin, s.session_id.sender_comp_id, AT_INITIATOR))
        for begin, s in by_begin.items()
        if (begin, AT_INITIATOR) not in names
    ]
    return shipped + added


class VirtualClock(task.Clock):
    """``task.Clock`` starting at the real time."""

    def __init__(self) -> None:
        super().__init__()
        self.advance(time.time())


_REACTOR: SelectReactor | None = None


def private_reactor() -> SelectReactor:
    """One non-global reactor for the whole test run, driven by ``iterate``."""
    global _REACTOR
    if _REACTOR is None:
        _REACTOR = SelectReactor()
    return _REACTOR


# --------------------------------------------------------------------------- the initiators


class ATClient(protocol.Protocol):
    """A test initiator: raw bytes out, frames in (cut by ``10=nnn<SOH>``, not by fixgate's parser)."""

    def __init__(self, runner: ATRunner) -> None:
        self.runner = runner
        self.buffer = b""
        self.frames: list[bytes] = []
        self.connected_ok = False
        self.closed = False

    def connectionMade(self) -> None:
        self.connected_ok = True
        self.runner.events += 1
        self.transport.setTcpNoDelay(True)  # type: ignore[attr-defined]  # each step's bytes leave at once

    @property
    def sending(self) -> bool:
        """Bytes written but still in Twisted's buffer."""
        transport = self.transport
        return bool(getattr(transport, "dataBuffer", b"") or getattr(transport, "_tempDataBuffer", []))

    def dataReceived(self, data: bytes) -> None:
        self.runner.events += 1
        self.buffer += data
        while True:
            match = _FRAME.search(self.buffer)
            if match is None:
                return
            if match.start() > 0:
                self.frames.append(b"<garbage>" + self.buffer[: match.start()])
            self.frames.append(match.group(0))
            self.buffer = self.buffer[match.end() :]

    def connectionLost(self, reason: object = None) -> None:
        self.runner.events += 1
        self.closed = True


class _ClientFactory(protocol.ClientFactory):
    def __init__(self, runner: ATRunner) -> None:
        self.runner = runner
        self.failed: object = None
        self.client: ATClient | None = None

    def buildProtocol(self, addr: object) -> ATClient:
        client = self.client = ATClient(self.runner)
        client.factory = self
        return client

    def clientConnectionFailed(self, connector: object, reason: object) -> None:
        self.failed = reason
        self.runner.events += 1


@dataclass
class _Connection:
    factory: _ClientFactory
    connector: object
    client: ATClient | None = None
    log: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- the runner


class RealClock:
    """The wall clock, for a server the runner does not drive (``external_port``)."""

    def seconds(self) -> float:
        return time.time()


class ATRunner:
    """Runs one script against a fresh reflector (new stores, new sessions) and cleans up.

    With ``external_port`` the scripts go to a server already listening on 127.0.0.1 (QuickFIX's
    own acceptance server, to check the scripts themselves); time is then the wall clock and
    waits run in real time (bounded by ``STEP_REAL_SECONDS``).
    """

    def __init__(self, sessions: list[SessionSettings] | None = None, *, external_port: int | None = None) -> None:
        self.reactor = private_reactor()
        self.connections: dict[int, _Connection] = {}
        self.events = 0
        self.transcript: list[str] = []
        self.service: AcceptorService | None = None
        self.builder: SessionBuilder | None = None
        self.clock: VirtualClock | RealClock
        if external_port is not None:
            self.clock = RealClock()
            self.port = external_port
            return
        self.clock = VirtualClock()
        self.registry = SessionRegistry()
        self.builder = SessionBuilder(ReflectorApplication(self.registry))
        self.service = service = AcceptorService(
            sessions if sessions is not None else reflector_sessions(),
            self.builder,
            self.reactor,
            clock=self.clock,
            registry=self.registry,
        )
        listening = defer.ensureDeferred(service.listen())
        failures: list[object] = []
        listening.addErrback(failures.append)
        if failures:
            raise RuntimeError(f"reflector could not listen: {failures[0]}")
        ports = service.bound_ports
        if len(set(ports)) != 1:
            raise RuntimeError(f"expected one listening port, got {ports}")
        self.port = ports[0]

    # ----- driving the reactor
    def _iterate(self) -> None:
        self.reactor.iterate(POLL_SECONDS)

    def _busy(self) -> bool:
        """Some bytes are still on their way: an initiator's, or the server's to an initiator."""
        for conn in self.connections.values():
            if conn.client is not None and not conn.client.closed and conn.client.sending:
                return True
        for factory in self.service.factories if self.service is not None else ():
            for proto in factory.connections:
                transport = proto.transport
                if getattr(transport, "dataBuffer", b"") or getattr(transport, "_tempDataBuffer", []):
                    return True
        return False

    def _pump_until(self, done: Callable[[], bool], what: str, *, advance_time: bool) -> None:
        """Iterate until ``done()``; when idle, move the virtual clock (if allowed). Bounded."""
        deadline = time.monotonic() + STEP_REAL_SECONDS
        virtual_left = MAX_VIRTUAL_SECONDS
        quiet = 0
        for _ in range(MAX_ITERATIONS):
            if done():
                return
            before = self.events
            self._iterate()
            quiet = quiet + 1 if self.events == before and not self._busy() else 0
            if quiet >= QUIET_ITERATIONS:
                if not advance_time or virtual_left <= 0:
                    break
                virtual_left -= 1
                quiet = 0
                if self.service is not None and isinstance(self.clock, VirtualClock):
                    self.clock.advance(1.0)
                    self.service.tick()
                else:
                    virtual_left += 1  # a real server: real time passes, the deadline bounds it
            if time.monotonic() > deadline:
                break
        if not done():
            raise ATFailure(f"{what}: not within {MAX_VIRTUAL_SECONDS} virtual / {STEP_REAL_SECONDS} real seconds")

    def _settle(self) -> None:
        """Iterate until idle (bounded), without moving the virtual clock."""
        quiet = 0
        deadline = time.monotonic() + STEP_REAL_SECONDS
        for _ in range(MAX_ITERATIONS):
            before = self.events
            self._iterate()
            quiet = quiet + 1 if self.events == before and not self._busy() else 0
            if quiet >= QUIET_ITERATIONS or time.monotonic() > deadline:
                return

    # ----- steps
    def run(self, steps: list[Step]) -> None:
        try:
            for step in steps:
                self.transcript.append(step.describe())
                self._run_step(step)
            self._settle()
            self._check_nothing_unexpected()
        except ATFailure as exc:
            raise ATFailure(f"{exc}\n--- transcript ---\n" + "\n".join(self.transcript)) from None

    def _conn(self, step: Step) -> _Connection:
        conn = self.connections.get(step.connection)
        if conn is None:
            raise ATFailure(f"{step.describe()}: connection {step.connection} was never opened")
        return conn

    def _run_step(self, step: Step) -> None:
        if step.action == "connect":
            self._connect(step)
        elif step.action == "disconnect":
            conn = self._conn(step)
            if conn.client is not None and not conn.client.closed:
                conn.client.transport.loseConnection()  # type: ignore[union-attr]
                self._pump_until(lambda: conn.client.closed, f"{step.describe()}: close", advance_time=False)  # type: ignore[union-attr]
        elif step.action == "send":
            self._send(step)
        elif step.action == "expect":
            self._expect(step)
        else:
            self._expect_disconnect(step)

    def _connect(self, step: Step) -> None:
        old = self.connections.get(step.connection)
        if old is not None and old.client is not None and not old.client.closed:
            raise ATFailure(f"{step.describe()}: connection {step.connection} is still open")
        factory = _ClientFactory(self)
        connector = self.reactor.connectTCP("127.0.0.1", self.port, factory, timeout=5)
        conn = self.connections[step.connection] = _Connection(factory, connector)

        def connected() -> bool:
            if factory.client is not None and factory.client.connected_ok:
                conn.client = factory.client
                return True
            return factory.failed is not None

        self._pump_until(connected, f"{step.describe()}: connect", advance_time=False)
        if conn.client is None:
            raise ATFailure(f"{step.describe()}: could not connect: {factory.failed}")

    def _send(self, step: Step) -> None:
        conn = self._conn(step)
        client = conn.client
        if client is None or client.closed:
            raise ATFailure(f"{step.describe()}: the server has disconnected; cannot send")
        if client.frames:
            shown = client.frames[0].replace(b"\x01", b"|").decode("latin-1")
            raise ATFailure(f"{step.describe()}: the server sent a message the script does not expect: {shown}")
        data = build_outgoing(step.text, self.clock.seconds())
        self.transcript.append("   sent     " + data.replace(b"\x01", b"|").decode("latin-1"))
        client.transport.write(data)  # type: ignore[union-attr]
        self._iterate()

    def _expect(self, step: Step) -> None:
        conn = self._conn(step)
        client = conn.client
        if client is None:
            raise ATFailure(f"{step.describe()}: not connected")
        self._pump_until(lambda: bool(client.frames) or client.closed, step.describe(), advance_time=True)
        if not client.frames:
            raise ATFailure(f"{step.describe()}: the server disconnected instead")
        raw = client.frames.pop(0)
        shown = raw.replace(b"\x01", b"|").decode("latin-1")
        self.transcript.append("   received " + shown)
        if raw.startswith(b"<garbage>"):
            raise ATFailure(f"{step.describe()}: the server sent bytes that are not a message: {shown}")
        problem = frame_problem(raw) or compare(step.text, raw)
        if problem is not None:
            raise ATFailure(f"{step.describe()}\n   received {shown}\n   {problem}")

    def _expect_disconnect(self, step: Step) -> None:
        conn = self._conn(step)
        client = conn.client
        if client is None:
            raise ATFailure(f"{step.describe()}: not connected")
        self._pump_until(lambda: bool(client.frames) or client.closed, step.describe(), advance_time=True)
        if client.frames:
            shown = client.frames[0].replace(b"\x01", b"|").decode("latin-1")
            raise ATFailure(f"{step.describe()}: the server sent a message instead: {shown}")

    def _check_nothing_unexpected(self) -> None:
        for number, conn in sorted(self.connections.items()):
            if conn.client is not None and conn.client.frames:
                shown = [f.replace(b"\x01", b"|").decode("latin-1") for f in conn.client.frames]
                raise ATFailure(f"after the last step, connection {number} received unexpected messages: {shown}")

    # ----- cleanup
    def close(self) -> None:
        for conn in self.connections.values():
            client = conn.client
            if client is not None and not client.closed and client.transport is not None:
                client.transport.abortConnection()
            elif client is None:
                conn.connector.disconnect()  # type: ignore[attr-defined]
        service = self.service
        if service is None:
            self._pump_until(
                lambda: all(c.client is None or c.client.closed for c in self.connections.values()),
                "shutdown",
                advance_time=False,
            )
            return
        for factory in service.factories:
            for proto in list(factory.connections):
                if proto.transport is not None:
                    proto.transport.abortConnection()
        stopping = [defer.maybeDeferred(port.stopListening) for port in service.ports]  # type: ignore[attr-defined]
        service.ports = []
        done = defer.DeferredList(stopping)
        finished: list[object] = []
        done.addBoth(finished.append)
        self._pump_until(
            lambda: bool(finished) and all(not f.connections for f in service.factories),
            "shutdown",
            advance_time=False,
        )
        if self.builder is not None:
            self.builder.close()


def run_definition(path: Path, *, external_port: int | None = None) -> None:
    """Run one ``.def`` file; raises :class:`ATFailure` naming the step that went wrong."""
    steps = parse_definition(path.read_text(encoding="latin-1"))
    runner = ATRunner(external_port=external_port)
    try:
        runner.run(steps)
    finally:
        runner.close()


def definitions(root: Path) -> Iterator[Path]:
    """Every ``.def`` under ``root``, sorted."""
    return iter(sorted(root.rglob("*.def")))


def utc_epoch(text: str) -> float:
    """``YYYYMMDD-HH:MM:SS`` -> epoch seconds (for tests of the runner itself)."""
    return float(calendar.timegm(time.strptime(text, "%Y%m%d-%H:%M:%S")))
