"""What a case records along the way: appointments, contacts and notes (monitoring), and
gaps in the system of services seen in it (for coordination).

``RecordRules`` is a mixin of ``Case`` (``domain.py``): its commands check and then call the
case's event-recording methods, which stay with the events in ``domain.py`` (their topics
name that module).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from contexts.case_management.vocabulary import (
    AppointmentKind,
    AppointmentOutcome,
    ContactChannel,
    check_code,
    check_dimensions,
)
from contexts.shared.errors import DomainError


class RecordRules:
    """The commands of the case's records; ``Case`` records their events."""

    if TYPE_CHECKING:  # what ``Case`` provides: its state, its event-recording methods
        opened_on: date
        appointments: list[dict[str, str]]
        gaps: list[dict[str, str | None]]

        @property
        def is_closed(self) -> bool: ...
        def _appointment_scheduled(self, on: str, kind: str) -> None: ...
        def _appointment_recorded(self, index: int, outcome: str) -> None: ...
        def _contact_recorded(self, on: str, channel: str, life_dimensions: list[str]) -> None: ...
        def _note_added(self, on: str, sealed: str) -> None: ...
        def _gap_reported(
            self, gap_id: UUID | None, life_dimension: str, description: str, reported_on: str
        ) -> None: ...
        def _gap_released(
            self, gap_id: UUID, index: int, description: str, released_on: str
        ) -> None: ...

    # -- monitoring: appointments, contacts, notes -----------------------------------------
    def _check_open(self, what: str) -> None:
        if self.is_closed:
            raise DomainError("case-closed", f"a closed case takes no {what}", field="state")

    def _check_not_before_opening(self, on: date) -> None:
        if on < self.opened_on:
            raise DomainError(
                "date-before-opening", f"{on} lies before the case opened on {self.opened_on}",
                field="on",
            )  # fmt: skip

    def schedule_appointment(self, on: date, kind: AppointmentKind) -> None:
        self._check_open("appointments")
        self._check_not_before_opening(on)
        self._appointment_scheduled(on.isoformat(), check_code(kind, AppointmentKind, "kind"))

    def record_appointment(self, index: int, outcome: AppointmentOutcome) -> None:
        if not 0 <= index < len(self.appointments):
            raise DomainError(
                "no-such-appointment", f"the case has no appointment {index}", field="index"
            )
        if self.appointments[index]["outcome"] != "scheduled":
            raise DomainError(
                "appointment-recorded",
                f"appointment {index} is already recorded as {self.appointments[index]['outcome']}",
                field="index",
            )
        self._appointment_recorded(index, AppointmentOutcome(outcome).value)

    def record_contact(self, on: date, channel: ContactChannel, life_dimensions: list[str]) -> None:
        self._check_open("contacts")
        self._check_not_before_opening(on)
        if life_dimensions:
            check_dimensions(dict.fromkeys(life_dimensions, ""), "life_dimensions")
        self._contact_recorded(on.isoformat(), ContactChannel(channel).value, list(life_dimensions))

    def add_note(self, on: date, sealed: str) -> None:
        """``sealed``: the note's text, sealed under the person's key."""
        self._check_open("notes")
        self._check_not_before_opening(on)
        self._note_added(on.isoformat(), sealed)

    # -- gaps in the system of services, seen in this case ----------------------------------
    def report_gap(self, life_dimension: str, description: str, on: date) -> None:
        """``description``: sealed under the person's key (empty: none given)."""
        check_dimensions({life_dimension: ""}, "life_dimension")
        if not description.strip():
            raise DomainError(
                "description-missing", "describe the gap (without personal data)",
                field="description",
            )  # fmt: skip
        self._gap_reported(uuid4(), life_dimension, description.strip(), on.isoformat())

    def release_gap(self, index: int, description: str, on: date) -> None:
        """The supervising post releases the gap's description for coordination, as it
        reviewed it (the application checked it for personal data)."""
        if not 0 <= index < len(self.gaps):
            raise DomainError("no-such-gap", f"the case has no gap {index}", field="index")
        gap = self.gaps[index]
        if gap["released"] is not None or gap["gap_id"] is None:
            raise DomainError(
                "gap-already-released",
                f"the description of gap {index} has already gone to coordination",
                field="index",
            )
        if on < date.fromisoformat(str(gap["on"])):
            raise DomainError(
                "date-before-report", f"{on} lies before the gap was reported on {gap['on']}",
                field="on",
            )  # fmt: skip
        if not description.strip():
            raise DomainError(
                "description-missing", "give the reviewed description", field="description"
            )
        self._gap_released(UUID(str(gap["gap_id"])), index, description, on.isoformat())
