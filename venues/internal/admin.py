"""The internal venue's local admin channel: a line protocol on 127.0.0.1, one JSON line per answer.

Commands (one per line, words separated by blanks)::

    instruments                          -> {"ok": true, "instruments": [{symbol, tick_size, ...}, ...]}
    book SYM [depth]                     -> {"ok": true, "symbol", "phase", "bids": [[px, qty, orders]], "asks"}
    halt SYM [text...]                   -> {"ok": true, "symbol", "phase"}
    resume SYM                           -> {"ok": true, "symbol", "phase"}
    phase SYM PHASE                      -> {"ok": true, "symbol", "phase"}      (PHASE e.g. PRE_OPEN)
    add-instrument SYM tick lot [ref]    -> {"ok": true, "instrument": {...}}
    kill account|owner ID                -> {"ok": true, "cancelled": n}
    release account|owner ID             -> {"ok": true}
    status                               -> {"ok": true, "venue", "last_sequence", "kill_switches"}
    help                                 -> {"ok": true, "commands": [...]}

Failures answer ``{"ok": false, "error": "..."}``; the connection stays open.  Prices and quantities
are strings (Decimal).  :func:`handle_admin_line` is the pure dispatcher, :class:`AdminProtocol` /
:class:`AdminFactory` the Twisted wiring, :func:`listen_admin` binds it (loopback only by default)
and :func:`admin_request` is a small blocking client with a timeout (for the CLI).
"""

from __future__ import annotations

import json
import socket
from decimal import InvalidOperation
from typing import Any

from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import Factory
from twisted.protocols.basic import LineReceiver

from venues.base import TradingPhase

from .market_data import Level
from .reference_data import ReferenceDataError, spec_from_fields
from .venue import InternalVenue

COMMANDS = (
    "instruments",
    "book SYM [depth]",
    "halt SYM [text]",
    "resume SYM",
    "phase SYM PHASE",
    "add-instrument SYM tick lot [ref]",
    "kill account|owner ID",
    "release account|owner ID",
    "status",
    "help",
)
MAX_LINE = 4096
MAX_REPLY = 4 * 1024 * 1024


class AdminUsageError(ValueError):
    """A malformed admin command."""


def _levels(levels: list[Level]) -> list[list[Any]]:
    return [[str(lv.price), str(lv.qty), lv.orders] for lv in levels]


def _target(args: list[str]) -> dict[str, str]:
    if len(args) != 2 or args[0] not in ("account", "owner"):
        raise AdminUsageError("expected: account|owner ID")
    return {args[0]: args[1]}


def _symbol(venue: InternalVenue, args: list[str], usage: str, n: int = 1) -> str:
    if len(args) < n:
        raise AdminUsageError(f"expected: {usage}")
    if venue.instrument(args[0]) is None:
        raise AdminUsageError(f"unknown symbol {args[0]}")
    return args[0]


