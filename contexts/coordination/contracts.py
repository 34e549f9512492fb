"""Integration events of the coordination context that other contexts may consume (v1).

Consumers match on the event type name in the bus subject
``kim.<tenant>.coordination.<EventType>`` and read only the fields listed here.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

CONTRACT_VERSION = 1

ORGANISATION_REGISTERED = "OrganisationRegistered"
ORGANISATION_RENAMED = "OrganisationRenamed"
ORGANISATION_CLOSED = "OrganisationClosed"

# Supervision lines decide who may see which cases (case management, gateway).
POSITION_CREATED = "PositionCreated"
SUPERVISION_ASSIGNED = "PositionSupervisionAssigned"
SUPERVISION_ENDED = "PositionSupervisionEnded"

# The steering context consumes topics the coordination post submits.
TOPIC_SUBMITTED_TO_STEERING = "GapTopicSubmittedToSteering"

PUBLISHED_FIELDS: dict[str, tuple[str, ...]] = {
    TOPIC_SUBMITTED_TO_STEERING: ("on", "summary"),
    POSITION_CREATED: ("title", "position_type", "fte", "work_tenant", "regional_area_id"),
    SUPERVISION_ASSIGNED: ("post_tenant", "valid_from", "supervisor_position_id"),
    SUPERVISION_ENDED: ("valid_to",),
    ORGANISATION_REGISTERED: ("name", "kind", "office_type"),
    ORGANISATION_RENAMED: ("name",),
    ORGANISATION_CLOSED: (),
}


def published_uuid(value: Any) -> UUID | None:
    """A UUID field as a record's JSON state carries it (``{"_type_": "uuid_hex", "_data_":
    hex}``, or a plain string), or None when absent (``supervisor_position_id`` of a line
    stored before lines named a position: any coordinator of the post supervises)."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("_data_")
    return UUID(str(value))
