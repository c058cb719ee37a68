"""Column types and SQL expressions that keep money exact on every backend.

``Amount`` is NUMERIC(24, 8) on PostgreSQL and a canonical decimal string on SQLite (SQLite has no
exact decimal type: its NUMERIC affinity is a float).  Arithmetic the database must do itself goes
through ``amount_add`` / ``amount_sum``: plain ``+`` / ``sum()`` on PostgreSQL, and Python ``Decimal``
functions registered on every SQLite connection (see ``database.prepare_sqlite_connection``).
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator, TypeEngine

from brokers.domain.accounts import AMOUNT_LIMIT, AMOUNT_PLACES, AMOUNT_QUANTUM, to_amount

SQLITE_ADD = "fixgate_amount_add"
SQLITE_SUM = "fixgate_amount_sum"


def amount_text(value: Decimal) -> str:
    """The canonical SQLite storage form: fixed point with exactly 8 places."""
    return format(value.quantize(AMOUNT_QUANTUM), "f")


class Amount(TypeDecorator[Decimal]):
    """An exact amount or quantity: NUMERIC(24, 8), or TEXT on SQLite; always ``Decimal`` in Python."""

    impl = Numeric(24, AMOUNT_PLACES, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(24, AMOUNT_PLACES, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if type(value) is Decimal and value.is_finite():  # the hot path: to_amount's checks, inlined
            amount = value.quantize(AMOUNT_QUANTUM)
            if amount != value or abs(amount) >= AMOUNT_LIMIT:
                amount = to_amount(value)  # raises the precise InvalidAmount
        else:
            amount = to_amount(value)
        return format(amount, "f") if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).quantize(AMOUNT_QUANTUM)


class UtcDateTime(TypeDecorator[_dt.datetime]):
    """A point in time stored as naive UTC; read back as an aware UTC datetime."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(_dt.UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> _dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=_dt.UTC)


class amount_add(FunctionElement[Decimal]):
    """``a + b`` computed exactly by the database."""

    type = Amount()
    inherit_cache = True
    name = "amount_add"


class amount_sum(FunctionElement[Decimal]):
    """``sum(x)`` computed exactly by the database (an aggregate)."""

    type = Amount()
    inherit_cache = True
    name = "amount_sum"


@compiles(amount_add)
def _add_default(element: amount_add, compiler: SQLCompiler, **kw: Any) -> str:
    left, right = list(element.clauses)
    return f"({compiler.process(left, **kw)} + {compiler.process(right, **kw)})"


@compiles(amount_add, "sqlite")
def _add_sqlite(element: amount_add, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{SQLITE_ADD}({compiler.process(element.clauses, **kw)})"


@compiles(amount_sum)
def _sum_default(element: amount_sum, compiler: SQLCompiler, **kw: Any) -> str:
    return f"sum({compiler.process(element.clauses, **kw)})"


@compiles(amount_sum, "sqlite")
def _sum_sqlite(element: amount_sum, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{SQLITE_SUM}({compiler.process(element.clauses, **kw)})"


def sqlite_amount_add(left: str | None, right: str | None) -> str:
    """SQLite function body of ``amount_add``."""
    return amount_text(Decimal(left or 0) + Decimal(right or 0))


class SqliteAmountSum:
    """SQLite aggregate body of ``amount_sum``."""

    def __init__(self) -> None:
        self.total: Decimal | None = None

    def step(self, value: str | None) -> None:
        if value is not None:
            self.total = (self.total or Decimal(0)) + Decimal(value)

    def finalize(self) -> str | None:
        return None if self.total is None else amount_text(self.total)
