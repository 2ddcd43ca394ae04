"""Casework's demo data for `flask campus seed-demo`; each part of the domain adds its own."""

from __future__ import annotations

from sqlalchemy.orm import Session

from campus.models import Institution


def seed(session: Session, institution: Institution) -> None:
    """Add casework's demo data to `institution`."""
    from casework import file_demo

    file_demo.seed(session, institution)
