"""The gateway's OMS admin channel and ``fixgate oms``: limits editable while running, kill switches.

The running gateway (``fixgate run``, ``AdminPort`` in the config's ``[DEFAULT]``; the demo uses
9879) serves a line protocol on 127.0.0.1 -- the pattern of the venue's
:mod:`venues.internal.admin`: one command per line, one JSON object per answer::

    limits show [account|session|instrument|firm [ID]]  -> {"ok", "limits": [{"scope", "key", "limits"}]}
    limits set SCOPE ID FIELD VALUE [by WHO]            -> {"ok", "changes": [...]}
    limits audit                                        -> {"ok", "audit": [{"at_ns", "who", "scope", ...}]}
    kill account|session ID [by WHO]                    -> {"ok", "cancelled": n, "skipped": m, "keys": [...]}
    release account|session ID [by WHO]                 -> {"ok", "keys": [...]}
    help                                                -> {"ok", "commands": [...]}

Failures answer ``{"ok": false, "error": "..."}``; the connection stays open.

* SCOPE is ``firm`` (ID ``-``), ``account``, ``session`` or ``instrument``.  A session ID is either
  the full session key (``FIX.4.4:FIXGATE->CLIENT1``) or a client CompID (``CLIENT1``), which
  stands for every session of that counterparty (one per FIX version).
* FIELD is a :class:`~brokers.domain.limits.Limits` field, snake_case or CamelCase
  (``max_order_qty`` / ``MaxOrderQty``); VALUE is a number, ``Y``/``N``, a comma list (order types
  and times in force by FIX value or name, symbols), a throttle ``MESSAGES/SECONDS[/disconnect]``,
  or ``none`` to remove the limit.
* Every edit goes through :meth:`LimitsBook.update` with who and when: ``limits audit`` lists the
  trail (it lives as long as the gateway process; each change is also written to the log).
* ``kill`` engages the kill switch of the scope (audited; new orders and risk-adding replaces are
  refused by the vetting rule) **and** asks every venue to cancel that scope's working orders
  (unsolicited cancels for the client, Text ``kill switch: account DEMO1``).  Orders pending new
  or with a cancel/replace in flight are counted as ``skipped``.  ``release`` lets orders in again.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import json
import re
import socket
from collections.abc import Callable
from dataclasses import fields as dc_fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from brokers.domain.limits import LimitChange, Limits, LimitScope, ScopeKey, Throttle, ThrottleAction
from venues.base import OrdType, TimeInForce

__all__ = ["handle_oms_line", "listen_oms_admin", "oms_group"]

COMMANDS = (
    "limits show [account|session|instrument|firm [ID]]",
    "limits set SCOPE ID FIELD VALUE [by WHO]",
    "limits audit",
    "kill account|session ID [by WHO]",
    "release account|session ID [by WHO]",
    "help",
)
MAX_LINE = 4096
DEFAULT_GATEWAY_CONFIG = Path(__file__).resolve().parents[1] / "session_configs" / "gateway.cfg"

_DECIMALS = {"max_order_qty", "max_order_notional", "min_price", "max_price", "collar_pct",
             "market_protection_pct", "max_long_position", "max_short_position", "duplicate_window_seconds"}
_BOOLS = {"short_selling_allowed", "credit_allowed", "kill_switch"}
_FIELDS = {f.name for f in dc_fields(Limits)}
_BY_FOLDED = {name.replace("_", ""): name for name in _FIELDS}


class AdminUsageError(ValueError):
    """A malformed admin command."""


# ---- values -------------------------------------------------------------------------------------


def field_name(text: str) -> str:
    """``MaxOrderQty`` / ``max_order_qty`` / ``max-order-qty`` -> ``max_order_qty``."""
    folded = re.sub(r"[_\-]", "", text).lower()
    name = _BY_FOLDED.get(folded)
    if name is None:
        raise AdminUsageError(f"unknown limit field {text!r}; one of: {', '.join(sorted(_FIELDS))}")
    return name


def _enum_set(enum: Any, text: str) -> frozenset[Any]:
    out = set()
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            out.add(enum(part))
        except ValueError:
            try:
                out.add(enum[part.upper()])
            except KeyError:
                raise AdminUsageError(f"{part!r} is not a {enum.__name__}") from None
    return frozenset(out)


def parse_value(name: str, text: str) -> Any:
    """The Python value of limit ``name`` written as ``text`` (``none`` -> ``None``)."""
    if text.lower() in ("none", "null", "-", "off"):
        return None
    if name in _DECIMALS:
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise AdminUsageError(f"{name}: {text!r} is not a number") from None
        if not value.is_finite():
            raise AdminUsageError(f"{name}: {text!r} is not a number")
        return value
    if name in _BOOLS:
        if text.upper() in ("Y", "YES", "TRUE", "1", "ON"):
            return True
        if text.upper() in ("N", "NO", "FALSE", "0"):
            return False
        raise AdminUsageError(f"{name}: {text!r} is not Y or N")
    if name == "allowed_ord_types":
        return _enum_set(OrdType, text)
    if name == "allowed_tifs":
        return _enum_set(TimeInForce, text)
    if name == "restricted_symbols":
        return frozenset(p.strip() for p in text.split(",") if p.strip())
    if name == "throttle":
        parts = text.split("/")
        try:
            action = ThrottleAction(parts[2].lower()) if len(parts) > 2 else ThrottleAction.REJECT
            return Throttle(int(parts[0]), Decimal(parts[1]) if len(parts) > 1 else Decimal(1), action)
        except (ValueError, InvalidOperation, IndexError):
            raise AdminUsageError(f"throttle: {text!r}: expected MESSAGES/SECONDS[/reject|disconnect]") from None
    raise AdminUsageError(f"unknown limit field {name!r}")  # pragma: no cover - field_name guards


def show_value(value: Any) -> Any:
    """A JSON-able rendering of a limit value (Decimals as strings, sets as sorted lists)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Throttle):
        return f"{value.max_messages}/{value.window_seconds}/{value.action.value}"
    if isinstance(value, frozenset):
        return sorted(getattr(v, "value", v) for v in value)
    return str(value)


