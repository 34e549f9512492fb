"""Coordination's spec: funding, contracts, positions, the strategic cycle."""

from __future__ import annotations

from fastapi import APIRouter

from contexts.coordination.application import CoordinationApplication
from contexts.shared.application import TenantApplication
from projections.coordination import PROJECTION
from runtime.bus.consumer import TrackedConsumer
from runtime.platform import Platform
from services.coordination.demo import load_coordination_demo
from services.spec import ContextSpec


def _routers() -> list[APIRouter]:
    from services.coordination.areas_router import router as areas
    from services.coordination.cycle_router import router as cycle
    from services.coordination.funding_router import router as funding
    from services.coordination.positions_router import router as positions
    from services.coordination.router import router
    from services.coordination.town_view_router import router as town_view

    # town_view before positions: /positions/working-here is no /positions/{position_id}
    return [router, funding, town_view, positions, areas, cycle]


def application(platform: Platform, tenant: str) -> TenantApplication:
    return platform.app(CoordinationApplication, tenant)


def _consumers(platform: Platform) -> list[TrackedConsumer]:
    from services.coordination.consumers import GapIntake, SteeringDecisions

    def app_for(tenant: str) -> CoordinationApplication:
        return platform.app(CoordinationApplication, tenant)

    intake = GapIntake(platform.store, app_for, prefix=platform.bus.prefix)
    decisions = SteeringDecisions(platform.store, app_for, prefix=platform.bus.prefix)
    return [intake.consumer, decisions.consumer]


def _graphql() -> type:
    from gateway.coordination import CoordinationQuery

    return CoordinationQuery


SPEC = ContextSpec(
    "coordination",
    _routers,
    application=application,
    consumers=_consumers,
    projection=PROJECTION,
    graphql=_graphql,
    demo=load_coordination_demo,
)
