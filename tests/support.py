"""Helpers the API tests share: the problem-details check and the auth header factory type."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

PROBLEM = "application/problem+json"
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    422: "Unprocessable Content",
    503: "Service Unavailable",
}
Auth = Callable[..., dict[str, str]]


def assert_problem(response: httpx.Response, status: int, rule: str) -> dict[str, Any]:
    """An RFC 9457 problem with the platform's fields, for the given status and rule."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:kim:problem:{rule}"
    assert body["rule"] == rule
    assert body["status"] == status
    assert body["title"] == TITLES[status]
    assert body["instance"] == response.request.url.path
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


def wait_for(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Poll ``check`` until it returns something truthy (background consumers, the bus)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@contextlib.contextmanager
def served_in_thread(app: Any, **options: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free port in a thread of this process (its base URL),
    stopped afterwards; ``options`` go to ``uvicorn.Config``."""
    import uvicorn

    port = free_ports(1)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start in 30 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def _ephemeral_low() -> int:
    """The lowest port the kernel hands out to outgoing connections (Linux; 32768 else)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive ports free now, below the ephemeral range: a
    port from that range (``bind(0)``) may be taken meanwhile by any outgoing connection of
    the suite's other workers, as a cluster's ports were once during its two-minute setup."""
    import os
    import socket

    high = max(10_000 + count, _ephemeral_low() - count)
    for _ in range(200):
        base = 10_000 + int.from_bytes(os.urandom(2), "big") % (high - 10_000)
        held: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                held.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
    raise RuntimeError(f"no run of {count} free ports")