def show_limits(limits: Limits) -> dict[str, Any]:
    return {f.name: show_value(getattr(limits, f.name)) for f in dc_fields(Limits) if getattr(limits, f.name) is not None}


def show_change(change: LimitChange) -> dict[str, Any]:
    at = _dt.datetime.fromtimestamp(change.at_ns / 1e9, _dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"at": at, "at_ns": change.at_ns, "who": change.who, "scope": change.scope.scope.value,
            "key": change.scope.key, "field": change.field, "old": show_value(change.old),
            "new": show_value(change.new), "reason": change.reason}


# ---- the dispatcher -----------------------------------------------------------------------------


def _scope(text: str) -> LimitScope:
    try:
        return LimitScope(text.lower())
    except ValueError:
        raise AdminUsageError(f"unknown scope {text!r}: firm, account, session or instrument") from None


def _who(args: list[str]) -> tuple[list[str], str]:
    if len(args) >= 2 and args[-2].lower() == "by":
        return args[:-2], args[-1]
    return args, "admin"


def _session_keys(gateway: Any, ident: str) -> list[str]:
    sessions = list(gateway.config.entitlements)
    exact = [str(s) for s in sessions if str(s) == ident]
    if exact:
        return exact
    keys = sorted(str(s) for s in sessions if s.target_comp_id == ident)
    if not keys:
        raise AdminUsageError(f"unknown session {ident!r} (a client CompID or a session key such as "
                              f"{str(sessions[0]) if sessions else 'FIX.4.4:FIXGATE->CLIENT1'!r})")
    return keys


def _keys(gateway: Any, scope: LimitScope, ident: str) -> list[str]:
    if scope is LimitScope.FIRM:
        return [""]
    if scope is LimitScope.SESSION:
        return _session_keys(gateway, ident)
    if scope is LimitScope.ACCOUNT and ident not in set(gateway.config.accounts):
        raise AdminUsageError(f"unknown account {ident!r}")
    return [ident]


def _target(gateway: Any, args: list[str], usage: str) -> tuple[LimitScope, list[str], str]:
    args, who = _who(args)
    if len(args) != 2 or args[0].lower() not in ("account", "session"):
        raise AdminUsageError(f"expected: {usage}")
    scope = _scope(args[0])
    return scope, _keys(gateway, scope, args[1]), who


