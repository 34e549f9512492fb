"""The spec object of a bounded context: everything the composition root needs of it.

Each context's ``services/<context>/spec.py`` defines one ``ContextSpec``; ``kim/contexts.py``
lists them. The assembly (routers, consumers, relay), the projection catalogue, the GraphQL
schema, ``kim demo``, ``kim import``'s reindex and the CLI loop over that list, so adding a
context is a new folder and one line there (ADR 0004).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter

from contexts.shared.application import TenantApplication
from projections.catalogue import ProjectionSpec
from runtime.bus.consumer import TrackedConsumer
from runtime.platform import Platform


def _no_consumers(platform: Platform) -> list[TrackedConsumer]:
    return []


@dataclass(frozen=True)
class ContextSpec:
    name: str
    """The service's name, and the name of its per-tenant log (``context``)."""
    routers: Callable[[], list[APIRouter]]
    """The HTTP edge (imported when the service is assembled)."""
    application: Callable[[Platform, str], TenantApplication] | None = None
    """The tenant's application of the context (its write model)."""
    consumers: Callable[[Platform], list[TrackedConsumer]] = _no_consumers
    """What it consumes from other contexts' logs over the bus."""
    projection: ProjectionSpec | None = None
    """Its read model, run where the gateway runs."""
    graphql: Callable[[], type] | None = None
    """Its GraphQL query type, merged into the gateway's query root."""
    demo: Callable[[Platform], list[str]] | None = None
    """Loads its part of the demo (idempotent); returns what it did, in German."""
    cli: Callable[[Any], None] | None = None
    """Adds its commands to ``kim``'s subparsers."""
    has_log: bool = True
    """Whether it appends to a log of its own (the relay publishes those)."""
