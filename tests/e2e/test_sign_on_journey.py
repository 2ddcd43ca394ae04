"""A student signs in through the campus CAS on a phone, in Chinese, and sees their home page; the
CAS server's own sign-out ends the Xinqiao session too; someone the campus knows but Xinqiao does
not is refused on a page they can read. Real CAS server (tests/idp), real chromium."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page
from sqlalchemy import delete
from sqlalchemy import select

from campus.extensions import db
from campus.models import Institution
from campus.models import SignOn
from campus.models import SignOnProtocol
from tests.e2e.conftest import PHONE
from tests.e2e.conftest import World
from tests.e2e.conftest import follow_menu

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]
CAS_PASSWORD = "campus-pass-1"


@pytest.fixture
def campus_cas(world: World, live_app: Flask, cas_server):
    """The journeys' university signs in through the CAS server by the student number it
    releases; taken away again after the test, so the other journeys keep their passwords.

    The addresses the CAS server sends the browser back to are the live server's, as a deployed
    server's are its own (the test configuration names `localhost` without a port)."""
    server_name = live_app.config["SERVER_NAME"]
    live_app.config["SERVER_NAME"] = world.base_url.removeprefix("http://")
    with live_app.app_context():
        inst = db.session.scalar(select(Institution).where(Institution.code == world.institution))
        db.session.add(
            SignOn(
                institution_id=inst.id,
                protocol=SignOnProtocol.CAS,
                server_url=cas_server.url,
                cas_version=3,
                identity_attribute="student_number",
            )
        )
        db.session.commit()
    cas_server.add_user("lixiaoyu", CAS_PASSWORD, student_number=world.student_number)
    cas_server.add_user("visitor", CAS_PASSWORD, student_number="19990001")
    yield cas_server
    live_app.config["SERVER_NAME"] = server_name
    with live_app.app_context():
        db.session.execute(delete(SignOn))
        db.session.commit()


def _phone(world: World) -> Page:
    context = world.browser.new_context(base_url=world.base_url, viewport=PHONE, locale="zh-CN")
    context.set_default_timeout(15_000)
    world.contexts.append(context)
    return context.new_page()


def _through_cas(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_role("link", name="通过统一身份认证登录").click()
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", CAS_PASSWORD)
    page.locator("form:has(input[type=password]) [type=submit]").click()


def test_student_signs_in_through_cas_on_a_phone_and_cas_sign_out_ends_it(world: World, campus_cas):
    page = _phone(world)
    page.goto("/login")
    world.shot(page, "sign-on-login-phone")
    assert page.locator("a.sign-on").is_visible()
    overflow = page.locator("main").evaluate("e => e.scrollWidth - e.clientWidth")
    assert overflow <= 0

    _through_cas(page, "lixiaoyu")

    page.wait_for_url(f"{world.base_url}/")
    world.shot(page, "sign-on-student-home-phone")
    assert world.student_name in page.locator("header").inner_text()
    assert page.locator("h1").inner_text() == "首页"

    # Signing out at the campus portal ends the Xinqiao session (the CAS server's single logout).
    page.goto(campus_cas.url + "logout")
    page.goto("/")
    assert "/login" in page.url


def test_signing_out_of_xinqiao_ends_the_campus_sign_on_too(world: World, campus_cas):
    page = _phone(world)
    _through_cas(page, "lixiaoyu")
    page.wait_for_url(f"{world.base_url}/")

    page.get_by_role("button", name="退出").click()

    page.wait_for_url(lambda url: "/login" in url and "institution=" in url)
    world.shot(page, "sign-on-signed-out-phone")
    assert "你已退出登录" in page.locator("main").inner_text()
    # The CAS session is over: the campus sign-on asks for the password again.
    page.get_by_role("link", name="通过统一身份认证登录").click()
    page.locator("input[name=password]").wait_for()


def test_someone_without_a_xinqiao_account_is_refused_in_chinese(world: World, campus_cas):
    page = _phone(world)

    _through_cas(page, "visitor")

    page.wait_for_selector("h1:has-text('登录未成功')")
    world.shot(page, "sign-on-refused-phone")
    assert "账号不会在登录时自动创建" in page.locator("main").inner_text()
    page.goto("/")
    assert "/login" in page.url


def test_administrator_sets_up_cas_and_tests_the_connection(
    world: World, live_app: Flask, cas_server
):
    page = world.page_for("admin")
    page.goto("/")
    follow_menu(page, "统一身份认证")
    page.select_option("#protocol", "cas")
    page.fill("#server_url", cas_server.url)
    page.select_option("#cas_version", "3")
    page.fill("#identity_attribute", "student_number")
    page.get_by_role("button", name="保存统一身份认证设置").click()
    assert "统一身份认证设置已保存" in page.locator("main").inner_text()

    page.get_by_role("button", name="测试连接").click()

    page.wait_for_selector("text=CAS 服务器响应正常")
    world.shot(page, "sign-on-settings")
    with live_app.app_context():
        db.session.execute(delete(SignOn))
        db.session.commit()
