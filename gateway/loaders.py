"""DataLoaders of the gateway: one per request, batching row reads per projection."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from strawberry.dataloader import DataLoader

from projections.store import Row
from services.runtime.platform import Platform

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
