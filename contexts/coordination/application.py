"""Command and query methods of the coordination context, one tenant at a time."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import Recording

from contexts.coordination.domain import OfficeType, Organisation, OrganisationKind, check_name
from contexts.shared.application import TenantApplication


class CoordinationApplication(TenantApplication):
    context = "coordination"

    def register_organisation(
        self, name: str, kind: OrganisationKind, office_type: OfficeType | None = None
    ) -> list[Recording[UUID]]:
        return self.save(Organisation(name=check_name(name), kind=kind, office_type=office_type))

    def rename_organisation(
        self, organisation_id: UUID, name: str, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        org = self.load_expecting(Organisation, organisation_id, "organisation", expected_version)
        org.rename(check_name(name))
        return self.save(org)

    def close_organisation(
        self, organisation_id: UUID, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        org = self.load_expecting(Organisation, organisation_id, "organisation", expected_version)
        org.close()
        return self.save(org)

    def get_organisation(self, organisation_id: UUID) -> Organisation:
        return self.load(Organisation, organisation_id, "organisation")
