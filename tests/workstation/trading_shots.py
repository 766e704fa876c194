"""Screenshots of the trading panels for people to look at: saved when the environment
names a directory (``WORKSTATION_SHOTS=/tmp/shots pytest tests/workstation``), else skipped."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import QWidget


def shot(widget: QWidget, name: str) -> Path | None:
    directory = os.environ.get("WORKSTATION_SHOTS")
    if not directory:
        return None
    path = Path(directory) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(path))
    return path
