"""``fixgate order ...``: thin click commands over :func:`brokers.order_client.run_order`.

    fixgate order buy  SYMBOL QTY (--price P | --market) [--account A] [--tif day|gtc|ioc|fok] [--cl-ord-id ID] [--dest EXDEST]
    fixgate order sell SYMBOL QTY ...
    fixgate order cancel  ORIG_CL_ORD_ID --symbol S --side buy|sell [--qty Q]
    fixgate order replace ORIG_CL_ORD_ID --symbol S --side buy|sell --qty Q [--price P]
    fixgate order status  CL_ORD_ID --symbol S --side buy|sell

Exit codes: 0 accepted, 1 rejected, 2 usage error, 3 could not log on within --wait,
4 logged on but no answer within --wait (see :class:`~brokers.order_client.ExitStatus`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from .order_client import FIX_VERSIONS, SIDES, TIME_IN_FORCE, ClientOptions, ExitStatus, Report


class DecimalParam(click.ParamType):
    """A positive decimal (quantity or price), never a float."""

    name = "decimal"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Decimal:
        if isinstance(value, Decimal):
            number = value
        else:
            try:
                number = Decimal(str(value).strip())
            except InvalidOperation:
                self.fail(f"{value!r} is not a number", param, ctx)
        if not number.is_finite() or number <= 0:
            self.fail(f"{value!r} must be a positive number", param, ctx)
        return number


POSITIVE_DECIMAL = DecimalParam()
_side_choice = click.Choice(sorted(SIDES), case_sensitive=False)


def _common_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The connection options every ``fixgate order`` command takes."""
    options = [
        click.option("--host", default="127.0.0.1", show_default=True, help="Gateway host."),
        click.option("--port", type=click.IntRange(1, 65535), default=9878, show_default=True, help="Gateway port."),
        click.option("--sender", default="CLIENT1", show_default=True, help="Our SenderCompID."),
        click.option("--target", default="FIXGATE", show_default=True, help="The gateway's CompID (TargetCompID)."),
        click.option("--fix-version", "fix_version", type=click.Choice(list(FIX_VERSIONS), case_sensitive=False),
                     default="4.4", show_default=True, help="FIX.4.4, FIX.4.2 or FIXT.1.1 with FIX.5.0SP2."),
        click.option("--store", "store_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="File store directory (sequence numbers persist between runs). "
                          "Default: memory with --reset, ~/.fixgate/client with --no-reset."),
        click.option("--reset/--no-reset", default=True, show_default=True,
                     help="Log on with ResetSeqNumFlag=Y (both sequence numbers back to 1)."),
        click.option("--wait", type=click.FloatRange(min=0, min_open=True), default=5.0, show_default=True,
                     help="Seconds to log on, then seconds to wait for the answer."),
        click.option("--quiet", "quiet", type=click.FloatRange(min=0), default=0.5, show_default=True,
                     help="A resting order is done after this many seconds without a report."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON object per report."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _client_options(kw: dict[str, Any]) -> tuple[ClientOptions, bool]:
    options = ClientOptions(
        host=kw.pop("host"), port=kw.pop("port"), sender=kw.pop("sender"), target=kw.pop("target"),
        fix_version=kw.pop("fix_version").lower(), reset=kw.pop("reset"), store_dir=kw.pop("store_dir"),
        wait=kw.pop("wait"), quiet=kw.pop("quiet"),
    )
    return options, kw.pop("as_json")


def _execute(request: Any, options: ClientOptions, as_json: bool) -> None:
    """Run the request on the global reactor, print reports as they come, exit with the status."""
    from twisted.internet import defer, reactor

    from .order_client import run_order

    def show(report: Report) -> None:
        click.echo(report.json_line() if as_json else report.line())
        sys.stdout.flush()

    outcome: list[Any] = []
    the_reactor: Any = reactor

    def finished(result: object) -> None:
        outcome.append(result)
        the_reactor.stop()

    def start() -> None:
        defer.ensureDeferred(run_order(request, options, reactor=the_reactor, on_report=show)).addBoth(finished)

    the_reactor.callWhenRunning(start)
    the_reactor.run()
    if not outcome:  # pragma: no cover - the reactor stopped by a signal
        sys.exit(130)
    result = outcome[0]
    if not hasattr(result, "status"):  # a Failure: an unexpected error inside the client
        click.echo(f"fixgate order: {result.getErrorMessage()}", err=True)
        sys.exit(ExitStatus.NOT_LOGGED_ON)
    if result.message:
        click.echo(f"fixgate order: {result.message}", err=True)
    sys.exit(int(result.status))


@click.group("order")
def order() -> None:
    """Log on to the gateway, send one order / cancel / replace / status request, print the reports."""


def _new_order(side: str) -> click.Command:
    @click.command(side, help=f"Send a NewOrderSingle to {side} QTY of SYMBOL.")
    @click.argument("symbol")
    @click.argument("qty", type=POSITIVE_DECIMAL)
    @click.option("--price", type=POSITIVE_DECIMAL, default=None, help="Limit price (OrdType=2).")
    @click.option("--market", is_flag=True, help="Market order (OrdType=1).")
    @click.option("--account", default=None, help="Account(1); the gateway's default for the session if omitted.")
    @click.option("--tif", type=click.Choice(list(TIME_IN_FORCE), case_sensitive=False), default="day",
                  show_default=True, help="TimeInForce(59).")
    @click.option("--cl-ord-id", "cl_ord_id", default=None, help="ClOrdID(11); default <sender>-<epoch ms>.")
    @click.option("--dest", "ex_destination", default=None, help="ExDestination(100).")
    @_common_options
    def command(symbol: str, qty: Decimal, price: Decimal | None, market: bool, account: str | None, tif: str,
                cl_ord_id: str | None, ex_destination: str | None, **kw: Any) -> None:
        from .order_client import NewOrder, default_cl_ord_id

        if market and price is not None:
            raise click.UsageError("--price and --market exclude each other")
        if not market and price is None:
            raise click.UsageError("give --price P for a limit order or --market")
        options, as_json = _client_options(kw)
        request = NewOrder(side, symbol, qty, price, account, tif.lower(),
                           cl_ord_id or default_cl_ord_id(options.sender), ex_destination)
        _execute(request, options, as_json)

    return command


order.add_command(_new_order("buy"))
order.add_command(_new_order("sell"))


@order.command("cancel")
@click.argument("orig_cl_ord_id")
@click.option("--symbol", required=True, help="Symbol(55) of the order.")
@click.option("--side", type=_side_choice, required=True, help="Side(54) of the order.")
@click.option("--qty", type=POSITIVE_DECIMAL, default=None, help="OrderQty(38) of the order.")
@click.option("--account", default=None, help="Account(1).")
@click.option("--cl-ord-id", "cl_ord_id", default=None, help="ClOrdID(11) of the cancel; default <sender>-<epoch ms>.")
@_common_options
def cancel(orig_cl_ord_id: str, symbol: str, side: str, qty: Decimal | None, account: str | None,
           cl_ord_id: str | None, **kw: Any) -> None:
    """Send an OrderCancelRequest for the order ORIG_CL_ORD_ID."""
    from .order_client import CancelOrder, default_cl_ord_id

    options, as_json = _client_options(kw)
    request = CancelOrder(orig_cl_ord_id, symbol, side.lower(), qty,
                          cl_ord_id or default_cl_ord_id(options.sender), account)
    _execute(request, options, as_json)


@order.command("replace")
@click.argument("orig_cl_ord_id")
@click.option("--symbol", required=True, help="Symbol(55) of the order.")
@click.option("--side", type=_side_choice, required=True, help="Side(54) of the order.")
@click.option("--qty", type=POSITIVE_DECIMAL, required=True, help="New total OrderQty(38).")
@click.option("--price", type=POSITIVE_DECIMAL, default=None, help="New limit Price(44); default: unchanged.")
@click.option("--account", default=None, help="Account(1).")
@click.option("--cl-ord-id", "cl_ord_id", default=None, help="ClOrdID(11) of the replace; default <sender>-<epoch ms>.")
@_common_options
def replace(orig_cl_ord_id: str, symbol: str, side: str, qty: Decimal, price: Decimal | None,
            account: str | None, cl_ord_id: str | None, **kw: Any) -> None:
    """Send an OrderCancelReplaceRequest (limit order) for the order ORIG_CL_ORD_ID."""
    from .order_client import ReplaceOrder, default_cl_ord_id

    options, as_json = _client_options(kw)
    request = ReplaceOrder(orig_cl_ord_id, symbol, side.lower(), qty, price,
                           cl_ord_id or default_cl_ord_id(options.sender), account)
    _execute(request, options, as_json)


@order.command("status")
@click.argument("cl_ord_id")
@click.option("--symbol", required=True, help="Symbol(55) of the order.")
@click.option("--side", type=_side_choice, required=True, help="Side(54) of the order.")
@_common_options
def status(cl_ord_id: str, symbol: str, side: str, **kw: Any) -> None:
    """Send an OrderStatusRequest for the order CL_ORD_ID."""
    from .order_client import OrderStatus

    options, as_json = _client_options(kw)
    _execute(OrderStatus(cl_ord_id, symbol, side.lower()), options, as_json)
