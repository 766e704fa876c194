"""Double-entry balances with reservations.

Every movement is a transfer between two accounts, so the sum of each asset over all
accounts is always zero: the ``EXTERNAL`` account is the contra account of deposits and
withdrawals (its balance is minus everything held on the exchange), and ``FEES`` collects
fees. User accounts never go negative, and never below what they have reserved.
"""

from __future__ import annotations

from typing import Final

from exchange_server.domain.rejections import Reject, Rejected

EXTERNAL: Final = 0  # the outside world: deposits come from here, withdrawals go here
FEES: Final = 1  # fee income
SYSTEM_ACCOUNTS = (EXTERNAL, FEES)


class Ledger:
    __slots__ = ("balances", "changed", "reserved")

    def __init__(self) -> None:
        self.balances: dict[int, dict[str, int]] = {EXTERNAL: {}, FEES: {}}
        self.reserved: dict[int, dict[str, int]] = {EXTERNAL: {}, FEES: {}}
        # (account, asset) pairs changed since the owner last cleared this.
        self.changed: dict[tuple[int, str], None] = {}

    def open(self, account: int) -> None:
        self.balances[account] = {}
        self.reserved[account] = {}

    def has_account(self, account: int) -> bool:
        return account in self.balances

    def balance(self, account: int, asset: str) -> int:
        return self.balances[account].get(asset, 0)

    def held(self, account: int, asset: str) -> int:
        return self.reserved[account].get(asset, 0)

    def available(self, account: int, asset: str) -> int:
        return self.balances[account].get(asset, 0) - self.reserved[account].get(asset, 0)

    def transfer(self, source: int, destination: int, asset: str, amount: int) -> None:
        """Move ``amount`` (>= 0) from ``source`` to ``destination``. Callers check
        availability; only ``EXTERNAL`` may go negative."""
        src = self.balances[source]
        src[asset] = src.get(asset, 0) - amount
        dst = self.balances[destination]
        dst[asset] = dst.get(asset, 0) + amount
        self.changed[source, asset] = None
        self.changed[destination, asset] = None

    def reserve(self, account: int, asset: str, amount: int, shortfall: Reject) -> None:
        """Hold ``amount`` of available balance, or refuse with ``shortfall``."""
        if self.available(account, asset) < amount:
            raise Rejected(shortfall)
        held = self.reserved[account]
        held[asset] = held.get(asset, 0) + amount
        self.changed[account, asset] = None

    def release(self, account: int, asset: str, amount: int) -> None:
        if amount:
            held = self.reserved[account]
            held[asset] -= amount
            self.changed[account, asset] = None

    def settle(self, account: int, asset: str, reserved_used: int, amount: int) -> None:
        """Spend ``reserved_used`` of a reservation, debiting ``amount`` (<= it) and
        releasing the rest; the debit goes nowhere by itself, so pair it with a credit."""
        held = self.reserved[account]
        held[asset] -= reserved_used
        bal = self.balances[account]
        bal[asset] -= amount
        self.changed[account, asset] = None

    def credit(self, account: int, asset: str, amount: int) -> None:
        bal = self.balances[account]
        bal[asset] = bal.get(asset, 0) + amount
        self.changed[account, asset] = None

    def totals(self) -> dict[str, int]:
        """Sum of every asset over all accounts; all zero when the books balance."""
        totals: dict[str, int] = {}
        for assets in self.balances.values():
            for asset, amount in assets.items():
                totals[asset] = totals.get(asset, 0) + amount
        return totals
