"""Counsellors' time: weekly templates, time away, the academic calendar and the weeks opened from
them (issue #18). The test clock stands at Monday 2026-09-14 10:00 in Shanghai (02:00 UTC)."""

from __future__ import annotations

import uuid
from datetime import date
from datetime import datetime
from datetime import time

import pytest
from sqlalchemy import func
from sqlalchemy import select

from appointments import availability
from appointments.availability import AvailabilityError
from appointments.availability import ExceptionInput
from appointments.availability import TemplateInput
from appointments.models import AcademicBreak
from appointments.models import Appointment
from appointments.models import AvailabilityException
from appointments.models import AvailabilityTemplate
from appointments.models import CounsellorProfile
from appointments.models import ExceptionReason
from appointments.models import SessionKind
from appointments.models import Slot
from appointments.models import SlotState
from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import ClassGroup
from campus.models import Role
from campus.models import User
from campus.notifications import Notification

THIS_MONDAY = date(2026, 9, 14)
NEXT_MONDAY = date(2026, 9, 21)


def weekly(
    weekday: int = 1,
    starts: time = time(14),
    ends: time = time(17),
    *,
    minutes: int = 50,
    pause: int = 10,
    valid_from: date = THIS_MONDAY,
    valid_until: date | None = None,
    kind: SessionKind = SessionKind.FIRST_VISIT,
    capacity: int = 1,
) -> TemplateInput:
    """A weekly time, by default Tuesdays 14:00–17:00, 50-minute sessions, 10-minute breaks."""
    return TemplateInput(
        weekday=weekday,
        starts=starts,
        ends=ends,
        session_minutes=minutes,
        break_minutes=pause,
        room="心理中心 302",
        kind=kind,
        capacity=capacity,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def add(counsellor: User, data: TemplateInput) -> AvailabilityTemplate:
    template, _added = availability.add_template(
        db.session, counsellor, counsellor, data, clock.now()
    )
    return template


def slot_starts(counsellor: User, state: SlotState | None = None) -> list[datetime]:
    query = select(Slot.starts_at).where(Slot.counsellor_id == counsellor.id)
    if state is not None:
        query = query.where(Slot.state == state)
    return list(db.session.scalars(query.order_by(Slot.starts_at)))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def book(campus, slot: Slot, group: ClassGroup | None = None) -> Appointment:
    """A student's live booking of `slot` (a student of `group`, or of a class of her own)."""
    if group is None:
        group = campus.class_group(campus.department(slot.counsellor.institution))
    student = campus.student(group)
    appointment = Appointment(
        institution_id=slot.institution_id,
        slot_id=slot.id,
        student_id=student.id,
        counsellor_id=slot.counsellor_id,
        starts_at=slot.starts_at,
        kind=slot.kind,
        booked_by_id=student.user.id,
    )
    db.session.add(appointment)
    db.session.commit()
    return appointment


# --------------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------------


def test_overlapping_template_on_the_same_weekday_is_refused_and_nothing_written(counsellor):
    add(counsellor, weekly(1, time(14), time(17)))
    with pytest.raises(AvailabilityError) as refused:
        add(counsellor, weekly(1, time(16), time(18)))
    assert "14:00–17:00" in str(refused.value.message)
    assert count(AvailabilityTemplate) == 1


def test_templates_on_other_days_or_in_other_validity_do_not_overlap(counsellor):
    add(counsellor, weekly(1, time(14), time(17), valid_until=date(2026, 12, 31)))
    add(counsellor, weekly(2, time(14), time(17)))
    add(counsellor, weekly(1, time(14), time(17), valid_from=date(2027, 1, 1)))
    add(counsellor, weekly(1, time(17), time(18)))  # starts as the first ends
    assert count(AvailabilityTemplate) == 4


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (weekly(1, time(17), time(14)), "must end after it starts"),
        (weekly(1, time(14), time(14, 30), minutes=50), "does not fit in this window"),
        (weekly(valid_from=date(2026, 9, 1), valid_until=date(2026, 9, 10)), "has passed"),
        (weekly(valid_from=date(2026, 10, 1), valid_until=date(2026, 9, 20)), "must not be before"),
        (weekly(minutes=5), "A session lasts from 15 to 240 minutes"),
        (weekly(kind=SessionKind.GROUP, capacity=1), "A group takes from 2"),
    ],
)
def test_a_template_that_cannot_be_kept_is_refused_with_its_reason(counsellor, data, says):
    with pytest.raises(AvailabilityError) as refused:
        add(counsellor, data)
    assert says in str(refused.value.message)
    assert count(AvailabilityTemplate) == 0
    assert count(AuditEvent) == 0


