"""The staffing register: the administrator adds and ends mental-health teachers' posts, and the
oversight staffing figure counts the full-time ones in post."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from campus.models import StaffingEntry
from campus.models import StaffPost
from oversight import kpis


def _school(campus):
    inst = campus.institution("XJU", "Xiangjiang University")
    group = campus.class_group(campus.department(inst))
    campus.student(group)
    admin = campus.staff(inst, Role.ADMIN)
    teacher = campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    teacher.name = "Teacher Lin"
    campus.commit()
    return inst, admin, teacher


def _token(client) -> str:
    """The one-time token the register's page issues with its blank form."""
    page = client.get("/admin/staffing/").get_data(as_text=True)
    return page.split('name="submission" type="hidden" value="', 1)[1][:32]


def _add(client, fields: dict):
    """Send the register's form as the page issued it."""
    return client.post("/admin/staffing/", data={"submission": _token(client), **fields})


def _teachers_today(inst) -> int:
    view = kpis.View((inst.id,), date(2026, 9, 1), date(2026, 9, 1), "institution")
    out = kpis.compute(db.session, kpis.BY_KEY["staffing"], view, clock.now())
    return int(out["teachers"].iloc[0])


def test_admin_links_a_teacher_account_and_the_kpi_counts_the_full_time_post(campus, login):
    inst, admin, teacher = _school(campus)
    client = login(admin)
    response = _add(
        client,
        {
            "person_name": "",
            "user_id": teacher.id,
            "post": "full_time",
            "starts_on": "2024-09-01",
        },
    )
    assert response.status_code == 302
    page = client.get("/admin/staffing/").get_data(as_text=True)
    assert "Teacher Lin" in page  # the name comes from the linked account
    assert "In post" in page
    assert _teachers_today(inst) == 1
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "staffing_added")
        )
        == 1
    )


def test_a_part_time_teacher_is_listed_but_not_counted(campus, login):
    inst, admin, _teacher = _school(campus)
    client = login(admin)
    _add(
        client,
        {"person_name": "Wu", "user_id": 0, "post": "part_time", "starts_on": "2024-09-01"},
    )
    assert "Part-time mental-health teacher" in client.get("/admin/staffing/").get_data(True)
    assert _teachers_today(inst) == 0


def test_ending_a_post_takes_the_teacher_out_of_the_count_from_the_next_day(campus, login):
    inst, admin, _teacher = _school(campus)
    client = login(admin)
    _add(
        client,
        {"person_name": "Zhou", "user_id": 0, "post": "full_time", "starts_on": "2020-09-01"},
    )
    entry = db.session.scalar(select(StaffingEntry))
    assert (
        client.post(f"/admin/staffing/{entry.id}/end", data={"ends_on": "2026-09-13"}).status_code
        == 302
    )
    db.session.refresh(entry)
    assert entry.ends_on == date(2026, 9, 13)
    assert _teachers_today(inst) == 0  # "now" is 2026-09-14


def test_bad_entries_are_refused_with_a_reason_and_write_nothing(campus, login):
    _inst, admin, _teacher = _school(campus)
    client = login(admin)
    no_name = _add(client, {"user_id": 0, "post": "full_time", "starts_on": "2024-09-01"})
    assert "Give the teacher&#39;s name or link their account." in no_name.get_data(True)
    backwards = _add(
        client,
        {
            "person_name": "Zhou",
            "user_id": 0,
            "post": "full_time",
            "starts_on": "2024-09-01",
            "ends_on": "2024-08-31",
        },
    )
    assert "cannot be before the first" in backwards.get_data(True)
    no_start = _add(client, {"person_name": "Zhou", "post": "full_time"})
    assert no_start.status_code == 200
    assert db.session.scalar(select(func.count(StaffingEntry.id))) == 0


def test_an_ended_post_cannot_be_ended_again_and_another_schools_entry_is_a_404(campus, login):
    inst, admin, _teacher = _school(campus)
    other = campus.institution("HNU")
    campus.commit()
    mine = StaffingEntry(
        institution_id=inst.id,
        person_name="Zhou",
        post=StaffPost.FULL_TIME,
        starts_on=date(2020, 9, 1),
        ends_on=date(2025, 7, 31),
    )
    theirs = StaffingEntry(
        institution_id=other.id,
        person_name="Ma",
        post=StaffPost.FULL_TIME,
        starts_on=date(2020, 9, 1),
    )
    db.session.add_all([mine, theirs])
    db.session.commit()
    client = login(admin)
    again = client.post(
        f"/admin/staffing/{mine.id}/end", data={"ends_on": "2026-01-01"}, follow_redirects=True
    )
    assert "already ended" in again.get_data(True)
    assert (
        client.post(f"/admin/staffing/{theirs.id}/end", data={"ends_on": "2026-01-01"}).status_code
        == 404
    )
    db.session.refresh(mine)
    db.session.refresh(theirs)
    assert (mine.ends_on, theirs.ends_on) == (date(2025, 7, 31), None)


def test_the_form_sent_twice_adds_one_post_and_the_ratio_counts_one_teacher(campus, login):
    inst, admin, _teacher = _school(campus)
    client = login(admin)
    sent = {
        "submission": _token(client),
        "person_name": "Zhou",
        "user_id": 0,
        "post": "full_time",
        "starts_on": "2024-09-01",
    }
    assert [client.post("/admin/staffing/", data=sent).status_code for _ in range(2)] == [302, 302]
    assert db.session.scalar(select(func.count(StaffingEntry.id))) == 1
    assert _teachers_today(inst) == 1
