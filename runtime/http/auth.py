"""Bearer JWT authentication and tenant/role authorisation.

Development: HS256 with ``KIM_JWT_SECRET`` (``kim token`` mints one). Production: an OIDC
provider's JWKS (``KIM_JWKS_URL``). Claims: ``sub``, ``tenant``, ``roles`` and ``position``:
the id of the position (Stelle) they work on, a case manager's case-management position or a
coordinator's coordination position (supervision lines run from it), which decides whose
personal data they may see; for auditors, ``mandate``: the tenants their audit mandate names
(without it: their own tenant and those below it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from uuid import UUID

import jwt
from fastapi import Request

from contexts.tenancy.contracts import TenantDirectory, TenantKind
from runtime.http.problems import Problem
from runtime.settings import Settings


class Role(StrEnum):
    DISTRICT_COORDINATOR = "district_coordinator"
    COORDINATOR = "coordinator"
    CASE_MANAGER = "case_manager"
    IMMIGRATION_OFFICER = "immigration_officer"
    STEERING_MEMBER = "steering_member"
    AUDITOR = "auditor"
    PLATFORM_ADMIN = "platform_admin"


class Access(StrEnum):
    OWN = "own"  # only the token's own tenant
    AGGREGATE = "aggregate"  # own tenant, or a tenant below it in the hierarchy (no personal data)


@dataclass(frozen=True)
class Principal:
    subject: str
    tenant: str
    roles: frozenset[Role]
    position: UUID | None = None
    mandate: frozenset[str] | None = None  # tenants an auditor's mandate names

    @property
    def actor(self) -> str:
        return f"{self.tenant}/{self.subject}"


def mint_token(
    settings: Settings,
    *,
    tenant: str,
    roles: list[str],
    subject: str | None = None,
    position: UUID | None = None,
    mandate: list[str] | None = None,
    ttl_seconds: int = 8 * 3600,
) -> str:
    """A development token signed with the configured HS256 secret."""
    for role in roles:
        Role(role)
    now = int(time.time())
    claims = {
        "sub": subject or f"dev-{roles[0] if roles else 'user'}",
        "tenant": tenant,
        "roles": roles,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if position is not None:
        claims["position"] = str(position)
    if mandate:
        claims["mandate"] = sorted(mandate)
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "unauthenticated", detail, headers={"WWW-Authenticate": "Bearer"})


class TokenVerifier:
    """Checks a token's signature, claims and lifetime (``verify``); with ``directory`` (the
    registry, ``refresh`` to reread it) a request's token must also name a registered tenant,
    and ``platform_admin`` counts only in a token of the state programme's tenant (the root
    of the hierarchy). While nothing is registered yet, a token of any tenant is taken, so a
    platform_admin can register the state programme (bootstrapping)."""

    def __init__(
        self,
        settings: Settings,
        directory: Callable[[bool], TenantDirectory] | None = None,
    ) -> None:
        self.settings = settings
        self.directory = directory

    @cached_property
    def _jwks(self) -> jwt.PyJWKClient | None:
        return jwt.PyJWKClient(self.settings.jwks_url) if self.settings.jwks_url else None

    def verify(self, token: str) -> Principal:
        try:
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
                algorithms = [a for a in self.settings.jwt_algorithms if not a.startswith("HS")]
            else:
                key = self.settings.jwt_secret
                algorithms = ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms or ["RS256"],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                options={"require": ["exp", "sub", "tenant"]},
            )
        except jwt.ExpiredSignatureError:
            raise _unauthorized("the token has expired") from None
        except jwt.PyJWTError as e:
            raise _unauthorized(f"invalid token: {e}") from None
        self._check_lifetime(claims)
        roles: set[Role] = set()
        for role in claims.get("roles") or []:
            try:
                roles.add(Role(role))
            except ValueError:
                continue  # roles of other applications in a shared identity provider
        position = None
        if claims.get("position") is not None:
            try:
                position = UUID(str(claims["position"]))
            except ValueError:
                raise _unauthorized("invalid token: the position claim is not a UUID") from None
        mandate = claims.get("mandate")
        if mandate is not None and not (
            isinstance(mandate, list) and all(isinstance(t, str) for t in mandate)
        ):
            raise _unauthorized("invalid token: the mandate claim must list tenant keys")
        return Principal(
            str(claims["sub"]),
            str(claims["tenant"]),
            frozenset(roles),
            position,
            frozenset(mandate) if mandate is not None else None,
        )

    def _check_lifetime(self, claims: dict[str, object]) -> None:
        """At most ``KIM_TOKEN_MAX_LIFETIME`` seconds from issue (``iat``, never later than
        now) to expiry."""
        exp, iat, now = claims["exp"], claims.get("iat"), time.time()
        if not isinstance(exp, int | float):
            raise _unauthorized("invalid token: the exp claim is not a number")
        issued = min(iat, now) if isinstance(iat, int | float) else now
        if exp - issued > self.settings.token_max_lifetime:
            raise _unauthorized(
                "invalid token: it is valid for longer than the maximum of"
                f" {self.settings.token_max_lifetime} seconds"
            )

    def registered(self, principal: Principal) -> Principal:
        """The principal of a registered tenant (401 otherwise), ``platform_admin`` kept only
        for the state programme's tenant."""
        if self.directory is None:
            return principal
        directory = self.directory(False)
        info = directory.get(principal.tenant)
        if info is None:
            directory = self.directory(True)
            info = directory.get(principal.tenant)
        if info is None and directory.tenants:
            raise _unauthorized("invalid token: the tenant claim names no registered tenant")
        root = info is None or (info.kind == TenantKind.STATE_PROGRAMME and info.parent is None)
        if Role.PLATFORM_ADMIN in principal.roles and not root:
            roles = principal.roles - {Role.PLATFORM_ADMIN}
            return Principal(
                principal.subject, principal.tenant, roles, principal.position, principal.mandate
            )
        return principal

    def from_request(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if not header:
            raise _unauthorized("this endpoint needs a bearer token (Authorization: Bearer ...)")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("the Authorization header must be 'Bearer <token>'")
        return self.registered(self.verify(token.strip()))


def authorize(
    principal: Principal,
    tenant: str,
    directory: TenantDirectory,
    *,
    roles: set[Role],
    access: Access = Access.OWN,
) -> None:
    """Refuse with 403 unless the principal may act on ``tenant`` with one of ``roles``."""
    if not principal.roles & roles:
        needed = ", ".join(sorted(roles))
        raise Problem(
            403,
            "role-not-allowed",
            f"this action needs one of the roles: {needed}",
            roles=sorted(roles),
        )
    if principal.tenant == tenant:
        return
    if access == Access.AGGREGATE and directory.is_ancestor(principal.tenant, tenant):
        return
    raise Problem(
        403,
        "tenant-not-allowed",
        f"a token of tenant {principal.tenant} may not act on tenant {tenant}",
        tenant=tenant,
    )
