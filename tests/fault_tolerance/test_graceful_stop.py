"""SIGTERM stops a service gracefully: a request in flight is answered before the process
ends, the process ends within its bound, and the relay's positions are saved as far as the
bus acknowledged (issue 16, point 1).

A service of its own (``kim serve --service coordination``) on a PostgreSQL cluster and a
NATS JetStream node of the test's own. The request is held in flight by another session
holding the log's head row; SIGTERM arrives while it waits, and the lock is released after.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import nats
import psycopg

from tests.faults import own_nats, own_postgres
from tests.support import free_ports

KIM = str(Path(sys.executable).parent / "kim")
SECRET = "graceful-stop-jwt-secret-0123456789-abcdef"
STOP_BOUND = 10.0
"""Seconds from SIGTERM to the process's end, the held request included."""
HEAD = "SELECT position FROM kim.log_heads WHERE tenant='rheine' AND context='coordination'"
SAVED = (
    "SELECT position FROM kim.relay_positions"
    " WHERE relay='relay' AND tenant='rheine' AND context='coordination'"
)


def head(dsn: str, sql: str = HEAD) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(sql.encode()).fetchone()
    return int(row[0]) if row else 0


async def published(url: str) -> int:
    """How many of rheine's coordination events the stream holds (each once: Nats-Msg-Id)."""
    nc = await nats.connect(url)
    try:
        info = await nc.jetstream().stream_info("KIM", subjects_filter="kim.rheine.coordination.>")
        return sum((info.state.subjects or {}).values())
    finally:
        await nc.close()


def wait_ready(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"not ready within {timeout} s")


def test_sigterm_answers_the_request_in_flight_and_saves_the_relay_positions(
    tmp_path: Path,
) -> None:
    with own_postgres("kimstop") as pg, own_nats(tmp_path / "nats") as bus:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIM_")}
        env.update(
            KIM_EVENT_STORE=pg.dsn,
            KIM_BUS=bus.url,
            KIM_JWT_SECRET=SECRET,
            KIM_KEY_FILE=str(tmp_path / "keys" / "kek.json"),
            KIM_RELAY_POLL_INTERVAL="0.1",
        )
        for args in (["keys", "init", "--file", env["KIM_KEY_FILE"]], ["demo"]):
            done = subprocess.run(
                [KIM, *args], env=env, capture_output=True, text=True, timeout=120, check=False
            )
            assert done.returncode == 0, f"kim {args}: {done.stdout}\n{done.stderr}"
        token = subprocess.run(
            [KIM, "token", "--tenant", "rheine", "--role", "coordinator"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()
        port = free_ports(1)
        server = subprocess.Popen(
            [KIM, "serve", "--service", "coordination", "--port", str(port)],
            env=env,
            stdout=(tmp_path / "serve.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        try:
            wait_ready(port)
            before = head(pg.dsn)
            locked, release = threading.Event(), threading.Event()

            def hold() -> None:
                with psycopg.connect(pg.dsn) as conn, conn.transaction():
                    conn.execute(f"{HEAD} FOR UPDATE".encode())
                    locked.set()
                    release.wait(10)

            answers: list[httpx.Response] = []

            def send() -> None:
                answers.append(
                    httpx.post(
                        f"http://127.0.0.1:{port}/coordination/tenants/rheine/gaps",
                        json={
                            "life_dimension": "education",
                            "description": "Sprachkurs beim Herunterfahren",
                            "reported_on": "2026-11-30",
                        },
                        headers={
                            "Authorization": f"Bearer {token}",
                            "Idempotency-Key": "graceful-stop-0001",
                        },
                        timeout=20,
                    )
                )

            holder = threading.Thread(target=hold)
            holder.start()
            assert locked.wait(10)
            sender = threading.Thread(target=send)
            sender.start()
            time.sleep(1.0)  # the request waits for the head row now
            assert not answers, "the request was answered before the lock was released"
            stopped_at = time.monotonic()
            server.send_signal(signal.SIGTERM)
            time.sleep(1.0)
            release.set()
            holder.join(10)
            sender.join(20)
            code = server.wait(STOP_BOUND)
            took = time.monotonic() - stopped_at
        finally:
            if server.poll() is None:
                server.kill()
                server.wait(10)
        log = (tmp_path / "serve.log").read_text(errors="replace")
        assert answers, f"the request in flight was never answered: {log[-2000:]}"
        assert answers[0].status_code == 201, answers[0].text
        # uvicorn ends by re-raising the signal once it stopped gracefully (143 in a shell).
        assert code in (0, -signal.SIGTERM), log[-2000:]
        assert "Application shutdown complete" in log
        assert took < STOP_BOUND
        assert head(pg.dsn) == before + 1
        # Saved on stop as far as the bus acknowledged: no more, and nothing published after
        # the last save (the relay's next start publishes from exactly there).
        assert head(pg.dsn, SAVED) == asyncio.run(published(bus.url))
        assert head(pg.dsn, SAVED) >= before
