"""Reconnect delays: exponential, capped, with jitter. Shared by the client (reconnecting
to a server) and the market data feeds (reconnecting to a feed), like ``protocol``.

Jitter matters because a restart drops every connection at once; without it they would all
come back in the same instant, again and again.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """``delay(n)`` before the n-th retry (from 0): ``initial * factor**n`` capped at
    ``cap``, then reduced by a random fraction of up to ``jitter`` of itself."""

    initial: float = 0.25
    factor: float = 2.0
    cap: float = 15.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.factor < 1 or self.cap < self.initial:
            raise ValueError("need initial > 0, factor >= 1 and cap >= initial")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter is a fraction between 0 and 1")

    def base(self, attempt: int) -> float:
        delay = self.initial
        # Multiplying step by step stops at the cap instead of overflowing a float power.
        for _ in range(max(0, attempt)):
            delay *= self.factor
            if delay >= self.cap:
                return self.cap
        return min(delay, self.cap)

    def delay(self, attempt: int, uniform: Callable[[], float] = random.random) -> float:
        return self.base(attempt) * (1.0 - self.jitter * uniform())
