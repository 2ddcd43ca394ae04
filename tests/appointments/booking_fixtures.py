"""Factories for the booking tests: a counselling centre with counsellors and slots by name.

The calendar makes slots from availability templates; these tests make `Slot` rows directly so
booking is tested on its own.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from appointments.models import CounsellorProfile
from appointments.models import SessionKind
from appointments.models import Slot
from appointments.models import SlotState
from campus import clock
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.models import User
from tests.conftest import Campus


class Centre:
    """One institution's counselling centre: a department, a class, counsellors and slots."""

    def __init__(self, campus: Campus, code: str = "XJU") -> None:
        self.campus = campus
        self.institution: Institution = campus.institution(code)
        self.department = campus.department(self.institution)
        self.group = campus.class_group(self.department)

    def counsellor(self, gender: str = "F") -> User:
        user = self.campus.staff(self.institution, Role.SCHOOL_COUNSELLOR)
        self.campus.session.add(
            CounsellorProfile(user_id=user.id, institution_id=self.institution.id, gender=gender)
        )
        self.campus.session.flush()
        return user

    def student(self) -> Student:
        return self.campus.student(self.group)

    def slot(
        self,
        counsellor: User,
        *,
        hours: float = 24,
        kind: SessionKind = SessionKind.FIRST_VISIT,
        capacity: int = 1,
        state: SlotState = SlotState.OPEN,
    ) -> Slot:
        """A 50-minute slot starting `hours` after the frozen now (negative: in the past)."""
        starts = clock.now().replace(microsecond=0) + timedelta(hours=hours)
        slot = Slot(
            institution_id=self.institution.id,
            counsellor_id=counsellor.id,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=50),
            room="心理中心 201",
            kind=kind,
            capacity=capacity,
            state=state,
            created_at=datetime(2026, 9, 1),
        )
        self.campus.session.add(slot)
        self.campus.session.flush()
        return slot
