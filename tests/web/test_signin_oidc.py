"""Sign-in with an OIDC issuer: authorisation code with PKCE (S256) against a small fake
issuer (discovery, authorisation, token endpoint that checks the code verifier, JWKS); the
access token is verified by the API's verifier, so the page's principal is the API's."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from tests.web.pages_support import embedded_settings, pages_client

CLIENT_ID = "kim-web"


@dataclass
class FakeIssuer:
    """Remembers each authorisation's challenge and answers the token request only to the
    verifier that hashes (S256) to it."""

    base: str = ""
    key: Any = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    grants: dict[str, dict[str, str]] = field(default_factory=dict)
    exchanges: list[dict[str, str]] = field(default_factory=list)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})

    def authorize(self, query: dict[str, str]) -> str:
        assert query["response_type"] == "code"
        assert query["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.grants[code] = query
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.exchanges.append(form)
        grant = self.grants.pop(form.get("code", ""), None)
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return 400, {"error": "invalid_grant"}
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["code_challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification"}
        now = int(time.time())
        access = {"sub": "anna", "tenant": "rheine", "roles": ["case_manager"], "iss": self.base,
                  "aud": "kim", "iat": now, "exp": now + 600,
                  "position": grant.get("position", "")}  # fmt: skip
        access = {k: v for k, v in access.items() if v != ""}
        identity = {"sub": "anna", "iss": self.base, "aud": CLIENT_ID, "iat": now,
                    "exp": now + 600, "nonce": grant["nonce"]}  # fmt: skip
        return 200, {"access_token": self.sign(access), "id_token": self.sign(identity),
                     "token_type": "Bearer"}  # fmt: skip


def _handler(issuer: FakeIssuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path == "/.well-known/openid-configuration":
                self._json(200, {"issuer": issuer.base, "jwks_uri": issuer.base + "/jwks",
                                 "authorization_endpoint": issuer.base + "/auth",
                                 "token_endpoint": issuer.base + "/token"})  # fmt: skip
            elif url.path == "/jwks":
                self._json(200, issuer.jwks())
            elif url.path == "/auth":
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                self.send_response(302)
                self.send_header("Location", issuer.authorize(query))
                self.end_headers()
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            self._json(*issuer.token(form))

    return Handler


@pytest.fixture(scope="module")
def served_issuer() -> Iterator[FakeIssuer]:
    fake = FakeIssuer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()


@pytest.fixture
def issuer(served_issuer: FakeIssuer) -> FakeIssuer:
    served_issuer.grants.clear()
    served_issuer.exchanges.clear()
    return served_issuer


@pytest.fixture(scope="module")
def served(
    served_issuer: FakeIssuer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    issuer = served_issuer
    patch = pytest.MonkeyPatch()
    patch.setenv("KIM_OIDC_ISSUER", issuer.base)
    patch.setenv("KIM_OIDC_CLIENT_ID", CLIENT_ID)
    settings = embedded_settings(
        tmp_path_factory.mktemp("oidc"),
        jwt_secret="a-production-jwt-secret-0123456789abcdef",
        audit_pseudonym_secret="a-production-pseudonym-secret-0123456789",
        idempotency_secret="a-production-idempotency-secret-012345678",
        jwks_url=issuer.base + "/jwks",
        jwt_issuer=issuer.base,
        jwt_algorithms=["RS256"],
    )
    try:
        with pages_client(settings) as (c, _):
            yield c
    finally:
        patch.undo()


@pytest.fixture
def client(served: TestClient, issuer: FakeIssuer) -> TestClient:
    served.cookies.clear()
    return served


def _to_issuer(client: TestClient) -> httpx.Response:
    """The app's redirect to the issuer's authorisation endpoint."""
    response: httpx.Response = client.get("/anmelden?weiter=/faelle", follow_redirects=False)
    assert response.status_code == 303
    return response


def test_signing_in_with_the_issuer_uses_pkce_and_gives_the_apis_principal(
    client: TestClient, issuer: FakeIssuer
) -> None:
    to_issuer = _to_issuer(client)
    query = parse_qs(urlparse(to_issuer.headers["location"]).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == ["http://testserver/anmelden/rueckruf"]
    back = httpx.get(to_issuer.headers["location"], follow_redirects=False)
    callback = urlparse(back.headers["location"])
    signed = client.get(f"{callback.path}?{callback.query}", follow_redirects=False)
    assert signed.status_code == 303, signed.text
    assert signed.headers["location"] == "/faelle"
    (exchange,) = issuer.exchanges
    assert exchange["grant_type"] == "authorization_code"
    assert exchange["code_verifier"] not in to_issuer.headers["location"]
    start = client.get("/").text
    assert "Case Management" in start
    assert "Abmelden" in start


def test_a_callback_of_a_sign_in_begun_elsewhere_is_refused(
    client: TestClient, issuer: FakeIssuer
) -> None:
    to_issuer = _to_issuer(client)
    back = httpx.get(to_issuer.headers["location"], follow_redirects=False)
    code = parse_qs(urlparse(back.headers["location"]).query)["code"][0]
    response = client.get(f"/anmelden/rueckruf?code={code}&state=forged")
    assert response.status_code == 400
    assert "state" in response.text
    assert issuer.exchanges == []
    assert client.get("/faelle", follow_redirects=False).status_code == 303


def test_a_code_exchanged_without_the_right_verifier_signs_nobody_in(
    client: TestClient, issuer: FakeIssuer
) -> None:
    to_issuer = _to_issuer(client)
    back = httpx.get(to_issuer.headers["location"], follow_redirects=False)
    for grant in issuer.grants.values():  # the issuer remembers another challenge
        grant["code_challenge"] = "not-the-challenge-of-this-verifier"
    callback = urlparse(back.headers["location"])
    response = client.get(f"{callback.path}?{callback.query}")
    assert response.status_code == 502
    assert "nicht bestätigt" in response.text
    assert client.get("/faelle", follow_redirects=False).status_code == 303
