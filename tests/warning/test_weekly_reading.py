"""A concern report is the week's report, never beside "all is well"; the department reads its
classes' and rooms' weekly reports, a note naming no one included, and nothing beyond its reach."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import NotificationChannel
from campus.models import Role
from campus.notifications import Notification
from campus.notifications import OutboxMail
from warning.models import ConcernReport
from warning.models import Signal
from warning.models import WeeklyReport

NOTE = "宿舍最近有人整晚不睡"
REFUSED = "so this week cannot also be marked"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _unit(network, kind: str):
    if kind == "room":
        return network.dorm_informant, f"/warnings/units/room/{network.room.id}"
    return network.class_committee, f"/warnings/units/class/{network.group.id}"


def _concern(client, url: str, student_id: int, category: str = "suicidal_talk"):
    return client.post(
        f"{url}/concern",
        data={
            "submission": uuid.uuid4().hex,
            "student_id": student_id,
            "category": category,
            "text": "Says she does not want to live",
        },
    )


@pytest.mark.parametrize("kind", ["room", "class"])
def test_all_is_well_is_refused_after_a_concern_in_the_same_week_and_nothing_is_written(
    network, login, kind
):
    reporter, url = _unit(network, kind)
    client = login(reporter)
    assert _concern(client, url, network.student.id).status_code == 302
    assert _count(WeeklyReport) == 1  # the concern is the week's report: the unit is not missing
    page = client.get(url).get_data(as_text=True)
    assert "the concern report filed this week counts as this week's report" in page
    assert "All is well this week" not in page  # the button is not offered again

    # A double tap, or the form of a page loaded before the concern: refused, and said why.
    for _ in range(2):
        refused = client.post(f"{url}/zero-report", follow_redirects=True)
        assert REFUSED in refused.get_data(as_text=True)
    week = db.session.scalar(select(WeeklyReport))
    assert week.zero_report is False
    assert _count(WeeklyReport) == 1

    # A note after the concern: the page names both, not the concern alone.
    assert client.post(f"{url}/weekly-report", data={"note": NOTE}).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "the note below and the concern report filed this week" in page
    assert NOTE in page


def test_a_concern_after_all_is_well_stands_and_the_week_reads_as_a_concern(network, login):
    reporter, url = _unit(network, "room")
    client = login(reporter)
    assert client.post(f"{url}/zero-report").status_code == 302
    assert _concern(client, url, network.student.id).status_code == 302
    report = db.session.scalar(select(WeeklyReport))
    concern = db.session.scalar(select(ConcernReport))
    assert concern.weekly_report_id == report.id  # one week, one report, with the concern
    assert "a concern report was filed after it" in client.get(url).get_data(as_text=True)

    client.get("/logout")
    page = login(network.dept_counsellor).get("/warnings/weekly-reports").get_data(as_text=True)
    row = page.split(network.room.label)[1].split("</tr>")[0]
    assert "Concern reported" in row
    assert "All was well when first reported; a concern report was filed after it." in row
    assert network.student.name in row  # whom it was about, for the counsellor's follow-up
    assert "Says she does not want to live" not in page  # the peer's words stay on the record


def test_a_note_can_follow_a_concern_in_the_same_week(network, login):
    reporter, url = _unit(network, "room")
    client = login(reporter)
    _concern(client, url, network.student.id, category="withdrawal")
    assert client.post(f"{url}/weekly-report", data={"note": NOTE}).status_code == 302
    assert db.session.scalar(select(WeeklyReport.note)) == NOTE
    told = select(Notification.user_id).where(Notification.digest_key.like("weekly_note:%"))
    assert db.session.scalars(told).all() == [network.dept_counsellor.id]  # the note, told
    again = client.post(f"{url}/weekly-report", data={"note": "again"}, follow_redirects=True)
    assert "already been filed" in again.get_data(as_text=True)
    assert db.session.scalar(select(WeeklyReport.note)) == NOTE


def test_a_note_can_follow_all_is_well_and_the_week_reads_as_a_note_everywhere(network, login):
    """Before: after "all is well" the informant could add nothing to the week. The note makes
    it a note report: the reporter's page, the student's record and the department read it."""
    reporter, url = _unit(network, "room")
    client = login(reporter)
    assert client.post(f"{url}/zero-report").status_code == 302
    assert "Add the note" in client.get(url).get_data(as_text=True)
    note = {"note": NOTE, "students": [network.student.id]}
    assert client.post(f"{url}/weekly-report", data=note).status_code == 302
    week = db.session.scalar(select(WeeklyReport))
    assert (week.zero_report, week.note, _count(WeeklyReport)) == (False, NOTE, 1)
    assert db.session.scalar(select(Signal.evidence_id)) == week.id  # on the student's record
    page = client.get(url).get_data(as_text=True)
    assert "(All is well)" not in page
    assert "Add the note" not in page
    assert page.count(NOTE) == 2  # this week's report and the list of what was filed
    again = client.post(f"{url}/weekly-report", data={"note": "again"}, follow_redirects=True)
    assert "already been filed" in again.get_data(as_text=True)
    read = login(network.dept_counsellor).get("/warnings/weekly-reports").get_data(as_text=True)
    row = read.split(network.room.label)[1].split("</tr>")[0]
    assert "Note filed" in row
    assert NOTE in row


def test_the_department_reads_when_a_report_was_last_added_to_not_only_its_first_time(
    network, login
):
    """The list showed a class's "all is well" time (05:42) though a note (05:47) and a concern
    (05:48) came after it: it reads "filed 05:42, added to 05:48"."""
    reporter, url = _unit(network, "class")
    client = login(reporter)
    assert client.post(f"{url}/zero-report").status_code == 302  # 10:00 in Beijing
    clock.advance(timedelta(minutes=5))
    assert client.post(f"{url}/weekly-report", data={"note": NOTE}).status_code == 302
    clock.advance(timedelta(minutes=1))
    _concern(client, url, network.student.id)
    read = login(network.dept_counsellor).get("/warnings/weekly-reports").get_data(as_text=True)
    row = read.split(network.group.name)[1].split("</tr>")[0]
    filed = row.split('data-label="Filed by">', 1)[1].split("</td>", 1)[0]
    assert re.sub(r"<[^>]+>", "", filed).endswith("filed Mon 14 Sep 10:00, added to 10:06")


def test_the_counsellor_reads_her_departments_reports_with_a_note_naming_no_one(network, login):
    reporter, url = _unit(network, "room")
    filed = login(reporter).post(f"{url}/weekly-report", data={"note": NOTE}, follow_redirects=True)
    assert "the counsellors responsible are told there is a note to read" in filed.get_data(True)
    login(network.class_committee)  # the class files nothing: its past weeks are missing
    counsellor = network.dept_counsellor
    client = login(counsellor)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/warnings/weekly-reports"' in home  # in her menu

    page = client.get("/warnings/weekly-reports").get_data(as_text=True)
    assert NOTE in page
    assert "The note names no one" in page
    assert reporter.name in page  # who filed it
    assert "Missing" in page  # the class's earlier weeks
    assert "No report was filed for that week." in page
    # This week's is not late: folded below the note, not a row above it.
    assert "Not in yet: 1 class or room (due by the end of the week)" in page
    assert page.index(NOTE) < page.index("Not in yet: 1 class")
    unit_page = client.get(f"/warnings/weekly-reports/room/{network.room.id}")
    assert unit_page.status_code == 200
    assert NOTE in unit_page.get_data(as_text=True)
    read = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.actor_id == counsellor.id, AuditEvent.action == "weekly_reports"
        )
    ).all()
    assert {a.record_type for a in read} == {"weekly_report"}
    assert len(read) == 2  # the list and the room's page


def test_a_note_tells_the_rooms_departments_counsellors_once_with_no_words_leaving_the_app(
    network, login, campus
):
    """A room is every department's whose students live in it; a note reaches their counsellors'
    inboxes as a day's digest linking to the room's week, never its words or who filed it, and
    neither mail nor a chat robot carries more than that something is new."""
    physics = campus.department(network.institution, "Physics")
    physics_counsellor = campus.staff(network.institution, Role.DEPT_COUNSELLOR, department=physics)
    campus.student(campus.class_group(physics, "PH-2026-1"), network.room, name="王五")
    db.session.add(
        NotificationChannel(
            institution_id=network.institution.id,
            kind="wecom",
            role=Role.DEPT_COUNSELLOR,
            label="wecom",
            target_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
        )
    )
    campus.commit()
    reporter, url = _unit(network, "room")
    login(network.class_committee).post(f"/warnings/units/class/{network.group.id}/zero-report")
    assert _count(Notification) == 0  # all is well: nothing to tell
    client = login(reporter)
    assert client.post(f"{url}/weekly-report", data={"note": NOTE}).status_code == 302
    again = client.post(f"{url}/weekly-report", data={"note": NOTE}, follow_redirects=True)
    assert "already been filed" in again.get_data(as_text=True)

    told = db.session.scalars(select(Notification)).all()
    assert sorted(n.user_id for n in told) == sorted(
        [network.dept_counsellor.id, physics_counsellor.id]
    )  # not History's, whose students live elsewhere; once, though the form was sent twice
    assert all(len(n.detail["items"]) == 1 and not n.urgent for n in told)
    assert _count(Signal) == 0  # a note is not a warning: nothing on any student's record
    sent = db.session.scalars(select(OutboxMail)).all()
    assert [m.recipient for m in sent if m.channel_id is None] == ["counsellor@xju.test"]
    assert any(m.channel_id is not None for m in sent)
    for text in [m.body for m in sent] + [m.subject for m in sent]:
        for secret in (NOTE, reporter.name, network.room.label):
            assert secret not in text

    inbox = login(network.dept_counsellor).get("/inbox/").get_data(as_text=True)
    week = db.session.scalar(select(WeeklyReport.week_start)).isoformat()
    link = f"/warnings/weekly-reports/room/{network.room.id}?week={week}"
    assert f'href="{link}"' in inbox
    assert network.room.label in inbox
    assert NOTE not in inbox
    assert reporter.name not in inbox
    assert NOTE in login(physics_counsellor).get(link).get_data(as_text=True)


def test_a_note_naming_a_roommate_of_another_department_says_so_not_names_no_one(
    network, login, campus
):
    """Before: a room shared by two departments, its note naming a History student read "names
    no one" to the Computing counsellor, who may not see that student."""
    roommate = campus.student(network.other_student.class_group, network.room, name="孙玉萍")
    campus.commit()
    reporter, url = _unit(network, "room")
    note = {"note": NOTE, "students": [roommate.id]}
    assert login(reporter).post(f"{url}/weekly-report", data=note).status_code == 302
    mine = login(network.dept_counsellor).get("/warnings/weekly-reports").get_data(as_text=True)
    assert NOTE in mine
    assert "The note names 1 student outside your reach." in mine
    assert "The note names no one" not in mine
    assert "孙玉萍" not in mine
    theirs = login(network.other_counsellor).get("/warnings/weekly-reports").get_data(as_text=True)
    assert "孙玉萍" in theirs
    assert "outside your reach" not in theirs


