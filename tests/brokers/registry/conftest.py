"""Registry backends for the shared contract suite: SQLite (a file in tmp_path) and PostgreSQL.

PostgreSQL uses the shared ``postgres_url`` / ``postgres_schema`` fixtures of ``tests/conftest.py``
(skipped without FIXGATE_TEST_DATABASE_URL): a fresh schema per test, selected with ``search_path``
through libpq ``options``, dropped afterwards.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from brokers.domain.accounts import Account, Asset
from brokers.domain.ledger import BookedOrder, FillToBook, Side
from brokers.registry import Registry

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
T0 = dt.datetime(2024, 6, 3, 13, 30, tzinfo=dt.UTC)


@dataclass
class Backend:
    """One database for one test: its URL (what the CLI takes) and an engine on it."""

    name: str
    url: str
    engine: Engine
    application_name: str = ""


def _postgres_url(base: str, schema: str, application_name: str) -> str:
    url = make_url(base)
    return url.update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": application_name}
    ).render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Backend]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/registry.db"
        engine = create_engine(url, connect_args={"check_same_thread": False})
        made = Backend("sqlite", url, engine)
    else:
        schema = request.getfixturevalue("postgres_schema")
        app = f"fixgate-registry-{uuid.uuid4().hex[:12]}"
        url = _postgres_url(request.getfixturevalue("postgres_url"), schema, app)
        made = Backend("postgresql", url, create_engine(url), app)
    try:
        yield made
    finally:
        made.engine.dispose()  # before the schema is dropped


@pytest.fixture
def registry(backend: Backend) -> Iterator[Registry]:
    made = Registry(backend.engine)
    made.upgrade()
    yield made
    made.close()


def assert_sound(registry: Registry) -> None:
    """The invariants hold (the contract suite calls this after every scenario step)."""
    assert registry.check() == []


def fund(registry: Registry, name: str = "ACME", cash: str = "1000000", **kwargs: object) -> str:
    registry.open_account(Account(name, **kwargs))  # type: ignore[arg-type]
    registry.deposit(name, cash, "USD")
    return name


def open_order(
    registry: Registry,
    order_id: str = "O1",
    qty: int | str = 100,
    price: str = "150",
    reserve: str | None = None,
    *,
    side: Side = Side.BUY,
    account: str = "ACME",
    symbol: str = "AAPL",
) -> BookedOrder:
    """Record an order and reserve for it: cash (qty * price, or ``reserve``) to buy, the shares to sell."""
    order = BookedOrder(order_id, account, symbol, side, Decimal(qty), Decimal(price), "USD")
    if side is Side.BUY:
        reservations: dict[Asset | str, str | Decimal] = {"USD": reserve or Decimal(qty) * Decimal(price)}
    else:
        reservations = {Asset.instrument(symbol): reserve or Decimal(qty)}
    registry.open_order(order, reservations)
    return order


def fill(
    exec_id: str,
    qty: str | int,
    price: str,
    *,
    order_id: str | None = "O1",
    side: Side = Side.BUY,
    account: str = "ACME",
    symbol: str = "AAPL",
    fees: str = "0",
    venue: str = "XNAS",
    ts: dt.datetime = T0,
) -> FillToBook:
    return FillToBook(
        venue,
        exec_id,
        order_id,
        account,
        symbol,
        side,
        Decimal(qty),
        Decimal(price),
        "USD",
        ts,
        fees=Decimal(fees),
    )
