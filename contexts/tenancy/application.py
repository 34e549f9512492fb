"""Commands on the tenant registry and the directory folded from its log."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification, Recording

from contexts.shared.application import TenantApplication
from contexts.shared.errors import Conflict, DomainError, NotFound
from contexts.tenancy.contracts import (
    ALLOWED_PARENTS,
    Office,
    TenantDirectory,
    TenantInfo,
    TenantKind,
)
from contexts.tenancy.domain import Tenant, check_ags, check_key, tenant_id

PLATFORM_TENANT = "_platform"
HOLDER_KINDS = {TenantKind.REGION, TenantKind.DISTRICT}
HELD_KINDS = {TenantKind.DISTRICT_FREE_CITY, TenantKind.MEMBER_TOWN}


class TenancyApplication(TenantApplication):
    """The registry lives in the platform's own log, not in any tenant's."""

    context = "tenancy"

    def __init__(self, recorder_factory: Callable[[str, str], ApplicationRecorder]) -> None:
        super().__init__(PLATFORM_TENANT, recorder_factory)
        self._directory = TenantDirectory()
        self._lock = threading.Lock()

    # -- commands ------------------------------------------------------------------------
    def register_tenant(
        self,
        key: str,
        name: str,
        kind: TenantKind,
        parent: str | None = None,
        ags: str | None = None,
    ) -> list[Recording[UUID]]:
        check_key(key)
        check_ags(ags)
        kind = TenantKind(kind)
        directory = self.directory()
        if directory.get(key) is not None:
            raise Conflict("tenant-exists", f"tenant {key} is already registered", key=key)
        parent_info = directory.get(parent) if parent else None
        if parent and parent_info is None:
            raise DomainError(
                "unknown-parent", f"parent tenant {parent} is not registered", field="parent"
            )
        parent_kind = parent_info.kind if parent_info else None
        if parent_kind not in ALLOWED_PARENTS[kind]:
            allowed = ", ".join(sorted(str(k) for k in ALLOWED_PARENTS[kind] if k)) or "none"
            raise DomainError(
                "parent-kind-not-allowed",
                f"a {kind} cannot sit under a {parent_kind or 'missing parent'};"
                f" allowed parents: {allowed}",
                field="parent",
            )
        if ags and parent_info and parent_info.ags and not ags.startswith(parent_info.ags):
            raise DomainError(
                "ags-outside-parent",
                f"AGS {ags} does not lie inside the parent's AGS {parent_info.ags}",
                field="ags",
            )
        tenant = Tenant(key=key, name=name, kind=kind, parent=parent, ags=ags)
        return self.save(tenant)

    def rename_tenant(
        self, key: str, name: str, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        tenant = self.load_expecting(Tenant, tenant_id(key), "tenant", expected_version)
        tenant.rename(name)
        return self.save(tenant)

    def assign_offices(
        self, key: str, holder: str, offices: list[Office], expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        directory = self.directory()
        holder_info = directory.get(holder)
        if holder_info is None:
            raise DomainError(
                "unknown-holder", f"tenant {holder} is not registered", field="holder"
            )
        if holder_info.kind not in HOLDER_KINDS:
            raise DomainError(
                "holder-kind-not-allowed",
                f"only a region or district can hold offices, {holder} is a {holder_info.kind}",
                field="holder",
            )
        if not offices:
            raise DomainError("no-offices", "name at least one office", field="offices")
        tenant = self.load_expecting(Tenant, tenant_id(key), "tenant", expected_version)
        if tenant.kind not in HELD_KINDS or tenant.key == holder:
            raise DomainError(
                "held-kind-not-allowed",
                f"offices of a {tenant.kind} cannot be held by another tenant",
                field="key",
            )
        tenant.assign_offices(holder, [Office(o).value for o in offices])
        return self.save(tenant)

    # -- queries -------------------------------------------------------------------------
    def directory(self) -> TenantDirectory:
        """The registry folded from the platform log, brought up to date."""
        with self._lock:
            self._fold_new_events()
            d = self._directory
            return TenantDirectory(dict(d.tenants), d.position, dict(d.ids))

    def get_tenant(self, key: str) -> TenantInfo:
        info = self.directory().get(key)
        if info is None:
            raise NotFound("tenant", key)
        return info

    def _fold_new_events(self) -> None:
        d = self._directory
        while True:
            batch = self.recorder.select_notifications(
                start=d.position, limit=1000, inclusive_of_start=False
            )
            for n in batch:
                self._fold(d, n)
            if len(batch) < 1000:
                return

    def _fold(self, d: TenantDirectory, n: Notification) -> None:
        e = self.mapper.to_domain_event(n)
        if isinstance(e, Tenant.Registered):
            d.tenants[e.key] = TenantInfo(
                key=e.key, name=e.name, kind=TenantKind(e.kind), parent=e.parent, ags=e.ags
            )
            d.ids[e.originator_id] = e.key
        elif (key := d.ids.get(e.originator_id)) is not None:
            info = d.tenants[key]
            if isinstance(e, Tenant.Renamed):
                d.tenants[key] = replace(info, name=e.name)
            elif isinstance(e, Tenant.OfficesAssigned):
                held = dict(info.offices_held_by)
                held.update({Office(o).value: e.holder for o in e.offices})
                d.tenants[key] = replace(info, offices_held_by=held)
        d.position = n.id
