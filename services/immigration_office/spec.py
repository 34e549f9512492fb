"""The immigration office's spec (Baustein 3): people, procedures, due list, figures."""

from __future__ import annotations

from fastapi import APIRouter

from contexts.immigration_office.application import ImmigrationOfficeApplication
from projections.immigration_office import PROJECTION, application
from runtime.bus.consumer import TrackedConsumer
from runtime.platform import Platform
from services.spec import ContextSpec


def _routers() -> list[APIRouter]:
    from services.immigration_office.router import router

    return [router]


def _graphql() -> type:
    from gateway.immigration_office import ImmigrationOfficeQuery

    return ImmigrationOfficeQuery


def _demo(platform: Platform) -> list[str]:
    from services.immigration_office.demo import load_office_demo

    return load_office_demo(platform)


def _consumers(platform: Platform) -> list[TrackedConsumer]:
    from services.immigration_office.consumers import CaseManagementAnswers, ProcedureHandOverIntake

    def app_for(tenant: str) -> ImmigrationOfficeApplication:
        return application(platform, tenant)

    prefix = platform.bus.prefix
    return [
        CaseManagementAnswers(platform.store, app_for, prefix).consumer,
        ProcedureHandOverIntake(platform.store, app_for, prefix).consumer,
    ]


SPEC = ContextSpec(
    "immigration_office",
    _routers,
    application=application,
    consumers=_consumers,
    projection=PROJECTION,
    graphql=_graphql,
    demo=_demo,
)
