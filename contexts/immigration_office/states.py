"""The procedures' vocabulary and their state machines, as data.

Each kind of procedure has a table: for every state, the steps allowed from it and the state
each step leads to. A step not in the table for the current state is refused with a domain
error naming the state and the step (``transition-not-allowed``), so what is allowed is read
from one place, by the aggregate, the README and the tests alike.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    NATURALISATION = "naturalisation"  # Einbürgerung
    RESIDENCE = "residence_consolidation"  # Aufenthaltsverfestigung


class LegalBasis(StrEnum):
    STAG_10 = "stag_10"  # Anspruchseinbürgerung, StAG § 10 (1)
    STAG_10_3 = "stag_10_3"  # verkürzte Frist bei besonderen Integrationsleistungen, § 10 (3)
    AUFENTHG_104C = "aufenthg_104c"  # Chancen-Aufenthaltsrecht
    AUFENTHG_25A = "aufenthg_25a"  # gut integrierte Jugendliche und junge Volljährige
    AUFENTHG_25B = "aufenthg_25b"  # nachhaltige Integration
    AUFENTHG_9 = "aufenthg_9"  # Niederlassungserlaubnis
    AUFENTHG_26 = "aufenthg_26"  # Niederlassungserlaubnis für anerkannte Schutzberechtigte


KIND_OF: dict[LegalBasis, Kind] = {
    LegalBasis.STAG_10: Kind.NATURALISATION,
    LegalBasis.STAG_10_3: Kind.NATURALISATION,
    **{
        b: Kind.RESIDENCE
        for b in (
            LegalBasis.AUFENTHG_104C,
            LegalBasis.AUFENTHG_25A,
            LegalBasis.AUFENTHG_25B,
            LegalBasis.AUFENTHG_9,
            LegalBasis.AUFENTHG_26,
        )
    },
}
CONVERSIONS = {LegalBasis.AUFENTHG_25A, LegalBasis.AUFENTHG_25B}
"""What an opportunity residence (§ 104c) is converted into."""


class State(StrEnum):
    COUNSELLING = "counselling"  # Beratung
    APPLICATION_RECEIVED = "application_received"  # Antrag eingegangen
    DOCUMENTS_REQUESTED = "documents_requested"  # Unterlagen angefordert
    DOCUMENTS_COMPLETE = "documents_complete"  # Unterlagen vollständig
    CHECKS = "checks"  # Prüfungen (Identität, Sprache, Test, Lebensunterhalt, Sicherheit, ...)
    REQUIREMENTS_CHECKED = "requirements_checked"  # Voraussetzungen geprüft
    GRANTED = "granted"  # bewilligt / eingebürgert (Zusicherung bzw. Erlaubnis erteilt)
    REFUSED = "refused"  # abgelehnt
    WITHDRAWN = "withdrawn"  # zurückgenommen
    CERTIFICATE_HANDED_OVER = "certificate_handed_over"  # Urkunde ausgehändigt
    CEREMONY_INVITED = "ceremony_invited"  # zur Einbürgerungsfeier eingeladen
    CONVERTED = "converted"  # in § 25a / § 25b übergeleitet (from § 104c)
    EXPIRED = "expired"  # § 104c abgelaufen, zurück in die Duldung
    HANDED_OVER = "handed_over"  # an die zuständige Behörde abgegeben (Umzug)


class Step(StrEnum):
    RECEIVE_APPLICATION = "receive_application"
    REQUEST_DOCUMENTS = "request_documents"
    COMPLETE_DOCUMENTS = "complete_documents"
    START_CHECKS = "start_checks"
    COMPLETE_REQUIREMENTS_CHECK = "complete_requirements_check"
    GRANT = "grant"
    REFUSE = "refuse"
    WITHDRAW = "withdraw"
    HAND_OVER_CERTIFICATE = "hand_over_certificate"
    INVITE_TO_CEREMONY = "invite_to_ceremony"
    CONVERT = "convert"
    EXPIRE = "expire"
    HAND_OVER = "hand_over"  # the person moved: to the office responsible for the new residence


S, T = State, Step
TRANSITIONS: dict[Kind, dict[State, dict[Step, State]]] = {
    Kind.NATURALISATION: {
        S.COUNSELLING: {T.RECEIVE_APPLICATION: S.APPLICATION_RECEIVED, T.WITHDRAW: S.WITHDRAWN},
        S.APPLICATION_RECEIVED: {
            T.REQUEST_DOCUMENTS: S.DOCUMENTS_REQUESTED,
            T.COMPLETE_DOCUMENTS: S.DOCUMENTS_COMPLETE,
            T.WITHDRAW: S.WITHDRAWN,
        },
        S.DOCUMENTS_REQUESTED: {
            T.COMPLETE_DOCUMENTS: S.DOCUMENTS_COMPLETE,
            T.WITHDRAW: S.WITHDRAWN,
        },
        S.DOCUMENTS_COMPLETE: {
            T.START_CHECKS: S.CHECKS,
            T.REQUEST_DOCUMENTS: S.DOCUMENTS_REQUESTED,
            T.WITHDRAW: S.WITHDRAWN,
        },
        S.CHECKS: {
            T.GRANT: S.GRANTED,
            T.REFUSE: S.REFUSED,
            T.WITHDRAW: S.WITHDRAWN,
            T.REQUEST_DOCUMENTS: S.DOCUMENTS_REQUESTED,
        },
        S.GRANTED: {T.HAND_OVER_CERTIFICATE: S.CERTIFICATE_HANDED_OVER},
        S.CERTIFICATE_HANDED_OVER: {T.INVITE_TO_CEREMONY: S.CEREMONY_INVITED},
        S.CEREMONY_INVITED: {},
        S.REFUSED: {},
        S.WITHDRAWN: {},
    },
    Kind.RESIDENCE: {
        S.COUNSELLING: {T.RECEIVE_APPLICATION: S.APPLICATION_RECEIVED, T.WITHDRAW: S.WITHDRAWN},
        S.APPLICATION_RECEIVED: {
            T.COMPLETE_REQUIREMENTS_CHECK: S.REQUIREMENTS_CHECKED,
            T.WITHDRAW: S.WITHDRAWN,
        },
        S.REQUIREMENTS_CHECKED: {T.GRANT: S.GRANTED, T.REFUSE: S.REFUSED, T.WITHDRAW: S.WITHDRAWN},
        # Only an opportunity residence (§ 104c) moves on from granted (see ``allowed``).
        S.GRANTED: {T.CONVERT: S.CONVERTED, T.EXPIRE: S.EXPIRED},
        S.REFUSED: {},
        S.WITHDRAWN: {},
        S.CONVERTED: {},
        S.EXPIRED: {},
    },
}
# A person who moves is handed over from every state that still allows a step (a final
# state allows none); the origin's procedure ends there (``handover.py``).
for _table in TRANSITIONS.values():
    for _steps in _table.values():
        if _steps:
            _steps[T.HAND_OVER] = S.HANDED_OVER
    _table[S.HANDED_OVER] = {}
del S, T, _table, _steps

AFTER_GRANT_OF_104C = {Step.CONVERT, Step.EXPIRE}
CHECKS_ALLOWED_IN = {
    State.APPLICATION_RECEIVED,
    State.DOCUMENTS_REQUESTED,
    State.DOCUMENTS_COMPLETE,
    State.CHECKS,
    State.REQUIREMENTS_CHECKED,
    State.GRANTED,  # a § 104c permit runs: its requirements are met while it runs
}
DECIDED = {State.GRANTED, State.REFUSED, State.WITHDRAWN}
"""The states a decision leads to (processing time ends there)."""
OPEN_APPLICATION = {
    State.APPLICATION_RECEIVED,
    State.DOCUMENTS_REQUESTED,
    State.DOCUMENTS_COMPLETE,
    State.CHECKS,
    State.REQUIREMENTS_CHECKED,
}
"""An application received and not yet decided (the backlog)."""


def allowed(basis: LegalBasis, state: State) -> dict[Step, State]:
    """The steps allowed from ``state`` for a procedure on ``basis`` and where they lead."""
    table = dict(TRANSITIONS[KIND_OF[basis]][state])
    if state == State.GRANTED and basis != LegalBasis.AUFENTHG_104C:
        for step in AFTER_GRANT_OF_104C:
            table.pop(step, None)
        if KIND_OF[basis] == Kind.RESIDENCE:  # a settled residence permit is final
            table.pop(Step.HAND_OVER, None)
    return table


class Check(StrEnum):
    """What the office checks (Prüfungen); a rule names the ones it requires."""

    IDENTITY = "identity"  # Identität geklärt
    LANGUAGE = "language"  # Sprachnachweis (with its level)
    TEST = "test"  # Einbürgerungstest "Leben in Deutschland" / Grundkenntnisse der Rechtsordnung
    LIVELIHOOD = "livelihood"  # Lebensunterhalt ohne SGB II / XII
    SECURITY_ENQUIRY = "security_enquiry"  # Sicherheitsabfrage (Regelanfrage)
    NO_CONVICTIONS = "no_convictions"  # keine relevanten Verurteilungen
    COMMITMENT = "commitment"  # Bekenntnis zur freiheitlichen demokratischen Grundordnung
    SCHOOL_OR_TRAINING = "school_or_training"  # Schulbesuch oder Ausbildung (§ 25a)
    PASSPORT = "passport"  # Pass / Passbeschaffung (§ 104c → § 25a/b)


class Level(StrEnum):
    """Language levels of the Common European Framework (GER)."""

    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"
    C1 = "C1"
    C2 = "C2"


LEVELS = list(Level)