# --------------------------------------------------------------------------------------------------
# Opening a week
# --------------------------------------------------------------------------------------------------


def test_open_week_makes_the_sessions_of_the_template_in_the_institutions_local_time(counsellor):
    add(counsellor, weekly(1, time(14), time(17)))  # Tuesday 14:00, 15:00, 16:00 in Shanghai

    opened = availability.open_week(db.session, counsellor.institution, NEXT_MONDAY, clock.now())

    assert opened.created == 3
    assert slot_starts(counsellor) == [
        datetime(2026, 9, 22, 6),
        datetime(2026, 9, 22, 7),
        datetime(2026, 9, 22, 8),
    ]
    slot = db.session.scalars(select(Slot)).first()
    assert slot is not None
    assert (slot.ends_at - slot.starts_at).seconds == 50 * 60
    assert slot.room == "心理中心 302"
    assert slot.kind is SessionKind.FIRST_VISIT


def test_open_week_a_second_time_adds_nothing(counsellor):
    add(counsellor, weekly(1))
    add(counsellor, weekly(3, time(9), time(12)))
    first = availability.open_week(db.session, counsellor.institution, NEXT_MONDAY, clock.now())
    second = availability.open_week(db.session, counsellor.institution, NEXT_MONDAY, clock.now())
    assert first.created == 6
    assert second.created == 0
    assert count(Slot) == 6


def test_open_week_skips_the_past_time_away_and_the_academic_calendar(counsellor):
    institution = counsellor.institution
    for weekday in (0, 2, 3):  # Monday, Wednesday, Thursday 09:00–12:00
        add(counsellor, weekly(weekday, time(9), time(12)))
    availability.add_exception(
        db.session,
        counsellor,
        counsellor,
        ExceptionInput(date(2026, 9, 16), date(2026, 9, 16), None, None, ExceptionReason.LEAVE),
        clock.now(),
    )
    availability.add_break(
        db.session,
        counsellor,
        institution,
        "中秋节",
        date(2026, 9, 17),
        date(2026, 9, 17),
        clock.now(),
    )

    availability.open_week(db.session, institution, THIS_MONDAY, clock.now())

    # Monday: 09:00 is past and 10:00 begins now (10:00 in Shanghai); 11:00 is bookable.
    # Wednesday is leave, Thursday the Mid-Autumn festival.
    assert slot_starts(counsellor) == [datetime(2026, 9, 14, 3)]


def test_time_away_of_some_hours_takes_out_only_the_sessions_it_touches(counsellor):
    add(counsellor, weekly(1, time(14), time(17)))
    availability.add_exception(
        db.session,
        counsellor,
        counsellor,
        ExceptionInput(
            date(2026, 9, 22), date(2026, 9, 22), time(15, 30), time(16), ExceptionReason.OTHER
        ),
        clock.now(),
    )
    availability.open_week(db.session, counsellor.institution, NEXT_MONDAY, clock.now())
    # 15:00–15:50 and 16:00–16:50 meet 15:30–16:00 only in the first.
    assert slot_starts(counsellor) == [datetime(2026, 9, 22, 6), datetime(2026, 9, 22, 8)]


def test_open_week_wants_a_monday(counsellor):
    with pytest.raises(AvailabilityError, match="not a Monday"):
        availability.open_week(db.session, counsellor.institution, date(2026, 9, 22), clock.now())


def test_a_counsellor_who_left_the_centre_offers_no_new_sessions(counsellor, campus):
    add(counsellor, weekly(1))
    for assignment in counsellor.assignments(Role.SCHOOL_COUNSELLOR):
        assignment.ends_at = clock.now()
    db.session.commit()
    assert (
        availability.open_week(db.session, counsellor.institution, NEXT_MONDAY, clock.now()).created
        == 0
    )


# --------------------------------------------------------------------------------------------------
# Time away added later
# --------------------------------------------------------------------------------------------------


