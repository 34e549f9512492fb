"""Running a command at the edge: idempotency key, request context, tracing, response.

Every command endpoint calls ``run_command``. A retried request with the same
``Idempotency-Key`` and the same body gets the first response again and appends nothing;
the same key with a different body is refused (422). The key is stored in the same
transaction as the command's events, so no race can append twice.

Keys are the principal's own: the store keeps a keyed digest of (tenant, subject, key), so a
colleague who sends the same key makes a request of their own and is never answered with
someone else's response. Bodies are kept only as a keyed digest (HMAC-SHA256 under
``KIM_IDEMPOTENCY_SECRET``, not the JWT secret): a guessed name and birth date cannot be
checked against the table. The record names the aggregates the command appended to, so
erasing a person forgets the records of the commands about them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.persistence import Recording
from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from contexts.shared.application import TenantApplication
from runtime import context as request_context
from runtime.eventstore import IdempotencyKeyTaken
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.records import CommandOutcome, IdempotencyRecord, event_type_of
from runtime.http.auth import Principal
from runtime.http.problems import Problem
from runtime.http.strict_input import refusal, scalar_of
from runtime.platform import Platform
from runtime.telemetry import current_traceparent, tracer

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
AppT = TypeVar("AppT", bound=TenantApplication)


MAX_ITEMS = 100
"""No list or dict in a request body holds more items than this unless its field says so
(``Field(max_length=MAX_ITEMS)`` on every list and dict field of a request model)."""
MAX_STRING = 10_000
"""No string in a request body is longer than this (characters) unless its field says so."""


class Strict(BaseModel):
    """Request bodies refuse unknown fields, trim strings and bound their length: every string
    at most ``MAX_STRING`` characters (fields may set a lower ``max_length``); lists and dicts
    carry ``Field(max_length=MAX_ITEMS)`` (pydantic has no default for them; a test walks every
    request model)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, str_max_length=MAX_STRING)

    @field_validator("*", mode="before")
    @classmethod
    def _strict_scalars(cls, value: Any, info: ValidationInfo) -> Any:
        """No ``0`` for a date, no ``"5"`` or ``true`` for a number (``strict_input``)."""
        field = cls.model_fields.get(info.field_name or "")
        reason = refusal(scalar_of(field.annotation) if field else None, value)
        if reason is not None:
            raise ValueError(reason)
        return value


def request_hash(secret: str, request: Request, body: BaseModel | None) -> str:
    """A keyed digest of the request (method, path, body): tells a retry from another
    request, and without the secret nothing can be checked against it."""
    digest = hmac.new(secret.encode(), b"kim-idempotency:request\n", hashlib.sha256)
    digest.update(f"{request.method} {request.url.path}\n".encode())
    if body is not None:
        digest.update(body.model_dump_json().encode())
    return digest.hexdigest()


def scoped_key(secret: str, principal: Principal, key: str) -> str:
    """The ``Idempotency-Key`` as stored: a keyed digest of the principal (tenant and
    subject) and the client's key, so each principal's keys are their own."""
    message = f"kim-idempotency:key\n{principal.tenant}\n{principal.subject}\n{key}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _replay(record: IdempotencyRecord, hash_: str) -> JSONResponse:
    if record.request_hash != hash_:
        raise Problem(
            422,
            "idempotency-key-reused",
            "this Idempotency-Key was already used for a different request",
            errors=[{"field": "Idempotency-Key", "reason": "reused with a different body"}],
        )
    return _response(record.status, record.outcome, replayed=True)


def _response(status: int, outcome: dict[str, Any], *, replayed: bool = False) -> JSONResponse:
    headers = {"KIM-Position": str(outcome.get("position", 0))}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(outcome, status_code=status, headers=headers)


def run_command(
    request: Request,
    store: EventLogStore,
    principal: Principal,
    tenant: str,
    context: str,
    name: str,
    command: Callable[[], list[Recording[UUID]]],
    body: BaseModel | None = None,
    status: int = 200,
    warnings: list[str] | None = None,
    *,
    secret: str,
) -> JSONResponse:
    """Run ``command`` once; ``warnings`` go into this response (a replay omits them).

    ``secret`` keys the digests of the idempotency records (``KIM_IDEMPOTENCY_SECRET``).
    """
    key = request.headers.get("idempotency-key")
    hash_ = None
    if key is not None:
        if not IDEMPOTENCY_KEY.match(key):
            raise Problem(
                400,
                "invalid-idempotency-key",
                "Idempotency-Key must be 8-128 characters of letters, digits, '.', '_', ':' or '-'",
                errors=[{"field": "Idempotency-Key", "reason": "malformed"}],
            )
        hash_ = request_hash(secret, request, body)
        key = scoped_key(secret, principal, key)
        existing = store.find_idempotency(tenant, key)
        if existing is not None:
            return _replay(existing, hash_)

    with (
        tracer().start_as_current_span(
            f"command {context}.{name}",
            attributes={"kim.tenant": tenant, "kim.actor": principal.actor},
        ),
        request_context.bound(
            actor=principal.actor,
            tenant=tenant,
            traceparent=current_traceparent(),
            idempotency_key=key,
            request_hash=hash_,
            response_status=status,
        ),
    ):
        try:
            recordings = command()
        except IdempotencyKeyTaken:
            # A concurrent retry with the same key won; answer as it was answered.
            assert key is not None
            assert hash_ is not None
            existing = store.find_idempotency(tenant, key)
            if existing is None:
                raise Problem(
                    409, "idempotency-key-in-flight", "a request with this key is in progress"
                ) from None
            return _replay(existing, hash_)
    outcome = CommandOutcome(
        tenant=tenant,
        context=context,
        events=[
            {
                "aggregate_id": str(r.notification.originator_id),
                "version": r.notification.originator_version,
                "type": event_type_of(r.notification.topic),
                "position": r.notification.id,
            }
            for r in recordings
        ],
    )
    result = outcome.to_json()
    if warnings:
        result["warnings"] = warnings
    return _response(status, result)


@dataclass(frozen=True)
class CommandRunner(Generic[AppT]):
    """A command endpoint's request, the one way every context writes a handler.

    A context's dependency checks access and hands this over with the tenant's application
    (a context may subclass it with access checks that need the facts of the request, as
    case management does); the handler then makes one application call through ``run``:
    parse (the body model) -> access -> ``run(name, body, call)`` -> problem mapping.
    """

    request: Request
    platform: Platform
    principal: Principal
    app: AppT

    def run(
        self,
        name: str,
        body: BaseModel | None,
        run: Callable[[], list[Recording[UUID]]],
        status: int = 200,
        warnings: list[str] | None = None,
    ) -> JSONResponse:
        return run_command(
            self.request,
            self.platform.store,
            self.principal,
            self.app.tenant,
            self.app.context,
            name,
            run,
            body,
            status=status,
            warnings=warnings,
            secret=self.platform.settings.idempotency_secret,
        )
