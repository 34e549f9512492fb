"""The per-request context of the gateway: principal, registry snapshot, row loader, and the
personal-data reads of the request (recorded by ``gateway/trail.py`` before the answer)."""

from __future__ import annotations

from strawberry.fastapi import BaseContext

from contexts.audit.application import Read
from contexts.tenancy.contracts import TenantDirectory
from gateway.loaders import rows_loader, summaries_loader
from runtime.http.auth import Principal
from runtime.http.problems import Problem
from runtime.platform import Platform


class GatewayContext(BaseContext):
    """Per-request context: the principal and the registry snapshot of this request."""

    def __init__(self, platform: Platform, principal: Principal | None) -> None:
        super().__init__()
        self.platform = platform
        self._principal = principal
        self.directory: TenantDirectory = platform.directory(refresh=True)
        self.rows = rows_loader(platform)
        self.summaries = summaries_loader(platform)
        self.reads: list[tuple[str, Read]] = []  # (the people's tenant, what was read)

    def read_personal_data(self, tenant: str, read: Read) -> None:
        """A resolver gives out ``read`` of a person of ``tenant``: recorded in the tenant's
        audit log before the answer goes out (no answer if that fails)."""
        self.reads.append((tenant, read))

    @property
    def principal(self) -> Principal:
        if self._principal is None:
            raise Problem(401, "unauthenticated", "a bearer token is needed")
        return self._principal
