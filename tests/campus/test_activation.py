"""Activation slips (issue #16 section 3): codes issued by cohort, printed once, hashed, expiring,
used once; the first sign-in with a code leads to choosing a password."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import activation
from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import ActivationBatch
from campus.models import ActivationCode
from campus.models import Role
from campus.models import UserSession

CODE = re.compile(r'class="code">([A-Z0-9-]{14})<')


@pytest.fixture
def school(campus):
    """A university with a freshman class of three students who have never signed in, one who
    has a password already, and a class of another department."""
    inst = campus.institution("XJU")
    computing = campus.department(inst, "Computing")
    history = campus.department(inst, "History")
    freshmen = campus.class_group(computing, "CS2601", grade=2026)
    other = campus.class_group(history, "HI2601", grade=2026)
    new = [campus.student(freshmen, number=f"20260{i}") for i in range(1, 4)]
    for student in new:
        student.user.password_hash = None
        student.user.must_change_password = True
    returning = campus.student(freshmen, number="2026099")
    stranger = campus.student(other, number="2026501")
    stranger.user.password_hash = None
    admin = campus.staff(inst, Role.ADMIN, login="admin")
    counsellor = campus.staff(inst, Role.DEPT_COUNSELLOR, login="dc01", department=computing)
    campus.commit()
    return {
        "freshmen": freshmen,
        "other": other,
        "new": new,
        "returning": returning,
        "stranger": stranger,
        "admin": admin,
        "counsellor": counsellor,
    }


def _class_token(group) -> str:
    return f"class:{group.department.institution_id}:{group.department_id}:{group.id}:{group.grade}"


def _issue(client, group, days: int = 14, submission: str | None = None):
    return _post(client, {"cohort": _class_token(group), "valid_days": days}, submission)


def _post(client, data: dict, submission: str | None = None):
    """The issuing form as a fresh page sends it, with its own one-time token."""
    return client.post("/activation", data={**data, "submission": submission or uuid.uuid4().hex})


def _codes(response) -> dict[str, str]:
    """Student number -> code, read off the print page."""
    page = response.get_data(as_text=True)
    slips = page.split('<article class="slip">')[1:]
    found = {}
    for slip in slips:
        number = re.search(r"<dd>(\d{6,})</dd>", slip).group(1)
        found[number] = CODE.search(slip).group(1)
    return found


def _activate(client, login: str, code: str):
    return client.post("/activate", data={"institution": "XJU", "login": login, "code": code})


def test_admin_prints_one_slip_per_student_without_a_password_and_the_codes_once(
    login, school, app
):
    client = login(school["admin"])
    response = _issue(client, school["freshmen"])
    assert response.status_code == 200
    codes = _codes(response)
    assert set(codes) == {"202601", "202602", "202603"}  # not the one with a password
    page = response.get_data(as_text=True)
    for code in codes.values():
        assert page.count(code) == 1
    assert "Left out, because they already have a password: 1." in page
    assert "Valid through" in page
    assert "2026-09-28" in page
    assert "http://localhost/activate" in page
    assert "XJU" in page
    # Kept only hashed; never in the audit trail; not shown again.
    stored = db.session.scalars(select(ActivationCode.code_hash)).all()
    assert len(stored) == 3
    assert all(h.startswith("$argon2id$") for h in stored)
    for code in codes.values():
        assert not any(code in h or code.replace("-", "") in h for h in stored)
    details = " ".join(r.detail or "" for r in db.session.scalars(select(AuditEvent)))
    assert not any(code.replace("-", "") in details.replace("-", "") for code in codes.values())
    later = client.get("/activation").get_data(as_text=True)
    assert not any(code in later for code in codes.values())
    assert "Codes cannot be shown again" in later
    batch = db.session.scalar(select(ActivationBatch))
    assert (batch.issued_count, batch.skipped_count, batch.valid_days) == (3, 1, 14)
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "issue_activation_codes"))
    assert row.actor_id == school["admin"].id
    assert row.record_id == str(batch.id)


def test_a_code_signs_the_student_in_once_straight_into_choosing_a_password(app, login, school):
    codes = _codes(_issue(login(school["admin"]), school["freshmen"]))
    student = app.test_client()
    response = _activate(student, "202601", codes["202601"].lower().replace("-", " "))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/password")
    assert student.get("/").headers["Location"].endswith("/password")
    page = student.get("/password").get_data(as_text=True)
    assert "Current password" not in page
    done = student.post("/password", data={"new": "my-own-secret-1", "confirm": "my-own-secret-1"})
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/")
    assert "Your password is set." in student.get("/").get_data(as_text=True)
    # The code is spent: a second use fails, and the chosen password is the way in now.
    again = _activate(app.test_client(), "202601", codes["202601"])
    assert again.status_code == 401
    assert "此激活码已使用过" in again.get_data(as_text=True)  # a visitor reads Chinese
    fresh = app.test_client()
    assert (
        fresh.post(
            "/login", data={"institution": "XJU", "login": "202601", "password": "my-own-secret-1"}
        ).status_code
        == 302
    )


def test_no_code_signs_in_where_the_institution_uses_its_campus_sign_on_only(app, login, school):
    codes = _codes(_issue(login(school["admin"]), school["freshmen"]))
    school["admin"].institution.local_passwords = False
    db.session.commit()
    refused = _activate(app.test_client(), "202601", codes["202601"])
    assert refused.status_code == 401
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1  # the admin's


def test_a_code_is_spent_at_sign_in_even_if_no_password_was_chosen(app, login, school):
    codes = _codes(_issue(login(school["admin"]), school["freshmen"]))
    assert _activate(app.test_client(), "202602", codes["202602"]).status_code == 302
    sessions = db.session.scalar(select(func.count()).select_from(UserSession))
    again = _activate(app.test_client(), "202602", codes["202602"])
    assert again.status_code == 401
    assert "此激活码已使用过" in again.get_data(as_text=True)  # a visitor reads Chinese
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == sessions
    denied = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "activate", AuditEvent.outcome == "denied")
    ).all()
    assert [r.detail for r in denied] == ["used"]


def test_a_code_works_until_the_last_minute_of_its_last_day_and_not_after(app, login, school):
    codes = _codes(_issue(login(school["admin"]), school["freshmen"], days=14))
    # Issued 2026-09-14 10:00 in Changsha; the last day is 09-28, which ends at 16:00 UTC.
    clock.set_now(datetime(2026, 9, 28, 15, 59))
    assert _activate(app.test_client(), "202601", codes["202601"]).status_code == 302
    clock.set_now(datetime(2026, 9, 28, 16, 0))
    student = app.test_client()
    late = _activate(student, "202602", codes["202602"])
    assert late.status_code == 401
    assert "此激活码已于 9月28日 周一 过期" in late.get_data(as_text=True)
    assert student.get("/").headers["Location"].endswith("/login")  # no session
    row = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "activate", AuditEvent.outcome == "denied")
    )
    assert row.detail == "expired"
    assert row.actor_id == school["new"][1].user_id


def test_issuing_again_replaces_the_unused_codes(app, login, school):
    client = login(school["admin"])
    first = _codes(_issue(client, school["freshmen"]))
    second = _codes(_issue(client, school["freshmen"]))
    old = _activate(app.test_client(), "202603", first["202603"])
    assert old.status_code == 401
    assert "已为你重新发放了激活码" in old.get_data(as_text=True)
    assert _activate(app.test_client(), "202603", second["202603"]).status_code == 302


def test_reloading_the_print_page_issues_nothing_and_the_printed_slips_still_work(
    app, login, school
):
    """Before: the reload sent the form again and issued a second batch, which replaced every
    code on the slips just printed."""
    client = login(school["admin"])
    printed = _codes(_issue(client, school["freshmen"], submission="a" * 32))
    reloaded = _issue(client, school["freshmen"], submission="a" * 32)
    assert reloaded.status_code == 302
    assert _codes(reloaded) == {}
    page = client.get(reloaded.headers["Location"]).get_data(as_text=True)
    assert "These slips were issued already" in page
    assert db.session.scalar(select(func.count()).select_from(ActivationBatch)) == 1
    assert _activate(app.test_client(), "202603", printed["202603"]).status_code == 302


def _lost_slip(client, number: str):
    data = {"student_number": number, "valid_days": 14, "submission": uuid.uuid4().hex}
    return client.post("/activation/student", data=data)


def test_a_lost_slip_is_reissued_alone_and_the_classmates_slips_still_work(app, login, school):
    """Before: the smallest cohort was a class, so replacing one lost slip voided the unused
    slips of every classmate."""
    client = login(school["admin"])
    printed = _codes(_issue(client, school["freshmen"]))
    again = _lost_slip(client, "202602")
    assert set(_codes(again)) == {"202602"}
    fresh = _codes(again)["202602"]
    assert _activate(app.test_client(), "202602", printed["202602"]).status_code == 401
    assert _activate(app.test_client(), "202602", fresh).status_code == 302
    assert _activate(app.test_client(), "202601", printed["202601"]).status_code == 302
    listed = client.get("/activation").get_data(as_text=True).split("Recent batches")[1]
    assert "a new code for this student only" in listed


def test_a_lost_slip_outside_the_issuers_department_is_refused_as_unknown(login, school):
    """A department counsellor reaches their own department's students only."""
    client = login(school["counsellor"])
    refused = _lost_slip(client, "2026501")  # History's student
    assert refused.status_code == 422
    assert "No student with this number is on your roster." in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ActivationBatch)) == 0
    assert set(_codes(_lost_slip(client, "202603"))) == {"202603"}


