"""What the immigration office's tests share: a directory of the demo tenants, an office
application on the in-memory store, and the REST helpers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from contexts.immigration_office.application import ImmigrationOfficeApplication
from contexts.immigration_office.states import Check, LegalBasis, Level
from contexts.tenancy.contracts import TenantDirectory, TenantInfo, TenantKind
from runtime.eventstore.base import EventLogStore
from runtime.vault import StoreVault

IO = "/immigration_office/tenants"
ALL_CHECKS = [c for c in Check if c != Check.LANGUAGE]


def directory() -> TenantDirectory:
    """The demo's registry as the office reads it (Emsdetten's office held by the district)."""
    k = TenantKind
    tenants = [
        TenantInfo("nrw", "NRW", k.STATE_PROGRAMME, None, "05"),
        TenantInfo("kreis-steinfurt", "Kreis Steinfurt", k.DISTRICT, "nrw", "05566"),
        TenantInfo("rheine", "Stadt Rheine", k.MEMBER_TOWN, "kreis-steinfurt", "05566076"),
        TenantInfo(
            "emsdetten", "Stadt Emsdetten", k.MEMBER_TOWN, "kreis-steinfurt", "05566008",
            {"immigration_office": "kreis-steinfurt"},
        ),
        TenantInfo("staedteregion-aachen", "StädteRegion Aachen", k.REGION, "nrw", "05334"),
        TenantInfo(
            "aachen", "Stadt Aachen", k.DISTRICT_FREE_CITY, "nrw", "05334002",
            {"immigration_office": "staedteregion-aachen"},
        ),
    ]  # fmt: skip
    return TenantDirectory({t.key: t for t in tenants})


def office(store: EventLogStore, tenant: str = "rheine") -> ImmigrationOfficeApplication:
    return ImmigrationOfficeApplication(tenant, store.recorder, StoreVault(store), directory)


def person(app: ImmigrationOfficeApplication, resident_since: str = "2019-03-01") -> UUID:
    data = {"name": "Demo N.", "nationality": "syrisch", "resident_since": resident_since}
    (rec,) = app.register_person(data)
    return UUID(str(rec.notification.originator_id))


def procedure(
    app: ImmigrationOfficeApplication,
    basis: LegalBasis,
    person_id: UUID,
    opened_on: date = date(2025, 1, 10),
    residence: str | None = None,
) -> UUID:
    recs = app.open_procedure(
        person_id, legal_basis=basis, residence=residence or app.tenant, opened_on=opened_on
    )
    return UUID(str(recs[0].notification.originator_id))


def pass_all(app: ImmigrationOfficeApplication, pid: UUID, on: date, level: Level) -> None:
    for check in ALL_CHECKS:
        app.record_check(pid, check=check, passed=True, on=on)
    app.record_check(pid, check=Check.LANGUAGE, passed=True, on=on, level=level)


# -- REST -----------------------------------------------------------------------------------
def created_id(response: Any) -> str:
    assert response.status_code in (200, 201), response.text
    return str(response.json()["events"][0]["aggregate_id"])


def api_person(client: TestClient, headers: dict[str, str], tenant: str = "rheine",
               resident_since: str = "2019-03-01") -> str:  # fmt: skip
    body = {"personal_data": {"name": "Demo-Person Z. Q.", "nationality": "eritreisch",
                              "resident_since": resident_since}}  # fmt: skip
    return created_id(client.post(f"{IO}/{tenant}/people", json=body, headers=headers))


def api_procedure(
    client: TestClient, headers: dict[str, str], person_id: str, basis: str,
    tenant: str = "rheine", opened_on: str = "2025-01-10",
) -> str:  # fmt: skip
    body = {"person_id": person_id, "legal_basis": basis, "residence": tenant,
            "opened_on": opened_on}  # fmt: skip
    return created_id(client.post(f"{IO}/{tenant}/procedures", json=body, headers=headers))


StepFn = Callable[..., Any]


def stepper(client: TestClient, headers: dict[str, str], tenant: str, pid: str) -> StepFn:
    def step(step: str, on: str, **extra: Any) -> Any:
        return client.post(
            f"{IO}/{tenant}/procedures/{pid}/steps",
            json={"step": step, "on": on, **extra},
            headers=headers,
        )

    return step


def api_checks(client: TestClient, headers: dict[str, str], tenant: str, pid: str, on: str,
               level: str = "B1", skip: tuple[str, ...] = ()) -> None:  # fmt: skip
    for check in ALL_CHECKS:
        if check.value in skip:
            continue
        r = client.post(
            f"{IO}/{tenant}/procedures/{pid}/checks",
            json={"check": check.value, "passed": True, "on": on},
            headers=headers,
        )
        assert r.status_code == 200, r.text
    if "language" not in skip:
        r = client.post(
            f"{IO}/{tenant}/procedures/{pid}/checks",
            json={"check": "language", "passed": True, "on": on, "level": level},
            headers=headers,
        )
        assert r.status_code == 200, r.text
