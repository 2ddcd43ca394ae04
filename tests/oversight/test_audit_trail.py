"""The audit trail page: an administrator reads who read or changed their institution's records,
narrowed to a student, a person, refusals or some days; the reading is itself audited."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import select

from campus import audit
from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role


@pytest.fixture
def trail(campus):
    """Reads of two students of XJU by its counsellor, one refused, and a read at HNU."""
    xju, hnu = campus.institution("XJU"), campus.institution("HNU")
    department = campus.department(xju)
    group = campus.class_group(department)
    li = campus.student(group, name="Li Hua")
    wang = campus.student(group, name="Wang Fang")
    elsewhere = campus.student(campus.class_group(campus.department(hnu)), name="Zhao Lei")
    admin = campus.staff(xju, Role.ADMIN, login="boss")
    counsellor = campus.staff(xju, Role.DEPT_COUNSELLOR, login="t01", department=department)
    campus.commit()
    clock.set_now(datetime(2026, 9, 13, 15, 30))  # 23:30 in Beijing, 13 September
    audit.record(
        db.session, actor=counsellor, action="read_warning", record_type="warning",
        record_id=7, student_id=li.id, institution_id=xju.id,
    )  # fmt: skip
    clock.set_now(datetime(2026, 9, 13, 16, 30))  # 00:30 in Beijing, 14 September
    audit.record(
        db.session, actor=counsellor, action="read_warning", record_type="warning",
        record_id=8, student_id=wang.id, institution_id=xju.id, outcome="denied",
    )  # fmt: skip
    audit.record(
        db.session, actor=None, action="read_warning", record_type="warning",
        record_id=9, student_id=elsewhere.id, institution_id=hnu.id,
    )  # fmt: skip
    db.session.commit()
    return admin, counsellor, li, wang, elsewhere


def _rows(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return body.split("<tr>")[1:]


def test_the_administrator_reads_their_institutions_trail_newest_first(trail, login):
    admin, _counsellor, li, wang, elsewhere = trail
    page = login(admin).get("/admin/audit").get_data(as_text=True)
    about_students = [row for row in _rows(page) if li.name in row or wang.name in row]
    assert len(about_students) == 2
    refused, read = about_students
    assert wang.name in refused
    assert "refused" in refused
    assert li.name in read
    assert "refused" not in read
    assert elsewhere.name not in page


def test_narrowed_to_one_student_one_person_refusals_or_local_days(trail, login):
    admin, counsellor, li, wang, _elsewhere = trail
    client = login(admin)

    def names(**args) -> list[str]:
        rows = _rows(client.get("/admin/audit", query_string=args).get_data(as_text=True))
        return [n for row in rows for n in (li.name, wang.name) if n in row]

    assert names(student_number=li.student_number) == [li.name]
    assert names(login="t01") == [wang.name, li.name]
    assert names(denied="y") == [wang.name]
    # Days are the institution's: 00:30 on the 14th in Beijing is 16:30 UTC on the 13th.
    assert names(day_from="2026-09-14") == [wang.name]
    assert names(day_to="2026-09-13") == [li.name]


def test_reading_the_trail_is_audited_with_the_filter_asked(trail, login):
    admin, _counsellor, li, _wang, _elsewhere = trail
    login(admin).get("/admin/audit", query_string={"student_number": li.student_number})
    read = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "read_audit_trail"))
    assert read.actor_id == admin.id
    assert f"student={li.student_number}" in read.detail


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"student_number": "NOPE-1"}, "No student of this institution has that student number."),
        ({"login": "nobody"}, "No account of this institution has that login."),
        ({"day_from": "2026-09-14", "day_to": "2026-09-01"}, "The last day cannot be before"),
        ({"day_from": "14/09/2026"}, "Give the date as year-month-day, e.g. 2026-09-01."),
    ],
)
def test_a_filter_that_names_nobody_or_a_bad_date_is_refused_and_not_read(
    trail, login, args, message
):
    admin = trail[0]
    response = login(admin).get("/admin/audit", query_string=args)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert "<tbody>" not in response.get_data(as_text=True)
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "read_audit_trail")) is None
    )


def test_another_institutions_student_is_nobody_here(trail, login):
    admin, *_rest, elsewhere = trail
    response = login(admin).get(
        "/admin/audit", query_string={"student_number": elsewhere.student_number}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.SCHOOL_COUNSELLOR, Role.DEPT_COUNSELLOR])
def test_only_an_administrator_opens_the_trail(campus, trail, login, role):
    someone = campus.staff(trail[1].institution, role)
    campus.commit()
    assert login(someone).get("/admin/audit").status_code == 403


def test_each_action_reads_as_words_in_the_readers_language(trail, login):
    """Before, the column showed codes (read_warning, sign_in) an administrator had to decode."""
    admin, counsellor, li, _wang, _elsewhere = trail
    audit.record(
        db.session, actor=counsellor, action="someday_new_code", record_type="warning",
        student_id=li.id, institution_id=li.institution_id,
    )  # fmt: skip
    db.session.commit()
    client = login(admin)
    rows = _rows(client.get("/admin/audit").get_data(as_text=True))
    about_li = [row for row in rows if li.name in row]
    assert "someday_new_code" in about_li[0]  # an action without words shows its code
    assert 'title="read_warning">Viewed a warning<' in about_li[1]
    assert "<code>read_warning</code>" not in "".join(rows)
    admin.locale = "zh_CN"
    db.session.commit()
    rows = _rows(login(admin).get("/admin/audit").get_data(as_text=True))
    assert any(">查看预警<" in row for row in rows)
    assert any(">查看审计日志<" in row for row in rows)  # the read before this one


def test_narrowed_to_one_action_chosen_by_its_words(trail, login):
    admin, _counsellor, li, wang, _elsewhere = trail
    client = login(admin)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert '<option value="read_warning">Viewed a warning</option>' in page
    assert '<option value="break_glass">Emergency access (break-glass)</option>' in page
    # ~180 actions grouped by domain, "All actions" first and in no group.
    first = '<option value="">All actions</option><optgroup label="Student files and records">'
    assert first in page
    groups = dict(re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', page))
    assert len(groups) == 12
    assert 'value="read_warning"' in groups["Warnings and response"]
    assert 'value="break_glass"' in groups["Student files and records"]

    def names(action: str) -> list[str]:
        body = client.get("/admin/audit", query_string={"action": action}).get_data(as_text=True)
        return [n for row in _rows(body) for n in (li.name, wang.name) if n in row]

    assert names("read_warning") == [wang.name, li.name]
    assert names("break_glass") == []
    read = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "read_audit_trail")
    ).all()[-1]
    assert "action=break_glass" in read.detail
    # A code from a shared link that has no words yet still filters, and is offered as itself.
    body = client.get("/admin/audit", query_string={"action": "read_warning_v0"}).get_data(True)
    assert '<option selected value="read_warning_v0">read_warning_v0</option>' in body
    assert _rows(body) == []


def test_a_wording_shared_by_several_actions_is_offered_once_and_finds_them_all(trail, login):
    """Before: "调整预警级别" was offered three times (the student read for an override, the
    override, a level change) and "记录生活事件" twice; each option found only its own code's
    rows, so an administrator who picked the first "调整预警级别" missed every override."""
    admin, counsellor, li, wang, _elsewhere = trail
    for action, student in (("override", li), ("override_level", wang)):
        audit.record(
            db.session, actor=counsellor, action=action, record_type="warning",
            student_id=student.id, institution_id=student.institution_id,
        )  # fmt: skip
    admin.locale = "zh_CN"
    db.session.commit()
    client = login(admin)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert page.count(">调整预警级别</option>") == 1
    assert page.count(">记录生活事件</option>") == 1
    body = client.get("/admin/audit", query_string={"action": "override"}).get_data(as_text=True)
    found = [n for row in _rows(body) for n in (li.name, wang.name) if n in row]
    assert found == [wang.name, li.name]
    # A link naming the other code of the wording keeps it chosen and finds the same rows.
    body = client.get("/admin/audit", query_string={"action": "override_level"}).get_data(True)
    assert '<option selected value="override_level">调整预警级别</option>' in body
    assert len(_rows(body)) == 2


def test_each_kind_of_record_reads_as_words_in_the_readers_language(trail, login):
    """Before, the Record column showed codes (warning 7, oversight.drill-unscreened)."""
    admin, counsellor, li, _wang, _elsewhere = trail
    for record_type in ("someday_new_record", "oversight.drill-unscreened", "oversight.red"):
        audit.record(
            db.session, actor=counsellor, action="read", record_type=record_type,
            student_id=li.id, institution_id=li.institution_id,
        )  # fmt: skip
    audit.record(
        db.session, actor=admin, action="export", record_type="oversight.screening-department",
        institution_id=li.institution_id,
    )  # fmt: skip
    db.session.commit()
    rows = _rows(login(admin).get("/admin/audit").get_data(as_text=True))
    page = "".join(rows)
    # The kind in words with its code as the tooltip, the record's number beside it.
    assert 'title="warning">Warning</span> <span class="muted">#7</span>' in page
    assert 'title="oversight.drill-unscreened">Students not yet screened<' in page
    assert 'title="oversight.red">Students with a red warning<' in page
    assert 'title="oversight.screening-department">Screening coverage, by department<' in page
    assert 'title="audit_event">Audit trail<' in page  # the trail's own read
    assert "<code>someday_new_record</code>" in page  # a kind without words shows its code
    assert "<code>warning" not in page
    admin.locale = "zh_CN"
    db.session.commit()
    page = "".join(_rows(login(admin).get("/admin/audit").get_data(as_text=True)))
    assert 'title="warning">预警<' in page
    assert 'title="oversight.screening-department">筛查覆盖率（按院系）<' in page


def test_every_outcome_is_worded_and_a_second_step_pending_is_not_english(trail, login):
    """Found by an administrator: a sign-in waiting for its second step read 「pending」 in the
    Chinese trail's outcome column."""
    admin, counsellor, *_ = trail
    audit.record(
        db.session, actor=counsellor, action="sign_in", record_type="user",
        record_id=counsellor.id, institution_id=counsellor.institution_id, outcome="pending",
    )  # fmt: skip
    db.session.commit()
    admin.locale = "zh_CN"
    db.session.commit()
    page = login(admin).get("/admin/audit").get_data(as_text=True)
    pending = next(row for row in _rows(page) if "登录" in row and counsellor.name in row)
    assert "等待第二步验证" in pending
    assert "pending" not in pending


def test_a_students_warning_page_read_is_not_numbered_as_a_warning(campus, login):
    """Found by an administrator: the same warning read 「预警 #4」 on views and 「预警 #1」 on
    actions. The view was filed as a "warning" with the student's id (4); the actions with the
    warning's (1). The view now reads as the student's warning page, its number left to the
    student column."""
    inst = campus.institution("XJU")
    department = campus.department(inst)
    for _ in range(3):  # the student's id differs from the warning's
        campus.student(campus.class_group(department))
    student = campus.student(campus.class_group(department), name="Wang Fang")
    admin = campus.staff(inst, Role.ADMIN)
    counsellor = campus.staff(inst, Role.DEPT_COUNSELLOR, department=department)
    campus.commit()
    client = login(counsellor)
    assert client.get(f"/warnings/students/{student.id}").status_code == 200
    client.post("/logout")
    page = login(admin).get("/admin/audit").get_data(as_text=True)
    (read,) = [row for row in _rows(page) if "Wang Fang" in row]
    assert "Student&#39;s warning page" in read
    assert f"#{student.id}" not in read
