"""The response network: who owns a warning at each level, its deadlines, and escalation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from warning.models import OwnerTier, Warning

# Default owner tier by level (3 red, 2 yellow, 1 blue), from the product brief.
OWNER_BY_LEVEL = {3: OwnerTier.SCHOOL, 2: OwnerTier.DEPARTMENT, 1: OwnerTier.CLASS}


def plan_response(
    session: Session, warning: Warning, previous_level: int | None, now: datetime
) -> None:
    """Set the owner and deadlines for a warning whose level was just set or raised."""
    if previous_level is None or warning.level > previous_level:
        warning.owner_tier = max(
            OWNER_BY_LEVEL.get(warning.level, OwnerTier.CLASS), warning.owner_tier or 0
        )
        warning.owner_since = now
