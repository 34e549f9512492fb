"""Entry point: ``python -m bench write``."""

from __future__ import annotations

import sys

from bench.write import main

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "write":
        print("usage: python -m bench write [--help]", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[2:]))