def handle_admin_line(venue: InternalVenue, line: str) -> dict[str, Any]:
    """Execute one admin command against ``venue``; the JSON-able answer (never raises)."""
    words = line.split()
    if not words:
        return {"ok": False, "error": "empty command"}
    cmd, args = words[0].lower(), words[1:]
    try:
        if cmd == "instruments":
            return {"ok": True, "instruments": [s.to_dict() for s in venue.instruments()]}
        if cmd == "book":
            sym = _symbol(venue, args, "book SYM [depth]")
            depth = int(args[1]) if len(args) > 1 else None
            if depth is not None and depth <= 0:
                raise AdminUsageError("depth must be positive")
            view = venue.book_levels(sym, depth)
            return {
                "ok": True,
                "symbol": sym,
                "phase": view.phase.value,
                "bids": _levels(view.bids),
                "asks": _levels(view.asks),
            }
        if cmd == "halt":
            sym = _symbol(venue, args, "halt SYM [text]")
            venue.halt(sym, " ".join(args[1:]))
            return {"ok": True, "symbol": sym, "phase": venue.phase(sym).value}
        if cmd == "resume":
            sym = _symbol(venue, args, "resume SYM")
            venue.resume(sym)
            return {"ok": True, "symbol": sym, "phase": venue.phase(sym).value}
        if cmd == "phase":
            sym = _symbol(venue, args, "phase SYM PHASE", 2)
            try:
                phase = TradingPhase(args[1].upper())
            except ValueError:
                raise AdminUsageError(f"unknown phase {args[1]}") from None
            venue.set_phase(sym, phase)
            return {"ok": True, "symbol": sym, "phase": venue.phase(sym).value}
        if cmd == "add-instrument":
            if len(args) not in (3, 4):
                raise AdminUsageError("expected: add-instrument SYM tick lot [ref]")
            spec = spec_from_fields(args)
            venue.add_instrument(spec)
            return {"ok": True, "instrument": spec.to_dict()}
        if cmd == "kill":
            return {"ok": True, "cancelled": venue.kill_switch(**_target(args))}
        if cmd == "release":
            venue.release_kill_switch(**_target(args))
            return {"ok": True}
        if cmd == "status":
            return {
                "ok": True,
                "venue": venue.name,
                "last_sequence": venue.last_sequence,
                "kill_switches": [list(k) for k in venue.kill_switches()],
            }
        if cmd == "help":
            return {"ok": True, "commands": list(COMMANDS)}
        return {"ok": False, "error": f"unknown command {cmd!r}; try 'help'"}
    except (AdminUsageError, ReferenceDataError, InvalidOperation, ValueError, KeyError) as exc:
        text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        if isinstance(exc, KeyError):
            text = f"unknown symbol {text}"
        return {"ok": False, "error": text or type(exc).__name__}


class AdminProtocol(LineReceiver):
    """One admin connection: each line is a command, each answer one line of JSON."""

    delimiter = b"\n"
    MAX_LENGTH = MAX_LINE
    factory: AdminFactory

    def lineReceived(self, line: bytes) -> None:
        text = line.decode("utf-8", "replace").strip()
        if not text:
            return
        self.sendLine(json.dumps(handle_admin_line(self.factory.venue, text), separators=(",", ":")).encode())

    def lineLengthExceeded(self, line: bytes) -> None:
        self.sendLine(b'{"ok":false,"error":"line too long"}')
        if self.transport is not None:
            self.transport.loseConnection()  # type: ignore[misc]


class AdminFactory(Factory):
    """Builds :class:`AdminProtocol` connections for one venue."""

    protocol = AdminProtocol  # type: ignore[assignment]

    def __init__(self, venue: InternalVenue) -> None:
        self.venue = venue


def listen_admin(
    venue: InternalVenue, port: int, *, reactor: Any = None, interface: str = "127.0.0.1"
) -> IListeningPort:
    """Serve the admin channel of ``venue`` on ``interface:port`` (loopback by default; 0 = any free port)."""
    if reactor is None:
        from twisted.internet import reactor as default_reactor

        reactor = default_reactor
    return reactor.listenTCP(port, AdminFactory(venue), interface=interface)  # type: ignore[no-any-return]


class AdminClientError(Exception):
    """The admin channel could not be reached, timed out or answered garbage."""


def admin_request(host: str, port: int, line: str, timeout: float = 5.0) -> dict[str, Any]:
    """Send one admin command and return the decoded answer (blocking, bounded by ``timeout``)."""
    if "\n" in line or "\r" in line:
        raise ValueError("one command per request")
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(line.encode() + b"\n")
            buf = bytearray()
            while b"\n" not in buf:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buf += chunk
                if len(buf) > MAX_REPLY:
                    raise AdminClientError("admin answer too long")
    except OSError as exc:
        raise AdminClientError(f"admin channel {host}:{port}: {exc}") from exc
    reply, sep, _ = bytes(buf).partition(b"\n")
    if not sep:
        raise AdminClientError(f"admin channel {host}:{port} closed without an answer")
    try:
        answer = json.loads(reply)
    except ValueError:
        raise AdminClientError(f"admin channel {host}:{port} answered garbage") from None
    if not isinstance(answer, dict):
        raise AdminClientError(f"admin channel {host}:{port} answered garbage")
    return answer
