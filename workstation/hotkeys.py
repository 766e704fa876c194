"""Configurable keyboard shortcuts: the actions, their default keys, and the editor."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QKeySequenceEdit,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True, slots=True)
class Hotkey:
    action_id: str
    text: str
    default: str


HOTKEYS: tuple[Hotkey, ...] = (
    Hotkey("buy", "Buy (order ticket for the linked symbol)", "F1"),
    Hotkey("sell", "Sell (order ticket for the linked symbol)", "F2"),
    Hotkey("cancel_all", "Cancel all open orders", "Ctrl+Shift+X"),
    Hotkey("close_position", "Close the linked symbol's position", "Ctrl+Shift+C"),
    Hotkey("command_palette", "Command palette", "Ctrl+K"),
    Hotkey("next_workspace", "Next workspace", "Ctrl+Tab"),
)
BY_ID = {hotkey.action_id: hotkey for hotkey in HOTKEYS}


def resolve(overrides: dict[str, str]) -> dict[str, str]:
    """Every action's key sequence: the user's choice, else the default ("" = none)."""
    return {h.action_id: overrides.get(h.action_id, h.default) for h in HOTKEYS}


def conflicts(keys: dict[str, str]) -> dict[str, list[str]]:
    """Key sequences bound to more than one action (sequence -> action ids)."""
    used: dict[str, list[str]] = {}
    for action_id, key in keys.items():
        normal = QKeySequence(key).toString(QKeySequence.SequenceFormat.PortableText)
        if normal:
            used.setdefault(normal, []).append(action_id)
    return {key: ids for key, ids in used.items() if len(ids) > 1}


class HotkeyDialog(QDialog):
    """Edit the shortcuts; refuses to save two actions on one key."""

    def __init__(self, keys: dict[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.editors: dict[str, QKeySequenceEdit] = {}
        grid = QGridLayout()
        for row, hotkey in enumerate(HOTKEYS):
            editor = QKeySequenceEdit(QKeySequence(keys.get(hotkey.action_id, hotkey.default)))
            editor.setMaximumSequenceLength(1)
            editor.keySequenceChanged.connect(self._check)
            reset = QPushButton("Default")
            reset.clicked.connect(
                lambda _=False, e=editor, h=hotkey: e.setKeySequence(QKeySequence(h.default))
            )
            grid.addWidget(QLabel(hotkey.text), row, 0)
            grid.addWidget(editor, row, 1)
            grid.addWidget(reset, row, 2)
            self.editors[hotkey.action_id] = editor
        self.problem = QLabel()
        self.problem.setObjectName("hotkeyProblem")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self._check()

    def keys(self) -> dict[str, str]:
        return {
            action_id: editor.keySequence().toString(QKeySequence.SequenceFormat.PortableText)
            for action_id, editor in self.editors.items()
        }

    def _check(self) -> None:
        clashes = conflicts(self.keys())
        text = "; ".join(
            f"{key} is used by {', '.join(BY_ID[i].text for i in ids)}"
            for key, ids in clashes.items()
        )
        self.problem.setText(text)
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(not clashes)
