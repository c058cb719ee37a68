"""The registry's click commands, driven with CliRunner against every backend."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, update

from brokers.domain.ledger import Side, TradeCancel
from brokers.registry import Registry, tables
from brokers.registry.cli import accounts_group, fills, positions, registry_group
from brokers.registry.migrations import upgrade

from .conftest import T0, Backend, fill, open_order

Invoke = Callable[..., Result]


@pytest.fixture
def run(backend: Backend) -> Invoke:
    runner = CliRunner()

    def invoke(command: object, *args: str) -> Result:
        return runner.invoke(command, [*args, "--db", backend.url])  # type: ignore[arg-type]

    return invoke


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def test_create_fund_and_show_positions(run: Invoke) -> None:
    invoke = run
    assert "created account ACME (USD)" in ok(invoke(accounts_group, "create", "ACME"))
    ok(invoke(accounts_group, "deposit", "ACME", "1000000.50"))
    ok(invoke(accounts_group, "deposit-holding", "ACME", "AAPL", "1000000"))
    ok(invoke(accounts_group, "deposit-holding", "ACME", "MSFT", "0.5"))
    ok(invoke(accounts_group, "withdraw", "ACME", "0.25"))
    lines = ok(invoke(positions, "ACME")).splitlines()
    assert lines[:2] == ["AAPL 1000000", "MSFT 0.5"]
    assert lines[2:] == ["", "cash USD 1000000.25"]
    shown = ok(invoke(accounts_group, "show", "ACME"))
    assert "kind CLIENT" in shown and "allow-short no" in shown
    assert any(line.split() == ["USD", "1000000.25", "0", "1000000.25"] for line in shown.splitlines())
    listed = ok(invoke(accounts_group, "list"))
    assert "ACME CLIENT USD" in listed and "@world EXTERNAL" in listed
    assert "ok:" in ok(invoke(registry_group, "check"))


def test_create_options(run: Invoke) -> None:
    invoke = run
    ok(
        invoke(
            accounts_group, "create", "EURO", "--currency", "eur", "--allow-short", "--credit-limit", "5000"
        )
    )
    shown = ok(invoke(accounts_group, "show", "EURO"))
    assert "currency EUR" in shown and "allow-short yes" in shown and "credit-limit 5000" in shown
    ok(invoke(accounts_group, "deposit", "EURO", "10"))  # in the account's currency
    assert ok(invoke(positions, "EURO")).splitlines() == ["", "cash EUR 10"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("deposit", "NOPE", "10"), 1, "unknown account 'NOPE'"),
        (("show", "NOPE"), 1, "unknown account 'NOPE'"),
        (("withdraw", "ACME", "100.01"), 1, "insufficient USD in account 'ACME'"),
        (("deposit", "ACME", "-5"), 2, "must be positive"),
        (("deposit", "ACME", "0"), 2, "must be positive"),
        (("deposit", "ACME", "1.000000001"), 2, "more than 8 decimal places"),
        (("deposit", "ACME", "ten"), 2, "is not a number"),
        (("create", "ACME"), 1, "account 'ACME' already exists"),
        (("create", "@house"), 2, "reserved"),
        (("create", "X", "--credit-limit", "-1"), 2, "credit limit must not be negative"),
    ],
)
def test_errors_are_clear_messages_without_tracebacks(
    run: Invoke, args: tuple[str, ...], code: int, message: str
) -> None:
    invoke = run
    ok(invoke(accounts_group, "create", "ACME"))
    ok(invoke(accounts_group, "deposit", "ACME", "100"))
    result = invoke(accounts_group, *args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_positions_of_an_unknown_account(run: Invoke) -> None:
    result = run(positions, "NOPE")
    assert result.exit_code == 1 and "unknown account 'NOPE'" in result.output


def test_fills_lists_booked_fills_with_filters(run: Invoke, backend: Backend) -> None:
    invoke = run
    ok(invoke(accounts_group, "create", "ACME"))
    ok(invoke(accounts_group, "create", "BETA"))
    ok(invoke(accounts_group, "deposit", "ACME", "100000"))
    with Registry(backend.url) as registry:
        open_order(registry)
        registry.book_fill(fill("E1", 40, "150.5", fees="1"))
        registry.book_fill(fill("E2", 10, "150", ts=T0.replace(hour=15)))
        registry.book_fill(fill("E3", 5, "150", order_id=None, account="BETA", side=Side.SELL))
        registry.book_trade_cancel(TradeCancel("XNAS", "X1", "E2", T0))
    lines = ok(invoke(fills)).splitlines()
    assert len(lines) == 3
    assert lines[0] == "2024-06-03T13:30:00+00:00 XNAS E1 ACME BUY 40 AAPL @ 150.5 USD fees 1 order O1"
    assert " E2 " in lines[2] and lines[2].endswith(" CANCELLED")  # oldest first: E2 is at 15:00
    assert [line.split()[2] for line in ok(invoke(fills, "--account", "BETA")).splitlines()] == ["E3"]
    assert [
        line.split()[2] for line in ok(invoke(fills, "--since", "2024-06-03T14:00:00Z")).splitlines()
    ] == ["E2"]
    bad = invoke(fills, "--since", "yesterday")
    assert bad.exit_code == 2 and "ISO 8601" in bad.output


def test_registry_check_exits_1_on_a_violation(run: Invoke, backend: Backend) -> None:
    invoke = run
    ok(invoke(accounts_group, "create", "ACME"))
    ok(invoke(accounts_group, "deposit", "ACME", "100"))
    with Registry(backend.url) as registry, registry.engine.begin() as conn:
        acme = select(tables.accounts.c.id).where(tables.accounts.c.name == "ACME").scalar_subquery()
        conn.execute(
            update(tables.balances).where(tables.balances.c.account_id == acme).values(amount=Decimal(7))
        )
    result = invoke(registry_group, "check")
    assert result.exit_code == 1
    assert "balances-match-ledger: ACME USD: balance 7, expected 100" in result.output
    assert "1 invariant violation(s)" in result.output


def test_upgrade_and_refusal_of_an_old_schema(run: Invoke, backend: Backend) -> None:
    invoke = run
    upgrade(backend.engine, "0001")
    refused = invoke(accounts_group, "create", "ACME")
    assert refused.exit_code == 1 and "fixgate registry upgrade" in refused.output
    assert "revision 0002" in ok(invoke(registry_group, "upgrade"))
    ok(invoke(accounts_group, "create", "ACME"))


def test_database_url_from_environment_or_default_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FIXGATE_DATABASE_URL", raising=False)
    assert runner.invoke(accounts_group, ["create", "ACME"]).exit_code == 0
    assert (tmp_path / "fixgate.db").exists()
    other = tmp_path / "other.db"
    monkeypatch.setenv("FIXGATE_DATABASE_URL", f"sqlite:///{other}")
    assert runner.invoke(accounts_group, ["create", "ACME"]).exit_code == 0  # a different database
    assert other.exists()
