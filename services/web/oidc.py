"""Sign-in with the configured OIDC issuer: authorisation-code flow with PKCE (S256).

Discovery reads ``<issuer>/.well-known/openid-configuration``; the browser is sent to its
``authorization_endpoint`` with ``state``, ``nonce`` and the ``code_challenge`` (the
verifier stays in the signed session cookie); the callback exchanges the code with the
``code_verifier`` at the ``token_endpoint``. The access token is then verified by the API's
``TokenVerifier`` (``KIM_JWKS_URL``, issuer, audience, lifetime, registered tenant), so a
page's principal is the API's; the ID token's signature, audience (the client id) and
nonce are checked against the same JWKS.

Settings (environment): ``KIM_OIDC_ISSUER``, ``KIM_OIDC_CLIENT_ID``, optionally
``KIM_OIDC_CLIENT_SECRET`` (a confidential client), ``KIM_OIDC_REDIRECT_URL`` (default:
``<this server>/anmelden/rueckruf``) and ``KIM_OIDC_SCOPE`` (default ``openid``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.parse
import urllib.request
from functools import lru_cache
from typing import Any

import jwt
from pydantic_settings import BaseSettings, SettingsConfigDict

TIMEOUT = 5.0
"""Seconds a request to the issuer may take."""


class OidcSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KIM_OIDC_", env_file=".env", extra="ignore")

    issuer: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    redirect_url: str | None = None
    scope: str = "openid"

    @property
    def configured(self) -> bool:
        return bool(self.issuer and self.client_id)


class OidcError(Exception):
    """The issuer's answer was unusable; the message is German, for the sign-in page."""


def _get_json(url: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - the configured issuer
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
        found = json.loads(response.read())
    if not isinstance(found, dict):
        raise OidcError("Der Anmeldedienst antwortete unerwartet.")
    return found


def discover(issuer: str) -> dict[str, Any]:
    """The issuer's metadata (its ``issuer`` must be the configured one)."""
    try:
        meta = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    except OSError as e:
        raise OidcError(f"Der Anmeldedienst ist nicht erreichbar ({e}).") from None
    if str(meta.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
        raise OidcError("Der Anmeldedienst nennt einen anderen Aussteller als eingestellt.")
    for key in ("authorization_endpoint", "token_endpoint"):
        if not meta.get(key):
            raise OidcError(f"Dem Anmeldedienst fehlt {key}.")
    return meta


def pkce_pair() -> tuple[str, str]:
    """A ``code_verifier`` and its S256 ``code_challenge`` (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    return verifier, challenge_of(verifier)


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(
    meta: dict[str, Any],
    settings: OidcSettings,
    *,
    redirect_uri: str,
    state: str,
    nonce: str,
    challenge: str,
) -> str:
    query = {
        "response_type": "code",
        "client_id": settings.client_id or "",
        "redirect_uri": redirect_uri,
        "scope": settings.scope,
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    endpoint = str(meta["authorization_endpoint"])
    joiner = "&" if "?" in endpoint else "?"
    return endpoint + joiner + urllib.parse.urlencode(query)


def exchange(
    meta: dict[str, Any], settings: OidcSettings, *, code: str, verifier: str, redirect_uri: str
) -> dict[str, Any]:
    """The token endpoint's answer to the code and its verifier."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": settings.client_id or "",
        "code_verifier": verifier,
    }
    if settings.client_secret:
        form["client_secret"] = settings.client_secret
    request = urllib.request.Request(  # noqa: S310 - the issuer's own token endpoint
        str(meta["token_endpoint"]),
        data=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            found = json.loads(response.read())
    except OSError as e:
        raise OidcError(f"Der Anmeldedienst hat die Anmeldung nicht bestätigt ({e}).") from None
    if not isinstance(found, dict) or not found.get("access_token"):
        raise OidcError("Der Anmeldedienst hat kein Zugriffstoken ausgestellt.")
    return found


@lru_cache(maxsize=8)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url)


def check_id_token(
    id_token: str, *, jwks_url: str, issuer: str, client_id: str, nonce: str, algorithms: list[str]
) -> None:
    """The ID token is the issuer's, for this client, of this sign-in (its nonce)."""
    try:
        key = _jwks_client(jwks_url).get_signing_key_from_jwt(id_token).key
        claims = jwt.decode(
            id_token,
            key,
            algorithms=[a for a in algorithms if not a.startswith("HS")] or ["RS256"],
            audience=client_id,
            issuer=issuer,
        )
    except jwt.PyJWTError as e:
        raise OidcError(f"Das ID-Token ist ungültig ({e}).") from None
    if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
        raise OidcError("Das ID-Token gehört nicht zu dieser Anmeldung (nonce).")
