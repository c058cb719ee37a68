"""The reactor-side view of registry balances that the vetting rules read (no I/O here).

The registry is the authority: :meth:`RegistryWriter` re-reads the balances of every account a
batch touched, after it commits, and hands them here with the batch number.  Reservations the
gateway has *queued* but the registry has not yet committed are kept as local deltas tagged with
their batch; a snapshot of batch ``n`` already contains everything up to ``n``, so those deltas
are dropped.  The vetting snapshot is therefore never more optimistic than the registry will be
once the queue drains, and the registry's own check inside ``open_order`` is the final word.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from brokers.domain.accounts import Account, Balance
from brokers.oms.context import AccountState, FeeSchedule

__all__ = ["AccountCache"]

ZERO = Decimal(0)


@dataclass(slots=True)
class _Entry:
    account: Account
    amounts: dict[str, Decimal]  # asset code -> booked amount
    held: dict[str, Decimal]  # asset code -> held by pending holds


class AccountCache:
    """Balances and held amounts per account, plus reservations queued but not yet committed."""

    def __init__(self, fees: FeeSchedule | None = None) -> None:
        self.fees = fees or FeeSchedule()
        self._entries: dict[str, _Entry] = {}
        self._local: list[tuple[int, str, str, Decimal]] = []  # (batch, account, asset code, amount)
        self._local_sum: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        self._local_codes: dict[str, set[str]] = {}  # account -> asset codes with a key in _local_sum

    def load(self, account: Account, balances: Iterable[Balance]) -> None:
        """Start tracking ``account`` with its current balances."""
        entry = _Entry(account, {}, {})
        self._entries[account.name] = entry
        self._apply(entry, balances)

    @staticmethod
    def _apply(entry: _Entry, balances: Iterable[Balance]) -> None:
        entry.amounts = {b.asset.code: b.amount for b in balances}
        entry.held = {b.asset.code: b.held for b in balances}

    def __contains__(self, account: object) -> bool:
        return account in self._entries

    def accounts(self) -> list[str]:
        return list(self._entries)

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

    def hold_locally(self, batch: int, account: str, asset_code: str, amount: Decimal) -> None:
        """Count a reservation queued in ``batch`` until its snapshot arrives."""
        if amount:
            self._local.append((batch, account, asset_code, amount))
            self._local_sum[(account, asset_code)] += amount
            codes = self._local_codes.get(account)
            if codes is None:
                codes = self._local_codes[account] = set()
            codes.add(asset_code)

    def state(self, name: str) -> AccountState | None:
        """The vetting snapshot of an account, or None when the registry does not know it."""
        entry = self._entries.get(name)
        if entry is None:
            return None
        account = entry.account
        currency = account.currency
        holdings = {code: amt for code, amt in entry.amounts.items() if code != currency}
        local_sum = self._local_sum
        held = entry.held
        local_codes = self._local_codes.get(name)
        codes = set(holdings)
        if local_codes:
            codes.update(local_codes)
            codes.discard(currency)
        open_sells = {code: held.get(code, ZERO) + local_sum.get((name, code), ZERO) for code in codes}
        return AccountState(
            account=name,
            currency=currency,
            cash_available=entry.amounts.get(currency, ZERO) + account.credit_limit,
            reserved=held.get(currency, ZERO) + local_sum.get((name, currency), ZERO),
            holdings=holdings,
            open_sell_qty=open_sells,
            allow_short=account.allow_short,
            fees=self.fees,
        )
