"""Where the application keeps its files. Light on imports: the workstation uses it too."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "trading-workstation"
DATA_DIR_ENV = "EXCHANGE_DATA_DIR"


def default_data_dir() -> Path:
    """``EXCHANGE_DATA_DIR`` or the user data directory (created if missing)."""
    configured = os.environ.get(DATA_DIR_ENV, "").strip()
    data_dir = Path(configured) if configured else Path(platformdirs.user_data_dir(APP_NAME))
    data_dir.mkdir(parents=True, exist_ok=True)
    return data_dir
