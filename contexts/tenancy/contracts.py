"""What other contexts may know about tenants: the published shape of the registry (v1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

CONTRACT_VERSION = 1


class TenantKind(StrEnum):
    STATE_PROGRAMME = "state_programme"  # Landesprogramm KIM (NRW)
    DISTRICT = "district"  # Kreis
    REGION = "region"  # StädteRegion (a Gemeindeverband that holds offices of its towns)
    DISTRICT_FREE_CITY = "district_free_city"  # kreisfreie Stadt
    MEMBER_TOWN = "member_town"  # kreisangehörige Stadt with its own coordination post


class Office(StrEnum):
    IMMIGRATION_OFFICE = "immigration_office"  # Ausländerbehörde
    JOB_CENTRE = "job_centre"  # Jobcenter
    HEALTH_OFFICE = "health_office"  # Gesundheitsamt
    SOCIAL_WELFARE_OFFICE = "social_welfare_office"  # Sozialamt
    YOUTH_OFFICE = "youth_office"  # Jugendamt


# Which kinds may sit directly under which.
ALLOWED_PARENTS: dict[TenantKind, set[TenantKind | None]] = {
    TenantKind.STATE_PROGRAMME: {None},
    TenantKind.DISTRICT: {TenantKind.STATE_PROGRAMME},
    TenantKind.REGION: {TenantKind.STATE_PROGRAMME},
    TenantKind.DISTRICT_FREE_CITY: {TenantKind.STATE_PROGRAMME},
    TenantKind.MEMBER_TOWN: {TenantKind.DISTRICT, TenantKind.REGION},
}


@dataclass(frozen=True)
class TenantInfo:
    key: str
    name: str
    kind: TenantKind
    parent: str | None
    ags: str | None
    offices_held_by: dict[str, str] = field(default_factory=dict)  # office -> holder key


@dataclass
class TenantDirectory:
    """The registry as other code reads it: look up, walk the hierarchy."""

    tenants: dict[str, TenantInfo] = field(default_factory=dict)
    position: int = 0
    ids: dict[UUID, str] = field(default_factory=dict)

    def get(self, key: str) -> TenantInfo | None:
        return self.tenants.get(key)

    def ancestors(self, key: str) -> list[str]:
        found: list[str] = []
        info = self.tenants.get(key)
        while info is not None and info.parent is not None and info.parent not in found:
            found.append(info.parent)
            info = self.tenants.get(info.parent)
        return found

    def children(self, key: str) -> list[str]:
        return sorted(k for k, t in self.tenants.items() if t.parent == key)

    def descendants(self, key: str) -> list[str]:
        return sorted(k for k in self.tenants if key in self.ancestors(k))

    def is_ancestor(self, ancestor: str, key: str) -> bool:
        return ancestor in self.ancestors(key)

    def holds_offices_of(self, holder: str) -> dict[str, list[str]]:
        """Tenants whose offices ``holder`` holds, with the offices."""
        held: dict[str, list[str]] = {}
        for key, info in self.tenants.items():
            for office, h in info.offices_held_by.items():
                if h == holder:
                    held.setdefault(key, []).append(office)
        return {k: sorted(v) for k, v in sorted(held.items())}
