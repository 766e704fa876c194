"""Chart colours. Up/down are the app's semantic colours; the rest is the chart's own dark
canvas (a chart stays dark in the light theme too, as trading terminals do)."""

from __future__ import annotations

try:
    from workstation.theme import DOWN, UP
except ImportError:  # the shell's theme module is not there yet
    UP = "#30a46c"
    DOWN = "#e5484d"

BACKGROUND = "#131722"
GRID = "#2a2e39"  # axis lines, reference levels
GRID_LINES = "#1c2030"  # the background grid: barely there
TEXT = "#d1d4dc"
TEXT_DIM = "#787b86"
CROSSHAIR = "#9598a1"
BUY = "#2962ff"
SELL = "#f57c00"
DRAWING = "#f5d90a"

OVERLAY_COLOURS = {
    "sma": "#f5d90a",
    "ema": "#e040fb",
    "bb_mid": "#2196f3",
    "bb_upper": "#2196f3",
    "bb_lower": "#2196f3",
    "vwap": "#ff9800",
    "rsi": "#b388ff",
    "macd": "#2962ff",
    "macd_signal": "#ff6d00",
}

__all__ = [
    "BACKGROUND",
    "BUY",
    "CROSSHAIR",
    "DOWN",
    "DRAWING",
    "GRID",
    "GRID_LINES",
    "OVERLAY_COLOURS",
    "SELL",
    "TEXT",
    "TEXT_DIM",
    "UP",
]
