"""Receipt codes as every service compares them: only their sha256 is ever stored."""

from __future__ import annotations

import hashlib
from typing import Annotated

from pydantic import StringConstraints

ReceiptCode = Annotated[str, StringConstraints(min_length=20, max_length=60, pattern=r"^[A-Za-z2-7 -]+$")]
"""A code as a reporter types it: 25 base32 letters, in any case, dashes and spaces allowed."""


def normalised(code: str) -> str:
    """A code as typed, without the case, spaces and dashes that do not matter."""
    return "".join(code.split()).replace("-", "").upper()


def receipt_digest(code: str) -> str:
    """What is stored and compared: case, spaces and dashes do not matter when typing a code."""
    return hashlib.sha256(normalised(code).encode()).hexdigest()
