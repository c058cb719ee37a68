"""The reactor-side view of registry balances that the vetting rules read (no I/O here).

The registry is the authority: :meth:`RegistryWriter` re-reads the balances of every account a
batch touched, after it commits, and hands them here with the batch number.  Reservations the
gateway has *queued* but the registry has not yet committed are kept as local deltas tagged with
their batch; a snapshot of batch ``n`` already contains everything up to ``n``, so those deltas
are dropped.  The vetting snapshot is therefore never more optimistic than the registry will be
once the queue drains, and the registry's own check inside ``open_order`` is the final word.

Open buy quantities (for the position limits) have no registry hold -- buys hold cash -- so the
client application keeps them here itself (:meth:`AccountCache.set_open_buy`): each working buy
order counts its leaves quantity from entry until it is filled, cancelled, expired or rejected.
Open sells are the instrument holds (registry snapshot plus local deltas), as for the holdings
rule.  A buy fill stops counting as open at once, so the quantity it bought is added to the
holdings as a local delta of its booking batch (:meth:`AccountCache.fill_locally`) until that
batch's snapshot carries it: holdings + open buys never dip while a fill is being booked.
Fee schedules are per account (:class:`~brokers.oms.context.FeeSchedules`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from brokers.domain.accounts import Account, Balance
from brokers.oms.context import AccountState, FeeSchedule, FeeSchedules
from venues.internal.fast_init import positional_constructor

__all__ = ["AccountCache"]

ZERO = Decimal(0)
#: ``AccountState`` from all its fields, positionally (built for every order vetted)
_account_state = positional_constructor(AccountState)
_ONE = Decimal(1)
_CENT = Decimal("0.01")


def _tidy(value: Decimal, money: bool) -> Decimal:
    """The registry's 8-place amount with the same value and the fewest places that keep it exact
    (cents for money), so rule Texts read ``held 200`` / ``10000.00 available``."""
    if money:
        cents = value.quantize(_CENT)
        return cents if cents == value else value.normalize()
    whole = value.quantize(_ONE)
    return whole if whole == value else value.normalize()


@dataclass(slots=True)
class _Entry:
    account: Account
    amounts: dict[str, Decimal]  # asset code -> booked amount
    held: dict[str, Decimal]  # asset code -> held by pending holds
    holdings: dict[str, Decimal] = field(default_factory=dict)  # amounts without the account's currency
    held_sells: dict[str, Decimal] = field(default_factory=dict)  # non-zero instrument holds
    fees: FeeSchedule = FeeSchedule()
    cash: Decimal = ZERO  # cash balance + credit limit


class AccountCache:
    """Balances and held amounts per account, plus reservations queued but not yet committed and
    the open buy quantity of working orders."""

    def __init__(self, fees: FeeSchedule | FeeSchedules | None = None) -> None:
        if fees is None:
            fees = FeeSchedules()
        elif isinstance(fees, FeeSchedule):
            fees = FeeSchedules(fees)
        self.fees: FeeSchedules = fees
        self._entries: dict[str, _Entry] = {}
        self._local: list[tuple[int, str, str, Decimal]] = []  # (batch, account, asset code, amount)
        self._local_sum: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        self._local_codes: dict[str, set[str]] = {}  # account -> asset codes with a key in _local_sum
        self._open_buys: dict[str, dict[str, Decimal]] = {}  # account -> symbol -> open buy quantity
        self._filled: list[tuple[int, str, str, Decimal]] = []  # (batch, account, symbol, qty) not yet in a snapshot
        self._filled_sum: dict[str, dict[str, Decimal]] = {}  # account -> symbol -> sum of _filled

    def load(self, account: Account, balances: Iterable[Balance]) -> None:
        """Start tracking ``account`` with its current balances."""
        entry = _Entry(account, {}, {}, fees=self.fees.for_account(account.name))
        self._entries[account.name] = entry
        self._apply(entry, balances)

    @staticmethod
    def _apply(entry: _Entry, balances: Iterable[Balance]) -> None:
        currency = entry.account.currency
        entry.amounts = amounts = {b.asset.code: _tidy(b.amount, b.asset.code == currency) for b in balances}
        entry.held = held = {b.asset.code: _tidy(b.held, b.asset.code == currency) for b in balances}
        entry.cash = _tidy(amounts.get(currency, ZERO) + entry.account.credit_limit, True)
        entry.holdings = {code: amt for code, amt in amounts.items() if code != currency}
        entry.held_sells = {code: amt for code, amt in held.items() if code != currency and amt}

    def __contains__(self, account: object) -> bool:
        return account in self._entries

    def accounts(self) -> list[str]:
        return list(self._entries)

    def fees_for(self, account: str) -> FeeSchedule:
        """The fee schedule of ``account``."""
        entry = self._entries.get(account)
        return entry.fees if entry is not None else self.fees.for_account(account)

    def snapshot(self, batch: int, balances: Mapping[str, list[Balance]]) -> None:
        """Balances read after batch ``batch`` committed; forget local deltas up to that batch."""
        for name, rows in balances.items():
            entry = self._entries.get(name)
            if entry is not None:
                self._apply(entry, rows)
        if self._local and self._local[0][0] <= batch:
            keep = []
            for item in self._local:
                if item[0] <= batch:
                    self._local_sum[(item[1], item[2])] -= item[3]
                else:
                    keep.append(item)
            self._local = keep
        if self._filled and self._filled[0][0] <= batch:
            kept = []
            for item in self._filled:
                if item[0] <= batch:
                    self._add(self._filled_sum, item[1], item[2], -item[3])
                else:
                    kept.append(item)
            self._filled = kept

    @staticmethod
    def _add(table: dict[str, dict[str, Decimal]], account: str, symbol: str, delta: Decimal) -> None:
        per_symbol = table.get(account)
        if per_symbol is None:
            per_symbol = table[account] = {}
        total = per_symbol.get(symbol, ZERO) + delta
        if total:
            per_symbol[symbol] = total
        else:
            per_symbol.pop(symbol, None)
            if not per_symbol:
                del table[account]

    def fill_locally(self, batch: int, account: str, symbol: str, qty: Decimal) -> None:
        """Count ``qty`` of ``symbol`` bought by a fill queued in ``batch`` as held until its snapshot."""
        if qty:
            self._filled.append((batch, account, symbol, qty))
            self._add(self._filled_sum, account, symbol, qty)

    def hold_locally(self, batch: int, account: str, asset_code: str, amount: Decimal) -> None:
        """Count a reservation queued in ``batch`` until its snapshot arrives."""
        if amount:
            self._local.append((batch, account, asset_code, amount))
            self._local_sum[(account, asset_code)] += amount
            codes = self._local_codes.get(account)
            if codes is None:
                codes = self._local_codes[account] = set()
            codes.add(asset_code)

    # ---- open buy quantities (position limits) ---------------------------------------------------

    def add_open_buy(self, account: str, symbol: str, delta: Decimal) -> None:
        """Count ``delta`` more (negative: less) open buy quantity of ``account`` in ``symbol``."""
        if delta:
            self._add(self._open_buys, account, symbol, delta)

    def open_buys(self, account: str, symbol: str) -> Decimal:
        """The open buy quantity counted for ``account`` in ``symbol``."""
        per_symbol = self._open_buys.get(account)
        return per_symbol.get(symbol, ZERO) if per_symbol else ZERO

    # ---- the vetting snapshot ----------------------------------------------------------------------

    def state(self, name: str) -> AccountState | None:
        """The vetting snapshot of an account, or None when the registry does not know it."""
        entry = self._entries.get(name)
        if entry is None:
            return None
        account = entry.account
        currency = account.currency
        local_sum = self._local_sum
        open_sells: dict[str, Decimal] = entry.held_sells
        local_codes = self._local_codes.get(name)
        if local_codes:
            held = entry.held
            open_sells = dict(open_sells)
            for code in local_codes:
                if code != currency:
                    open_sells[code] = held.get(code, ZERO) + local_sum.get((name, code), ZERO)
        open_buys = self._open_buys.get(name)
        holdings = entry.holdings
        filled = self._filled_sum.get(name)
        if filled:
            holdings = dict(holdings)
            for symbol, qty in filled.items():
                holdings[symbol] = holdings.get(symbol, ZERO) + qty
        return _account_state(
            name,
            True,
            currency,
            entry.cash,
            entry.held.get(currency, ZERO) + local_sum.get((name, currency), ZERO),
            holdings,
            dict(open_buys) if open_buys else {},
            open_sells,
            account.allow_short,
            False,
            entry.fees,
        )
