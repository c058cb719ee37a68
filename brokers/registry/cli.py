"""Registry commands for ``fixgate``: ``accounts``, ``positions``, ``fills`` and ``registry`` (check, upgrade).

Every command takes ``--db URL`` (default: ``$FIXGATE_DATABASE_URL``, else ``sqlite:///fixgate.db``).
A database the registry never touched gets the schema on first use; a database at an older schema
revision is refused until ``fixgate registry upgrade``.  Errors are one line on stderr: exit code 2
for bad input (a negative amount), 1 for refusals (unknown account, insufficient funds, broken invariant).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from brokers.domain.accounts import (
    Account,
    InvalidAmount,
    RegistryError,
    format_amount,
    positive_amount,
    to_amount,
)

F = TypeVar("F", bound=Callable[..., Any])
_NEGATIVE_OK = {
    "ignore_unknown_options": True
}  # so that "-5" reaches the amount check, not the option parser


class AmountType(click.ParamType):
    """A Decimal amount on the command line (never float); ``positive`` rejects zero and below."""

    name = "amount"

    def __init__(self, positive: bool = True) -> None:
        self.positive = positive

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Decimal:
        if isinstance(value, Decimal):
            return value
        try:
            return positive_amount(str(value)) if self.positive else to_amount(str(value))
        except InvalidAmount as exc:
            self.fail(str(exc), param, ctx)


class IsoTimestamp(click.ParamType):
    """An ISO 8601 date or timestamp; naive values are UTC."""

    name = "iso-timestamp"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> _dt.datetime:
        if isinstance(value, _dt.datetime):
            return value
        try:
            parsed = _dt.datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 timestamp (e.g. 2024-06-01T09:30:00Z)", param, ctx)
        return parsed.replace(tzinfo=_dt.UTC) if parsed.tzinfo is None else parsed


def db_option(function: F) -> F:
    return click.option(
        "--db",
        "db_url",
        metavar="URL",
        default=None,
        help="Registry database URL [default: $FIXGATE_DATABASE_URL or sqlite:///fixgate.db].",
    )(function)


@contextmanager
def open_registry(db_url: str | None, *, migrate_empty: bool = True) -> Iterator[Any]:
    """A Registry on ``db_url`` whose schema is current; registry and database errors become clean exits."""
    from .database import database_url, display_url
    from .migrations import current_revision, head_revision, upgrade
    from .service import Registry

    url = database_url(db_url)
    try:
        registry = Registry(url)
    except (SQLAlchemyError, ValueError) as exc:  # ValueError: unparsable URL
        raise click.ClickException(f"cannot open registry database {display_url(url)}: {exc}") from None
    try:
        revision = current_revision(registry.engine)
        if revision is None and migrate_empty:
            upgrade(registry.engine)
        elif revision != head_revision():
            raise click.ClickException(
                f"registry schema is at revision {revision}, this fixgate needs {head_revision()}: "
                "run `fixgate registry upgrade`"
            )
        yield registry
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    except SQLAlchemyError as exc:
        raise click.ClickException(f"registry database error: {exc.__class__.__name__}: {exc}") from None
    finally:
        registry.close()


# --------------------------------------------------------------------------- accounts


@click.group("accounts")
def accounts_group() -> None:
    """Client accounts: create, fund, withdraw, inspect."""


@accounts_group.command("create")
@click.argument("name")
@click.option("--currency", default="USD", show_default=True, help="The account's base currency.")
@click.option("--allow-short", is_flag=True, help="Instrument balances may go below zero.")
@click.option(
    "--credit-limit", type=AmountType(positive=False), default="0", help="Cash may go this far below zero."
)
@db_option
def create_account(
    name: str, currency: str, allow_short: bool, credit_limit: Decimal, db_url: str | None
) -> None:
    """Create account NAME."""
    try:
        account = Account(name, currency=currency, allow_short=allow_short, credit_limit=credit_limit)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if account.name.startswith("@"):
        raise click.BadParameter(
            "names starting with '@' are reserved for system accounts", param_hint="NAME"
        )
    with open_registry(db_url) as registry:
        registry.open_account(account)
    click.echo(f"created account {account.name} ({account.currency})")


@accounts_group.command("deposit", context_settings=_NEGATIVE_OK)
@click.argument("name")
@click.argument("amount", type=AmountType())
@click.option("--currency", default=None, help="Currency [default: the account's].")
@db_option
def deposit(name: str, amount: Decimal, currency: str | None, db_url: str | None) -> None:
    """Deposit AMOUNT of cash into account NAME (from the outside world)."""
    with open_registry(db_url) as registry:
        currency = (currency or registry.account(name).currency).upper()
        registry.deposit(name, amount, currency)
    click.echo(f"deposited {format_amount(amount)} {currency} into {name}")


@accounts_group.command("deposit-holding", context_settings=_NEGATIVE_OK)
@click.argument("name")
@click.argument("symbol")
@click.argument("qty", type=AmountType())
@db_option
def deposit_holding(name: str, symbol: str, qty: Decimal, db_url: str | None) -> None:
    """Deposit QTY of instrument SYMBOL into account NAME (a transfer in)."""
    with open_registry(db_url) as registry:
        registry.deposit_holding(name, symbol, qty)
    click.echo(f"deposited {format_amount(qty)} {symbol} into {name}")


@accounts_group.command("withdraw", context_settings=_NEGATIVE_OK)
@click.argument("name")
@click.argument("amount", type=AmountType())
@click.option("--currency", default=None, help="Currency [default: the account's].")
@db_option
def withdraw(name: str, amount: Decimal, currency: str | None, db_url: str | None) -> None:
    """Withdraw AMOUNT of cash from account NAME (at most its available balance)."""
    with open_registry(db_url) as registry:
        currency = (currency or registry.account(name).currency).upper()
        registry.withdraw(name, amount, currency)
    click.echo(f"withdrew {format_amount(amount)} {currency} from {name}")


@accounts_group.command("show")
@click.argument("name")
@db_option
def show_account(name: str, db_url: str | None) -> None:
    """Show account NAME: limits, then balance / held / available per asset."""
    with open_registry(db_url) as registry:
        account = registry.account(name)
        balances = registry.balances(name)
    short = "yes" if account.allow_short else "no"
    click.echo(
        f"account {account.name}  kind {account.kind.value}  currency {account.currency}  "
        f"allow-short {short}  credit-limit {format_amount(account.credit_limit)}"
    )
    rows = [("ASSET", "BALANCE", "HELD", "AVAILABLE")] + [
        (b.asset.code, format_amount(b.amount), format_amount(b.held), format_amount(b.available))
        for b in balances
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@accounts_group.command("list")
@db_option
def list_accounts(db_url: str | None) -> None:
    """List every account (system accounts start with '@')."""
    with open_registry(db_url) as registry:
        for account in registry.accounts():
            click.echo(f"{account.name} {account.kind.value} {account.currency}")


# --------------------------------------------------------------------------- positions, fills


@click.command("positions")
@click.argument("account")
@db_option
def positions(account: str, db_url: str | None) -> None:
    """Holdings of ACCOUNT: one `SYMBOL QTY` line per instrument, then a blank line and `cash CCY AMOUNT` lines."""
    with open_registry(db_url) as registry:
        balances = registry.balances(account)
    holdings = [b for b in balances if not b.asset.is_currency and b.amount != 0]
    cash = [b for b in balances if b.asset.is_currency]
    for balance in holdings:
        click.echo(f"{balance.asset.code} {format_amount(balance.amount)}")
    if cash:
        click.echo("")
        for balance in cash:
            click.echo(f"cash {balance.asset.code} {format_amount(balance.amount)}")


@click.command("fills")
@click.option("--account", default=None, help="Only this account's fills.")
@click.option(
    "--since", type=IsoTimestamp(), default=None, help="Only fills at or after this time (ISO 8601)."
)
@db_option
def fills(account: str | None, since: _dt.datetime | None, db_url: str | None) -> None:
    """List booked fills, oldest first (busted and corrected ones are marked)."""
    with open_registry(db_url) as registry:
        executions = registry.fills(account, since)
    for execution in executions:
        fill = execution.fill
        assert fill is not None
        state = "" if execution.state.value == "BOOKED" else f" {execution.state.value}"
        corrects = f" corrects {execution.ref_exec_id}" if execution.ref_exec_id else ""
        click.echo(
            f"{fill.ts.isoformat()} {fill.venue} {fill.exec_id} {fill.account} {fill.side.value} "
            f"{format_amount(fill.qty)} {fill.symbol} @ {format_amount(fill.price)} {fill.currency} "
            f"fees {format_amount(fill.fees)} order {fill.order_id or '-'}{corrects}{state}"
        )


# --------------------------------------------------------------------------- registry


@click.group("registry")
def registry_group() -> None:
    """The registry database: invariant check and schema upgrade."""


@registry_group.command("check")
@db_option
def check(db_url: str | None) -> None:
    """Check the invariants (ledger sums to zero per asset, holds match reservations...); exit 1 if broken."""
    with open_registry(db_url) as registry:
        violations = registry.check()
    if violations:
        for violation in violations:
            click.echo(str(violation), err=True)
        raise click.ClickException(f"{len(violations)} invariant violation(s)")
    click.echo(
        "ok: ledger balanced, balances match the ledger, holds match reservations, no account below its floor"
    )


@registry_group.command("upgrade")
@db_option
def upgrade_schema(db_url: str | None) -> None:
    """Create or migrate the schema to the newest revision (alembic upgrade head; keeps the data)."""
    from .database import database_url, display_url
    from .migrations import upgrade

    url = database_url(db_url)
    try:
        revision = upgrade(url)
    except (SQLAlchemyError, ValueError) as exc:
        raise click.ClickException(
            f"cannot upgrade {display_url(url)}: {exc.__class__.__name__}: {exc}"
        ) from None
    click.echo(f"registry schema at revision {revision}")


#: What ``brokers.cli`` mounts under ``fixgate`` (module, attribute pairs for ``COMMAND_SOURCES``).
COMMANDS = (accounts_group, positions, fills, registry_group)
