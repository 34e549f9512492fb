"""Strict scalars in request bodies: pydantic's lax mode takes ``0`` for a date (1970-01-01),
``"5"`` or ``true`` for a number. A request model (``runtime.http.commands.Strict``) refuses
them before pydantic converts: a date is a ``YYYY-MM-DD`` string, a number a JSON number
(never a boolean; an integer never a string), a Decimal a number or a decimal string."""

from __future__ import annotations

import re
import types
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Union, get_args, get_origin

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def scalar_of(annotation: Any) -> type | None:
    """``date``, ``datetime``, ``int`` or ``Decimal`` when the field is one (or optional)."""
    if get_origin(annotation) in (Union, types.UnionType):
        found = {scalar_of(a) for a in get_args(annotation) if a is not type(None)}
        return found.pop() if len(found) == 1 else None
    if isinstance(annotation, type) and annotation is not bool:
        for kind in (datetime, date, int, Decimal):
            if issubclass(annotation, kind):
                return kind
    return None


def refusal(kind: type | None, value: Any) -> str | None:
    """Why ``value`` is no strict ``kind`` (None: pydantic may go on)."""
    if kind is None or value is None:
        return None
    if kind is date:
        if isinstance(value, date) or (isinstance(value, str) and DATE.match(value)):
            return None  # a date object: built in Python (demo, CLI), not from JSON
        return "a date must be a string YYYY-MM-DD"
    if kind is datetime:
        if isinstance(value, str | datetime):
            return None
        return "a timestamp must be an ISO 8601 string"
    if isinstance(value, bool):
        return "a number must not be a boolean"
    if kind is int and isinstance(value, str):
        return "an integer must be a JSON number, not a string"
    if kind is Decimal and isinstance(value, str) and not DECIMAL.match(value.strip()):
        return "a decimal must be a number or a decimal string such as 0.5"
    return None
