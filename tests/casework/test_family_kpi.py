"""The oversight KPI for family contact: key students (red or yellow) whose family was contacted
since their warning opened, per department."""

from __future__ import annotations

from datetime import date
from datetime import timedelta

from campus import clock
from campus.extensions import db
from casework import family_contacts
from casework.models import ContactChannel
from casework.models import ContactDirection
from casework.models import ContactOutcome
from oversight import kpis
from tests.factories import phq9_signal


def _contact(world, student, token: str) -> None:
    family_contacts.log_family_contact(
        db.session,
        world.dept_counsellor,
        student,
        family_contacts.NewFamilyContact(
            at=clock.to_local(clock.now(), clock.institution_zone(world.institution)),
            direction=ContactDirection.WE_CALLED,
            guardian_name="家长",
            guardian_relation="",
            channel=ContactChannel.PHONE,
            summary="告知预警情况。",
            outcome=ContactOutcome.NOT_REACHED,
            agreements=(),
            other_agreement="",
            follow_up_on=None,
            submission=token,
        ),
        clock.now(),
    )


def test_family_contact_kpi_counts_key_students_contacted_since_their_warning(world, campus):
    phq9_signal(world.student, 13)  # yellow, contacted
    red = campus.student(world.group, name="王五")
    blue = campus.student(world.group, name="赵六")
    campus.commit()
    phq9_signal(red, 22)  # red, not contacted
    phq9_signal(blue, 6)  # blue: not a key student, contacted anyway
    clock.advance(timedelta(minutes=10))
    _contact(world, world.student, "kpi-1")
    _contact(world, blue, "kpi-2")
    view = kpis.View((world.institution.id,), date(2026, 9, 1), date(2026, 9, 1), "institution")
    out = kpis.compute(db.session, kpis.BY_KEY["family"], view, clock.now())
    row = out.iloc[0]
    assert (row["key_students"], row["family_contacted"], row["family_not_contacted"]) == (2, 1, 1)
    assert row["coverage"] == 0.5
