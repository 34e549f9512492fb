"""Integration events of case management that other contexts may consume (v2).

``CaseGapReported``: a case manager saw a gap in the system of services in a case. The event
carries no personal data in clear: the life dimension, the date and the gap's id; the case
manager's description is sealed under the person's key (``kimv1:...``) and is not for
consumers. Coordination records the gap as a system gap of the same tenant, without a
description. Subject: ``kim.<tenant>.case_management.CaseGapReported``; the JSON state holds
the fields below (``reported_on`` as an ISO date, ``gap_id`` as eventsourcing's UUID object
``{"_type_": "uuid_hex", "_data_": hex}``). Version 1 reports (no ``gap_id``) carried the
description in clear; coordination recorded it as it was.

``CaseGapReleased``: the supervising post reviewed the gap and released a description for
coordination (checked for personal data by ``contexts.shared.personal_data``): coordination
sets it as the description of the system gap recorded from the report with that ``gap_id``.

``CaseHandedOver``: a person moved and the origin closed their case as transferred to
``to_tenant``. The destination takes it over: the summary holds the needs per life dimension
(codes) and the goals per life dimension, each goal sealed under the destination's transit
key ``transfer_id`` (the transfer consent covers the case's content; before version 2 the
goals were clear text); ``sealed_for_destination`` holds personal data only when the person
consented to the hand-over, sealed under the same transit key, which the destination
destroys once it has taken the case over.
"""

from __future__ import annotations

CONTRACT_VERSION = 2

GAP_REPORTED = "CaseGapReported"
GAP_REPORTED_FIELDS = ("gap_id", "life_dimension", "description", "reported_on")

GAP_RELEASED = "CaseGapReleased"
GAP_RELEASED_FIELDS = ("gap_id", "index", "description", "released_on")

HANDED_OVER = "CaseHandedOver"
HANDED_OVER_FIELDS = (
    "to_tenant", "transfer_id", "referral_source", "summary", "sealed_for_destination",
    "on",
)  # fmt: skip

# Referrals from the immigration office (contexts/case_management/intake.py): the answer to
# an office's referral and the achievements shared under the person's consent (purpose
# ``achievements``, recipient the office's tenant). Fields are strings, codes and ISO dates;
# ``referral_id`` is the office's, ``office`` the office's tenant.
INTAKE_ACCEPTED = "IntakeRequestAccepted"
INTAKE_DECLINED = "IntakeRequestDeclined"
INTAKE_ACHIEVEMENT_SHARED = "IntakeRequestAchievementShared"
INTAKE_FIELDS = ("office", "referral_id", "on")
ACHIEVEMENT_FIELDS = ("office", "referral_id", "kind", "level", "achieved_on", "on")
ACHIEVEMENT_KINDS = (
    "language_certificate",  # Sprachzertifikat (with its level)
    "integration_course",  # Integrationskurs bestanden (incl. "Leben in Deutschland")
    "naturalisation_test",  # Einbürgerungstest bestanden
    "employment",  # sozialversicherungspflichtige Beschäftigung
    "qualification",  # Schul- oder Berufsabschluss
)
