"""The whole test suite: ``python -m tests``.

Runs, in order: ruff check, ruff format --check, mypy --strict, the import-linter
contracts and pytest (both stacks: SQLite/in-process and PostgreSQL/NATS). Stops at the
first failing step and exits with its code.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

STEPS: list[tuple[str, list[str]]] = [
    ("ruff check", [sys.executable, "-m", "ruff", "check", "."]),
    ("ruff format --check", [sys.executable, "-m", "ruff", "format", "--check", "."]),
    ("mypy --strict", [sys.executable, "-m", "mypy"]),
    ("import contracts", [str(Path(sys.executable).parent / "lint-imports")]),
    # Three workers (pytest-xdist): most tests wait on PostgreSQL, NATS or a server of
    # their own, so three share two cores well (four were no faster and made the timing
    # tests flaky); every test has its own schema, stream,
    # ports and directories. Arguments after ``python -m tests`` go to pytest (``-n 0``:
    # one process).
    ("pytest", [sys.executable, "-m", "pytest", "-n", "3", *sys.argv[1:]]),
]


def test_environment() -> dict[str, str]:
    """The tests' connections to PostgreSQL commit without waiting for the WAL flush
    (``synchronous_commit=off``, by ``PGOPTIONS``, which libpq reads for every connection):
    the suite creates thousands of schemas and commits, and on a slow disk the flushes are
    a fifth of its time. What a commit means is unchanged (visible, ordered, atomic); only a
    crash of the server could lose the last ones, and no test crashes a PostgreSQL that its
    assertions rely on afterwards: the fault tests restart their own cluster with a clean
    shutdown, which flushes everything. The platform itself always commits durably."""
    env = dict(os.environ)
    options = env.get("PGOPTIONS", "")
    if "synchronous_commit" not in options:
        env["PGOPTIONS"] = f"{options} -c synchronous_commit=off".strip()
    return env


def main() -> int:
    for name, command in STEPS:
        print(f"\n=== {name} ===", flush=True)
        started = time.monotonic()
        code = subprocess.call(command, env=test_environment())
        outcome = "ok" if code == 0 else f"FAILED ({code})"
        print(f"=== {name}: {outcome} in {time.monotonic() - started:.1f}s", flush=True)
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
