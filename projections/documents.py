"""An aggregate's state as a JSON document for the read side, without sealed data.

Generic on purpose: a context added later gets its rows without code here. Sealed texts
(personal data under a person's key) never reach a read model; they become ``null``.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

SEALED_PREFIX = "kimv1:"


_PLAIN = frozenset({type(None), bool, int, float})


def to_json(value: Any) -> Any:
    kind = type(value)  # exact types first: this runs for every field of every row
    if kind is str:
        return None if value.startswith(SEALED_PREFIX) else value
    if kind in _PLAIN:
        return value
    if kind is list or kind is tuple:
        return [to_json(v) for v in value]
    if kind is dict:
        return {str(to_json(k)): to_json(v) for k, v in value.items()}
    return _to_json_other(value)


def _to_json_other(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return None if value.startswith(SEALED_PREFIX) else value
    if isinstance(value, Enum):
        return to_json(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(to_json(k)): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_json(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return str(value)


def document(aggregate: Aggregate) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": str(aggregate.id),
        "version": aggregate.version,
        "modified_on": aggregate.modified_on.isoformat(),
    }
    for name, value in vars(aggregate).items():
        if not name.startswith("_") and name != "sealed":
            doc[name] = to_json(value)
    return doc