def handle_oms_line(gateway: Any, line: str) -> dict[str, Any]:
    """Execute one admin command against a running :class:`~brokers.gateway.Gateway` (never raises)."""
    words = line.split()
    if not words:
        return {"ok": False, "error": "empty command"}
    cmd, args = words[0].lower(), words[1:]
    book = gateway.limits
    now = gateway.clock_ns()
    try:
        if cmd == "limits":
            if not args:
                raise AdminUsageError("expected: limits show|set|audit ...")
            sub, rest = args[0].lower(), args[1:]
            if sub == "show":
                if not rest:
                    wanted = list(book.scopes())
                else:
                    scope = _scope(rest[0])
                    if scope is not LimitScope.FIRM and len(rest) < 2:
                        wanted = [k for k in book.scopes() if k.scope is scope]
                    else:
                        ident = rest[1] if len(rest) > 1 else ""
                        wanted = [ScopeKey(scope, k) for k in _keys(gateway, scope, ident)]
                return {"ok": True, "limits": [{"scope": k.scope.value, "key": k.key,
                                                "limits": show_limits(book.get(k.scope, k.key))} for k in wanted]}
            if sub == "set":
                rest, who = _who(rest)
                if len(rest) != 4:
                    raise AdminUsageError("expected: limits set SCOPE ID FIELD VALUE (ID '-' for firm)")
                scope = _scope(rest[0])
                name = field_name(rest[2])
                value = parse_value(name, rest[3])
                changes: list[LimitChange] = []
                for key in _keys(gateway, scope, rest[1]):
                    edit = book.update(scope, key, who=who, at_ns=now, reason="limits set", **{name: value})
                    _journal(gateway, edit)
                    changes.extend(edit)
                for change in changes:
                    gateway.echo(f"fixgate: limits: {change}")
                return {"ok": True, "changes": [show_change(c) for c in changes]}
            if sub == "audit":
                return {"ok": True, "audit": [show_change(c) for c in book.audit_trail]}
            raise AdminUsageError(f"unknown limits command {sub!r}: show, set or audit")
        if cmd == "kill":
            scope, keys, who = _target(gateway, args, "kill account|session ID")
            store = gateway.application.store
            orders = []
            for key in keys:
                edit = book.engage_kill_switch(scope, key, who=who, at_ns=now, reason="kill")
                _journal(gateway, edit)
                for change in edit:
                    gateway.echo(f"fixgate: limits: {change}")
                if scope is LimitScope.ACCOUNT:
                    orders.extend(store.working(account=key))
                else:
                    orders.extend(g for g in store.working() if g.owner == key)
            text = f"kill switch: {scope.value} {args[1]}"
            cancelled, skipped = gateway.application.cancel_orders(orders, text)
            gateway.echo(f"fixgate: {text} by {who}: {cancelled} cancel(s) requested, {skipped} skipped")
            return {"ok": True, "scope": scope.value, "keys": keys, "cancelled": cancelled, "skipped": skipped}
        if cmd == "release":
            scope, keys, who = _target(gateway, args, "release account|session ID")
            for key in keys:
                edit = book.release_kill_switch(scope, key, who=who, at_ns=now, reason="release")
                _journal(gateway, edit)
                for change in edit:
                    gateway.echo(f"fixgate: limits: {change}")
            return {"ok": True, "scope": scope.value, "keys": keys}
        if cmd == "help":
            return {"ok": True, "commands": list(COMMANDS)}
        return {"ok": False, "error": f"unknown command {cmd!r}; try 'help'"}
    except (AdminUsageError, ValueError) as exc:
        return {"ok": False, "error": str(exc) or type(exc).__name__}
    except LimitsNotPersisted as exc:
        return {"ok": False, "error": str(exc)}


class LimitsNotPersisted(Exception):
    """An edit is in effect but its journal write failed (it will not survive a restart)."""


def _journal(gateway: Any, changes: Any) -> None:
    """Persist one edit in the gateway's limits journal (if it keeps one)."""
    journal = getattr(gateway, "limits_journal", None)
    if journal is None or not changes:
        return
    try:
        journal.record(changes)
    except Exception as exc:
        gateway.echo(f"fixgate: limits: the edit is in effect but could not be journaled: {exc}")
        raise LimitsNotPersisted(
            f"the edit is in effect but could not be journaled ({exc}): it will not survive a restart"
        ) from None


