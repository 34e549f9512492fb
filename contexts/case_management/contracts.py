"""Integration events of case management that other contexts may consume (v1).

``CaseGapReported``: a case manager saw a gap in the system of services in a case. The event
carries no personal data; coordination records it as a system gap of the same tenant.
Subject: ``kim.<tenant>.case_management.CaseGapReported``; the JSON state holds the fields
below (``reported_on`` as an ISO date).

``CaseHandedOver``: a person moved and the origin closed their case as transferred to
``to_tenant``. The destination takes it over: the summary holds needs and goals per life
dimension (no personal data); ``sealed_for_destination`` holds personal data only when the
person consented to the hand-over, sealed under the destination's transit key
``transfer_id``, which the destination destroys once it has taken the case over.
"""

from __future__ import annotations

CONTRACT_VERSION = 1

GAP_REPORTED = "CaseGapReported"
GAP_REPORTED_FIELDS = ("life_dimension", "description", "reported_on")

HANDED_OVER = "CaseHandedOver"
HANDED_OVER_FIELDS = (
    "to_tenant", "transfer_id", "referral_source", "summary", "sealed_for_destination",
    "on",
)  # fmt: skip
