"""Sections 4-5 of the yearly report: gaps and service chains, the steering group.

Gaps and topics come from the coordination logs of the report's tenants; meetings and
resolutions from the tenant's steering log, read as its contract publishes the events
(``contexts/steering/contracts.py``): the report needs nothing of the steering domain.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from uuid import UUID

from contexts.coordination.contracts import published_uuid
from contexts.coordination.gaps import CycleStep, GapTopic
from contexts.steering import contracts as steer
from projections.asof import History
from services.audit.labels import DIMENSIONS, STEPS, day
from services.audit.narrative import Narrative, count_gaps
from services.audit.yearly import Chart, Record, Replayed, Row, Section, Table, YearlyReport
from services.audit.yearly_labels import RESOLUTION_STATUS, count
from services.audit.yearly_sections import counted, counts_columns, in_year, iso


def gaps(report: YearlyReport, replayed: Replayed) -> Section:
    """4. Gaps recorded in the year by life dimension; topics and their service chains."""
    story = Narrative(report.year, report.tenants)
    topics = []
    for tenant in report.tenants:
        history = replayed.coordination.get(tenant)
        if history is None:
            continue
        count_gaps(story, history)
        for topic in history.of_type(GapTopic):
            step, done, submitted, ids = _topic_on(history, topic.id, report.reference_day)
            values = {
                "links": Decimal(len(topic.chain)),
                "done": Decimal(done),
                "submitted": Decimal(len(submitted)),
            }
            topics.append(
                Row(
                    f"topic:{topic.id}",
                    [
                        topic.title,
                        DIMENSIONS.get(topic.life_dimension, topic.life_dimension),
                        STEPS.get(step, step),
                        f"{done} von {len(topic.chain)}",
                        ", ".join(day(d) for d in submitted) or "–",
                    ],
                    values,
                    ids,
                    f"Thema {topic.title}",
                )
            )
    by_dimension = [
        counted(
            k,
            DIMENSIONS.get(k.split(":")[1], k),
            f.count,
            f.events,
            f"Versorgungslücken: {DIMENSIONS.get(k.split(':')[1], k)}",
        )
        for k, f in sorted(story.figures.items())
        if k.startswith("gap:")
    ]
    return Section(
        "4. Versorgungslücken und Dienstleistungsketten",
        "Lücken im Hilfesystem, die Case Management und Koordinierungsstelle im Berichtsjahr"
        " erfasst haben (ohne personenbezogene Angaben), und die Themen des Steuerungskreislaufs"
        " mit ihren Dienstleistungsketten (Stand am Stichtag).",
        [
            Table(
                counts_columns("Lebensdimension", "Lücken"),
                by_dimension,
                caption="Versorgungslücken nach Lebensdimension",
                chart=Chart("Versorgungslücken je Lebensdimension", [("count", "Lücken")]),
                empty="Im Berichtsjahr keine Versorgungslücke erfasst.",
            ),
            Table(
                [
                    ("Thema", 52, "LEFT"),
                    ("Lebensdimension", 28, "LEFT"),
                    ("Schritt", 30, "LEFT"),
                    ("Kette erledigt", 20, "RIGHT"),
                    ("an die Lenkungsgruppe", 30, "LEFT"),
                ],
                topics,
                caption="Themen und Dienstleistungsketten",
                empty="Kein Thema im Steuerungskreislauf.",
            ),
        ],
    )


def _topic_on(
    history: History, topic_id: UUID, reference_day: date
) -> tuple[str, int, list[date], list[str]]:
    """A topic as it stood on the reference day, by the dates its events state (``on``): its
    cycle step, the links of its chain done, its submissions, and the events behind them (a
    step reached after the reference day, recorded in time or later, is not that day's)."""
    step, done, submitted, ids = CycleStep.COLLECTION.value, 0, [], []
    for event_id, event in history.evidence.get(topic_id, ()):
        on = iso(getattr(event, "on", None))
        if on is not None and on > reference_day:
            continue
        ids.append(event_id)
        if isinstance(event, GapTopic.StepReached):
            step = event.step
        elif isinstance(event, GapTopic.ChainLinkDone):
            done += 1
        elif isinstance(event, GapTopic.SubmittedToSteering) and on is not None:
            submitted.append(on)
    return step, done, submitted, ids


def _by_aggregate(records: list[Record]) -> dict[str, list[Record]]:
    found: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        found[r.aggregate_id].append(r)
    return found


def _last(records: list[Record], kind: str) -> Record | None:
    return next((r for r in reversed(records) if r.event_type == kind), None)


def _id(value: object) -> str:
    found = published_uuid(value)
    return str(found) if found else ""


def until(records: list[Record], reference_day: date) -> list[Record]:
    """What had happened by the reference day, by the dates the events state (``on``): a
    status reached after it (recorded in time or later) is not the status on that day."""
    return [r for r in records if (on := iso(r.data.get("on"))) is None or on <= reference_day]


FOLLOW_UP = (steer.TASK_DONE, steer.IMPLEMENTATION_STARTED, steer.IMPLEMENTED, steer.EVALUATED)


def _worked_on(records: list[Record], year: int) -> bool:
    """A resolution of an earlier year whose follow-up went on in this one (a task done,
    implementation started or finished, the evaluation): its status belongs in the report."""
    return any(r.event_type in FOLLOW_UP and in_year(iso(r.data.get("on")), year) for r in records)


def status_of(records: list[Record]) -> str:
    """A resolution's status: rejected, passed, implementation, implemented, evaluated."""
    kinds = {r.event_type for r in records}
    for kind, status in (
        (steer.RESOLUTION_REJECTED, "rejected"),
        (steer.EVALUATED, "evaluated"),
        (steer.IMPLEMENTED, "implemented"),
        (steer.IMPLEMENTATION_STARTED, "implementation"),
    ):
        if kind in kinds:
            return status
    return "passed"


def steering(report: YearlyReport, replayed: Replayed) -> Section:
    """5. Meetings held in the year, resolutions and their implementation status."""
    year = report.year
    groups = _by_aggregate(replayed.steering)
    meetings: list[Row] = []
    resolutions: list[Row] = []
    mandated: list[list[str]] = []
    per_meeting: dict[str, int] = defaultdict(int)
    status_events: dict[str, list[str]] = defaultdict(list)
    for aggregate, every in groups.items():
        records = until(every, report.reference_day)
        decided = _last(records, steer.RESOLUTION_PASSED) or _last(
            records, steer.RESOLUTION_REJECTED
        )
        this_year = decided is not None and in_year(iso(decided.data.get("on")), year)
        if decided is not None and (this_year or _worked_on(records, year)):
            status = status_of(records)
            if this_year and status != "rejected":
                per_meeting[_id(decided.data.get("meeting_id"))] += 1
            status_events[status] += [r.event_id for r in records]
            resolutions.append(_resolution(aggregate, decided, records, status, this_year))
        wg = _last(records, steer.WORKING_GROUP_MANDATED)
        if wg is not None and in_year(iso(wg.data.get("on")), year):
            mandated.append([r.event_id for r in records])
    for aggregate, records in groups.items():
        held = _last(records, steer.MEETING_HELD)
        if held is not None and in_year(iso(held.data.get("held_on")), year):
            meetings.append(_meeting(aggregate, held, records, per_meeting[aggregate]))
    meetings.sort(key=lambda r: (r.values["held_on"], r.key))
    resolutions.sort(key=lambda r: (r.values["on"], r.key))
    of_year = [r for r in resolutions if r.values["decided_in_year"]]
    passed = [r for r in of_year if r.values["passed"]]
    rejected = [r for r in of_year if not r.values["passed"]]
    summary = [
        counted(
            "steering:meetings",
            f"Sitzungen {year}",
            len(meetings),
            [e for r in meetings for e in r.events],
            "Sitzungen der Lenkungsgruppe",
        ),
        counted(
            "steering:passed",
            f"Beschlüsse gefasst {year}",
            len(passed),
            [e for r in passed for e in r.events],
        ),
        counted(
            "steering:rejected",
            f"Beschlussvorlagen abgelehnt {year}",
            len(rejected),
            [e for r in rejected for e in r.events],
        ),
        counted(
            "steering:working_groups",
            f"Arbeitsgruppen beauftragt {year}",
            len(mandated),
            [e for events in mandated for e in events],
        ),
        *_members(groups, report.reference_day),
    ]
    states = [
        counted(
            f"steering:status:{s}",
            RESOLUTION_STATUS[s],
            sum(1 for r in resolutions if r.cells[3] == RESOLUTION_STATUS[s]),
            status_events[s],
            f"Beschlüsse {RESOLUTION_STATUS[s]}",
        )
        for s in ("passed", "implementation", "implemented", "evaluated")
        if status_events[s]
    ]
    whose = report.name(report.head.tenant)
    intro = (
        f"Die Lenkungsgruppe von {whose}: Sitzungen des Berichtsjahres, die Beschlüsse"
        " des Jahres und frühere, deren Umsetzung im Jahr weiterging, mit ihrem Stand am"
        " Stichtag (aus den Ereignissen der Lenkungsgruppe; Mitglieder als Institutionen,"
        " keine personenbezogenen Angaben)."
    )
    for records in groups.values():
        founded = _last(records, steer.GROUP_FOUNDED)
        if founded is not None:
            on = iso(founded.data.get("founded_on"))
            intro += f" {founded.data.get('name')}" + (f", gegründet am {day(on)}." if on else ".")
    if not replayed.steering:
        intro += (
            f" Für {whose} ist bis zum Stichtag keine Lenkungsgruppe erfasst: dieser Abschnitt"
            " bleibt leer."
        )
    return Section(
        "5. Lenkungsgruppe: Sitzungen und Beschlüsse",
        intro,
        [
            Table(counts_columns("Lenkungsgruppe"), summary),
            Table(
                [
                    ("Sitzung am", 20, "LEFT"),
                    ("Titel", 58, "LEFT"),
                    ("stimmberechtigt anwesend", 34, "RIGHT"),
                    ("beschlussfähig", 24, "LEFT"),
                    ("Beschlüsse", 20, "RIGHT"),
                ],
                meetings,
                caption="Sitzungen",
                empty="Im Berichtsjahr keine Sitzung der Lenkungsgruppe erfasst.",
            ),
            Table(
                [
                    ("Beschluss am", 20, "LEFT"),
                    ("Beschluss", 52, "LEFT"),
                    ("ja/nein/Enth.", 18, "RIGHT"),
                    ("Stand", 20, "LEFT"),
                    ("Aufgaben erledigt", 18, "RIGHT"),
                    ("Indikator", 32, "LEFT"),
                ],
                resolutions,
                caption="Beschlüsse und ihre Umsetzung",
                empty="Im Berichtsjahr kein Beschluss der Lenkungsgruppe erfasst.",
            ),
            Table(
                counts_columns("Umsetzungsstand", "Beschlüsse"),
                states,
                caption="Beschlüsse nach Umsetzungsstand",
                chart=Chart("Beschlüsse nach Umsetzungsstand", [("count", "Beschlüsse")]),
                empty="Kein gefasster Beschluss im Berichtsjahr.",
            ),
        ],
    )


def _members(groups: dict[str, list[Record]], day_r: date) -> list[Row]:
    """Members of the groups on the reference day, and those of them who vote."""
    members, voting = [], []
    for records in groups.values():
        left = {
            str(r.data.get("member_id")): iso(r.data.get("on"))
            for r in records
            if r.event_type == steer.MEMBER_LEFT
        }
        for r in records:
            if r.event_type != steer.MEMBER_JOINED:
                continue
            member = str(r.data.get("member_id"))
            start, until = iso(r.data.get("valid_from")), iso(r.data.get("valid_until"))
            gone = left.get(member)
            if start is None or start > day_r or (until and until < day_r):
                continue
            if gone is not None and gone <= day_r:
                continue
            members.append([r.event_id])
            if r.data.get("voting"):
                voting.append([r.event_id])
    return [
        counted(
            "steering:members",
            f"Mitglieder am {day(day_r)}",
            len(members),
            [e for m in members for e in m],
            "Mitglieder der Lenkungsgruppe",
        ),
        counted(
            "steering:voting",
            "davon stimmberechtigt",
            len(voting),
            [e for m in voting for e in m],
            "Stimmberechtigte Mitglieder",
        ),
    ]


def _number(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _meeting(aggregate: str, held: Record, records: list[Record], passed: int) -> Row:
    scheduled = _last(records, steer.MEETING_SCHEDULED)
    title = str(scheduled.data.get("title") or "Sitzung") if scheduled else "Sitzung"
    on = iso(held.data.get("held_on"))
    present, voting = (
        _number(held.data.get("present_voting")),
        _number(held.data.get("voting_members")),
    )
    return Row(
        f"meeting:{aggregate}",
        [
            day(on) if on else "–",
            title,
            f"{present} von {voting}",
            "ja" if held.data.get("quorum_reached") else "nein",
            count(passed),
        ],
        {
            "held_on": Decimal(on.toordinal() if on else 0),
            "present_voting": Decimal(present),
            "resolutions": Decimal(passed),
        },
        [r.event_id for r in records],
        f"Sitzung {title}",
    )


def _resolution(
    aggregate: str, decided: Record, records: list[Record], status: str, this_year: bool
) -> Row:
    d = decided.data
    on = iso(d.get("on"))
    tasks = {str(r.data.get("task")) for r in records if r.event_type == steer.TASK_ASSIGNED}
    done = {str(r.data.get("task")) for r in records if r.event_type == steer.TASK_DONE}
    evaluated = _last(records, steer.EVALUATED)
    indicator = "–"
    if evaluated is not None:
        e = evaluated.data
        indicator = f"{e.get('indicator')}: vorher {e.get('before')}, nachher {e.get('after')}"
    votes = [_number(d.get(k)) for k in ("votes_for", "votes_against", "abstentions")]
    title = str(d.get("title") or "Beschluss")
    return Row(
        f"resolution:{aggregate}",
        [
            day(on) if on else "–",
            title,
            "/".join(str(v) for v in votes),
            RESOLUTION_STATUS[status],
            f"{len(done & tasks)} von {len(tasks)}",
            indicator,
        ],
        {
            "on": Decimal(on.toordinal() if on else 0),
            "passed": Decimal(decided.event_type == steer.RESOLUTION_PASSED),
            "decided_in_year": Decimal(this_year),
            "tasks": Decimal(len(tasks)),
            "tasks_done": Decimal(len(done & tasks)),
        },
        [r.event_id for r in records],
        f"Beschluss {title}",
    )