def test_a_student_or_cohort_with_passwords_gets_no_empty_slip_page(login, school):
    """Before: a page of zero slips under "print now", and a "0 codes" batch in the list."""
    client = login(school["admin"])
    refused = client.get(_lost_slip(client, "2026099").headers["Location"])
    assert "This student has set a password already" in refused.get_data(as_text=True)
    returning = school["returning"].user
    for student in school["new"]:
        student.user.password_hash = returning.password_hash
    db.session.commit()
    page = client.get(_issue(client, school["freshmen"]).headers["Location"])
    assert "Every student of this cohort has set a password already" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ActivationBatch)) == 0


def test_the_batch_list_gives_the_same_last_day_as_the_slips(login, school):
    client = login(school["admin"])
    slips = _issue(client, school["freshmen"]).get_data(as_text=True)
    assert "2026-09-28" in slips  # printed: ISO
    listed = client.get("/activation").get_data(as_text=True).split("Recent batches")[1]
    assert '<time datetime="2026-09-28">Mon 28 Sep</time>' in listed
    assert "2026-09-29" not in listed


def test_a_wrong_code_and_an_unknown_account_get_the_same_answer_and_no_session(app, login, school):
    _issue(login(school["admin"]), school["freshmen"])
    wrong = _activate(app.test_client(), "202601", "ABCD-EFGH-JKMN")
    unknown = _activate(app.test_client(), "999999", "ABCD-EFGH-JKMN")
    assert wrong.status_code == unknown.status_code == 401
    message = "学校代码、学号或激活码有误。"
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    rows = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "activate").order_by(AuditEvent.id)
    ).all()
    assert [(r.outcome, r.detail) for r in rows] == [("denied", "wrong"), ("denied", "wrong")]
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(UserSession)
            .where(UserSession.user_id == school["new"][0].user_id)
        )
        == 0
    )


