"""Case management's access rules as pure functions: the caller and the facts, nothing else."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from contexts.case_management.access import (
    Caller,
    Supervisor,
    assigns_case,
    case_rows_refusal,
    case_rows_scope,
    is_supervisor,
    reads_case,
    sees_person,
    sees_personal_data,
    supervised_by,
    supervises,
    works_on,
)

POSITION = uuid4()
OTHER = uuid4()
RHEINE_COORDINATION = uuid4()  # Rheine's coordination position ("Koordinierungsstelle")
KS = Supervisor("kreis-steinfurt")  # a line without a position: every coordinator of the post
RHEINE_LINE = Supervisor("rheine", RHEINE_COORDINATION)  # a line from Rheine's position
CASE_MANAGER = Caller("rheine", frozenset({"case_manager"}), POSITION)
COLLEAGUE = Caller("rheine", frozenset({"case_manager"}), OTHER)
RHEINE_POST = Caller("rheine", frozenset({"coordinator"}))
RHEINE_SUPERVISOR = Caller("rheine", frozenset({"coordinator"}), RHEINE_COORDINATION)
RHEINE_OTHER_COORDINATOR = Caller("rheine", frozenset({"coordinator"}), uuid4())
DISTRICT_POST = Caller("kreis-steinfurt", frozenset({"district_coordinator"}))
STRANGER = Caller("emsdetten", frozenset({"case_manager"}), POSITION)
AUDITOR = Caller("nrw", frozenset({"auditor"}))


def test_personal_data_is_for_the_assigned_case_manager_and_the_supervising_post() -> None:
    facts = ("rheine", POSITION, KS)
    assert sees_personal_data(CASE_MANAGER, *facts)
    assert sees_personal_data(DISTRICT_POST, *facts)
    assert not sees_personal_data(COLLEAGUE, *facts)
    assert not sees_personal_data(RHEINE_POST, *facts)  # Rheine does not supervise it
    assert not sees_personal_data(STRANGER, *facts)  # same position id, other tenant
    assert not sees_personal_data(AUDITOR, *facts)
    assert not sees_personal_data(CASE_MANAGER, "rheine", None, KS)


def test_personal_data_follows_the_line_to_the_supervising_coordination_position() -> None:
    facts = ("rheine", POSITION, RHEINE_LINE)
    assert sees_personal_data(RHEINE_SUPERVISOR, *facts)
    assert sees_personal_data(CASE_MANAGER, *facts)
    assert not sees_personal_data(RHEINE_POST, *facts)  # the post, without the position claim
    assert not sees_personal_data(RHEINE_OTHER_COORDINATOR, *facts)  # another coordinator
    assert not sees_personal_data(DISTRICT_POST, *facts)
    # The claim alone is not enough: the post's tenant and a coordinator's role are, too.
    elsewhere = Caller("emsdetten", frozenset({"coordinator"}), RHEINE_COORDINATION)
    as_case_manager = Caller("rheine", frozenset({"case_manager"}), RHEINE_COORDINATION)
    assert not sees_personal_data(elsewhere, *facts)
    assert not sees_personal_data(as_case_manager, *facts)
    # A line without a position (stored before lines named one): every coordinator of the post.
    assert sees_personal_data(RHEINE_POST, "rheine", POSITION, Supervisor("rheine"))
    assert sees_personal_data(RHEINE_OTHER_COORDINATOR, "rheine", POSITION, Supervisor("rheine"))


def test_the_supervisor_decides_with_the_position_the_line_names() -> None:
    assert is_supervisor(RHEINE_LINE, "rheine", RHEINE_COORDINATION)
    assert not is_supervisor(RHEINE_LINE, "rheine", None)
    assert not is_supervisor(RHEINE_LINE, "kreis-steinfurt", RHEINE_COORDINATION)
    assert is_supervisor(KS, "kreis-steinfurt", None)
    assert is_supervisor(KS, "kreis-steinfurt", uuid4())
    assert not is_supervisor(None, "rheine", RHEINE_COORDINATION)
    assert supervises(RHEINE_SUPERVISOR, RHEINE_LINE)
    assert not supervises(RHEINE_POST, RHEINE_LINE)


def test_case_facts_are_for_the_assigned_position_and_its_supervising_post() -> None:
    facts = ("rheine", POSITION, KS)
    assert reads_case(CASE_MANAGER, *facts)
    assert reads_case(DISTRICT_POST, *facts)
    assert not reads_case(COLLEAGUE, *facts)  # need to know: another position's case
    assert not reads_case(RHEINE_POST, *facts)  # Rheine's post does not supervise it
    assert not reads_case(DISTRICT_POST, "rheine", POSITION, None)
    assert not reads_case(STRANGER, *facts)
    # Rheine's line names its coordination position: that coordinator only.
    assert reads_case(RHEINE_SUPERVISOR, "rheine", POSITION, RHEINE_LINE)
    assert not reads_case(RHEINE_OTHER_COORDINATOR, "rheine", POSITION, RHEINE_LINE)
    # Another tenant's coordinator reads the facts through the line only with its position.
    district_line = Supervisor("kreis-steinfurt", RHEINE_COORDINATION)
    assert not reads_case(DISTRICT_POST, "rheine", POSITION, district_line)
    with_claim = Caller("kreis-steinfurt", frozenset({"coordinator"}), RHEINE_COORDINATION)
    assert reads_case(with_claim, "rheine", POSITION, district_line)


def test_an_unassigned_case_is_for_its_tenants_coordinators_until_they_assign_it() -> None:
    """A case taken over from another tenant arrives unassigned: no case manager reads or
    takes it; the coordinators of its tenant read and assign it."""
    for coordinator in [RHEINE_POST, RHEINE_SUPERVISOR, RHEINE_OTHER_COORDINATOR]:
        assert reads_case(coordinator, "rheine", None, None)
        assert assigns_case(coordinator, "rheine", None, None)
    for other in [CASE_MANAGER, COLLEAGUE, DISTRICT_POST, STRANGER, AUDITOR]:
        assert not reads_case(other, "rheine", None, None)
        assert not assigns_case(other, "rheine", None, None)
    # Once assigned: the position's case manager hands it on, the supervisor reassigns it.
    assert assigns_case(CASE_MANAGER, "rheine", POSITION, RHEINE_LINE)
    assert assigns_case(RHEINE_SUPERVISOR, "rheine", POSITION, RHEINE_LINE)
    assert not assigns_case(COLLEAGUE, "rheine", POSITION, RHEINE_LINE)
    assert not assigns_case(RHEINE_POST, "rheine", POSITION, RHEINE_LINE)
    # A supervisor in another tenant reads the case but assignment is the tenant's own.
    assert reads_case(DISTRICT_POST, "rheine", POSITION, KS)
    assert not assigns_case(DISTRICT_POST, "rheine", POSITION, KS)


def test_a_person_is_seen_through_a_case_or_by_who_registered_them() -> None:
    assert sees_person(CASE_MANAGER, "rheine", POSITION, [])
    assert not sees_person(COLLEAGUE, "rheine", POSITION, [])
    assert sees_person(COLLEAGUE, "rheine", POSITION, [(OTHER, None)])
    assert sees_person(DISTRICT_POST, "rheine", None, [(POSITION, KS)])
    assert not sees_person(STRANGER, "rheine", POSITION, [(POSITION, None)])
    assert sees_person(RHEINE_SUPERVISOR, "rheine", None, [(POSITION, RHEINE_LINE)])
    assert not sees_person(RHEINE_POST, "rheine", None, [(POSITION, RHEINE_LINE)])


def test_only_the_assigned_case_manager_works_on_a_case() -> None:
    assert works_on(CASE_MANAGER, "rheine", POSITION)
    assert not works_on(COLLEAGUE, "rheine", POSITION)
    assert not works_on(STRANGER, "rheine", POSITION)
    assert not works_on(RHEINE_POST, "rheine", POSITION)


def line(post: str, start: str, end: str | None = None, position: Any = None) -> dict[str, Any]:
    """A supervision line as the read model keeps a known position's (a document)."""
    return {"post": post, "position": position, "valid_from": start, "valid_to": end}


