"""The Qt binding must not leak or drop references on ordinary calls.

PySide6 6.12.0 under Python 3.11 drops a reference to None (and True/False) on most calls
that return nothing or a bool; a window repainting 25 times a second then aborts with
"deallocating None" within minutes. This guards the pin in pyproject.toml."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot


def test_void_and_bool_calls_keep_the_singletons_references(qtbot: QtBot) -> None:
    label = QLabel("x")
    qtbot.addWidget(label)
    label.show()
    before = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(1000):
        label.update()
        label.setText("y")
        label.setEnabled(True)
        label.isVisible()
    after = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    # A few references may come and go with the interpreter's own work; a thousand may not.
    assert all(abs(a - b) < 100 for a, b in zip(after, before, strict=True)), (before, after)
