"""A year of Rheine (2021) written into the demo's store, for the yearly report's tests.

Cases in Rheine's case management (some assigned to the demo's 1.9 FTE position of
"Lernen fördern"), gaps and a topic with its service chain in Rheine's coordination, a
meeting and resolutions in Rheine's steering log, procedures of Rheine's immigration office.
What was written is returned as ``Inputs``, so the tests compute the expected figures from
it. The steering events are written as ``contexts/steering/contracts.py`` publishes them
(event type and fields), by aggregates of this module: the report reads the contract only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.people import ConsentPurpose
from contexts.case_management.vocabulary import ClosureReason, ReferralSource, Service
from contexts.coordination.application import CoordinationApplication
from contexts.coordination.gaps import CycleStep, LifeDimension
from contexts.immigration_office.states import LegalBasis, Step
from contexts.shared.application import TenantApplication
from projections.immigration_office import application as office_application
from runtime import context as request_context
from runtime.platform import Platform
from tests.case_support import demo_position

TOWN = "rheine"
YEAR = 2021


@dataclass(frozen=True)
class CaseInput:
    source: str
    opened_on: date
    needs: tuple[str, ...] = ()
    assigned: bool = True
    referrals: tuple[tuple[str, bool | None, bool], ...] = ()  # service, accepted, completed
    closed: tuple[str, date] | None = None


CASES = (
    CaseInput("immigration_office", date(2021, 3, 1), ("language", "education"),
              referrals=(("mbe", True, True), ("jmd", None, False))),
    CaseInput("job_centre", date(2021, 4, 1), ("work_and_livelihood",),
              referrals=(("job_centre", False, False),),
              closed=("goals_reached", date(2021, 10, 1))),
    CaseInput("immigration_office", date(2021, 5, 3), ("language",)),
    CaseInput("school", date(2021, 6, 1), assigned=False),
    CaseInput("self_referral", date(2022, 2, 1), ("housing",)),  # the next year
)  # fmt: skip
GAPS = (("education", date(2021, 2, 1)), ("education", date(2021, 7, 1)),
        ("housing", date(2021, 9, 9)), ("language", date(2020, 12, 30)))  # fmt: skip


@dataclass
class Inputs:
    cases: dict[UUID, CaseInput] = field(default_factory=dict)
    topic: UUID | None = None
    meeting: UUID | None = None
    resolutions: dict[str, UUID] = field(default_factory=dict)
    procedures: dict[str, UUID] = field(default_factory=dict)
    position: UUID | None = None


class SteeringGroup(Aggregate):
    class Founded(Aggregate.Created):
        name: str
        founded_on: str
        rules: dict[str, object]

    class MemberJoined(Aggregate.Event):
        member_id: str
        institution: str
        member_tenant: str | None
        role: str
        voting: bool
        permanent: bool
        valid_from: str
        valid_until: str | None

    @event(Founded)
    def __init__(self, name: str, founded_on: str, rules: dict[str, object]) -> None:
        pass

    def join(self, member_id: str, voting: bool, valid_until: str | None = None) -> None:
        self.trigger_event(
            self.MemberJoined, member_id=member_id, institution=f"Institution {member_id}",
            member_tenant=None, role="Leitung", voting=voting, permanent=True,
            valid_from="2021-01-12", valid_until=valid_until,
        )  # fmt: skip


MEMBERS = (("m1", True, None), ("m2", False, None), ("m3", True, "2021-06-30"))
"""(member, voting, until): on 31.12.2021 two members, one of them voting."""


class Meeting(Aggregate):
    class Scheduled(Aggregate.Created):
        group_id: str
        title: str
        scheduled_for: str

    class Held(Aggregate.Event):
        group_id: str
        held_on: str
        voting_members: int
        present_voting: int
        present_advisory: int
        quorum_reached: bool

    @event(Scheduled)
    def __init__(self, group_id: str, title: str, scheduled_for: str) -> None:
        self.group_id = group_id

    @event(Held)
    def hold(
        self, group_id: str, held_on: str, voting_members: int, present_voting: int,
        present_advisory: int, quorum_reached: bool,
    ) -> None:  # fmt: skip
        pass


class Resolution(Aggregate):
    class Proposed(Aggregate.Created):
        group_id: str

    class Passed(Aggregate.Event):
        group_id: str
        meeting_id: str
        item: int
        title: str
        votes_for: int
        votes_against: int
        abstentions: int
        on: str

    class Rejected(Passed):
        pass

    class ImplementationStarted(Aggregate.Event):
        group_id: str
        on: str

    class TaskAssigned(Aggregate.Event):
        group_id: str
        task: str
        title: str
        owner_institution: str
        due_on: str

    class TaskDone(Aggregate.Event):
        group_id: str
        task: str
        on: str

    class Implemented(ImplementationStarted):
        pass

    class Evaluated(Aggregate.Event):
        group_id: str
        on: str
        indicator: str
        before: str
        after: str
        source: str
        readjust: bool

    @event(Proposed)
    def __init__(self, group_id: str) -> None:
        self.group_id = group_id

    def trigger(self, cls: type[Aggregate.Event], **kwargs: object) -> None:
        self.trigger_event(cls, group_id=self.group_id, **kwargs)


class SteeringLog(TenantApplication):
    context = "steering"


def write_year(platform: Platform) -> Inputs:
    """Write Rheine's 2021 (and one case of 2022); return what was written."""
    found = Inputs()
    with request_context.bound(actor="yearly-test"):
        found.position = demo_position(platform)
        _cases(platform, found)
        _coordination(platform, found)
        _steering(platform, found)
        _office(platform, found)
    return found


