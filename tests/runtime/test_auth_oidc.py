"""Production authentication: tokens of an OIDC provider, verified against its JWKS."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from runtime.http.auth import Role, TokenVerifier
from runtime.http.problems import Problem
from runtime.settings import Settings

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks_url() -> Iterator[str]:
    jwk = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/jwks.json"
    server.shutdown()


def oidc_token(key: rsa.RSAPrivateKey, **claims: object) -> str:
    now = int(time.time())
    payload = {
        "sub": "anna",
        "tenant": "rheine",
        "roles": ["case_manager", "offline_access"],
        "iss": "https://login.example",
        "aud": "kim",
        "iat": now,
        "exp": now + 300,
        **claims,
    }
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "k1"})


def verifier(jwks_url: str) -> TokenVerifier:
    return TokenVerifier(
        Settings(jwks_url=jwks_url, jwt_algorithms=["RS256"], jwt_issuer="https://login.example")
    )


def test_a_token_signed_by_the_providers_key_is_accepted(jwks_url: str) -> None:
    principal = verifier(jwks_url).verify(oidc_token(KEY))
    assert principal.tenant == "rheine"
    assert principal.subject == "anna"
    assert principal.roles == frozenset({Role.CASE_MANAGER})  # unknown roles are ignored


def test_a_token_signed_by_another_key_is_refused(jwks_url: str) -> None:
    with pytest.raises(Problem) as refused:
        verifier(jwks_url).verify(oidc_token(OTHER_KEY))
    assert refused.value.status == 401


def test_a_development_token_is_refused_when_a_provider_is_configured(jwks_url: str) -> None:
    settings = Settings(jwks_url=jwks_url, jwt_algorithms=["RS256"])
    dev = jwt.encode(
        {"sub": "x", "tenant": "rheine", "exp": int(time.time()) + 60, "aud": "kim"},
        settings.jwt_secret,
        algorithm="HS256",
    )
    with pytest.raises(Problem) as refused:
        verifier(jwks_url).verify(dev)
    assert refused.value.status == 401


def test_a_token_without_tenant_is_refused(jwks_url: str) -> None:
    token = oidc_token(KEY)
    claims = jwt.decode(token, options={"verify_signature": False})
    del claims["tenant"]
    with pytest.raises(Problem) as refused:
        verifier(jwks_url).verify(jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "k1"}))
    assert refused.value.status == 401
