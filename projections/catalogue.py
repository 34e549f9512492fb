"""The projections the platform runs: one per context's log.

Adding a context's read model is one entry here: its name, its context and how to get the
tenant's application (which decodes the events).
"""

from __future__ import annotations

from collections.abc import Callable

from contexts.case_management.application import CaseManagementApplication
from contexts.coordination.application import CoordinationApplication
from contexts.shared.application import TenantApplication
from projections.figures import case_contribution
from projections.projection import AggregateProjection, Summarise
from runtime.platform import Platform


def _app_factories(platform: Platform) -> dict[str, Callable[[str], TenantApplication]]:
    return {
        "coordination": lambda t: platform.app(CoordinationApplication, t),
        "case_management": lambda t: platform.app(
            CaseManagementApplication, t, vault=platform.vault
        ),
    }


PROJECTIONS = ("coordination", "case_management")
SUMMARIES: dict[str, Summarise] = {"case_management": case_contribution}


def build_projections(platform: Platform) -> dict[str, AggregateProjection]:
    """One projection per context, named like the context."""
    factories = _app_factories(platform)
    return {
        name: AggregateProjection(
            name,
            name,
            platform.read,
            platform.store,
            factories[name],
            platform.bus.prefix,
            summarise=SUMMARIES.get(name),
        )
        for name in PROJECTIONS
    }
