"""An attacker's differencing against the province view: a hidden count never comes back.

A university of 30 students had 11 red warnings in July, 3 in August and 12 in September (each
about a different student). August's 3 is below the small-group threshold (10). The province
auditor fetches every table, grouping, period and export the view offers and works out every
August count consistent with all of them, reading each figure by the published rule: "< 10" is
1 to 9, a multiple of 5 is a count rounded from up to 4 away, any other number is exact.
"""

from __future__ import annotations

import csv
import html
import io
import itertools
import re
from datetime import datetime

import openpyxl
import pytest

from campus.extensions import db
from campus.models import Role
from oversight import disclosure
from tests.oversight.conftest import add_warning
from warning.models import WarningStatus

THRESHOLD, BASE = 10, 5
MARK = f"< {THRESHOLD}"
NAME = "Big University"
JUL, AUG, SEP = "2026-07", "2026-08", "2026-09"
RAW = {JUL: 11, AUG: 3, SEP: 12}
# (kpi, column) holding the red-warning count: every warning here is red and its own student's.
RED_COLUMNS = (
    ("crisis", "Red warnings"),
    ("levels", "Red"),
    ("levels", "Total"),
    ("service", "Warned students"),
)
PERIODS = [(JUL, SEP), (JUL, AUG), (AUG, SEP), (JUL, JUL), (AUG, AUG), (SEP, SEP)]


@pytest.fixture
def province(campus):
    """The province auditor; the university's red warnings are in place."""
    big = campus.institution("BIG", NAME)
    group = campus.class_group(campus.department(big))
    students = iter([campus.student(group) for _ in range(30)])
    for month, count in RAW.items():
        opened_at = datetime.strptime(f"{month}-05", "%Y-%m-%d")
        for student in itertools.islice(students, count):
            add_warning(student, 3, opened_at, status=WarningStatus.CLOSED)
    province = campus.staff(campus.institution("PRO", kind="province"), Role.PROVINCE_AUDITOR)
    campus.commit()
    return province


@pytest.fixture
def auditor(province, login):
    """The province auditor, signed in."""
    return login(province)


# --- what the auditor can fetch ------------------------------------------------------------------


def _query(by: str, first: str, last: str) -> dict:
    return {"by": by, "month_from": first, "month_to": last}


def page_tables(client, by: str, first: str, last: str) -> dict[str, list[dict[str, str]]]:
    """Every table of the page, by KPI key, as rows of {header: text shown}; a month (shown in
    words) as the month its <time> holds (2026-08)."""
    body = client.get("/oversight/province", query_string=_query(by, first, last)).get_data(True)
    tables = {}
    for kpi, section in re.findall(r'id="kpi-(\w+)".*?<table>(.*?)</table>', body, re.S):
        rows = [
            [
                html.unescape(_held(cell)).strip()
                for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)
            ]
            for row in re.findall(r"<tr>(.*?)</tr>", section, re.S)
        ]
        tables[kpi] = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    return tables


def _held(cell: str) -> str:
    return re.sub(r'<time datetime="([^"]+)">[^<]*</time>', r"\1", cell)


def export_table(client, kpi: str, fmt: str, by: str, first: str, last: str) -> list[dict]:
    url = f"/oversight/province/export/{kpi}.{fmt}"
    response = client.get(url, query_string=_query(by, first, last))
    assert response.status_code == 200
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
        rows = [[_as_shown(c) for c in r] for r in sheet.iter_rows()]
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _as_shown(cell) -> str:
    """A workbook cell as a spreadsheet shows it: rates are numbers with a percent format."""
    if cell.value is None:
        return ""
    if isinstance(cell.value, int | float) and cell.number_format == "0.0%":
        return f"{cell.value:.1%}"
    if isinstance(cell.value, int | float) and cell.number_format == "0.0":
        return f"{cell.value:.1f}"
    return str(cell.value)


def months_between(first: str, last: str) -> tuple[str, ...]:
    return tuple(m for m in RAW if first <= m <= last)


def red_counts(tables: dict[str, list[dict]], by: str, first: str, last: str, columns=RED_COLUMNS):
    """(months counted, figure published) for the university's red count in every table."""
    seen = []
    for kpi, column in columns:
        for row in tables.get(kpi, []):
            if row["Institution"] == NAME:
                months = (row["Month"],) if by == "month" else months_between(first, last)
                seen.append((months, row[column]))
    return seen


def observations(client, by: str, periods, columns=RED_COLUMNS) -> list[tuple[tuple, str]]:
    """The red counts of the page's tables (all, or `columns`), for each period."""
    seen = []
    for first, last in periods:
        seen += red_counts(page_tables(client, by, first, last), by, first, last, columns)
    return seen


# --- the attacker's reasoning --------------------------------------------------------------------


