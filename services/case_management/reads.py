"""The access log of personal data on REST: every endpoint that gives out sealed personal
data (the person record, case notes) calls ``record`` once per request, after the access
check and before the answer goes out.

It records who (subject, roles, position), whose (person id), what (the fields' names, never
their values), why (the purpose, derived from the facts of the request: the case the reader
works on, supervises or has to approve, or the registration) in the ``audit`` log of the
tenant holding the person (``services/audit/trail.py``). A 503 when that fails: no data
without a trace.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from uuid import UUID

from contexts.audit.application import Channel, Purpose, Read
from contexts.case_management import access
from contexts.case_management.domain import Case
from services.audit import trail
from services.case_management.access import CaseWork


def purpose_of_case(work: CaseWork, case: Case, on: date) -> Purpose | None:
    """Why the caller reads the case's personal data: working on it, supervising its
    position (approving, when the case waits for the post's approval); None: neither."""
    if access.works_on(work.caller, work.app.tenant, case.position_id):
        return Purpose.CASE
    if access.supervises(work.caller, work.app.supervising_post(case, on)):
        return Purpose.APPROVAL if case.pending_approval else Purpose.SUPERVISION
    return None


def purpose_of_person(work: CaseWork, person_id: UUID, on: date) -> tuple[Purpose, UUID | None]:
    """The case through which the caller reads the person (their own case work first, then
    supervision), or the registration before any case."""
    cases = [work.app.get_case(c) for c in work.app.get_person(person_id).cases]
    found = [(p, c.id) for c in cases if (p := purpose_of_case(work, c, on)) is not None]
    for wanted in (Purpose.CASE, Purpose.APPROVAL, Purpose.SUPERVISION):
        for purpose, case_id in found:
            if purpose == wanted:
                return purpose, case_id
    return Purpose.REGISTRATION, None


def record(work: CaseWork, reads: Iterable[Read]) -> None:
    """Record this request's reads (one entry per person) before the answer goes out."""
    found = [r for r in reads if r.fields]
    trail.record_reads(work.platform, work.principal, work.app.tenant, found, Channel.REST)


def person_read(work: CaseWork, person_id: UUID, fields: Iterable[str], on: date) -> Read:
    purpose, case_id = purpose_of_person(work, person_id, on)
    return Read(person_id, tuple(sorted(fields)), purpose, case_id)


def case_read(work: CaseWork, case: Case, fields: Iterable[str], on: date) -> Read:
    purpose = purpose_of_case(work, case, on)
    if purpose is None:  # the access check let the caller in: it is one of the above
        raise AssertionError("a personal-data read without a purpose")
    return Read(case.person_id, tuple(sorted(fields)), purpose, case.id)
