"""``python -m tunnelframe``: the same command line as the ``tunnelframe`` console script."""

from __future__ import annotations

from tunnelframe.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
