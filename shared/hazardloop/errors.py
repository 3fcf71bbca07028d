"""Domain errors: raised by pure domain code, translated to HTTP only at the boundary."""

from __future__ import annotations


class DomainError(Exception):
    """A command that the current state does not allow (HTTP 409)."""

    status_code = 409

    def __init__(self, message: str, *, state: str | None = None) -> None:
        super().__init__(message)
        self.state = state


class NotFound(DomainError):
    status_code = 404


class Invalid(DomainError):
    """Well-formed input that the domain rejects, naming the field at fault (HTTP 422)."""

    status_code = 422

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class TooLarge(DomainError):
    """Input over a size limit: bytes, or pixels once decoded (HTTP 413)."""

    status_code = 413


class UnsupportedMedia(DomainError):
    """Content that is not an accepted type, or does not decode as the type it claims (HTTP 415)."""

    status_code = 415
