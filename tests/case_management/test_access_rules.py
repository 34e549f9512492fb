"""Case management's access rules as pure functions: the caller and the facts, nothing else."""

from __future__ import annotations

from uuid import uuid4

from contexts.case_management.access import (
    Caller,
    case_rows_refusal,
    case_rows_scope,
    reads_case,
    sees_person,
    sees_personal_data,
    supervised_by,
    works_on,
)

POSITION = uuid4()
OTHER = uuid4()
CASE_MANAGER = Caller("rheine", frozenset({"case_manager"}), POSITION)
COLLEAGUE = Caller("rheine", frozenset({"case_manager"}), OTHER)
RHEINE_POST = Caller("rheine", frozenset({"coordinator"}))
DISTRICT_POST = Caller("kreis-steinfurt", frozenset({"district_coordinator"}))
STRANGER = Caller("emsdetten", frozenset({"case_manager"}), POSITION)
AUDITOR = Caller("nrw", frozenset({"auditor"}))


def test_personal_data_is_for_the_assigned_case_manager_and_the_supervising_post() -> None:
    facts = ("rheine", POSITION, "kreis-steinfurt")
    assert sees_personal_data(CASE_MANAGER, *facts)
    assert sees_personal_data(DISTRICT_POST, *facts)
    assert not sees_personal_data(COLLEAGUE, *facts)
    assert not sees_personal_data(RHEINE_POST, *facts)  # Rheine does not supervise it
    assert not sees_personal_data(STRANGER, *facts)  # same position id, other tenant
    assert not sees_personal_data(AUDITOR, *facts)
    assert not sees_personal_data(CASE_MANAGER, "rheine", None, "kreis-steinfurt")


def test_case_facts_are_for_the_tenants_staff_and_the_supervising_post() -> None:
    assert reads_case(COLLEAGUE, "rheine", "kreis-steinfurt")
    assert reads_case(RHEINE_POST, "rheine", "kreis-steinfurt")
    assert reads_case(DISTRICT_POST, "rheine", "kreis-steinfurt")
    assert not reads_case(DISTRICT_POST, "rheine", None)
    assert not reads_case(STRANGER, "rheine", "kreis-steinfurt")


def test_a_person_is_seen_through_a_case_or_by_who_registered_them() -> None:
    assert sees_person(CASE_MANAGER, "rheine", POSITION, [])
    assert not sees_person(COLLEAGUE, "rheine", POSITION, [])
    assert sees_person(COLLEAGUE, "rheine", POSITION, [(OTHER, None)])
    assert sees_person(DISTRICT_POST, "rheine", None, [(POSITION, "kreis-steinfurt")])
    assert not sees_person(STRANGER, "rheine", POSITION, [(POSITION, None)])


def test_only_the_assigned_case_manager_works_on_a_case() -> None:
    assert works_on(CASE_MANAGER, "rheine", POSITION)
    assert not works_on(COLLEAGUE, "rheine", POSITION)
    assert not works_on(STRANGER, "rheine", POSITION)
    assert not works_on(RHEINE_POST, "rheine", POSITION)


def test_case_rows_follow_the_position_the_supervision_or_the_audit() -> None:
    earlier: list[str | None] = ["kreis-steinfurt", "2020-01-01", "2020-12-31"]
    lines: list[tuple[str, list[list[str | None]]]] = [
        (str(POSITION), [["kreis-steinfurt", "2021-01-01", None]]),
        (str(OTHER), [earlier, ["rheine", "2021-01-01", None]]),
    ]
    supervised = supervised_by("kreis-steinfurt", lines, "2022-05-01")
    assert supervised == {str(POSITION)}
    mine = case_rows_scope(CASE_MANAGER, "rheine", audits=False, supervised=supervised)
    assert mine.position_filter() == [str(POSITION)]
    district = case_rows_scope(DISTRICT_POST, "rheine", audits=False, supervised=supervised)
    assert district.position_filter() == [str(POSITION)]  # no unassigned rows of another tenant
    own_post = case_rows_scope(RHEINE_POST, "rheine", audits=False, supervised={str(OTHER)})
    assert own_post.position_filter() == [str(OTHER), None]  # and the cases to assign
    audit = case_rows_scope(AUDITOR, "rheine", audits=True, supervised=set())
    assert audit.position_filter() is None
    assert audit.pseudonymised


def test_case_rows_are_refused_to_everyone_else_with_the_reason() -> None:
    assert case_rows_refusal(CASE_MANAGER, "rheine", audits=False) is None
    assert case_rows_refusal(DISTRICT_POST, "rheine", audits=False) is None
    assert case_rows_refusal(AUDITOR, "rheine", audits=True) is None
    no_claim = Caller("rheine", frozenset({"case_manager"}))
    assert "position claim" in str(case_rows_refusal(no_claim, "rheine", audits=False))
    steering = Caller("rheine", frozenset({"steering_member"}))
    assert case_rows_refusal(steering, "rheine", audits=False) is not None
    assert case_rows_refusal(STRANGER, "rheine", audits=False) is not None
