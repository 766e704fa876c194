"""Cells that flash when their value changes, without a timer per cell.

The model records when each cell last changed and in which direction, and answers
BackgroundRole with :func:`flash_colour`: a green or red wash that fades out over
``FLASH_SECONDS``, computed at paint time from that timestamp. Qt's own (C++) delegate paints
it, so a repaint costs no Python per cell beyond ``data()``. :class:`FlashPump` repaints the
view's viewport while any wash is still fading: one timer per view, one repaint per frame,
however many cells changed. ``FLASH_ROLE`` exposes ``(changed_at, direction)`` for tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView

from workstation.docks.watchlist_format import DOWN_COLOUR, UP_COLOUR

FLASH_ROLE = Qt.ItemDataRole.UserRole + 40
# What a model answers for a cell that never changed. Not None: with PySide6 6.12 on Python
# 3.11, every QModelIndex.data() call from Python that yields an invalid QVariant (None)
# drops a reference to None, and a delegate asking for every painted cell 25 times a
# second kills the interpreter within minutes ("deallocating None").
NO_FLASH = (0.0, 0)
FLASH_SECONDS = 0.6
FLASH_ALPHA = 90  # of 255 at the moment of change
FRAME_MS = 40  # ~25 repaints a second while something fades


def flash_alpha(changed_at: float, now: float) -> int:
    """How strong a wash is ``now``: full at the change, gone after FLASH_SECONDS."""
    age = now - changed_at
    if age < 0 or age >= FLASH_SECONDS:
        return 0
    return int(FLASH_ALPHA * (1.0 - age / FLASH_SECONDS))


def flash_colour(changed_at: float, direction: int) -> QColor | None:
    """The wash a cell shows now (a model answers this for BackgroundRole), or None."""
    if not changed_at or not direction:
        return None
    alpha = flash_alpha(changed_at, time.monotonic())
    if not alpha:
        return None
    wash = QColor(_UP_WASH if direction > 0 else _DOWN_WASH)
    wash.setAlpha(alpha)
    return wash


_UP_WASH = QColor(UP_COLOUR)
_DOWN_WASH = QColor(DOWN_COLOUR)


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
