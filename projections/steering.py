"""The steering context's read side: a row per group, meeting, resolution, working group and
submission, and per-tenant counters (meetings held, resolutions by status, working groups).

No personal data: members are institutions with a role and a pseudonymous representative;
timelines given to working groups carry fresh pseudonyms, codes and dates only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from contexts.shared.application import TenantApplication
from contexts.steering.application import SteeringApplication
from projections.catalogue import ProjectionSpec
from projections.rows import Doc
from runtime.platform import Platform

NAME = "steering"


def steering_contribution(kind: str, doc: Doc) -> Counter[str]:
    """What one row adds to its tenant's summary (see ``projections.projection``)."""
    found: Counter[str] = Counter()
    if kind == "SteeringGroup":
        found["groups"] += 1
    elif kind == "Meeting":
        found["meetings"] += 1
        if doc.get("held_on"):
            found["meetings_held"] += 1
        if doc.get("minutes_approved"):
            found["minutes_approved"] += 1
    elif kind == "Resolution":
        found[f"resolutions:{doc['status']}"] += 1
        for task in doc.get("tasks") or []:
            found["tasks_done" if task.get("done_on") else "tasks_open"] += 1
    elif kind == "WorkingGroup":
        found["working_groups"] += 1
        found["timelines"] += len(doc.get("timelines") or [])
    elif kind == "Submission":
        found["submissions"] += 1
    return found


@dataclass(frozen=True)
class SteeringFigures:
    groups: int
    meetings: int
    meetings_held: int
    minutes_approved: int
    resolutions: list[tuple[str, int]]  # status -> count
    tasks_open: int
    tasks_done: int
    working_groups: int
    timelines: int
    submissions: int


def steering_figures(summaries: list[Doc]) -> SteeringFigures:
    total: Counter[str] = Counter()
    for summary in summaries:
        total.update({k: int(v) for k, v in summary.items()})
    return SteeringFigures(
        groups=total["groups"],
        meetings=total["meetings"],
        meetings_held=total["meetings_held"],
        minutes_approved=total["minutes_approved"],
        resolutions=sorted(
            (k.split(":", 1)[1], n) for k, n in total.items() if k.startswith("resolutions:") and n
        ),
        tasks_open=total["tasks_open"],
        tasks_done=total["tasks_done"],
        working_groups=total["working_groups"],
        timelines=total["timelines"],
        submissions=total["submissions"],
    )


def application(platform: Platform, tenant: str) -> SteeringApplication:
    """The tenant's steering application (its write model; the projection decodes with it);
    it reads the submissions of other tenants' steering logs through its peers."""
    return platform.app(
        SteeringApplication, tenant, peer=lambda other: application(platform, other)
    )


def _application(platform: Platform, tenant: str) -> TenantApplication:
    return application(platform, tenant)


PROJECTION = ProjectionSpec(NAME, _application, summarise=steering_contribution)
