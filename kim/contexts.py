"""The bounded contexts this platform runs: adding one is its folder and one line here."""

from __future__ import annotations

from services.audit.spec import SPEC as AUDIT
from services.case_management.spec import SPEC as CASE_MANAGEMENT
from services.coordination.spec import SPEC as COORDINATION
from services.immigration_office.spec import SPEC as IMMIGRATION_OFFICE
from services.spec import ContextSpec
from services.steering.spec import SPEC as STEERING
from services.tenancy.spec import SPEC as TENANCY

CONTEXTS: list[ContextSpec] = [
    TENANCY, COORDINATION, CASE_MANAGEMENT, AUDIT, IMMIGRATION_OFFICE, STEERING,
]  # fmt: skip
"""In the order their demo parts load (tenants first)."""

PROJECTIONS = {s.projection.name: s.projection for s in CONTEXTS if s.projection is not None}
"""The read models, by name."""
