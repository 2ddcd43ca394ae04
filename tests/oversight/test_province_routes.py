"""A province auditor, walking every route of the app, reaches no student.

Every rule in the URL map is requested with its parameters filled by the ids of real objects of
the two-university `world` (students, warnings, referrals, campaigns, ...). Only the pages that
hold no student data may answer; every other one must refuse (403) or not find (404), and no
response body, whatever its status, may carry a student's name or number.
"""

from __future__ import annotations

import io
import itertools

import openpyxl
from sqlalchemy import select

from campus.extensions import db
from campus.models import AccessReview
from campus.models import ClassGroup
from campus.models import Department
from campus.models import DormRoom
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from oversight import drill
from oversight import kpis
from privacy.models import ConsentScope
from referrals.models import LeaveOfAbsence
from referrals.models import Referral
from referrals.models import ReturnPlanItem
from screening.models import Campaign
from screening.models import CampaignAssignment
from warning.models import EarlyWarning
from warning.models import PolicyVersion
from warning.models import Task

# Pages about the auditor themselves or aggregates only.
MAY_ANSWER = {
    "static",
    "campus.login",
    "campus.home",
    "campus.change_password",
    "account.index",  # their own account: name and number, nothing of a student
    # Sign-in's second step (back to sign-in when none waits) and their own two-factor set-up.
    "second_step.code",
    "second_step.enrol",
    "second_step.cancel",
    "two_factor.index",
    "two_factor.recovery_codes",
    "two_factor.regenerate",
    "campus.set_language",
    "inbox.index",
    "inbox.read_all",
    "response.tasks",
    "oversight.province",
    "oversight.province_export",
    "health.healthz",  # public database probe: says "ok", names no one
    # public pages of a first sign-in and a forgotten password: forms, naming no one
    "first_sign_in.index",
    "password_reset.index",
    "password_reset.choose",
}
# Signing out would end the crawl; it shows nothing.
SKIP = {"campus.logout"}
MAX_COMBINATIONS = 40


def _ids(model) -> list[int]:
    return db.session.scalars(select(model.id)).all() or [1]


def _candidates() -> dict[str, list[object]]:
    return {
        "student_id": _ids(Student),
        "warning_id": _ids(EarlyWarning),
        "referral_id": _ids(Referral),
        "campaign_id": _ids(Campaign),
        "department_id": _ids(Department),
        "review_id": _ids(AccessReview),
        "assignment_id": sorted(set(_ids(CampaignAssignment)) | set(_ids(RoleAssignment))),
        "user_id": db.session.scalars(select(Student.user_id)).all(),
        "leave_id": _ids(LeaveOfAbsence),
        "item_id": _ids(ReturnPlanItem),
        "task_id": _ids(Task),
        "version_id": _ids(PolicyVersion),
        "note_id": [1, 2],
        "channel_id": [1, 2],
        "entry_id": [1, 2],
        "record_id": [1, 2],
        "document_id": [1, 2],
        "follow_up_id": [1, 2],
        "unit_id": sorted(set(_ids(ClassGroup)) | set(_ids(DormRoom))),
        "kind": ["class", "room"],
        "code": ["phq9"],
        "lang": ["en", "zh_CN"],
        "name": ["acknowledge", "contact"],
        "which": list(drill.LISTS),
        "fmt": ["csv", "xlsx"],
        "kpi_key": [kpi.key for kpi in kpis.KPIS],
        "filename": ["app.css"],
        "token": ["not-a-reset-token"],
        # Counselling appointments and the data's life (issues #18, #19).
        "counsellor_id": _ids(User),
        "appointment_id": [1, 2],
        "slot_id": [1, 2],
        "precheck_id": [1, 2],
        "template_id": [1, 2],
        "exception_id": [1, 2],
        "break_id": [1, 2],
        "shift_id": [1, 2],
        "request_id": [1, 2],
        "hold_id": [1, 2],
        "withdrawal_id": [1, 2],
        "scope_name": [scope.value for scope in ConsentScope],
    }


def _text(response) -> str:
    """The body as text; a workbook's cells joined (its bytes are zipped)."""
    if response.mimetype.endswith("spreadsheetml.sheet"):
        book = openpyxl.load_workbook(io.BytesIO(response.data))
        return " ".join(str(c) for s in book for row in s.iter_rows(values_only=True) for c in row)
    return response.get_data(as_text=True)


def _urls(rule, candidates) -> list[str]:
    names = sorted(rule.arguments)
    for name in names:
        assert name in candidates, f"{rule.endpoint}: no candidates for URL parameter {name!r}"
    combos = itertools.product(*(candidates[n] for n in names))
    return [
        rule.build(dict(zip(names, combo, strict=True)), append_unknown=False)[1]
        for combo in itertools.islice(combos, MAX_COMBINATIONS)
    ]


def test_province_auditor_reaches_no_student_page_export_or_identity(world, app, login):
    client = login(world.province)
    students = db.session.execute(select(Student.name, Student.student_number)).all()
    identities = [value for row in students for value in row]
    candidates = _candidates()
    answered, refused = set(), set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP:
            continue
        method = "GET" if "GET" in rule.methods else "POST"
        for url in _urls(rule, candidates):
            # Closed at once: a static file's response holds the file open until then.
            with client.open(
                url, method=method, query_string={"month_from": "2026-09"}
            ) as response:
                body = _text(response)
            leaked = [value for value in identities if value in body]
            assert not leaked, f"{method} {url} shows {leaked}"
            if rule.endpoint in MAY_ANSWER:
                answered.add(rule.endpoint)
                continue
            assert response.status_code in (403, 404), f"{method} {url}: {response.status_code}"
            refused.add(rule.endpoint)
    assert {"oversight.province", "oversight.province_export"} <= answered
    assert {"oversight.drill", "oversight.drill_export", "warning.student"} <= refused
