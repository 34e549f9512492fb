"""Responsibility follows residence: which tenant's office handles a person's procedure.

Read from the registry (``contexts.tenancy.contracts``): the person's municipality is named
by a registered tenant's key or by its official key (AGS); a municipality that is no tenant
of its own (a district's town without a coordination post) is found through the longest
registered AGS it lies in (its district). The office responsible is the one the registry
records as holding that tenant's immigration office (StädteRegion Aachen for Stadt Aachen,
Kreis Steinfurt for a member town whose office it holds), else the tenant's own (Rheine).
The state programme runs no office.
"""

from __future__ import annotations

import re

from contexts.shared.errors import DomainError
from contexts.tenancy.contracts import Office, TenantDirectory, TenantKind

AGS = re.compile(r"^\d{2,8}$")


def municipality_tenant(directory: TenantDirectory, residence: str) -> str:
    """The registered tenant the municipality ``residence`` is, or lies in."""
    if directory.get(residence) is not None:
        return residence
    if AGS.match(residence):
        best: tuple[int, str] | None = None
        for key, info in directory.tenants.items():
            longer = best is None or len(info.ags or "") > best[0]
            if info.ags and residence.startswith(info.ags) and longer:
                best = (len(info.ags), key)
        if best is not None:
            return best[1]
    raise DomainError(
        "unknown-residence",
        f"{residence} is neither a registered tenant nor a municipality key within one",
        field="residence",
    )


def responsible_office(directory: TenantDirectory, residence: str) -> str:
    """The tenant whose immigration office is responsible for a person living in
    ``residence``."""
    tenant = municipality_tenant(directory, residence)
    info = directory.get(tenant)
    assert info is not None
    holder = info.offices_held_by.get(Office.IMMIGRATION_OFFICE.value)
    if holder is not None:
        return holder
    if info.kind == TenantKind.STATE_PROGRAMME:
        raise DomainError(
            "unknown-residence",
            f"{residence} names the state programme, not a municipality",
            field="residence",
        )
    return tenant


class WrongTenant(DomainError):
    """The procedure belongs in another tenant's log (``responsible``)."""

    def __init__(self, tenant: str, responsible: str, residence: str) -> None:
        super().__init__(
            "wrong-tenant",
            f"the immigration office of {responsible} is responsible for people living in"
            f" {residence}, not {tenant}'s",
            field="residence",
            responsible=responsible,
        )
        self.responsible = responsible


def check_responsible(directory: TenantDirectory, tenant: str, residence: str) -> None:
    responsible = responsible_office(directory, residence)
    if responsible != tenant:
        raise WrongTenant(tenant, responsible, residence)
