"""Case management's spec: people, cases and their cycle, transfer, retention."""

from __future__ import annotations

from fastapi import APIRouter

from contexts.case_management.application import CaseManagementApplication
from projections.case_management import PROJECTION
from runtime.bus.consumer import TrackedConsumer
from runtime.platform import Platform
from services.case_management.cli import add_erase_parser
from services.spec import ContextSpec


def _routers() -> list[APIRouter]:
    from services.case_management.case_work_router import router as case_work
    from services.case_management.cases_router import router as cases
    from services.case_management.intake_router import router as intake
    from services.case_management.router import router

    return [router, cases, case_work, intake]  # the order in which routes resolve


def application(platform: Platform, tenant: str) -> CaseManagementApplication:
    return platform.app(CaseManagementApplication, tenant, vault=platform.vault)


def _consumers(platform: Platform) -> list[TrackedConsumer]:
    from services.case_management.consumers import PositionIntake, TransferIntake
    from services.case_management.office_intake import OfficeReferralIntake

    def app_for(tenant: str) -> CaseManagementApplication:
        return application(platform, tenant)

    prefix = platform.bus.prefix
    return [
        PositionIntake(platform.store, app_for, prefix).consumer,
        TransferIntake(platform.store, app_for, prefix).consumer,
        OfficeReferralIntake(platform.store, app_for, prefix).consumer,
    ]


def _graphql() -> type:
    from gateway.case_management import CaseManagementQuery

    return CaseManagementQuery


SPEC = ContextSpec(
    "case_management",
    _routers,
    application=application,
    consumers=_consumers,
    projection=PROJECTION,
    graphql=_graphql,
    cli=add_erase_parser,
)
