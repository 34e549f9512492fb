"""The pages' session: a signed cookie holding the bearer token, and the CSRF token of its forms.

The cookie (``kim_session``) is signed (``itsdangerous``, HMAC-SHA256 under a key derived
from ``KIM_JWT_SECRET``, which production requires to be a secret of its own), HttpOnly,
SameSite=Lax and Secure when the request came over HTTPS. It holds a random session id,
the bearer token of the signed-in principal (a development token or the identity
provider's access token, verified on every request exactly as the API verifies it) and,
during an OIDC sign-in, the state, nonce and PKCE verifier of that sign-in.

CSRF: every form carries ``csrf_token``, an HMAC of the session id; a POST without the
right one is refused (403, German page) before anything runs. A visitor gets a session id
on the first page, so the sign-in form is protected too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import cookie_parser
from starlette.types import Scope

from runtime.settings import Settings

COOKIE = "kim_session"
MAX_AGE = 12 * 3600
"""Seconds a session cookie is accepted at most (the token inside expires on its own)."""


def _key(settings: Settings) -> bytes:
    return hmac.new(settings.jwt_secret.encode(), b"kim-web-session", hashlib.sha256).digest()


@dataclass
class Session:
    """What the cookie holds; ``changed`` sessions are written back with the response."""

    sid: str
    token: str | None = None
    pending: dict[str, str] = field(default_factory=dict)  # an OIDC sign-in under way
    changed: bool = False

    def sign_in(self, token: str) -> None:
        """A new session id on sign-in (no fixation of an id seen before)."""
        self.sid, self.token, self.pending, self.changed = _new_sid(), token, {}, True

    def sign_out(self) -> None:
        self.sid, self.token, self.pending, self.changed = _new_sid(), None, {}, True


def _new_sid() -> str:
    return secrets.token_urlsafe(24)


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_key(settings), salt="kim-web-session")


def load_session(request: Request, settings: Settings) -> Session:
    """The request's session (cached on the request), a fresh one without a valid cookie."""
    cached = getattr(request.state, "web_session", None)
    if isinstance(cached, Session):
        return cached
    raw = request.cookies.get(COOKIE)
    session = None
    if raw:
        try:
            data: dict[str, Any] = _serializer(settings).loads(raw, max_age=MAX_AGE)
            session = Session(
                sid=str(data["sid"]),
                token=data.get("token"),
                pending={str(k): str(v) for k, v in (data.get("pending") or {}).items()},
            )
        except (BadSignature, KeyError, TypeError, ValueError):
            session = None
    if session is None:
        session = Session(sid=_new_sid(), changed=True)
    request.state.web_session = session
    return session


def token_of_scope(scope: Scope, settings: Settings) -> str | None:
    """The token a request's valid session cookie holds, read from the raw ASGI scope (the
    edge's rate limit counts signed-in staff per principal, not per address)."""
    header = next((v for k, v in scope.get("headers", ()) if k == b"cookie"), None)
    if header is None:
        return None
    raw = cookie_parser(header.decode("latin-1")).get(COOKIE)
    if not raw:
        return None
    try:
        data: dict[str, Any] = _serializer(settings).loads(raw, max_age=MAX_AGE)
    except (BadSignature, ValueError):
        return None
    token = data.get("token") if isinstance(data, dict) else None
    return token if isinstance(token, str) and token else None


def save_session(request: Request, response: Response, settings: Settings) -> None:
    """Write the session back if it changed (HttpOnly, SameSite=Lax, Secure over HTTPS)."""
    session = getattr(request.state, "web_session", None)
    if not isinstance(session, Session) or not session.changed:
        return
    value = _serializer(settings).dumps(
        {"sid": session.sid, "token": session.token, "pending": session.pending}
    )
    response.set_cookie(
        COOKIE,
        value,
        max_age=MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def csrf_token(session: Session, settings: Settings) -> str:
    """The token every form of this session carries (bound to the session id)."""
    return hmac.new(_key(settings), f"csrf:{session.sid}".encode(), hashlib.sha256).hexdigest()


def csrf_valid(session: Session, settings: Settings, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(session, settings), str(given))
