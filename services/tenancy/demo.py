"""The demo's tenants: the NRW programme, Kreis Steinfurt with Rheine and Emsdetten, the
StädteRegion Aachen and the city of Aachen (whose offices the region holds)."""

from __future__ import annotations

from dataclasses import dataclass

from contexts.tenancy.contracts import Office, TenantKind
from runtime import context as request_context
from runtime.platform import Platform


@dataclass(frozen=True)
class DemoTenant:
    key: str
    name: str
    kind: TenantKind
    parent: str | None
    ags: str


DEMO_TENANTS = [
    DemoTenant(
        "nrw", "Landesprogramm KIM Nordrhein-Westfalen", TenantKind.STATE_PROGRAMME, None, "05"
    ),
    DemoTenant("kreis-steinfurt", "Kreis Steinfurt", TenantKind.DISTRICT, "nrw", "05566"),
    DemoTenant("rheine", "Stadt Rheine", TenantKind.MEMBER_TOWN, "kreis-steinfurt", "05566076"),
    DemoTenant(
        "emsdetten", "Stadt Emsdetten", TenantKind.MEMBER_TOWN, "kreis-steinfurt", "05566008"
    ),
    DemoTenant("staedteregion-aachen", "StädteRegion Aachen", TenantKind.REGION, "nrw", "05334"),
    DemoTenant("aachen", "Stadt Aachen", TenantKind.DISTRICT_FREE_CITY, "nrw", "05334002"),
]
AACHEN_OFFICES_HELD = [Office.IMMIGRATION_OFFICE, Office.JOB_CENTRE, Office.HEALTH_OFFICE]


def load_tenancy_demo(platform: Platform) -> list[str]:
    """Register what is missing; running it again changes nothing. Returns what was done."""
    done: list[str] = []
    with request_context.bound(actor="kim-demo"):
        for t in DEMO_TENANTS:
            if platform.tenancy.directory().get(t.key) is None:
                platform.tenancy.register_tenant(t.key, t.name, t.kind, t.parent, t.ags)
                done.append(f"Mandant registriert: {t.name} ({t.key})")
        aachen = platform.tenancy.directory().get("aachen")
        if aachen is not None and not aachen.offices_held_by:
            platform.tenancy.assign_offices("aachen", "staedteregion-aachen", AACHEN_OFFICES_HELD)
            done.append(
                "StädteRegion Aachen führt Ausländerbehörde, Jobcenter und Gesundheitsamt"
                " für Aachen"
            )
    platform.directory(refresh=True)
    return done
