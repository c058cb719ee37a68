"""``fixgate run``: start the broker gateway (the demo without ``-c``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("run")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Gateway config (e.g. session_configs/gateway.cfg); default: the built-in demo.")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Demo only: client acceptor port [default: 9878].")
def run(config_path: str | None, port: int | None) -> None:
    """Run the broker gateway: client acceptor, internal venue, external venues, registry, OMS."""
    from fix_engine.config import ConfigError
    from fix_engine.logging_setup import start_console_logging

    from .gateway_config import DEMO_PORT, demo_config, load_gateway_config

    start_console_logging()
    try:
        if config_path is not None:
            config = load_gateway_config(config_path)
            where = config_path
        else:
            config = demo_config(port if port is not None else DEMO_PORT, Path.cwd())
            where = "built-in demo"
    except (ConfigError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    from twisted.internet import reactor

    from .gateway import Gateway

    def echo(text: str) -> None:
        click.echo(text)
        sys.stdout.flush()

    try:
        gateway = Gateway(config, reactor=reactor, echo=echo)
    except Exception as exc:  # configuration problems found while building
        raise click.ClickException(f"cannot start the gateway: {exc}") from None
    gateway.privilegedStartService()
    gateway.startService()
    reactor.addSystemEventTrigger("before", "shutdown", gateway.stopService)
    listening = gateway.listening

    def announce(_: object) -> None:
        ports = ", ".join(str(p) for p in gateway.bound_ports)
        sessions = ", ".join(sorted({f"{s.session_id.target_comp_id}" for s in config.client_sessions}))
        echo(f"fixgate gateway ({where}) listening on 127.0.0.1 port(s) {ports} as "
             f"{config.client_sessions[0].session_id.sender_comp_id}; clients: {sessions}; "
             f"venues: {', '.join(gateway.dispatcher.names())}.  Ctrl-C stops it.")

    if listening is not None:
        listening.addCallback(announce)
    reactor.run()  # type: ignore[attr-defined]
    if gateway.failure is not None:  # stopped itself (the registry writer process died): say so by the status
        raise SystemExit(1)
