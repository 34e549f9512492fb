"""The console side of a key rotation: a progress bar per epoch and a summary in German."""

from __future__ import annotations

from rich.progress import Progress, TaskID

from runtime.console import console
from runtime.console import progress_bar as _progress
from runtime.eventstore.base import EventLogStore
from runtime.keyring import KeyEncryptionKeys


class RotationBar:
    """The rotation's progress on the console: one bar per epoch re-wrapped towards."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None

    def start(self, epoch: int, total: int) -> None:
        self.task = self.progress.add_task(f"Schlüssel → Epoche {epoch}", total=total)

    def advance(self, count: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, count)


def run_rotation(
    store: EventLogStore, keys: KeyEncryptionKeys, *, only_if_pending: bool = False
) -> int:
    """Rotate with a progress bar, waiting for a rotation under way elsewhere; exit code."""
    from runtime.key_epochs import KeyFileProblem, RotationBusy, rotate

    try:
        with _progress() as progress:
            bar = RotationBar(progress)
            try:
                rotation = rotate(store, keys, progress=bar, only_if_pending=only_if_pending)
            except RotationBusy:
                console.print("Eine andere Rotation läuft gerade; warte bis zu 10 Minuten …")
                rotation = rotate(
                    store, keys, progress=bar, only_if_pending=only_if_pending, wait=600
                )
    except RotationBusy:
        console.print("[red]Die andere Rotation ist nach 10 Minuten nicht fertig; später erneut.")
        return 1
    except KeyFileProblem as e:
        console.print(f"[red]{e}")
        return 2
    if rotation is None:
        console.print("Keine Löschung ausstehend; keine neue Schlüsselepoche nötig.")
        return 0
    destroyed = ", ".join(map(str, rotation.destroyed)) or "keine"
    console.print(
        f"Schlüsselepoche {rotation.epoch}: {rotation.rewrapped} Personenschlüssel neu"
        f" verschlüsselt, Epoche(n) {destroyed} vernichtet, {rotation.erasures} Löschung(en)"
        f" endgültig ({rotation.seconds:.1f} s)."
    )
    return 0
