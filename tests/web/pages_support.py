"""Driving the staff pages without a browser: an app on the embedded store with the demo, a
signed-in client, forms read from the HTML and posted back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from kim.assembly import build_app
from kim.demo import load_demo
from runtime.keyring import create_key_file
from runtime.platform import Platform
from runtime.settings import Settings
from tests.conftest import TEST_SECRET, settle

FORM = re.compile(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')
OPTION = re.compile(r'<option value="([0-9a-f-]{36})"[^>]*>([^<]*)</option>')
ERROR = re.compile(r'<p class="kern-error" id="([^"]+)-error">.*?<span class="kern-body">([^<]*)<')


def embedded_settings(folder: Path, **more: Any) -> Settings:
    chosen: dict[str, Any] = {"jwt_secret": TEST_SECRET, **more}
    return Settings(
        event_store=f"sqlite:///{folder / 'kim-data'}",
        bus="memory",
        relay_poll_interval=0.02,
        key_file=str(create_key_file(folder / "kim-keys" / "kek.json")),
        **chosen,
    )


@contextmanager
def pages_client(settings: Settings, **client: Any) -> Iterator[tuple[TestClient, Platform]]:
    platform = Platform(settings)
    load_demo(platform)
    with TestClient(build_app(settings, platform=platform), **client) as c:
        settle(platform)
        yield c, platform
    platform.close_read()


def forms(html: str) -> dict[str, dict[str, str]]:
    """Each POST form of the page by its action: its hidden fields."""
    return {action: dict(HIDDEN.findall(body)) for action, body in FORM.findall(html)}


def errors(html: str) -> dict[str, str]:
    """The field errors rendered next to their fields: element id -> German message."""
    return dict(ERROR.findall(html))


def post_form(client: TestClient, page: str, action: str, fields: dict[str, Any]) -> httpx.Response:
    """Open ``page``, take the hidden fields of the form posting to ``action``, post it."""
    found = forms(client.get(page).text)
    assert action in found, f"no form to {action} on {page}: {sorted(found)}"
    response: httpx.Response = client.post(
        action, data={**found[action], **fields}, follow_redirects=False
    )
    return response


def position_id(client: TestClient, title: str) -> str:
    options = OPTION.findall(client.get("/anmelden").text)
    return next(str(key) for key, shown in options if title in shown)


def sign_in(
    client: TestClient,
    role: str,
    tenant: str,
    position: str | None = None,
    subject: str | None = None,
) -> None:
    """The development sign-in; ``subject``: a pseudonymous subject of the demo's (e.g. a
    steering group member's), else the role's own."""
    fields = {"tenant": tenant, "role": role}
    if position is not None:
        fields["position"] = position_id(client, position)
    if subject is not None:
        fields["subject"] = subject
    response = post_form(client, "/anmelden", "/anmelden", fields)
    assert response.status_code == 303, response.text


def new_case(client: TestClient, name: str, arrival: str = "2024-06-01") -> str:
    """Register a person and open their case through the pages; the case page's path."""
    response = post_form(
        client, "/personen/neu", "/personen/neu", {"name": name, "arrival_on": arrival}
    )
    assert response.status_code == 303, response.text
    opening = response.headers["location"]
    today = date.today().isoformat()
    fields = {"referral_source": "school", "consent": "ja", "consent_on": today,
              "opened_on": today}  # fmt: skip
    response = post_form(client, opening, opening, fields)
    assert response.status_code == 303, response.text
    return str(response.headers["location"]).split("?")[0]
