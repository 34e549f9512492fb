"""What a tenant configures for its case management (one aggregate per tenant).

Target-group window, caseload limit and what happens beyond it, the steps that need the
supervising post's approval, and the retention periods of the deletion concept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from contexts.case_management.domain import ApprovalStep
from contexts.case_management.retention import DataType, RetentionPolicy
from contexts.shared.errors import DomainError

CASELOAD_TARGET_PER_FTE = 100  # the programme's 1:100 per full-time position


class OverLimit(StrEnum):
    REFUSE = "refuse"  # an assignment beyond the limit is refused
    WARN = "warn"  # it is made, with a warning


@dataclass(frozen=True)
class Policy:
    target_group_years: int = 5
    caseload_limit_per_fte: int = 120
    over_limit: OverLimit = OverLimit.REFUSE
    approvals: frozenset[ApprovalStep] = frozenset()
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)

    @property
    def caseload_target_per_fte(self) -> int:
        return CASELOAD_TARGET_PER_FTE

    def needs_approval(self, step: ApprovalStep) -> bool:
        return step in self.approvals


def settings_id(tenant: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"urn:kim:{tenant}:case-management-settings")


def check_policy(
    target_group_years: int, caseload_limit_per_fte: int, retention_years: dict[str, int | None]
) -> None:
    if not 1 <= target_group_years <= 10:
        raise DomainError(
            "target-group-window", "the target-group window is 1 to 10 years",
            field="target_group_years",
        )  # fmt: skip
    if caseload_limit_per_fte < CASELOAD_TARGET_PER_FTE:
        raise DomainError(
            "caseload-limit-below-target",
            f"the limit cannot lie below the target of {CASELOAD_TARGET_PER_FTE} cases per FTE",
            field="caseload_limit_per_fte",
        )
    unknown = sorted(set(retention_years) - {d.value for d in DataType})
    if unknown:
        raise DomainError(
            "unknown-data-type", f"unknown data types: {', '.join(unknown)}",
            field="retention_years",
        )  # fmt: skip
    if retention_years.get(DataType.PERSONAL_DATA.value, 1) is None:
        raise DomainError(
            "personal-data-kept-forever",
            "personal data needs a retention period (DSGVO Art. 5 (1) e)",
            field="retention_years",
        )


class CaseManagementSettings(Aggregate):
    class Configured(Aggregate.Created):
        target_group_years: int
        caseload_limit_per_fte: int
        over_limit: str
        approvals: list[str]
        retention_years: dict[str, int | None]

    class Changed(Aggregate.Event):
        target_group_years: int
        caseload_limit_per_fte: int
        over_limit: str
        approvals: list[str]
        retention_years: dict[str, int | None]

    @event(Configured)
    def __init__(
        self,
        id: UUID,
        target_group_years: int,
        caseload_limit_per_fte: int,
        over_limit: str,
        approvals: list[str],
        retention_years: dict[str, int | None],
    ) -> None:
        self._apply(
            target_group_years, caseload_limit_per_fte, over_limit, approvals, retention_years
        )

    @event(Changed)
    def change(
        self,
        target_group_years: int,
        caseload_limit_per_fte: int,
        over_limit: str,
        approvals: list[str],
        retention_years: dict[str, int | None],
    ) -> None:
        self._apply(
            target_group_years, caseload_limit_per_fte, over_limit, approvals, retention_years
        )

    def _apply(
        self,
        target_group_years: int,
        caseload_limit_per_fte: int,
        over_limit: str,
        approvals: list[str],
        retention_years: dict[str, int | None],
    ) -> None:
        defaults = RetentionPolicy().years
        years = {**defaults, **{DataType(k): v for k, v in retention_years.items()}}
        self.policy = Policy(
            target_group_years=target_group_years,
            caseload_limit_per_fte=caseload_limit_per_fte,
            over_limit=OverLimit(over_limit),
            approvals=frozenset(ApprovalStep(a) for a in approvals),
            retention=RetentionPolicy(years=years),
        )
