"""German labels of the yearly report beyond those of the statement (``labels``), and what
its appendix says about an event of case management, the immigration office or steering.

Only codes, counts and dates go into these texts: never a field that may hold personal
data or sealed free text.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.audit.labels import day

SOURCES = {
    "immigration_office": "Ausländerbehörde",
    "job_centre": "Jobcenter",
    "social_welfare_office": "Sozialamt",
    "school": "Schule",
    "self_referral": "eigene Initiative",
    "other": "Sonstige",
}
KINDS = {
    "naturalisation": "Einbürgerung",
    "residence_consolidation": "Aufenthaltsverfestigung",
}
BASES = {
    "stag_10": "Einbürgerung (StAG § 10 Abs. 1)",
    "stag_10_3": "Einbürgerung, verkürzt (StAG § 10 Abs. 3)",
    "aufenthg_104c": "Chancen-Aufenthaltsrecht (§ 104c AufenthG)",
    "aufenthg_25a": "Gut integrierte Jugendliche (§ 25a AufenthG)",
    "aufenthg_25b": "Nachhaltige Integration (§ 25b AufenthG)",
    "aufenthg_9": "Niederlassungserlaubnis (§ 9 AufenthG)",
    "aufenthg_26": "Niederlassungserlaubnis Schutzberechtigte (§ 26 AufenthG)",
}
RESOLUTION_STATUS = {
    "passed": "beschlossen",
    "rejected": "abgelehnt",
    "implementation": "in Umsetzung",
    "implemented": "umgesetzt",
    "evaluated": "evaluiert",
}
OFFICE_REFERRALS = {"requested": "angefragt", "accepted": "angenommen", "declined": "abgelehnt"}

EVENTS = {
    "Case.Opened": "Fall eröffnet",
    "Case.Assessed": "Bestandsaufnahme",
    "Case.Closed": "Fall abgeschlossen",
    "Case.HandedOver": "Fall übergeben (Umzug)",
    "Case.Assigned": "Fall einer Stelle zugewiesen",
    "Case.ReferralProposed": "Verweisung vorgeschlagen",
    "Case.ReferralAnswered": "Verweisung beantwortet",
    "Case.ReferralCompleted": "Verweisung abgeschlossen",
    "SystemGap.Recorded": "Versorgungslücke erfasst",
    "GapTopic.Opened": "Thema eröffnet",
    "GapTopic.GapAdded": "Lücke dem Thema zugeordnet",
    "GapTopic.StepReached": "Schritt im Steuerungskreislauf erreicht",
    "GapTopic.ChainLinkAdded": "Glied der Dienstleistungskette",
    "GapTopic.ChainLinkDone": "Glied der Dienstleistungskette erledigt",
    "GapTopic.SubmittedToSteering": "an die Lenkungsgruppe übermittelt",
    "Procedure.Opened": "Verfahren eröffnet",
    "Procedure.ApplicationReceived": "Antrag eingegangen",
    "Procedure.Granted": "bewilligt",
    "Procedure.Refused": "abgelehnt",
    "Procedure.Withdrawn": "zurückgenommen",
    "Procedure.HandedOver": "an die zuständige Behörde abgegeben",
    "Procedure.TakenOver": "von einer anderen Behörde übernommen",
    "Procedure.ReferredToCaseManagement": "an das Case Management verwiesen",
    "Procedure.ReferralAnswered": "Verweisung beantwortet",
    "SteeringGroupFounded": "Lenkungsgruppe gegründet",
    "SteeringGroupMemberJoined": "Mitglied aufgenommen",
    "SteeringGroupMemberLeft": "Mitglied ausgeschieden",
    "MeetingScheduled": "Sitzung angesetzt",
    "MeetingInvitationSent": "Einladung mit Tagesordnung versandt",
    "MeetingAgendaItemAdded": "Tagesordnungspunkt",
    "MeetingHeld": "Sitzung abgehalten",
    "MeetingMinutesDrafted": "Ergebnisprotokoll entworfen",
    "MeetingMinutesApproved": "Ergebnisprotokoll genehmigt",
    "MeetingMinutesAmended": "Ergebnisprotokoll ergänzt",
    "ResolutionPassed": "Beschluss gefasst",
    "ResolutionRejected": "Beschlussvorlage abgelehnt",
    "ResolutionImplementationStarted": "Umsetzung begonnen",
    "ResolutionImplemented": "umgesetzt",
    "ResolutionEvaluated": "evaluiert",
    "ResolutionTaskAssigned": "Aufgabe vergeben",
    "ResolutionTaskDone": "Aufgabe erledigt",
    "WorkingGroupMandated": "Arbeitsgruppe beauftragt",
    "WorkingGroupReported": "Arbeitsgruppe berichtet",
}
DATES = (
    "on", "opened_on", "reported_on", "held_on", "scheduled_for", "sent_on", "founded_on",
    "valid_from",
)  # fmt: skip


def describe_event(event: Any) -> str:
    """The appendix's words for an event: what happened and on which day."""
    data = getattr(event, "data", None)
    if isinstance(data, dict):  # a steering record: the published fields
        kind, fields = str(event.event_type), data
    else:
        kind, fields = type(event).__qualname__, vars(event)
    text = EVENTS.get(kind, kind)
    if kind == "SteeringGroupMemberJoined" and fields.get("institution"):
        voting = "stimmberechtigt" if fields.get("voting") else "beratend"
        text += f" ({fields['institution']}, {voting})"
    for name in DATES:
        value = fields.get(name)
        if isinstance(value, str) and len(value) >= 10:
            try:
                return f"{text} am {day(date.fromisoformat(value[:10]))}"
            except ValueError:
                break
    return text


def count(value: int) -> str:
    return f"{value:,}".replace(",", ".")
