"""Compile the matching engine's hot modules to C with mypyc, next to their sources.

    python build_native.py          (what `make` runs when a listed source changed)

The modules stay ordinary, type-checked Python; mypyc turns them into extension modules that
Python imports in preference to the .py files. Without a compiler the sources run as they
are, only slower. ``exchange_server.domain.native_build`` lists the modules and tells
whether the compiled ones are current.
"""

from __future__ import annotations

import sys

from mypyc.build import mypycify
from setuptools import setup

from exchange_server.domain.native_build import GROUP, SOURCES, record_build, sources_hash

if __name__ == "__main__":
    compiled_from = sources_hash()
    setup(
        name="exchange-server-native",
        ext_modules=mypycify([str(path) for path in SOURCES], opt_level="3", group_name=GROUP),
        script_args=["build_ext", "--inplace", "--force", *sys.argv[1:]],
    )
    if sources_hash() == compiled_from:  # nobody edited a source during the build
        record_build()
