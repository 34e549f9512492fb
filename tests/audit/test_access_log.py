"""The access log of personal data: every read of a person's sealed data or notes is in the
tenant's audit log (who, whose, which fields, why; never the data), a data subject's access
request is answered from it with ``kim audit access-log``, and no data goes out without it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient

from contexts.audit.application import (
    READS_OF_PERSON,
    AuditApplication,
    Channel,
    PersonalDataRead,
    Purpose,
    Read,
    Reader,
)
from kim.cli import main
from runtime.eventstore.memory import MemoryEventLogStore
from runtime.platform import Platform
from runtime.settings import Settings, get_settings
from tests.case_support import (
    CM,
    demo_position,
    ok,
    open_case,
    register_person,
    rheine_coordination_position,
)
from tests.support import Auth, assert_problem

RHEINE = CM.format(tenant="rheine")
NAME = "Lina Sorokina"
NOTE = "Frau Sorokina wartet auf den Kursbeginn."


def reads_in(platform: Platform, tenant: str = "rheine") -> list[PersonalDataRead]:
    """The personal-data reads in the tenant's audit log, in log order."""
    app = platform.app(AuditApplication, tenant)
    return [
        app.load(PersonalDataRead, UUID(str(n.originator_id)), "read")
        for n in app.recorder.select_notifications(
            start=None, limit=1000, topics=[get_topic(PersonalDataRead.Recorded)]
        )
    ]


def audit_texts(platform: Platform, tenant: str = "rheine") -> str:
    return " ".join(r.state.decode() for r in platform.store.read_log(tenant, "audit"))


def a_case_with_a_note(client: TestClient, cm: dict[str, str]) -> tuple[UUID, UUID]:
    person = register_person(client, cm, name=NAME)
    case = open_case(client, cm, person)
    body = {"on": "2022-06-15", "text": NOTE}
    ok(client.post(f"{RHEINE}/cases/{case}/notes", json=body, headers=cm))
    return person, case


