"""The indexes a case keeps with its events (``contexts/shared/indexes.py``): the open cases
of a person and of a position (its caseload), and the days of its scheduled appointments.

``CaseIndexes`` is a mixin of ``Case`` (``domain.py``); the names are importable from there
too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from contexts.case_management.vocabulary import CaseState

OPEN_CASES_OF_POSITION = "open_cases_of_position"
"""Index of the open cases assigned to a position (its caseload), kept with the events."""
OPEN_CASES_OF_PERSON = "open_cases_of_person"
"""Index of a person's open cases (a closing case tells its person, see ``base.save``)."""
APPOINTMENTS_ON = "appointments_on"
"""Index of open cases by the day (ISO date) of each appointment still scheduled: the due
follow-ups of any number of cases without reading them all."""
APPOINTMENTS_OF_POSITION = "appointments_of_position"
"""The same per position (key ``<position id>/<day>``): one position's due follow-ups read
only its own cases."""


class CaseIndexes:
    """The entries of ``Case`` in the indexes kept with the events."""

    if TYPE_CHECKING:  # what ``Case`` provides
        state: CaseState
        person_id: UUID
        position_id: UUID | None
        appointments: list[dict[str, str]]

    def index_entries(self) -> frozenset[tuple[str, str]]:
        """An open case counts among its person's open cases and, once assigned, in its
        position's caseload; it stands under the day of each appointment still scheduled."""
        if self.state == CaseState.CLOSED:
            return frozenset()
        entries = {(OPEN_CASES_OF_PERSON, str(self.person_id))}
        days = {a["on"] for a in self.appointments if a["outcome"] == "scheduled"}
        entries |= {(APPOINTMENTS_ON, day) for day in days}
        if self.position_id is not None:
            entries |= {(APPOINTMENTS_OF_POSITION, f"{self.position_id}/{day}") for day in days}
        if self.position_id is not None:
            entries.add((OPEN_CASES_OF_POSITION, str(self.position_id)))
        return frozenset(entries)
