"""Stored XSS renders escaped, unknown sort/filter parameters never reach SQL, exports are inert."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from campus.extensions import db
from campus.models import ClassGroup
from campus.models import Department
from campus.models import Role
from campus.models import Student
from campus.models import User
from campus.notifications import Notification
from referrals.models import LeaveOfAbsence
from referrals.models import Referral
from screening.models import Campaign
from tests.conftest import sign_in
from tests.security.crawl import crawl
from tests.security.crawl import start_urls
from warning.models import ConcernReport
from warning.models import EarlyWarning
from warning.models import Task
from warning.models import WarningEvent

PAYLOADS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
FORMULA_STARTS = ("=", "+", "-", "@")


def _store_payloads(world) -> None:
    """Every free-text field a person can type into, with one of the two payloads."""
    session = db.session
    student = session.get(Student, world.ids["student_id"])
    warning = session.get(EarlyWarning, world.ids["warning_id"])
    fields = [
        (student, "name"),
        (student, "guardian_name"),
        (session.get(Department, student.department_id), "name"),
        (session.get(ClassGroup, student.class_id), "name"),
        (session.get(User, world.ids["user_id"]), "name"),
        (session.get(Campaign, world.ids["campaign_id"]), "name"),
        (warning, "reason"),
        (warning, "override_reason"),
        (session.get(Task, world.ids["task_id"]), "text"),
        (session.get(Referral, world.ids["referral_id"]), "reason"),
        (session.get(Referral, world.ids["referral_id"]), "internal_note"),
        (session.get(LeaveOfAbsence, world.ids["leave_id"]), "statement_summary"),
        (session.get(Notification, world.ids["note_id"]), "text"),
    ]
    for n, (obj, name) in enumerate(fields):
        setattr(obj, name, PAYLOADS[n % 2])
    for event in warning.events:
        event.note = PAYLOADS[0]
    session.add(
        ConcernReport(
            institution_id=student.institution_id,
            student_id=student.id,
            category="low_mood",
            text=PAYLOADS[1],
            filed_by_id=world.users[Role.CLASS_COMMITTEE].id,
            via="class",
        )
    )
    session.add(WarningEvent(warning_id=warning.id, kind="contact", note=PAYLOADS[1]))
    session.commit()


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_stored_script_payloads_render_escaped_for_every_role(app, client, world, role):
    _store_payloads(world)
    sign_in(client, world.users[role])
    raw = [
        (page.url, payload)
        for page in crawl(client, start_urls(app, role, world.ids))
        if page.content_type.startswith("text/html")
        for payload in PAYLOADS
        if payload in page.text
    ]
    assert not raw, f"unescaped payload for {role.value}: {raw}"


HOSTILE_QUERY = (
    "sort=name%3BDROP+TABLE+student--&order=desc%27&dir=sideways&level=abc&department=-1"
    "&status=%27+OR+1%3D1--&page=99999999999999999999&per_page=-5&month=2026-13&by=nonsense"
    "&q=%25%27%22"
)


@pytest.mark.parametrize(
    "role", [Role.ADMIN, Role.DIRECTOR, Role.SCHOOL_COUNSELLOR, Role.DEPT_COUNSELLOR]
)
def test_unknown_sort_and_filter_parameters_never_reach_the_database(app, client, world, role):
    sign_in(client, world.users[role])
    broken = [
        (page.url, page.status)
        for page in crawl(client, start_urls(app, role, world.ids), suffix=HOSTILE_QUERY)
        if page.status >= 500 or "Traceback" in page.text or "sqlalchemy" in page.text.lower()
    ]
    assert not broken, f"hostile query parameters broke: {broken}"


def _cells_csv(body: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for cell in row]


def _cells_xlsx(body: bytes) -> list[str]:
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    return [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_neutralise_formulas_in_names(app, client, world, fmt):
    session = db.session
    student = session.get(Student, world.ids["student_id"])
    student.name = '=HYPERLINK("http://evil.example","x")'
    session.get(Department, student.department_id).name = "+cmd|' /C calc'!A0"
    session.commit()
    sign_in(client, world.users[Role.ADMIN])
    urls = [f"/oversight/drill/{which}.{fmt}" for which in ("warned", "red", "unscreened")]
    urls += [f"/oversight/export/screening.{fmt}?by=department", f"/referrals/closure/export.{fmt}"]
    cells = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        cells += _cells_csv(response.data) if fmt == "csv" else _cells_xlsx(response.data)
    assert any("HYPERLINK" in c for c in cells) or any("cmd|" in c for c in cells)
    dangerous = [c for c in cells if c.startswith(FORMULA_STARTS)]
    assert not dangerous, dangerous