def test_time_away_added_later_withdraws_open_sessions_and_reports_the_booked_one(
    counsellor, campus
):
    add(counsellor, weekly(1))
    availability.open_week(db.session, counsellor.institution, NEXT_MONDAY, clock.now())
    booked_slot = db.session.scalars(select(Slot).order_by(Slot.starts_at)).first()
    assert booked_slot is not None
    book(campus, booked_slot)

    _row, changed = availability.add_exception(
        db.session,
        counsellor,
        counsellor,
        ExceptionInput(date(2026, 9, 22), date(2026, 9, 22), None, None, ExceptionReason.LEAVE),
        clock.now(),
    )

    assert changed.withdrawn == 2
    assert [s.id for s in changed.booked_under_cover] == [booked_slot.id]
    assert slot_starts(counsellor, SlotState.OPEN) == [booked_slot.starts_at]
    note = db.session.scalars(
        select(Notification).where(Notification.user_id == counsellor.id)
    ).one()
    assert "time away" in note.text
    assert note.detail is not None
    assert len(note.detail["items"]) == 1

    # The weekly sweep again: nothing more withdrawn, no second note the same day.
    again = availability.open_week(db.session, counsellor.institution, NEXT_MONDAY, clock.now())
    assert again.created == 0
    assert again.withdrawn == 0
    assert count(Notification) == 1


def test_removing_time_away_opens_its_sessions_again(counsellor):
    add(counsellor, weekly(1))
    availability.open_week(db.session, counsellor.institution, NEXT_MONDAY, clock.now())
    row, _changed = availability.add_exception(
        db.session,
        counsellor,
        counsellor,
        ExceptionInput(date(2026, 9, 22), date(2026, 9, 25), None, None, ExceptionReason.LEAVE),
        clock.now(),
    )
    assert slot_starts(counsellor, SlotState.OPEN) == []

    assert availability.remove_exception(db.session, counsellor, row, clock.now()) == 3
    assert len(slot_starts(counsellor, SlotState.OPEN)) == 3


def test_removing_a_template_withdraws_its_open_sessions_but_keeps_the_booked(counsellor, campus):
    template = add(counsellor, weekly(1))
    availability.open_week(db.session, counsellor.institution, NEXT_MONDAY, clock.now())
    first = db.session.scalars(select(Slot).order_by(Slot.starts_at)).first()
    assert first is not None
    book(campus, first)
    changed = availability.remove_template(db.session, counsellor, template, clock.now())
    assert changed.withdrawn == 2
    assert len(changed.booked_under_cover) == 1
    assert slot_starts(counsellor, SlotState.OPEN) == [first.starts_at]
    assert count(AvailabilityTemplate) == 0


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (
            ExceptionInput(date(2026, 9, 25), date(2026, 9, 22), None, None, ExceptionReason.LEAVE),
            "must not be before",
        ),
        (
            ExceptionInput(date(2026, 9, 1), date(2026, 9, 2), None, None, ExceptionReason.LEAVE),
            "passed already",
        ),
        (
            ExceptionInput(
                date(2026, 9, 22), date(2026, 9, 22), time(9), None, ExceptionReason.OTHER
            ),
            "both times",
        ),
        (
            ExceptionInput(
                date(2026, 9, 22), date(2026, 9, 22), time(11), time(9), ExceptionReason.OTHER
            ),
            "end after",
        ),
    ],
)
def test_time_away_that_says_nothing_is_refused(counsellor, data, says):
    with pytest.raises(AvailabilityError, match=says):
        availability.add_exception(db.session, counsellor, counsellor, data, clock.now())
    assert count(AvailabilityException) == 0


def test_the_sweep_opens_this_week_and_the_weeks_booking_opens_ahead(counsellor):
    add(counsellor, weekly(1))
    made = availability.open_weeks_ahead(db.session, clock.now(), weeks_ahead=2)
    assert made == 9  # Tuesdays 15, 22 and 29 September
    assert availability.open_weeks_ahead(db.session, clock.now(), weeks_ahead=2) == 0


def test_operators_open_a_week_from_the_command_line(app, counsellor):
    add(counsellor, weekly(1))
    result = app.test_cli_runner().invoke(args=["appointments", "open-week", "xju", "2026-09-21"])
    assert result.exit_code == 0, result.output
    assert "3 slots opened" in result.output
    refused = app.test_cli_runner().invoke(args=["appointments", "open-week", "XJU", "2026-09-22"])
    assert refused.exit_code != 0
    assert "not a Monday" in refused.output


# --------------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------------


def template_form(**overrides: str) -> dict[str, str]:
    """The weekly-time form as the page posts it (its fields carry the prefix "weekly-")."""
    fields = {
        "weekday": "1",
        "starts": "14:00",
        "ends": "17:00",
        "session_minutes": "50",
        "break_minutes": "10",
        "room": "心理中心 302",
        "kind": "first_visit",
        "capacity": "",
        "valid_from": "2026-09-14",
        "valid_until": "",
    } | overrides
    token = {"submission": uuid.uuid4().hex}  # a fresh form, as the page issues it
    return {f"weekly-{name}": value for name, value in (token | fields).items()}


