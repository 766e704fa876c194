"""The benchmark order flow: a fixed-seed mix of passive limits near the touch, cancels of
live orders and marketable orders, shared by the matching, engine and journal benchmarks."""

from __future__ import annotations

import random
from dataclasses import dataclass

LIMIT, CANCEL, MARKETABLE = 0, 1, 2
MID = 100_000  # price units: 1,000.00 with 2 decimals
TICK = 5
SPREAD_TICKS = 20  # passive orders land within 20 ticks of the mid
SWEEP_TICKS = 40  # marketable orders may sweep this far through the book
ACCOUNTS = 64


@dataclass(frozen=True, slots=True)
class Operation:
    kind: int
    is_buy: bool
    price: int
    quantity: int
    account: int
    pick: float  # for cancels: which live order, as a fraction of the live list


def generate(count: int = 1_000_000, seed: int = 20261121) -> list[Operation]:
    """60% limit orders near the touch, 25% cancels of live orders, 15% marketable."""
    rng = random.Random(seed)
    ops = []
    mid = MID
    for _ in range(count):
        roll = rng.random()
        is_buy = rng.random() < 0.5
        quantity = rng.randint(1, 100)
        account = 2 + rng.randrange(ACCOUNTS)
        if roll < 0.60:
            offset = rng.randint(1, SPREAD_TICKS) * TICK
            price = mid - offset if is_buy else mid + offset
            ops.append(Operation(LIMIT, is_buy, price, quantity, account, 0.0))
        elif roll < 0.85:
            ops.append(Operation(CANCEL, is_buy, 0, 0, account, rng.random()))
        else:
            price = mid + SWEEP_TICKS * TICK if is_buy else mid - SWEEP_TICKS * TICK
            ops.append(Operation(MARKETABLE, is_buy, price, quantity, account, 0.0))
        if rng.random() < 0.001:  # the mid wanders slowly so levels come and go
            mid += rng.choice((-TICK, TICK))
    return ops
