"""Integration events of the coordination context that other contexts may consume (v1).

Consumers match on the event type name in the bus subject
``kim.<tenant>.coordination.<EventType>`` and read only the fields listed here.
"""

from __future__ import annotations

CONTRACT_VERSION = 1

ORGANISATION_REGISTERED = "OrganisationRegistered"
ORGANISATION_RENAMED = "OrganisationRenamed"
ORGANISATION_CLOSED = "OrganisationClosed"

PUBLISHED_FIELDS: dict[str, tuple[str, ...]] = {
    ORGANISATION_REGISTERED: ("name", "kind", "office_type"),
    ORGANISATION_RENAMED: ("name",),
    ORGANISATION_CLOSED: (),
}
