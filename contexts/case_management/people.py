"""The person record: pseudonymous id, sealed personal data, consents, erasure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from contexts.shared.errors import DomainError


class ConsentPurpose(StrEnum):
    CASE_MANAGEMENT = "case_management"  # Einwilligung in die Fallbearbeitung
    REFERRAL = "referral"  # Weitergabe an einen Dienst (Verweisung)
    DATA_HANDOVER = "data_handover"  # Datenübergabe, z. B. bei Umzug
    TRANSFER = "transfer"  # Übergabe des Falls an einen anderen Mandanten
    ACHIEVEMENTS = "achievements"  # Integrationsleistungen an die Ausländerbehörde


class Programme(StrEnum):
    """Other federal and state programmes a person may take part in."""

    MBE = "mbe"  # Migrationsberatung für erwachsene Zuwanderer (Bund)
    JMD = "jmd"  # Jugendmigrationsdienste (Bund)
    GEMEINSAM_KLAPPTS = "gemeinsam_klappts"  # "Gemeinsam klappt's" (Land NRW)
    DURCHSTARTEN = "durchstarten"  # "Durchstarten in Ausbildung und Arbeit" (Land NRW)
    SGB2_CASE_MANAGEMENT = "sgb2_case_management"  # Fallmanagement im Jobcenter


@dataclass(frozen=True)
class Participation:
    programme: Programme
    start: date
    end: date | None

    def active_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Consent:
    purpose: ConsentPurpose
    recipient: str
    given_on: date
    expires_on: date | None
    revoked_on: date | None = None

    def valid_on(self, day: date) -> bool:
        return (
            self.given_on <= day
            and (self.expires_on is None or day <= self.expires_on)
            and (self.revoked_on is None or day < self.revoked_on)
        )


CONSENT_EXPIRY = "consent_expiry"
"""Index of people by the end dates of their consents (keys: ISO dates), kept with events."""
CASES_CLOSED_SINCE = "cases_closed_since"
"""Index of people whose cases are all closed, by the date the last one closed (retention)."""
REGISTERED_WITHOUT_CASE = "registered_without_case"
"""Index of people who never had a case, by the day they were registered (retention)."""


class Person(Aggregate):
    """A migrant in case management. Events hold the sealed text, never the data itself."""

    class Registered(Aggregate.Created):
        sealed: str  # name, birth date, contact, languages, nationality, status, arrival
        registered_by: UUID | None  # the case-management position that registered the person

    class CaseLinked(Aggregate.Event):
        case_id: UUID

    class CaseClosed(Aggregate.Event):
        """One of the person's cases closed (for retention: counted from the last closure)."""

        case_id: UUID
        on: str

    class DataCorrected(Aggregate.Event):
        sealed: str

    class ConsentGiven(Aggregate.Event):
        purpose: str
        recipient: str
        given_on: str
        expires_on: str | None

    class ConsentRevoked(Aggregate.Event):
        purpose: str
        recipient: str
        revoked_on: str

    class Erased(Aggregate.Event):
        on: str

    class ParticipationRecorded(Aggregate.Event):
        programme: str
        start: str
        end: str | None

    @event(Registered)
    def __init__(self, id: UUID, sealed: str, registered_by: UUID | None) -> None:
        self.sealed = sealed
        self.registered_by = registered_by
        self.cases: list[UUID] = []
        self.consents: list[Consent] = []
        self.erased_on: date | None = None
        self.participations: list[Participation] = []
        self.closed: dict[UUID, date] = {}

    def _check_not_erased(self) -> None:
        if self.erased_on is not None:
            raise DomainError("person-erased", f"the person was erased on {self.erased_on}")

    @event(CaseLinked)
    def link_case(self, case_id: UUID) -> None:
        self.cases.append(case_id)

    def note_case_closed(self, case_id: UUID, on: date) -> None:
        """Record that one of the person's cases closed (idempotent)."""
        if case_id not in self.closed:
            self._case_closed(case_id, on.isoformat())

    @event(CaseClosed)
    def _case_closed(self, case_id: UUID, on: str) -> None:
        self.closed[case_id] = date.fromisoformat(on)

    @property
    def last_closure(self) -> date | None:
        """When the last of the person's cases closed; None while one is open (or none)."""
        if not self.cases or any(c not in self.closed for c in self.cases):
            return None
        return max(self.closed[c] for c in self.cases)

    def correct(self, sealed: str) -> None:
        self._check_not_erased()
        self._corrected(sealed)

    @event(DataCorrected)
    def _corrected(self, sealed: str) -> None:
        self.sealed = sealed

    def give_consent(
        self, purpose: ConsentPurpose, recipient: str, given_on: date, expires_on: date | None
    ) -> None:
        self._check_not_erased()
        if expires_on is not None and expires_on < given_on:
            raise DomainError(
                "consent-expires-before-given", "a consent cannot expire before it is given",
                field="expires_on",
            )  # fmt: skip
        self._consent_given(
            ConsentPurpose(purpose).value, recipient, given_on.isoformat(),
            expires_on.isoformat() if expires_on else None,
        )  # fmt: skip

    @event(ConsentGiven)
    def _consent_given(
        self, purpose: str, recipient: str, given_on: str, expires_on: str | None
    ) -> None:
        self.consents.append(
            Consent(
                ConsentPurpose(purpose),
                recipient,
                date.fromisoformat(given_on),
                date.fromisoformat(expires_on) if expires_on else None,
            )
        )

    def revoke_consent(self, purpose: ConsentPurpose, recipient: str, revoked_on: date) -> None:
        if not any(
            c.purpose == purpose and c.recipient == recipient and c.revoked_on is None
            for c in self.consents
        ):
            raise DomainError(
                "no-such-consent", f"no consent for {purpose} to {recipient} to revoke",
                field="recipient",
            )  # fmt: skip
        self._consent_revoked(ConsentPurpose(purpose).value, recipient, revoked_on.isoformat())

    @event(ConsentRevoked)
    def _consent_revoked(self, purpose: str, recipient: str, revoked_on: str) -> None:
        self.consents = [
            Consent(
                c.purpose, c.recipient, c.given_on, c.expires_on, date.fromisoformat(revoked_on)
            )
            if c.purpose == purpose and c.recipient == recipient and c.revoked_on is None
            else c
            for c in self.consents
        ]

    def consents_to(self, purpose: ConsentPurpose, recipient: str, on: date) -> bool:
        return any(
            c.purpose == purpose and c.recipient == recipient and c.valid_on(on)
            for c in self.consents
        )

    def require_consent(self, purpose: ConsentPurpose, recipient: str, on: date) -> None:
        """Refuse a referral or hand-over without a valid consent."""
        if not self.consents_to(purpose, recipient, on):
            raise DomainError(
                "consent-missing",
                f"no valid consent for {purpose} to {recipient} on {on}",
                field="recipient",
                purpose=str(purpose),
                recipient=recipient,
            )

    def erase(self, on: date) -> None:
        self._check_not_erased()
        self._erased(on.isoformat())

    @event(Erased)
    def _erased(self, on: str) -> None:
        self.erased_on = date.fromisoformat(on)

    def record_participation(self, programme: Programme, start: date, end: date | None) -> None:
        self._check_not_erased()
        if end is not None and end < start:
            raise DomainError(
                "period-ends-before-start", "the participation ends before it starts", field="end"
            )
        self._participation(
            Programme(programme).value, start.isoformat(), end.isoformat() if end else None
        )

    @event(ParticipationRecorded)
    def _participation(self, programme: str, start: str, end: str | None) -> None:
        self.participations.append(
            Participation(
                Programme(programme),
                date.fromisoformat(start),
                date.fromisoformat(end) if end else None,
            )
        )

    def programmes_on(self, day: date) -> list[Programme]:
        return sorted({p.programme for p in self.participations if p.active_on(day)})

    @property
    def registered_on(self) -> date:
        """The day the person was registered (the UTC day ``PersonRegistered`` was recorded)."""
        return self.created_on.date()

    # -- index entries (contexts/shared/indexes.py) -----------------------------------------
    def index_entries(self) -> frozenset[tuple[str, str]]:
        """Until erasure: each consent with an end and not revoked, by its end date; once
        all the person's cases are closed, the date the last one closed; and while the person
        has no case at all, the day they were registered (retention counts from it)."""
        if self.erased_on is not None:
            return frozenset()
        entries = {
            (CONSENT_EXPIRY, c.expires_on.isoformat())
            for c in self.consents
            if c.expires_on is not None and c.revoked_on is None
        }
        if (closed := self.last_closure) is not None:
            entries.add((CASES_CLOSED_SINCE, closed.isoformat()))
        if not self.cases:
            entries.add((REGISTERED_WITHOUT_CASE, self.registered_on.isoformat()))
        return frozenset(entries)
