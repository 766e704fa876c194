"""Token-bucket rate limits per client IP and per user, answered with 429 and Retry-After.

Buckets live in memory (one server process owns its clients); idle buckets are forgotten so
a flood of distinct addresses cannot grow memory without bound.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from exchange_server.api.errors import ApiError
from exchange_server.api.settings import RateLimit

MAX_BUCKETS = 100_000


class TokenBuckets:
    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._buckets: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()

    def take(self, key: Hashable, cost: float = 1.0) -> float:
        """Spend ``cost`` tokens of ``key``'s bucket: 0 if allowed, else seconds to wait."""
        now = self._clock()
        rate, burst = self.limit.rate, float(self.limit.burst)
        tokens, last = self._buckets.pop(key, (burst, now))
        tokens = min(burst, tokens + (now - last) * rate)
        wait = 0.0
        if tokens >= cost:
            tokens -= cost
        else:
            wait = (cost - tokens) / rate
        self._buckets[key] = (tokens, now)  # most recently used last
        if len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)
        return wait

    def check(self, key: Hashable, what: str) -> None:
        wait = self.take(key)
        if wait:
            raise ApiError(
                429,
                "rate_limited",
                f"too many requests from this {what}; retry in {math.ceil(wait)} s",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