def test_a_wrong_code_tells_the_freshman_what_to_do_next(app, login, school):
    """It said only that something was wrong, and a freshman had no one to turn to."""
    _issue(login(school["admin"]), school["freshmen"])
    client = app.test_client()
    client.post("/language/en")
    page = _activate(client, "202601", "ABCD-EFGH-JKMN").get_data(as_text=True)
    alert = page.split('role="alert">', 1)[1].split("</p>", 1)[0]
    assert "Institution, number or activation code is wrong." in alert
    assert "Check each against your slip" in alert
    assert "ask your department counsellor (辅导员) for a new slip" in alert


def test_a_department_counsellor_issues_for_own_classes_only(app, login, school):
    client = login(school["counsellor"])
    page = client.get("/activation").get_data(as_text=True)
    assert "CS2601" in page
    assert "HI2601" not in page
    assert "Whole institution" not in page
    forged = _issue(client, school["other"])
    assert forged.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(ActivationCode)) == 0
    assert db.session.scalar(select(func.count()).select_from(ActivationBatch)) == 0
    assert set(_codes(_issue(client, school["freshmen"]))) == {"202601", "202602", "202603"}


def test_a_whole_grade_reaches_every_department_for_the_administrator(login, school):
    client = login(school["admin"])
    inst = school["freshmen"].department.institution_id
    response = _post(client, {"cohort": f"grade:{inst}:0:0:2026", "valid_days": 7})
    assert set(_codes(response)) == {"202601", "202602", "202603", "2026501"}


