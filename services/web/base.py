"""The foundation of the staff pages: routers, templates, the signed-in principal, forms.

The pages are an edge like REST and GraphQL: server-rendered HTML (Jinja2 templates in
``services/web/templates/``, the KERN-UX styles in ``services/web/static/kern/``) that calls
the same application layer and read models, through the same access checks, so no rule is
written twice. They work without JavaScript: plain links and forms, POST-redirect-GET.

How a page is written
---------------------
1. **Router**: a module ``services/web/pages_<area>.py`` makes ``router = page_router()``;
   ``services/web/spec.py`` lists the module in ``PAGES`` (the gateway's service serves
   them, ``kim/assembly.py``). ``page_router`` uses ``PageRoute``: a refusal raised
   anywhere in the handler or its dependencies (a ``Problem``, a ``DomainError``, an
   invalid path or query) becomes a German error page with the problem's status, never
   JSON and never a 500. Handlers that call the applications are plain ``def``.
2. **Signed-in principal**: a handler takes ``viewer: ViewerDep``; without a valid session
   the visitor is sent to ``/anmelden`` (and back afterwards). ``viewer.principal`` is the
   very ``Principal`` the API builds from a bearer token (the session holds that token and
   ``TokenVerifier`` checks it on every request), so access rules see the same caller.
3. **Template**: ``return render(request, "my_page.html", viewer, title="...", **facts)``.
   A template extends ``base.html`` and fills ``{% block main %}``; ``base.html`` gives the
   header, the navigation of the viewer's roles, the sign-out button and the skip link.
   Use the macros in ``_forms.html`` (``field``, ``select``, ``textarea``, ``checkboxes``,
   ``radios``, ``errors_summary``, ``hidden_fields``, ``submit``) so labels, hints and
   errors are wired for assistive technology; ``label(kind, code)`` and ``german_date``
   are template globals (``services/web/labels.py``).
4. **Reads** call the context's REST handler functions with the runner the API's
   dependency would build: for case management ``work = case_work(request, viewer)``
   (``services/web/forms.py``), then e.g. ``cases_router.get_case(case_id, work)`` returns
   the same ``CaseView`` as the API, after the same access check, and records the same
   access-log entry for personal data. Other contexts build their runner the same way.
5. **A form posts a command**: render it with ``form = new_form(request)`` (a fresh
   idempotency key and the session's CSRF token, both hidden fields through
   ``hidden_fields(form)``; ``form.prefix`` keeps element ids unique when a page has
   several forms). The POST handler takes ``data: FormDep`` (the dependency refuses a POST
   without the session's CSRF token with a German 403 page before anything runs), keeps
   the posted ``idempotency_key`` and values on a new ``Form``, and calls
   ``submit(request, viewer, form, Model, body, call)`` (``forms.py``): it parses
   ``Model`` (the REST body model) from ``body``, builds the runner with the form's
   idempotency key as the ``Idempotency-Key`` header, and runs ``call(parsed, work)``,
   e.g. ``lambda b, w: cases_router.assess(case_id, b, w)``: the REST handler itself. It
   returns ``Submitted`` (then redirect with ``see_other``; a repeated submit with the same
   key is answered from the idempotency record and appends nothing) or ``None`` with
   ``form.errors`` filled: every refusal (validation, a domain rule with its ``field``,
   403/404/409) as a German message keyed by the form field it names (``fields=`` maps a
   problem's field to a form field), rendered next to that field and in the summary above
   the form; render the page again with ``status=status_of(form)`` (the same idempotency
   key, since a refused command stored none).
6. **Navigation per role**: ``add_nav(label, href, roles)`` at import time of the page
   module (``href`` may hold ``{tenant}``); the header shows the entries whose roles meet
   the viewer's. The start page lists each role's work the same way
   (``add_start(role, label, href, text)``).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData

from contexts.shared.errors import DomainError
from runtime.http.auth import Principal, Role, TokenVerifier
from runtime.http.problems import Problem
from runtime.platform import Platform
from services.web import labels
from services.web.session import Session, csrf_token, csrf_valid, load_session, save_session

HERE = Path(__file__).resolve().parent
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html", "svg"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
TEMPLATES.globals["label"] = labels.label
TEMPLATES.globals["labels"] = labels
TEMPLATES.globals["german_date"] = labels.german_date
TEMPLATES.globals["german_month"] = labels.german_month
SIGN_IN = "/anmelden"

STATUS_TITLES = {
    400: "Ungültige Anfrage",
    401: "Nicht angemeldet",
    403: "Keine Berechtigung",
    404: "Nicht gefunden",
    409: "Konflikt",
    413: "Zu groß",
    422: "Ungültige Eingabe",
    429: "Zu viele Anfragen",
    503: "Vorübergehend nicht verfügbar",
}


@dataclass(frozen=True)
class NavEntry:
    label: str
    href: str
    roles: frozenset[Role]


NAV: list[NavEntry] = []
"""The header's navigation; pages add theirs with ``add_nav``."""


@dataclass(frozen=True)
class StartLink:
    role: Role
    label: str
    href: str
    text: str


START_LINKS: list[StartLink] = []
"""What the start page offers each role; pages add theirs with ``add_start``."""


