"""Positions, supervision lines, access to personal data, assignment and caseload."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.persistence import Recording

from contexts.case_management import access
from contexts.case_management.access import Caller, Supervisor
from contexts.case_management.base import CaseManagementBase
from contexts.case_management.domain import OPEN_CASES_OF_POSITION, Case, KnownPosition
from contexts.case_management.settings import OverLimit, Policy
from contexts.shared.errors import DomainError
from contexts.shared.indexes import IndexBound


class PositionCommands(CaseManagementBase):
    def supervising_post(self, case: Case, on: date) -> Supervisor | None:
        """Who supervises the case's position on ``on``: the post and, where coordination's
        line names one, the supervising coordination position."""
        if case.position_id is None or case.position_id not in self.repository:
            return None
        return self.load(KnownPosition, case.position_id, "position").supervisor_on(on)

    @property
    def caseload_target_per_fte(self) -> int:
        return self.policy().caseload_target_per_fte

    @property
    def caseload_limit_per_fte(self) -> int:
        return self.policy().caseload_limit_per_fte

    def note_position(
        self, position_id: UUID, fte: Decimal, work_tenant: str
    ) -> list[Recording[UUID]]:
        """Record a position coordination published, idempotently (its id is the position's)."""
        if position_id in self.repository:
            return []
        return self.save(KnownPosition(id=position_id, fte=str(fte), work_tenant=work_tenant))

    def note_supervision(
        self,
        position_id: UUID,
        *,
        post_tenant: str,
        valid_from: date | None,
        valid_to: date | None,
        supervisor_position_id: UUID | None = None,
    ) -> list[Recording[UUID]]:
        """Mirror coordination's supervision line (Fachaufsicht) of a known position, with
        the supervising coordination position where the line names one.

        Idempotent: a line already noted, or an end with no open line, changes nothing.
        """
        position = self.load(KnownPosition, position_id, "position")
        lines = position.supervision
        if valid_from is not None and not any(
            line.post == post_tenant and line.valid_from == valid_from for line in lines
        ):
            position.note_supervision(post_tenant, valid_from.isoformat(), supervisor_position_id)
        if valid_to is not None and any(line.valid_to is None for line in position.supervision):
            position.note_supervision_end(valid_to.isoformat())
        return self.save(position)

    def may_see_personal_data(
        self, *, tenant: str, roles: set[str], position: UUID | None, case_id: UUID, on: date
    ) -> bool:
        """Only the case manager of the assigned position and its supervisor on the day."""
        case = self.get_case(case_id)
        caller = Caller(tenant, frozenset(roles), position)
        return access.sees_personal_data(
            caller, self.tenant, case.position_id, self.supervising_post(case, on)
        )

    def may_see_person(
        self, *, tenant: str, roles: set[str], position: UUID | None, person_id: UUID, on: date
    ) -> bool:
        """Whoever may see one of the person's cases; before any case, who registered them."""
        person = self.get_person(person_id)
        caller = Caller(tenant, frozenset(roles), position)

        def facts() -> Iterator[tuple[UUID | None, Supervisor | None]]:
            for case_id in person.cases:
                case = self.get_case(case_id)
                yield case.position_id, self.supervising_post(case, on)

        return access.sees_person(caller, self.tenant, person.registered_by, facts())

    def open_cases_of(self, position_id: UUID) -> int:
        """Open cases assigned to the position, from the index kept with the events."""
        return self.indexes.index_count(OPEN_CASES_OF_POSITION, str(position_id))

    def caseload(self, position_id: UUID) -> tuple[int, Decimal]:
        """Open cases assigned to the position, and open cases per full-time equivalent."""
        position = self.load(KnownPosition, position_id, "position")
        open_cases = self.open_cases_of(position_id)
        per_fte = (Decimal(open_cases) / position.fte).quantize(Decimal("0.1"))
        return open_cases, per_fte

    def caseload_bound(self, position_id: UUID, policy: Policy) -> list[IndexBound]:
        """The limit as a bound checked in the append's transaction (tenants that refuse).

        The check before the command reads the count; this bound holds it against a
        concurrent assignment to the same position (one of the two gets a 409).
        """
        if policy.over_limit != OverLimit.REFUSE:
            return []
        position = self.load(KnownPosition, position_id, "position")
        at_most = int(Decimal(policy.caseload_limit_per_fte) * position.fte)
        return [
            IndexBound(
                OPEN_CASES_OF_POSITION,
                str(position_id),
                at_most,
                rule="caseload-limit",
                detail="a concurrent assignment reached the position's caseload limit first",
            )
        ]

    def _check_caseload(self, position_id: UUID, policy: Policy) -> str | None:
        position = self.load(KnownPosition, position_id, "position")
        if position.work_tenant != self.tenant:
            raise DomainError(
                "position-works-elsewhere",
                f"the position works in {position.work_tenant}, not in {self.tenant}",
                field="position_id",
            )
        open_cases, _ = self.caseload(position_id)
        after = Decimal(open_cases + 1) / position.fte
        if after > policy.caseload_limit_per_fte:
            if policy.over_limit == OverLimit.REFUSE:
                raise DomainError(
                    "caseload-limit",
                    f"the position would carry {after:.1f} cases per FTE, above the limit of"
                    f" {policy.caseload_limit_per_fte}",
                    field="position_id",
                    cases_per_fte=f"{after:.1f}",
                    limit=policy.caseload_limit_per_fte,
                )
            return (
                f"caseload {after:.1f} per FTE is above the limit of"
                f" {policy.caseload_limit_per_fte}"
            )
        if after > policy.caseload_target_per_fte:
            return (
                f"caseload {after:.1f} per FTE is above the target of"
                f" {policy.caseload_target_per_fte}"
            )
        return None

    def caseload_warning(self, position_id: UUID) -> str | None:
        """The warning an assignment to the position would carry now (None: none)."""
        return self._check_caseload(position_id, self.policy())

    def assign_case(
        self,
        case_id: UUID,
        *,
        position_id: UUID,
        on: date,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        """Assign a case to a position; refused beyond the limit when the tenant says so."""
        case = self._case(case_id, expected_version)
        if case.position_id == position_id:
            raise DomainError(
                "already-assigned", "the case is already assigned to this position",
                field="position_id",
            )  # fmt: skip
        policy = self.policy()
        self._check_caseload(position_id, policy)
        case.assign(position_id, on)
        return self.save(case, bounds=self.caseload_bound(position_id, policy))
