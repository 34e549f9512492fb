"""The steering context's spec: groups, meetings, resolutions, working groups."""

from __future__ import annotations

from fastapi import APIRouter

from contexts.steering.application import SteeringApplication
from projections.steering import PROJECTION, application
from runtime.bus.consumer import TrackedConsumer
from runtime.platform import Platform
from services.spec import ContextSpec


def _routers() -> list[APIRouter]:
    from services.steering.groups_router import router as groups
    from services.steering.meetings_router import router as meetings
    from services.steering.resolutions_router import router as resolutions

    return [groups, meetings, resolutions]


def _graphql() -> type:
    from gateway.steering import SteeringQuery

    return SteeringQuery


def _demo(platform: Platform) -> list[str]:
    from services.steering.demo import load_steering_demo

    return load_steering_demo(platform)


def _consumers(platform: Platform) -> list[TrackedConsumer]:
    from services.steering.consumers import SubmissionIntake

    def app_for(tenant: str) -> SteeringApplication:
        return application(platform, tenant)

    return [SubmissionIntake(platform.store, app_for, platform.bus.prefix).consumer]


SPEC = ContextSpec(
    "steering",
    _routers,
    application=application,
    consumers=_consumers,
    projection=PROJECTION,
    graphql=_graphql,
    demo=_demo,
)
