"""What the coordination, district and audit pages share: German labels of coordination's
codes, running a coordination command from a form, and refusals of the read side's rules.

A coordination command runs through the REST handler itself with the runner the API's
dependency builds (``services/coordination/deps.py``: the same role and tenant check), so a
page never holds a rule of its own; ``forms.submit`` turns its refusals into form errors.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from fastapi import Request, Response
from graphql import GraphQLError
from pydantic import BaseModel

from contexts.coordination.application import CoordinationApplication
from gateway.access import Forbidden
from runtime.http.auth import authorize
from runtime.http.commands import CommandRunner
from runtime.http.problems import Problem
from services.coordination.deps import WRITERS
from services.web.base import Form, Viewer
from services.web.forms import Submitted, submit, with_key

M = TypeVar("M", bound=BaseModel)

CYCLE_STEPS = {
    "collection": "Erhebung",
    "analysis": "Analyse",
    "planning_and_steering": "Planung und Steuerung",
    "implementation": "Umsetzung",
    "evaluation": "Evaluation",
    "readjustment": "Nachsteuerung",
}
POSITION_TYPES = {
    "coordination": "Koordinierungsstelle",
    "assistance": "Verwaltungsassistenz",
    "case_management": "Case Management",
    "immigration_office": "Ausländer-/Einbürgerungsbehörde",
}
GAP_SOURCES = {"coordination": "Koordinierungsstelle", "case": "aus einem Fall"}
EMPLOYER_KINDS = {"tenant": "Kommune", "provider": "Träger"}


def fte(value: Any) -> str:
    """A full-time-equivalent figure: ``1,9`` (at most two decimals, no trailing zeros)."""
    text = f"{Decimal(str(value)).quantize(Decimal('0.01')):f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def euro(value: Any) -> str:
    number = Decimal(str(value)).quantize(Decimal("0.01"))
    text = f"{number:,.2f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".") + " €"


def readable(call: Callable[[], Any]) -> Any:
    """A read side's refusal (``gateway.access.Forbidden``) as the 403 problem REST gives."""
    try:
        return call()
    except Forbidden as e:
        raise Problem(403, "tenant-not-allowed", e.message) from None
    except GraphQLError as e:
        raise Problem(422, "bad-input", e.message) from None


def may_write(viewer: Viewer, tenant: str | None = None) -> bool:
    """Would a coordination command of ``tenant`` (the viewer's own) pass the role and
    tenant check? The pages show a command's form only then (the check is the runner's)."""
    try:
        authorize(
            viewer.principal, tenant or viewer.tenant, viewer.platform.directory(), roles=WRITERS
        )
    except Problem:
        return False
    return True


def coordination_runner(
    request: Request, viewer: Viewer, tenant: str, key: str
) -> CommandRunner[CoordinationApplication]:
    """The runner ``services/coordination/deps.py`` hands a command handler: the same role
    and tenant check, the form's idempotency key as the ``Idempotency-Key``."""
    platform = viewer.platform
    authorize(viewer.principal, tenant, platform.directory(), roles=WRITERS)
    app = platform.app(CoordinationApplication, tenant)
    return CommandRunner(with_key(request, key), platform, viewer.principal, app)


def submit_coordination(
    request: Request,
    viewer: Viewer,
    form: Form,
    model: type[M],
    body: dict[str, Any],
    call: Callable[[M, CommandRunner[CoordinationApplication]], Response],
    *,
    tenant: str | None = None,
) -> Submitted | None:
    """``forms.submit`` for a coordination command of ``tenant`` (the viewer's own)."""
    owner = tenant or viewer.tenant
    return submit(
        request, viewer, form, model, body, call,
        work=lambda key: coordination_runner(request, viewer, owner, key),
    )  # fmt: skip
