"""The coordinator records a system gap, opens a topic and groups the gap into it from the
topics page: German errors next to the field, nothing appended on a refusal, once on a
repeated submit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.web.pages_support import embedded_settings, errors, forms, pages_client, sign_in

TOPICS = "/koordination/themen"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Platform]]:
    with pages_client(embedded_settings(tmp_path_factory.mktemp("topics"))) as found:
        client, _ = found
        sign_in(client, "coordinator", "rheine")
        yield found


def head(platform: Platform) -> int:
    return platform.store.head("rheine", "coordination")


def post(client: TestClient, action: str, fields: dict[str, str]) -> tuple[dict[str, str], int]:
    """Post the form to ``action`` from the topics page; (its hidden fields, status)."""
    hidden = forms(client.get(TOPICS).text)[action]
    response = client.post(action, data={**hidden, **fields}, follow_redirects=False)
    return hidden, response.status_code


def test_a_gap_with_personal_data_or_without_text_is_refused_next_to_the_field(
    served: tuple[TestClient, Platform],
) -> None:
    client, platform = served
    before = head(platform)
    hidden = forms(client.get(TOPICS).text)["/koordination/themen/luecken"]
    for text, message in (("", "Bitte ausfüllen."), ("Frau K., Tel. 05971 123456", None)):
        fields = {"life_dimension": "education", "description": text,
                  "reported_on": date.today().isoformat()}  # fmt: skip
        refused = client.post("/koordination/themen/luecken", data={**hidden, **fields})
        assert refused.status_code == 422
        found = errors(refused.text)
        assert "gap-description" in found, found
        if message is not None:
            assert found["gap-description"] == message
        assert 'href="#gap-description"' in refused.text  # the summary links to the field
    assert head(platform) == before


def test_a_gap_and_a_topic_are_recorded_once_and_the_gap_goes_into_the_topic(
    served: tuple[TestClient, Platform],
) -> None:
    client, platform = served
    before = head(platform)
    fields = {"life_dimension": "education", "reported_on": date.today().isoformat(),
              "description": "Es fehlen Sprachkurse am Abend für Berufstätige."}  # fmt: skip
    hidden, status = post(client, "/koordination/themen/luecken", fields)
    assert status == 303
    again = client.post("/koordination/themen/luecken", data={**hidden, **fields})
    assert again.status_code in (200, 303)  # answered from the idempotency record
    assert head(platform) == before + 1
    _, status = post(
        client, TOPICS, {"title": "Abendkurse für Berufstätige", "life_dimension": "education"}
    )
    assert status == 303
    page = client.get(TOPICS).text
    assert "Abendkurse für Berufstätige" in page
    topic_id = re.findall(r'id="thema-([0-9a-f-]{36})-titel"', page)[-1]
    actions = [a for a in forms(page) if a.endswith("/thema")]
    assert actions, "every gap without a topic offers the form"
    refused = client.post(actions[0], data={**forms(page)[actions[0]], "topic_id": ""})
    assert refused.status_code == 422
    assert any(key.endswith("topic-id") for key in errors(refused.text))
    grouped = client.post(
        actions[0], data={**forms(page)[actions[0]], "topic_id": topic_id}, follow_redirects=False
    )
    assert grouped.status_code == 303
    assert (
        len([a for a in forms(client.get(TOPICS).text) if a.endswith("/thema")]) == len(actions) - 1
    )


def test_a_case_manager_cannot_record_a_gap_from_the_page(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with pages_client(embedded_settings(tmp_path_factory.mktemp("cm"))) as (client, platform):
        sign_in(client, "case_manager", "rheine", position="Case Management")
        page = client.get(TOPICS)  # they may read it, but are offered no form on it
        assert page.status_code == 200
        assert set(forms(page.text)) == {"/abmelden"}  # signing out only
        hidden = forms(client.get("/personen/neu").text)["/personen/neu"]  # their session's
        before = head(platform)
        fields = {"life_dimension": "education", "reported_on": date.today().isoformat(),
                  "description": "Es fehlen Abendkurse."}  # fmt: skip
        refused = client.post("/koordination/themen/luecken", data={**hidden, **fields})
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("text/html")
        assert "CSRF" not in refused.text  # refused for the role, not for the form's token
        assert head(platform) == before
