"""The rules of a case's referrals (Leistungssteuerung): proposed while linking or
monitoring, answered by the recipient, completed with an outcome.

``ReferralRules`` is a mixin of ``Case`` (``domain.py``): its commands check and then call
the case's event-recording methods, which stay with the events in ``domain.py`` (their
topics name that module).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from contexts.case_management.vocabulary import (
    REFERRAL_ONLY,
    REFERRAL_STATES,
    CaseState,
    ReferralStatus,
    Service,
)
from contexts.shared.errors import DomainError


class ReferralRules:
    """The commands of the case's referrals; ``Case`` records their events."""

    if TYPE_CHECKING:  # what ``Case`` provides: its state, its event-recording methods
        state: CaseState
        referrals: list[dict[str, str | bool]]

        def _referral_proposed(
            self, service: str, recipient: str, referral_only: bool, on: str
        ) -> None: ...
        def _referral_answered(self, index: int, accepted: bool, on: str) -> None: ...
        def _referral_completed(self, index: int, outcome: str, on: str) -> None: ...

    # -- referrals (Leistungssteuerung) -----------------------------------------------------
    def propose_referral(self, service: Service, recipient: str, on: date) -> None:
        if self.state not in REFERRAL_STATES:
            raise DomainError(
                "referral-not-in-this-state",
                f"referrals belong to linking and monitoring, the case is in {self.state}",
                field="service",
            )
        self._referral_proposed(
            Service(service).value, recipient, Service(service) in REFERRAL_ONLY, on.isoformat()
        )

    def _referral(self, index: int, expected: ReferralStatus) -> dict[str, str | bool]:
        if not 0 <= index < len(self.referrals):
            raise DomainError(
                "no-such-referral", f"the case has no referral {index}", field="index"
            )
        referral = self.referrals[index]
        if referral["status"] != expected:
            raise DomainError(
                "referral-status",
                f"referral {index} is {referral['status']}, not {expected}",
                field="index",
            )
        return referral

    def answer_referral(self, index: int, accepted: bool, on: date) -> None:
        self._referral(index, ReferralStatus.PROPOSED)
        self._referral_answered(index, accepted, on.isoformat())

    def complete_referral(self, index: int, outcome: str, on: date) -> None:
        """``outcome``: sealed under the person's key."""
        self._referral(index, ReferralStatus.ACCEPTED)
        self._referral_completed(index, outcome, on.isoformat())