# ---- Twisted wiring -----------------------------------------------------------------------------


def listen_oms_admin(gateway: Any, port: int, *, reactor: Any = None, interface: str = "127.0.0.1") -> Any:
    """Serve ``gateway``'s admin channel on ``interface:port`` (loopback by default; 0 = any free port)."""
    from twisted.internet.protocol import Factory
    from twisted.protocols.basic import LineReceiver

    class OmsAdminProtocol(LineReceiver):
        delimiter = b"\n"
        MAX_LENGTH = MAX_LINE

        def lineReceived(self, line: bytes) -> None:  # noqa: N802
            text = line.decode("utf-8", "replace").strip()
            if text:
                self.sendLine(json.dumps(handle_oms_line(gateway, text), separators=(",", ":")).encode())

        def lineLengthExceeded(self, line: bytes) -> None:  # noqa: N802
            self.sendLine(b'{"ok":false,"error":"line too long"}')
            if self.transport is not None:
                self.transport.loseConnection()  # type: ignore[misc]

    if reactor is None:
        from twisted.internet import reactor as default_reactor

        reactor = default_reactor
    return reactor.listenTCP(port, Factory.forProtocol(OmsAdminProtocol), interface=interface)


# ---- the CLI ------------------------------------------------------------------------------------


def admin_address(admin: str | None, config_path: str | None) -> tuple[str, int]:
    """``--admin host:port`` (or ``port``); else ``AdminPort`` of the gateway config; else 9879."""
    from brokers.gateway_config import DEMO_ADMIN_PORT

    if admin:
        host, sep, port = admin.rpartition(":")
        if not sep:
            host, port = "127.0.0.1", admin
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise click.BadParameter(f"{admin!r}: expected HOST:PORT", param_hint="--admin")
        return host or "127.0.0.1", int(port)
    path = Path(config_path) if config_path else DEFAULT_GATEWAY_CONFIG
    if path.exists():
        configured = _default_admin_port(path)
        if configured:
            return "127.0.0.1", configured
    elif config_path:
        raise click.BadParameter(f"{config_path}: no such file", param_hint="-c/--config")
    return "127.0.0.1", DEMO_ADMIN_PORT


def _default_admin_port(path: Path) -> int | None:
    """``AdminPort`` of the ``[DEFAULT]`` block (a light read: the rest of the file does not matter)."""
    section = None
    for number, raw in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]").strip().upper()
            continue
        key, sep, value = line.partition("=")
        if section == "DEFAULT" and sep and key.strip() == "AdminPort":
            value = value.strip()
            if not value.isdigit() or int(value) > 65535:
                raise click.ClickException(f"{path}:{number}: AdminPort: {value!r} is not a port number")
            return int(value) or None
    return None


def admin_request(host: str, port: int, line: str, timeout: float = 5.0) -> dict[str, Any]:
    """One command, one answer (blocking, bounded by ``timeout``)."""
    from venues.internal.admin import AdminClientError
    from venues.internal.admin import admin_request as request

    try:
        return request(host, port, line, timeout)
    except AdminClientError as exc:
        raise click.ClickException(f"{exc} (is 'fixgate run' running with AdminPort={port}?)") from None


def _who_default() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no login name (containers)
        user = "operator"
    return f"{user}@{socket.gethostname()}".replace(" ", "_")


def _admin_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--json", "as_json", is_flag=True, help="Print the gateway's JSON answer.")(f)
    f = click.option("--timeout", type=click.FloatRange(0.1, 60), default=5.0, show_default=True)(f)
    f = click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False), default=None,
                     help="Gateway config to read AdminPort from (default: session_configs/gateway.cfg).")(f)
    f = click.option("--admin", default=None, metavar="HOST:PORT",
                     help="Admin channel of the running gateway (default: AdminPort of the config, 9879).")(f)
    return f


def _call(admin: str | None, config_path: str | None, timeout: float, line: str) -> dict[str, Any]:
    host, port = admin_address(admin, config_path)
    answer = admin_request(host, port, line, timeout)
    if not answer.get("ok"):
        raise click.ClickException(str(answer.get("error", "refused")))
    return answer


