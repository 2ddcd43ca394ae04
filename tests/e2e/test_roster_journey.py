"""Issue #16 item 1 in Chinese: an administrator downloads the roster template, imports the
registry's GBK CSV with one impossible birth date (the report names the row and the column and
nothing is imported), fixes the cell and imports again."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from campus.extensions import db
from campus.models import Student
from tests.e2e.conftest import DOWNLOAD_WAIT
from tests.e2e.conftest import World

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]

HEADER = "学号,姓名,性别,出生日期,院系,班级,宿舍,家长姓名,联系电话,学籍状态,籍贯\n"
ROWS = (
    "2026990001,周晓雯,女,2008-05-12,新闻传播学院,新闻2601班,南3栋-512,周国华,13907310001,在读,湖南株洲\n"
    "2026990002,欧阳磊,男,2005-02-30,新闻传播学院,新闻2601班,南3栋512室,欧阳军,13907310002,在读,湖南衡阳\n"
)
NUMBERS = ("2026990001", "2026990002")


def _imported(live_app: Flask) -> list[str]:
    with live_app.app_context():
        found = list(
            db.session.scalars(
                select(Student.student_number).where(Student.student_number.in_(NUMBERS))
            )
        )
        db.session.remove()
    return found


def test_administrator_imports_a_gbk_roster_fixes_the_bad_row_and_imports_it(
    world: World, live_app: Flask, tmp_path: Path
):
    page = world.page_for("admin")
    page.goto("/admin/roster")
    with page.expect_download(timeout=DOWNLOAD_WAIT) as download:
        page.get_by_role("link", name="Excel 模板（XLSX）").click(timeout=DOWNLOAD_WAIT)
    template = tmp_path / download.value.suggested_filename
    download.value.save_as(template)
    assert template.name == "学生名单导入模板.xlsx"
    sheet = load_workbook(template).active
    assert [c.value for c in sheet[1]][:4] == ["学号", "姓名", "性别", "出生日期"]
    world.shot(page, "16-roster-import-page")

    bad = tmp_path / "新生名单.csv"
    bad.write_bytes((HEADER + ROWS).encode("gbk"))
    page.set_input_files("#file", str(bad))
    page.get_by_label("自动创建尚不存在的院系、班级和宿舍").check()
    page.locator("main form button[type=submit]").click()
    alert = page.locator("main .flash.error")
    expect(alert).to_contain_text("未导入任何内容")
    row = page.locator("main table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_have_text("3出生日期2026990002“2005-02-30”不是实际存在的日期")
    expect(page.locator("main .import-notes")).to_have_text("列「籍贯」未使用。")
    world.shot(page, "16-roster-import-bad-row")
    assert _imported(live_app) == []

    fixed = tmp_path / "新生名单（改）.csv"
    fixed.write_bytes((HEADER + ROWS.replace("2005-02-30", "2005-02-28")).encode("gbk"))
    page.set_input_files("#file", str(fixed))
    page.get_by_label("自动创建尚不存在的院系、班级和宿舍").check()
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main .flash.success")).to_contain_text("新增 2")
    world.shot(page, "16-roster-import-done")
    assert sorted(_imported(live_app)) == list(NUMBERS)