def add_nav(label: str, href: str, roles: Sequence[Role]) -> None:
    if not any(e.label == label and e.href == href for e in NAV):
        NAV.append(NavEntry(label, href, frozenset(roles)))


def add_start(role: Role, label: str, href: str, text: str) -> None:
    if not any(s.role == role and s.href == href for s in START_LINKS):
        START_LINKS.append(StartLink(role, label, href, text))


class SignInRequired(Exception):
    """No valid session: the visitor is sent to the sign-in page."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in principal of a page request and its session."""

    principal: Principal
    session: Session
    platform: Platform

    @property
    def tenant(self) -> str:
        return self.principal.tenant

    def has(self, *roles: Role) -> bool:
        return bool(self.principal.roles & set(roles))

    def nav(self) -> list[dict[str, str]]:
        return [
            {"label": e.label, "href": e.href.format(tenant=self.tenant)}
            for e in NAV
            if e.roles & self.principal.roles
        ]


def platform_of(request: Request) -> Platform:
    platform = request.app.state.platform
    assert isinstance(platform, Platform)
    return platform


def session_of(request: Request) -> Session:
    return load_session(request, platform_of(request).settings)


def principal_of_session(request: Request, session: Session) -> Principal | None:
    """The session token's principal, verified as the API verifies a bearer token."""
    if not session.token:
        return None
    verifier = request.app.state.verifier
    assert isinstance(verifier, TokenVerifier)
    try:
        return verifier.registered(verifier.verify(session.token))
    except Problem:
        return None  # expired or no longer valid: sign in again


def signed_in(request: Request) -> Viewer:
    session = session_of(request)
    principal = principal_of_session(request, session)
    if principal is None:
        raise SignInRequired
    return Viewer(principal, session, platform_of(request))


ViewerDep = Annotated[Viewer, Depends(signed_in)]


class CsrfRefused(Exception):
    """A POST without the session's CSRF token."""


async def form_of(request: Request) -> FormData:
    """The posted form, once its CSRF token matched the session's (else a German 403)."""
    data = await request.form()
    session = session_of(request)
    given = data.get("csrf_token")
    if not csrf_valid(session, platform_of(request).settings, str(given) if given else None):
        raise CsrfRefused
    return data


FormDep = Annotated[FormData, Depends(form_of)]


@dataclass
class Form:
    """A form's hidden fields, the values entered and the errors per field."""

    csrf_token: str
    idempotency_key: str
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    prefix: str = "f"
    """Prefix of the form's element ids (unique when a page has several forms)."""

    @property
    def summary(self) -> list[tuple[str, str]]:
        return [(name, message) for name, messages in self.errors.items() for message in messages]

    def value(self, name: str, default: Any = "") -> Any:
        return self.values.get(name, default)


def new_key() -> str:
    return "web-" + secrets.token_hex(16)


def new_form(request: Request) -> Form:
    """A fresh form of the request's session: its CSRF token and a new idempotency key."""
    return Form(csrf_token(session_of(request), platform_of(request).settings), new_key())


def render(
    request: Request,
    template: str,
    viewer: Viewer | None,
    *,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """The template with the page's common facts (viewer, navigation, sign-out form)."""
    session = viewer.session if viewer is not None else session_of(request)
    settings = platform_of(request).settings
    html = TEMPLATES.get_template(template).render(
        request=request,
        viewer=viewer,
        nav=viewer.nav() if viewer is not None else [],
        csrf=csrf_token(session, settings),
        path=request.url.path,
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    save_session(request, response, settings)
    return response


def see_other(request: Request, url: str) -> RedirectResponse:
    """POST-redirect-GET (303), the session written back."""
    response = RedirectResponse(url, status_code=303)
    save_session(request, response, platform_of(request).settings)
    return response


def _error_page(request: Request, status: int, detail: str) -> Response:
    viewer = None
    with contextlib.suppress(SignInRequired):
        viewer = signed_in(request)
    return render(
        request,
        "error.html",
        viewer,
        status=status,
        title=STATUS_TITLES.get(status, "Fehler"),
        detail=detail,
    )


def _refusal_text(status: int, rule: str, detail: str) -> str:
    from services.web.forms import german

    return german(rule, detail, status)


class PageRoute(APIRoute):
    """Refusals become German HTML pages with the problem's status (see the module doc)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return see_other(request, f"{SIGN_IN}?weiter={quote(target)}")
            except CsrfRefused:
                return _error_page(
                    request,
                    403,
                    "Das Formular ist abgelaufen oder wurde nicht von dieser Seite gesendet"
                    " (CSRF-Schutz). Bitte laden Sie die Seite neu und senden Sie es erneut.",
                )
            except Problem as e:
                return _error_page(request, e.status, _refusal_text(e.status, e.rule, e.detail))
            except DomainError as e:
                return _error_page(request, e.status, _refusal_text(e.status, e.rule, e.detail))
            except RequestValidationError:
                return _error_page(
                    request, 404, "Diese Adresse gibt es nicht (ungültige Angabe in der Adresse)."
                )

        return page_handler


def page_router() -> APIRouter:
    """A router of pages: German error pages, kept out of the OpenAPI document."""
    return APIRouter(route_class=PageRoute, include_in_schema=False)
