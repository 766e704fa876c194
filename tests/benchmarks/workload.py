"""The benchmark order flow: a fixed-seed mix of passive limits near the touch, cancels of
live orders and marketable orders, shared by the matching, engine and journal benchmarks.

Stored column-wise in compact arrays so the harness itself adds little to resident memory.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

LIMIT, CANCEL, MARKETABLE = 0, 1, 2
MID = 100_000  # price units: 1,000.00 with 2 decimals
TICK = 5
SPREAD_TICKS = 20  # passive orders land within 20 ticks of the mid
SWEEP_TICKS = 40  # marketable orders may sweep this far through the book
FIRST_ACCOUNT = 2
ACCOUNTS = 64
DEFAULT_SEED = 20261121

# One operation: (kind, is_buy, price, quantity, account, pick). ``pick`` chooses which live
# order a cancel hits, as a fraction of the live list.
Operation = tuple[int, int, int, int, int, float]


@dataclass(slots=True)
class Workload:
    kinds: array  # type: ignore[type-arg]
    buys: array  # type: ignore[type-arg]
    prices: array  # type: ignore[type-arg]
    quantities: array  # type: ignore[type-arg]
    accounts: array  # type: ignore[type-arg]
    picks: array  # type: ignore[type-arg]

    def __len__(self) -> int:
        return len(self.kinds)

    def __iter__(self) -> Iterator[Operation]:
        return zip(
            self.kinds,
            self.buys,
            self.prices,
            self.quantities,
            self.accounts,
            self.picks,
            strict=True,
        )


def generate(count: int = 1_000_000, seed: int = DEFAULT_SEED) -> Workload:
    """60% limit orders near the touch, 25% cancels of live orders, 15% marketable."""
    rng = random.Random(seed)
    w = Workload(array("b"), array("b"), array("q"), array("q"), array("q"), array("d"))
    mid = MID
    for _ in range(count):
        roll = rng.random()
        is_buy = rng.random() < 0.5
        quantity = rng.randint(1, 100)
        account = FIRST_ACCOUNT + rng.randrange(ACCOUNTS)
        pick = 0.0
        if roll < 0.60:
            kind = LIMIT
            offset = rng.randint(1, SPREAD_TICKS) * TICK
            price = mid - offset if is_buy else mid + offset
        elif roll < 0.85:
            kind, price, quantity, pick = CANCEL, 0, 0, rng.random()
        else:
            kind = MARKETABLE
            price = mid + SWEEP_TICKS * TICK if is_buy else mid - SWEEP_TICKS * TICK
        w.kinds.append(kind)
        w.buys.append(is_buy)
        w.prices.append(price)
        w.quantities.append(quantity)
        w.accounts.append(account)
        w.picks.append(pick)
        if rng.random() < 0.001:  # the mid wanders slowly so levels come and go
            mid += rng.choice((-TICK, TICK))
    return w
