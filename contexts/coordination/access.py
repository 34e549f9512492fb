"""Who may read and change coordination's records: the rule as data, in one place.

Coordination's records hold no personal data, so besides the tenant's own staff in
``READERS`` the tenants above it read them (a district its member towns', the state
programme all); only the tenant's own coordination posts (``WRITERS``) change them. The REST
edge (``services/coordination/deps.py``) applies this through the runtime's ``authorize``
(own tenant, or own tenant and those above). The figures the gateway computes from these
records follow the platform's rule for figures (``gateway/access.figure_tenants``).
"""

from __future__ import annotations

WRITERS = frozenset({"coordinator", "district_coordinator"})
READERS = WRITERS | {"case_manager", "steering_member", "auditor", "immigration_officer"}
ABOVE_MAY_READ = True
"""Tenants above the record's tenant read it (no personal data in coordination)."""
