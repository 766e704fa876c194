"""Where the engine's time comes from. The sequencer stamps commands with it; the domain
never reads a clock, so tests and simulations control time by choosing the clock."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ns(self) -> int: ...


class SystemClock:
    def now_ns(self) -> int:
        return time.time_ns()


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start_ns: int = 1_700_000_000_000_000_000) -> None:
        self._now = start_ns

    def now_ns(self) -> int:
        return self._now

    def advance(self, nanoseconds: int) -> None:
        self._now += nanoseconds

    def set(self, now_ns: int) -> None:
        self._now = now_ns
