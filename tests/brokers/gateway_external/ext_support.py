"""Helpers for the gateway-with-external-venues tests (real reactor, bounded event-driven waits).

* :class:`ExternalGatewayHarness` -- the gateway harness of ``tests/brokers/gateway/support.py``
  plus extra ``[SESSION]`` blocks appended to the config (external venues as initiator blocks,
  drop-copy sessions, ...).
* :func:`venue_block` -- an initiator ``[SESSION]`` naming an external venue.
* :class:`ChildProcess` -- re-exported from the interop support (a watched subprocess).
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parents[1]
for extra_path in (TESTS / "brokers" / "gateway", TESTS / "venues" / "external", TESTS / "interop"):
    if str(extra_path) not in sys.path:
        sys.path.insert(0, str(extra_path))

from support import GatewayHarness, gateway_text, is_er, order, reports, wait_report  # noqa: E402
from twisted.internet import reactor  # noqa: E402

from brokers.gateway import Gateway  # noqa: E402
from brokers.gateway_config import gateway_config  # noqa: E402
from brokers.registry import Registry  # noqa: E402
from fix_engine.config import parse_config  # noqa: E402

__all__ = ["ExternalGatewayHarness", "balances", "held", "is_er", "order", "reports", "venue_block", "wait_report"]


def venue_block(name: str, port: int, *, sender: str = "BROKER", target: str = "XCHG", begin: str = "FIX.4.4",
                extra: str = "") -> str:
    """An external venue: initiator session from the gateway (SenderCompID ``sender``)."""
    return f"""
[SESSION]
ConnectionType=initiator
BeginString={begin}
SenderCompID={sender}
TargetCompID={target}
SocketConnectHost=127.0.0.1
SocketConnectPort={port}
DataDictionary={begin.replace('.', '')}.xml
ReconnectInterval=1
VenueName={name}
{extra}"""


class ExternalGatewayHarness(GatewayHarness):
    """A gateway whose config gets extra [DEFAULT] keys and extra [SESSION] blocks."""

    def __init__(self, tmp: Path, extra: str = "", blocks: str = "") -> None:
        super().__init__(tmp, extra)
        self.blocks = blocks

    def config_text(self) -> str:
        return gateway_text(self.tmp, self.port, self.extra) + "\n" + self.blocks

    async def start_gateway(self) -> Gateway:
        config = gateway_config(parse_config(self.config_text(), "test-gateway.cfg", base_dir=self.tmp), self.tmp)
        self.gateway = Gateway(config, reactor=reactor, echo=self.log.append)
        await self.gateway.listen()
        self.gateway.startService()
        return self.gateway


def balances(db: Path, account: str) -> dict[str, Decimal]:
    with Registry(f"sqlite:///{db}") as registry:
        return {b.asset.code: b.amount for b in registry.balances(account)}


def held(db: Path, account: str) -> dict[str, Decimal]:
    with Registry(f"sqlite:///{db}") as registry:
        return {b.asset.code: b.held for b in registry.balances(account)}
