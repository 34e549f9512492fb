"""The tenant aggregate: one per tenant, identified by its key (slug)."""

from __future__ import annotations

import re
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from contexts.shared.errors import DomainError
from contexts.tenancy.contracts import Office, TenantKind

KEY = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
AGS = re.compile(r"^\d{2}(\d{1}|\d{3}|\d{6})?$")  # Land, Regierungsbezirk, Kreis, Gemeinde


def tenant_id(key: str) -> UUID:
    """Tenant ids derive from keys, so registering a key twice collides (409)."""
    return uuid5(NAMESPACE_URL, f"kim:tenant:{key}")


def check_key(key: str) -> None:
    if not KEY.match(key):
        raise DomainError(
            "invalid-tenant-key",
            f"tenant key {key!r} must be 2-63 lower-case letters, digits or '-'",
            field="key",
        )


def check_ags(ags: str | None) -> None:
    if ags is not None and not AGS.match(ags):
        raise DomainError(
            "invalid-ags",
            f"official municipality key {ags!r} must have 2, 3, 5 or 8 digits",
            field="ags",
        )


class Tenant(Aggregate):
    """A district, district-free city, region, member town or the state programme."""

    class Registered(Aggregate.Created):
        key: str
        name: str
        kind: str
        parent: str | None
        ags: str | None

    class Renamed(Aggregate.Event):
        name: str

    class OfficesAssigned(Aggregate.Event):
        holder: str
        offices: list[str]

    @staticmethod
    def create_id(key: str, **_: Any) -> UUID:
        return tenant_id(key)

    @event(Registered)
    def __init__(
        self, key: str, name: str, kind: TenantKind, parent: str | None, ags: str | None
    ) -> None:
        self.key = key
        self.name = name
        self.kind = TenantKind(kind)
        self.parent = parent
        self.ags = ags
        self.offices_held_by: dict[str, str] = {}

    @event(Renamed)
    def rename(self, name: str) -> None:
        self.name = name

    @event(OfficesAssigned)
    def assign_offices(self, holder: str, offices: list[str]) -> None:
        """Record that ``holder`` holds these offices for this tenant."""
        for office in offices:
            self.offices_held_by[Office(office).value] = holder
