"""Integration events of case management that other contexts may consume (v1).

``CaseGapReported``: a case manager saw a gap in the system of services in a case. The event
carries no personal data; coordination records it as a system gap of the same tenant.
Subject: ``kim.<tenant>.case_management.CaseGapReported``; the JSON state holds the fields
below (``reported_on`` as an ISO date).
"""

from __future__ import annotations

CONTRACT_VERSION = 1

GAP_REPORTED = "CaseGapReported"
GAP_REPORTED_FIELDS = ("life_dimension", "description", "reported_on")
