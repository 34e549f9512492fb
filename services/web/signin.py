"""Signing in and out: the development sign-in (demo tenant, role, position) and OIDC.

Development mode is the embedded default without ``KIM_JWKS_URL`` (``runtime/settings.py``:
a process with it counts as production): there ``/anmelden`` offers the demo's tenants,
roles and positions (read from the registry and coordination's read model) and signs in
with a development token, as ``kim token`` mints one. In production ``/anmelden`` starts
the OIDC flow (``services/web/oidc.py``); the development sign-in answers 404.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from uuid import UUID

from fastapi import Request
from fastapi.responses import Response

from runtime.http.auth import Role, mint_token
from services.web import oidc
from services.web.base import (
    FormDep,
    new_form,
    page_router,
    platform_of,
    principal_of_session,
    render,
    see_other,
    session_of,
)
from services.web.labels import ROLES

router = page_router()
CALLBACK = "/anmelden/rueckruf"


SUBJECT = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
"""A pseudonymous token subject the development sign-in may name (e.g. the demo's member
``rheine-koordinierungsstelle`` of a steering group); by default ``dev-<role>-<tenant>``."""


def development(request: Request) -> bool:
    return not platform_of(request).settings.jwks_url


def safe_next(target: str | None) -> str:
    """Only a path of this site (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def demo_positions(request: Request) -> list[dict[str, str]]:
    """The positions of the registered tenants (coordination's read model), for the choice."""
    platform = platform_of(request)
    tenants = sorted(platform.directory().tenants)
    rows = platform.read.rows("coordination", tenants, "Position") if tenants else []
    found = [
        {
            "id": r.key,
            "title": str(r.doc.get("title", r.key)),
            "work_tenant": str(r.doc.get("work_tenant", r.tenant)),
            "type": str(r.doc.get("position_type", "")),
        }
        for r in rows
    ]
    return sorted(found, key=lambda p: (p["work_tenant"], p["title"]))


def _dev_page(request: Request, form: Any, status: int = 200) -> Response:
    platform = platform_of(request)
    tenants = sorted(platform.directory().tenants.values(), key=lambda t: t.name)
    return render(
        request,
        "signin_dev.html",
        None,
        status=status,
        title="Anmelden (Entwicklung)",
        form=form,
        tenants=[(t.key, t.name) for t in tenants],
        roles=list(ROLES.items()),
        positions=demo_positions(request),
        oidc_configured=oidc.OidcSettings().configured,
    )


@router.get("/anmelden")
def sign_in_page(
    request: Request,
    weiter: str | None = None,
    mandant: str | None = None,
    rolle: str | None = None,
    stelle: str | None = None,
    kennung: str | None = None,
) -> Response:
    if not development(request):
        return start_oidc(request, weiter)
    form = new_form(request)
    form.values.update(
        {"tenant": mandant or "", "role": rolle or "", "position": stelle or "",
         "subject": kennung or "", "next": weiter}
    )  # fmt: skip
    return _dev_page(request, form)


@router.post("/anmelden")
def sign_in_development(request: Request, data: FormDep) -> Response:
    """Development only: a development token for the chosen tenant, role and position."""
    if not development(request):
        return render(
            request,
            "error.html",
            None,
            status=404,
            title="Nicht gefunden",
            detail="Die Entwicklungs-Anmeldung gibt es nur im Entwicklungsbetrieb.",
        )
    platform = platform_of(request)
    form = new_form(request)
    form.values.update({k: str(v) for k, v in data.items() if isinstance(v, str)})
    tenant, role, position = (form.value(n).strip() for n in ("tenant", "role", "position"))
    if platform.directory().get(tenant) is None:
        form.errors["tenant"] = ["Bitte einen Mandanten wählen."]
    if role not in {r.value for r in Role}:
        form.errors["role"] = ["Bitte eine Rolle wählen."]
    position_id = None
    if position:
        try:
            position_id = UUID(position)
        except ValueError:
            form.errors["position"] = ["Bitte eine der angebotenen Stellen wählen."]
    if role == Role.CASE_MANAGER and position_id is None and "position" not in form.errors:
        form.errors["position"] = ["Das Case Management braucht eine Stelle."]
    subject = form.value("subject").strip()
    if subject and not SUBJECT.fullmatch(subject):
        form.errors["subject"] = ["Bitte nur Kleinbuchstaben, Ziffern und Bindestriche (bis 64)."]
    if form.errors:
        return _dev_page(request, form, status=422)
    token = mint_token(
        platform.settings,
        tenant=tenant,
        roles=[role],
        subject=subject or f"dev-{role}-{tenant}",
        position=position_id,
        ttl_seconds=min(8 * 3600, platform.settings.token_max_lifetime),
    )
    session = session_of(request)
    session.sign_in(token)
    if principal_of_session(request, session) is None:
        session.sign_out()
        form.errors["tenant"] = ["Mit dieser Auswahl ist keine Anmeldung möglich."]
        return _dev_page(request, form, status=422)
    return see_other(request, safe_next(form.value("next")))


def _redirect_uri(request: Request, settings: oidc.OidcSettings) -> str:
    return settings.redirect_url or str(request.base_url).rstrip("/") + CALLBACK


def _oidc_error(request: Request, message: str, status: int = 502) -> Response:
    return render(
        request, "error.html", None, status=status, title="Anmeldung fehlgeschlagen", detail=message
    )


@router.get("/anmelden/oidc")
def start_oidc(request: Request, weiter: str | None = None) -> Response:
    """Send the browser to the issuer with state, nonce and the PKCE challenge."""
    settings = oidc.OidcSettings()
    if not settings.configured or settings.issuer is None:
        return _oidc_error(
            request,
            "Die Anmeldung über den Anmeldedienst ist nicht eingerichtet"
            " (KIM_OIDC_ISSUER, KIM_OIDC_CLIENT_ID).",
            status=503,
        )
    try:
        meta = oidc.discover(settings.issuer)
    except oidc.OidcError as e:
        return _oidc_error(request, str(e))
    verifier, challenge = oidc.pkce_pair()
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    session = session_of(request)
    session.pending = {
        "state": state,
        "nonce": nonce,
        "verifier": verifier,
        "next": safe_next(weiter),
    }
    session.changed = True
    target = oidc.authorization_url(
        meta,
        settings,
        redirect_uri=_redirect_uri(request, settings),
        state=state,
        nonce=nonce,
        challenge=challenge,
    )
    return see_other(request, target)


@router.get(CALLBACK)
def oidc_callback(
    request: Request,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    """The issuer's answer: code and state checked, code exchanged, token verified."""
    settings = oidc.OidcSettings()
    session = session_of(request)
    pending = dict(session.pending)
    session.pending, session.changed = {}, True
    if error:
        return _oidc_error(
            request, f"Der Anmeldedienst hat die Anmeldung abgelehnt ({error}).", 401
        )
    expected = pending.get("state", "")
    if not code or not state or not expected or not secrets.compare_digest(state, expected):
        return _oidc_error(request, "Diese Anmeldung wurde nicht hier begonnen (state).", 400)
    if not settings.configured or settings.issuer is None:
        return _oidc_error(request, "Die Anmeldung ist nicht eingerichtet.", 503)
    platform = platform_of(request)
    try:
        meta = oidc.discover(settings.issuer)
        tokens = oidc.exchange(
            meta,
            settings,
            code=code,
            verifier=pending["verifier"],
            redirect_uri=_redirect_uri(request, settings),
        )
        id_token = tokens.get("id_token")
        if id_token and platform.settings.jwks_url:
            oidc.check_id_token(
                str(id_token),
                jwks_url=platform.settings.jwks_url,
                issuer=str(meta["issuer"]),
                client_id=settings.client_id or "",
                nonce=pending.get("nonce", ""),
                algorithms=platform.settings.jwt_algorithms,
            )
    except oidc.OidcError as e:
        return _oidc_error(request, str(e))
    session.sign_in(str(tokens["access_token"]))
    if principal_of_session(request, session) is None:
        session.sign_out()
        return _oidc_error(
            request,
            "Das Zugriffstoken des Anmeldedienstes wird von KIM nicht angenommen"
            " (Aussteller, Zielgruppe, Mandant oder Gültigkeit).",
            401,
        )
    return see_other(request, safe_next(pending.get("next")))


@router.post("/abmelden")
def sign_out(request: Request, data: FormDep) -> Response:
    session = session_of(request)
    session.sign_out()
    return see_other(request, "/")
