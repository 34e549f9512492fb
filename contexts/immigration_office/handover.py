"""A person moves: the procedure is handed over to the office responsible for the new
residence, like a case in case management (``contexts/case_management/transfer.py``).

The origin needs the person's consent (purpose ``hand_over``, recipient the destination's
tenant) and a destination that is the office responsible for the new residence
(``responsibility``); it closes its procedure as ``handed_over`` (contract
``ProcedureHandedOver``: the facts as codes and dates, the personal data sealed under a
one-time key of the destination). The destination recreates the person and the procedure
with ids derived from the origin's, so a redelivery finds them, and destroys that key.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.persistence import Recording

from contexts.immigration_office.domain import Procedure
from contexts.immigration_office.people import HAND_OVER, OfficePerson
from contexts.immigration_office.responsibility import WrongTenant, responsible_office
from contexts.immigration_office.states import Step
from contexts.shared.errors import DomainError

if TYPE_CHECKING:
    from contexts.immigration_office.application import ImmigrationOfficeApplication


def derived_ids(from_tenant: str, from_procedure: UUID, from_person: str) -> tuple[UUID, UUID]:
    """The destination's procedure and person ids for an origin's procedure and person."""
    base = f"urn:kim:office-hand-over:{from_tenant}"
    return (
        uuid5(NAMESPACE_URL, f"{base}:{from_procedure}:procedure"),
        uuid5(NAMESPACE_URL, f"{base}:{from_person}:person"),
    )


def hand_over(
    app: ImmigrationOfficeApplication,
    procedure_id: UUID,
    *,
    to_tenant: str,
    residence: str,
    on: date,
    expected_version: int | None = None,
) -> list[Recording[UUID]]:
    """The origin's part; refused (nothing appended) from a final state, to a tenant whose
    office is not responsible for ``residence`` (naming the one that is), without consent."""
    p = app.load_expecting(Procedure, procedure_id, "procedure", expected_version)
    p.require_step(Step.HAND_OVER)
    responsible = responsible_office(app.directory(), residence)
    if responsible == app.tenant:
        raise DomainError(
            "hand-over-to-self",
            f"the office of {app.tenant} stays responsible for {residence}",
            field="residence",
        )
    if to_tenant != responsible:
        raise WrongTenant(to_tenant, responsible, residence)
    if not app.get_person(p.person_id).consents_to(HAND_OVER, to_tenant, on):
        raise DomainError(
            "consent-missing",
            f"no valid consent to a hand-over to {to_tenant}'s office on {on}",
            field="to_tenant",
            purpose=HAND_OVER,
            recipient=to_tenant,
        )
    transfer_id = uuid4()
    data = app.personal_data(p.person_id)
    sealed = app.vault.seal(to_tenant, transfer_id, data) if data else None
    p.hand_over(to_tenant, residence, transfer_id, sealed, on, app.open_requirements(p))
    return app.save(p)


def take_over(
    app: ImmigrationOfficeApplication,
    *,
    from_tenant: str,
    from_procedure: UUID,
    transfer_id: UUID,
    residence: str,
    facts: dict[str, Any],
    sealed: str | None,
    on: date,
) -> bool:
    """The destination's part (False: taken over already); the one-time key is destroyed
    afterwards either way."""
    procedure_id, person_id = derived_ids(from_tenant, from_procedure, str(facts["person_id"]))
    if procedure_id in app.repository:
        app.vault.erase(app.tenant, transfer_id)
        return False
    if person_id in app.repository:
        person = app.get_person(person_id)
    else:
        data = (app.vault.open(app.tenant, transfer_id, sealed) or {}) if sealed else {}
        person = OfficePerson(
            id=person_id, sealed=app.vault.seal(app.tenant, person_id, data), registered_by=None
        )
    p = Procedure._create(
        Procedure.Opened,
        id=procedure_id,
        person_id=person_id,
        legal_basis=str(facts["legal_basis"]),
        residence=residence,
        opened_on=str(facts["opened_on"]),
        position_id=None,
        converted_from=None,
    )
    p.take_over(from_tenant, from_procedure, facts, on)
    person.link_procedure(p.id)
    app.save(p, person)
    app.vault.erase(app.tenant, transfer_id)
    return True
