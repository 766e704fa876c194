"""Ctrl+K: type a few letters of a symbol or an action and press Enter."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

MAX_SHOWN = 50


@dataclass(frozen=True, slots=True)
class Command:
    text: str  # what is shown and matched
    run: Callable[[], None]
    kind: str = "action"  # "symbol" | "action"
    detail: str = ""  # matched too (a company's name), shown after the text


def score(query: str, text: str) -> int | None:
    """How well ``query`` matches ``text`` (higher is better), None if it does not: every
    query character in order; prefixes and word starts beat scattered letters."""
    if not query:
        return 0
    query, text = query.lower(), text.lower()
    if text.startswith(query):
        return 1000 - len(text)
    position = text.find(query)
    if position >= 0:
        word_start = position == 0 or not text[position - 1].isalnum()
        return (800 if word_start else 600) - position
    total, last = 0, -1
    for char in query:
        found = text.find(char, last + 1)
        if found < 0:
            return None
        total += 10 if found == last + 1 else 1
        last = found
    return total


class CommandPalette(QFrame):
    """A popup over the main window; Escape or losing focus closes it."""

    def __init__(self, parent: QWidget, commands: Callable[[], Iterable[Command]]) -> None:
        super().__init__(parent)
        self.setObjectName("commandPalette")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._commands = commands
        self._all: list[Command] = []
        self.search = QLineEdit()
        self.search.setPlaceholderText("Jump to a symbol or run an action...")
        self.results = QListWidget()
        self.results.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.search)
        layout.addWidget(self.results)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self.run_selected)
        self.search.installEventFilter(self)
        self.results.itemActivated.connect(lambda _: self.run_selected())
        self.hide()

    def open(self) -> None:
        self._all = list(self._commands())
        parent = self.parentWidget()
        assert parent is not None
        width = min(640, max(360, parent.width() // 2))
        self.setGeometry((parent.width() - width) // 2, 60, width, 380)
        self.search.clear()
        self._filter("")
        self.show()
        self.raise_()
        self.search.setFocus()

    def matches(self, query: str) -> list[Command]:
        scored = []
        for index, command in enumerate(self._all):
            best = score(query, command.text)
            if command.detail:
                detail = score(query, command.detail)
                if detail is not None:
                    best = max(best or 0, detail - 100)
            if best is not None:
                # Symbols first on ties: jumping to a symbol is the common case.
                scored.append((-best, command.kind != "symbol", index, command))
        scored.sort(key=lambda entry: entry[:3])
        return [entry[3] for entry in scored[:MAX_SHOWN]]

    def _filter(self, query: str) -> None:
        self.results.clear()
        for command in self.matches(query.strip()):
            label = f"{command.text}    {command.detail}" if command.detail else command.text
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, command)
            self.results.addItem(item)
        if self.results.count():
            self.results.setCurrentRow(0)

    def run_selected(self) -> None:
        item = self.results.currentItem()
        if item is None:
            return
        command: Command = item.data(Qt.ItemDataRole.UserRole)
        self.hide()
        command.run()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key == Qt.Key.Key_Escape:
                self.hide()
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if key == Qt.Key.Key_Down else -1
                row = max(0, min(self.results.count() - 1, self.results.currentRow() + step))
                self.results.setCurrentRow(row)
                return True
        if watched is self.search and event.type() == QEvent.Type.FocusOut:
            self.hide()
        return super().eventFilter(watched, event)
