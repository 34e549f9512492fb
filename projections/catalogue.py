"""How a context declares its read model, and how the platform builds the ones it runs.

Each context's module under ``projections/`` names its ``PROJECTION``; its spec object
(``services/<context>/spec.py``) hands it to the composition root, which builds them here.
A spec is picklable (module-level functions), so ``kim replay`` can send it to workers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from contexts.shared.application import TenantApplication
from projections.projection import AggregateProjection, Summarise
from runtime.platform import Platform


@dataclass(frozen=True)
class ProjectionSpec:
    """A read model following one context's log (named like the context)."""

    name: str
    application: Callable[[Platform, str], TenantApplication]  # decodes the tenant's events
    summarise: Summarise | None = None  # what a row adds to the tenant's summary counters


def build_projections(
    platform: Platform, specs: Iterable[ProjectionSpec]
) -> dict[str, AggregateProjection]:
    """One live projection per spec, keyed by its name."""
    return {
        spec.name: AggregateProjection(
            spec.name,
            spec.name,
            platform.read,
            platform.store,
            partial(spec.application, platform),
            platform.bus.prefix,
            summarise=spec.summarise,
        )
        for spec in specs
    }
