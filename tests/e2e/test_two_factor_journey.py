"""Two-factor sign-in in Chinese: the administrator requires it of school counsellors; a school
counsellor's first sign-in sets up the app from the QR page (the key read from the page, codes
made with pyotp), saves the recovery codes, signs out, and signs in again with a code from the
app after a wrong one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

from campus import clock
from campus import mfa
from tests.conftest import PASSWORD
from tests.e2e.conftest import DESKTOP
from tests.e2e.conftest import DOWNLOAD_WAIT
from tests.e2e.conftest import PHONE
from tests.e2e.conftest import World
from tests.e2e.conftest import follow_menu

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]


def _password_step(world: World, page: Page, login: str) -> None:
    page.goto("/login")
    page.fill("#institution", world.institution)
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()


def test_a_school_counsellor_sets_up_two_factor_sign_in_and_signs_in_with_a_code(world: World):
    admin = world.page_for("admin")
    follow_menu(admin, "两步验证")
    expect(admin.locator("h1")).to_have_text("两步验证")
    expect(admin.locator(".banner.warning")).to_contain_text("均未开启两步验证")
    admin.get_by_label("心理中心专职教师").check()
    admin.get_by_role("button", name="保存").click()
    expect(admin.locator(".flash.success")).to_have_text("已保存，自每人下次登录起生效。")
    expect(admin.locator(".banner.warning")).to_have_count(0)
    world.shot(admin, "12-two-factor-settings")

    context = world.browser.new_context(
        base_url=world.base_url, viewport=DESKTOP, locale="zh-CN", accept_downloads=True
    )
    context.set_default_timeout(15_000)
    world.contexts.append(context)
    page = context.new_page()
    login = world.logins["counsellor"]
    _password_step(world, page, login)
    page.wait_for_url("**/login/enrol")
    expect(page.locator("h1")).to_have_text("设置两步验证")
    expect(page.locator("img.qr")).to_be_visible()
    expect(page.locator(".set-up")).to_contain_text(f"账号：{login} · 发行方：湘江大学")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert len(secret) == 32
    world.shot(page, "12-two-factor-qr")

    page.fill("#code", "000000")
    page.get_by_role("button", name="确认并开启").click()
    expect(page.locator("#code-err")).to_have_text("验证码不正确。请输入应用当前显示的六位数字。")
    page.fill("#code", mfa.code_at(secret, clock.now()))
    page.get_by_role("button", name="确认并开启").click()
    page.wait_for_url("**/account/two-factor/recovery-codes")
    codes = page.locator("ol.recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    with page.expect_download(timeout=DOWNLOAD_WAIT) as download:
        page.get_by_role("link", name="下载").click(timeout=DOWNLOAD_WAIT)
    saved = download.value.path().read_text(encoding="utf-8")
    assert all(code in saved for code in codes)
    expect(page.get_by_role("button", name="打印")).to_be_visible()  # static/print.js ran
    world.shot(page, "12-two-factor-recovery-codes")
    page.get_by_role("button", name="继续").click()
    expect(page.locator("#saved-err")).to_have_text("请先保存恢复码，再勾选此项。")
    page.get_by_label("我已将这些恢复码保存在安全的地方").check()
    page.get_by_role("button", name="继续").click()
    expect(page.locator(".flash.success")).to_have_text("你的账号已开启两步验证。")

    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/login")
    _password_step(world, page, login)
    page.wait_for_url("**/login/code")
    expect(page.locator("h1")).to_have_text("两步验证")
    page.fill("#code", "123456")
    page.get_by_role("button", name="继续").click()
    expect(page.locator("#code-err")).to_have_text("验证码不正确。请输入应用当前显示的六位数字。")
    world.shot(page, "12-two-factor-wrong-code")
    clock.advance(timedelta(seconds=30))  # the set-up's code is spent: the app shows the next
    page.fill("#code", mfa.code_at(secret, clock.now()))
    page.get_by_role("button", name="继续").click()
    page.wait_for_url(lambda url: "/login" not in url)
    expect(page.locator("header .who")).to_be_visible()


def test_a_student_may_turn_it_on_from_a_phone(world: World):
    page = world.page_for("student", viewport=PHONE)
    page.locator("header .who").click()
    page.get_by_role("link", name="两步验证").click()
    expect(page.locator("h1")).to_have_text("设置两步验证")
    expect(page.locator("img.qr")).to_be_visible()
    # Nothing runs off the right edge of a phone: the key wraps, the QR code shrinks to fit.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    world.shot(page, "12-two-factor-phone")
    page.fill("#code", mfa.code_at(secret, clock.now()))
    page.get_by_role("button", name="确认并开启").click()
    page.wait_for_url("**/account/two-factor/recovery-codes")
    expect(page.locator("ol.recovery-codes code")).to_have_count(10)
