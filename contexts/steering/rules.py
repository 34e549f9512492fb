"""A steering group's rules of procedure (Geschäftsordnung) as data: quorum, majority, who
votes, how many days ahead the invitation goes out. Pure functions over counts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Quorum(StrEnum):
    MORE_THAN_HALF = "more_than_half"  # mehr als die Hälfte der stimmberechtigten Mitglieder
    AT_LEAST_HALF = "at_least_half"  # mindestens die Hälfte
    TWO_THIRDS = "two_thirds"  # mindestens zwei Drittel


class Majority(StrEnum):
    SIMPLE = "simple"  # einfache Mehrheit der abgegebenen Stimmen
    ABSOLUTE = "absolute"  # mehr als die Hälfte der anwesenden Stimmberechtigten
    TWO_THIRDS = "two_thirds"  # zwei Drittel der abgegebenen Stimmen


class Vote(StrEnum):
    FOR = "for"  # Ja
    AGAINST = "against"  # Nein
    ABSTAIN = "abstain"  # Enthaltung


@dataclass(frozen=True)
class RulesOfProcedure:
    quorum: Quorum = Quorum.MORE_THAN_HALF
    majority: Majority = Majority.SIMPLE
    abstentions_count: bool = False
    """Whether abstentions count as votes cast (commonly not)."""
    invitation_days: int = 7
    """The invitation with the agenda goes out at least this many days before the meeting."""

    def as_data(self) -> dict[str, Any]:
        return {
            "quorum": self.quorum.value,
            "majority": self.majority.value,
            "abstentions_count": self.abstentions_count,
            "invitation_days": self.invitation_days,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> RulesOfProcedure:
        return cls(
            Quorum(data["quorum"]),
            Majority(data["majority"]),
            bool(data["abstentions_count"]),
            int(data["invitation_days"]),
        )

    def quorum_reached(self, voting_members: int, present_voting: int) -> bool:
        if voting_members <= 0:
            return False
        if self.quorum == Quorum.MORE_THAN_HALF:
            return present_voting * 2 > voting_members
        if self.quorum == Quorum.AT_LEAST_HALF:
            return present_voting * 2 >= voting_members
        return present_voting * 3 >= voting_members * 2

    def passes(self, votes_for: int, against: int, abstentions: int, present_voting: int) -> bool:
        cast = votes_for + against + (abstentions if self.abstentions_count else 0)
        if self.majority == Majority.SIMPLE:
            return votes_for * 2 > cast
        if self.majority == Majority.ABSOLUTE:
            return votes_for * 2 > present_voting
        return cast > 0 and votes_for * 3 >= cast * 2
