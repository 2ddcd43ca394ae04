"""What an administrator reads in a downloaded file: headers and codes in their own language, as
the page says them; rates as numbers a spreadsheet can sum and chart; the period in the file name.
Before, the files kept our column names (student_number, level) and codes (red, open, sent), and
the workbooks held every rate as text."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest
from werkzeug.http import parse_options_header

from campus import local_time
from campus.extensions import db
from campus.spreadsheets import sheet_name
from oversight import exports
from oversight.kpis import KPIS

SEPT = {"month_from": "2026-09", "month_to": "2026-09"}


def sheet_of(response) -> list[list[openpyxl.cell.Cell]]:
    assert response.status_code == 200
    return [list(row) for row in openpyxl.load_workbook(io.BytesIO(response.data)).active]


def csv_of(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


@pytest.fixture
def chinese_director(world):
    world.xju.director.locale = "zh_CN"
    db.session.commit()
    return world.xju.director


def test_a_chinese_readers_drill_down_workbook_reads_as_the_page(world, login, chinese_director):
    """S1's red warning, opened 16:00 Shanghai time and not closed."""
    client = login(chinese_director)
    header, first = sheet_of(client.get("/oversight/drill/red.xlsx", query_string=SEPT))[:2]
    shown = dict(zip([c.value for c in header], [c.value for c in first], strict=True))
    assert list(shown)[:5] == ["学号", "姓名", "院系", "级别", "状态"]
    assert (shown["学号"], shown["姓名"]) == ("XJU001", "Li Hua")
    assert shown["级别"] == "红色"
    assert shown["状态"] == "未解除"
    page = client.get("/oversight/drill/red", query_string=SEPT).get_data(as_text=True)
    for said in ("学号", "级别", "红色", "未解除"):
        assert said in page  # the page and its file say the same words


def test_a_drill_down_workbooks_times_are_excel_times_on_the_local_clock(
    world, login, chinese_director
):
    """Before, 开启时间 was the text "2026-09-02 16:00": Excel could not sort it as a time, filter
    it by date or subtract it. Now it is a time cell (Shanghai wall clock), shown to the minute;
    the CSV keeps the text, and the sheet's tab reads as the page's title, not "drill-red"."""
    client = login(chinese_director)
    response = client.get("/oversight/drill/red.xlsx", query_string=SEPT)
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["红色预警学生"]
    header, first = list(workbook.active)[:2]
    opened = first[[c.value for c in header].index("开启时间（北京时间）")]
    assert opened.is_date
    assert opened.value == datetime(2026, 9, 2, 16, 0)
    assert opened.number_format == "yyyy-mm-dd hh:mm"
    rows = csv_of(client.get("/oversight/drill/red.csv", query_string=SEPT))
    assert rows[1][rows[0].index("开启时间（北京时间）")] == "2026-09-02 16:00"


def test_a_kpi_workbooks_tab_is_named_by_the_kpi(world, login, chinese_director):
    response = login(chinese_director).get("/oversight/export/service.xlsx", query_string=SEPT)
    assert openpyxl.load_workbook(io.BytesIO(response.data)).sheetnames == ["服务覆盖率"]


def test_an_english_readers_drill_down_csv_has_words_not_codes(world, login):
    rows = csv_of(login(world.xju.director).get("/oversight/drill/yellow.csv", query_string=SEPT))
    assert rows[0][:5] == ["Student number", "Name", "Department", "Level", "Status"]
    assert rows[1][:5] == ["XJU002", "Wang Fang", "Computing", "Yellow", "Open"]
    assert "student_number" not in rows[0]


def test_stalled_referrals_read_with_the_closure_audits_words(world, login, chinese_director):
    """S2's referral, sent in June and untouched since, is stalled (not yet overdue). It has
    not ended: the list has no column for an end, its timing or who ended it."""
    response = login(chinese_director).get("/oversight/drill/stalled.xlsx", query_string=SEPT)
    header, first = sheet_of(response)[:2]
    shown = dict(zip([c.value for c in header], [c.value for c in first], strict=True))
    assert shown["学号"] == "XJU002"
    assert shown["状态"] == "已转介"
    assert (shown["停滞"], shown["逾期未结案"]) == ("是", "否")
    assert "转介时间（北京时间）" in shown
    assert "结束时间" not in shown


