"""``fixgate reflector`` and ``fixgate session``: the engine's own commands (thin click wrappers)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

DEFAULT_REFLECTOR_CONFIG = Path(__file__).resolve().parents[1] / "session_configs" / "reflector.cfg"


def _load_sessions(config_path: str | Path) -> list:
    from .config import ConfigError, load_config

    try:
        return list(load_config(config_path).sessions)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"{config_path}: {exc.strerror}") from None


@click.command("reflector")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="QuickFIX-format session config (default: session_configs/reflector.cfg).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Override SocketAcceptPort of every session.")
def reflector(config_path: str | None, port: int | None) -> None:
    """Run the conformance reflector: echo 35=D and 35=d, BusinessMessageReject the rest."""
    from twisted.internet import reactor

    from .reflector import ReflectorApplication
    from .transport.acceptor import AcceptorService
    from .transport.host import SessionRegistry
    from .transport.session_builder import SessionBuilder

    path = Path(config_path) if config_path else DEFAULT_REFLECTOR_CONFIG
    sessions = _load_sessions(path)
    acceptors = [s for s in sessions if not s.is_initiator]
    if not acceptors:
        raise click.ClickException(f"{path}: no acceptor session to run")
    if port is not None:
        acceptors = [replace(s, socket_accept_port=port) for s in acceptors]
    registry = SessionRegistry()
    builder = SessionBuilder(ReflectorApplication(registry))
    try:
        service = AcceptorService(acceptors, builder, reactor, registry=registry)
    except Exception as exc:  # configuration problems found while building sessions
        raise click.ClickException(str(exc)) from None
    _run_service(service, f"fixgate reflector: {len(acceptors)} session(s) from {path}")


def _run_service(service, banner: str) -> None:
    """Start a Twisted service on the global reactor, stop it gracefully on SIGINT/SIGTERM."""
    from twisted.internet import reactor

    from .logging_setup import start_console_logging

    start_console_logging()
    service.privilegedStartService()
    service.startService()
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    listening = getattr(service, "listening", None)
    if listening is not None:
        def announce(_):
            ports = ", ".join(str(p) for p in getattr(service, "bound_ports", []))
            click.echo(f"{banner}; listening on port(s) {ports}")
            sys.stdout.flush()
        listening.addCallback(announce)
    reactor.run()


@click.group("session")
def session_group() -> None:
    """Inspect and repair the message store of configured sessions."""


def _select(config_path: str, session_text: str | None, counterparty: str | None) -> list:
    sessions = _load_sessions(config_path)
    chosen = []
    for s in sessions:
        session_id = s.session_id
        if s.is_templated:
            if not counterparty:
                continue
            session_id = session_id.for_counterparty(counterparty)
            s = replace(s, session_id=session_id)
        if session_text is None or str(session_id) == session_text:
            chosen.append(s)
    if not chosen:
        names = ", ".join(str(s.session_id) for s in sessions)
        what = session_text or "any session"
        raise click.ClickException(f"{config_path}: no session matches {what} (configured: {names})")
    return chosen


def _open_store(settings):
    import time

    from .store import create_store_factory

    factory = create_store_factory(settings)
    return factory, factory.create(settings.session_id, time.time())


_session_option = click.option("-s", "--session", "session_text", default=None,
                               help="SessionID as printed by 'show', e.g. FIX.4.4:FIXGATE->CLIENT1.")
_config_option = click.option("-c", "--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False))
_counterparty_option = click.option("--counterparty", default=None,
                                    help="TargetCompID for a templated (TargetCompID=*) session.")


@session_group.command("show")
@_config_option
@_session_option
@_counterparty_option
def session_show(config_path: str, session_text: str | None, counterparty: str | None) -> None:
    """Print next sender/target sequence numbers and the store's creation time."""
    import datetime as dt

    for settings in _select(config_path, session_text, counterparty):
        factory, store = _open_store(settings)
        try:
            created = dt.datetime.fromtimestamp(store.creation_time(), dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            click.echo(
                f"{settings.session_id}  next sender seq {store.next_sender_seq_num()}  "
                f"next target seq {store.next_target_seq_num()}  created {created}"
            )
        finally:
            store.close()
            factory.close()


@session_group.command("set")
@_config_option
@_session_option
@_counterparty_option
@click.option("--sender", "sender", type=click.IntRange(min=1), default=None, help="Next MsgSeqNum we send.")
@click.option("--target", "target", type=click.IntRange(min=1), default=None, help="Next MsgSeqNum we expect.")
def session_set(config_path: str, session_text: str | None, counterparty: str | None, sender: int | None, target: int | None) -> None:
    """Set the next sender and/or target sequence number of one session."""
    if sender is None and target is None:
        raise click.UsageError("give --sender and/or --target")
    chosen = _select(config_path, session_text, counterparty)
    if len(chosen) != 1:
        raise click.UsageError("several sessions match: name one with --session")
    factory, store = _open_store(chosen[0])
    try:
        if sender is not None:
            store.set_next_sender_seq_num(sender)
        if target is not None:
            store.set_next_target_seq_num(target)
        store.flush()
        click.echo(f"{chosen[0].session_id}  next sender seq {store.next_sender_seq_num()}  next target seq {store.next_target_seq_num()}")
    finally:
        store.close()
        factory.close()


@session_group.command("reset")
@_config_option
@_session_option
@_counterparty_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def session_reset(config_path: str, session_text: str | None, counterparty: str | None, yes: bool) -> None:
    """Reset a session's store: forget sent messages, both sequence numbers back to 1."""
    import time

    chosen = _select(config_path, session_text, counterparty)
    if len(chosen) != 1:
        raise click.UsageError("several sessions match: name one with --session")
    if not yes:
        click.confirm(f"Reset {chosen[0].session_id}?", abort=True)
    factory, store = _open_store(chosen[0])
    try:
        store.reset(time.time())
        store.flush()
        click.echo(f"{chosen[0].session_id}  reset: next sender seq 1  next target seq 1")
    finally:
        store.close()
        factory.close()
