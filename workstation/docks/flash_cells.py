"""Cells that flash when their value changes, without a timer per cell.

The model records when each cell last changed and in which direction; at paint time
:func:`flash_wash` turns that into a green or red wash that fades out over
``FLASH_SECONDS`` (a delegate paints it; a model answers BackgroundRole with
:func:`flash_colour` for anything that asks through ``data()``). The washes are a fixed set
of colours made once, so a repaint allocates none. :class:`FlashPump` repaints the view's
viewport while any wash is still fading: one timer per view, one repaint per frame, however
many cells changed. ``FLASH_ROLE`` exposes ``(changed_at, direction)`` for tests.
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
QUIET_MS = 60  # after a change, the fade's own frames wait this long for the next change


def flash_alpha(changed_at: float, now: float) -> int:
    """How strong a wash is ``now``: full at the change, gone after FLASH_SECONDS."""
    age = now - changed_at
    if age < 0 or age >= FLASH_SECONDS:
        return 0
    return int(FLASH_ALPHA * (1.0 - age / FLASH_SECONDS))


def _washes(colour: QColor) -> list[QColor]:
    washes = []
    for alpha in range(FLASH_ALPHA + 1):
        wash = QColor(colour)
        wash.setAlpha(alpha)
        washes.append(wash)
    return washes


_UP_WASHES = _washes(UP_COLOUR)
_DOWN_WASHES = _washes(DOWN_COLOUR)


def flash_wash(changed_at: float, direction: int, now: float) -> QColor | None:
    """The wash a cell shows at ``now`` (monotonic seconds), or None. Shared colours:
    paint with them, do not change them."""
    if not direction:
        return None
    age = now - changed_at
    if age < 0 or age >= FLASH_SECONDS:
        return None
    alpha = int(FLASH_ALPHA * (1.0 - age / FLASH_SECONDS))
    if not alpha:
        return None
    return (_UP_WASHES if direction > 0 else _DOWN_WASHES)[alpha]


def flash_colour(changed_at: float, direction: int) -> QColor | None:
    """The wash a cell shows now (a model answers this for BackgroundRole), or None."""
    if not changed_at or not direction:
        return None
    return flash_wash(changed_at, direction, time.monotonic())


class FlashPump(QObject):
    """Repaints ``view`` every frame while ``fading()`` says a wash is still visible.

    In step with the model: ``kick`` (a batch of changes landed) repaints the whole
    viewport in the same paint as the changed cells, and the frame timer runs only after
    changes stop coming (QUIET_MS). A stream of coalesced updates (25 a second) then costs
    one paint per update instead of two: one for the changed cells and another, out of
    step, for the fade."""

    def __init__(self, view: QAbstractItemView, fading: Callable[[], bool]) -> None:
        super().__init__(view)
        self._view = view
        self._fading = fading
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._frame)
        self.frames = 0  # repaints asked for by the fade (tests read it)

    def kick(self) -> None:
        """Something just changed: repaint now, and animate the fade if changes stop."""
        self._view.viewport().update()
        self._timer.start(QUIET_MS)

    def _frame(self) -> None:
        self.frames += 1
        self._view.viewport().update()
        if self._fading():
            self._timer.start(FRAME_MS)
        else:
            self._timer.stop()
