"""The per-request context of the gateway: principal, registry snapshot, row loader."""

from __future__ import annotations

from strawberry.fastapi import BaseContext

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

    @property
    def principal(self) -> Principal:
        if self._principal is None:
            raise Problem(401, "unauthenticated", "a bearer token is needed")
        return self._principal