def test_a_counsellor_adds_weekly_time_and_sees_next_weeks_sessions(counsellor, login):
    client = login(counsellor)
    response = client.post(
        f"/appointments/availability/counsellors/{counsellor.id}/templates",
        data=template_form(),
        follow_redirects=True,
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # Tuesdays 15, 22 and 29 September: this week and the two weeks booking opens ahead.
    assert "9 sessions are open for booking" in page
    assert "Tue 22 Sep" in page
    assert "14:00–14:50" in page
    assert count(Slot) == 9


def test_an_overlapping_template_on_the_page_says_why_and_adds_nothing(counsellor, login):
    client = login(counsellor)
    client.post(
        f"/appointments/availability/counsellors/{counsellor.id}/templates", data=template_form()
    )
    response = client.post(
        f"/appointments/availability/counsellors/{counsellor.id}/templates",
        data=template_form(starts="16:00", ends="18:00"),
    )
    assert response.status_code == 400
    assert "overlaps the template 14:00–17:00" in response.get_data(as_text=True)
    assert count(AvailabilityTemplate) == 1


def test_the_weekly_time_form_sent_twice_is_one_template_and_one_set_of_sessions(counsellor, login):
    client = login(counsellor)
    path = f"/appointments/availability/counsellors/{counsellor.id}/templates"
    sent = template_form()
    first = client.post(path, data=sent, follow_redirects=True)
    again = client.post(path, data=sent, follow_redirects=True)
    assert first.status_code == again.status_code == 200
    assert "overlaps" not in again.get_data(as_text=True)
    assert count(AvailabilityTemplate) == 1
    assert count(Slot) == 9


def test_a_malformed_form_is_a_clear_400_and_writes_nothing(counsellor, login):
    client = login(counsellor)
    response = client.post(
        f"/appointments/availability/counsellors/{counsellor.id}/templates",
        data=template_form(starts="2pm", session_minutes="lots"),
    )
    assert response.status_code == 400
    assert count(AvailabilityTemplate) == 0


def test_a_forged_template_id_is_a_404_and_removes_nothing(counsellor, campus, login):
    other = campus.staff(counsellor.institution, Role.SCHOOL_COUNSELLOR, login="sc02")
    campus.commit()
    theirs = add(other, weekly(1))
    client = login(counsellor)
    assert (
        client.post(f"/appointments/availability/templates/{theirs.id}/remove").status_code == 404
    )
    assert client.post("/appointments/availability/templates/99999/remove").status_code == 404
    assert client.get(f"/appointments/availability/counsellors/{other.id}").status_code == 404
    assert count(AvailabilityTemplate) == 1
    denied = db.session.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied")).all()
    assert len(denied) == 3


def test_a_department_counsellor_has_no_availability_pages(counsellor, campus, login):
    department = campus.department(counsellor.institution)
    dept_counsellor = campus.staff(
        counsellor.institution, Role.DEPT_COUNSELLOR, department=department
    )
    campus.commit()
    client = login(dept_counsellor)
    assert client.get("/appointments/availability/").status_code == 403
    assert (
        client.post(
            f"/appointments/availability/counsellors/{counsellor.id}/templates",
            data=template_form(),
        ).status_code
        == 403
    )
    assert count(AvailabilityTemplate) == 0


def test_the_director_sees_every_counsellor_and_edits_a_profile(counsellor, campus, login):
    director = campus.staff(counsellor.institution, Role.DIRECTOR, login="director")
    campus.commit()
    add(counsellor, weekly(1))
    client = login(director)
    listing = client.get("/appointments/availability/counsellors").get_data(as_text=True)
    assert counsellor.name in listing
    assert "14:00–17:00" in listing

    refused = client.post(
        f"/appointments/availability/counsellors/{counsellor.id}/profile",
        data={"gender": "F", "is_trainee": "y", "supervisor_id": "0", "fte": "1.0"},
    )
    assert refused.status_code == 400
    assert "A trainee needs a supervisor" in refused.get_data(as_text=True)
    assert count(CounsellorProfile) == 0

    saved = client.post(
        f"/appointments/availability/counsellors/{counsellor.id}/profile",
        data={"gender": "F", "is_trainee": "y", "supervisor_id": str(director.id), "fte": "0.5"},
    )
    assert saved.status_code == 302
    profile = db.session.scalars(select(CounsellorProfile)).one()
    assert (profile.gender, profile.is_trainee, profile.supervisor_id, profile.fte) == (
        "F",
        True,
        director.id,
        0.5,
    )


def test_a_school_counsellor_cannot_edit_profiles(counsellor, login):
    client = login(counsellor)
    response = client.post(
        f"/appointments/availability/counsellors/{counsellor.id}/profile",
        data={"gender": "F", "fte": "1.0", "supervisor_id": "0"},
    )
    assert response.status_code == 403


def test_the_administrator_keeps_the_academic_calendar(counsellor, campus, login):
    admin = campus.staff(counsellor.institution, Role.ADMIN, login="admin")
    campus.commit()
    add(counsellor, weekly(1))
    availability.open_week(db.session, counsellor.institution, NEXT_MONDAY, clock.now())
    client = login(admin)
    response = client.post(
        "/appointments/availability/academic-calendar",
        data={
            "name": "国庆节",
            "name_en": "National Day",
            "first_day": "2026-09-22",
            "last_day": "2026-09-22",
        },
        follow_redirects=True,
    )
    assert "3 open sessions withdrawn" in response.get_data(as_text=True)
    assert slot_starts(counsellor, SlotState.OPEN) == []
    row = db.session.scalars(select(AcademicBreak)).one()

    past = client.post(
        "/appointments/availability/academic-calendar",
        data={"name": "暑假", "first_day": "2026-07-01", "last_day": "2026-08-31"},
    )
    assert past.status_code == 400
    assert count(AcademicBreak) == 1

    client.post(f"/appointments/availability/academic-calendar/{row.id}/remove")
    assert count(AcademicBreak) == 0
    assert len(slot_starts(counsellor, SlotState.OPEN)) == 3


def test_the_academic_calendar_is_the_administrators(counsellor, login):
    assert login(counsellor).get("/appointments/availability/academic-calendar").status_code == 403


def test_a_counsellor_adds_time_away_on_the_page_and_its_sessions_are_withdrawn(counsellor, login):
    add(counsellor, weekly(1))
    availability.open_week(db.session, counsellor.institution, NEXT_MONDAY, clock.now())
    client = login(counsellor)
    response = client.post(
        f"/appointments/availability/counsellors/{counsellor.id}/exceptions",
        data={"away-first_day": "2026-09-22", "away-reason": "leave", "away-note": "年假"},
        follow_redirects=True,
    )
    assert "3 open sessions withdrawn" in response.get_data(as_text=True)
    assert slot_starts(counsellor, SlotState.OPEN) == []
    row = db.session.scalars(select(AvailabilityException)).one()
    assert row.last_day == date(2026, 9, 22)

    backwards = client.post(
        f"/appointments/availability/counsellors/{counsellor.id}/exceptions",
        data={
            "away-first_day": "2026-09-29",
            "away-starts": "11:00",
            "away-ends": "09:00",
            "away-reason": "other",
        },
    )
    assert backwards.status_code == 400
    assert "The time away must end after it starts." in backwards.get_data(as_text=True)
    assert count(AvailabilityException) == 1


def test_the_same_time_away_sent_twice_is_kept_once(counsellor, login):
    client = login(counsellor)
    form = {"away-first_day": "2026-09-22", "away-reason": "leave"}
    path = f"/appointments/availability/counsellors/{counsellor.id}/exceptions"
    assert client.post(path, data=form).status_code == 302
    again = client.post(path, data=form)
    assert again.status_code == 400
    assert "This time away is entered already." in again.get_data(as_text=True)
    assert count(AvailabilityException) == 1


def test_the_director_keeps_a_counsellors_time_but_not_another_schools(counsellor, campus, login):
    director = campus.staff(counsellor.institution, Role.DIRECTOR, login="director")
    elsewhere = campus.staff(campus.institution("LSU"), Role.DIRECTOR, login="lsu-director")
    campus.commit()
    path = f"/appointments/availability/counsellors/{counsellor.id}/templates"

    assert login(director).post(path, data=template_form()).status_code == 302
    template = db.session.scalars(select(AvailabilityTemplate)).one()
    assert template.counsellor_id == counsellor.id
    assert template.created_by_id == director.id

    assert login(elsewhere).post(path, data=template_form(weekday="3")).status_code == 404
    assert count(AvailabilityTemplate) == 1


def test_the_scheduler_opens_the_weeks_ahead(app, counsellor):
    from campus import scheduler

    add(counsellor, weekly(1))
    swept = scheduler.run_sweeps(app, db.session, clock.now())
    assert swept["appointments.open_weeks"] == 9
    assert scheduler.run_sweeps(app, db.session, clock.now())["appointments.open_weeks"] == 0
