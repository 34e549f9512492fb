"""The start page ``/``: German, leads each role to its work; the static assets."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import FileResponse, Response

from runtime.http.auth import Role
from services.web.base import (
    HERE,
    START_LINKS,
    Viewer,
    page_router,
    principal_of_session,
    render,
    session_of,
    signed_in,
)
from services.web.labels import ROLES
from services.web.signin import development

router = page_router()
STATIC = HERE / "static"
DEMO_ROLES: list[tuple[Role, str, str]] = [
    (Role.CASE_MANAGER, "rheine", "Fälle führen: Erstberatung bis Abschluss"),
    (Role.COORDINATOR, "rheine", "Fachaufsicht, Freigaben, Lücken und Themen"),
    (Role.DISTRICT_COORDINATOR, "kreis-steinfurt", "Förderung, Stellen und Zahlen des Kreises"),
    (Role.AUDITOR, "kreis-steinfurt", "Verwendungsnachweise und Prüfpfade"),
    (Role.IMMIGRATION_OFFICER, "rheine", "Fristen, Verfahren und Verweisungen ins Case Management"),
    (
        Role.STEERING_MEMBER,
        "rheine",
        "Sitzungen, Beschlüsse und Aufgaben der Lenkungsgruppe des"
        " Kreises, als Mitglied für Rheines Koordinierungsstelle",
    ),
]
"""The demo's roles the start page offers before sign-in (development only)."""
DEMO_SUBJECTS = {Role.STEERING_MEMBER: "rheine-koordinierungsstelle"}
"""Roles whose demo sign-in names a member's pseudonymous subject (``kennung``)."""
TYPES = {".css": "text/css", ".woff2": "font/woff2", ".js": "text/javascript",
         ".txt": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
         ".svg": "image/svg+xml"}  # fmt: skip


@router.get("/")
def start(request: Request) -> Response:
    session = session_of(request)
    viewer: Viewer | None = None
    if principal_of_session(request, session) is not None:
        viewer = signed_in(request)
    links = []
    if viewer is not None:
        links = [s for s in START_LINKS if s.role in viewer.principal.roles]
    return render(
        request,
        "home.html",
        viewer,
        title="Start",
        links=[
            {"label": s.label, "href": s.href.format(tenant=viewer.tenant), "text": s.text}
            for s in links
        ]
        if viewer is not None
        else [],
        demo_roles=[
            (r.value, ROLES[r.value], t, text, DEMO_SUBJECTS.get(r, ""))
            for r, t, text in DEMO_ROLES
        ]
        if development(request)
        else [],
    )


@router.get("/static/{path:path}")
def static(path: str) -> Response:
    """The packaged assets (KERN-UX styles and fonts, the pages' own styles); no CDN."""
    target = (STATIC / path).resolve()
    if not target.is_relative_to(STATIC.resolve()) or not target.is_file():
        return Response("Nicht gefunden", status_code=404, media_type="text/plain")
    return FileResponse(
        Path(target),
        media_type=TYPES.get(target.suffix, "application/octet-stream"),
        headers={"Cache-Control": "public, max-age=86400"},
    )
