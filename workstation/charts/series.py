"""The bars a chart draws: columns of numpy arrays that grow at both ends.

History arrives at the front as the user scrolls back, live candles at the back. The
arrays live in one buffer per column with spare room on both sides, so either kind of
growth is an amortised copy rather than a reallocation per batch. Bars are addressed on the
x axis by a stable integer: the first bar ever loaded is x = 0 and older history gets
negative x, so what is on screen does not move when history is prepended.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from exchange_server.protocol import Candle

FIELDS = ("open", "high", "low", "close", "volume")


class BarSeries:
    def __init__(self, capacity: int = 1024) -> None:
        self._ts = np.zeros(capacity, dtype=np.int64)
        self._values = np.zeros((len(FIELDS), capacity), dtype=np.float64)
        self._start = self._stop = capacity // 2
        self.first_x = 0  # x of the oldest bar held
        self.version = 0  # bumped on every change: caches of derived arrays key on it

    # -- views ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._stop - self._start

    @property
    def ts(self) -> NDArray[np.int64]:
        return self._ts[self._start : self._stop]

    def column(self, name: str) -> NDArray[np.float64]:
        return self._values[FIELDS.index(name), self._start : self._stop]

    @property
    def open(self) -> NDArray[np.float64]:
        return self.column("open")

    @property
    def high(self) -> NDArray[np.float64]:
        return self.column("high")

    @property
    def low(self) -> NDArray[np.float64]:
        return self.column("low")

    @property
    def close(self) -> NDArray[np.float64]:
        return self.column("close")

    @property
    def volume(self) -> NDArray[np.float64]:
        return self.column("volume")

    @property
    def last_x(self) -> int:
        return self.first_x + len(self) - 1

    def index_at(self, x: float) -> int | None:
        """Position in the arrays of the bar drawn at ``x`` (None: off either end)."""
        index = round(x) - self.first_x
        return index if 0 <= index < len(self) else None

    def x_of_time(self, ts: NDArray[np.int64] | Sequence[int]) -> NDArray[np.int64]:
        """x of the bars whose interval contains each time (the nearest end when outside)."""
        index = np.searchsorted(self.ts, np.asarray(ts, dtype=np.int64), side="right") - 1
        return np.clip(index, 0, max(len(self) - 1, 0)) + self.first_x

    # -- changes --------------------------------------------------------------------------
    def clear(self) -> None:
        middle = self._ts.size // 2
        self._start = self._stop = middle
        self.first_x = 0
        self.version += 1

    def _reserve(self, front: int, back: int) -> None:
        """Make room for ``front`` more bars before and ``back`` more after the data."""
        if self._start >= front and self._ts.size - self._stop >= back:
            return
        size = len(self)
        capacity = max(self._ts.size, 2 * (size + front + back), 1024)
        # Leave spare room at the end that needs it, so repeated growth there is amortised.
        start = front + (capacity - size - front - back) // 2
        ts = np.zeros(capacity, dtype=np.int64)
        values = np.zeros((len(FIELDS), capacity), dtype=np.float64)
        ts[start : start + size] = self.ts
        values[:, start : start + size] = self._values[:, self._start : self._stop]
        self._ts, self._values = ts, values
        self._start, self._stop = start, start + size

    def prepend(self, ts: NDArray[np.int64], values: NDArray[np.float64]) -> int:
        """Older bars (``values``: rows in FIELDS order). Bars not older than the oldest held
        are ignored. Returns how many were added."""
        if len(self):
            keep = ts < self.ts[0]
            ts, values = ts[keep], values[:, keep]
        count = ts.size
        if count == 0:
            return 0
        self._reserve(count, 0)
        self._start -= count
        self._ts[self._start : self._start + count] = ts
        self._values[:, self._start : self._start + count] = values
        if len(self) > count:
            self.first_x -= count
        self.version += 1
        return count

    def upsert(self, ts: NDArray[np.int64], values: NDArray[np.float64]) -> bool:
        """Newer bars: a bar starting where the last held one starts replaces it (the forming
        candle), later ones are appended, older ones ignored. Returns whether anything
        changed."""
        changed = False
        for index in range(ts.size):
            stamp = int(ts[index])
            if len(self) and stamp == self._ts[self._stop - 1]:
                column = values[:, index]
                if not np.array_equal(self._values[:, self._stop - 1], column):
                    self._values[:, self._stop - 1] = column
                    changed = True
            elif not len(self) or stamp > self._ts[self._stop - 1]:
                self._reserve(0, ts.size - index)
                self._ts[self._stop] = stamp
                self._values[:, self._stop] = values[:, index]
                self._stop += 1
                changed = True
        if changed:
            self.version += 1
        return changed


def candle_arrays(candles: Sequence[Candle]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Wire candles (Decimal prices) as (ts, values) arrays; floats are for drawing only."""
    ts = np.fromiter((c.ts for c in candles), dtype=np.int64, count=len(candles))
    values = np.array(
        [[float(getattr(c, name)) for c in candles] for name in FIELDS], dtype=np.float64
    ).reshape(len(FIELDS), len(candles))
    return ts, values
