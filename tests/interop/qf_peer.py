"""A QuickFIX (C++ engine, Python binding) peer for interop tests.

``QuickFixPeer`` runs a real quickfix SocketInitiator or SocketAcceptor in this process (quickfix
runs its own threads) and records what its Application sees in a thread-safe queue, so that a
test can wait for "logged on", "received 35=8" and so on with a bounded timeout.
"""

from __future__ import annotations

import queue
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

quickfix = None
try:  # the interop extra; tests skip without it
    import quickfix  # type: ignore[no-redef]
except ImportError:  # pragma: no cover
    pass

QUICKFIX_SPEC_DIR = Path(sys.prefix) / "share" / "quickfix"
SKIP_REASON = "quickfix (the interop extra) is not installed: pip install -e '.[interop]'"


@dataclass
class PeerEvent:
    """One callback of the quickfix Application: kind is logon/logout/create/admin_in/app_in/admin_out/app_out."""

    kind: str
    session: str
    raw: str = ""

    def field(self, tag: int) -> str | None:
        for part in self.raw.split("\x01"):
            t, _, v = part.partition("=")
            if t == str(tag):
                return v
        return None

    @property
    def msg_type(self) -> str | None:
        return self.field(35)


@dataclass
class QuickFixPeer:
    """A quickfix engine configured from a dict of settings, recording its callbacks."""

    settings_text: str
    initiator: bool
    events: queue.Queue[PeerEvent] = field(default_factory=queue.Queue)
    auto_execute: bool = False  # answer 35=D with a 35=8 fill (a tiny executor)

    def __post_init__(self) -> None:
        assert quickfix is not None, SKIP_REASON
        self._lock = threading.Lock()
        self._app = _make_application(self)
        self._cfg_path: Path | None = None
        self.engine = None
        self.session_ids: list[object] = []
        self._exec_id = 0

    def start(self, workdir: Path) -> None:
        self._cfg_path = workdir / ("qf_initiator.cfg" if self.initiator else "qf_acceptor.cfg")
        self._cfg_path.write_text(self.settings_text)
        settings = quickfix.SessionSettings(str(self._cfg_path))
        store = quickfix.FileStoreFactory(settings)
        logs = quickfix.FileLogFactory(settings)
        cls = quickfix.SocketInitiator if self.initiator else quickfix.SocketAcceptor
        self.engine = cls(self._app, store, settings, logs)
        self.engine.start()

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.stop()
            self.engine = None

    def wait_for(self, predicate, timeout: float = 10.0) -> PeerEvent:
        """The first recorded event satisfying ``predicate`` (others are kept), or AssertionError."""
        import time

        deadline = time.monotonic() + timeout
        skipped: list[PeerEvent] = []
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"quickfix peer: no matching event within {timeout}s; saw {[(e.kind, e.msg_type) for e in skipped]}")
                try:
                    event = self.events.get(timeout=remaining)
                except queue.Empty:
                    continue
                if predicate(event):
                    return event
                skipped.append(event)
        finally:
            for event in skipped:
                self.events.put(event)

    def send(self, raw_fields: list[tuple[int, str]], msg_type: str) -> None:
        """Send an application message built field by field on the (only) session."""
        message = quickfix.Message()
        header = message.getHeader()
        header.setField(quickfix.MsgType(msg_type))
        for tag, value in raw_fields:
            message.setField(tag, value)
        quickfix.Session.sendToTarget(message, self.session_ids[0])

    def _record(self, kind: str, session_id: object, message: object | None = None) -> None:
        raw = message.toString() if message is not None else ""
        self.events.put(PeerEvent(kind, session_id.toString(), raw))

    def _execute(self, message: object, session_id: object) -> None:
        """Fill a NewOrderSingle completely at its price (or 100 for market)."""
        raw = message.toString()
        fields = dict(p.partition("=")[::2] for p in raw.split("\x01") if p)
        with self._lock:
            self._exec_id += 1
            n = self._exec_id
        report = quickfix.Message()
        report.getHeader().setField(quickfix.MsgType("8"))
        qty = fields.get("38", "0")
        px = fields.get("44", "100")
        for tag, value in (
            (37, f"QF{n}"), (17, f"QFE{n}"), (150, "F"), (39, "2"), (11, fields.get("11", "")),
            (55, fields.get("55", "")), (54, fields.get("54", "1")), (38, qty), (32, qty), (31, px),
            (14, qty), (151, "0"), (6, px), (40, fields.get("40", "2")),
        ):
            report.setField(tag, value)
        if fields.get("8") == "FIX.4.2":
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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
