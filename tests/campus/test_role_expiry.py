"""Access that ends: a role with a last day stops working the minute that day is over, everywhere,
and stays in the user's history; removing a role ends it instead of deleting it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import admin
from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import WITH_ENDED_ROLES
from campus.models import ClassGroup
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from campus.notifications import Notification
from campus.scope import student_filter
from tests.factories import TERM_START
from tests.factories import open_warning
from tests.factories import went_live
from tests.pages import visible_text
from warning.models import OwnerTier
from warning.policy import Level
from warning.reports import weekly_report_status
from warning.response import owners_many

# The member's last day is Sunday 2026-09-20; in Beijing it ends at 16:00 UTC.
LAST_DAY = date(2026, 9, 20)
LAST_MINUTE = datetime(2026, 9, 20, 15, 59)
NEXT_MINUTE = datetime(2026, 9, 20, 16, 1)


@dataclass
class Committee:
    institution: Institution
    group: ClassGroup
    student: Student
    member: User
    boss: User


@pytest.fixture
def committee(campus) -> Committee:
    """A class with a student and a committee member whose role ends on `LAST_DAY`, in use since
    the start of term, and the institution's administrator."""
    inst = campus.institution("XJU")
    group = campus.class_group(campus.department(inst), "CS-2026-1")
    student = campus.student(group, name="Li Hua")
    member = campus.staff(inst, Role.CLASS_COMMITTEE, group=group, until=LAST_DAY, login="wang")
    boss = campus.staff(inst, Role.ADMIN, login="boss")
    went_live(TERM_START, inst, member)
    campus.commit()
    return Committee(inst, group, student, member, boss)


def _fresh(user: User) -> User:
    """The user as a new request loads them, with the roles working now."""
    db.session.expire_all()
    return db.session.get_one(User, user.id)


def _roster(user: User) -> list[str]:
    return list(db.session.scalars(select(Student.name).where(student_filter(_fresh(user)))))


def test_an_expired_committee_member_loses_the_roster_the_minute_after_their_last_day(
    committee, login
):
    clock.set_now(LAST_MINUTE)
    client = login(committee.member)
    assert "Li Hua" in client.get("/students").get_data(as_text=True)
    assert _roster(committee.member) == ["Li Hua"]
    assert "(last day Sun 20 Sep)" in client.get("/").get_data(as_text=True)

    clock.set_now(NEXT_MINUTE)
    assert client.get("/students").status_code == 403
    assert _roster(committee.member) == []
    home = client.get("/").get_data(as_text=True)
    assert "Class psychology committee member" not in home
    assert 'href="/students"' not in home


def _notes_to(user: User) -> list[str]:
    return list(
        db.session.scalars(select(Notification.text).where(Notification.user_id == user.id))
    )


def test_an_expired_committee_member_gets_no_tasks_or_notices_for_their_class(committee, login):
    clock.set_now(LAST_MINUTE)
    held = open_warning(committee.student, Level.BLUE, planned=False)
    assert owners_many(db.session, [held], OwnerTier.CLASS) == {held.id: [committee.member.id]}
    db.session.rollback()

    clock.set_now(NEXT_MINUTE)
    db.session.expire_all()
    warning = open_warning(committee.student, Level.BLUE)
    assert owners_many(db.session, [warning], OwnerTier.CLASS) == {warning.id: []}
    assert _notes_to(committee.member) == []
    tasks = login(committee.member).get("/tasks").get_data(as_text=True)
    assert "Li Hua" not in tasks


def test_the_class_owes_no_weekly_report_from_the_week_after_its_reporters_last_week(committee):
    clock.set_now(datetime(2026, 9, 22, 4, 0))  # Tuesday of the next week
    last_week = weekly_report_status(db.session, committee.institution.id, date(2026, 9, 14))
    next_week = weekly_report_status(db.session, committee.institution.id, date(2026, 9, 21))
    assert last_week.classes_missing == [committee.group.id]
    assert next_week.classes_missing == []


def test_a_reporter_whose_role_ends_midweek_owes_nothing_for_that_week(campus, committee):
    assignment = committee.member.roles[0]
    assignment.until = date(2026, 9, 16)
    assignment.ends_at = admin.end_moment(committee.institution, assignment.until)
    campus.commit()
    status = weekly_report_status(db.session, committee.institution.id, date(2026, 9, 14))
    assert status.classes_missing == []


def _history(user: User) -> list[RoleAssignment]:
    return list(
        db.session.scalars(
            select(RoleAssignment)
            .where(RoleAssignment.user_id == user.id)
            .execution_options(**{WITH_ENDED_ROLES: True})
        )
    )


def test_the_user_page_shows_an_expired_role_as_past_and_why(committee, login):
    clock.set_now(NEXT_MINUTE)
    page = login(committee.boss).get(f"/admin/users/{committee.member.id}").get_data(as_text=True)
    current, past = page.split("Past roles")
    assert "No roles yet." in current
    assert "Class psychology committee member — CS-2026-1" in past
    assert "Expired after its last day" in past


