"""The case manager's list of due follow-ups: the appointments of their own position's
cases in the next days, from the position's index kept with the events."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

import pytest

from runtime.http.auth import mint_token
from tests.web.pages_support import (
    embedded_settings,
    new_case,
    pages_client,
    position_id,
    sign_in,
)


def test_the_due_list_shows_the_positions_appointments_and_no_other(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with pages_client(embedded_settings(tmp_path_factory.mktemp("due"))) as (client, platform):
        sign_in(client, "case_manager", "rheine", position="Case Management")
        case = new_case(client, "Olena K.").rsplit("/", 1)[1]
        position = position_id(client, "Case Management")
        token = mint_token(
            platform.settings, tenant="rheine", roles=["case_manager"], position=UUID(position)
        )
        soon = (date.today() + timedelta(days=5)).isoformat()
        scheduled = client.post(
            f"/case_management/tenants/rheine/cases/{case}/appointments",
            json={"on": soon, "kind": "follow_up"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert scheduled.status_code == 200, scheduled.text
        page = client.get("/faelle").text
        assert f"{date.fromisoformat(soon):%d.%m.%Y}: Folgetermin" in page
        assert f'href="/faelle/{case}">Fall {case[:8]}</a></li>' in page
