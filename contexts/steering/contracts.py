"""Integration events of the steering context that other contexts may consume (v1).

Consumers match on the event type name in the bus subject
``kim.<tenant>.steering.<EventType>`` (``<tenant>`` is the tenant whose group it is) and
read only the fields listed in ``PUBLISHED_FIELDS``. The aggregate's id is the record's
``originator_id``: the group's for ``SteeringGroup*``, the meeting's for ``Meeting*``, the
resolution's for ``Resolution*``, the working group's for ``WorkingGroup*``.

No event carries personal data: members are institutions with a role and a member id
(random); the representative's pseudonymous subject stays in the group's own events
(``SteeringGroupMemberJoined`` does not publish it). Dates are ISO strings, ids UUID
strings (or eventsourcing's ``{"_type_": "uuid_hex", ...}``; read them with
``contexts.coordination.contracts.published_uuid``), counts integers.

Events about a resolution carry its source: ``topic_tenant`` and ``topic_id`` name the
coordination topic (``GapTopic``) it was submitted from (both None when the item came from
a member or a working group). Coordination moves that topic's strategic-cycle step on them.
"""

from __future__ import annotations

CONTRACT_VERSION = 1

# The group and its members (Lenkungsgruppe, Mitglieder).
GROUP_FOUNDED = "SteeringGroupFounded"
MEMBER_JOINED = "SteeringGroupMemberJoined"
MEMBER_LEFT = "SteeringGroupMemberLeft"

# Meetings (Sitzungen): scheduled, invited with the agenda, held, minutes.
MEETING_SCHEDULED = "MeetingScheduled"
MEETING_INVITED = "MeetingInvitationSent"
AGENDA_ITEM_ADDED = "MeetingAgendaItemAdded"
MEETING_HELD = "MeetingHeld"
MINUTES_DRAFTED = "MeetingMinutesDrafted"
MINUTES_APPROVED = "MeetingMinutesApproved"
MINUTES_AMENDED = "MeetingMinutesAmended"

# Resolutions (Beschlüsse) and their follow-up.
RESOLUTION_PASSED = "ResolutionPassed"
RESOLUTION_REJECTED = "ResolutionRejected"
IMPLEMENTATION_STARTED = "ResolutionImplementationStarted"
IMPLEMENTED = "ResolutionImplemented"
EVALUATED = "ResolutionEvaluated"
TASK_ASSIGNED = "ResolutionTaskAssigned"
TASK_DONE = "ResolutionTaskDone"

# Working groups (Arbeitsgruppen).
WORKING_GROUP_MANDATED = "WorkingGroupMandated"
WORKING_GROUP_REPORTED = "WorkingGroupReported"

RESOLUTION_STATUS_CHANGES = (IMPLEMENTATION_STARTED, IMPLEMENTED, EVALUATED)
"""The status changes of a resolution (Umsetzung begonnen, umgesetzt, evaluiert)."""

_TOPIC = ("topic_tenant", "topic_id")

PUBLISHED_FIELDS: dict[str, tuple[str, ...]] = {
    GROUP_FOUNDED: ("name", "founded_on", "rules"),
    # rules: {"quorum": "more_than_half" | "at_least_half" | "two_thirds",
    #         "majority": "simple" | "absolute" | "two_thirds",
    #         "abstentions_count": bool, "invitation_days": int}
    MEMBER_JOINED: (
        "member_id", "institution", "member_tenant", "role", "voting", "permanent",
        "valid_from", "valid_until",
    ),
    MEMBER_LEFT: ("member_id", "on"),
    MEETING_SCHEDULED: ("group_id", "title", "scheduled_for"),
    MEETING_INVITED: ("group_id", "sent_on", "agenda"),
    # agenda: [{"item": int, "title": str, "source": str}]
    AGENDA_ITEM_ADDED: ("group_id", "item", "title", "source", "carried_from", *_TOPIC),
    # source: "coordination" | "member" | "carried_over" | "working_group"
    MEETING_HELD: (
        "group_id", "held_on", "voting_members", "present_voting", "present_advisory",
        "quorum_reached",
    ),
    MINUTES_DRAFTED: ("group_id", "on"),
    MINUTES_APPROVED: ("group_id", "on", "approved_at_meeting"),
    MINUTES_AMENDED: ("group_id", "on", "amendment", "approved_at_meeting"),
    RESOLUTION_PASSED: (
        "group_id", "meeting_id", "item", "title", "votes_for", "votes_against",
        "abstentions", "on", *_TOPIC,
    ),
    RESOLUTION_REJECTED: (
        "group_id", "meeting_id", "item", "title", "votes_for", "votes_against",
        "abstentions", "on", *_TOPIC,
    ),
    IMPLEMENTATION_STARTED: ("group_id", "on", *_TOPIC),
    IMPLEMENTED: ("group_id", "on", *_TOPIC),
    EVALUATED: (
        "group_id", "on", "indicator", "before", "after", "source", "readjust", *_TOPIC,
    ),
    # indicator: the name; before/after: numbers as strings; source: what the figure came
    # from; readjust: the group asks for readjustment (Nachsteuerung)
    TASK_ASSIGNED: ("group_id", "task", "title", "owner_institution", "due_on", *_TOPIC),
    TASK_DONE: ("group_id", "task", "title", "owner_institution", "on", *_TOPIC),
    WORKING_GROUP_MANDATED: ("group_id", "resolution_id", "name", "mandate", "on"),
    WORKING_GROUP_REPORTED: ("group_id", "meeting_id", "item", "summary", "on"),
}  # fmt: skip
