"""Every auditor query is itself recorded, in the audited tenant's own ``audit`` log."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Recording

from contexts.shared.application import TenantApplication


class AuditQuery(Aggregate):
    """One query of an auditor: who, which view, with which parameters."""

    class Recorded(Aggregate.Created):
        auditor: str
        view: str
        parameters: dict[str, Any]

    @event(Recorded)
    def __init__(self, auditor: str, view: str, parameters: dict[str, Any]) -> None:
        self.auditor = auditor
        self.view = view
        self.parameters = parameters


class AuditApplication(TenantApplication):
    context = "audit"

    def record_query(
        self, *, auditor: str, view: str, parameters: dict[str, Any]
    ) -> list[Recording[UUID]]:
        clean = {k: v if isinstance(v, str | int | bool) or v is None else str(v)
                 for k, v in parameters.items()}  # fmt: skip
        return self.save(AuditQuery(auditor=auditor, view=view, parameters=clean))

    def queries(self, *, after: int = 0, limit: int = 100) -> list[tuple[int, AuditQuery]]:
        """A page of the recorded queries in log order: (position, query), after ``after``."""
        return [
            (n.id, self.load(AuditQuery, UUID(str(n.originator_id)), "audit query"))
            for n in self.recorder.select_notifications(
                start=after, limit=limit, inclusive_of_start=False
            )
        ]
