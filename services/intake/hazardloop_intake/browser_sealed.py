"""What intake keeps on the server for one browser, sealed under that browser's own secret.

A form kept while its reporter signs in, a signed-in reporter's session (name and tokens)
and an anonymous reporter's receipt code are personal data or credentials, and they must
not travel in URLs or pages. The browser's cookie holds a random secret and nothing else;
the store keeps a hash of it to find the row and the value encrypted (AES-256-GCM) under
a key derived from it, so a copy of intake's store alone opens nothing. Each use names
its purpose, so a secret of one kind opens nothing of another. ``BrowserStore`` keeps such
values in a table of intake's store, each until it expires or its browser stays away.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Column,
    ColumnElement,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)

from hazardloop.projections.db import UtcDateTime

NONCE_BYTES = 12
LONGEST_SECRET = 100
"""A cookie longer than any secret we hand out is not looked up at all."""


def new_secret() -> str:
    """256 random bits for the cookie, and for the cookie only."""
    return secrets.token_urlsafe(32)


def _derive(secret: str, purpose: str, use: str) -> bytes:
    return hmac.new(secret.encode(), f"hazardloop browser\x1f{purpose}\x1f{use}".encode(), hashlib.sha256).digest()


def row_key(secret: str, purpose: str) -> str:
    """The store's key for the browser's row: it does not open the value."""
    return _derive(secret, purpose, "row").hex()


def seal(secret: str, purpose: str, value: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(_derive(secret, purpose, "key")).encrypt(nonce, value, purpose.encode())


def unseal(secret: str, purpose: str, sealed: bytes) -> bytes | None:
    """The value, or None if this secret did not seal it."""
    try:
        return AESGCM(_derive(secret, purpose, "key")).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], purpose.encode())
    except InvalidTag:
        return None


def plausible(secret: str | None) -> bool:
    """Whether a cookie's value is worth looking up."""
    return bool(secret) and len(secret) <= LONGEST_SECRET


def browser_table(name: str, metadata: MetaData, *, holds: str) -> Table:
    """A table of values kept for browsers: ``holds`` says what its sealed values are."""
    return Table(
        name,
        metadata,
        Column("id_hash", String(64), primary_key=True),
        Column("sealed", LargeBinary, nullable=False, comment=holds),
        Column("csrf", String(64), nullable=False),
        Column("expires_at", UtcDateTime(), nullable=False),
        Column("last_seen", UtcDateTime(), nullable=False),
    )


@dataclass(frozen=True, slots=True)
class Kept:
    value: bytes
    csrf: str
    """The form token of what is kept (a session's posts carry it)."""


class BrowserStore:
    """Values kept for browsers in one ``browser_table``, each opened only by its cookie's secret.

    A value ends at ``expires_at``, or (with ``idle``) when its browser has not been back
    for that long; ``last_seen`` is written at most every ``touch_every``.
    """

    def __init__(
        self, engine: Engine, table: Table, purpose: str, *, idle: timedelta | None = None,
        touch_every: timedelta = timedelta(seconds=60),
    ) -> None:
        self._engine, self._table, self._purpose = engine, table, purpose
        self._idle, self._touch_every = idle, touch_every

    def keep(self, value: bytes, *, expires_at: datetime) -> str:
        """Store ``value``; the secret returned goes into the browser's cookie, and only there."""
        secret = new_secret()
        now = datetime.now(UTC)
        with self._engine.begin() as db:
            db.execute(delete(self._table).where(self._over(now)))
            db.execute(insert(self._table).values(
                id_hash=row_key(secret, self._purpose), sealed=seal(secret, self._purpose, value), csrf=secrets.token_urlsafe(24),
                expires_at=expires_at, last_seen=now,
            ))
        return secret

    def find(self, secret: str | None) -> Kept | None:
        """The value of the cookie's secret while it is kept; an ended one is dropped instead."""
        if not plausible(secret):
            return None
        key = row_key(secret, self._purpose)
        now = datetime.now(UTC)
        with self._engine.connect() as db:
            row = db.execute(select(self._table).where(self._table.c.id_hash == key)).first()
        if row is None:
            return None
        if row.expires_at <= now or (self._idle is not None and row.last_seen + self._idle <= now):
            self.drop(secret)
            return None
        value = unseal(secret, self._purpose, row.sealed)
        if value is None:
            return None
        if self._idle is not None and now - row.last_seen >= self._touch_every:
            with self._engine.begin() as db:
                db.execute(update(self._table).where(self._table.c.id_hash == key).values(last_seen=now))
        return Kept(value, row.csrf)

    def drop(self, secret: str | None) -> None:
        if plausible(secret):
            with self._engine.begin() as db:
                db.execute(delete(self._table).where(self._table.c.id_hash == row_key(secret, self._purpose)))

    def _over(self, now: datetime) -> ColumnElement[bool]:
        ended = self._table.c.expires_at < now
        return ended if self._idle is None else ended | (self._table.c.last_seen < now - self._idle)
