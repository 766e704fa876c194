"""Cells that flash when their value changes, without a timer per cell.

The model records when each cell last changed and in which direction (``FLASH_ROLE`` answers
``(changed_at, direction)`` with ``changed_at`` from ``time.monotonic()``). This delegate
paints a green or red wash that fades out over ``FLASH_SECONDS``, and :class:`FlashPump`
repaints the view's viewport while any wash is still fading: one timer per view, one repaint
per frame, however many cells changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QAbstractItemView, QStyledItemDelegate, QStyleOptionViewItem

from workstation.docks.watchlist_format import DOWN_COLOUR, UP_COLOUR

FLASH_ROLE = Qt.ItemDataRole.UserRole + 40
FLASH_SECONDS = 0.6
FLASH_ALPHA = 90  # of 255 at the moment of change
FRAME_MS = 40  # ~25 repaints a second while something fades


def flash_alpha(changed_at: float, now: float) -> int:
    """How strong a wash is ``now``: full at the change, gone after FLASH_SECONDS."""
    age = now - changed_at
    if age < 0 or age >= FLASH_SECONDS:
        return 0
    return int(FLASH_ALPHA * (1.0 - age / FLASH_SECONDS))


class FlashDelegate(QStyledItemDelegate):
    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        flash = index.data(FLASH_ROLE)
        if flash:
            changed_at, direction = flash
            alpha = flash_alpha(changed_at, time.monotonic())
            if alpha and direction:
                wash = QColor(UP_COLOUR if direction > 0 else DOWN_COLOUR)
                wash.setAlpha(alpha)
                painter.fillRect(option.rect, wash)
        super().paint(painter, option, index)


class FlashPump(QObject):
    """Repaints ``view`` every frame while ``fading()`` says a wash is still visible."""

    def __init__(self, view: QAbstractItemView, fading: Callable[[], bool]) -> None:
        super().__init__(view)
        self._view = view
        self._fading = fading
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._frame)

    def kick(self) -> None:
        """Something just changed: make sure the fade gets animated."""
        if not self._timer.isActive():
            self._timer.start()

    def _frame(self) -> None:
        self._view.viewport().update()
        if not self._fading():
            self._timer.stop()
