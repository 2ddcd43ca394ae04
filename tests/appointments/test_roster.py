"""The duty roster (值班表, issue #18): the director plans shifts, staff see who is on duty now on
the crisis pages and the workbench, and a new red warning reaches whoever is on duty. The test
clock stands at Monday 2026-09-14 10:00 in Shanghai (02:00 UTC)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from appointments import roster
from appointments.models import DutyShift
from appointments.roster import RosterError
from appointments.roster import ShiftInput
from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from campus.models import User
from campus.notifications import Notification
from tests.factories import phq9_signal
from tests.pages import visible_text
from warning.models import OwnerTier
from warning.response import NOTIFICATION_TEXT
from warning.response import ON_DUTY_TEXT

NOW = datetime(2026, 9, 14, 2)  # the test clock, naive UTC


@pytest.fixture
def centre(campus, counsellor):
    """The counselling centre of XJU: `counsellor` (sc01), a second school counsellor, the
    director, a department with its counsellor and leader, and a student of it."""
    institution = counsellor.institution
    department = campus.department(institution)
    group = campus.class_group(department)

    class Centre:
        first = counsellor
        second = campus.staff(institution, Role.SCHOOL_COUNSELLOR, login="sc02")
        director = campus.staff(institution, Role.DIRECTOR, login="director")
        dept_counsellor = campus.staff(institution, Role.DEPT_COUNSELLOR, department=department)
        leader = campus.staff(institution, Role.DEPT_LEADER, department=department)
        student = campus.student(group)

    campus.commit()
    return Centre


def on_duty(
    person: User,
    starts: datetime = NOW - timedelta(hours=2),
    hours: int = 10,
    phone: str = "0731-8888-0000",
) -> DutyShift:
    return roster.add_shift(
        db.session,
        person,
        person.institution,
        ShiftInput(person.id, starts, starts + timedelta(hours=hours), phone=phone),
        clock.now(),
    )


def notes_of(user: User) -> list[str]:
    return list(
        db.session.scalars(select(Notification.text).where(Notification.user_id == user.id))
    )


# --------------------------------------------------------------------------------------------------
# The red warning reaches whoever is on duty
# --------------------------------------------------------------------------------------------------


def test_a_red_warning_tells_the_counsellor_on_duty_with_a_note_of_their_own(centre):
    on_duty(centre.first)

    warning = phq9_signal(centre.student, 22)

    assert warning is not None
    assert warning.level == 3
    # The counsellor on duty: one urgent note saying it is theirs now, not the centre's note too.
    assert notes_of(centre.first) == [ON_DUTY_TEXT]
    note = db.session.scalars(
        select(Notification).where(Notification.user_id == centre.first.id)
    ).one()
    assert note.urgent
    # The other school counsellor hears as before.
    assert notes_of(centre.second) == [NOTIFICATION_TEXT[OwnerTier.SCHOOL]]


def test_a_director_on_duty_hears_of_a_red_warning_they_would_not_otherwise_be_told_of(centre):
    on_duty(centre.director)
    phq9_signal(centre.student, 22)
    assert notes_of(centre.director) == [ON_DUTY_TEXT]


def test_a_yellow_warning_does_not_go_to_the_person_on_duty(centre):
    on_duty(centre.director)
    phq9_signal(centre.student, 12)
    assert notes_of(centre.director) == []


def test_with_no_one_on_duty_the_red_warning_goes_where_it_always_went(centre):
    on_duty(centre.first, starts=NOW + timedelta(hours=1))  # later today, not yet
    phq9_signal(centre.student, 22)
    assert notes_of(centre.first) == [NOTIFICATION_TEXT[OwnerTier.SCHOOL]]
    assert notes_of(centre.second) == [NOTIFICATION_TEXT[OwnerTier.SCHOOL]]
    assert not db.session.scalar(
        select(func.count()).select_from(Notification).where(Notification.text == ON_DUTY_TEXT)
    )


# --------------------------------------------------------------------------------------------------
# Planning shifts
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts", "hours", "says"),
    [
        (NOW + timedelta(hours=2), -1, "end after it starts"),
        (NOW + timedelta(hours=2), 30, "at most 24 hours"),
        (NOW - timedelta(hours=12), 4, "over already"),
    ],
)
def test_a_shift_that_cannot_be_kept_is_refused(centre, starts, hours, says):
    with pytest.raises(RosterError, match=says):
        on_duty(centre.first, starts=starts, hours=hours)
    assert not db.session.scalar(select(func.count()).select_from(DutyShift))


def test_one_person_is_not_on_duty_twice_at_once_but_two_people_may_be(centre):
    on_duty(centre.first)
    with pytest.raises(RosterError, match="already on duty"):
        on_duty(centre.first, starts=NOW)
    on_duty(centre.second, starts=NOW)  # a back-up beside the first
    assert [s.user_id for s in roster.on_duty(db.session, centre.first.institution_id, NOW)] == [
        centre.first.id,
        centre.second.id,
    ]


def test_a_department_counsellor_cannot_be_put_on_duty(centre):
    with pytest.raises(RosterError, match="counselling centre"):
        roster.check_shift(
            db.session,
            centre.first.institution,
            ShiftInput(centre.dept_counsellor.id, NOW, NOW + timedelta(hours=4)),
            NOW,
        )


def shift_form(person: User, **overrides: str) -> dict[str, str]:
    return {
        "submission": uuid.uuid4().hex,  # a fresh form, as the page issues it
        "user_id": str(person.id),
        "starts": "2026-09-14T08:00",
        "ends": "2026-09-14T20:00",
        "phone": "0731-8888-0000",
        "note": "值班室 301",
    } | overrides


def test_a_refused_shift_opens_at_the_form_and_a_planned_one_at_the_top(centre, login):
    """A walk found the refusal below the form at the foot of a long page, out of sight, as if
    nothing had happened."""
    client = login(centre.director)
    page = client.get("/appointments/duty/").get_data(as_text=True)
    assert re.search(r'action="/appointments/duty/shifts[^"]*#h-plan"', page)
    planned = client.post("/appointments/duty/shifts", data=shift_form(centre.first))
    assert planned.headers["Location"].endswith("#main")


def test_the_director_puts_a_counsellor_on_duty_and_the_crisis_page_names_them(centre, login):
    client = login(centre.director)
    response = client.post(
        "/appointments/duty/shifts", data=shift_form(centre.first), follow_redirects=True
    )
    assert response.status_code == 200
    week = response.get_data(as_text=True)
    assert centre.first.name in week
    assert "08:00 – 20:00" in week

    crisis_page = login(centre.dept_counsellor).get("/crisis/follow-ups").get_data(as_text=True)
    assert "On duty now" in crisis_page
    assert centre.first.name in crisis_page
    assert "0731-8888-0000" in crisis_page
    assert "until today 20:00" in crisis_page  # in words, as every time someone plans by


def test_the_shift_form_sent_twice_plans_one_shift(centre, login):
    client = login(centre.director)
    sent = shift_form(centre.first)
    statuses = [client.post("/appointments/duty/shifts", data=sent).status_code for _ in range(2)]
    assert statuses == [302, 302]
    assert db.session.scalar(select(func.count(DutyShift.id))) == 1


def test_the_crisis_page_says_plainly_when_no_one_is_on_duty(centre, login):
    page = login(centre.first).get("/crisis/follow-ups").get_data(as_text=True)
    assert "No one is on duty now" in page


def test_the_workbench_names_who_is_on_duty(centre, login):
    on_duty(centre.second, phone="0731-8888-0102")
    home = login(centre.dept_counsellor).get("/").get_data(as_text=True)
    assert f"On duty now: {centre.second.name} 0731-8888-0102" in home


def test_the_workbench_adds_no_line_when_no_one_is_on_duty(centre, login):
    home = login(centre.leader).get("/").get_data(as_text=True)
    assert "On duty now" not in home
    assert "Nothing to do today." in home


def test_a_bad_shift_on_the_page_says_why_and_plans_nothing(centre, login):
    client = login(centre.director)
    response = client.post(
        "/appointments/duty/shifts", data=shift_form(centre.first, ends="2026-09-14T07:00")
    )
    assert response.status_code == 400
    assert "The shift must end after it starts." in response.get_data(as_text=True)
    forged = client.post("/appointments/duty/shifts", data=shift_form(centre.dept_counsellor))
    assert forged.status_code == 400
    malformed = client.post(
        "/appointments/duty/shifts", data=shift_form(centre.first, starts="soon")
    )
    assert malformed.status_code == 400
    assert not db.session.scalar(select(func.count()).select_from(DutyShift))


def test_a_clash_names_the_shift_already_planned_in_words(centre, login):
    """The refusal read 2026-09-16 10:00 while the roster above it said the day in words."""
    on_duty(centre.first, starts=NOW + timedelta(days=2), hours=12)  # Wed 16 Sep, 10:00 to 22:00
    centre.director.locale = "zh_CN"
    db.session.commit()
    response = login(centre.director).post(
        "/appointments/duty/shifts",
        data=shift_form(centre.first, starts="2026-09-16T08:00", ends="2026-09-16T20:00"),
    )
    assert response.status_code == 400
    said = f"{centre.first.name} 在 9月16日 周三 10:00 至 9月16日 周三 22:00 已有值班安排。"
    assert said in response.get_data(as_text=True)


def test_only_the_director_plans_shifts(centre, login):
    response = login(centre.first).post("/appointments/duty/shifts", data=shift_form(centre.first))
    assert response.status_code == 403
    assert login(centre.first).get("/appointments/duty/").status_code == 200


def test_a_forged_or_foreign_shift_id_is_a_404(centre, campus, login):
    other = campus.institution("LSU")
    their_director = campus.staff(other, Role.DIRECTOR, login="lsu-director")
    campus.commit()
    theirs = on_duty(their_director)
    client = login(centre.director)
    assert client.post(f"/appointments/duty/shifts/{theirs.id}/remove").status_code == 404
    assert client.post("/appointments/duty/shifts/99999/remove").status_code == 404
    assert db.session.get(DutyShift, theirs.id) is not None
    # The audit log reads each refusal as an attempt to remove a shift of the duty roster, as
    # it reads a removal.
    refused = db.session.execute(
        select(AuditEvent.action, AuditEvent.record_type, AuditEvent.record_id)
        .where(AuditEvent.outcome == "denied")
        .order_by(AuditEvent.id)
    ).all()
    assert refused == [
        ("duty_shift_remove", "duty_roster", str(theirs.id)),
        ("duty_shift_remove", "duty_roster", "99999"),
    ]


def test_a_past_shift_stays_on_the_record(centre, login):
    shift = on_duty(centre.first)
    clock.set_now(NOW + timedelta(days=1))
    login(centre.director).post(f"/appointments/duty/shifts/{shift.id}/remove")
    assert db.session.get(DutyShift, shift.id) is not None
    with pytest.raises(RosterError, match="record"):
        roster.remove_shift(db.session, centre.director, shift, clock.now())


def test_students_are_not_shown_the_roster(centre, login):
    client = login(centre.student.user)
    assert client.get("/appointments/duty/").status_code == 403


def test_the_week_gives_each_row_its_shifts_hours_not_days_relative_to_today(centre, login):
    """A walk read "yesterday 08:00 – 20:00" on the row "Mon 7 Dec" the morning after."""
    on_duty(centre.first, starts=datetime(2026, 9, 14, 0), hours=12)  # 08:00–20:00 in Beijing
    on_duty(centre.second, starts=datetime(2026, 9, 14, 12), hours=12)  # 20:00–08:00 the next day
    clock.advance(timedelta(days=1))  # read the next morning

    page = visible_text(
        login(centre.director).get("/appointments/duty/?week=2026-09-14").get_data(as_text=True)
    )

    monday = page[page.index("Mon 14 Sep") : page.index("Tue 15 Sep")]
    tuesday = page[page.index("Tue 15 Sep") : page.index("Wed 16 Sep")]
    assert "08:00 – 20:00" in monday
    assert "20:00 – next day 08:00" in monday
    assert "day before 20:00 – 08:00" in tuesday
    assert "yesterday" not in page
    assert "today" not in monday
