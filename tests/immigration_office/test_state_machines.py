"""The procedures' state machines: every step from every state, allowed or refused.

Each procedure is brought into a state along a path of allowed steps (with every check
passed, so a grant's rule is met); then every step is tried. An allowed step leads to the
state the table names; every other one is refused with ``transition-not-allowed`` naming the
state and the step, and changes nothing.
"""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from contexts.immigration_office.domain import Procedure
from contexts.immigration_office.rules import rule_for
from contexts.immigration_office.states import (
    KIND_OF,
    TRANSITIONS,
    Check,
    LegalBasis,
    Level,
    State,
    Step,
    allowed,
)
from contexts.shared.errors import DomainError

OPENED, APPLIED = date(2025, 1, 10), date(2025, 1, 20)
CHECKED = LATER = date(2025, 2, 1)
PATHS: dict[State, list[Step]] = {
    State.COUNSELLING: [],
    State.APPLICATION_RECEIVED: [Step.RECEIVE_APPLICATION],
    State.DOCUMENTS_REQUESTED: [Step.RECEIVE_APPLICATION, Step.REQUEST_DOCUMENTS],
    State.DOCUMENTS_COMPLETE: [Step.RECEIVE_APPLICATION, Step.COMPLETE_DOCUMENTS],
    State.CHECKS: [Step.RECEIVE_APPLICATION, Step.COMPLETE_DOCUMENTS, Step.START_CHECKS],
    State.REQUIREMENTS_CHECKED: [Step.RECEIVE_APPLICATION, Step.COMPLETE_REQUIREMENTS_CHECK],
    State.WITHDRAWN: [Step.WITHDRAW],
    State.HANDED_OVER: [Step.HAND_OVER],
}
BEFORE_DECISION = {
    "naturalisation": State.CHECKS,
    "residence_consolidation": State.REQUIREMENTS_CHECKED,
}


def _path(basis: LegalBasis, state: State) -> list[Step]:
    if state in PATHS:
        return PATHS[state]
    decision = PATHS[BEFORE_DECISION[KIND_OF[basis].value]]
    return {
        State.GRANTED: [*decision, Step.GRANT],
        State.REFUSED: [*decision, Step.REFUSE],
        State.CERTIFICATE_HANDED_OVER: [*decision, Step.GRANT, Step.HAND_OVER_CERTIFICATE],
        State.CEREMONY_INVITED: [
            *decision, Step.GRANT, Step.HAND_OVER_CERTIFICATE, Step.INVITE_TO_CEREMONY,
        ],
        State.CONVERTED: [*decision, Step.GRANT, Step.CONVERT],
        State.EXPIRED: [*decision, Step.GRANT, Step.EXPIRE],
    }[state]  # fmt: skip


def take(p: Procedure, step: Step) -> None:
    """One step with what it needs (a grant's rule is the one valid on the application)."""
    rule = rule_for(p.legal_basis, p.applied_on) if p.applied_on else None
    if step == Step.RECEIVE_APPLICATION:
        p.receive_application(APPLIED)
        for check in Check:
            level = Level.C2 if check == Check.LANGUAGE else None
            p.record_check(check, True, APPLIED, level, None)
    elif step == Step.REQUEST_DOCUMENTS:
        p.request_documents(CHECKED, date(2025, 3, 1))
    elif step == Step.COMPLETE_DOCUMENTS:
        p.complete_documents(CHECKED)
    elif step == Step.START_CHECKS:
        p.start_checks(CHECKED)
    elif step == Step.COMPLETE_REQUIREMENTS_CHECK:
        p.complete_requirements_check(CHECKED)
    elif step in (Step.GRANT, Step.REFUSE, Step.CONVERT) and rule is None:
        p.require_step(step)  # refused: no application, so no rule to apply
    elif step == Step.GRANT:
        assert rule is not None
        p.grant(LATER, rule, 20, None)
    elif step == Step.REFUSE:
        assert rule is not None
        p.refuse(LATER, rule, [], None)
    elif step == Step.WITHDRAW:
        p.withdraw(LATER)
    elif step == Step.HAND_OVER_CERTIFICATE:
        p.hand_over_certificate(date(2025, 3, 1))
    elif step == Step.INVITE_TO_CEREMONY:
        p.invite_to_ceremony(date(2025, 3, 2), date(2025, 9, 1))
    elif step == Step.CONVERT:
        p.convert(
            date(2025, 6, 1), rule_for(LegalBasis.AUFENTHG_25B, date(2025, 6, 1)), 20, uuid4()
        )
    elif step == Step.EXPIRE:
        p.expire(date(2030, 1, 1))
    elif step == Step.HAND_OVER:
        p.hand_over("kreis-steinfurt", "emsdetten", uuid4(), None, date(2025, 3, 1), [])