def test_a_de_identified_file_heads_its_code_column_in_words(world, login):
    rows = csv_of(login(world.xju.admin).get("/oversight/drill/red.csv", query_string=SEPT))
    assert rows[0][:3] == ["Student code", "Department", "Level"]
    assert rows[1][0].startswith("P")


def test_a_kpi_workbook_holds_rates_as_percent_numbers(world, login, chinese_director):
    """Service coverage in Computing: 1 of 2 warned students contacted; Maths had none."""
    client = login(chinese_director)
    rows = sheet_of(client.get("/oversight/export/service.xlsx", query_string=SEPT))
    header = [c.value for c in rows[0]]
    assert header == ["学校", "院系", "预警学生", "已联系", "未联系", "覆盖率"]
    computing, maths = rows[1], rows[2]
    rate = computing[header.index("覆盖率")]
    assert rate.value == 0.5
    assert rate.data_type == "n"
    assert rate.number_format == "0.0%"
    assert computing[header.index("预警学生")].value == 2  # counts stay plain numbers
    # No one warned: no rate, and the sheet says so as the page does.
    assert maths[header.index("覆盖率")].value == "—"
    # The CSV keeps the page's text.
    text = csv_of(client.get("/oversight/export/service.csv", query_string=SEPT))
    assert text[1][-1] == "50.0%"


def test_a_workbooks_rates_sum_as_the_page_shows_them(world, login):
    """Red deadlines: 1 of 2 met on time; yellow 0 of 1; blue none due."""
    client = login(world.xju.director)
    rows = sheet_of(client.get("/oversight/export/deadlines.xlsx", query_string=SEPT))
    header = [c.value for c in rows[0]]
    computing = {r[header.index("Level")].value: r for r in rows[1:] if r[1].value == "Computing"}
    rates = {level: row[header.index("Compliance")] for level, row in computing.items()}
    assert (rates["Red"].value, rates["Yellow"].value, rates["Blue"].value) == (0.5, 0, "—")
    assert all(rates[level].number_format == "0.0%" for level in ("Red", "Yellow"))


def test_every_kpi_heads_each_column_with_its_own_words():
    """Before: interview coverage headed two columns "按时完成", the count held on time and the
    on-time rate; the workbook gives each header its number format, so the count took the
    rate's and 3 students read "300.0%". Weekly reports headed their rates "班级" and "宿舍"."""
    for kpi in KPIS:
        labels = [str(label) for _column, label, _fmt in kpi.columns]
        assert len(labels) == len(set(labels)), kpi.key


def test_an_interview_workbook_keeps_its_count_a_count(world, login, chinese_director):
    client = login(chinese_director)
    header = [c.value for c in sheet_of(client.get("/oversight/export/interviews.xlsx"))[0]]
    assert header[-2:] == ["覆盖率", "按时完成率"]
    assert header.count("按时完成") == 1
    rows = csv_of(client.get("/oversight/export/reports.csv"))
    assert rows[0][-4:] == ["班级周报提交率", "宿舍应报周数", "宿舍已报周数", "宿舍周报提交率"]


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/oversight/export/referrals.xlsx", "xinqiao-kpi-referrals-by-department-2026-09_2026-09"),
        ("/oversight/drill/red.csv", "xinqiao-drill-red-2026-09_2026-09"),
    ],
)
def test_a_downloads_name_says_which_months_it_covers(world, login, url, name):
    response = login(world.xju.director).get(url, query_string=SEPT)
    extension = url.rsplit(".", 1)[1]
    disposition, options = parse_options_header(response.headers["Content-Disposition"])
    assert (disposition, options["filename"]) == ("attachment", f"{name}.{extension}")


@pytest.mark.parametrize(
    ("url", "chinese", "fallback"),
    [
        (
            "/oversight/export/screening.csv",
            "心桥-筛查覆盖率-按院系-2026-09_2026-09.csv",
            "xinqiao-kpi-screening-by-department-2026-09_2026-09.csv",
        ),
        (
            "/oversight/drill/red.xlsx",
            "心桥-红色预警学生-2026-09_2026-09.xlsx",
            "xinqiao-drill-red-2026-09_2026-09.xlsx",
        ),
    ],
)
def test_a_chinese_reader_saves_a_download_under_a_chinese_name_with_an_ascii_fallback(
    world, login, chinese_director, url, chinese, fallback
):
    """Found by an administrator: the exports were named in English
    (xinqiao-kpi-screening-by-department-…csv) beside the Chinese-named roster template."""
    response = login(chinese_director).get(url, query_string=SEPT)
    header = response.headers["Content-Disposition"]
    # The plain name as written (werkzeug's parser would read filename* over it).
    assert re.search(r'filename="?([^";]*)"?(;|$)', header)[1] == fallback
    assert f"filename*=UTF-8''{quote(chinese)}" in header


