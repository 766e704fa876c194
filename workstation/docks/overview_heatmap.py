"""A sector heat map: one tile per instrument, grouped by sector, sized by turnover and
coloured by the day's change (red through grey to green, full colour at ±3%).

Painted with QPainter from a list of tiles; the layout is recomputed only when the data or
the size changes, so a repaint is just filling rectangles.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import QToolTip, QWidget

from workstation.docks.overview_treemap import squarify
from workstation.docks.watchlist_format import DOWN_COLOUR, UP_COLOUR

FULL_COLOUR_PERCENT = 3.0
NEUTRAL = QColor("#3a3b40")
SECTOR_LABEL_HEIGHT = 15
GAP = 1.0


@dataclass(frozen=True, slots=True)
class Tile:
    symbol: str
    sector: str
    weight: float  # turnover (area)
    percent: float | None  # day's change (colour); None: no trade yet
    label: str = ""  # tool tip detail (name, price, turnover)


def tile_colour(percent: float | None) -> QColor:
    """Grey at 0, blending to full green or red at ±FULL_COLOUR_PERCENT."""
    if percent is None:
        return QColor(NEUTRAL)
    strength = min(1.0, abs(percent) / FULL_COLOUR_PERCENT)
    target = UP_COLOUR if percent > 0 else DOWN_COLOUR
    # Weak moves still show a hint of colour: start a little away from grey.
    strength = 0.0 if percent == 0 else 0.2 + 0.8 * strength
    return QColor(
        round(NEUTRAL.red() + (target.red() - NEUTRAL.red()) * strength),
        round(NEUTRAL.green() + (target.green() - NEUTRAL.green()) * strength),
        round(NEUTRAL.blue() + (target.blue() - NEUTRAL.blue()) * strength),
    )


class HeatMap(QWidget):
    symbol_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sectorHeatMap")
        self.setMouseTracking(True)
        self.setMinimumSize(240, 160)
        self._tiles: list[Tile] = []
        self._rects: list[tuple[QRectF, Tile]] = []
        self._sectors: list[tuple[QRectF, str, float | None]] = []
        self._small = QFont(self.font())
        self._small.setPointSizeF(max(6.5, self.font().pointSizeF() * 0.8))
        self._bold = QFont(self.font())
        self._bold.setBold(True)

    def sizeHint(self) -> QSize:
        return QSize(520, 360)

    def set_tiles(self, tiles: list[Tile]) -> None:
        self._tiles = tiles
        self._layout()
        self.update()

    def tiles(self) -> list[Tile]:
        return list(self._tiles)

    def tile_at(self, point: QPointF) -> Tile | None:
        for rect, tile in self._rects:
            if rect.contains(point):
                return tile
        return None

    def tile_rect(self, symbol: str) -> QRectF | None:
        return next((rect for rect, tile in self._rects if tile.symbol == symbol), None)

    def _layout(self) -> None:
        self._rects = []
        self._sectors = []
        by_sector: dict[str, list[Tile]] = {}
        for tile in self._tiles:
            by_sector.setdefault(tile.sector, []).append(tile)
        sectors = sorted(
            by_sector.items(), key=lambda item: sum(t.weight for t in item[1]), reverse=True
        )
        area = QRectF(self.rect())
        sector_rects = squarify([sum(t.weight for t in tiles) for _, tiles in sectors], area)
        for (sector, tiles), outer in zip(sectors, sector_rects, strict=True):
            if outer.isEmpty():
                continue
            inner = outer.adjusted(GAP, GAP, -GAP, -GAP)
            if inner.height() > SECTOR_LABEL_HEIGHT * 3:
                inner.setTop(inner.top() + SECTOR_LABEL_HEIGHT)
            total = sum(t.weight for t in tiles)
            moved = [t for t in tiles if t.percent is not None]
            mean = (
                sum(t.percent * t.weight for t in moved if t.percent is not None)
                / sum(t.weight for t in moved)
                if moved and sum(t.weight for t in moved) > 0
                else None
            )
            self._sectors.append((outer, sector, mean))
            ordered = sorted(tiles, key=lambda t: t.weight, reverse=True)
            for rect, tile in zip(
                squarify([t.weight for t in ordered], inner), ordered, strict=True
            ):
                if not rect.isEmpty() and total > 0:
                    self._rects.append((rect.adjusted(0, 0, -GAP, -GAP), tile))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._layout()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().base())
        text_pen = QPen(QColor("#f4f4f5"))
        dim_pen = QPen(self.palette().text().color())
        for outer, sector, mean in self._sectors:
            if outer.height() > SECTOR_LABEL_HEIGHT * 3 + 2 * GAP:
                label = QRectF(
                    outer.left() + 3, outer.top(), outer.width() - 6, SECTOR_LABEL_HEIGHT
                )
                painter.setFont(self._small)
                painter.setPen(dim_pen)
                suffix = f"  {mean:+.2f}%" if mean is not None else ""
                text = painter.fontMetrics().elidedText(
                    sector.upper() + suffix, Qt.TextElideMode.ElideRight, int(label.width())
                )
                painter.drawText(
                    label, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text
                )
        for rect, tile in self._rects:
            painter.fillRect(rect, tile_colour(tile.percent))
            self._draw_label(painter, rect, tile, text_pen)
        painter.end()

    def _draw_label(self, painter: QPainter, rect: QRectF, tile: Tile, pen: QPen) -> None:
        painter.setPen(pen)
        line = painter.fontMetrics().height()
        if rect.width() < 34 or rect.height() < line:
            return
        change = "" if tile.percent is None else f"{tile.percent:+.2f}%"
        centre = Qt.AlignmentFlag.AlignCenter
        if rect.height() >= line * 2.2 and rect.width() >= 52:
            painter.setFont(self._bold)
            top = QRectF(rect.left(), rect.center().y() - line, rect.width(), line)
            painter.drawText(top, centre, _fit(painter, tile.symbol, rect.width()))
            painter.setFont(self._small)
            bottom = QRectF(rect.left(), rect.center().y(), rect.width(), line)
            painter.drawText(bottom, centre, change)
        else:
            painter.setFont(self._small)
            painter.drawText(rect, centre, _fit(painter, tile.symbol, rect.width()))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        tile = self.tile_at(event.position())
        if tile is not None and event.button() == Qt.MouseButton.LeftButton:
            self.symbol_clicked.emit(tile.symbol)
        super().mousePressEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            position = event.pos()  # type: ignore[attr-defined]
            tile = self.tile_at(QPointF(position))
            if tile is not None:
                change = "no trade yet" if tile.percent is None else f"{tile.percent:+.2f}%"
                text = f"{tile.symbol}  {change}\n{tile.label}".strip()
                QToolTip.showText(event.globalPos(), text, self)  # type: ignore[attr-defined]
            else:
                QToolTip.hideText()
            return True
        return super().event(event)


def _fit(painter: QPainter, text: str, width: float) -> str:
    return painter.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, int(width) - 4)
