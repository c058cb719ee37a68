"""A QuickFIX (C++ engine, Python binding) peer for interop tests.

``QuickFixPeer`` runs a real quickfix SocketInitiator or SocketAcceptor in this process (quickfix
runs its own threads) and records what its Application sees, so that a test can wait for
"logged on", "received 35=8" and so on with a bounded timeout:

* ``history`` is every recorded event in arrival order (read it under no lock: appends are atomic);
* ``listeners`` are called *from the quickfix thread* with each new event (the trial support
  module hands them to the reactor with ``callFromThread``, which gives event-driven Deferreds);
* ``wait_for`` blocks the calling thread on the ``events`` queue (for plain threaded code).

This module imports no Twisted.  Keep the peer (and so the settings, store and log factories it
holds) alive while the engine runs: the C++ engine points at them, and letting Python collect
them makes ``stop()`` crash the process.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

quickfix = None
try:  # the interop extra; tests skip without it
    import quickfix  # type: ignore[no-redef]
except ImportError:  # pragma: no cover
    pass

QUICKFIX_SPEC_DIR = Path(sys.prefix) / "share" / "quickfix"
SKIP_REASON = "quickfix (the interop extra) is not installed: pip install -e '.[interop]'"
SOH = "\x01"


@dataclass
class PeerEvent:
    """One callback of the quickfix Application: kind is logon/logout/create/admin_in/app_in/admin_out/app_out."""

    kind: str
    session: str
    raw: str = ""

    def field(self, tag: int) -> str | None:
        prefix = f"{tag}="
        for part in self.raw.split(SOH):
            if part.startswith(prefix):
                return part[len(prefix) :]
        return None

    def fields(self, tag: int) -> list[str]:
        prefix = f"{tag}="
        return [part[len(prefix) :] for part in self.raw.split(SOH) if part.startswith(prefix)]

    @property
    def msg_type(self) -> str | None:
        return self.field(35)

    @property
    def seq(self) -> int:
        return int(self.field(34) or 0)

    def is_(self, kind: str, msg_type: str | None = None, **tags: str) -> bool:
        """``kind`` matches, and MsgType and ``t<tag>=value`` fields when given: ``is_("app_in", "8", t11="A1")``."""
        if self.kind != kind or (msg_type is not None and self.msg_type != msg_type):
            return False
        return all(self.field(int(name[1:])) == value for name, value in tags.items())


def matcher(kind: str, msg_type: str | None = None, **tags: str) -> Callable[[PeerEvent], bool]:
    """A predicate for ``PeerEvent.is_`` (``matcher("app_in", "8", t11="A1")``)."""
    return lambda event: event.is_(kind, msg_type, **tags)


@dataclass
class QuickFixPeer:
    """A quickfix engine configured from settings text, recording its callbacks."""

    settings_text: str
    initiator: bool
    events: queue.Queue[PeerEvent] = field(default_factory=queue.Queue)
    auto_execute: bool = False  # answer 35=D with a 35=8 fill (a tiny executor)

    def __post_init__(self) -> None:
        assert quickfix is not None, SKIP_REASON
        self._lock = threading.Lock()
        self._app = _make_application(self)
        self._cfg_path: Path | None = None
        self._keep: tuple[object, ...] = ()
        self.engine = None
        self.session_ids: list[object] = []
        self.history: list[PeerEvent] = []
        self.listeners: list[Callable[[PeerEvent], None]] = []
        self._exec_id = 0

    def start(self, workdir: Path) -> None:
        self._cfg_path = workdir / ("qf_initiator.cfg" if self.initiator else "qf_acceptor.cfg")
        self._cfg_path.write_text(self.settings_text)
        settings = quickfix.SessionSettings(str(self._cfg_path))
        store = quickfix.FileStoreFactory(settings)
        logs = quickfix.FileLogFactory(settings)
        self._keep = (settings, store, logs)  # the C++ engine points at these: keep them alive
        # the threaded engines: quickfix 1.16's SocketAcceptor.stop() races its own thread (it
        # closes a SocketServer that thread deletes) and crashes the process now and then
        cls = quickfix.ThreadedSocketInitiator if self.initiator else quickfix.ThreadedSocketAcceptor
        self.engine = cls(self._app, store, settings, logs)
        self.engine.start()

    def stop(self) -> None:
        """Stop the engine gracefully (blocking: waits up to 10 s for the Logout answers, so call
        it off the reactor thread).  ``stop(force=True)`` is not offered: it crashes quickfix 1.16."""
        engine, self.engine = self.engine, None
        if engine is not None:
            engine.stop()

    # ----- sessions
    def session_id(self, which: object = None) -> object:
        """The quickfix SessionID: the only/first one, by index, or by its ``toString()``."""
        if which is None:
            return self.session_ids[0]
        if isinstance(which, int):
            return self.session_ids[which]
        if isinstance(which, str):
            for sid in self.session_ids:
                if sid.toString() == which:
                    return sid
            raise KeyError(which)
        return which

    def session(self, which: object = None) -> object:
        """The live ``quickfix.Session`` (sequence numbers, logon/logout/reset)."""
        return quickfix.Session.lookupSession(self.session_id(which))

    # ----- sending
    def send(
        self,
        raw_fields: Iterable[tuple[int, str]],
        msg_type: str,
        *,
        header: Iterable[tuple[int, str]] = (),
        session: object = None,
    ) -> bool:
        """Send a message built field by field (body fields in the given order, ``header``
        fields such as 97 PossResend in the header)."""
        message = quickfix.Message()
        head = message.getHeader()
        head.setField(quickfix.MsgType(msg_type))
        for tag, value in header:
            head.setField(tag, value)
        for tag, value in raw_fields:
            message.setField(tag, value)
        return bool(quickfix.Session.sendToTarget(message, self.session_id(session)))

    # ----- observing
    def wait_for(self, predicate: Callable[[PeerEvent], bool], timeout: float = 10.0) -> PeerEvent:
        """Block until an event satisfying ``predicate`` is recorded (already recorded ones
        count), or AssertionError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            for event in list(self.history):
                if predicate(event):
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"quickfix peer: no matching event within {timeout}s; saw {self.summary()}"
                )
            try:
                self.events.get(timeout=remaining)  # wakes us on the next event
            except queue.Empty:
                pass

    def matching(self, predicate: Callable[[PeerEvent], bool]) -> list[PeerEvent]:
        return [event for event in list(self.history) if predicate(event)]

    def count(self, predicate: Callable[[PeerEvent], bool]) -> int:
        return len(self.matching(predicate))

    def summary(self) -> list[tuple[str, str | None, str | None]]:
        return [(e.kind, e.msg_type, e.field(34)) for e in list(self.history)]

    def _record(self, kind: str, session_id: object, message: object | None = None) -> None:
        raw = message.toString() if message is not None else ""
        event = PeerEvent(kind, session_id.toString(), raw)
        with self._lock:
            self.history.append(event)
        self.events.put(event)
        for listener in list(self.listeners):
            listener(event)

    def _execute(self, message: object, session_id: object) -> None:
        """Fill a NewOrderSingle completely at its price (or 100 for market)."""
        raw = message.toString()
        fields = dict(p.partition("=")[::2] for p in raw.split(SOH) if p)
        with self._lock:
            self._exec_id += 1
            n = self._exec_id
        report = quickfix.Message()
        report.getHeader().setField(quickfix.MsgType("8"))
        qty = fields.get("38", "0")
        px = fields.get("44", "100")
        fix42 = fields.get("8") == "FIX.4.2"
        for tag, value in (
            (37, f"QF{n}"),
            (17, f"QFE{n}"),
            (150, "2" if fix42 else "F"),
            (39, "2"),
            (11, fields.get("11", "")),
            (55, fields.get("55", "")),
            (54, fields.get("54", "1")),
            (38, qty),
            (32, qty),
            (31, px),
            (14, qty),
            (151, "0"),
            (6, px),
            (40, fields.get("40", "2")),
        ):
            report.setField(tag, value)
        if fix42:
            report.setField(20, "0")
        quickfix.Session.sendToTarget(report, session_id)


