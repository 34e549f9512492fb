"""Commands on system gaps, topics and service chains (part of the coordination app)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.persistence import Recording

from contexts.coordination.gaps import (
    NEXT_STEP,
    CycleStep,
    GapTopic,
    LifeDimension,
    SystemGap,
    gap_id_for_report,
)
from contexts.shared.application import TenantApplication
from contexts.shared.errors import DomainError
from contexts.shared.personal_data import check_no_personal_data


def _clean(value: str, field: str, limit: int = 2000) -> str:
    cleaned = " ".join(value.split())
    if not cleaned or len(cleaned) > limit:
        raise DomainError("text-required", f"{field} needs 1 to {limit} characters", field=field)
    return cleaned


def _text(value: str, field: str, limit: int = 2000) -> str:
    """A text the post writes in the strategic cycle: it goes to the steering group, so it
    must carry no personal data (``personal-data-in-text``)."""
    return check_no_personal_data(_clean(value, field, limit), field)


class CycleCommands(TenantApplication):
    def record_gap(
        self,
        *,
        life_dimension: LifeDimension,
        description: str,
        reported_on: date,
        source: str = "post",
        source_event_id: str | None = None,
    ) -> list[Recording[UUID]]:
        """Record a gap seen by the post (its description checked for personal data), or one
        reported from a case before reports came without a description (idempotent by
        report; as it was reported, so a redelivered old report is never refused)."""
        checked = _text if source == "post" else _clean
        gap = SystemGap(
            life_dimension=LifeDimension(life_dimension).value,
            description=checked(description, "description"),
            source=source,
            reported_on=reported_on.isoformat(),
            source_event_id=source_event_id,
        )
        return self.save(gap)

    def record_reported_gap(
        self, *, life_dimension: LifeDimension, reported_on: date, report: str
    ) -> list[Recording[UUID]]:
        """A gap reported from a case: life dimension and date, no description (that comes
        only as the supervising post releases one); its id derives from the ``report``."""
        gap = SystemGap(
            life_dimension=LifeDimension(life_dimension).value,
            description=None,
            source="case_management",
            reported_on=reported_on.isoformat(),
            source_event_id=report,
        )
        return self.save(gap)

    def release_gap_description(
        self, *, report: str, description: str, on: date
    ) -> list[Recording[UUID]]:
        """The reviewed description the supervising post released for the gap recorded
        from ``report`` (checked there for personal data); idempotent: a gap that has a
        description keeps it."""
        gap = self.get_gap(gap_id_for_report(report))
        if gap.description is not None:
            return []
        gap.release_description(" ".join(description.split()), on.isoformat())
        return self.save(gap)

    def get_gap(self, gap_id: UUID) -> SystemGap:
        return self.load(SystemGap, gap_id, "system gap")

    def open_topic(self, *, title: str, life_dimension: LifeDimension) -> list[Recording[UUID]]:
        return self.save(
            GapTopic(
                title=_text(title, "title", 200), life_dimension=LifeDimension(life_dimension).value
            )
        )

    def get_topic(self, topic_id: UUID) -> GapTopic:
        return self.load(GapTopic, topic_id, "topic")

    def group_gap(self, topic_id: UUID, gap_id: UUID) -> list[Recording[UUID]]:
        topic, gap = self.get_topic(topic_id), self.get_gap(gap_id)
        if gap.topic_id is not None:
            raise DomainError(
                "gap-already-grouped", f"the gap belongs to topic {gap.topic_id}", field="gap_id"
            )
        gap.group(topic.id)
        topic.add_gap(gap.id)
        return self.save(gap, topic)

    def advance_topic(
        self,
        topic_id: UUID,
        *,
        step: CycleStep,
        on: date,
        note: str = "",
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        topic = self.load_expecting(GapTopic, topic_id, "topic", expected_version)
        topic.advance(CycleStep(step), on, check_no_personal_data(note, "note"))
        return self.save(topic)

    def add_chain_link(
        self, topic_id: UUID, *, actor: str, action: str, due: date | None = None
    ) -> list[Recording[UUID]]:
        topic = self.get_topic(topic_id)
        topic.add_link(
            _text(actor, "actor", 200), _text(action, "action"), due.isoformat() if due else None
        )
        return self.save(topic)

    def complete_chain_link(self, topic_id: UUID, *, index: int, on: date) -> list[Recording[UUID]]:
        topic = self.get_topic(topic_id)
        topic.complete_link(index, on)
        return self.save(topic)

    def submit_to_steering(
        self, topic_id: UUID, *, on: date, summary: str, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        topic = self.load_expecting(GapTopic, topic_id, "topic", expected_version)
        topic.submit(on, _text(summary, "summary"))
        return self.save(topic)

    # -- back from the steering group (contexts.steering.contracts) -------------------------
    def steering_moved(self, topic_id: UUID, *, to: CycleStep, on: date, note: str) -> bool:
        """The steering group's decision moves the topic to ``to`` when that is the next
        step; a topic there or beyond stays (idempotent, redeliveries)."""
        topic = self.get_topic(topic_id)
        order = list(NEXT_STEP)
        if order.index(topic.step) >= order.index(to) or NEXT_STEP[topic.step] != to:
            return False
        if to == CycleStep.IMPLEMENTATION and not topic.chain:
            return False  # the resolution's tasks (its chain links) come first
        topic.advance(to, on, note)
        self.save(topic)
        return True

    def steering_task(
        self, topic_id: UUID, *, actor: str, action: str, due: date | None, done_on: date | None
    ) -> None:
        """A follow-up task of the steering group's resolution as a link of the topic's
        service chain (added once; marked done once)."""
        topic = self.get_topic(topic_id)
        found = [i for i, link in enumerate(topic.chain)
                 if (link["actor"], link["action"]) == (actor, action)]  # fmt: skip
        if not found:
            topic.add_link(actor, action, due.isoformat() if due else None)
            found = [len(topic.chain) - 1]
        if done_on is not None and topic.chain[found[0]]["done"] is None:
            topic.complete_link(found[0], done_on)
        self.save(topic)
