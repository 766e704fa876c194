"""``mypyc_attr`` for the compiled modules, also when the build tools are not installed.

The decorator only instructs mypyc; at run time it does nothing. It lives in this
interpreted module because a compiled one cannot fall back on import failure (mypyc treats
the fallback as unreachable).
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_extensions import mypyc_attr
else:
    try:
        from mypy_extensions import mypyc_attr
    except ImportError:  # installed without the development tools

        def mypyc_attr(*_args, **_attrs):
            return lambda cls: cls


__all__ = ["mypyc_attr"]
