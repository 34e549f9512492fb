"""Entry point: ``python -m bench write`` or ``python -m bench read``."""

from __future__ import annotations

import sys

USAGE = "usage: python -m bench {write,read} [--help]"

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in {"write", "read"}:
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    if sys.argv[1] == "write":
        from bench.write import main
    else:
        from bench.read import main
    sys.exit(main(sys.argv[2:]))
