"""Entry point: ``python -m bench write``, ``read``, ``scale`` or ``pages``."""

from __future__ import annotations

import sys

USAGE = "usage: python -m bench {write,read,scale,pages} [--help]"

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in {"write", "read", "scale", "pages"}:
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    if sys.argv[1] == "write":
        from bench.write import main
    elif sys.argv[1] == "scale":
        from bench.scale import main
    elif sys.argv[1] == "pages":
        from bench.pages import main
    else:
        from bench.read import main
    sys.exit(main(sys.argv[2:]))