def could_be(published: str, raw: int) -> bool:
    """Whether a true count `raw` could have been published as `published`."""
    if published == MARK:
        return 1 <= raw < THRESHOLD
    value = int(published)
    if value % BASE:
        return raw == value
    return abs(raw - value) < BASE


def august_candidates(seen: list[tuple[tuple, str]]) -> set[int]:
    """Every August count for which some July and September make all `seen` figures true."""
    found, seen = set(), set(seen)
    for counts in itertools.product(range(31), repeat=3):
        raw = dict(zip(RAW, counts, strict=True))
        if all(could_be(shown, sum(raw[m] for m in months)) for months, shown in seen):
            found.add(raw[AUG])
    return found


def assert_august_stays_hidden(seen: list[tuple[tuple, str]]) -> None:
    assert all(shown != str(RAW[AUG]) for months, shown in seen if months == (AUG,))
    candidates = august_candidates(seen)
    assert RAW[AUG] in candidates  # the attacker's reading of the rule is right
    assert len(candidates) > 1, f"August recovered: {candidates}"


# --- the attacks ---------------------------------------------------------------------------------


def test_crisis_and_levels_tables_hide_the_same_small_month(auditor):
    seen = observations(auditor, "month", [(JUL, SEP)])
    august = {shown for months, shown in seen if months == (AUG,)}
    assert august == {MARK}
    assert_august_stays_hidden(seen)


def test_an_institution_total_minus_the_months_shown_gives_only_a_range(auditor):
    levels = [("levels", "Red"), ("levels", "Total")]
    seen = observations(auditor, "month", [(JUL, SEP)], levels)
    seen += observations(auditor, "institution", [(JUL, SEP)], levels)
    assert_august_stays_hidden(seen)


def test_two_overlapping_periods_subtracted_give_only_a_range(auditor):
    periods = [(JUL, AUG), (JUL, JUL), (AUG, SEP), (SEP, SEP)]
    assert_august_stays_hidden(observations(auditor, "institution", periods))


def test_every_page_and_export_together_leaves_the_hidden_month_uncertain(auditor):
    """The exports show exactly the page's tables, and all of it at once does not pin August."""
    seen = []
    for by, periods in (("month", [(JUL, SEP)]), ("institution", PERIODS)):
        for first, last in periods:
            tables = page_tables(auditor, by, first, last)
            for (kpi, _column), fmt in itertools.product(RED_COLUMNS, ("csv", "xlsx")):
                exported = export_table(auditor, kpi, fmt, by, first, last)
                assert exported == tables[kpi], (kpi, fmt, by, first, last)
                seen += red_counts({kpi: exported}, by, first, last)
            seen += red_counts(tables, by, first, last)
    assert_august_stays_hidden(seen)


def test_a_rate_never_gives_back_a_count(auditor):
    """Red warnings per 10,000 × students ÷ 10,000 is the published count, not the true one."""
    rows = {r["Month"]: r for r in page_tables(auditor, "month", JUL, SEP)["crisis"]}
    assert rows[AUG]["Per 10,000"] == "hidden"  # "< 10" beside a rate read as "under 10"
    for month in (JUL, SEP):
        rate, students = float(rows[month]["Per 10,000"]), int(rows[month]["Students"])
        assert round(rate * students / 10_000) == int(rows[month]["Red warnings"]) != RAW[month]


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("en", ["How small numbers are protected", "rounded to a multiple of 5", "overlapping"]),
        ("zh_CN", ["小数字保护规则", "舍入为 5 的倍数", "相互重叠的期间相减"]),
    ],
)
def test_the_page_writes_the_rule_and_why_in_the_readers_language(province, login, locale, said):
    province.locale = locale
    db.session.commit()
    body = login(province).get("/oversight/province").get_data(as_text=True)
    assert all(text in body for text in said), said


def test_a_count_is_rounded_to_five_at_most_four_away_and_always_the_same_way():
    protection = disclosure.Protection(THRESHOLD, "secret")
    shown = {value: protection.count(value, 1) for value in range(THRESHOLD, 200)}
    assert all(r % BASE == 0 and abs(r - v) < BASE for v, r in shown.items())
    assert shown == {value: protection.count(value, 1) for value in range(THRESHOLD, 200)}
    assert {r > v for v, r in shown.items() if v % BASE} == {True, False}
    assert [protection.count(v, 1) for v in (0, 1, 9)] == [0, MARK, MARK]


def test_a_small_school_shows_no_staffing_figure(world, login):
    """Every figure of a group under the threshold is hidden, yes/no answers included."""
    client = login(world.province)
    rows = {r["Institution"]: r for r in page_tables(client, "institution", SEP, SEP)["staffing"]}
    assert set(rows["Xiangjiang University"].values()) == {"Xiangjiang University", MARK, "hidden"}
