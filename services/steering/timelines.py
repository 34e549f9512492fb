"""Pseudonymised case timelines for a working group ("work on the typical case").

The coordination post of the cases' tenant chooses cases by id; each timeline is built from
the case's row in case management's read model (looked up by key: the cost is that of the
cases chosen, never of the tenant's history) and keeps only codes and dates: the states
with their dates, the needs per life dimension, the referrals (service, status, dates), the
gaps' life dimensions and dates, the closure. No person id, case id, position or free text
leaves: each timeline gets a fresh random pseudonym, so two working groups given the same
case cannot link their timelines, and nobody can link one back to the case.
"""

from __future__ import annotations

import secrets
from typing import Any
from uuid import UUID

from projections.case_management import PROJECTION as CASE_PROJECTION
from runtime.http.problems import Problem
from runtime.http.reads import caught_up_with_heads
from runtime.platform import Platform

REFERRAL_FIELDS = ("service", "status", "referral_only", "proposed_on", "answered_on")


def _pairs(value: Any) -> list[dict[str, Any]]:
    return [{"state": str(s), "on": str(d)} for s, d in value or []]


def timeline_of(doc: dict[str, Any]) -> dict[str, Any]:
    """One case's timeline without anything that identifies the person or the case."""
    closure = doc.get("closure")
    return {
        "pseudonym": f"Fall-{secrets.token_hex(4).upper()}",
        "referral_source": doc.get("referral_source"),
        "opened_on": doc.get("opened_on"),
        "states": _pairs(doc.get("history")),
        "needs": {str(k): str(v) for k, v in (doc.get("needs") or {}).items()},
        "goal_dimensions": sorted(str(k) for k in (doc.get("goals") or {})),
        "referrals": [{f: r.get(f) for f in REFERRAL_FIELDS} for r in doc.get("referrals") or []],
        "gaps": [
            {"life_dimension": g.get("life_dimension"), "reported_on": g.get("on")}
            for g in doc.get("gaps") or []
        ],
        "closure": {"reason": str(closure[0]), "on": str(closure[1])} if closure else None,
    }


def timelines(platform: Platform, case_tenant: str, case_ids: list[UUID]) -> list[dict[str, Any]]:
    """The chosen cases' timelines (404 ``not-found`` for an id that is no case there)."""
    caught_up_with_heads(platform, CASE_PROJECTION.name, "case_management", [case_tenant])
    found = []
    with platform.read.transaction(CASE_PROJECTION.name) as tx:  # reads by key, writes nothing
        for case_id in dict.fromkeys(case_ids):
            doc = tx.get(case_tenant, str(case_id))
            if doc is None or "history" not in doc or "person_id" not in doc:
                raise Problem(404, "not-found", f"case {case_id} not found in {case_tenant}",
                              what="case", key=str(case_id))  # fmt: skip
            found.append(timeline_of(doc))
    return found