def test_case_rows_follow_the_position_the_supervision_or_the_audit() -> None:
    earlier = line("kreis-steinfurt", "2020-01-01", "2020-12-31")
    lines: list[tuple[str, list[Any]]] = [
        (str(POSITION), [line("kreis-steinfurt", "2021-01-01")]),
        (str(OTHER), [earlier, line("rheine", "2021-01-01")]),
    ]
    supervised = supervised_by(DISTRICT_POST, lines, "2022-05-01")
    assert supervised == {str(POSITION)}
    assert supervised_by(DISTRICT_POST, lines, "2020-06-01") == {str(OTHER)}  # the earlier line
    mine = case_rows_scope(CASE_MANAGER, "rheine", audits=False, supervised=supervised)
    assert mine.position_filter() == [str(POSITION)]
    district = case_rows_scope(DISTRICT_POST, "rheine", audits=False, supervised=supervised)
    assert district.position_filter() == [str(POSITION)]  # no unassigned rows of another tenant
    own_post = case_rows_scope(RHEINE_POST, "rheine", audits=False, supervised={str(OTHER)})
    assert own_post.position_filter() == [str(OTHER), None]  # and the cases to assign
    audit = case_rows_scope(AUDITOR, "rheine", audits=True, supervised=set())
    assert audit.position_filter() is None
    assert audit.pseudonymised


