"""Issue #19, erasure: a student with an open red warning asks on a phone for their data to be
erased; the director reviews it (the open warning is kept, with its reason), approves, and the
student reads the outcome without being told of any warning. The director's legal-hold page too.
In Chinese, the language the centre works in."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from campus.extensions import db
from campus.models import Student
from tests.e2e.conftest import PHONE
from tests.e2e.conftest import World
from tests.e2e.conftest import follow_menu
from tests.factories import open_warning
from warning.policy import Level

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]


def _red_warning(live_app: Flask, name: str) -> None:
    with live_app.app_context():
        student = db.session.scalars(select(Student).where(Student.name == name)).one()
        open_warning(student, Level.RED)
        db.session.remove()


def test_a_student_asks_for_erasure_and_the_director_decides(world: World, live_app: Flask):
    _red_warning(live_app, world.student_name)

    student = world.page_for("student", PHONE)
    student.goto("/")
    student.locator("nav a", has_text="我的数据与同意").first.click()
    student.get_by_role("link", name="删除我的数据").first.click()
    expect(student.locator("main h1")).to_have_text("删除我的数据")
    world.shot(student, "19-erasure-student-phone")
    student.get_by_role("button", name="申请删除我的数据").click()
    expect(student.locator("main .error")).to_contain_text("请勾选")
    student.check("#understood")
    student.fill("#note", "我已经毕业，希望删除我的心理档案。")
    student.get_by_role("button", name="申请删除我的数据").click()
    expect(student.locator(".flash").first).to_contain_text("已提交给中心主任")
    expect(student.locator("main")).to_contain_text("已申请")

    director = world.page_for("director")
    director.goto("/")
    follow_menu(director, "数据删除申请")
    director.get_by_role("link", name=world.student_name).first.click()
    main = director.locator("main")
    expect(main).to_contain_text("预警尚未解除")
    expect(main).to_contain_text("学生仍在籍")
    world.shot(director, "19-erasure-review-director")
    director.check("input[name=decision][value=approve]")
    director.get_by_role("button", name="记录决定").click()
    expect(director.locator(".flash").first).to_contain_text("决定已记录")
    expect(main).to_contain_text("已执行")

    student.reload()
    outcome = student.locator("main")
    expect(outcome).to_contain_text("已执行")
    expect(outcome).to_contain_text("中心仍在跟进与你有关的个案")
    expect(outcome).not_to_contain_text("预警")
    world.shot(student, "19-erasure-outcome-phone")

    director.goto("/privacy/holds")
    director.fill("#student_number", world.student_number)
    director.fill("#reason", "学生家长向教育局投诉，需保留全部记录。")
    director.get_by_role("button", name="实施保全").click()
    expect(director.locator(".flash").first).to_contain_text("保全已生效")
    expect(director.locator("main table")).to_contain_text(world.student_name)
    world.shot(director, "19-legal-holds-director")
