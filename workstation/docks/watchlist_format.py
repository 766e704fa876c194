"""How the market panels write numbers: exact Decimals in, short right-aligned strings out.

Shared by the watchlist, portfolio, time & sales and market overview panels so that a price
reads the same everywhere (the instrument's own decimals, thousands separators) and large
quantities stay narrow (1.25M rather than 1,250,000).
"""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

try:  # the shell's theme owns the semantic colours
    from workstation.theme import DOWN, UP
except ImportError:  # pragma: no cover - until the theme module lands
    UP = "#30a46c"
    DOWN = "#e5484d"

UP_COLOUR = QColor(UP)
DOWN_COLOUR = QColor(DOWN)
DASH = "\u2013"  # an en dash: no value yet (no trade today, empty side of the book)

_SUFFIXES = ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "K"))


def price_text(value: Decimal | None, decimals: int = 2) -> str:
    if value is None:
        return DASH
    return f"{value:,.{decimals}f}"


def signed_text(value: Decimal | None, decimals: int = 2) -> str:
    """A change: always signed so that direction reads without colour."""
    if value is None:
        return DASH
    return f"{value:+,.{decimals}f}"


def percent_text(value: Decimal | None, decimals: int = 2) -> str:
    if value is None:
        return DASH
    return f"{value:+.{decimals}f}%"


def compact_text(value: Decimal | None, decimals: int = 0) -> str:
    """Volumes and turnovers: 950, 12.4K, 1.25M, 3.10B."""
    if value is None:
        return DASH
    magnitude = abs(value)
    for scale, suffix in _SUFFIXES:
        if magnitude >= scale:
            return f"{value / scale:,.2f}{suffix}"
    return f"{value:,.{decimals}f}"


def money_text(value: Decimal | None, signed: bool = False) -> str:
    if value is None:
        return DASH
    return f"{value:+,.2f}" if signed else f"{value:,.2f}"


def direction_colour(value: Decimal | float | None) -> QColor | None:
    """Green for up, red for down, nothing (the palette's text colour) for flat or unknown."""
    if value is None or value == 0:
        return None
    return UP_COLOUR if value > 0 else DOWN_COLOUR


def number_font() -> QFont:
    """Numbers in columns line up only in a fixed-pitch font."""
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


def compact_table(view: QTableView) -> None:
    """The market panels' table look: fixed-pitch, tight rows, no grid, whole-row selection."""
    view.setFont(number_font())
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setShowGrid(False)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.setCornerButtonEnabled(False)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    rows = view.verticalHeader()
    rows.setVisible(False)
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(view.fontMetrics().height() + 6)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def set_column_chars(view: QTableView, widths: dict[int, int]) -> None:
    """Column widths in characters of the view's (fixed-pitch) font."""
    metrics = view.fontMetrics()
    for column, chars in widths.items():
        view.setColumnWidth(column, metrics.horizontalAdvance("0" * chars) + 12)
