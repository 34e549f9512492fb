"""The requirements per legal basis as versioned rule data with validity dates.

The law changes (the 2024 citizenship reform cut the residence period for naturalisation
from 8 to 5 years and brought a 3-year path that was removed again in 2025), so every rule
is a version with a period of validity. A procedure is judged by the version valid on its
**application date**; the decision event records the version and its figures, so a later
change of this table never changes a past decision's figures (nor the figures derived from
it). A new version is a new row here with its own ``version`` id; an old row is never edited
except to close its period (``valid_until``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from contexts.immigration_office.states import LEVELS, Check, LegalBasis, Level
from contexts.shared.errors import DomainError


@dataclass(frozen=True)
class RuleVersion:
    basis: LegalBasis
    version: str
    valid_from: date
    valid_until: date | None  # the last day of validity; None: in force
    residence_years: int  # lawful habitual residence (or toleration) at least
    language: Level | None  # the language level required (None: none)
    checks: frozenset[Check]  # checks that must have passed, besides residence and language
    permit_months: int | None = None  # the permit's term (§ 104c: 18 months)
    source: str = ""

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    def figures(self) -> dict[str, Any]:
        """What a decision event records of the rule it applied."""
        return {
            "version": self.version,
            "basis": self.basis.value,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "residence_years": self.residence_years,
            "language": self.language.value if self.language else None,
            "checks": sorted(c.value for c in self.checks),
            "permit_months": self.permit_months,
        }


NATURALISATION_CHECKS = frozenset(
    {
        Check.IDENTITY,
        Check.TEST,
        Check.LIVELIHOOD,
        Check.SECURITY_ENQUIRY,
        Check.NO_CONVICTIONS,
        Check.COMMITMENT,
    }
)
REFORM_2024 = date(2024, 6, 27)  # Gesetz zur Modernisierung des Staatsangehörigkeitsrechts
FAST_TRACK_REMOVED = date(2025, 10, 30)
"""The 3-year path (§ 10 (3) StAG) was abolished by the amending act of 2025 (BGBl. 2025 I
Nr. 234, in force 30.10.2025 as we read it); the seeds and the digest say only "removed again
in 2025". Applications received up to the day before are judged by it. A correction is a
change of this date, i.e. of the version's ``valid_until``."""
OPPORTUNITY_START = date(2022, 12, 31)  # § 104c AufenthG in force (Chancen-Aufenthaltsrecht)
OPPORTUNITY_END = date(2025, 12, 31)  # § 104c was time-limited to applications until then

B = LegalBasis
RULES: tuple[RuleVersion, ...] = (
    RuleVersion(
        B.STAG_10, "stag_10@2008-09-01", date(2008, 9, 1), date(2024, 6, 26),
        8, Level.B1, NATURALISATION_CHECKS,
        source="StAG § 10 (1) a. F.: 8 Jahre (the shorter 7 and 6 years of § 10 (3) a. F."
        " after an integration course or special achievements are not modelled)",
    ),
    RuleVersion(
        B.STAG_10, "stag_10@2024-06-27", REFORM_2024, None,
        5, Level.B1, NATURALISATION_CHECKS, source="StAG § 10 (1) n. F.: 5 Jahre",
    ),
    RuleVersion(
        B.STAG_10_3, "stag_10_3@2024-06-27", REFORM_2024, FAST_TRACK_REMOVED - timedelta(days=1),
        3, Level.C1, NATURALISATION_CHECKS | {Check.SCHOOL_OR_TRAINING},
        source="StAG § 10 (3) 2024: 3 Jahre bei besonderen Integrationsleistungen, C1",
    ),
    RuleVersion(
        B.AUFENTHG_104C, "aufenthg_104c@2022-12-31", OPPORTUNITY_START, OPPORTUNITY_END,
        5, None, frozenset({Check.IDENTITY, Check.NO_CONVICTIONS, Check.COMMITMENT}),
        permit_months=18, source="§ 104c AufenthG: 5 Jahre Duldung am 31.10.2022, 18 Monate",
    ),
    RuleVersion(
        B.AUFENTHG_25A, "aufenthg_25a@2022-12-31", OPPORTUNITY_START, None,
        3, None, frozenset({Check.IDENTITY, Check.SCHOOL_OR_TRAINING, Check.PASSPORT}),
        source="§ 25a AufenthG: 3 Jahre, Schule oder Ausbildung, bis 27 Jahre",
    ),
    RuleVersion(
        B.AUFENTHG_25B, "aufenthg_25b@2015-08-01", date(2015, 8, 1), date(2022, 12, 30),
        8, Level.A2, frozenset({Check.IDENTITY, Check.LIVELIHOOD, Check.TEST, Check.PASSPORT}),
        source="§ 25b AufenthG a. F.: 8 Jahre (6 mit minderjährigen Kindern), A2",
    ),
    RuleVersion(
        B.AUFENTHG_25B, "aufenthg_25b@2022-12-31", OPPORTUNITY_START, None,
        6, Level.A2, frozenset({Check.IDENTITY, Check.LIVELIHOOD, Check.TEST, Check.PASSPORT}),
        source="§ 25b AufenthG: 6 Jahre (4 mit minderjährigen Kindern), A2",
    ),
    RuleVersion(
        B.AUFENTHG_9, "aufenthg_9@2005-01-01", date(2005, 1, 1), None,
        5, Level.B1, frozenset({Check.LIVELIHOOD, Check.TEST}),
        source="§ 9 AufenthG: 5 Jahre, B1, Lebensunterhalt, 60 Monate Rentenbeiträge",
    ),
    RuleVersion(
        B.AUFENTHG_26, "aufenthg_26@2016-08-06", date(2016, 8, 6), None,
        5, Level.A2, frozenset({Check.LIVELIHOOD}),
        source="§ 26 (3) AufenthG: 5 Jahre, A2, Lebensunterhalt überwiegend gesichert",
    ),
)  # fmt: skip
del B


def rule_for(
    basis: LegalBasis, applied_on: date, rules: tuple[RuleVersion, ...] | None = None
) -> RuleVersion:
    """The version of ``basis``'s rule valid on the application date, or a refusal naming
    the versions there are (``rule-not-in-force``); ``rules``: the table (``RULES``)."""
    rules = RULES if rules is None else rules
    found = [r for r in rules if r.basis == basis and r.valid_on(applied_on)]
    if not found:
        known = [
            f"{r.version} ({r.valid_from}..{r.valid_until or ''})"
            for r in rules
            if r.basis == basis
        ]
        raise DomainError(
            "rule-not-in-force",
            f"no rule for {basis} is in force on {applied_on}; versions: {', '.join(known)}",
            field="applied_on",
            basis=basis.value,
        )
    return found[0]


def level_reached(found: Level | None, needed: Level | None) -> bool:
    if needed is None:
        return True
    return found is not None and LEVELS.index(found) >= LEVELS.index(needed)
