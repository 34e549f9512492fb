"""The staff pages as part of the gateway's service (``kim/assembly.py``): an edge over the
same applications and read models as REST and GraphQL, served at ``/``."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

PAGES = (
    "home",
    "signin",
    "pages_cases",
    "pages_case_work",
    "pages_case_achievements",
    "pages_coordination",
    "pages_district",
    "pages_audit",
    "pages_steering",
    "pages_steering_evaluation",
    "pages_office",
    "pages_office_work",
)
"""The page modules (``services/web/<name>.py``, each with a ``router``), in the order their
routes resolve."""


def routers() -> list[APIRouter]:
    """The routers of the page modules in ``PAGES`` (see ``base.py``)."""
    found = []
    for name in PAGES:
        router = importlib.import_module(f"services.web.{name}").router
        assert isinstance(router, APIRouter)
        found.append(router)
    return found
