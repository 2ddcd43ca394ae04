"""Named factories of the appointments domain's tests: a school counsellor and their slots.

General on purpose: every part of the appointments domain (availability, booking, waitlist,
sessions) builds on a counsellor and slots."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from datetime import timedelta

import pytest

from appointments.models import SessionKind
from appointments.models import Slot
from appointments.models import SlotState
from campus.extensions import db
from campus.models import Role
from campus.models import User


@pytest.fixture
def counsellor(campus) -> User:
    """A school counsellor (心理中心专职教师) of a fresh institution XJU, committed."""
    institution = campus.institution("XJU")
    user = campus.staff(institution, Role.SCHOOL_COUNSELLOR, login="sc01")
    campus.commit()
    return user


SlotFactory = Callable[..., Slot]


@pytest.fixture
def slot_factory(app) -> SlotFactory:
    """`slot_factory(counsellor, starts_at, minutes=50, kind=..., capacity=1, room=...)`: one
    open slot (naive UTC start), committed."""

    def _slot(
        counsellor: User,
        starts_at: datetime,
        *,
        minutes: int = 50,
        kind: SessionKind = SessionKind.FIRST_VISIT,
        capacity: int = 1,
        room: str = "302",
        state: SlotState = SlotState.OPEN,
    ) -> Slot:
        slot = Slot(
            institution_id=counsellor.institution_id,
            counsellor_id=counsellor.id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            room=room,
            kind=kind,
            capacity=capacity,
            state=state,
        )
        db.session.add(slot)
        db.session.commit()
        return slot

    return _slot
