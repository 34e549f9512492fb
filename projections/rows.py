"""Helpers the figures of every context share: rows of one kind, sorted counts."""

from __future__ import annotations

from collections import Counter
from typing import Any

from runtime.readstore import Row

Doc = dict[str, Any]


def of_kind(rows: list[Row], kind: str) -> list[Row]:
    return [r for r in rows if r.kind == kind]


def sorted_counts(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items())