def test_removing_a_role_ends_it_keeps_it_as_history_and_it_can_be_given_again(
    campus, committee, login
):
    # A peer role is given again only to a student of the class: the class's own student.
    member = committee.student.user
    campus.staff(committee.institution, Role.CLASS_COMMITTEE, group=committee.group, user=member)
    campus.commit()
    client = login(committee.boss)
    (assignment,) = [a for a in member.roles if a.role is Role.CLASS_COMMITTEE]
    client.post(f"/admin/users/{member.id}/roles/{assignment.id}/remove")
    db.session.expire_all()
    (ended,) = [a for a in _history(member) if a.role is Role.CLASS_COMMITTEE]
    assert ended.ends_at == clock.now()
    assert ended.ended_by_id == committee.boss.id
    page = client.get(f"/admin/users/{member.id}").get_data(as_text=True)
    assert f"Removed by {committee.boss.name}" in page.split("Past roles")[1]

    again = client.post(
        f"/admin/users/{member.id}",
        data={"role": "class_committee", "scope": f"class:{committee.group.id}"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Role assigned." in again
    assert len([a for a in _history(member) if a.role is Role.CLASS_COMMITTEE]) == 2


def test_removing_a_role_twice_says_it_has_ended_and_writes_nothing(committee, login):
    client = login(committee.boss)
    (assignment,) = committee.member.roles
    url = f"/admin/users/{committee.member.id}/roles/{assignment.id}/remove"
    client.post(url)
    audits = db.session.scalar(select(func.count()).select_from(AuditEvent))
    page = client.post(url, follow_redirects=True).get_data(as_text=True)
    assert "This role has already ended." in page
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == audits


def test_a_last_day_in_the_past_is_refused_and_nothing_is_assigned(committee, login):
    client = login(committee.boss)
    page = client.post(
        f"/admin/users/{committee.boss.id}",
        data={"role": "school_counsellor", "scope": "", "until": "2026-09-13"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "The last day cannot be in the past." in page
    assert [a.role for a in _history(committee.boss)] == [Role.ADMIN]


def test_an_assigned_last_day_works_through_that_day_in_the_institutions_zone(committee, login):
    client = login(committee.boss)
    client.post(
        f"/admin/users/{committee.boss.id}",
        data={"role": "school_counsellor", "until": "2026-09-14"},
    )
    (given,) = [a for a in _history(committee.boss) if a.role is Role.SCHOOL_COUNSELLOR]
    assert given.until == date(2026, 9, 14)
    assert given.ends_at == datetime(2026, 9, 14, 16, 0)  # midnight in Beijing
    assert given.given_by_id == committee.boss.id


def test_the_last_day_can_be_changed_later_audited_and_not_to_the_past(committee, login):
    client = login(committee.boss)
    (assignment,) = committee.member.roles
    url = f"/admin/users/{committee.member.id}/roles/{assignment.id}/until"
    assert "Last day saved." in client.post(
        url, data={"until": "2027-07-15"}, follow_redirects=True
    ).get_data(as_text=True)
    db.session.expire_all()
    assert assignment.until == date(2027, 7, 15)
    assert assignment.ends_at == datetime(2027, 7, 15, 16, 0)
    assert db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "set_role_end")
    )
    refused = client.post(url, data={"until": "2026-01-01"}, follow_redirects=True)
    assert "The last day cannot be in the past." in refused.get_data(as_text=True)
    garbled = client.post(url, data={"until": "next summer"}, follow_redirects=True)
    assert "Enter the last day as a date" in garbled.get_data(as_text=True)
    client.post(url, data={"until": ""})
    db.session.expire_all()
    assert assignment.until is None
    assert assignment.ends_at is None


def test_a_forged_or_foreign_assignment_id_is_a_404(campus, committee, login):
    other = campus.institution("OTH")
    stranger = campus.staff(other, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    client = login(committee.boss)
    foreign = stranger.roles[0].id
    for user_id, assignment_id in (
        (stranger.id, foreign),
        (committee.member.id, foreign),
        (committee.member.id, 9999),
    ):
        base = f"/admin/users/{user_id}/roles/{assignment_id}"
        assert client.post(f"{base}/remove").status_code == 404
        assert client.post(f"{base}/until", data={"until": "2027-01-01"}).status_code == 404
    db.session.expire_all()
    assert stranger.roles[0].ends_at is None


def test_the_holder_and_the_administrator_are_told_once_before_the_last_day(committee, app, login):
    days = app.config["ROLE_END_NOTICE_DAYS"]
    far = datetime(2026, 9, 1, 2, 0)  # 19 days before the last day: too early
    assert admin.notify_roles_ending(db.session, far, days) == 0
    assert admin.notify_roles_ending(db.session, clock.now(), days) == 1
    assert admin.notify_roles_ending(db.session, clock.now(), days) == 0
    for user in (committee.member, committee.boss):
        (note,) = db.session.scalars(select(Notification).where(Notification.user_id == user.id))
        assert note.text == "Roles end soon"
        (item,) = note.detail["items"]
        assert item["params"] == {"name": committee.member.name, "until": "2026-09-20"}
    # The note says the last day as every page says a day; it is stored ISO.
    inbox = visible_text(login(committee.member).get("/inbox/").get_data(as_text=True))
    assert "class psychology committee member, last day Sun 20 Sep" in inbox


def test_an_administrator_cannot_end_their_own_administrator_role(committee, login):
    client = login(committee.boss)
    (own,) = committee.boss.roles
    page = client.post(
        f"/admin/users/{committee.boss.id}/roles/{own.id}/remove", follow_redirects=True
    ).get_data(as_text=True)
    assert "Another administrator must end your own administrator role." in page
    db.session.expire_all()
    assert own.ends_at is None


def test_a_students_own_role_takes_no_last_day(committee, login):
    client = login(committee.boss)
    (own,) = committee.student.user.roles
    page = client.post(
        f"/admin/users/{committee.student.user.id}/roles/{own.id}/until",
        data={"until": "2027-07-15"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "A student&#39;s own role takes no last day." in page
    db.session.expire_all()
    assert own.until is None