def _cases(platform: Platform, found: Inputs) -> None:
    app = platform.app(CaseManagementApplication, TOWN, vault=platform.vault)
    assert found.position is not None
    app.note_position(found.position, Decimal("1.9"), TOWN)
    for n, c in enumerate(CASES):
        (rec,) = app.register_person({"name": f"Person {n}"}, date(2020, 9, 1))
        person = UUID(str(rec.notification.originator_id))
        app.give_consent(person, purpose=ConsentPurpose.CASE_MANAGEMENT, recipient=TOWN,
                         given_on=date(2020, 10, 1))  # fmt: skip
        recs = app.open_case(person, referral_source=ReferralSource(c.source),
                             opened_on=c.opened_on,
                             position_id=found.position if c.assigned else None)  # fmt: skip
        case = UUID(str(recs[0].notification.originator_id))
        found.cases[case] = c
        day = c.opened_on.replace(day=15)
        if c.needs:
            app.assess(case, needs=dict.fromkeys(c.needs, "high"), on=day)
        if c.referrals:
            app.agree_goals(case, goals={c.needs[0]: "Ziel"}, on=day)
            app.start_linking(case, on=day)
        for index, (service, accepted, completed) in enumerate(c.referrals):
            app.give_consent(person, purpose=ConsentPurpose.REFERRAL, recipient=service,
                             given_on=day)  # fmt: skip
            app.propose_referral(case, service=Service(service), recipient=service, on=day)
            if accepted is not None:
                app.answer_referral(case, index=index, accepted=accepted, on=day)
            if completed:
                app.complete_referral(case, index=index, outcome="erledigt", on=day)
        if c.closed is not None:
            app.close_case(case, reason=ClosureReason(c.closed[0]), on=c.closed[1])


def _coordination(platform: Platform, found: Inputs) -> None:
    app = platform.app(CoordinationApplication, TOWN)
    for dimension, on in GAPS:
        app.record_gap(life_dimension=LifeDimension(dimension), description="Lücke",
                       reported_on=on)  # fmt: skip
    (rec,) = app.open_topic(title="Kita-Plätze für Neuzugewanderte",
                            life_dimension=LifeDimension("education"))  # fmt: skip
    topic = found.topic = UUID(str(rec.notification.originator_id))
    app.advance_topic(topic, step=CycleStep.ANALYSIS, on=date(2021, 3, 1))
    app.add_chain_link(topic, actor="Jugendamt", action="Plätze melden")
    app.add_chain_link(topic, actor="Kitas", action="Plätze freihalten")
    app.complete_chain_link(topic, index=0, on=date(2021, 5, 1))
    app.submit_to_steering(topic, on=date(2021, 5, 2), summary="Vorlage")