def test_the_weeks_go_back_to_the_first_week_live_and_no_further(network, login):
    """Before: ?week=1900-01-01 paged into empty weeks back to 1899, each saying "no reports
    were owed or filed this week"."""
    client = login(network.other_counsellor)  # History: a class, but no reporter in it
    page = client.get("/warnings/weekly-reports").get_data(as_text=True)
    assert "No reports were owed or filed this week." in page  # this week
    assert "No reports were owed or filed that week." in page  # the weeks before it
    for asked in ("1900-01-01", "2026-08-26"):
        page = client.get(f"/warnings/weekly-reports?week={asked}").get_data(as_text=True)
        # The first week live (tests.factories.TERM_START), named by its first day, and none before.
        assert 'Week beginning <time datetime="2026-08-24">Monday 24 August</time>' in page
        assert 'id="week-2026-08-17"' not in page
        assert "Earlier weeks" not in page
        assert "Later weeks" in page

    # This week's heading: a Western bracket after a space, a Chinese one with none before it.
    assert '</time> <span class="muted">(this week)</span>' in client.get(
        "/warnings/weekly-reports"
    ).get_data(as_text=True)
    network.other_counsellor.locale = "zh_CN"
    db.session.commit()
    chinese = client.get("/warnings/weekly-reports").get_data(as_text=True)
    assert '起的一周<span class="muted">（本周）</span>' in chinese


