"""Supervision lines across logs: the service layer answers what the rules ask beyond one log.

A coordination position working in a tenant lives in that tenant's coordination log or in
one of the logs above it (Kreis Steinfurt's log holds the "Koordinierungsstelle KIM Stadt
Rheine", work tenant ``rheine``). Each answer looks at a tenant and its ancestors only, so
it costs the depth of the hierarchy; whether coordination positions work in a tenant is an
index kept with the events (``Position.index_entries``), never a scan of a log.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.positions import COORDINATION_POSITIONS_IN, Position
from contexts.coordination.staffing import position_in
from runtime.platform import Platform


@dataclass(frozen=True)
class PlatformSupervisionScope:
    """``contexts.coordination.staffing.SupervisionScope`` over the platform's logs."""

    platform: Platform

    def _logs(self, tenant: str) -> list[CoordinationApplication]:
        keys = [tenant, *self.platform.directory().ancestors(tenant)]
        return [self.platform.app(CoordinationApplication, key) for key in keys]

    def is_above(self, tenant: str, below: str) -> bool:
        return self.platform.directory().is_ancestor(tenant, below)

    def coordinated(self, tenant: str) -> bool:
        return any(
            app.indexes.index_count(COORDINATION_POSITIONS_IN, tenant) > 0
            for app in self._logs(tenant)
        )

    def coordination_position(self, position_id: UUID, post_tenant: str) -> Position | None:
        for app in self._logs(post_tenant):
            found = position_in(app, position_id)
            if found is not None:
                return found
        return None
