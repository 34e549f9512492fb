"""Integration events of the immigration office that other contexts may consume (v1).

``ProcedureReferredToCaseManagement``: with the person's consent (purpose ``referral``,
recipient the case-management tenant), the office refers a person to the case management
responsible for where they live. The event carries no personal data: the ``referral_id``
(a random id, the only link between the two contexts' pseudonyms), ``to_tenant``,
``requirements`` (the open requirements as codes: ``language:B1``, ``livelihood``,
``test``, ``passport``, ``documents``, ...), ``on`` (ISO date) and, from version 2,
``deadlines`` (what is due by when: ``[{"due_on": ISO date, "what": "permit_end" |
"documents"}]``; version 1 events are upcast with none, consumers read a missing field as
none). Subject:
``kim.<office tenant>.immigration_office.ProcedureReferredToCaseManagement``; the JSON state
holds these fields as strings and lists of strings.

``ProcedureHandedOver``: a person moved and the origin closed the procedure as handed over
to ``to_tenant``, the office responsible for the new ``residence``, with the person's
consent (purpose ``hand_over``). ``facts`` holds the procedure's facts as codes and dates
(``person_id`` the origin's pseudonym, ``legal_basis``, ``state``, ``opened_on``,
``applied_on``, ``decided_on``, ``outcome``, ``rule_version``, ``rule``, ``permit_ends_on``,
``documents_due``, ``aims_at``, ``checks``, ``requirements_met``, ``requirements_open``,
``deadlines``); ``sealed_for_destination`` the personal data sealed under the destination's
one-time key ``transfer_id``, which the destination destroys once it has taken it over.

What the office consumes from case management is in ``contexts.case_management.contracts``
(``IntakeRequestAccepted``, ``IntakeRequestDeclined``, ``IntakeRequestAchievementShared``).
"""

from __future__ import annotations

CONTRACT_VERSION = 2

REFERRED = "ProcedureReferredToCaseManagement"
REFERRED_FIELDS = ("referral_id", "to_tenant", "requirements", "on", "deadlines")

HANDED_OVER = "ProcedureHandedOver"
HANDED_OVER_FIELDS = (
    "to_tenant", "residence", "transfer_id", "facts", "sealed_for_destination", "on",
)  # fmt: skip
