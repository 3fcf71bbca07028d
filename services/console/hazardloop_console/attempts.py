"""The console's sign-ins under way at the identity provider (``hazardloop.web.oidc_signin``),
kept in its own store among the tables a rebuild keeps."""

from __future__ import annotations

from hazardloop.web.oidc_signin import ATTEMPT_TTL as TTL
from hazardloop.web.oidc_signin import SignInAttempts, attempts_table
from hazardloop_console.store import kept

attempts = attempts_table("console_signin_attempts", kept)

__all__ = ["TTL", "SignInAttempts", "attempts"]
