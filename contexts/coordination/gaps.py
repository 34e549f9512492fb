"""System gaps (Versorgungslücken), topics and service chains through the strategic cycle."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from contexts.shared.errors import DomainError


class LifeDimension(StrEnum):
    HEALTH = "health"  # Gesundheit
    LANGUAGE = "language"  # Sprache
    EDUCATION = "education"  # Bildung
    WORK_AND_LIVELIHOOD = "work_and_livelihood"  # Arbeit und Lebensunterhalt
    HOUSING = "housing"  # Wohnen
    RESIDENCE_STATUS = "residence_status"  # Aufenthaltsstatus
    POLITICAL_PARTICIPATION = "political_participation"  # politische Teilhabe
    CULTURE_AND_LEISURE = "culture_and_leisure"  # Kultur und Freizeit
    FAMILY = "family"  # Familie
    MOBILITY = "mobility"  # Mobilität
    DISCRIMINATION = "discrimination"  # Diskriminierung


class CycleStep(StrEnum):
    COLLECTION = "collection"  # Erhebung
    ANALYSIS = "analysis"  # Analyse
    PLANNING_AND_STEERING = "planning_and_steering"  # Planung und Steuerung
    IMPLEMENTATION = "implementation"  # Umsetzung
    EVALUATION = "evaluation"  # Evaluation
    READJUSTMENT = "readjustment"  # Nachsteuerung


NEXT_STEP: dict[CycleStep, CycleStep] = {
    CycleStep.COLLECTION: CycleStep.ANALYSIS,
    CycleStep.ANALYSIS: CycleStep.PLANNING_AND_STEERING,
    CycleStep.PLANNING_AND_STEERING: CycleStep.IMPLEMENTATION,
    CycleStep.IMPLEMENTATION: CycleStep.EVALUATION,
    CycleStep.EVALUATION: CycleStep.READJUSTMENT,
    CycleStep.READJUSTMENT: CycleStep.ANALYSIS,  # the cycle goes round again
}


def gap_id_for_report(source_event_id: str) -> UUID:
    """A gap reported from a case gets its id from the report, so a redelivery collides."""
    return uuid5(NAMESPACE_URL, f"kim:gap-report:{source_event_id}")


class SystemGap(Aggregate):
    """A gap in the system of services, seen in cases or by the post. No personal data.

    A gap reported from a case comes without a description (the case manager's text stays
    sealed in the case); it gets one when the supervising post releases a reviewed text
    (``DescriptionReleased``). Gaps reported before that rule carry theirs from the report.
    """

    class Recorded(Aggregate.Created):
        life_dimension: str
        description: str | None  # None: reported from a case, no description released yet
        source: str  # "case_management" or "post"
        reported_on: str
        source_event_id: str | None  # the case-management report (its gap id), for intake

    class Grouped(Aggregate.Event):
        topic_id: UUID

    class DescriptionReleased(Aggregate.Event):
        description: str
        on: str

    @staticmethod
    def create_id(source_event_id: str | None = None, **_: object) -> UUID:
        if source_event_id:
            return gap_id_for_report(source_event_id)
        return uuid4()

    @event(Recorded)
    def __init__(
        self,
        life_dimension: str,
        description: str | None,
        source: str,
        reported_on: str,
        source_event_id: str | None = None,
    ) -> None:
        self.life_dimension = LifeDimension(life_dimension)
        self.description = description
        self.released_on: date | None = None
        self.source = source
        self.reported_on = date.fromisoformat(reported_on)
        self.topic_id: UUID | None = None

    @event(Grouped)
    def group(self, topic_id: UUID) -> None:
        self.topic_id = topic_id

    @event(DescriptionReleased)
    def release_description(self, description: str, on: str) -> None:
        self.description = description
        self.released_on = date.fromisoformat(on)


class GapTopic(Aggregate):
    """A topic that groups gaps and is worked on as a service chain (Dienstleistungskette)."""

    class Opened(Aggregate.Created):
        title: str
        life_dimension: str

    class GapAdded(Aggregate.Event):
        gap_id: UUID

    class StepReached(Aggregate.Event):
        step: str
        on: str
        note: str

    class ChainLinkAdded(Aggregate.Event):
        actor: str
        action: str
        due: str | None

    class ChainLinkDone(Aggregate.Event):
        index: int
        on: str

    class SubmittedToSteering(Aggregate.Event):
        on: str
        summary: str

    @event(Opened)
    def __init__(self, title: str, life_dimension: str) -> None:
        self.title = title
        self.life_dimension = LifeDimension(life_dimension)
        self.gaps: list[UUID] = []
        self.step = CycleStep.COLLECTION
        self.history: list[tuple[str, str, str]] = []
        self.chain: list[dict[str, str | None]] = []
        self.submissions: list[tuple[str, str]] = []

    @event(GapAdded)
    def add_gap(self, gap_id: UUID) -> None:
        self.gaps.append(gap_id)

    def advance(self, to: CycleStep, on: date, note: str) -> None:
        expected = NEXT_STEP[self.step]
        if CycleStep(to) != expected:
            raise DomainError(
                "cycle-step-not-allowed",
                f"from {self.step} the strategic cycle goes to {expected}, not {to}",
                field="step",
                current=str(self.step),
                allowed=str(expected),
            )
        if CycleStep(to) == CycleStep.IMPLEMENTATION and not self.chain:
            raise DomainError(
                "no-service-chain",
                "implementation needs a service chain: add its links (who does what) first",
                field="step",
            )
        self._reach(CycleStep(to).value, on.isoformat(), note)

    @event(StepReached)
    def _reach(self, step: str, on: str, note: str) -> None:
        self.step = CycleStep(step)
        self.history.append((step, on, note))

    @event(ChainLinkAdded)
    def add_link(self, actor: str, action: str, due: str | None) -> None:
        self.chain.append({"actor": actor, "action": action, "due": due, "done": None})

    def complete_link(self, index: int, on: date) -> None:
        if not 0 <= index < len(self.chain):
            raise DomainError("no-such-link", f"the chain has no link {index}", field="index")
        if self.chain[index]["done"] is not None:
            raise DomainError("link-already-done", f"link {index} is already done", field="index")
        self._complete(index, on.isoformat())

    @event(ChainLinkDone)
    def _complete(self, index: int, on: str) -> None:
        self.chain[index]["done"] = on

    def submit(self, on: date, summary: str) -> None:
        if self.step == CycleStep.COLLECTION:
            raise DomainError(
                "not-analysed",
                "a topic goes to the steering group after its analysis, not while collecting",
                field="step",
            )
        self._submit(on.isoformat(), summary)

    @event(SubmittedToSteering)
    def _submit(self, on: str, summary: str) -> None:
        self.submissions.append((on, summary))