def _print(answer: dict[str, Any], as_json: bool, text: Callable[[dict[str, Any]], None]) -> None:
    if as_json:
        click.echo(json.dumps(answer, indent=2))
    else:
        text(answer)


def _fmt_limits(values: dict[str, Any]) -> str:
    return " ".join(f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in values.items()) or "(no limits)"


@click.group("oms")
def oms_group() -> None:
    """The running gateway's OMS: limits (editable, audited), kill switches (admin channel)."""


@oms_group.group("limits")
def limits_group() -> None:
    """Show, change and audit pre-trade limits of the running gateway."""


@limits_group.command("show")
@click.argument("scope", required=False, type=click.Choice(["firm", "account", "session", "instrument"]))
@click.argument("ident", required=False)
@_admin_options
def limits_show(scope: str | None, ident: str | None, admin: str | None, config_path: str | None, timeout: float,
                as_json: bool) -> None:
    """Limits attached at every scope, or at SCOPE [ID]."""
    line = " ".join(["limits", "show", *(p for p in (scope, ident) if p)])
    answer = _call(admin, config_path, timeout, line)

    def text(a: dict[str, Any]) -> None:
        for row in a["limits"]:
            where = row["scope"] + (f" {row['key']}" if row["key"] else "")
            click.echo(f"{where}: {_fmt_limits(row['limits'])}")
    _print(answer, as_json, text)


@limits_group.command("set")
@click.argument("scope", type=click.Choice(["firm", "account", "session", "instrument"]))
@click.argument("ident")
@click.argument("field")
@click.argument("value")
@click.option("--who", default=None, help="Recorded in the audit trail (default: user@host).")
@_admin_options
def limits_set(scope: str, ident: str, field: str, value: str, who: str | None, admin: str | None,
               config_path: str | None, timeout: float, as_json: bool) -> None:
    """Set FIELD to VALUE at SCOPE ID (ID '-' for firm; VALUE 'none' removes the limit)."""
    who = (who or _who_default()).replace(" ", "_")
    answer = _call(admin, config_path, timeout, f"limits set {scope} {ident} {field} {value} by {who}")

    def text(a: dict[str, Any]) -> None:
        if not a["changes"]:
            click.echo("no change")
        for c in a["changes"]:
            click.echo(f"{c['scope']} {c['key']}: {c['field']} {c['old']} -> {c['new']} (by {c['who']})".replace("  ", " "))
    _print(answer, as_json, text)


@limits_group.command("audit")
@_admin_options
def limits_audit(admin: str | None, config_path: str | None, timeout: float, as_json: bool) -> None:
    """Every limit change since the gateway started: when, who, where, old -> new."""
    answer = _call(admin, config_path, timeout, "limits audit")

    def text(a: dict[str, Any]) -> None:
        for c in a["audit"]:
            where = c["scope"] + (f" {c['key']}" if c["key"] else "")
            click.echo(f"{c['at']} {c['who']}: {where} {c['field']} {c['old']} -> {c['new']}"
                       + (f" ({c['reason']})" if c["reason"] else ""))
    _print(answer, as_json, text)


def _kill_like(command: str) -> Callable[..., Any]:
    @click.argument("scope", type=click.Choice(["account", "session"]))
    @click.argument("ident")
    @click.option("--who", default=None, help="Recorded in the audit trail (default: user@host).")
    @_admin_options
    def action(scope: str, ident: str, who: str | None, admin: str | None, config_path: str | None,
               timeout: float, as_json: bool) -> None:
        who = (who or _who_default()).replace(" ", "_")
        answer = _call(admin, config_path, timeout, f"{command} {scope} {ident} by {who}")

        def text(a: dict[str, Any]) -> None:
            keys = ", ".join(a["keys"])
            if command == "kill":
                click.echo(f"kill switch engaged for {scope} {keys}: {a['cancelled']} cancel(s) requested"
                           + (f", {a['skipped']} order(s) busy" if a["skipped"] else ""))
            else:
                click.echo(f"kill switch released for {scope} {keys}")
        _print(answer, as_json, text)
    return action


oms_group.command("kill", help="Engage the kill switch of an account or session and cancel its working "
                                "orders at every venue.")(_kill_like("kill"))
oms_group.command("release", help="Release the kill switch of an account or session.")(_kill_like("release"))
