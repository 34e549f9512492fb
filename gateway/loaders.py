"""DataLoaders of the gateway: one per request, batching row reads per projection."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from strawberry.dataloader import DataLoader

from runtime.platform import Platform
from runtime.readstore import Row

RowKey = tuple[str, str]  # (projection, tenant)


def rows_loader(platform: Platform) -> DataLoader[RowKey, list[Row]]:
    async def load(keys: list[RowKey]) -> list[list[Row]]:
        by_projection: dict[str, set[str]] = defaultdict(set)
        for projection, tenant in keys:
            by_projection[projection].add(tenant)
        found: dict[RowKey, list[Row]] = defaultdict(list)
        for projection, tenants in by_projection.items():
            rows = await asyncio.to_thread(platform.read.rows, projection, tenants)
            for row in rows:
                found[(projection, row.tenant)].append(row)
        return [found.get(k, []) for k in keys]

    return DataLoader(load_fn=load)


def summaries_loader(platform: Platform) -> DataLoader[str, list[Row]]:
    """Per tenant: the case-management summary row and the known positions."""

    async def load(tenants: list[str]) -> list[list[Row]]:
        found: dict[str, list[Row]] = defaultdict(list)
        for kind in ("Summary", "KnownPosition"):
            rows = await asyncio.to_thread(platform.read.rows, "case_management", tenants, kind)
            for row in rows:
                found[row.tenant].append(row)
        return [found.get(t, []) for t in tenants]

    return DataLoader(load_fn=load)
