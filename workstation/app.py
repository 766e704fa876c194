"""The `workstation` command: the PySide6 trading desktop.

The desktop is built on top of the exchange server's API (see the project's issues); until
it lands this command says so plainly instead of pretending.
"""

import sys


def main() -> int:
    print(
        "The trading desktop is not built yet. Run `exchange-server demo` (or `make run`) "
        "for the exchange with a live demo market.",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
