"""How the Chinese pages address their reader (docs/architecture.md, "Chinese text … 你 or 您"):
the pages a student and anyone at a first sign-in read say 你, never 您. A walk found the forced
password change saying 设置您的密码 above a form that said 你."""

from __future__ import annotations

import lxml.html
import pytest

from campus import clock
from campus import mfa
from campus.extensions import db
from campus.models import Role
from tests.conftest import sign_in


@pytest.fixture
def school(campus):
    inst = campus.institution("XJU", mfa=True)
    group = campus.class_group(campus.department(inst), "CS2601", grade=2026)
    people = {
        "student": campus.student(group, number="202601"),
        "counsellor": campus.staff(inst, Role.SCHOOL_COUNSELLOR, login="sc01"),
    }
    campus.commit()
    return people


def _chinese(client) -> None:
    client.post("/language/zh_CN", data={"next": "/"})


def _main(response) -> str:
    """The text of the page's title and main part (the header names the signed-in person)."""
    page = lxml.html.fromstring(response.get_data(as_text=True))
    return page.findtext(".//title") + page.get_element_by_id("main").text_content()


def test_a_first_password_page_says_ni_throughout(client, school):
    student = school["student"].user
    sign_in(client, student)
    # As after a sign-in with an activation code: no password yet, one to choose.
    student.password_hash = None
    student.must_change_password = True
    db.session.commit()
    _chinese(client)
    text = _main(client.get("/password"))
    assert "设置你的密码" in text
    assert "你的激活码已使用" in text
    assert "您" not in text


def test_a_forced_password_change_says_ni(client, school):
    student = school["student"].user
    student.must_change_password = True
    db.session.commit()
    sign_in(client, student)
    _chinese(client)
    text = _main(client.get("/password"))
    assert "请先设置你自己的密码" in text
    assert "您" not in text


def test_the_two_factor_pages_of_a_first_sign_in_say_ni(client, school):
    counsellor = school["counsellor"]
    _chinese(client)
    assert sign_in(client, counsellor).location.endswith("/login/enrol")
    set_up = client.get("/login/enrol")
    assert set_up.status_code == 200
    text = _main(set_up)
    assert "以你的身份登录" in text
    assert "您" not in text
    secret = lxml.html.fromstring(set_up.get_data(as_text=True)).get_element_by_id("totp-secret")
    code = mfa.code_at(secret.text_content().replace(" ", ""), clock.now())
    client.post("/login/enrol", data={"code": code})
    codes_page = _main(client.get("/account/two-factor/recovery-codes"))
    assert "你的恢复码" in codes_page
    assert "您" not in codes_page
    done = client.post(
        "/account/two-factor/recovery-codes", data={"saved": "y"}, follow_redirects=True
    )
    assert "你的账号已开启两步验证。" in _main(done)


def test_the_forgotten_password_page_says_ni(client, school):
    _chinese(client)
    text = _main(client.get("/password/reset"))
    assert "您" not in text


def test_the_not_found_page_says_nin_to_staff_and_ni_to_a_student(client, campus):
    """Before: it said 未找到，或你无权查看 to a counsellor too."""
    inst = campus.institution("ABC")
    group = campus.class_group(campus.department(inst), "CS2602", grade=2026)
    readers = {
        "counsellor": campus.staff(inst, Role.DEPT_COUNSELLOR, login="dc09"),
        "student": campus.student(group, number="202699").user,
    }
    campus.commit()
    shown = {}
    for who, person in readers.items():
        client.get("/logout")
        sign_in(client, person)
        _chinese(client)
        response = client.get("/no-such-page")
        assert response.status_code == 404
        shown[who] = _main(response)
    assert "未找到，或你无权查看" in shown["student"]
    assert "你无权" not in shown["counsellor"]  # 您 (or, before the catalog has it, English)
