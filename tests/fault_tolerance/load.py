"""A steady load of commands with idempotency keys and retries, and readers beside it, for the
fault test: what was acknowledged, and every answer's status (5xx other than 503, and 503s
without ``Retry-After``, are violations)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx

GAP_WORDS = ["Kita", "Sprachkurs", "Beratung", "Wohnraum", "Arbeit", "Schule", "Gesundheit"]


@dataclass
class Command:
    key: str
    tenant: str
    description: str
    attempts: int = 0
    acknowledged: str | None = None  # the aggregate id of the answer
    answered_at: float | None = None


@dataclass
class Observations:
    statuses: Counter[int] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    transport_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, what: str, response: httpx.Response) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1
            code = response.status_code
            if code >= 500 and code != 503:
                self.violations.append(f"{what}: {code} {response.text[:300]}")
            if code == 503 and not response.headers.get("Retry-After"):
                self.violations.append(f"{what}: 503 without Retry-After {response.text[:200]}")

    def transport_error(self) -> None:
        with self.lock:
            self.transport_errors += 1


class Load:
    """``writers`` threads recording system gaps (one aggregate each) in ``tenants``, each
    command retried with its key until it is acknowledged; a reader asking GraphQL."""

    def __init__(
        self,
        command_url: str,
        graphql_url: str,
        tokens: dict[str, str],
        *,
        writers: int = 2,
        pause: float = 0.05,
    ) -> None:
        self.command_url = command_url.rstrip("/")
        self.graphql_url = graphql_url
        self.tokens = tokens
        self.writers = writers
        self.pause = pause
        self.commands: list[Command] = []
        self.seen = Observations()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._counter = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        for i in range(self.writers):
            t = threading.Thread(target=self._write_loop, args=(i,), daemon=True)
            t.start()
            self._threads.append(t)
        reader = threading.Thread(target=self._read_loop, daemon=True)
        reader.start()
        self._threads.append(reader)

    def stop(self, *, settle: float = 60.0) -> list[Command]:
        """Stop starting new commands; finish the ones under way (retried until answered or
        ``settle`` seconds pass). Returns those never acknowledged."""
        self._settle_until = time.monotonic() + settle
        self._stop.set()
        for t in self._threads:
            t.join(settle + 10)
        return [c for c in self.commands if c.acknowledged is None]

    def _next(self, writer: int) -> Command:
        with self._lock:
            self._counter += 1
            n = self._counter
        tenants = sorted(self.tokens)
        words = " ".join(GAP_WORDS[d] for d in _base7(n))
        command = Command(
            key=str(uuid.uuid4()),
            tenant=tenants[n % len(tenants)],
            description=f"Lastprobe {writer} {words}",
        )
        with self._lock:
            self.commands.append(command)
        return command

    def _write_loop(self, writer: int) -> None:
        with httpx.Client(timeout=15.0) as client:
            while not self._stop.is_set():
                self._send(client, self._next(writer))
                time.sleep(self.pause)

    def _send(self, client: httpx.Client, command: Command) -> None:
        body = {
            "life_dimension": "education",
            "description": command.description,
            "reported_on": "2026-11-30",
        }
        headers = {
            "Authorization": f"Bearer {self.tokens[command.tenant]}",
            "Idempotency-Key": command.key,
        }
        url = f"{self.command_url}/coordination/tenants/{command.tenant}/gaps"
        while True:
            if self._stop.is_set() and time.monotonic() > getattr(self, "_settle_until", 0):
                return
            command.attempts += 1
            try:
                response = client.post(url, json=body, headers=headers)
            except httpx.TransportError:
                self.seen.transport_error()
                time.sleep(0.2)
                continue
            self.seen.record(f"POST gaps {command.key}", response)
            if response.status_code == 201:
                command.acknowledged = str(response.json()["events"][0]["aggregate_id"])
                command.answered_at = time.monotonic()
                return
            if response.status_code in (503, 502, 504) or response.status_code == 429:
                time.sleep(min(float(response.headers.get("Retry-After", "1") or 1), 1.0))
                continue
            self.seen.violations.append(
                f"POST gaps {command.key}: {response.status_code} {response.text[:300]}"
            )
            return

    def _read_loop(self) -> None:
        query = '{ gaps(tenant: "%s") { byLifeDimension { key count } } }'
        with httpx.Client(timeout=15.0) as client:
            while not self._stop.is_set():
                tenant = sorted(self.tokens)[0]
                try:
                    response = client.post(
                        self.graphql_url,
                        json={"query": query % tenant},
                        headers={"Authorization": f"Bearer {self.tokens[tenant]}"},
                    )
                    self.seen.record("graphql gaps", response)
                except httpx.TransportError:
                    self.seen.transport_error()
                time.sleep(0.5)


def _base7(n: int) -> list[int]:
    """``n``'s digits in base 7: one of the seven words each, so every gap's text is its own
    (no digits in it: the personal-data detector refuses what looks like a person's number)."""
    digits = []
    while True:
        n, d = divmod(n, 7)
        digits.append(d)
        if n == 0:
            return digits[::-1]


class ReadyWatch:
    """Polls a service's ``/readyz`` every ``every`` seconds: when it said not ready, and
    whether every such answer had ``Retry-After``."""

    def __init__(self, url: str, *, every: float = 0.5) -> None:
        self.url = url
        self.every = every
        self.answers: list[tuple[float, int, bool]] = []  # (time, status, Retry-After)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def not_ready_between(self, start: float, end: float) -> int:
        return sum(1 for t, status, _ in self.answers if start <= t <= end and status == 503)

    def without_retry_after(self) -> int:
        return sum(1 for _, status, retry in self.answers if status == 503 and not retry)

    def _loop(self) -> None:
        with httpx.Client(timeout=5.0) as client:
            while not self._stop.is_set():
                try:
                    r = client.get(self.url)
                    retry = bool(r.headers.get("Retry-After"))
                    self.answers.append((time.monotonic(), r.status_code, retry))
                except httpx.TransportError:
                    pass
                time.sleep(self.every)
