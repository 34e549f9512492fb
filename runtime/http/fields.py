"""Field types shared by request models: what a model checks, its JSON Schema says.

A generated client (or the contract run) that sends a schema-valid body must get it
accepted unless a domain rule refuses it, so the checks a model makes are stated in the
schema, not only in code: a text that must not be blank carries the pattern ``\\S``, a
decimal the places it keeps (``multipleOf`` for a JSON number, a ``pattern`` for a decimal
string, the same bounds for both), an integer an upper bound (no huge number reaches a
store or an overflow).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from runtime.http.strict_input import DATE

NOT_BLANK = r"\S"
"""A text with at least one character that is not white space (strings are trimmed)."""
TWO_SIGNS = r"\S[\s\S]*\S"
"""At least two characters once trimmed (``min_length=2`` alone counts the white space the
model trims away)."""

MAX_VERSION = 1_000_000_000
"""No aggregate has more versions (an ``expected_version`` above it is a 422)."""
MAX_INDEX = 10_000
"""No list inside an aggregate (referrals, appointments, gaps, steps) has more entries."""
MAX_COUNT = 10_000_000
"""No count given in a request (people, newcomers) is larger."""
MIN_YEAR = 2000
MAX_YEAR = 2100


@dataclass(frozen=True)
class _NotBlank:
    """The schema of a text that must not be blank: the pattern ``\\S``, unless the field
    states a pattern of its own (a key pattern refuses blanks itself). The model refuses a
    blank text by trimming it and its ``min_length=1``, which every such field has."""

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        found = handler(schema)
        found.setdefault("pattern", NOT_BLANK)
        return found


NonBlank = Annotated[str, _NotBlank()]
"""A string that must not be blank: with the field's ``Field(min_length=1, max_length=...)``."""
Version = Annotated[int | None, Field(ge=1, le=MAX_VERSION)]
"""``expected_version`` of a command (optimistic concurrency); ``None``: any version."""
Year = Annotated[int, Field(ge=MIN_YEAR, le=MAX_YEAR, examples=[2021])]


def _digits(most: int) -> str:
    """A regex for zero to ``most`` digits."""
    return "" if most == 0 else r"\d?" if most == 1 else rf"\d{{0,{most}}}"


def _non_zero_fraction(places: int) -> str:
    """A regex for one to ``places`` digits after the point, not all of them zero."""
    return "|".join("0" * i + "[1-9]" + _digits(places - 1 - i) for i in range(places))


def decimal_pattern(digits: int, places: int, *, positive: bool) -> str:
    """A regex for a decimal string of at most ``digits`` digits before the point and
    ``places`` after it, no sign, no leading zeros; above zero if ``positive``."""
    whole = "[1-9]" + _digits(digits - 1)
    if positive:
        return rf"^(?:{whole}(?:\.\d{{1,{places}}})?|0?\.(?:{_non_zero_fraction(places)}))$"
    return rf"^(?:0|{whole})(?:\.\d{{1,{places}}})?$"


@dataclass(frozen=True)
class DecimalForm:
    """The form of a ``Decimal`` field (``Annotated[Decimal, DecimalForm(...)]``): a JSON
    number or a decimal string, at most ``digits`` digits before the point and ``places``
    after it, above zero if ``positive`` (else zero or more).

    The number's schema carries ``multipleOf`` (10^-places) and the bounds, the string's a
    pattern that states the same; what does not fit is refused with the reason.
    """

    digits: int
    places: int
    positive: bool
    example: str

    @property
    def top(self) -> Decimal:
        return Decimal(10) ** self.digits - Decimal(1).scaleb(-self.places)

    @property
    def reason(self) -> str:
        above = ", above 0" if self.positive else ""
        return (
            f"a decimal with at most {self.digits} digits before the point and {self.places}"
            f" after it{above}, such as {self.example}"
        )

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        matcher = re.compile(decimal_pattern(self.digits, self.places, positive=self.positive))
        top, positive, reason = self.top, self.positive, self.reason

        def string_form(value: Any) -> Any:
            if isinstance(value, str) and not matcher.match(value):
                raise ValueError(reason)
            return value

        def in_range(value: Decimal) -> Decimal:
            if not (value > 0 if positive else value >= 0) or value > top:
                raise ValueError(reason)
            return value

        inner = core_schema.decimal_schema(decimal_places=self.places)
        return core_schema.no_info_before_validator_function(
            string_form, core_schema.no_info_after_validator_function(in_range, inner)
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        step = Decimal(1).scaleb(-self.places)
        number: dict[str, Any] = {
            "type": "number",
            "multipleOf": float(step),
            "maximum": float(self.top),
            "exclusiveMinimum" if self.positive else "minimum": 0,
        }
        pattern = decimal_pattern(self.digits, self.places, positive=self.positive)
        return {
            "anyOf": [number, {"type": "string", "pattern": pattern}],
            "examples": [self.example],
        }


FTE = Annotated[Decimal, DecimalForm(2, 2, positive=True, example="1.9")]
"""Full-time equivalents of a position or a staffing: 0.01 to 99.99."""
FTEShare = Annotated[Decimal, DecimalForm(2, 2, positive=False, example="1.9")]
"""A regional area's share of case-management FTE: 0 to 99.99."""
GrantFTE = Annotated[Decimal, DecimalForm(3, 2, positive=True, example="9.0")]
"""FTE granted by a notice or forwarded by a contract: 0.01 to 999.99."""
Euro = Annotated[Decimal, DecimalForm(8, 2, positive=False, example="104500")]
"""An amount in euros, to the cent: 0 to 99,999,999.99."""


def _iso_date(value: Any) -> Any:
    if isinstance(value, str) and not DATE.match(value):
        raise ValueError("a date must be YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A date in a query string: ``YYYY-MM-DD`` only (pydantic's lax mode takes ``0`` for
1970-01-01); request bodies get the same from ``Strict``."""


def _json_integer(value: Any) -> Any:
    if isinstance(value, bool | str):
        raise ValueError("an integer must be a JSON number")
    return value


JSON_INTEGER = BeforeValidator(_json_integer)
"""An integer as JSON has it: ``2`` or ``2.0``, never ``"2"`` or ``true``; for integers
inside lists and dicts, where ``Strict``'s check of the fields does not reach. It goes after
the bounds (``Annotated[int, Field(ge=0, le=30), JSON_INTEGER]``) so that the schema keeps
them as ``minimum`` and ``maximum``."""
Count = Annotated[int, Field(ge=0, le=MAX_COUNT), JSON_INTEGER]
"""A count (people, newcomers): 0 to ``MAX_COUNT``."""


def requires_when(field: str, value: Any, then: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """A model's ``json_schema_extra`` stating a rule across fields: when ``field`` is
    ``value``, the object also satisfies ``then`` (JSON Schema ``if``/``then``, one entry of
    ``allOf`` per rule). The model (or the domain) checks the rule; the schema says it, so a
    schema-valid body is not refused by it."""

    def extra(schema: dict[str, Any]) -> None:
        rule = {"if": {"properties": {field: {"const": value}}, "required": [field]}, "then": then}
        schema.setdefault("allOf", []).append(rule)

    return extra


def all_of(*extras: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    """Several ``requires_when`` rules of one model."""

    def extra(schema: dict[str, Any]) -> None:
        for one in extras:
            one(schema)

    return extra
