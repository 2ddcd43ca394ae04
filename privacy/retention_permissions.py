"""Who decides about retention: the centre director places and lifts legal holds and reviews
erasure requests, for the students of their school; a student asks for their own erasure."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from campus.models import Role
from campus.models import User
from campus.scope import Capability
from campus.scope import student_filter

REVIEW_ROLES = (Role.DIRECTOR,)


def review_clause(user: User) -> ColumnElement[bool]:
    """Students whose erasure requests and holds `user` may handle: the director's school (the
    director reads the school's clinical records; nobody else gets this clause past the guard)."""
    return student_filter(user, Capability.CLINICAL)
