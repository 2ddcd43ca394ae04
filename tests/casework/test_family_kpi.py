"""The oversight KPI for family contact: key students (red or yellow) whose family was reached
since their warning opened, per department; an attempt that reached no one is not a contact."""

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


def _contact(
    world,
    student,
    token: str,
    outcome: ContactOutcome = ContactOutcome.REACHED,
    corrects: int | None = None,
) -> int:
    return family_contacts.log_family_contact(
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
            outcome=outcome,
            agreements=(),
            other_agreement="",
            follow_up_on=None,
            submission=token,
            corrects_id=corrects,
        ),
        clock.now(),
    ).record.id


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


def _family_row(world):
    view = kpis.View((world.institution.id,), date(2026, 9, 1), date(2026, 9, 1), "institution")
    row = kpis.compute(db.session, kpis.BY_KEY["family"], view, clock.now()).iloc[0]
    return row["key_students"], row["family_contacted"], row["family_not_contacted"]


def test_an_attempt_that_reached_no_one_is_not_a_family_contacted(world, campus):
    """Before, an unanswered call or a guardian who would not talk counted the student's family
    as contacted, while the home page's month figure did not: the two read differently for the
    same log."""
    unanswered = world.student
    refused = campus.student(world.group, name="王五")
    corrected_away = campus.student(world.group, name="赵六")
    corrected_to = campus.student(world.group, name="钱七")
    campus.commit()
    for student in (unanswered, refused, corrected_away, corrected_to):
        phq9_signal(student, 13)  # yellow
    clock.advance(timedelta(minutes=10))
    _contact(world, unanswered, "kpi-n", ContactOutcome.NOT_REACHED)
    _contact(world, refused, "kpi-r", ContactOutcome.REFUSED)
    # Logged as answered, corrected to unanswered: an attempt.
    first = _contact(world, corrected_away, "kpi-a1")
    _contact(world, corrected_away, "kpi-a2", ContactOutcome.NOT_REACHED, corrects=first)
    # Logged as unanswered by mistake, corrected to answered: a contact.
    first = _contact(world, corrected_to, "kpi-t1", ContactOutcome.NOT_REACHED)
    _contact(world, corrected_to, "kpi-t2", corrects=first)
    assert _family_row(world) == (4, 1, 3)
    # The unanswered student's family is reached later: now she counts.
    _contact(world, unanswered, "kpi-n2")
    assert _family_row(world) == (4, 2, 2)


def test_the_family_kpi_says_it_counts_only_contacts_that_reached_the_family():
    definition = str(kpis.BY_KEY["family"].definition)
    assert "that reached the family" in definition
    assert "whether or not the guardian was reached" not in definition
    assert "does not count" in definition
