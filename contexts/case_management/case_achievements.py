"""Integration achievements recorded on a case: a language certificate with its level, an
integration course or the naturalisation test passed, employment subject to social
insurance, a school or vocational qualification (``contracts.ACHIEVEMENT_KINDS``).

An achievement is a fact of the case (event ``Case.AchievementRecorded``: codes and dates
only, no personal data), recorded whether or not the person consented to share it. Whether
it goes to an immigration office is decided by the application (``achievements.py``) under
the person's consent for that purpose and recipient.

``AchievementRules`` is a mixin of ``Case`` (``domain.py``): its command checks and then
calls the case's event-recording method, which stays with the events in ``domain.py``.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from contexts.case_management.contracts import ACHIEVEMENT_KINDS
from contexts.shared.errors import DomainError

LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
"""The levels of the Common European Framework a language certificate names."""


def check_achievement(kind: str, level: str | None) -> None:
    """A known kind; a language certificate, and only it, names its level."""
    if kind not in ACHIEVEMENT_KINDS:
        raise DomainError("unknown-achievement", f"no achievement {kind}", field="kind")
    if (kind == "language_certificate") != (level in LEVELS):
        raise DomainError(
            "language-level", "a language certificate, and only it, names its level",
            field="level",
        )  # fmt: skip


class AchievementRules:
    """The command of the case's achievements; ``Case`` records its event."""

    if TYPE_CHECKING:  # what ``Case`` provides
        opened_on: date
        achievements: list[dict[str, str | None]]

        @property
        def is_closed(self) -> bool: ...
        def _achievement_recorded(
            self, kind: str, level: str | None, achieved_on: str, on: str
        ) -> None: ...

    def record_achievement(self, kind: str, level: str | None, achieved_on: date, on: date) -> None:
        """``achieved_on``: the certificate's or exam's date (may lie before the case
        opened); ``on``: the day it is recorded (not before the case opened)."""
        if self.is_closed:
            raise DomainError("case-closed", "a closed case takes no achievements", field="state")
        check_achievement(kind, level)
        if on < self.opened_on:
            raise DomainError(
                "date-before-opening", f"{on} lies before the case opened on {self.opened_on}",
                field="on",
            )  # fmt: skip
        if achieved_on > on:
            raise DomainError(
                "achievement-in-future", f"achieved on {achieved_on}, after it is recorded ({on})",
                field="achieved_on",
            )  # fmt: skip
        self._achievement_recorded(kind, level, achieved_on.isoformat(), on.isoformat())

    def achievement(self, index: int) -> dict[str, str | None]:
        """One achievement recorded on the case, by its place in the list."""
        if not 0 <= index < len(self.achievements):
            raise DomainError(
                "no-such-achievement", f"the case has no achievement {index}", field="achievement"
            )
        return self.achievements[index]