def test_another_departments_units_are_not_found_and_not_listed(network, login):
    reporter, url = _unit(network, "room")
    login(reporter).post(f"{url}/weekly-report", data={"note": NOTE})
    other = login(network.other_counsellor)
    assert NOTE not in other.get("/warnings/weekly-reports").get_data(as_text=True)
    for path in (
        f"/warnings/weekly-reports/room/{network.room.id}",
        f"/warnings/weekly-reports/class/{network.group.id}",
        "/warnings/weekly-reports/class/999999",
    ):
        assert other.get(path).status_code == 404
    denied = db.session.scalars(
        select(AuditEvent.outcome).where(
            AuditEvent.actor_id == network.other_counsellor.id,
            AuditEvent.action == "weekly_reports",
            AuditEvent.outcome != "ok",
        )
    ).all()
    assert len(denied) == 3


def test_the_school_centre_reads_every_department(network, login):
    reporter, url = _unit(network, "room")
    login(reporter).post(f"{url}/weekly-report", data={"note": NOTE})
    page = login(network.school_counsellor).get("/warnings/weekly-reports")
    assert NOTE in page.get_data(as_text=True)
    assert login(network.dorm_informant).get("/warnings/weekly-reports").status_code == 403


def test_the_page_reads_in_the_same_queries_however_many_concerns_and_rooms(
    network, login, campus, count_queries
):
    """No statement per row: a department with forty rooms reads as one with four."""
    reporter, url = _unit(network, "room")
    client = login(reporter)
    _concern(client, url, network.student.id, category="isolation")
    counsellor = login(network.dept_counsellor)
    counsellor.get("/warnings/weekly-reports")  # the first read loads what every read shares
    with count_queries() as before:
        counsellor.get("/warnings/weekly-reports")
    for n in range(3):
        roommate = campus.student(network.group, network.room, name=f"王{n}")
        room = campus.room(network.institution, f"3{n}1")
        campus.student(network.group, room)
        informant = campus.staff(network.institution, Role.DORM_INFORMANT, room=room)
        campus.commit()
        _concern(login(reporter), url, roommate.id, category="isolation")
        login(informant).post(f"/warnings/units/room/{room.id}/weekly-report", data={"note": n})
    counsellor = login(network.dept_counsellor)
    counsellor.get("/warnings/weekly-reports")
    with count_queries() as after:
        page = counsellor.get("/warnings/weekly-reports").get_data(as_text=True)
    assert "王2" in page
    assert after.count == before.count