def test_a_longer_periods_file_name_spans_it(world, login):
    args = {"month_from": "2026-09", "month_to": "2027-04", "by": "month"}
    response = login(world.xju.director).get("/oversight/export/referrals.xlsx", query_string=args)
    assert (
        "xinqiao-kpi-referrals-by-month-2026-09_2027-04.xlsx"
        in (response.headers["Content-Disposition"])
    )


def test_a_province_workbook_keeps_hidden_figures_hidden(world, login, app):
    """HNU has 2 students: with threshold 4 every figure of it is hidden, rates included; the
    workbook says "< 4" and "hidden" as text, with no number behind them."""
    app.config["SMALL_GROUP_THRESHOLD"] = 4
    try:
        client = login(world.province)
        response = client.get("/oversight/province/export/crisis.xlsx", query_string=SEPT)
        rows = sheet_of(response)
    finally:
        app.config["SMALL_GROUP_THRESHOLD"] = 10
    hnu = next(r for r in rows[1:] if r[0].value == "Hunan Normal University")
    assert [c.value for c in hnu[1:]] == ["< 4", "< 4", "hidden"]
    assert all(c.data_type == "s" for c in hnu[1:])
    assert (
        "xinqiao-province-kpi-crisis-by-institution-2026-09_2026-09.xlsx"
        in (response.headers["Content-Disposition"])
    )


def test_a_sheet_is_named_as_excel_takes_it():
    """Excel refuses a tab named with []:*?/\\ or longer than 31 characters."""
    frame = pd.DataFrame({"a": [1]})
    title = "Referrals: due [2026/09]? *all* \\ departments, all hospitals"
    (name,) = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(frame, title))).sheetnames
    assert name == "Referrals  due  2026 09    all"
    assert sheet_name("[]") == "Sheet1"  # nothing left: the name Excel gives a new sheet


def test_days_from_postgresql_reach_the_workbook_as_numbers(app):
    """PostgreSQL returns a median as a Decimal and pandas a count as a numpy int; the
    workbook held such days as text on PostgreSQL only."""
    from decimal import Decimal

    import numpy as np

    from oversight import tables

    referrals = next(kpi for kpi in KPIS if kpi.key == "referrals")
    row = {column: np.int64(1) for column, _label, _fmt in referrals.columns}
    row |= {"institution": "XJU", "closure_rate": 0.5, "median_days": Decimal("40.0")}
    row["p90_days"] = Decimal("NaN")
    with app.test_request_context():
        table = tables.build(referrals, pd.DataFrame([row]), "institution")
    cells = dict(zip([c for c, _l, _f in referrals.columns], table.rows[0][1:], strict=True))
    assert cells["median_days"].number == 40.0
    assert cells["closure_rate"].number == 0.5
    assert cells["p90_days"].number is None


def test_a_workbooks_times_are_to_the_minute_as_the_page_and_the_csv_show_them():
    """Before, a time cell kept its seconds under a format that hid them: two times that read
    16:00 subtracted to 47 seconds, and a filter on 16:00 missed one of them."""
    frame = pd.DataFrame({"opened": [datetime(2026, 9, 2, 8, 0, 47), datetime(2026, 9, 2, 8, 0)]})
    zone = ZoneInfo("Asia/Shanghai")
    book = exports.to_xlsx(local_time.localise_frame(frame, zone, as_text=False), "Opened")
    cells = [row[0].value for row in list(openpyxl.load_workbook(io.BytesIO(book)).active)[1:]]
    assert cells == [datetime(2026, 9, 2, 16, 0)] * 2
    text = local_time.localise_frame(frame, zone)["opened (Beijing time)"].tolist()
    assert text == ["2026-09-02 16:00"] * 2


@pytest.mark.parametrize(
    "url",
    ["/oversight/export/service.csv", "/oversight/drill/red.csv", "/admin/roster/template.csv"],
)
def test_a_csv_download_names_its_charset_once(world, login, url):
    """The header read "text/csv; charset=utf-8; charset=utf-8": Werkzeug adds the charset to a
    text type and the media type named it as well."""
    response = login(world.xju.admin).get(url, query_string=SEPT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
