"""The chart toolbar's look: a flat, theme-following style sheet and the drawing-tool icons.

The style sheet uses palette roles only, so the toolbar follows the app's dark or light theme
(workstation/theme.py sets the palette) without per-theme code here; it is set on the
toolbar itself, selected by object name, so the shared theme files need no chart rules.
Icons are painted here rather than shipped as files: simple strokes that stay crisp at any
size, in a neutral grey that reads on both themes and white when the tool is on.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

TOOLBAR_STYLE = """
QToolBar#chartToolbar {
    background: palette(window);
    border: none;
    border-bottom: 1px solid palette(mid);
    padding: 2px 4px;
    spacing: 1px;
}
QToolBar#chartToolbar::separator {
    background: palette(mid);
    width: 1px;
    margin: 5px 5px;
}
QToolBar#chartToolbar QToolButton {
    background: transparent;
    color: palette(window-text);
    border: 1px solid transparent;
    border-radius: 3px;
    padding: 2px 5px;
    margin: 0;
}
QToolBar#chartToolbar QToolButton:hover {
    background: palette(button);
    border-color: palette(mid);
}
QToolBar#chartToolbar QToolButton:checked {
    background: palette(highlight);
    color: palette(highlighted-text);
    border-color: palette(highlight);
}
QToolBar#chartToolbar QToolButton:disabled {
    color: palette(mid);
}
QToolBar#chartToolbar QToolButton#chartIndicators {
    padding-right: 14px;
}
QToolBar#chartToolbar QToolButton#chartIndicators::menu-indicator {
    subcontrol-origin: padding;
    subcontrol-position: center right;
    right: 4px;
}
QToolBar#chartToolbar QComboBox#chartStyle {
    padding: 1px 6px;
    min-width: 74px;
}
QToolBar#chartToolbar QToolButton#qt_toolbar_ext_button {
    padding: 0;
}
"""

ICON_GREY = "#8b8d98"
ICON_ON = "#ffffff"
ICON_SIZE = 18

Painter = Callable[[QPainter, float], None]


def _trend(painter: QPainter, size: float) -> None:
    start, end = QPointF(size * 0.2, size * 0.78), QPointF(size * 0.8, size * 0.22)
    painter.drawLine(start, end)
    for point in (start, end):
        painter.drawEllipse(point, size * 0.09, size * 0.09)


def _hline(painter: QPainter, size: float) -> None:
    y = size * 0.5
    painter.drawLine(QPointF(size * 0.1, y), QPointF(size * 0.9, y))
    painter.drawEllipse(QPointF(size * 0.5, y), size * 0.09, size * 0.09)


def _delete(painter: QPainter, size: float) -> None:
    """A waste bin: the selected drawing goes."""
    painter.drawLine(QPointF(size * 0.2, size * 0.28), QPointF(size * 0.8, size * 0.28))
    painter.drawLine(QPointF(size * 0.4, size * 0.28), QPointF(size * 0.42, size * 0.16))
    painter.drawLine(QPointF(size * 0.42, size * 0.16), QPointF(size * 0.58, size * 0.16))
    painter.drawLine(QPointF(size * 0.58, size * 0.16), QPointF(size * 0.6, size * 0.28))
    painter.drawRect(QRectF(size * 0.28, size * 0.28, size * 0.44, size * 0.56))
    for x in (0.42, 0.58):
        painter.drawLine(QPointF(size * x, size * 0.4), QPointF(size * x, size * 0.72))


def _clear(painter: QPainter, size: float) -> None:
    """Two lines struck through: every drawing goes."""
    painter.drawLine(QPointF(size * 0.12, size * 0.68), QPointF(size * 0.62, size * 0.3))
    painter.drawLine(QPointF(size * 0.12, size * 0.4), QPointF(size * 0.88, size * 0.4))
    cross = size * 0.15
    centre = QPointF(size * 0.74, size * 0.74)
    painter.drawLine(centre + QPointF(-cross, -cross), centre + QPointF(cross, cross))
    painter.drawLine(centre + QPointF(-cross, cross), centre + QPointF(cross, -cross))


ICONS: dict[str, Painter] = {"trend": _trend, "hline": _hline, "delete": _delete, "clear": _clear}


def tool_icon(name: str, size: int = ICON_SIZE) -> QIcon:
    """The icon ``name`` (ICONS): grey, white when on (a checked tool), faded when disabled."""
    icon = QIcon()
    faded = QColor(ICON_GREY)
    faded.setAlphaF(0.35)
    variants = (
        (QColor(ICON_GREY), QIcon.Mode.Normal, QIcon.State.Off),
        (QColor(ICON_GREY), QIcon.Mode.Active, QIcon.State.Off),
        (QColor(ICON_ON), QIcon.Mode.Normal, QIcon.State.On),
        (QColor(ICON_ON), QIcon.Mode.Active, QIcon.State.On),
        (faded, QIcon.Mode.Disabled, QIcon.State.Off),
    )
    for colour, mode, state in variants:
        for scale in (1, 2):  # crisp on high-density screens too
            pixmap = QPixmap(size * scale, size * scale)
            pixmap.setDevicePixelRatio(scale)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            pen = QPen(colour, 1.4)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            ICONS[name](painter, float(size))
            painter.end()
            icon.addPixmap(pixmap, mode, state)
    return icon
