"""`kim replay`: rebuild read models from the event log, with progress."""

from __future__ import annotations

import argparse
import os
from functools import partial

from runtime.console import console
from runtime.console import progress_bar as _progress
from runtime.settings import Settings

PARALLEL_FROM = 20_000
"""Events from which ``kim replay`` starts worker processes (each costs about a second)."""


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild read models from the event log (all, or one tenant / one projection)."""
    import time

    from kim.contexts import PROJECTIONS
    from projections.catalogue import build_projections
    from projections.replay import ReplayJob, rebuild_parallel
    from runtime.platform import Platform

    chosen = [args.projection] if args.projection else list(PROJECTIONS)
    unknown = [p for p in chosen if p not in PROJECTIONS]
    if unknown:
        console.print(
            f"[red]Unbekannte Projektion {unknown[0]!r}; bekannt: {', '.join(PROJECTIONS)}"
        )
        return 2
    until = None
    if args.as_of:
        from datetime import UTC, date, datetime
        from datetime import time as day_time

        try:
            until = datetime.combine(date.fromisoformat(args.as_of), day_time.max, tzinfo=UTC)
        except ValueError:
            console.print("[red]--as-of erwartet ein Datum wie 2022-12-31.")
            return 2
    if (args.as_of or args.position) and not args.into:
        console.print("[red]Mit --as-of oder --position bitte --into DATEI angeben (die"
                      " Live-Lesemodelle bleiben unberührt).")  # fmt: skip
        return 2
    if args.position and not args.tenant:
        console.print("[red]--position gilt für die Protokolle eines Mandanten: --tenant angeben.")
        return 2
    if args.workers is not None and args.workers < 1:
        console.print("[red]--workers erwartet eine Zahl ab 1.")
        return 2
    workers = args.workers or os.cpu_count() or 1
    platform = Platform(settings)
    if args.into:
        from runtime.readstore_sqlite import SqliteReadStore

        platform.use_read_store(SqliteReadStore(args.into))
    try:
        heads = platform.store.heads()
        tenants = sorted({t for t, _ in heads})
        if args.tenant:
            if args.tenant not in platform.directory(refresh=True).tenants:
                console.print(f"[red]Unbekannter Mandant {args.tenant!r}.")
                return 2
            tenants = [args.tenant]
        projections = build_projections(platform, PROJECTIONS.values())
        for name in chosen:
            projection = projections[name]
            total = sum(
                h for (t, c), h in heads.items() if c == projection.context and t in tenants
            )
            started = time.perf_counter()
            sizes = {t: h for (t, c), h in heads.items() if c == projection.context}
            with _progress() as progress:
                task = progress.add_task(f"Neuaufbau {name}", total=total)
                advance = partial(progress.advance, task)
                if workers > 1 and len(tenants) > 1 and total >= PARALLEL_FROM:
                    job = ReplayJob(settings, PROJECTIONS[name], args.position, until, args.into)
                    count = rebuild_parallel(job, tenants, workers, advance, sizes)
                else:
                    count = projection.rebuild(
                        tenants, progress=advance, until=until, upto=args.position
                    )
            seconds = time.perf_counter() - started
            rate = count / seconds if seconds > 0 else 0.0
            console.print(
                f"{name}: {count} Ereignisse in {seconds:.1f} s ({rate:,.0f}/s) neu aufgebaut;"
                f" Prüfsumme {platform.read.checksum(name)[:16]}"
            )
    finally:
        platform.close()
    return 0
