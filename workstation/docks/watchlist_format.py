"""How the market panels write numbers: exact Decimals in, short right-aligned strings out.

Shared by the watchlist, portfolio, time & sales and market overview panels so that a price
reads the same everywhere (the instrument's own decimals, thousands separators) and large
quantities stay narrow (1.25M rather than 1,250,000).
"""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetrics,
    QPainter,
    QStaticText,
    QTransform,
)
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


CELL_MARGIN = 3  # text inset in a cell, as Qt's delegate (focus frame margin + 1)
# Laid-out texts kept per generation (two generations): a screenful of cells and then some.
# Each costs ~1.4 KB of native memory; 8,192 of them held ~11 MB.
TEXT_GENERATION = 600
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


class CellText:
    """Draws the short one-line texts of table cells from laid-out QStaticText, kept while
    the text stands: a live table repaints every visible cell many times a second and
    Qt's own delegate lays each text out twice per paint. Too long for the cell, a text is
    elided (and clipped) instead. ``forget`` when the font changes.

    Bounded in two generations: when the newer fills up it becomes the older and the
    older is dropped; a text still on screen is found in the older and moves back to the
    newer, so only texts not drawn for a whole generation are laid out again."""

    def __init__(self, font: QFont) -> None:
        self._base = QFont(font)
        self._texts: dict[tuple[str, bool], tuple[QStaticText, int, int]] = {}
        self._older: dict[tuple[str, bool], tuple[QStaticText, int, int]] = {}
        self._fonts: dict[bool, tuple[QFont, QFontMetrics]] = {}

    def forget(self, font: QFont | None = None) -> None:
        if font is not None:
            self._base = QFont(font)
        self._texts.clear()
        self._older.clear()
        self._fonts.clear()

    def __len__(self) -> int:
        return len(self._texts) + len(self._older)

    def _font(self, bold: bool) -> tuple[QFont, QFontMetrics]:
        cached = self._fonts.get(bold)
        if cached is None:
            font = QFont(self._base)
            font.setBold(bold)
            cached = self._fonts[bold] = (font, QFontMetrics(font))
        return cached

    def _layout(self, text: str, bold: bool) -> tuple[QStaticText, int, int]:
        if len(self._texts) >= TEXT_GENERATION:
            self._older = self._texts
            self._texts = {}
        laid = self._older.pop((text, bold), None)
        if laid is None:
            font, metrics = self._font(bold)
            static = QStaticText(text)
            static.setTextFormat(Qt.TextFormat.PlainText)
            static.prepare(QTransform(), font)
            laid = (static, metrics.horizontalAdvance(text), metrics.height())
        self._texts[text, bold] = laid
        return laid

    def draw(self, painter: QPainter, rect: QRect, text: str, bold: bool, right: bool) -> None:
        """``text`` in ``rect`` (vertically centred), right- or left-aligned, in the
        painter's pen."""
        static, width, height = self._texts.get((text, bold)) or self._layout(text, bold)
        font, metrics = self._fonts.get(bold) or self._font(bold)
        painter.setFont(font)  # static text is drawn in the painter's font
        space = rect.width() - 2 * CELL_MARGIN
        if width > space:
            painter.drawText(
                rect.adjusted(CELL_MARGIN, 0, -CELL_MARGIN, 0),
                _LEFT,
                metrics.elidedText(text, Qt.TextElideMode.ElideRight, space),
            )
            return
        x = rect.right() + 1 - CELL_MARGIN - width if right else rect.x() + CELL_MARGIN
        painter.drawStaticText(x, rect.y() + (rect.height() - height) // 2, static)
