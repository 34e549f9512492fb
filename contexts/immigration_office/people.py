"""The person known to the office, and the date arithmetic the procedures share."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from contexts.shared.errors import Conflict, DomainError

REFERRAL = "referral"
"""The purpose of the office's consents: a referral to a tenant's case management."""
HAND_OVER = "hand_over"
"""The purpose of a consent to hand a procedure over to another tenant's office (a move)."""
PURPOSES = (REFERRAL, HAND_OVER)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def years_between(earlier: date, later: date) -> int:
    return later.year - earlier.year - ((later.month, later.day) < (earlier.month, earlier.day))


class OfficePerson(Aggregate):
    """A person the office has a procedure with: a pseudonymous id, data sealed."""

    class Registered(Aggregate.Created):
        sealed: str  # name, date of birth, nationality, resident since (minimum data)
        registered_by: UUID | None

    class ProcedureLinked(Aggregate.Event):
        procedure_id: UUID

    class Erased(Aggregate.Event):
        on: str

    class ConsentGiven(Aggregate.Event):
        """The person's consent to a referral to ``recipient``'s case management."""

        purpose: str
        recipient: str
        given_on: str
        expires_on: str | None

    class ConsentRevoked(Aggregate.Event):
        purpose: str
        recipient: str
        revoked_on: str

    @event(Registered)
    def __init__(self, id: UUID, sealed: str, registered_by: UUID | None) -> None:
        self.sealed = sealed
        self.registered_by = registered_by
        self.procedures: list[UUID] = []
        self.erased_on: date | None = None
        self.consents: list[dict[str, str | None]] = []

    @event(ProcedureLinked)
    def link_procedure(self, procedure_id: UUID) -> None:
        self.procedures.append(procedure_id)

    def erase(self, on: date) -> None:
        if self.erased_on is not None:
            raise Conflict("person-erased", f"the person was erased on {self.erased_on}")
        self._erased(on.isoformat())

    @event(Erased)
    def _erased(self, on: str) -> None:
        self.erased_on = date.fromisoformat(on)

    def give_consent(
        self, recipient: str, given_on: date, expires_on: date | None, purpose: str = REFERRAL
    ) -> None:
        if purpose not in PURPOSES:
            raise DomainError("unknown-purpose", f"no consent purpose {purpose}", field="purpose")
        if self.erased_on is not None:
            raise Conflict("person-erased", f"the person was erased on {self.erased_on}")
        if expires_on is not None and expires_on < given_on:
            raise DomainError("consent-expires-before-given", "a consent cannot expire before"
                              " it is given", field="expires_on")  # fmt: skip
        self._consent_given(
            purpose,
            recipient,
            given_on.isoformat(),
            expires_on.isoformat() if expires_on else None,
        )

    @event(ConsentGiven)
    def _consent_given(
        self, purpose: str, recipient: str, given_on: str, expires_on: str | None
    ) -> None:
        self.consents.append({"purpose": purpose, "recipient": recipient, "given_on": given_on,
                              "expires_on": expires_on, "revoked_on": None})  # fmt: skip

    def revoke_consent(self, recipient: str, revoked_on: date, purpose: str = REFERRAL) -> None:
        if not any(c["recipient"] == recipient and c["revoked_on"] is None
                   and c["purpose"] == purpose for c in self.consents):  # fmt: skip
            raise DomainError("no-such-consent", f"no consent ({purpose}) to {recipient}",
                              field="recipient")  # fmt: skip
        self._consent_revoked(purpose, recipient, revoked_on.isoformat())

    @event(ConsentRevoked)
    def _consent_revoked(self, purpose: str, recipient: str, revoked_on: str) -> None:
        for c in self.consents:
            if c["recipient"] == recipient and c["revoked_on"] is None and c["purpose"] == purpose:
                c["revoked_on"] = revoked_on

    def consents_to_referral(self, recipient: str, on: date) -> bool:
        return self.consents_to(REFERRAL, recipient, on)

    def consents_to(self, purpose: str, recipient: str, on: date) -> bool:
        """A valid consent for ``purpose`` to ``recipient`` on the day ``on``."""
        day = on.isoformat()
        return any(
            c["purpose"] == purpose
            and c["recipient"] == recipient
            and str(c["given_on"]) <= day
            and (c["expires_on"] is None or day <= str(c["expires_on"]))
            and (c["revoked_on"] is None or day < str(c["revoked_on"]))
            for c in self.consents
        )