def reach(basis: LegalBasis, state: State) -> Procedure:
    p = Procedure(
        person_id=uuid4(), legal_basis=basis.value, residence="rheine",
        opened_on=OPENED.isoformat(), position_id=None, converted_from=None,
    )  # fmt: skip
    for step in _path(basis, state):
        take(p, step)
    assert p.state == state
    p.collect_events()
    return p


CELLS = [
    (basis, state)
    for basis in LegalBasis
    for state in TRANSITIONS[KIND_OF[basis]]
    if basis == LegalBasis.AUFENTHG_104C or state not in (State.CONVERTED, State.EXPIRED)
]


@pytest.mark.parametrize(("basis", "state"), CELLS, ids=[f"{b}-{s}" for b, s in CELLS])
def test_every_step_from_every_state_is_allowed_or_refused_by_the_table(
    basis: LegalBasis, state: State
) -> None:
    table = allowed(basis, state)
    for step in Step:
        p = reach(basis, state)
        if step in table:
            take(p, step)
            assert p.state == table[step], (basis, state, step)
            assert p.collect_events(), "an allowed step records an event"
        else:
            with pytest.raises(DomainError) as refused:
                take(p, step)
            assert refused.value.rule == "transition-not-allowed", (basis, state, step)
            assert refused.value.status == 409
            assert refused.value.facts["state"] == state.value
            assert refused.value.facts["step"] == step.value
            assert str(state) in refused.value.detail
            assert str(step) in refused.value.detail
            assert p.state == state
            assert p.collect_events() == []


def test_the_tables_cover_each_kind_and_final_states_allow_nothing() -> None:
    finals = {
        State.REFUSED,
        State.WITHDRAWN,
        State.CEREMONY_INVITED,
        State.CONVERTED,
        State.EXPIRED,
        State.HANDED_OVER,
    }
    for kind, table in TRANSITIONS.items():
        for state in finals & set(table):
            assert table[state] == {}, (kind, state)
    assert allowed(LegalBasis.AUFENTHG_25B, State.GRANTED) == {}
    running = {Step.CONVERT, Step.EXPIRE, Step.HAND_OVER}  # a § 104c permit runs
    assert set(allowed(LegalBasis.AUFENTHG_104C, State.GRANTED)) == running
    assert set(allowed(LegalBasis.STAG_10, State.GRANTED)) == {
        Step.HAND_OVER_CERTIFICATE, Step.HAND_OVER,
    }  # fmt: skip
    for kind, table in TRANSITIONS.items():  # a move is handed over from every open state
        for state, steps in table.items():
            assert (Step.HAND_OVER in steps) == bool(steps) == (state not in finals), (kind, state)


def test_a_104c_permit_runs_18_months_and_cannot_expire_before_its_end() -> None:
    p = reach(LegalBasis.AUFENTHG_104C, State.GRANTED)
    assert p.permit_ends_on == date(2026, 7, 31)  # granted 2025-02-01
    assert p.aims_at == LegalBasis.AUFENTHG_25B
    with pytest.raises(DomainError) as refused:
        p.expire(date(2026, 7, 31))
    assert refused.value.rule == "permit-still-running"
    p.expire(date(2026, 8, 1))
    assert p.state == State.EXPIRED
