"""Case management's read side: its projection and the figures computed from its rows.

Pure functions over documents (see ``documents``); no personal data goes in or out. Per
tenant, or summed over a district's towns.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from contexts.case_management.application import CaseManagementApplication
from contexts.shared.application import TenantApplication
from projections.catalogue import ProjectionSpec
from projections.rows import Doc
from runtime.platform import Platform
from runtime.readstore import Row

CASELOAD_TARGET_PER_FTE = 100


@dataclass(frozen=True)
class CaseloadFigure:
    position_id: str
    tenant: str
    fte: Decimal
    open_cases: int

    @property
    def per_fte(self) -> Decimal:
        if not self.fte:
            return Decimal(0)
        return (Decimal(self.open_cases) / self.fte).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class CaseFigures:
    open_cases: int
    closed_cases: int
    by_state: list[tuple[str, int]]
    by_life_dimension: list[tuple[str, int]]
    by_referral_source: list[tuple[str, int]]
    by_closure_reason: list[tuple[str, int]]
    referrals: list[tuple[str, str, int]]  # service, status, count
    caseload: list[CaseloadFigure]
    gaps_reported: int


def case_contribution(kind: str, doc: Doc) -> Counter[str]:
    """What one row adds to its tenant's case-management summary (see ``projection``)."""
    found: Counter[str] = Counter()
    if kind != "Case":
        return found
    state = str(doc["state"])
    found["cases"] += 1
    found[f"state:{state}"] += 1
    found[f"source:{doc['referral_source']}"] += 1
    if state == "closed":
        if doc.get("closure"):
            found[f"closure:{doc['closure'][0]}"] += 1
    else:
        found["open"] += 1
        for dimension in doc.get("needs") or {}:
            found[f"dim:{dimension}"] += 1
        if doc.get("position_id"):
            found[f"pos:{doc['position_id']}"] += 1
    for ref in doc.get("referrals") or []:
        found[f"ref:{ref['service']}:{ref['status']}"] += 1
    found["gaps"] += len(doc.get("gaps") or [])
    return found


def _prefixed(total: Counter[str], prefix: str) -> list[tuple[str, int]]:
    return sorted((k[len(prefix) :], n) for k, n in total.items() if k.startswith(prefix) and n)


def case_figures(summaries: list[Doc], positions: list[Row]) -> CaseFigures:
    """Figures of one tenant or many, from their summary rows and known positions."""
    total: Counter[str] = Counter()
    for summary in summaries:
        total.update({k: int(v) for k, v in summary.items()})
    caseload = [
        CaseloadFigure(
            position_id=r.key,
            tenant=r.tenant,
            fte=Decimal(str(r.doc["fte"])),
            open_cases=total.get(f"pos:{r.key}", 0),
        )
        for r in positions
    ]
    referrals = []
    for key, n in _prefixed(total, "ref:"):
        service, _, status = key.partition(":")
        referrals.append((service, status, n))
    return CaseFigures(
        open_cases=total.get("open", 0),
        closed_cases=total.get("cases", 0) - total.get("open", 0),
        by_state=_prefixed(total, "state:"),
        by_life_dimension=_prefixed(total, "dim:"),
        by_referral_source=_prefixed(total, "source:"),
        by_closure_reason=_prefixed(total, "closure:"),
        referrals=sorted(referrals),
        caseload=sorted(caseload, key=lambda f: (f.tenant, f.position_id)),
        gaps_reported=total.get("gaps", 0),
    )


def _application(platform: Platform, tenant: str) -> TenantApplication:
    return platform.app(CaseManagementApplication, tenant, vault=platform.vault)


PROJECTION = ProjectionSpec("case_management", _application, summarise=case_contribution)
