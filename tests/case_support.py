"""Helpers for case-management API tests: the demo's position, people and cases over REST."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient

from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.domain import Case
from contexts.coordination.application import CoordinationApplication
from contexts.coordination.positions import Position
from runtime.eventstore.records import LogRecord
from runtime.platform import Platform
from services.coordination.demo import rheine_coordination

CM = "/case_management/tenants/{tenant}"


def demo_position(platform: Platform) -> UUID:
    """The 1.9 FTE case-management position of "Lernen fördern" working in Rheine.

    Created in Kreis Steinfurt's coordination log, supervised by Rheine's post from its
    coordination position (``rheine_coordination_position``); the ``client`` fixture waits
    until Rheine's case management has noted it.
    """
    return UUID(str(lf_position_record(platform).originator_id))


def rheine_coordination_position(platform: Platform) -> UUID:
    """The demo's "Koordinierungsstelle KIM Stadt Rheine" (in Kreis Steinfurt's log, working
    in Rheine): the supervision line of the demo position runs from it, so only a Rheine
    coordinator whose token names it (claim ``position``) supervises that position."""
    return rheine_coordination(platform.app(CoordinationApplication, "kreis-steinfurt"))


def lf_position_record(platform: Platform) -> LogRecord:
    """The ``PositionCreated`` record of the demo's case-management position."""
    (created,) = [
        r
        for r in platform.store.read_log(
            "kreis-steinfurt", "coordination", topics=[get_topic(Position.Created)]
        )
        if json.loads(r.state)["position_type"] == "case_management"
    ]
    return created


def note_position(platform: Platform, tenant: str, fte: str = "1.0") -> UUID:
    """A further case-management position working in ``tenant`` (as coordination's intake
    would note it), supervised by the tenant's own post from 2021-01-01."""
    app = platform.app(CaseManagementApplication, tenant, vault=platform.vault)
    position = uuid4()
    app.note_position(position, Decimal(fte), tenant)
    app.note_supervision(position, post_tenant=tenant, valid_from=date(2021, 1, 1), valid_to=None)
    return position


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    return body


def register_person(
    client: TestClient,
    headers: dict[str, str],
    tenant: str = "rheine",
    *,
    name: str = "Lina S.",
    arrival_on: str = "2022-04-01",
    consent_on: str = "2022-05-01",
) -> UUID:
    """A person with the consent to case management in ``tenant``."""
    url = CM.format(tenant=tenant)
    body = ok(
        client.post(
            f"{url}/people",
            json={"personal_data": {"name": name, "languages": ["uk"], "arrival_on": arrival_on}},
            headers=headers,
        ),
        201,
    )
    person_id = UUID(body["events"][0]["aggregate_id"])
    ok(
        client.post(
            f"{url}/people/{person_id}/consents",
            json={"purpose": "case_management", "recipient": tenant, "given_on": consent_on},
            headers=headers,
        )
    )
    return person_id


def open_case(
    client: TestClient,
    headers: dict[str, str],
    person_id: UUID,
    tenant: str = "rheine",
    opened_on: str = "2022-05-02",
) -> UUID:
    body = ok(
        client.post(
            f"{CM.format(tenant=tenant)}/cases",
            json={
                "person_id": str(person_id),
                "referral_source": "immigration_office",
                "opened_on": opened_on,
            },
            headers=headers,
        ),
        201,
    )
    (case,) = [e for e in body["events"] if e["type"] == "CaseOpened"]
    return UUID(case["aggregate_id"])


def all_cases(app: CaseManagementApplication) -> list[Case]:
    """Every case of the tenant by replaying the log (what the indexes must agree with)."""
    return [
        app.get_case(UUID(str(n.originator_id)))
        for n in app.recorder.select_notifications(
            start=None, limit=1_000_000, topics=[get_topic(Case.Opened)]
        )
    ]
