"""`kim audit access-log`: who read a person's data when and why (Art. 15 GDPR), from the
index of reads by person in the tenant's audit log."""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path
from typing import Any

from runtime.console import console
from runtime.console import progress_bar as _progress

ACCESS_LOG_HEADER = ["Zeitpunkt (UTC)", "Wer", "Rollen", "Stelle", "Daten", "Zweck", "Fall"]
ACCESS_LOG_HEADER += ["Zugang", "Eintrag"]
PURPOSES = {
    "case": "Fallbearbeitung",
    "supervision": "Fachaufsicht",
    "approval": "Genehmigung (Fachaufsicht)",
    "registration": "Erfassung (vor dem ersten Fall)",
    "audit": "Prüfung",
    "procedure": "Verfahren der Ausländer- und Einbürgerungsbehörde",
}


def access_log(args: argparse.Namespace, store: Any) -> int:
    """Who read the person's data when, why: from the index of reads by person."""
    import csv
    import io
    import json
    from uuid import UUID

    from contexts.audit.application import AuditApplication
    from contexts.tenancy.application import TenancyApplication

    if not args.tenant or not args.person:
        console.print("[red]kim audit access-log braucht --tenant und --person.")
        return 2
    if args.format == "pdf":
        console.print("[red]Das Zugriffsprotokoll gibt es als csv oder json.")
        return 2
    try:
        person = UUID(args.person)
    except ValueError:
        console.print(f"[red]--person erwartet die ID der Person (UUID), nicht {args.person!r}.")
        return 2
    if TenancyApplication(store.recorder).directory().get(args.tenant) is None:
        console.print(f"[red]Mandant {args.tenant} ist nicht registriert.")
        return 2
    app = AuditApplication(args.tenant, store.recorder)
    with _progress() as progress:
        task = progress.add_task("Zugriffsprotokoll lesen", total=app.count_reads_of(person))
        reads = app.reads_of(person, progress=partial(progress.advance, task))
    rows: list[dict[str, Any]] = [
        {
            "at": r.created_on.isoformat(timespec="seconds"),
            "reader": r.reader,
            "roles": r.roles,
            "position": r.position,
            "fields": r.fields,
            "purpose": r.purpose,
            "case_id": r.case_id,
            "channel": r.channel,
            "entry": str(r.id),
        }
        for r in reads
    ]
    if args.format == "json":
        text = json.dumps(
            {"tenant": args.tenant, "person": str(person), "reads": rows},
            indent=2, ensure_ascii=False,
        )  # fmt: skip
        text += "\n"
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
        writer.writerow(ACCESS_LOG_HEADER)
        for row in rows:
            writer.writerow([
                row["at"], row["reader"], ", ".join(row["roles"]), row["position"] or "",
                ", ".join(row["fields"]), PURPOSES.get(row["purpose"], row["purpose"]),
                row["case_id"] or "", "REST" if row["channel"] == "rest" else "GraphQL",
                row["entry"],
            ])  # fmt: skip
        text = buffer.getvalue()
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    console.print(
        f"{len(rows)} Zugriffe auf Daten der Person {person} bei {args.tenant}"
        " (ohne die Daten selbst)."
    )
    return 0
