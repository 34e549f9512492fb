"""What GraphQL gives out is recorded here, in one place for every field (a schema extension).

- Auditors: every root field an auditor's query resolves is recorded with its arguments as
  GraphQL resolved them (variables substituted, fragments spread; an alias is only another
  name for the same field) in the audit log of each tenant it read: its ``tenant``
  argument, with ``includeMembers`` (and for ``regionalAreas``) the tenants below it, and
  for fields without one (the registry) the auditor's own tenant. Only tenants the auditor
  audits (``gateway.access.audits``, the rule of REST), once per tenant per request (view
  ``graphql``, parameters: the fields with their validated arguments, never the query text
  or any other text of the caller's choosing). A refused field records nothing.
- Personal data: the reads resolvers report (``GatewayContext.read_personal_data``), in the
  log of the people's tenant. No resolver gives out sealed personal data today (the read
  models hold none; case rows carry person ids or, for auditors, pseudonyms).

Both after execution and before the response is built; when the audit log cannot take the
entries the answer is replaced by an ``AUDIT_LOG_UNAVAILABLE`` error with HTTP 503: no data
without a trace.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from inspect import isawaitable
from typing import Any
from uuid import UUID

from graphql import GraphQLError, GraphQLResolveInfo
from strawberry.extensions import SchemaExtension

from contexts.audit.application import Channel, Read
from contexts.case_management.domain import CaseState
from contexts.tenancy.contracts import TenantDirectory, TenantKind
from gateway.access import audits
from gateway.context import GatewayContext
from runtime.http.auth import Principal, Role
from runtime.http.problems import Problem
from services.audit import trail

MEMBER_FIELDS = frozenset({"regionalAreas"})
"""Root fields that read the tenants below their ``tenant`` without ``includeMembers``."""
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
VOCABULARY = frozenset({s.value for s in CaseState} | {k.value for k in TenantKind})
OMITTED = "<omitted>"
Info = GraphQLResolveInfo[GatewayContext]


class AuditLogUnavailable(GraphQLError):
    def __init__(self) -> None:
        super().__init__(
            "the access could not be recorded in the audit log; nothing is given out without it",
            extensions={"code": "AUDIT_LOG_UNAVAILABLE"},
        )


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True


def argument(value: Any, directory: TenantDirectory) -> Any:
    """An argument as the log keeps it: numbers and flags, and strings the platform knows
    (tenant keys, months, ids, case states, tenant kinds); any other text is left out."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str) and (
        directory.get(value) is not None
        or MONTH.match(value)
        or value in VOCABULARY
        or _is_uuid(value)
    ):
        return value
    return OMITTED


def _principal(context: Any) -> Principal | None:
    if not isinstance(context, GatewayContext):
        return None
    try:
        return context.principal
    except Problem:
        return None


class AccessTrail(SchemaExtension):
    """Collects what the request reads while it executes, records it when it is done."""

    def __init__(self, *, execution_context: Any = None) -> None:
        self.asked: dict[str, list[dict[str, Any]]] = {}  # tenant -> fields read of it

    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: Info,
        *args: str,
        **kwargs: Any,
    ) -> Any:
        if info.path.prev is not None:  # a nested field: its root field is recorded
            return _next(root, info, *args, **kwargs)
        principal = _principal(info.context)
        if principal is None or Role.AUDITOR not in principal.roles:
            return _next(root, info, *args, **kwargs)
        result = _next(root, info, *args, **kwargs)
        if isawaitable(result):
            return self._noted(result, info, principal, kwargs)
        self._note(info, principal, kwargs)
        return result

    async def _noted(self, result: Any, info: Info, principal: Principal, kwargs: Any) -> Any:
        value = await result  # a refusal raises here: nothing is noted
        self._note(info, principal, kwargs)
        return value

    def _note(self, info: Info, principal: Principal, kwargs: Any) -> None:
        context: GatewayContext = info.context
        directory = context.directory
        tenant = kwargs.get("tenant")
        if isinstance(tenant, str):
            tenants = [tenant]
            if kwargs.get("includeMembers") is True or info.field_name in MEMBER_FIELDS:
                tenants += directory.descendants(tenant)
        else:
            tenants = [principal.tenant]
        entry = {"field": info.field_name}
        entry.update({k: argument(v, directory) for k, v in sorted(kwargs.items())})
        for t in tenants:
            if audits(principal, directory, t):
                self.asked.setdefault(t, []).append(entry)

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        principal = _principal(context)
        if principal is None or not (self.asked or context.reads):
            return
        try:
            await asyncio.to_thread(self._record, context, principal)
        except Exception:  # logged by the trail; the answer must not go out
            self._withhold(context)

    def _record(self, context: GatewayContext, principal: Principal) -> None:
        platform = context.platform
        for tenant, fields in sorted(self.asked.items()):
            trail.record_query(platform, principal, tenant, "graphql", fields=fields)
        reads: dict[str, list[Read]] = defaultdict(list)
        for tenant, read in context.reads:
            reads[tenant].append(read)
        for tenant, found in sorted(reads.items()):
            trail.record_reads(platform, principal, tenant, found, Channel.GRAPHQL)

    def _withhold(self, context: GatewayContext) -> None:
        result = self.execution_context.result
        if result is not None:
            result.data = None
            result.errors = [AuditLogUnavailable()]
        if context.response is not None:
            context.response.status_code = 503
            context.response.headers["Retry-After"] = trail.RETRY_AFTER
