"""Missing weekly reports reach the department as one digest per person, unit and day, and only
for weeks someone could have reported; urgent notes head the inbox."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Role
from campus.notifications import Notification
from campus.notifications import OutboxMail
from tests.factories import TERM_START
from tests.factories import open_warning
from tests.factories import went_live
from tests.pages import visible_text
from warning.escalation import sweep_missing_reports
from warning.models import Task
from warning.policy import Level

# Monday 2026-09-14 13:00 Beijing: the reports of the week of 09-07 were due at noon.
AFTER_NOON = datetime(2026, 9, 14, 5, 0)


@pytest.fixture
def department(campus, unit):
    """Computing with three classes (CS-2026-1 from `unit`, two more), each with its committee
    member since the start of term, a counsellor with a mail address and a department leader."""
    groups = [unit.group, *(campus.class_group(unit.department, f"CS-2026-{n}") for n in (2, 3))]
    members = [campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=g) for g in groups]
    counsellor = campus.staff(
        unit.institution, Role.DEPT_COUNSELLOR, department=unit.department, email="c@xju.test"
    )
    leader = campus.staff(unit.institution, Role.DEPT_LEADER, department=unit.department)
    went_live(TERM_START, unit.institution, *members)
    campus.commit()
    return unit, counsellor, leader, members


def _notes(user) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)))


def _sweep(now: datetime = AFTER_NOON) -> int:
    clock.set_now(now)
    count = sweep_missing_reports(db.session, now)
    db.session.commit()
    return count


def _units_listed(note: Notification) -> list[str]:
    return [item["params"]["unit"] for item in note.detail["items"]]


def test_three_missing_classes_give_each_department_officer_one_digest_naming_them(
    department, login
):
    unit, counsellor, leader, _members = department
    assert _sweep() == 3
    for officer in (counsellor, leader):
        (note,) = _notes(officer)
        assert _units_listed(note) == ["CS-2026-1", "CS-2026-2", "CS-2026-3"]
    assert db.session.scalar(select(func.count(OutboxMail.id))) == 1  # the counsellor's one mail
    page = login(counsellor).get("/inbox/").get_data(as_text=True)
    assert page.count("Weekly reports are missing in your department") == 1
    assert '<span class="count">3 in all</span>' in page
    # The week is said by its Monday in words, as the reporters' own page says it; stored ISO.
    assert note.detail["items"][0]["params"]["week"] == "2026-09-07"
    for name in ("CS-2026-1", "CS-2026-2", "CS-2026-3"):
        assert f"Class {name} has not filed its weekly report for the week of Mon 7 Sep" in page
    # The department's task for each reads the same way.
    tasks = visible_text(login(counsellor).get("/tasks").get_data(as_text=True))
    assert "Class CS-2026-1 has not filed its weekly report for the week of Mon 7 Sep" in tasks


def test_running_the_sweep_again_the_same_day_adds_to_the_digest_and_never_duplicates_it(
    campus, department
):
    unit, counsellor, _leader, _members = department
    _sweep()
    (note,) = _notes(counsellor)
    note.read_at = AFTER_NOON
    db.session.commit()
    assert _sweep(AFTER_NOON + timedelta(hours=1)) == 0
    assert _notes(counsellor) == [note]
    assert note.read_at is not None  # nothing new: left alone
    late = campus.class_group(unit.department, "CS-2026-0")
    went_live(
        TERM_START,
        unit.institution,
        campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=late),
    )
    campus.commit()
    assert _sweep(AFTER_NOON + timedelta(hours=2)) == 1
    (note,) = _notes(counsellor)
    assert _units_listed(note) == ["CS-2026-1", "CS-2026-2", "CS-2026-3", "CS-2026-0"]
    assert note.read_at is None  # news in it: unread again
    assert db.session.scalar(select(func.count(OutboxMail.id))) == 1  # and no second mail


def test_no_report_is_owed_for_a_week_before_the_reporter_was_appointed(department):
    unit, counsellor, _leader, members = department
    # CS-2026-2's member was appointed on Tuesday 09-08: the week of 09-07 is not theirs.
    members[1].assignments(Role.CLASS_COMMITTEE)[0].since = datetime(2026, 9, 8, 1, 0)
    # CS-2026-3's member, on that Monday evening (Beijing): that week is theirs.
    members[2].assignments(Role.CLASS_COMMITTEE)[0].since = datetime(2026, 9, 7, 12, 0)
    db.session.commit()
    assert _sweep() == 2
    (note,) = _notes(counsellor)
    assert _units_listed(note) == ["CS-2026-1", "CS-2026-3"]
    texts = db.session.scalars(select(Task.text).where(Task.kind == "report_missing")).all()
    assert not any("CS-2026-2" in text for text in texts)


def test_no_report_is_owed_for_a_week_before_the_institution_went_live(department):
    unit, counsellor, leader, _members = department
    unit.institution.live_since = datetime(2026, 9, 10, 2, 0)  # Thursday of that week
    db.session.commit()
    assert _sweep() == 0
    assert _notes(counsellor) == []
    assert _notes(leader) == []
    assert db.session.scalar(select(func.count(Task.id))) == 0


def test_a_new_institution_escalates_no_missing_report_at_its_first_tick(campus, unit):
    """The demo's first tick: everything made today, so no past week is owed by anyone."""
    member = campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=unit.group)
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    assert member.assignments(Role.CLASS_COMMITTEE)[0].since == clock.now()
    assert _sweep() == 0
    assert _notes(counsellor) == []


def test_unread_urgent_notes_head_the_inbox_and_take_their_place_by_date_once_read(
    campus, department, login
):
    unit, counsellor, _leader, _members = department
    clock.set_now(AFTER_NOON - timedelta(hours=1))
    open_warning(unit.student, Level.RED)  # the department hears of it, urgently
    _sweep()  # an hour later: the digest, newer but not urgent
    client = login(counsellor)
    page = client.get("/inbox/").get_data(as_text=True)
    urgent = page.index("A warning in your department needs attention")
    assert urgent < page.index("Weekly reports are missing in your department")
    assert page.count('class="urgent-tag"') == 1
    red = next(n for n in _notes(counsellor) if n.urgent)
    client.post(f"/inbox/{red.id}/read")
    page = client.get("/inbox/").get_data(as_text=True)
    assert page.index("Weekly reports are missing") < page.index("needs attention")
    assert 'class="urgent-tag"' not in page
