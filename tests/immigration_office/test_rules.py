"""Rule versions by application date: a procedure is judged by the rule valid on the day
its application came in, and the decision keeps the version and figures it applied."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID

import pytest

from contexts.immigration_office import rules
from contexts.immigration_office.application import ImmigrationOfficeApplication
from contexts.immigration_office.rules import RULES, rule_for
from contexts.immigration_office.states import Check, LegalBasis, Level, Step
from contexts.shared.errors import DomainError
from runtime.eventstore.memory import MemoryEventLogStore
from tests.immigration_office.support import office, pass_all, person, procedure

N = LegalBasis.STAG_10


@pytest.mark.parametrize(
    ("applied_on", "years", "version"),
    [
        (date(2023, 5, 2), 8, "stag_10@2008-09-01"),
        (date(2024, 6, 26), 8, "stag_10@2008-09-01"),
        (date(2024, 6, 27), 5, "stag_10@2024-06-27"),
        (date(2025, 3, 1), 5, "stag_10@2024-06-27"),
    ],
)
def test_naturalisation_is_judged_by_the_rule_of_the_application_date(
    applied_on: date, years: int, version: str
) -> None:
    rule = rule_for(N, applied_on)
    assert (rule.residence_years, rule.version, rule.language) == (years, version, Level.B1)


def test_the_fast_track_applies_only_between_the_reform_and_its_removal() -> None:
    assert rule_for(LegalBasis.STAG_10_3, date(2025, 1, 2)).residence_years == 3
    assert rule_for(LegalBasis.STAG_10_3, rules.FAST_TRACK_REMOVED - timedelta(days=1))
    for day in (date(2024, 6, 26), rules.FAST_TRACK_REMOVED, date(2026, 1, 5)):
        with pytest.raises(DomainError) as refused:
            rule_for(LegalBasis.STAG_10_3, day)
        assert refused.value.rule == "rule-not-in-force"


def test_the_rule_data_has_no_overlapping_versions() -> None:
    for basis in LegalBasis:
        versions = sorted((r for r in RULES if r.basis == basis), key=lambda r: r.valid_from)
        assert versions, basis
        for a, b in itertools.pairwise(versions):
            assert a.valid_until is not None
            assert a.valid_until < b.valid_from, (a.version, b.version)


def _decide(
    store: MemoryEventLogStore, applied_on: date
) -> tuple[ImmigrationOfficeApplication, UUID]:
    app = office(store)
    pid = procedure(app, N, person(app, resident_since="2019-03-01"), opened_on=applied_on)
    for step in (Step.RECEIVE_APPLICATION, Step.COMPLETE_DOCUMENTS, Step.START_CHECKS):
        app.take_step(pid, step, on=applied_on)
    pass_all(app, pid, applied_on, Level.B1)
    return app, pid


def test_a_2023_application_is_judged_by_8_years_a_2025_one_by_5() -> None:
    """Resident since March 2019: six years at the decision in June 2025."""
    store = MemoryEventLogStore()
    app, old = _decide(store, date(2023, 5, 2))
    head = store.head("rheine", "immigration_office")
    with pytest.raises(DomainError) as refused:
        app.take_step(old, Step.GRANT, on=date(2025, 6, 2))
    assert refused.value.rule == "rule-not-met"
    assert refused.value.facts == {"unmet": ["residence:8"], "rule_version": "stag_10@2008-09-01"}
    assert store.head("rheine", "immigration_office") == head  # nothing appended
    _, new = _decide(store, date(2025, 3, 3))
    app.take_step(new, Step.GRANT, on=date(2025, 6, 2))
    granted = app.get_procedure(new)
    assert granted.rule is not None
    assert granted.rule["version"] == "stag_10@2024-06-27"
    assert granted.rule["residence_years"] == 5


def test_a_missing_check_or_a_lower_language_level_is_named(
    memory_store: MemoryEventLogStore,
) -> None:
    app = office(memory_store)
    pid = procedure(app, N, person(app, resident_since="2010-01-01"))
    for step in (Step.RECEIVE_APPLICATION, Step.COMPLETE_DOCUMENTS, Step.START_CHECKS):
        app.take_step(pid, step, on=date(2025, 2, 1))
    app.record_check(pid, check=Check.LANGUAGE, passed=True, on=date(2025, 2, 2), level=Level.A2)
    app.record_check(pid, check=Check.TEST, passed=False, on=date(2025, 2, 2))
    with pytest.raises(DomainError) as refused:
        app.take_step(pid, Step.GRANT, on=date(2025, 3, 1))
    unmet = refused.value.facts["unmet"]
    assert "language:B1" in unmet
    assert "test" in unmet
    assert "security_enquiry" in unmet


def test_changing_the_rule_data_later_does_not_change_a_past_decision(
    memory_store: MemoryEventLogStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, pid = _decide(memory_store, date(2025, 3, 3))
    app.take_step(pid, Step.GRANT, on=date(2025, 6, 2))
    changed = tuple(replace(r, residence_years=7) if r.basis == N else r for r in RULES)
    monkeypatch.setattr(rules, "RULES", changed)
    assert rule_for(N, date(2025, 3, 3)).residence_years == 7  # the table did change
    reloaded = office(memory_store).get_procedure(pid)
    assert reloaded.rule is not None
    assert reloaded.rule["residence_years"] == 5