def test_case_rows_of_a_line_from_a_position_are_for_that_positions_coordinator() -> None:
    lines: list[tuple[str, list[Any]]] = [
        (str(POSITION), [line("rheine", "2021-09-01", position=str(RHEINE_COORDINATION))]),
        (str(OTHER), [line("rheine", "2021-01-01")]),  # no position: every coordinator
    ]
    day = "2022-05-01"
    assert supervised_by(RHEINE_SUPERVISOR, lines, day) == {str(POSITION), str(OTHER)}
    assert supervised_by(RHEINE_POST, lines, day) == {str(OTHER)}
    assert supervised_by(RHEINE_OTHER_COORDINATOR, lines, day) == {str(OTHER)}
    assert supervised_by(DISTRICT_POST, lines, day) == set()
    assert supervised_by(CASE_MANAGER, lines, day) == set()  # case managers: own position
    without = supervised_by(RHEINE_POST, lines, day)
    scope = case_rows_scope(RHEINE_POST, "rheine", audits=False, supervised=without)
    assert scope.position_filter() == [str(OTHER), None]


def test_read_model_rows_from_before_lines_named_a_position_still_count() -> None:
    old: list[tuple[str, list[Any]]] = [(str(POSITION), [["rheine", "2021-01-01", None]])]
    assert supervised_by(RHEINE_POST, old, "2022-05-01") == {str(POSITION)}
    assert supervised_by(DISTRICT_POST, old, "2022-05-01") == set()


def test_case_rows_are_refused_to_everyone_else_with_the_reason() -> None:
    assert case_rows_refusal(CASE_MANAGER, "rheine", audits=False) is None
    assert case_rows_refusal(DISTRICT_POST, "rheine", audits=False) is None
    assert case_rows_refusal(AUDITOR, "rheine", audits=True) is None
    no_claim = Caller("rheine", frozenset({"case_manager"}))
    assert "position claim" in str(case_rows_refusal(no_claim, "rheine", audits=False))
    steering = Caller("rheine", frozenset({"steering_member"}))
    assert case_rows_refusal(steering, "rheine", audits=False) is not None
    assert case_rows_refusal(STRANGER, "rheine", audits=False) is not None
