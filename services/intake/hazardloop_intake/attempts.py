"""Reporters' sign-ins under way at the identity provider (``hazardloop.web.oidc_signin``),
kept in intake's store among the tables a rebuild keeps."""

from __future__ import annotations

from hazardloop.web.oidc_signin import ATTEMPT_TTL as TTL
from hazardloop.web.oidc_signin import SignInAttempts, attempts_table
from hazardloop_intake.store import kept

attempts = attempts_table("intake_signin_attempts", kept)

__all__ = ["TTL", "SignInAttempts", "attempts"]
