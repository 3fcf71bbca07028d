"""Bearer-token authentication and role/tenant authorisation for every HTTP API.

A token names a subject, the subsidiaries (tenants) it may act in (``*`` for group
headquarters) and its roles. Signature, expiry, issuer and audience are all checked.
Two kinds are accepted: the HS256 dev tokens this module issues (tests, the demo) and,
where one is configured, the group identity provider's (``hazardloop.web.oidc``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Protocol

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, StringConstraints

ISSUER = "hazardloop"
AUDIENCE = "hazardloop-api"
ALL_TENANTS = "*"


class Role(StrEnum):
    REPORTER = "reporter"
    VERIFIER = "verifier"
    RECTIFIER = "rectifier"
    MANAGER = "manager"
    LEADER = "leader"
    """Subsidiary leadership: hears escalations, decides extensions of major hazards."""
    FINANCE = "finance"
    AUDITOR = "auditor"
    OPERATOR = "operator"
    CONFIDENTIALITY_OFFICER = "confidentiality_officer"
    """May decrypt a reporter's identity (each time recorded as an event)."""


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    name: Annotated[str, StringConstraints(max_length=256)] | None = None
    """How to address the person, where the identity provider says."""
    tenants: frozenset[str]
    roles: frozenset[Role]
    subsidiaries: frozenset[str]
    """The group's subsidiaries as configured: no token reaches beyond them, group HQ's included."""

    def may_access(self, tenant: str) -> bool:
        return tenant in self.subsidiaries and (ALL_TENANTS in self.tenants or tenant in self.tenants)

    def has_any(self, roles: frozenset[Role]) -> bool:
        return bool(self.roles & roles)

    def tenants_within(self, known: list[str]) -> list[str]:
        """The known tenants this principal acts in (all of them for group HQ)."""
        return list(known) if ALL_TENANTS in self.tenants else [t for t in known if t in self.tenants]


class KeysUnavailable(Exception):
    """The keys a token needs cannot be had right now: ask again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"keys unavailable; retry after {retry_after} s")
        self.retry_after = retry_after


class TokenVerifier(Protocol):
    """Another issuer's tokens (the identity provider's): signed with one of ``algorithms``."""

    algorithms: frozenset[str]

    async def verify(self, token: str) -> Principal:
        """The principal, or ``jwt.PyJWTError``/``ValueError`` for a bad token, ``KeysUnavailable``."""
        ...


class Authenticator:
    """Issues tokens with the newest key; accepts those of every listed key (rotation),
    and those of the identity provider when one is given."""

    def __init__(
        self,
        secret: bytes | Sequence[bytes],
        known_tenants: list[str],
        *,
        leeway: float = 5.0,
        provider: TokenVerifier | None = None,
    ) -> None:
        self._keys = [secret] if isinstance(secret, bytes) else list(secret)
        self._known = frozenset(known_tenants)
        self._leeway = leeway
        self._provider = provider

    async def authenticate(self, token: str) -> Principal:
        """The token's header picks who checks it: HS256 the shared secret, the provider's
        algorithms its published keys. Anything else (``none`` above all) is refused, and
        no key is ever tried under another key's algorithm."""
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError as exc:
            raise _unauthorised(f"invalid bearer token: {exc}") from exc
        if algorithm == "HS256":
            return self.verify(token)
        if self._provider is None or algorithm not in self._provider.algorithms:
            raise _unauthorised(f"invalid bearer token: algorithm {algorithm!r} is not accepted")
        try:
            principal = await self._provider.verify(token)
        except KeysUnavailable as exc:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                detail="the identity provider cannot be reached to check this token",
                headers={"Retry-After": str(exc.retry_after)},
            ) from exc
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise _unauthorised(f"invalid bearer token: {exc}") from exc
        if not principal.tenants:
            raise _unauthorised("invalid bearer token: no subsidiaries")
        return principal

    def issue(self, subject: str, tenants: list[str], roles: list[Role], *, ttl: timedelta = timedelta(hours=8)) -> str:
        unknown = [t for t in tenants if t != ALL_TENANTS and t not in self._known]
        if unknown:
            raise ValueError(f"unknown tenant(s): {', '.join(unknown)}")
        now = datetime.now(UTC)
        claims = {
            "sub": subject,
            "tenants": tenants,
            "roles": [Role(r).value for r in roles],
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + ttl,
        }
        return jwt.encode(claims, self._keys[0], algorithm="HS256")

    def verify(self, token: str) -> Principal:
        try:
            claims = self._decode(token)
            principal = Principal(
                subject=claims["sub"],
                tenants=frozenset(claims.get("tenants", [])),
                roles=frozenset(claims.get("roles", [])),
                subsidiaries=self._known,
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise _unauthorised(f"invalid bearer token: {exc}") from exc
        if not principal.subject or not principal.tenants:
            raise _unauthorised("invalid bearer token: no subject or tenants")
        return principal

    def _decode(self, token: str) -> dict:
        """The claims, checked with each key in turn: a token signed before a rotation still holds."""
        for key in self._keys[:-1]:
            try:
                return self._decode_with(token, key)
            except jwt.InvalidSignatureError:
                continue
        return self._decode_with(token, self._keys[-1])

    def _decode_with(self, token: str, key: bytes) -> dict:
        return jwt.decode(
            token,
            key,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=self._leeway,
            options={"require": ["sub", "exp", "iat", "iss", "aud"]},
        )


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


_bearer = HTTPBearer(auto_error=False)


async def authenticated(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorised("missing bearer token")
    return await request.app.state.authenticator.authenticate(credentials.credentials)


async def optionally_authenticated(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal | None:
    """The caller, if they sent a token (routes that also accept another proof, such as a receipt code)."""
    if credentials is None:
        return None
    return await authenticated(request, credentials)


def require(*roles: Role) -> Callable[..., Principal]:
    """A dependency admitting only principals holding one of ``roles``."""
    wanted = frozenset(roles)

    async def check(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        if not principal.has_any(wanted):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail=f"requires one of the roles: {', '.join(sorted(wanted))}"
            )
        return principal

    return check


def check_tenant(principal: Principal, tenant: str) -> None:
    """Every route naming a subsidiary passes here: an unknown one is a 422, another's a 403.

    Checked before anything is read or appended, so no request can write under a made-up
    subsidiary (the log can never be purged of it).
    """
    if tenant not in principal.subsidiaries:
        raise unknown_tenant(tenant)
    if not principal.may_access(tenant):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"no access to tenant {tenant!r}")


def unknown_tenant(tenant: str) -> HTTPException:
    """The 422 for a subsidiary the group does not have (``HAZARDLOOP_TENANTS``), naming the field."""
    message = f"unknown subsidiary {tenant!r}"
    return HTTPException(422, detail=[{"loc": ["tenant"], "msg": message, "type": "value_error"}])
