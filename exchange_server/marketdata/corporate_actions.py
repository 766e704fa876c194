"""Splits and bonus issues: finding them in a raw price series and back-adjusting history.

On an ex-date the share count changes by ``new:old`` (a 1:1 bonus gives 2 shares for 1, so
2:1; a split of face value 10 into 2 gives 5:1) and the price drops by the same ratio. A raw
series plotted across that date shows a crash nobody suffered. Adjusting multiplies every
price before the ex-date by ``old/new`` and every volume by ``new/old``, so the series is
continuous in today's shares.

Prices stay exact integers: the cumulative factor is a ``Fraction`` and each adjusted price
is rounded half-to-even once, so rounding never compounds across several actions.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

# Ratios (new shares : old shares) that splits and bonus issues on NSE actually use. A gap
# is only called a corporate action when it matches one of these closely: a real crash
# rarely lands within a few per cent of 2:1 *and* keeps trading around that level all day.
COMMON_RATIOS: tuple[tuple[int, int], ...] = (
    (11, 10),
    (6, 5),
    (5, 4),
    (4, 3),
    (3, 2),
    (5, 3),
    (2, 1),
    (5, 2),
    (3, 1),
    (4, 1),
    (5, 1),
    (10, 1),
    (20, 1),
)
KINDS = ("split", "bonus", "detected")


@dataclass(frozen=True, slots=True)
class CorporateAction:
    symbol: str
    ex_date: date
    kind: str  # "split", "bonus" or "detected" (found in the prices, kind not known)
    new: int  # shares after the action ...
    old: int  # ... per this many shares before it
    evidence: str = ""  # the price jump that shows it, for a reader checking the list

    @property
    def price_factor(self) -> Fraction:
        """What prices before the ex-date are multiplied by."""
        return Fraction(self.old, self.new)


@dataclass(frozen=True, slots=True)
class DailyBar:
    """One session in integer price units (e.g. paise); volume in shares."""

    day: date
    open: int
    high: int
    low: int
    close: int
    volume: int
    trades: int = 0


def detect(
    symbol: str, bars: Sequence[DailyBar], min_gap: float = 0.12, tolerance: float = 0.04
) -> list[CorporateAction]:
    """Gaps between one close and the next session that look like a split or bonus.

    Both the next open and the next close must sit within ``tolerance`` of the same common
    ratio below the previous close, and the gap must exceed ``min_gap``: an ordinary bad
    day moves the close away from the open, an ex-date does not move the ratio.
    """
    found = []
    for previous, bar in pairwise(bars):
        if bar.open <= 0 or bar.close <= 0 or previous.close <= 0:
            continue
        gap_open = previous.close / bar.open  # floats are fine for finding, not for adjusting
        if gap_open < 1 + min_gap:
            continue
        gap_close = previous.close / bar.close
        for new, old in COMMON_RATIOS:
            ratio = new / old
            if abs(gap_open / ratio - 1) <= tolerance and abs(gap_close / ratio - 1) <= 2 * (
                tolerance
            ):
                found.append(
                    CorporateAction(
                        symbol,
                        bar.day,
                        "detected",
                        new,
                        old,
                        f"close {previous.day} {previous.close}, open {bar.day} {bar.open}, "
                        f"close {bar.close}: x{gap_open:.3f}",
                    )
                )
                break
    return found


def _round(value: Fraction) -> int:
    return round(value)  # Fraction rounds half to even, exactly


def adjust(bars: Sequence[DailyBar], actions: Iterable[CorporateAction]) -> list[DailyBar]:
    """``bars`` (oldest first) back-adjusted for ``actions`` of their symbol."""
    ordered = sorted(actions, key=lambda action: action.ex_date)
    adjusted = []
    for bar in bars:
        factor = Fraction(1)
        for action in ordered:
            if bar.day < action.ex_date:
                factor *= action.price_factor
        if factor == 1:
            adjusted.append(bar)
            continue
        adjusted.append(
            DailyBar(
                bar.day,
                _round(bar.open * factor),
                _round(bar.high * factor),
                _round(bar.low * factor),
                _round(bar.close * factor),
                _round(bar.volume / factor),
                bar.trades,
            )
        )
    return adjusted


CSV_FIELDS = ("symbol", "ex_date", "kind", "new", "old", "evidence")


def load(path: Path) -> list[CorporateAction]:
    """The shipped list (``resources/history/corporate_actions.csv``)."""
    with path.open(newline="", encoding="utf-8") as stream:
        return [
            CorporateAction(
                row["symbol"],
                date.fromisoformat(row["ex_date"]),
                row["kind"],
                int(row["new"]),
                int(row["old"]),
                row["evidence"],
            )
            for row in csv.DictReader(stream)
        ]


def save(path: Path, actions: Iterable[CorporateAction]) -> None:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(CSV_FIELDS)
        for a in sorted(actions, key=lambda a: (a.symbol, a.ex_date)):
            writer.writerow([a.symbol, a.ex_date.isoformat(), a.kind, a.new, a.old, a.evidence])
