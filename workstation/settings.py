"""Local settings: theme, hotkeys, connection profiles and workspaces, as JSON files in the
user's configuration directory (platformdirs; ``WORKSTATION_CONFIG_DIR`` overrides it).

Passwords and tokens are not here: they go to :mod:`workstation.credentials`.
Files are replaced atomically (write a temporary file, then rename), so a crash while
saving leaves the previous settings, never half a file.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import platformdirs

log = logging.getLogger(__name__)

CONFIG_DIR_ENV = "WORKSTATION_CONFIG_DIR"
EMBEDDED_PROFILE = "Offline paper trading"
DEFAULT_WORKSPACES = ("Trading", "Charting")
WORKSPACES_PREFERENCE = "workstation.workspaces"  # the server-side copy, per user


def config_dir() -> Path:
    configured = os.environ.get(CONFIG_DIR_ENV, "").strip()
    if configured:
        return Path(configured)
    return Path(platformdirs.user_config_dir("trading-workstation", appauthor=False))


def write_atomically(path: Path, text: str, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        # A damaged file must not stop the app from starting: start from defaults, keep
        # the damaged file for inspection.
        log.warning("ignoring unreadable %s: %s", path, error)
        path.replace(path.with_suffix(path.suffix + ".damaged"))
        return None


@dataclass
class Profile:
    """A way to connect: the embedded exchange, or a remote server with a user name."""

    name: str
    kind: Literal["embedded", "remote"] = "remote"
    url: str = ""
    username: str = ""
    remember: bool = True  # keep the session's refresh token in the credential store

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Profile:
        kind: Literal["embedded", "remote"] = (
            "embedded" if data.get("kind") == "embedded" else "remote"
        )
        return cls(
            name=str(data.get("name", "")),
            kind=kind,
            url=str(data.get("url", "")),
            username=str(data.get("username", "")),
            remember=bool(data.get("remember", True)),
        )


@dataclass
class Settings:
    theme: str = "dark"
    hotkeys: dict[str, str] = field(default_factory=dict)  # action -> key sequence
    profiles: list[Profile] = field(
        default_factory=lambda: [Profile(EMBEDDED_PROFILE, kind="embedded")]
    )
    last_profile: str = EMBEDDED_PROFILE
    current_workspace: str = "Trading"
    # name -> {"state": base64 QMainWindow state, "geometry": ..., "docks": {id: state}}
    workspaces: dict[str, dict[str, Any]] = field(default_factory=dict)
    # When the workspaces were last mirrored to a server (epoch ms; 0: never). A server
    # copy stamped later comes from another machine and replaces these on sign-in.
    workspaces_saved_at: int = 0
    directory: Path = field(default_factory=config_dir)

    @property
    def path(self) -> Path:
        return self.directory / "settings.json"

    @property
    def workspaces_path(self) -> Path:
        return self.directory / "workspaces.json"

    @classmethod
    def load(cls, directory: Path | None = None) -> Settings:
        settings = cls(directory=directory or config_dir())
        data = _read_json(settings.path)
        if isinstance(data, dict):
            settings.theme = str(data.get("theme", settings.theme))
            hotkeys = data.get("hotkeys")
            if isinstance(hotkeys, dict):
                settings.hotkeys = {str(k): str(v) for k, v in hotkeys.items()}
            profiles = [
                Profile.from_json(p) for p in data.get("profiles", []) if isinstance(p, dict)
            ]
            if profiles:
                settings.profiles = profiles
            settings.last_profile = str(data.get("last_profile", settings.last_profile))
            settings.current_workspace = str(
                data.get("current_workspace", settings.current_workspace)
            )
            saved_at = data.get("workspaces_saved_at")
            if isinstance(saved_at, int) and saved_at >= 0:
                settings.workspaces_saved_at = saved_at
        if not any(p.kind == "embedded" for p in settings.profiles):
            settings.profiles.insert(0, Profile(EMBEDDED_PROFILE, kind="embedded"))
        workspaces = _read_json(settings.workspaces_path)
        if isinstance(workspaces, dict):
            settings.workspaces = {
                str(name): value for name, value in workspaces.items() if isinstance(value, dict)
            }
        return settings

    def save(self) -> None:
        data = {
            "theme": self.theme,
            "hotkeys": self.hotkeys,
            "profiles": [asdict(p) for p in self.profiles],
            "last_profile": self.last_profile,
            "current_workspace": self.current_workspace,
            "workspaces_saved_at": self.workspaces_saved_at,
        }
        write_atomically(self.path, json.dumps(data, indent=2))
        write_atomically(self.workspaces_path, json.dumps(self.workspaces, indent=1))

    def profile(self, name: str) -> Profile | None:
        return next((p for p in self.profiles if p.name == name), None)

    def upsert_profile(self, profile: Profile) -> None:
        for index, existing in enumerate(self.profiles):
            if existing.name == profile.name:
                self.profiles[index] = profile
                return
        self.profiles.append(profile)

    def remove_profile(self, name: str) -> None:
        self.profiles = [p for p in self.profiles if p.name != name or p.kind == "embedded"]

    def mirrored_workspaces(self) -> dict[str, Any]:
        """The workspaces as the server keeps them (preference ``WORKSPACES_PREFERENCE``),
        stamped now."""
        self.workspaces_saved_at = time.time_ns() // 1_000_000
        return {
            "saved_at": self.workspaces_saved_at,
            "current": self.current_workspace,
            "workspaces": self.workspaces,
        }

    def adopt_mirrored_workspaces(self, value: Any) -> bool:
        """Take the server's copy if it is newer than ours (a fresh machine has none, so
        any copy is newer); False, changing nothing, if it is older or malformed."""
        if not isinstance(value, dict):
            return False
        saved_at, current, workspaces = (
            value.get("saved_at"),
            value.get("current"),
            value.get("workspaces"),
        )
        if not isinstance(saved_at, int) or saved_at <= self.workspaces_saved_at:
            return False
        if not isinstance(workspaces, dict) or not isinstance(current, str):
            return False
        self.workspaces = {
            str(name): layout for name, layout in workspaces.items() if isinstance(layout, dict)
        }
        self.current_workspace = current or self.current_workspace
        self.workspaces_saved_at = saved_at
        return True
