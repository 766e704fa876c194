"""Which domain modules are compiled with mypyc (see ``build_native.py``), and whether the
compiled versions are current. A compiled module built from older sources would silently
run old code, so the build records a hash of the sources it compiled, and the test suite and
the server compare it with the sources as they are now."""

from __future__ import annotations

import hashlib
import importlib.machinery
from pathlib import Path

DOMAIN = Path(__file__).resolve().parent
GROUP = "exchange_server.domain.native"
COMPILED_MODULES = (
    "enums",
    "records",
    "commands",
    "events",
    "instruments",
    "orders",
    "book",
    "stops",
    "ledger",
    "risk",
    "validation",
    "exchange",
)
SOURCES = tuple(DOMAIN / f"{name}.py" for name in COMPILED_MODULES)
SOURCES_HASH_FILE = DOMAIN / ".native-sources"
_SHARED_LIBRARY = GROUP.rsplit(".", 1)[1] + "__mypyc"


def compiled_files(name: str) -> list[Path]:
    return [
        DOMAIN / f"{name}{suffix}"
        for suffix in importlib.machinery.EXTENSION_SUFFIXES
        if (DOMAIN / f"{name}{suffix}").exists()
    ]


def sources_hash() -> str:
    """What the compiled modules are built from: every domain source (the compiled modules
    also depend on the interpreted ones they import)."""
    digest = hashlib.sha256()
    for path in sorted(DOMAIN.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def record_build() -> None:
    SOURCES_HASH_FILE.write_text(sources_hash())


def is_compiled() -> bool:
    return all(compiled_files(name) for name in (*COMPILED_MODULES, _SHARED_LIBRARY))


def stale_modules() -> list[str]:
    """Compiled modules that were not built from the current sources."""
    present = [name for name in COMPILED_MODULES if compiled_files(name)]
    if not present:
        return []
    built_from = SOURCES_HASH_FILE.read_text() if SOURCES_HASH_FILE.exists() else ""
    return present if built_from != sources_hash() else []


def clean() -> list[Path]:
    """Remove every compiled module, so the sources run as plain Python."""
    removed = []
    for name in (*COMPILED_MODULES, _SHARED_LIBRARY):
        for path in compiled_files(name):
            path.unlink()
            removed.append(path)
    SOURCES_HASH_FILE.unlink(missing_ok=True)
    return removed


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--clean"]:
        for path in clean():
            print(f"removed {path}")
    elif not is_compiled():
        print("not compiled: plain Python")
    else:
        print("stale: rebuild with `make native`" if stale_modules() else "compiled and current")
