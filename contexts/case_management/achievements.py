"""Recording integration achievements on a case, and sharing them under consent.

A case manager records an achievement on the case (``Case.AchievementRecorded``), whether or
not the person consented to share it. In the same command, and in the same transaction, it
is shared (``IntakeRequest.AchievementShared``, contract ``IntakeRequestAchievementShared``)
on every accepted intake request of the person whose office the person's consent for
``achievements`` covers on that day (recipient: the office's tenant). The requests come from
the index ``intake_of_person`` kept with the events, not from loading every request. Without
that consent, or after its revocation, the achievement is recorded only and nothing
crosses; once consent is given later, ``share_achievement`` (``intake.py``) shares an
achievement recorded earlier, named by the case and its place on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from eventsourcing.persistence import Recording

from contexts.case_management.intake import INTAKE_OF_PERSON, IntakeCommands, IntakeRequest
from contexts.case_management.people import ConsentPurpose


@dataclass(frozen=True)
class Recorded:
    """What recording an achievement appended, and the offices it went to."""

    recordings: list[Recording[UUID]]
    shared_with: list[str]


class AchievementCommands(IntakeCommands):
    """Commands on a case's integration achievements."""

    def accepted_intakes_of(self, person_id: UUID) -> list[IntakeRequest]:
        """The person's accepted intake requests (index ``intake_of_person``), oldest first."""
        members = self.indexes.index_members(INTAKE_OF_PERSON, str(person_id))
        found = [self.get_intake(UUID(m)) for m in members]
        return sorted(
            (r for r in found if r.status == "accepted"), key=lambda r: (r.received_on, str(r.id))
        )

    def record_achievement(
        self, case_id: UUID, *, kind: str, level: str | None, achieved_on: date, on: date,
        expected_version: int | None = None,
    ) -> Recorded:  # fmt: skip
        """Record it on the case; share it where the person's consent allows (one save)."""
        case = self._case(case_id, expected_version)
        case.record_achievement(kind, level, achieved_on, on)
        shared = self.accepted_intakes_of(case.person_id)
        if shared:  # the person's consents are read only where an office referred them
            person = self.get_person(case.person_id)
            shared = [
                r for r in shared if person.consents_to(ConsentPurpose.ACHIEVEMENTS, r.office, on)
            ]
        for request in shared:
            request.share(kind, level, achieved_on, on)
        recordings = self.save(case, *shared)
        return Recorded(recordings, sorted({r.office for r in shared}))
