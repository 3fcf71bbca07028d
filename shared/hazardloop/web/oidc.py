"""The group identity provider's access tokens, checked against the keys it publishes.

Its keys are fetched when a token names one not held yet (the first token, a rotation),
at most once per cooldown, so a flood of tokens naming made-up keys cannot hammer the
provider. While a needed key cannot be fetched the answer is a 503, not a 401: the
token may well be good. The fetch is asynchronous and short, so it never holds up the
service's other requests for long.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

import httpx
import jwt

from hazardloop.runtime.settings import CommonSettings
from hazardloop.web.auth import ALL_TENANTS, KeysUnavailable, Principal, Role

log = logging.getLogger("hazardloop.web.oidc")

ALGORITHMS = frozenset({"RS256", "ES256"})
"""What the provider may sign with. Never ``none`` nor an HMAC: its keys are public."""

_ROLES = frozenset(role.value for role in Role)


class UnknownKey(jwt.InvalidTokenError):
    """The token names a key the provider does not publish."""


def claim_values(claims: Mapping[str, Any], name: str) -> list[str]:
    """A claim as a list: providers send a JSON list or one space- or comma-separated string.

    A name with dots that is no claim of its own reaches into nested objects
    (``realm_access.roles``), as some providers nest roles.
    """
    value: Any = claims.get(name)
    if value is None and "." in name:
        value = claims
        for part in name.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
    if value is None:
        return []
    if isinstance(value, str):
        return [item for item in re.split(r"[\s,]+", value) if item]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value if item.strip()]
    raise ValueError(f"claim {name!r} is neither a string nor a list of strings")


def principal_from_claims(
    claims: Mapping[str, Any], *, tenants_claim: str, roles_claim: str, subsidiaries: Collection[str]
) -> Principal:
    """The person a provider's token names. Roles this system does not have are left out
    (the provider serves other systems too); a subsidiary the group does not have is refused."""
    tenants = claim_values(claims, tenants_claim)
    unknown = [tenant for tenant in tenants if tenant != ALL_TENANTS and tenant not in subsidiaries]
    if unknown:
        raise ValueError(f"claim {tenants_claim!r} names unknown subsidiaries: {', '.join(unknown)}")
    name = claims.get("name") or claims.get("preferred_username")
    return Principal(
        subject=claims["sub"],
        name=name if isinstance(name, str) else None,
        tenants=frozenset(tenants),
        roles=frozenset(Role(role) for role in claim_values(claims, roles_claim) if role in _ROLES),
        subsidiaries=frozenset(subsidiaries),
    )


def signing_keys(document: Mapping[str, Any]) -> dict[str, jwt.PyJWK]:
    """The usable signing keys of a JWKS by their ``kid`` (encryption keys and others left out)."""
    keys: dict[str, jwt.PyJWK] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig" or not isinstance(entry.get("kid"), str):
            continue
        try:
            key = jwt.PyJWK(entry)
        except jwt.PyJWTError:
            continue
        if key.algorithm_name in ALGORITHMS:
            keys[entry["kid"]] = key
    return keys


class ProviderKeys:
    """The provider's published signing keys, fetched on demand and held."""

    def __init__(
        self,
        issuer: str,
        *,
        jwks_url: str | None = None,
        timeout: float = 3.0,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._issuer, self._jwks_url = issuer, jwks_url
        self._timeout, self._cooldown, self._clock = timeout, cooldown, clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._failed = False
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> jwt.PyJWK:
        if kid not in self._keys:
            async with self._lock:  # one fetch for every request waiting on the same new key
                if kid not in self._keys:
                    await self._refresh()
        try:
            return self._keys[kid]
        except KeyError:
            raise UnknownKey(f"signed with key {kid!r}, which the provider does not publish") from None

    async def _refresh(self) -> None:
        now = self._clock()
        if self._fetched_at is not None and now - self._fetched_at < self._cooldown:
            if self._failed:
                raise KeysUnavailable(math.ceil(self._cooldown - (now - self._fetched_at)))
            return
        self._fetched_at = now
        try:
            self._keys = await self._fetch()
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            self._failed = True
            log.warning("the identity provider's keys could not be fetched: %s", exc)
            raise KeysUnavailable(max(1, math.ceil(self._cooldown))) from exc
        self._failed = False

    async def _fetch(self) -> dict[str, jwt.PyJWK]:
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            url = self._jwks_url or await self._discover(client)
            response = await client.get(url)
            response.raise_for_status()
            return signing_keys(response.json())

    async def _discover(self, client: httpx.AsyncClient) -> str:
        response = await client.get(f"{self._issuer.rstrip('/')}/.well-known/openid-configuration")
        response.raise_for_status()
        document = response.json()
        if document["issuer"] != self._issuer:
            raise ValueError(f"the discovery document names issuer {document['issuer']!r}, not {self._issuer!r}")
        if not str(document["jwks_uri"]).startswith(("https://", "http://")):
            raise ValueError("the discovery document has no usable jwks_uri")
        self._jwks_url = document["jwks_uri"]
        return self._jwks_url


class ProviderTokens:
    """Verifies the provider's access tokens into principals (see ``Authenticator``)."""

    algorithms = ALGORITHMS

    def __init__(
        self,
        keys: ProviderKeys,
        *,
        issuer: str,
        audience: str,
        subsidiaries: Collection[str],
        tenants_claim: str = "tenants",
        roles_claim: str = "roles",
        leeway: float = 5.0,
    ) -> None:
        self._keys, self._issuer, self._audience = keys, issuer, audience
        self._subsidiaries = frozenset(subsidiaries)
        self._tenants_claim, self._roles_claim = tenants_claim, roles_claim
        self._leeway = leeway

    @classmethod
    def from_settings(cls, settings: CommonSettings) -> ProviderTokens:
        if settings.oidc_issuer is None:
            raise ValueError("HAZARDLOOP_OIDC_ISSUER is not set")
        keys = ProviderKeys(
            settings.oidc_issuer,
            jwks_url=settings.oidc_jwks_url,
            timeout=settings.oidc_timeout,
            cooldown=settings.oidc_jwks_cooldown_seconds,
        )
        return cls(
            keys,
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience,
            subsidiaries=settings.tenants,
            tenants_claim=settings.oidc_tenants_claim,
            roles_claim=settings.oidc_roles_claim,
        )

    async def verify(self, token: str) -> Principal:
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str) or not kid:
            raise UnknownKey("the token names no key")
        key = await self._keys.key(kid)
        claims = jwt.decode(
            token,
            key,
            algorithms=[key.algorithm_name],  # the key's own: a header cannot pick another
            audience=self._audience,
            issuer=self._issuer,
            leeway=self._leeway,
            options={"require": ["sub", "exp", "iss", "aud"]},
        )
        return principal_from_claims(
            claims, tenants_claim=self._tenants_claim, roles_claim=self._roles_claim, subsidiaries=self._subsidiaries
        )
