"""Aggregates of the coordination context."""

from __future__ import annotations

from enum import StrEnum

from eventsourcing.domain import Aggregate, event

from contexts.shared.errors import DomainError
from contexts.shared.personal_data import check_no_personal_data


class OrganisationKind(StrEnum):
    WELFARE_PROVIDER = "welfare_provider"  # freier Träger der Wohlfahrtspflege
    OFFICE = "office"  # Behörde / Amt
    COORDINATION_POST = "coordination_post"  # Koordinierende Stelle


class OfficeType(StrEnum):
    JOB_CENTRE = "job_centre"  # Jobcenter
    EMPLOYMENT_AGENCY = "employment_agency"  # Agentur für Arbeit
    IMMIGRATION_OFFICE = "immigration_office"  # Ausländerbehörde
    SOCIAL_WELFARE_OFFICE = "social_welfare_office"  # Sozialamt
    YOUTH_OFFICE = "youth_office"  # Jugendamt


def check_name(name: str) -> str:
    """An organisation's name. It is public and may be a person's (a practice, a
    foundation), so only contact details are refused (``personal-data-in-text``)."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise DomainError("name-required", "an organisation needs a name", field="name")
    return check_no_personal_data(cleaned, "name", kinds={"phone", "email"})


class Organisation(Aggregate):
    """A welfare provider, an office or a coordination post working in a tenant's area."""

    class Registered(Aggregate.Created):
        name: str
        kind: str
        office_type: str | None

    class Renamed(Aggregate.Event):
        name: str

    class Closed(Aggregate.Event):
        pass

    @event(Registered)
    def __init__(self, name: str, kind: str, office_type: str | None) -> None:
        if kind == OrganisationKind.OFFICE and office_type is None:
            raise DomainError(
                "office-type-required", "an office needs its office type", field="office_type"
            )
        if kind != OrganisationKind.OFFICE and office_type is not None:
            raise DomainError(
                "office-type-only-for-offices",
                f"a {kind} has no office type",
                field="office_type",
            )
        self.name = name
        self.kind = OrganisationKind(kind)
        self.office_type = OfficeType(office_type) if office_type else None
        self.active = True

    @event(Renamed)
    def rename(self, name: str) -> None:
        self.name = name

    def close(self) -> None:
        if not self.active:
            raise DomainError("organisation-closed", f"{self.name} is already closed")
        self._close()

    @event(Closed)
    def _close(self) -> None:
        self.active = False