def _make_application(peer: QuickFixPeer):
    class _App(quickfix.Application):  # type: ignore[misc, name-defined]
        def onCreate(self, session_id):  # noqa: N802
            peer.session_ids.append(session_id)
            peer._record("create", session_id)

        def onLogon(self, session_id):  # noqa: N802
            peer._record("logon", session_id)

        def onLogout(self, session_id):  # noqa: N802
            peer._record("logout", session_id)

        def toAdmin(self, message, session_id):  # noqa: N802
            peer._record("admin_out", session_id, message)

        def fromAdmin(self, message, session_id):  # noqa: N802
            peer._record("admin_in", session_id, message)

        def toApp(self, message, session_id):  # noqa: N802
            peer._record("app_out", session_id, message)

        def fromApp(self, message, session_id):  # noqa: N802
            peer._record("app_in", session_id, message)
            if peer.auto_execute and message.getHeader().getField(35) == "D":
                peer._execute(message, session_id)

    return _App()


def qf_settings(
    *,
    initiator: bool,
    workdir: Path,
    port: int,
    sessions: Iterable[str],
    extra: str = "",
) -> str:
    """QuickFIX settings text: a [DEFAULT] for one role and the given [SESSION] bodies.

    Session bodies are lines such as ``BeginString=FIX.4.4\\nSenderCompID=QF\\nTargetCompID=FIXGATE``
    plus the dictionary keys (see ``qf_dictionary_lines``).  quickfix 1.16 has no
    SocketAcceptHost: its acceptor listens on every interface (on a free port).
    """
    role = (
        f"ConnectionType=initiator\nReconnectInterval=1\nSocketConnectHost=127.0.0.1\nSocketConnectPort={port}\n"
        if initiator
        else f"ConnectionType=acceptor\nSocketAcceptPort={port}\nSocketReuseAddress=Y\n"
    )
    name = "qfi" if initiator else "qfa"
    text = (
        f"[DEFAULT]\n{role}"
        f"FileStorePath={workdir / (name + '-store')}\nFileLogPath={workdir / (name + '-log')}\n"
        "NonStopSession=Y\nHeartBtInt=30\nUseDataDictionary=Y\nLogonTimeout=5\nLogoutTimeout=2\n"
        f"{extra.strip()}\n"
    )
    for body in sessions:
        text += f"\n[SESSION]\n{body.strip()}\n"
    return text


def qf_dictionary_lines(begin_string: str, default_appl_ver_id: str = "FIX.5.0SP2") -> str:
    """The quickfix dictionary keys for a BeginString (FIXT.1.1: transport + application)."""
    if begin_string == "FIXT.1.1":
        app = {"FIX.5.0": "FIX50", "FIX.5.0SP1": "FIX50SP1", "FIX.5.0SP2": "FIX50SP2"}[default_appl_ver_id]
        return (
            f"DefaultApplVerID={default_appl_ver_id}\n"
            f"TransportDataDictionary={QUICKFIX_SPEC_DIR / 'FIXT11.xml'}\n"
            f"AppDataDictionary={QUICKFIX_SPEC_DIR / (app + '.xml')}\n"
        )
    return f"DataDictionary={QUICKFIX_SPEC_DIR / (begin_string.replace('.', '') + '.xml')}\n"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
