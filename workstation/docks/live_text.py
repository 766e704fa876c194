"""A line of text that changes often (a touch price, a depth summary) without re-laying out
the window.

A QLabel asks its layout to recompute on every ``setText`` (its size hint may change); from
a dock that walks up to the main window, whose layout then re-places every dock (~1-2 ms,
with a geometry animation object made per dock). This line has a constant size hint and
only repaints itself."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

Segment = tuple[str, str | None]  # text, colour name (None: the palette's text colour)


class LiveText(QWidget):
    def __init__(
        self,
        parent: QWidget | None = None,
        width_chars: int = 48,
        horizontal: QSizePolicy.Policy = QSizePolicy.Policy.Ignored,
    ) -> None:
        """``width_chars`` digits wide by preference; ``horizontal`` says whether it keeps
        that width (Fixed) or takes what its layout gives (Ignored)."""
        super().__init__(parent)
        self._segments: list[Segment] = []
        self._width_chars = width_chars
        self.setSizePolicy(horizontal, QSizePolicy.Policy.Fixed)

    def text(self) -> str:
        return "".join(text for text, _ in self._segments)

    def setText(self, text: str) -> None:
        self.set_segments([(text, None)] if text else [])

    def set_segments(self, segments: list[Segment]) -> None:
        """Show ``segments`` side by side, each in its colour."""
        if segments != self._segments:
            self._segments = list(segments)
            self.update()

    def sizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        return QSize(metrics.horizontalAdvance("0" * self._width_chars), metrics.height() + 2)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        metrics = self.fontMetrics()
        rect = self.contentsRect()
        default = self.palette().color(QPalette.ColorRole.WindowText)
        x, right = rect.left(), rect.right()
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        for text, colour in self._segments:
            if x > right:
                break
            shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, right - x + 1)
            painter.setPen(QColor(colour) if colour else default)
            painter.drawText(x, rect.top(), right - x + 1, rect.height(), align, shown)
            x += metrics.horizontalAdvance(shown)
        painter.end()