def test_a_grades_slips_name_the_class_and_come_class_by_class(login, school, campus):
    """They came by student number alone, so whoever handed them out sorted them by class."""
    second = campus.class_group(school["freshmen"].department, "CS2602", grade=2026)
    campus.student(second, number="202600").user.password_hash = None  # before CS2601's numbers
    campus.commit()
    client = login(school["admin"])
    inst = school["freshmen"].department.institution_id
    page = _post(client, {"cohort": f"grade:{inst}:0:0:2026", "valid_days": 7}).text
    slips = page.split('<article class="slip">')[1:]
    number, unit = re.compile(r"<dd>(\d{6,})</dd>"), re.compile(r'class="unit"[^>]*>([^<]*)<')
    printed = [(number.search(slip)[1], unit.search(slip)[1]) for slip in slips]
    assert printed == [
        ("202601", "Computing CS2601"),
        ("202602", "Computing CS2601"),
        ("202603", "Computing CS2601"),
        ("202600", "Computing CS2602"),
        ("2026501", "History HI2601"),
    ]
    # A stack per class, each headed on screen (and started on a new sheet when printed).
    assert page.count('<section class="slip-stack"') == 3
    assert "Computing, class CS2602: 1 slip<" in page


@pytest.mark.parametrize("days", ["0", "61", "many", ""])
def test_a_validity_out_of_range_is_refused_and_issues_nothing(login, school, days):
    response = _post(
        login(school["admin"]), {"cohort": _class_token(school["freshmen"]), "valid_days": days}
    )
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(ActivationBatch)) == 0


def test_students_and_other_staff_cannot_issue(login, school, campus):
    assert login(school["returning"].user).get("/activation").status_code == 403


def test_slips_are_in_chinese_with_english_only_for_an_english_reader(app, login, school):
    client = login(school["admin"])
    page = _issue(client, school["freshmen"]).get_data(as_text=True)
    assert "激活码" in page
    assert "Activation code" in page
    school["admin"].locale = "zh_CN"
    db.session.commit()
    client.post("/language/zh_CN")
    page = _issue(client, school["freshmen"]).get_data(as_text=True)
    assert "激活码" in page
    assert "Activation code" not in page


def test_expiry_is_the_end_of_the_local_last_day(school, app):
    inst = school["freshmen"].department.institution
    assert activation.expiry(inst, datetime(2026, 9, 14, 2, 0), 1) == datetime(2026, 9, 15, 16, 0)
    # Just after local midnight (16:30 UTC is 00:30 next day in Shanghai) the count starts there.
    assert activation.expiry(inst, datetime(2026, 9, 14, 16, 30), 1) == datetime(2026, 9, 16, 16, 0)


def test_codes_use_no_characters_read_alike():
    for _ in range(200):
        code = activation.new_code()
        assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
        assert not set(code) & set("01OIL")


def test_a_password_is_still_asked_for_when_the_user_has_one(login, school):
    client = login(school["returning"].user)
    page = client.get("/password").get_data(as_text=True)
    assert "Current password" in page
    refused = client.post(
        "/password", data={"new": "another-secret-9", "confirm": "another-secret-9"}
    )
    assert refused.status_code == 200
    assert "Give your current password." in refused.get_data(as_text=True)


def test_sign_in_page_offers_the_first_sign_in(client, school):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/activate"' in page
    assert client.get("/activate").status_code == 200


@pytest.mark.usefixtures("throttled")
def test_first_sign_in_is_throttled_per_account_like_sign_in(app, login, school):
    codes = _codes(_issue(login(school["admin"]), school["freshmen"]))
    client = app.test_client()
    tries = [
        client.post(
            "/activate",
            data={"institution": " xju", "login": "202601 ", "code": f"WRONG-CODE-{i:02d}"},
        ).status_code
        for i in range(6)
    ]
    assert tries == [401] * 5 + [429]
    # The right code is refused too while the account is throttled, and stays unused.
    assert _activate(client, "202601", codes["202601"]).status_code == 429
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1  # admin's


def test_recent_batches_show_the_cohorts_in_reach_without_their_codes(app, login, school):
    _issue(login(school["admin"]), school["other"])
    client = login(school["counsellor"])
    codes = _codes(_issue(client, school["freshmen"]))
    page = client.get("/activation").get_data(as_text=True)
    assert "Computing, class CS2601 (grade 2026)" in page
    assert "HI2601" not in page  # another department's batch
    assert not any(code in page for code in codes.values())


@pytest.mark.parametrize("days", ["0", "61", "-3", "abc", "1.5"])
def test_a_validity_out_of_range_or_no_number_says_1_to_60_days(login, school, days):
    """Found by an administrator: 0 days was answered 「该字段是必填字段。」 (0 read as nothing
    entered), so the form never said what it takes."""
    client = login(school["admin"])
    response = _issue(client, school["freshmen"], days=days)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a number of days from 1 to 60." in page
    assert "This field is required." not in page
    assert "Not a valid integer value." not in page
    assert db.session.scalar(select(func.count()).select_from(ActivationBatch)) == 0
