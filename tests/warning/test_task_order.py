"""/tasks puts the most urgent work first and folds the weekly missing-report chores away."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from campus import clock
from campus.extensions import db
from campus.i18n import Message
from campus.models import Role
from tests import factories
from warning import escalation
from warning import task_list
from warning.models import Task


def _red(student) -> None:
    factories.phq9_signal(student, 22, label="PHQ-9 item 9")


def _missing_reports(unit, count: int, week: str = "2026-09-07") -> None:
    """`count` classes' weekly reports missed last week, each a task for the department."""
    for number in range(count):
        text = Message(escalation.REPORT_MISSING_TEXT["class"], unit=f"CS-{number:02}", week=week)
        db.session.add(
            Task(
                institution_id=unit.institution.id,
                kind="report_missing",
                text=text,
                text_key=text.key,
                text_params=text.params,
                assignee_department_id=unit.department.id,
                due_at=clock.now() - timedelta(days=1, minutes=number),
            )
        )
    db.session.commit()


def test_a_red_deadline_comes_before_forty_collapsed_missing_report_chores(campus, unit, login):
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    _missing_reports(unit, 40)
    _red(unit.student)
    page = login(counsellor).get("/tasks").get_data(as_text=True)
    chores = page.index('<details class="chore-group">')
    assert page.index(unit.student.name) < chores
    assert "Notify the guardian" in page[:chores]
    assert '<span class="count">40</span>' in page[chores:]
    assert page[chores:].count("has not filed its weekly report") == 40
    assert "has not filed its weekly report" not in page[:chores]


def _entry(due_at, level=None, kind="plan_item", task_id=1):
    if level is None:
        return SimpleNamespace(
            due_at=due_at, kind=kind, id=task_id, text_key=None, text="", student=None
        )
    return (SimpleNamespace(due_at=due_at), SimpleNamespace(level=level), SimpleNamespace(), True)


def test_entries_sort_overdue_then_soonest_then_higher_level():
    now = clock.now()
    end_of_day = now + timedelta(hours=12)
    soon, later = now + timedelta(minutes=30), now + timedelta(hours=3)
    yellow_soon, red_soon = _entry(soon, level=2), _entry(soon, level=3)
    red_later, overdue_task = _entry(later, level=3), _entry(now - timedelta(days=2))
    chore = _entry(now - timedelta(days=3), kind="report_missing")
    listed = task_list.build(
        [overdue_task, chore], [red_later, yellow_soon, red_soon], now, end_of_day
    )
    assert [e.task for e in listed.buckets["overdue"]] == [overdue_task]
    assert [e.deadline for e in listed.buckets["today"]] == [
        row[:3] for row in (red_soon, yellow_soon, red_later)
    ]
    assert [(g.kind, g.tasks) for g in listed.chores] == [("report_missing", [chore])]


def test_work_due_more_than_a_week_after_today_is_set_apart_under_later():
    """The next check-in a tick plans for next month is not listed among this week's work."""
    now = clock.now()
    end_of_day = now + timedelta(hours=12)
    in_a_week = _entry(end_of_day + task_list.LATER_AFTER - timedelta(minutes=1), task_id=1)
    next_month = _entry(now + timedelta(days=30), task_id=2)
    deadline = _entry(now + timedelta(days=20), level=1)
    listed = task_list.build([next_month, in_a_week], [deadline], now, end_of_day)
    assert [e.task for e in listed.buckets["upcoming"]] == [in_a_week]
    assert [(e.task, e.deadline) for e in listed.later] == [
        (None, deadline[:3]),
        (next_month, None),
    ]


def _own_task(unit, user, due_in: timedelta) -> None:
    text = Message(escalation.REPORT_DIGEST_TEXT)
    db.session.add(
        Task(
            institution_id=unit.institution.id,
            kind="plan_item",
            text=text,
            text_key=text.key,
            text_params=text.params,
            assignee_user_id=user.id,
            due_at=clock.now() + due_in,
        )
    )
    db.session.commit()


def test_the_home_page_counts_each_task_list_section_and_leads_to_that_section(campus, unit, login):
    """The home page said "2 upcoming" and led to an empty "Upcoming": both were due in nine
    days, under "Later". Each card counts the section it leads to."""
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    _own_task(unit, counsellor, timedelta(days=9))
    _own_task(unit, counsellor, timedelta(days=10))
    client = login(counsellor)
    home = client.get("/").get_data(as_text=True)
    assert "Upcoming:" not in home
    assert 'href="/tasks#h-later">Later: 2 tasks</a>' in home
    listed = client.get("/tasks").get_data(as_text=True)
    upcoming = listed[listed.index('id="h-upcoming"') : listed.index('id="h-later"')]
    assert "Nothing here." in upcoming

    _own_task(unit, counsellor, timedelta(days=3))
    home = client.get("/").get_data(as_text=True)
    assert 'href="/tasks#h-upcoming">Upcoming: 1 task</a>' in home
    assert "Later: 2 tasks" in home


def test_the_home_page_says_which_weeks_missing_reports_are_for(campus, unit, login):
    """It said "this week's reports missing: 5" for last week's, on a Monday when this week's
    were all still open to file."""
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    _missing_reports(unit, 3)  # the week of Monday 7 September; the clock is Monday the 14th
    client = login(counsellor)
    home = client.get("/").get_data(as_text=True)
    assert (
        'href="/tasks#h-chores">Last week&#39;s reports missing: 3 classes and dorm rooms' in home
    )
    assert "Week beginning Monday 7 September" in home

    _missing_reports(unit, 1, week="2026-08-31")
    home = client.get("/").get_data(as_text=True)
    assert "Weekly reports missing from past weeks: 4" in home
    assert "The earliest for the week beginning Monday 31 August" in home
