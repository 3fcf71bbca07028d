"""The key ring: every key a service holds, and where it comes from.

Each key is a setting (``HAZARDLOOP_JWT_SECRET``, ...), read from the environment or
from a file of that name in ``HAZARDLOOP_SECRETS_DIR`` (how Kubernetes and Docker mount
secrets). A rotatable key lists its versions comma-separated, newest first: the newest
seals or signs what is new, every listed version still opens or checks what it made.
In production a service refuses to start without its keys; in development a missing key
is generated once into the state folder, so ``make run`` needs no configuration.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

VARIABLES = {
    "jwt": "HAZARDLOOP_JWT_SECRET",
    "pseudonym": "HAZARDLOOP_PSEUDONYM_KEY",
    "receipt": "HAZARDLOOP_RECEIPT_KEY",
    "form": "HAZARDLOOP_FORM_KEY",
    "webhook": "HAZARDLOOP_WEBHOOK_KEY",
}
"""Each named key and the setting it is read from."""
MASTER_KEYS = "HAZARDLOOP_MASTER_KEYS"
ROTATABLE = frozenset({"jwt", "receipt", "form"})
"""The others name things for good: a second pseudonym key would lose every reporter's entry
in the pseudonym directory (its lookup keys), a second webhook key would change every
endpoint's signing secret (see docs/operations/configuration.md, Key ring)."""


class KeyUnavailable(Exception):
    """A request needs a key this service does not hold: answered 503, with nothing stored."""


class KeyringError(KeyUnavailable):
    """Keys missing or malformed in the configuration: the service does not start."""


class KeyRing:
    """Resolves keys once; in development, generates missing ones into ``state_dir/secrets``."""

    def __init__(
        self, configured: Mapping[str, SecretStr | None], master: Mapping[str, SecretStr], *, state_dir: Path, production: bool
    ) -> None:
        self._configured = configured
        self._master = master
        self._folder = state_dir / "secrets"
        self._production = production
        self._cache: dict[str, list[bytes]] = {}

    def key(self, name: str) -> bytes:
        """The newest version: what new data is sealed or signed with."""
        return self.versions(name)[0]

    def versions(self, name: str) -> list[bytes]:
        """Every version, newest first."""
        if name not in self._cache:
            self._cache[name] = self._resolve(name)
        return self._cache[name]

    def held(self, name: str) -> bool:
        """Whether the key is configured or was generated already: what a tool that only
        uses keys (never creates them) checks, so it cannot sign with a key of its own."""
        return self._set(name) is not None or (self._folder / f"{name}.key").exists()

    def _set(self, name: str) -> str | None:
        """The key's configured value, None if unset or blank."""
        configured = self._configured.get(name)
        value = configured.get_secret_value() if configured is not None else ""
        return value if value.strip() else None

    def holds_master(self, tenant: str) -> bool:
        """Whether ``tenant``'s master key is configured or was generated already (as ``held``)."""
        return tenant in self._master or (self._folder / f"master-{tenant}.key").exists()

    def master_keys(self, tenant: str) -> list[bytes]:
        """The 32-byte keys that wrap ``tenant``'s reporters' data keys, newest first."""
        cached = f"master:{tenant}"
        if cached not in self._cache:
            self._cache[cached] = self._resolve_master(tenant)
        return self._cache[cached]

    def require(self, names: Iterable[str], *, tenants: Iterable[str]) -> None:
        """Resolve what a service needs (``master``: every tenant's master keys), naming
        every missing or malformed setting at once."""
        names = list(names)
        wanted = [(self.versions, name) for name in dict.fromkeys(names) if name != "master"]
        if "master" in names:
            wanted += [(self.master_keys, tenant) for tenant in tenants]
        problems = []
        for resolve, argument in wanted:
            try:
                resolve(argument)
            except KeyringError as exc:
                problems.append(str(exc))
        if problems:
            raise KeyringError("; ".join(problems))

    def _resolve(self, name: str) -> list[bytes]:
        variable = VARIABLES[name]
        configured = self._set(name)
        if configured is None:
            if self._production:
                raise KeyringError(f"{variable} is not set (production: keys are never generated)")
            return [load_or_create_secret(self._folder / f"{name}.key")]
        versions = [v.strip().encode() for v in configured.split(",") if v.strip()]
        if len(versions) > 1 and name not in ROTATABLE:
            raise KeyringError(f"{variable} takes one version only: it cannot be rotated")
        return versions

    def _resolve_master(self, tenant: str) -> list[bytes]:
        configured = self._master.get(tenant)
        if configured is None:
            if self._production:
                raise KeyringError(f"{MASTER_KEYS} has no key for {tenant!r} (production: keys are never generated)")
            seed = load_or_create_secret(self._folder / f"master-{tenant}.key")
            return [HKDF(algorithm=SHA256(), length=32, salt=None, info=f"hazardloop master key {tenant}".encode()).derive(seed)]
        versions = []
        for text in configured.get_secret_value().split(","):
            try:
                key = base64.b64decode(text.strip(), validate=True)
            except (binascii.Error, ValueError):
                key = b""
            if len(key) != 32:
                raise KeyringError(f"{MASTER_KEYS}: every key of {tenant!r} must be 32 bytes, base64-encoded")
            versions.append(key)
        return versions


def load_or_create_secret(path: Path) -> bytes:
    """Create a random key atomically on first use; every process then reads the same one."""
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    candidate = path.with_name(f".{path.name}.{os.getpid()}")
    candidate.write_text(secrets.token_urlsafe(48))
    candidate.chmod(0o600)
    try:
        os.link(candidate, path)  # fails if another process won the race: use theirs
    except FileExistsError:
        pass
    finally:
        candidate.unlink()
    return path.read_bytes().strip()
