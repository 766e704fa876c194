"""Themes: a Qt palette plus a style sheet (``resources/themes/<name>.qss``).

Docks take colours from the palette (so both themes work without per-dock code) and use
the semantic colours below for meaning: up/buy green, down/sell red.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

UP = "#30a46c"  # price up, buy side, profit
DOWN = "#e5484d"  # price down, sell side, loss
NEUTRAL = "#8b8d98"
WARNING = "#f5a524"
STALE = "#f5a524"  # data that may be out of date (reconnecting)
ACCENT = "#3e63dd"

THEMES = ("dark", "light")
THEMES_DIR = Path(__file__).resolve().parent.parent / "resources" / "themes"

_PALETTES: dict[str, dict[QPalette.ColorRole, str]] = {
    "dark": {
        QPalette.ColorRole.Window: "#18191b",
        QPalette.ColorRole.WindowText: "#e4e4e7",
        QPalette.ColorRole.Base: "#111113",
        QPalette.ColorRole.AlternateBase: "#1a1b1e",
        QPalette.ColorRole.Text: "#e4e4e7",
        QPalette.ColorRole.Button: "#222326",
        QPalette.ColorRole.ButtonText: "#e4e4e7",
        QPalette.ColorRole.Highlight: "#2f4fba",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#222326",
        QPalette.ColorRole.ToolTipText: "#e4e4e7",
        QPalette.ColorRole.PlaceholderText: "#6f7079",
        QPalette.ColorRole.Mid: "#2e2f33",
        QPalette.ColorRole.Dark: "#0c0c0d",
        QPalette.ColorRole.Light: "#3a3b40",
        QPalette.ColorRole.Link: "#7b96f0",
    },
    "light": {
        QPalette.ColorRole.Window: "#f4f4f5",
        QPalette.ColorRole.WindowText: "#1c1c1f",
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f7f7f8",
        QPalette.ColorRole.Text: "#1c1c1f",
        QPalette.ColorRole.Button: "#e9e9ec",
        QPalette.ColorRole.ButtonText: "#1c1c1f",
        QPalette.ColorRole.Highlight: "#3e63dd",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#ffffff",
        QPalette.ColorRole.ToolTipText: "#1c1c1f",
        QPalette.ColorRole.PlaceholderText: "#8b8d98",
        QPalette.ColorRole.Mid: "#d4d4d8",
        QPalette.ColorRole.Dark: "#a1a1aa",
        QPalette.ColorRole.Light: "#ffffff",
        QPalette.ColorRole.Link: "#3e63dd",
    },
}


def palette(name: str) -> QPalette:
    result = QPalette()
    for role, colour in _PALETTES[name].items():
        result.setColor(role, QColor(colour))
        disabled = QColor(colour)
        disabled.setAlphaF(0.45)
        result.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return result


def apply_theme(app: QApplication, name: str) -> str:
    """Apply theme ``name`` (unknown names fall back to dark); returns the one applied."""
    if name not in THEMES:
        name = "dark"
    app.setStyle("Fusion")  # the one style that honours palettes on every platform
    app.setPalette(palette(name))
    try:
        app.setStyleSheet((THEMES_DIR / f"{name}.qss").read_text(encoding="utf-8"))
    except OSError as error:
        log.warning("theme style sheet missing: %s", error)
        app.setStyleSheet("")
    app.setProperty("workstation_theme", name)
    return name


def current_theme(app: QApplication | None = None) -> str:
    app = app or QApplication.instance()  # type: ignore[assignment]
    value = app.property("workstation_theme") if app is not None else None
    return value if isinstance(value, str) else "dark"
