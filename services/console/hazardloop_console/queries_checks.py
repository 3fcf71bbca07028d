"""The one thing the console's own store tells the checks-elsewhere pages: the policy's threshold.

Checks themselves are verification's; the pages read them there, with the person's token.
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from hazardloop.events import CaseworkPolicy, Grade
from hazardloop_console.store import policies


def check_from_grade(engine: Engine, tenant: str) -> Grade:
    """The grade from which the subsidiary's casework policy in force raises checks elsewhere."""
    with engine.connect() as db:
        stored = db.execute(select(policies.c.policy).where(policies.c.tenant == tenant)).scalar()
    return (CaseworkPolicy.model_validate_json(stored) if stored else CaseworkPolicy()).check_from_grade
