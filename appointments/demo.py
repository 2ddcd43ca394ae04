"""The appointments domain's demo data (`flask campus seed-demo`): bookings, then the changes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from appointments.booking_demo import seed_bookings
from appointments.changes_demo import seed_changes
from campus.models import Institution


def seed(session: Session, uni: Institution) -> None:
    """Free times and bookings (booking), then no-shows and a waiting student (changes)."""
    seed_bookings(session, uni)
    seed_changes(session, uni)
