"""German labels of the codes the pages show, in the vocabulary of the context READMEs."""

from __future__ import annotations

ROLES = {
    "district_coordinator": "Kreiskoordination (Kommunales Integrationszentrum)",
    "coordinator": "Koordinierungsstelle",
    "case_manager": "Case Management",
    "immigration_officer": "Ausländerbehörde",
    "steering_member": "Lenkungsgruppe",
    "auditor": "Prüfung (Bezirksregierung)",
    "platform_admin": "Plattformbetrieb",
}
STATES = {
    "intake": "Erstberatung",
    "assessment": "Bestandsaufnahme",
    "goal_agreement": "Zielvereinbarung",
    "linking": "Leistungssteuerung",
    "monitoring": "Monitoring",
    "reassessment": "Re-Assessment",
    "closed": "Abgeschlossen",
}
LIFE_DIMENSIONS = {
    "health": "Gesundheit",
    "language": "Sprache",
    "education": "Bildung",
    "work_and_livelihood": "Arbeit und Lebensunterhalt",
    "housing": "Wohnen",
    "residence_status": "Aufenthaltsstatus",
    "political_participation": "Politische Teilhabe",
    "culture_and_leisure": "Kultur und Freizeit",
    "family": "Familie",
    "mobility": "Mobilität",
    "discrimination": "Diskriminierung",
}
REFERRAL_SOURCES = {
    "immigration_office": "Ausländerbehörde",
    "job_centre": "Jobcenter",
    "social_welfare_office": "Sozialamt",
    "school": "Schule",
    "self_referral": "Selbstmeldung",
    "other": "Andere Stelle",
}
CLOSURE_REASONS = {
    "goals_reached": "Ziele erreicht",
    "moved_away": "Weggezogen",
    "ended_by_person": "Von der Person beendet",
    "no_contact": "Kein Kontakt mehr",
    "transferred": "An einen anderen Träger übergeben",
}
SERVICES = {
    "language_course_counselling": "Sprachkursberatung",
    "mbe": "Migrationsberatung für Erwachsene (MBE)",
    "jmd": "Jugendmigrationsdienst (JMD)",
    "school_newcomer_counselling": "Seiteneinsteigerberatung",
    "job_centre": "Jobcenter (SGB II)",
    "employment_agency": "Agentur für Arbeit (SGB III)",
    "youth_office": "Jugendamt (SGB VIII)",
    "health": "Gesundheitsdienst",
    "housing": "Wohnungshilfe",
    "other": "Anderer Dienst",
}
REFERRAL_STATUSES = {
    "proposed": "Vorgeschlagen",
    "accepted": "Angenommen",
    "rejected": "Abgelehnt",
    "completed": "Abgeschlossen",
}
NEED_LEVELS = {"high": "Hoch", "medium": "Mittel", "low": "Gering"}
CONTACT_CHANNELS = {
    "in_person": "Persönlich",
    "phone": "Telefon",
    "video": "Video",
    "message": "Nachricht",
    "accompaniment": "Begleitung zu einem Termin",
}
CONSENT_PURPOSES = {
    "case_management": "Fallbearbeitung",
    "referral": "Weitergabe an einen Dienst (Verweisung)",
    "data_handover": "Datenübergabe",
    "transfer": "Übergabe an einen anderen Mandanten",
    "achievements": "Integrationsleistungen an die Ausländerbehörde",
}
APPROVAL_STEPS = {"goal_agreement": "Zielvereinbarung", "closure": "Abschluss"}
APPOINTMENT_KINDS = {
    "intake": "Erstgespräch",
    "assessment": "Bestandsaufnahme",
    "goal_agreement": "Zielvereinbarung",
    "follow_up": "Folgetermin",
    "accompaniment": "Begleitung",
    "review": "Überprüfung",
    "case_conference": "Fallkonferenz",
    "closing": "Abschlussgespräch",
    "other": "Sonstiges",
}
ACHIEVEMENT_KINDS = {
    "language_certificate": "Sprachzertifikat",
    "integration_course": "Integrationskurs bestanden",
    "naturalisation_test": "Einbürgerungstest bestanden",
    "employment": "Sozialversicherungspflichtige Beschäftigung",
    "qualification": "Schul- oder Berufsabschluss",
}

ALL = {
    "role": ROLES,
    "state": STATES,
    "dimension": LIFE_DIMENSIONS,
    "source": REFERRAL_SOURCES,
    "closure": CLOSURE_REASONS,
    "service": SERVICES,
    "referral": REFERRAL_STATUSES,
    "need": NEED_LEVELS,
    "channel": CONTACT_CHANNELS,
    "consent": CONSENT_PURPOSES,
    "approval": APPROVAL_STEPS,
    "appointment": APPOINTMENT_KINDS,
    "achievement": ACHIEVEMENT_KINDS,
}


def label(kind: str, code: object) -> str:
    """The German label of ``code`` (the code itself when none is known)."""
    if code is None:
        return "–"
    return ALL.get(kind, {}).get(str(code), str(code))


MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
          "Oktober", "November", "Dezember")  # fmt: skip


def german_month(value: object) -> str:
    """``2021-09`` as ``September 2021``; anything else as it is."""
    text = "" if value is None else str(value)
    if len(text) == 7 and text[4] == "-" and text[5:7].isdigit() and 1 <= int(text[5:7]) <= 12:
        return f"{MONTHS[int(text[5:7]) - 1]} {text[:4]}"
    return text or "–"


def german_date(value: object) -> str:
    """``2021-09-01`` as ``01.09.2021``; anything else as it is."""
    text = "" if value is None else str(value)
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        return f"{text[8:10]}.{text[5:7]}.{text[0:4]}"
    return text or "–"
