"""Per-block minima and maxima of an array at every power-of-two block size.

A chart zoomed out folds many bars into each pixel column (high = max, low = min). Folding the
raw arrays on every paint costs O(bars in view); with these levels a fold reads O(columns)
block values instead, whatever the zoom: level k holds the min and max of each aligned block
of 2**k values, built once in O(n) when the data changes and rebuilt only from the changed
tail on a live update (the forming candle touches one block per level).

NaN is ignored (fmin/fmax), so an indicator's warm-up gap folds to NaN only where a whole
block is NaN.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

# A fold reads level k with 2**k at most 1/2**FOLD_SHIFT of a bin: a handful of block values
# per output column, and bin sizes that are exact multiples of 2**k.
FOLD_SHIFT = 3
RANGE_BLOCKS = 64  # a range query reads about this many block values


def bin_size(bars_per_column: float) -> int:
    """Bars folded into one column at ``bars_per_column``: the whole number nearest below it
    that is a multiple of the block the fold reads, so that every bin but the first and the
    last is made of whole blocks."""
    group = max(1, math.floor(bars_per_column))
    return group - group % _block_for(group)


def _block_for(group: int) -> int:
    return 1 << max(0, group.bit_length() - 1 - FOLD_SHIFT)


class Levels:
    """Min/max levels of one array (``low``/``high``: which of the two to keep)."""

    def __init__(self, low: bool = True, high: bool = True) -> None:
        self.keep_low = low
        self.keep_high = high
        self.values: Array = np.zeros(0)
        # level k of the minima / maxima (blocks of 2**k); level 0 is ``values`` itself. Each
        # level is a view of a buffer with room to grow, so appending bars is amortised.
        self._levels: dict[str, list[Array]] = {"low": [], "high": []}
        self._buffers: dict[str, list[Array]] = {"low": [], "high": []}

    def __len__(self) -> int:
        return int(self.values.size)

    def set(self, values: Array, since: int | None = None) -> None:
        """New contents. ``since``: the values before this index are the same as in the last
        call (a live update), so only the blocks from there on are rebuilt."""
        old = self.values.size
        self.values = values
        if since is None or values.size < old:
            since = 0
        self._build(max(0, min(since, old)))

    def _kinds(self) -> list[tuple[str, np.ufunc]]:
        kinds: list[tuple[str, np.ufunc]] = []
        if self.keep_low:
            kinds.append(("low", np.fmin))
        if self.keep_high:
            kinds.append(("high", np.fmax))
        return kinds

    def _build(self, since: int) -> None:
        n = self.values.size
        top = (n - 1).bit_length() if n > 1 else 0  # the top level is a single block
        for kind, reduce in self._kinds():
            buffers = self._buffers[kind]
            levels: list[Array] = [self.values]
            previous = self.values
            for k in range(1, top + 1):
                size = (n + (1 << k) - 1) >> k
                first = min(since >> k, size)
                buffer = buffers[k - 1] if k - 1 < len(buffers) else None
                if buffer is None or buffer.size < size:
                    grown = np.empty(size if buffer is None else max(size, 2 * buffer.size))
                    if buffer is None:
                        first = 0
                    else:
                        grown[:first] = buffer[:first]
                    buffer = grown
                    if k - 1 < len(buffers):
                        buffers[k - 1] = buffer
                    else:
                        buffers.append(buffer)
                level = buffer[:size]
                source = previous[2 * first :]
                pairs = source.size // 2
                if pairs:
                    reduce(
                        source[0 : 2 * pairs : 2],
                        source[1 : 2 * pairs : 2],
                        out=level[first : first + pairs],
                    )
                if source.size % 2:
                    level[first + pairs] = source[-1]
                levels.append(level)
                previous = level
            del buffers[top:]
            self._levels[kind] = levels

    # -- queries --------------------------------------------------------------------------
    def fold(self, start: int, stop: int, group: int) -> tuple[NDArray[np.intp], Array, Array]:
        """Bins of ``group`` values over [start, stop) (start < stop), aligned to multiples of
        ``group`` so the binning does not shimmer as the chart pans; the first bin starts at
        ``start``. Returns (bin starts, minima, maxima); a kind not kept comes back empty."""
        first = start - start % group
        starts = np.arange(first, stop, group)
        starts[0] = start
        count = starts.size
        # The coarsest level whose blocks tile a bin: the largest power of two dividing the
        # bin size (bin_size makes that at least 1/16 of the bin).
        level = (group & -group).bit_length() - 1
        found = {"low": np.zeros(0), "high": np.zeros(0)}
        raw = self.values
        for kind, reduce in self._kinds():
            out = np.empty(count)
            # The first and last bins may hold part of a block: fold those from the values.
            out[0] = reduce.reduce(raw[start : min(stop, first + group)])
            if count > 1:
                out[-1] = reduce.reduce(raw[int(starts[-1]) : stop])
            if count > 2:
                low_block = int(starts[1]) >> level
                data = self._levels[kind][level][low_block : int(starts[-1]) >> level]
                out[1:-1] = reduce.reduceat(data, (starts[1:-1] >> level) - low_block)
            found[kind] = out
        return starts, found["low"], found["high"]

    def range(self, start: int, stop: int) -> tuple[float, float]:
        """(min, max) over [start, stop); NaN where there is nothing but NaN (or a kind not
        kept)."""
        start, stop = max(0, start), min(self.values.size, stop)
        found = {"low": math.nan, "high": math.nan}
        if stop <= start:
            return math.nan, math.nan
        level = max(0, ((stop - start) // RANGE_BLOCKS).bit_length() - 1)
        block = 1 << level
        head = min(stop, -(-start // block) * block)
        tail = max(head, stop // block * block)
        for kind, reduce in self._kinds():
            parts = (
                self.values[start:head],
                self._levels[kind][level][head >> level : tail >> level],
                self.values[tail:stop],
            )
            value = math.nan
            for part in parts:
                if part.size:
                    value = float(reduce(value, reduce.reduce(part)))
            found[kind] = value
        return found["low"], found["high"]