def test_a_case_managers_reads_are_recorded_with_who_what_and_why(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    position = demo_position(platform)
    cm = auth("rheine", "case_manager", position=position)
    person = register_person(client, cm, name=NAME)
    # Before any case: seen as the position that registered the person.
    assert ok(client.get(f"{RHEINE}/people/{person}", headers=cm))["personal_data"]["name"] == NAME
    case = open_case(client, cm, person)
    note = {"on": "2022-06-15", "text": NOTE}
    ok(client.post(f"{RHEINE}/cases/{case}/notes", json=note, headers=cm))
    ok(client.get(f"{RHEINE}/people/{person}", headers=cm))
    assert ok(client.get(f"{RHEINE}/cases/{case}/notes", headers=cm))[0]["text"] == NOTE
    # Writes and case facts are no reads of personal data.
    ok(client.get(f"{RHEINE}/cases/{case}", headers=cm))

    first, second, notes = reads_in(platform)
    for read in (first, second, notes):
        assert (read.reader, read.roles, read.position) == (
            "rheine/dev-case_manager", ["case_manager"], str(position),
        )  # fmt: skip
        assert (read.person_id, read.channel) == (str(person), "rest")
    assert (first.purpose, first.case_id) == ("registration", None)
    assert first.fields == ["arrival_on", "consents", "languages", "name"]
    assert (second.purpose, second.case_id) == ("case", str(case))
    assert (notes.fields, notes.purpose, notes.case_id) == (["notes"], "case", str(case))
    # The log names the fields, never their values.
    texts = audit_texts(platform)
    assert "Sorokina" not in texts
    assert "Lina" not in texts
    assert '"uk"' not in texts
    # One person's reads come from the index kept with the events.
    app = platform.app(AuditApplication, "rheine")
    assert app.count_reads_of(person) == 3
    assert [r.id for r in app.reads_of(person)] == [first.id, second.id, notes.id]


def test_the_supervising_post_reads_for_supervision_or_an_approval(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    cm = auth("rheine", "case_manager", position=demo_position(platform))
    coordination = rheine_coordination_position(platform)
    post = auth("rheine", "coordinator", position=coordination)
    person, case = a_case_with_a_note(client, cm)
    ok(client.get(f"{RHEINE}/cases/{case}/notes", headers=post))
    # The case waits for the post's approval of its closure: the post reads to decide.
    ok(client.put(f"{RHEINE}/settings", json={"approvals": ["closure"]}, headers=post))
    closing = {"reason": "ended_by_person", "on": "2022-07-01"}
    ok(client.post(f"{RHEINE}/cases/{case}/closure", json=closing, headers=cm))
    ok(client.get(f"{RHEINE}/people/{person}", headers=post))

    supervision, approval = reads_in(platform)
    for read in (supervision, approval):
        assert (read.reader, read.roles, read.position) == (
            "rheine/dev-coordinator", ["coordinator"], str(coordination),
        )  # fmt: skip
        assert (read.person_id, read.case_id) == (str(person), str(case))
    assert (supervision.fields, supervision.purpose) == (["notes"], "supervision")
    assert approval.purpose == "approval"
    assert "name" in approval.fields
    # A refused read leaves no entry (and no data).
    before = platform.store.heads()
    refused = client.get(f"{RHEINE}/people/{person}", headers=auth("rheine", "coordinator"))
    assert_problem(refused, 403, "personal-data-not-allowed")
    assert platform.store.heads() == before


def test_no_data_goes_out_when_the_read_cannot_be_recorded(
    client: TestClient, platform: Platform, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    cm = auth("rheine", "case_manager", position=demo_position(platform))
    person, case = a_case_with_a_note(client, cm)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(AuditApplication, "record_reads", broken)
    for path in (f"/people/{person}", f"/cases/{case}/notes"):
        response = client.get(f"{RHEINE}{path}", headers=cm)
        problem = assert_problem(response, 503, "audit-log-unavailable")
        assert response.headers["retry-after"]
        assert "Sorokina" not in response.text
        assert "Lina" not in response.text
        assert problem["status"] == 503


def test_kim_audit_access_log_answers_a_data_subject_access_request(
    client: TestClient,
    platform: Platform,
    auth: Auth,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    cm = auth("rheine", "case_manager", position=demo_position(platform))
    post = auth("rheine", "coordinator", position=rheine_coordination_position(platform))
    person, case = a_case_with_a_note(client, cm)
    other = register_person(client, cm, name="Omid Karimi")
    ok(client.get(f"{RHEINE}/people/{person}", headers=cm))
    ok(client.get(f"{RHEINE}/people/{other}", headers=cm))
    ok(client.get(f"{RHEINE}/cases/{case}/notes", headers=post))

    monkeypatch.setenv("KIM_EVENT_STORE", settings.event_store)
    monkeypatch.setenv("KIM_PG_SCHEMA", settings.pg_schema)
    get_settings.cache_clear()
    try:
        capsys.readouterr()
        assert main(["audit", "access-log", "--tenant", "rheine", "--person", str(person)]) == 0
        lines = capsys.readouterr().out.splitlines()
        out = tmp_path / "auskunft.json"
        args = ["audit", "access-log", "--tenant", "rheine", "--person", str(person)]
        assert main([*args, "--format", "json", "--out", str(out)]) == 0
        assert main(["audit", "access-log", "--tenant", "rheine", "--person", "lina"]) == 2
        assert main(["audit", "access-log", "--tenant", "atlantis", "--person", str(person)]) == 2
        unknown = str(uuid4())
        assert main(["audit", "access-log", "--tenant", "rheine", "--person", unknown]) == 0
        assert capsys.readouterr().out.splitlines() == [lines[0]]  # the header alone
    finally:
        get_settings.cache_clear()

    assert lines[0] == "Zeitpunkt (UTC);Wer;Rollen;Stelle;Daten;Zweck;Fall;Zugang;Eintrag"
    rows = [line.split(";") for line in lines[1:]]
    assert [(r[1], r[4], r[5], r[6], r[7]) for r in rows] == [
        ("rheine/dev-case_manager", "arrival_on, consents, languages, name", "Fallbearbeitung",
         str(case), "REST"),
        ("rheine/dev-coordinator", "notes", "Fachaufsicht", str(case), "REST"),
    ]  # fmt: skip
    assert "Sorokina" not in "\n".join(lines)
    answer = json.loads(out.read_text(encoding="utf-8"))
    assert (answer["tenant"], answer["person"]) == ("rheine", str(person))
    assert [(r["reader"], r["purpose"], r["fields"]) for r in answer["reads"]] == [
        ("rheine/dev-case_manager", "case", ["arrival_on", "consents", "languages", "name"]),
        ("rheine/dev-coordinator", "supervision", ["notes"]),
    ]


def test_the_index_of_reads_by_person_is_rebuilt_from_the_log(
    memory_store: MemoryEventLogStore,
) -> None:
    app = AuditApplication("rheine", memory_store.recorder)
    reader = Reader("rheine/anna", frozenset({"case_manager"}), uuid4())
    lina, omid = uuid4(), uuid4()
    for n in range(30):  # many reads of others around those of one person
        reads = [Read(omid, ("name",), Purpose.CASE)]
        if n % 10 == 0:
            reads.append(Read(lina, ("name", "contact"), Purpose.CASE, uuid4()))
        app.record_reads(reader, reads, channel=Channel.REST)
    assert app.count_reads_of(lina) == 3
    assert [r.fields for r in app.reads_of(lina)] == [["contact", "name"]] * 3
    app.indexes.replace_index([])
    assert app.reads_of(lina) == []
    assert app.reindex() == 33
    assert app.indexes.index_count(READS_OF_PERSON, str(lina)) == 3
    with pytest.raises(ValueError, match="names the fields"):
        app.record_reads(reader, [Read(lina, ("<script>",), Purpose.CASE)], channel=Channel.REST)
