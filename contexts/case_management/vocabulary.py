"""The vocabulary of case management: states, sources, services, outcomes, and the cycle's
allowed transitions (Regelkreis)."""

from __future__ import annotations

from enum import StrEnum

from contexts.shared.errors import DomainError

# The life dimensions are the coordination context's; case management uses the same codes.
LIFE_DIMENSIONS = (
    "health", "language", "education", "work_and_livelihood", "housing", "residence_status",
    "political_participation", "culture_and_leisure", "family", "mobility", "discrimination",
)  # fmt: skip


class CaseState(StrEnum):
    INTAKE = "intake"  # Erstberatung
    ASSESSMENT = "assessment"  # Bestandsaufnahme
    GOAL_AGREEMENT = "goal_agreement"  # Zielvereinbarung
    LINKING = "linking"  # Leistungssteuerung
    MONITORING = "monitoring"  # Monitoring
    REASSESSMENT = "reassessment"  # Re-Assessment
    CLOSED = "closed"  # Abschluss


class ReferralSource(StrEnum):
    IMMIGRATION_OFFICE = "immigration_office"
    JOB_CENTRE = "job_centre"
    SOCIAL_WELFARE_OFFICE = "social_welfare_office"
    SCHOOL = "school"
    SELF_REFERRAL = "self_referral"
    OTHER = "other"


class ClosureReason(StrEnum):
    GOALS_REACHED = "goals_reached"
    MOVED_AWAY = "moved_away"
    ENDED_BY_PERSON = "ended_by_person"
    NO_CONTACT = "no_contact"
    TRANSFERRED = "transferred"


class Service(StrEnum):
    LANGUAGE_COURSE_COUNSELLING = "language_course_counselling"  # Sprachkursberatung
    MBE = "mbe"  # Migrationsberatung für Erwachsene
    JMD = "jmd"  # Jugendmigrationsdienst
    SCHOOL_NEWCOMER_COUNSELLING = "school_newcomer_counselling"  # Seiteneinsteigerberatung
    JOB_CENTRE = "job_centre"  # Jobcenter (SGB II)
    EMPLOYMENT_AGENCY = "employment_agency"  # Agentur für Arbeit (SGB III)
    YOUTH_OFFICE = "youth_office"  # Jugendamt (SGB VIII)
    HEALTH = "health"
    HOUSING = "housing"
    OTHER = "other"


# Legal areas with their own case management get referral only (Verweisberatung).
REFERRAL_ONLY = {Service.JOB_CENTRE, Service.EMPLOYMENT_AGENCY, Service.YOUTH_OFFICE}


class ReferralStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    COMPLETED = "completed"


ALLOWED: dict[CaseState, set[CaseState]] = {
    CaseState.INTAKE: {CaseState.ASSESSMENT, CaseState.CLOSED},
    CaseState.ASSESSMENT: {CaseState.GOAL_AGREEMENT, CaseState.CLOSED},
    CaseState.GOAL_AGREEMENT: {CaseState.LINKING, CaseState.CLOSED},
    CaseState.LINKING: {CaseState.MONITORING, CaseState.CLOSED},
    CaseState.MONITORING: {CaseState.REASSESSMENT, CaseState.CLOSED},
    CaseState.REASSESSMENT: {CaseState.GOAL_AGREEMENT, CaseState.CLOSED},  # back into planning
    CaseState.CLOSED: set(),
}
GOALS_AGREED_STATES = {CaseState.LINKING, CaseState.MONITORING, CaseState.REASSESSMENT}
REFERRAL_STATES = {CaseState.LINKING, CaseState.MONITORING}


class ApprovalStep(StrEnum):
    """Steps a tenant can make subject to the supervising post's approval."""

    GOAL_AGREEMENT = "goal_agreement"
    CLOSURE = "closure"


class AppointmentOutcome(StrEnum):
    KEPT = "kept"
    MISSED = "missed"
    CANCELLED = "cancelled"


class NeedLevel(StrEnum):
    """How much support a life dimension needs (Bedarf); a code, never free text."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class AppointmentKind(StrEnum):
    """What an appointment is for; a code, never free text (details go into a sealed note)."""

    INTAKE = "intake"  # Erstgespräch
    ASSESSMENT = "assessment"  # Bestandsaufnahme
    GOAL_AGREEMENT = "goal_agreement"  # Zielvereinbarung
    FOLLOW_UP = "follow_up"  # Folgetermin
    ACCOMPANIMENT = "accompaniment"  # Begleitung zu einem Termin
    REVIEW = "review"  # Re-Assessment, Überprüfung
    CASE_CONFERENCE = "case_conference"  # Fallkonferenz
    CLOSING = "closing"  # Abschlussgespräch
    OTHER = "other"


def check_code(value: str, codes: type[StrEnum], field: str) -> str:
    """A code of ``codes``, or a refusal naming the allowed ones (free text is not stored)."""
    allowed = [c.value for c in codes]
    if value not in allowed:
        raise DomainError(
            "unknown-code",
            f"{field} takes one of the codes {', '.join(allowed)}",
            field=field,
            allowed=allowed,
        )
    return value


class ContactChannel(StrEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"
    MESSAGE = "message"
    ACCOMPANIMENT = "accompaniment"  # Begleitung zu einem Termin


def check_dimensions(values: dict[str, str], field: str) -> None:
    unknown = sorted(set(values) - set(LIFE_DIMENSIONS))
    if unknown:
        raise DomainError(
            "unknown-life-dimension", f"unknown life dimensions: {', '.join(unknown)}", field=field
        )
    if not values:
        raise DomainError("no-life-dimension", "name at least one life dimension", field=field)