def _steering(platform: Platform, found: Inputs) -> None:
    app = SteeringLog(TOWN, platform.store.recorder)
    group = "9f1c8f8e-0000-4000-8000-000000000001"
    meeting = Meeting(group_id=group, title="2. Sitzung 2021", scheduled_for="2021-06-10")
    meeting.hold(group_id=group, held_on="2021-06-10", voting_members=9, present_voting=7,
                 present_advisory=2, quorum_reached=True)  # fmt: skip
    later = Meeting(group_id=group, title="1. Sitzung 2022", scheduled_for="2022-02-01")
    later.hold(group_id=group, held_on="2022-02-01", voting_members=9, present_voting=5,
               present_advisory=0, quorum_reached=True)  # fmt: skip
    found.meeting = meeting.id
    vote = {"meeting_id": str(meeting.id), "item": 1, "votes_for": 6, "votes_against": 1,
            "abstentions": 0, "on": "2021-06-10"}  # fmt: skip
    kita = Resolution(group_id=group)
    kita.trigger(Resolution.Passed, title="Kita-Lotsen einsetzen", **vote)
    kita.trigger(Resolution.TaskAssigned, task="t1", title="Lotsen benennen",
                 owner_institution="Jugendamt", due_on="2021-08-01")  # fmt: skip
    kita.trigger(Resolution.TaskAssigned, task="t2", title="Kitas informieren",
                 owner_institution="Kitas", due_on="2021-09-01")  # fmt: skip
    kita.trigger(Resolution.ImplementationStarted, on="2021-07-01")
    kita.trigger(Resolution.TaskDone, task="t1", on="2021-07-20")
    kita.trigger(Resolution.Implemented, on="2021-10-01")
    kita.trigger(Resolution.Evaluated, on="2021-12-01", indicator="Kita-Plätze vermittelt",
                 before="3", after="7", source="Fälle Bildung", readjust=False)  # fmt: skip
    rejected = Resolution(group_id=group)
    rejected.trigger(Resolution.Rejected, title="Sprachcafé", **{**vote, "votes_for": 2})
    founded = SteeringGroup(name="Lenkungsgruppe KIM Test", founded_on="2021-01-12", rules={})
    for member, voting, until in MEMBERS:
        founded.join(member, voting, until)
    app.save(founded, meeting, later, kita, rejected)
    found.resolutions = {"kita": kita.id, "rejected": rejected.id}


def _office(platform: Platform, found: Inputs) -> None:
    app = office_application(platform, TOWN)
    data = {"name": "Demo-Person X", "date_of_birth": "1990-01-01", "nationality": "syrisch",
            "resident_since": "2012-01-01"}  # fmt: skip
    people = [UUID(str(app.register_person(data)[0].notification.originator_id)) for _ in "abc"]

    def opened(person: UUID, basis: LegalBasis, on: date) -> UUID:
        recs = app.open_procedure(person, legal_basis=basis, residence=TOWN, opened_on=on)
        return UUID(str(recs[0].notification.originator_id))

    withdrawn = opened(people[0], LegalBasis.STAG_10, date(2021, 2, 1))
    app.take_step(withdrawn, Step.RECEIVE_APPLICATION, on=date(2021, 2, 10))
    app.take_step(withdrawn, Step.WITHDRAW, on=date(2021, 8, 1))
    refused = opened(people[1], LegalBasis.AUFENTHG_25B, date(2021, 3, 1))
    app.take_step(refused, Step.RECEIVE_APPLICATION, on=date(2021, 3, 5))
    app.take_step(refused, Step.COMPLETE_REQUIREMENTS_CHECK, on=date(2021, 4, 1))
    app.take_step(refused, Step.REFUSE, on=date(2021, 9, 1), reason="nicht erfüllt")
    waiting = opened(people[2], LegalBasis.STAG_10, date(2021, 11, 1))
    app.take_step(waiting, Step.RECEIVE_APPLICATION, on=date(2021, 11, 15))
    found.procedures = {"withdrawn": withdrawn, "refused": refused, "waiting": waiting}
