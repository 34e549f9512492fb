"""The steering group (Lenkungsgruppe) and its members.

A member is an institution with a role, voting or advisory, permanent or guest, from/until.
Members may come from other tenants (Rheine's coordination post in Kreis Steinfurt's group).
A member is represented by a pseudonymous token subject or a position id of its home tenant
(``member_tenant``), never by a name: a token of that tenant naming that subject (``sub``)
or position (``position``) acts for the member (see ``access``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from contexts.shared.errors import Conflict, DomainError
from contexts.steering.rules import RulesOfProcedure


@dataclass(frozen=True)
class Member:
    member_id: str
    institution: str
    member_tenant: str
    role: str
    voting: bool
    permanent: bool
    valid_from: str
    valid_until: str | None
    subject: str | None  # the representative's pseudonymous token subject
    position_id: str | None  # or the position they hold

    def active_on(self, day: date) -> bool:
        iso = day.isoformat()
        return self.valid_from <= iso and (self.valid_until is None or iso <= self.valid_until)


def member_of(data: dict[str, Any]) -> Member:
    return Member(**data)


class SteeringGroup(Aggregate):
    class Founded(Aggregate.Created):
        name: str
        founded_on: str
        rules: dict[str, Any]

    class MemberJoined(Aggregate.Event):
        member_id: str
        institution: str
        member_tenant: str
        role: str
        voting: bool
        permanent: bool
        valid_from: str
        valid_until: str | None
        subject: str | None
        position_id: str | None

    class MemberLeft(Aggregate.Event):
        member_id: str
        on: str

    @event(Founded)
    def __init__(self, name: str, founded_on: str, rules: dict[str, Any]) -> None:
        self.name = name
        self.founded_on = founded_on
        self.rules = rules
        self.members: dict[str, dict[str, Any]] = {}

    @property
    def rules_of_procedure(self) -> RulesOfProcedure:
        return RulesOfProcedure.from_data(self.rules)

    def member(self, member_id: str) -> Member:
        found = self.members.get(member_id)
        if found is None:
            raise DomainError(
                "not-a-member", f"{member_id} is not a member of the group", field="member_id"
            )
        return member_of(found)

    def active_members(self, day: date) -> list[Member]:
        return [m for m in map(member_of, self.members.values()) if m.active_on(day)]

    def voting_members(self, day: date) -> list[Member]:
        return [m for m in self.active_members(day) if m.voting]

    def member_tenants(self) -> set[str]:
        return {str(m["member_tenant"]) for m in self.members.values()}

    def join(
        self,
        *,
        institution: str,
        member_tenant: str,
        role: str,
        voting: bool,
        permanent: bool,
        valid_from: date,
        valid_until: date | None,
        subject: str | None,
        position_id: UUID | None,
    ) -> str:
        if (subject is None) == (position_id is None):
            raise DomainError(
                "representative-required",
                "a member is represented by a token subject or a position, one of the two",
                field="subject",
            )
        if valid_until is not None and valid_until < valid_from:
            raise DomainError(
                "invalid-period", "valid_until lies before valid_from", field="valid_until"
            )
        for m in map(member_of, self.members.values()):
            same = m.member_tenant == member_tenant and (
                (subject is not None and m.subject == subject)
                or (position_id is not None and m.position_id == str(position_id))
            )
            if same and m.valid_until is None:
                raise Conflict(
                    "member-exists",
                    "this representative is a member already",
                    member_id=m.member_id,
                )
        member_id = str(uuid4())
        self._join(
            member_id,
            institution,
            member_tenant,
            role,
            voting,
            permanent,
            valid_from.isoformat(),
            valid_until.isoformat() if valid_until else None,
            subject,
            str(position_id) if position_id else None,
        )
        return member_id

    @event(MemberJoined)
    def _join(
        self,
        member_id: str,
        institution: str,
        member_tenant: str,
        role: str,
        voting: bool,
        permanent: bool,
        valid_from: str,
        valid_until: str | None,
        subject: str | None,
        position_id: str | None,
    ) -> None:
        self.members[member_id] = {
            "member_id": member_id,
            "institution": institution,
            "member_tenant": member_tenant,
            "role": role,
            "voting": voting,
            "permanent": permanent,
            "valid_from": valid_from,
            "valid_until": valid_until,
            "subject": subject,
            "position_id": position_id,
        }

    def leave(self, member_id: str, on: date) -> None:
        member = self.member(member_id)
        if member.valid_until is not None and member.valid_until < on.isoformat():
            raise Conflict("member-left", f"{member_id} left the group already")
        if on.isoformat() < member.valid_from:
            raise DomainError("invalid-period", "a member leaves after joining", field="on")
        self._leave(member_id, on.isoformat())

    @event(MemberLeft)
    def _leave(self, member_id: str, on: str) -> None:
        self.members[member_id]["valid_until"] = on


def new_group(name: str, founded_on: date, rules: RulesOfProcedure) -> SteeringGroup:
    return SteeringGroup(name=name, founded_on=founded_on.isoformat(), rules=rules.as_data())


def group_id_of(value: object) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))
