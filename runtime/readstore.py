"""Where read models live: rows (JSON documents) and tracking positions, written together.

A projection writes its rows and the log position they reflect in one transaction, so a
redelivered event is skipped and a crash loses nothing (exactly-once effect). Rows are
documents keyed by (projection, tenant, key) with a ``kind``; the read side filters them by
tenant before anything else. SQLite (embedded: one file beside the event store) or
PostgreSQL (tables in the store's schema; reads run as the role ``kim_tenant`` under a
row-level security policy that admits only the tenants the session names).
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

Doc = dict[str, Any]


@dataclass(frozen=True)
class Row:
    tenant: str
    key: str
    kind: str
    doc: Doc


class ReadTx(ABC):
    """One transaction of one projection."""

    @abstractmethod
    def get(self, tenant: str, key: str) -> Doc | None: ...

    @abstractmethod
    def put(self, tenant: str, key: str, kind: str, doc: Doc) -> None: ...

    @abstractmethod
    def delete(self, tenant: str, key: str) -> None: ...

    @abstractmethod
    def set_position(self, tenant: str, context: str, position: int) -> None: ...


class ReadStore(ABC):
    @abstractmethod
    def transaction(self, projection: str) -> AbstractContextManager[ReadTx]: ...

    @abstractmethod
    def positions(self, projection: str) -> dict[tuple[str, str], int]: ...

    @abstractmethod
    def rows(
        self, projection: str, tenants: Iterable[str], kind: str | None = None
    ) -> list[Row]: ...

    @abstractmethod
    def page(
        self,
        projection: str,
        tenant: str,
        kind: str,
        *,
        match: dict[str, list[str | None]] | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> list[Row]:
        """One page of a tenant's rows of ``kind`` in key order, after the key ``after``.

        ``match`` keeps rows whose document field (one of ``PAGE_FIELDS``) has one of the
        values (``None``: the field is null or missing); the fields have indexes, so a page
        costs the same however many rows the tenant has.
        """

    @abstractmethod
    def all_rows(self, projection: str) -> Iterator[Row]:
        """Every row of the projection, ordered by tenant and key (for checksums)."""

    @abstractmethod
    def replace_tenant(
        self,
        projection: str,
        tenant: str,
        rows: Iterable[tuple[str, str, Doc]],
        positions: dict[tuple[str, str], int],
    ) -> None:
        """In one transaction: the tenant's rows of the projection become ``rows``
        (key, kind, doc) and its positions ``positions`` (a rebuild's bulk write; readers
        see the old rows or the new ones, never an empty tenant)."""  # fmt: skip

    @abstractmethod
    def close(self) -> None: ...

    def position(self, projection: str, tenant: str, context: str) -> int:
        return self.positions(projection).get((tenant, context), 0)

    def checksum(self, projection: str) -> str:
        digest = hashlib.sha256()
        for row in self.all_rows(projection):
            digest.update(
                json.dumps([row.tenant, row.key, row.kind, row.doc], sort_keys=True).encode()
            )
        return digest.hexdigest()


ANALYZE_FROM = 5000
"""Rows of one rebuilt tenant from which the PostgreSQL read store refreshes its statistics."""

PAGE_FIELDS = ("position_id", "state")
"""Document fields a page may be filtered by (each has an index with the key behind it)."""


def _page_fields(
    match: dict[str, list[str | None]] | None,
) -> list[tuple[str, list[str], bool]]:
    """(field, values, also null) per filter, checked against ``PAGE_FIELDS``."""
    found = sorted((match or {}).items())
    unknown = [f for f, _ in found if f not in PAGE_FIELDS]
    if unknown:
        raise ValueError(f"rows can be filtered by {', '.join(PAGE_FIELDS)}, not {unknown}")
    return [(f, [v for v in values if v is not None], None in values) for f, values in found]


def page_query(
    table: str,
    expr: Callable[[str], str],
    mark: str,
    hint: Callable[[str | None], str],
    projection: str,
    tenant: str,
    kind: str,
    match: dict[str, list[str | None]] | None,
    after: str | None,
    limit: int,
) -> tuple[str, list[Any]] | None:
    """The SQL of ``page`` (None: nothing can match), the same shape on both stores.

    The first filter field leads: one sub-select per wanted value, each an equality on the
    field's index followed by the key (so it reads at most ``limit`` index entries), merged
    in key order. Planners choose that index without statistics, which a freshly rebuilt
    read model does not have yet.
    """
    fields = _page_fields(match)
    lead, rest = (fields[0], fields[1:]) if fields else (None, [])
    where = f"projection={mark} AND tenant={mark} AND kind={mark}"
    args: list[Any] = [projection, tenant, kind]
    for field, values, null in rest:
        if not values and not null:
            return None
        alternatives = [f"{expr(field)} IN ({','.join([mark] * len(values))})"] if values else []
        alternatives += [f"{expr(field)} IS NULL"] if null else []
        where += f" AND ({' OR '.join(alternatives)})"
        args += values
    if after is not None:
        where += f" AND key > {mark}"
        args.append(after)
    if lead is None:
        conditions: list[tuple[str, list[Any]]] = [("", [])]
    else:
        field, values, null = lead
        conditions = [(f" AND {expr(field)} = {mark}", [v]) for v in values]
        conditions += [(f" AND {expr(field)} IS NULL", [])] if null else []
    if not conditions:
        return None
    selects, all_args = [], []
    source = f"{table}{hint(lead[0] if lead else None)}"
    for number, (condition, values) in enumerate(conditions):
        selects.append(
            f"SELECT * FROM (SELECT tenant, key, kind, doc FROM {source} WHERE {where}{condition}"
            f" ORDER BY key LIMIT {mark}) AS page_{number}"
        )
        all_args += [*args, *values, limit]
    return " UNION ALL ".join(selects) + f" ORDER BY key LIMIT {mark}", [*all_args, limit]


def dump_doc(doc: Doc) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
