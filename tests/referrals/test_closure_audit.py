"""What an administrator auditing September's referral closures sees, on the database: the page
and its files (pandas, `referrals.metrics`) and the dashboard's KPI (SQL, `oversight.kpis`) on
the same four referrals. Before, a referral counted only in the month of its expected closure
date (sent + 90 days), so one the hospital closed after three weeks was nowhere to be seen.

Now is 2026-09-14 02:00 UTC (10:00 in Shanghai); every time below is 10:00 in Shanghai.

| student | sent  | expected | now                                | September             |
|---------|-------|----------|------------------------------------|-----------------------|
| XJU001  | 08-10 | 11-08    | closed 09-01 by Wang Li (centre)   | closed early, 22 days |
| XJU002  | 05-20 | 08-18    | declined 09-10 by Dr Zhou (hosp.)  | closed late, 113 days |
| XJU003  | 06-01 | 08-30    | in treatment, updated 09-05        | overdue               |
| XJU004  | 07-01 | 09-29    | appointment booked 07-05           | not yet due; stalled  |

September: due 3, closed 2 (1 late), overdue 1, closure rate 2 / 3; days [22, 113]: median
67.5, p90 = 22 + 0.9 × 91 = 103.9. August, as of its end: nothing closed, XJU002 (expected
08-18) and XJU003 (08-30) overdue: due 2, rate 0.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest

from campus import clock
from campus.extensions import db
from campus.models import Institution
from campus.models import Role
from campus.models import User
from oversight import kpis
from referrals import metrics
from referrals.models import Referral
from referrals.models import ReferralStatus
from referrals.models import ReferralTransition
from referrals.services import ReferralSettings
from tests.factories import referral_row
from tests.pages import visible_text

S = ReferralStatus
SHANGHAI = ZoneInfo("Asia/Shanghai")
SEPTEMBER = "first=2026-09-01&last=2026-09-30"


@dataclass
class Audit:
    institution: Institution
    director: User
    referrals: dict[str, Referral]


def _ended(student, hospital, by: User, side: str, sent: datetime, status, ended: datetime):
    """A referral that `by` ended (acting for `side`) at `ended`, with the transition saying so."""
    referral = referral_row(
        student, hospital, by, sent, status, ended_at=ended, last_transition_at=ended
    )
    db.session.add(
        ReferralTransition(
            referral_id=referral.id,
            from_status=S.ASSESSED,
            to_status=status,
            by_id=by.id,
            by_role=side,
            at=ended,
        )
    )
    return referral


@pytest.fixture
def audit(campus) -> Audit:
    institution = campus.institution("XJU", "Xiangjiang University")
    group = campus.class_group(campus.department(institution, "Computing"))
    hospital = campus.hospital(institution, "Brain Hospital")
    counsellor = campus.staff(institution, Role.SCHOOL_COUNSELLOR)
    counsellor.name = "Wang Li"
    liaison = campus.staff(institution, Role.HOSPITAL_LIAISON, hospital=hospital)
    liaison.name = "Dr Zhou"
    director = campus.staff(institution, Role.DIRECTOR)
    s1, s2, s3, s4 = (campus.student(group, number=f"XJU00{n}") for n in range(1, 5))
    at = lambda month, day: datetime(2026, month, day, 2)  # noqa: E731 - 10:00 in Shanghai
    referrals = {
        "early": _ended(s1, hospital, counsellor, "counsellor", at(8, 10), S.CLOSED, at(9, 1)),
        "late": _ended(s2, hospital, liaison, "liaison", at(5, 20), S.DECLINED, at(9, 10)),
        "overdue": referral_row(
            s3, hospital, counsellor, at(6, 1), S.IN_TREATMENT, last_transition_at=at(9, 5)
        ),
        "not_due": referral_row(
            s4, hospital, counsellor, at(7, 1), S.APPOINTMENT_BOOKED, last_transition_at=at(7, 5)
        ),
    }
    campus.commit()
    return Audit(institution, director, referrals)


def _kpi(audit: Audit, by: str, first: date) -> pd.DataFrame:
    view = kpis.View(
        (audit.institution.id,),
        first,
        date(2026, 9, 1),
        by,
        utc_offset=kpis.offset_of(SHANGHAI, first),
    )
    return kpis.compute(db.session, kpis.BY_KEY["referrals"], view, clock.now(), ReferralSettings())


def test_the_kpi_counts_the_closed_early_the_closed_late_and_the_overdue(audit):
    (september,) = _kpi(audit, "institution", date(2026, 9, 1)).to_dict("records")
    assert (september["due"], september["closed"], september["closed_late"]) == (3, 2, 1)
    assert (september["lost"], september["overdue"], september["stalled"]) == (0, 1, 1)
    assert september["closure_rate"] == pytest.approx(2 / 3)
    assert float(september["median_days"]) == pytest.approx(67.5)
    assert float(september["p90_days"]) == pytest.approx(103.9)
    assert september["students"] == 3  # the one not yet due is not among them


def test_a_referral_closed_this_very_instant_is_closed_not_also_overdue(audit):
    """The journeys' frozen clock closed a late referral at the audit's own moment: it read as
    closed and overdue at once (due 2, closed 1, 50%)."""
    overdue = audit.referrals["overdue"]
    overdue.status, overdue.ended_at = S.CLOSED, clock.now()
    db.session.commit()
    (september,) = _kpi(audit, "institution", date(2026, 9, 1)).to_dict("records")
    assert (september["due"], september["closed"], september["overdue"]) == (3, 3, 0)
    frame = metrics.referral_frame(db.session, audit.director, audit.institution.id)
    period = metrics.Period(date(2026, 9, 1), date(2026, 9, 30))
    page = metrics.annotate(frame, period, clock.now(), ReferralSettings(), SHANGHAI)
    assert not page["overdue"].any()


def test_each_month_is_its_own_audit_in_the_kpi_and_on_the_page(audit):
    by_month = _kpi(audit, "month", date(2026, 8, 1)).set_index("month")
    frame = metrics.referral_frame(db.session, audit.director, audit.institution.id)
    period = metrics.Period(date(2026, 8, 1), date(2026, 9, 30))
    page = metrics.by_month(frame, period, clock.now(), ReferralSettings(), SHANGHAI)
    assert (by_month.loc["2026-08", "due"], by_month.loc["2026-08", "overdue"]) == (2, 2)
    assert by_month.loc["2026-08", "closure_rate"] == 0
    assert (by_month.loc["2026-09", "due"], by_month.loc["2026-09", "closed"]) == (3, 2)
    for month in ("2026-08", "2026-09"):
        for column in metrics.COLUMNS:
            kpi, pandas = by_month.loc[month, column], page.loc[month, column]
            assert float(kpi) == pytest.approx(float(pandas), nan_ok=True), (month, column)


def _cells(row_html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row_html)]


def _rows(body: str) -> dict[str, list[str]]:
    """A closure list's rows by student number (its second cell)."""
    rows = [_cells(row) for row in re.findall(r"<tr><td>\d+</td>.*?</tr>", body, re.S)]
    return {row[1]: row for row in rows}


def _listed(client, args: str) -> list[str]:
    """The student numbers a closure list shows."""
    return sorted(_rows(client.get(f"/referrals/closure/list?{args}").get_data(as_text=True)))


def test_the_page_shows_the_month_the_referral_closed_in(audit, login):
    body = login(audit.director).get(f"/referrals/closure?{SEPTEMBER}").get_data(as_text=True)
    overall = re.search(r"<tr><td>All</td>(.*?)</tr>", body, re.S)
    assert overall is not None
    # Due, closed, rate, closed late, lost, overdue, median, p90, stalled now.
    assert _cells(overall.group(1)) == ["3", "2", "67%", "1", "0", "1", "67.5", "103.9", "1"]


def test_a_chinese_director_reads_the_rate_and_the_months_as_chinese_writes_them(audit, login):
    """The audit read 「67 %」 and 「2026-09」: a percentage takes no space before its sign, and a
    month row says its month in words, as the other oversight pages do."""
    audit.director.locale = "zh_CN"
    db.session.commit()
    client = login(audit.director)

    body = client.get("/referrals/closure?first=2026-08-01&last=2026-09-30").get_data(True)
    month_rows = dict(
        (cells[0], cells[1:])
        for cells in (_cells(row) for row in re.findall(r"<tr>(<td>.*?)</tr>", body, re.S))
        if cells[0].startswith("2026")
    )

    assert list(month_rows) == ["2026年8月", "2026年9月"]
    assert month_rows["2026年9月"][2] == "67%"
    assert " %" not in visible_text(body)
    # The month still opens its own list.
    assert "month=2026-09" in body


def test_the_list_says_how_each_ended_by_whom_and_against_which_date(audit, login):
    client = login(audit.director)
    rows = _rows(client.get(f"/referrals/closure/list?which=due&{SEPTEMBER}").get_data(True))
    assert sorted(rows) == ["XJU001", "XJU002", "XJU003"]  # not XJU004, not yet due
    # Status, sent, expected closure, ended (days in words, as every page says a day; the file
    # keeps them ISO), against the expected date, ended by, flags.
    assert rows["XJU001"][5:] == [
        "Closed",
        "Mon 10 Aug",
        "Sun 8 Nov",
        "Tue 1 Sep",
        "Early",
        "Wang Li (Counselling centre)",
        "",
    ]
    assert rows["XJU002"][5:] == [
        "Declined",
        "Wed 20 May",
        "Tue 18 Aug",
        "Thu 10 Sep",
        "Late",
        "Dr Zhou (Hospital)",
        "",
    ]
    assert rows["XJU003"][9:] == ["", "", "Overdue"]
    assert _listed(client, f"which=overdue&{SEPTEMBER}") == ["XJU003"]
    assert _listed(client, f"which=late&{SEPTEMBER}") == ["XJU002"]
    assert _listed(client, f"which=stalled&{SEPTEMBER}") == ["XJU004"]


def test_a_month_of_the_period_lists_that_months_audit(audit, login):
    """August's row: XJU002 and XJU003 were overdue at the end of August."""
    client = login(audit.director)
    args = "which=due&first=2026-08-01&last=2026-09-30"
    assert _listed(client, f"{args}&month=2026-08") == ["XJU002", "XJU003"]
    assert client.get(f"/referrals/closure/list?{args}&month=2026-12").status_code == 400


def test_the_file_says_it_as_the_list_does_with_its_times_on_beijing_time(audit, login):
    client = login(audit.director)
    response = client.get(f"/referrals/closure/export.csv?which=closed&{SEPTEMBER}")
    header, *rows = csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))
    shown = {row[1]: dict(zip(header, row, strict=True)) for row in rows}
    assert sorted(shown) == ["XJU001", "XJU002"]
    early, late = shown["XJU001"], shown["XJU002"]
    assert (early["Sent (Beijing time)"], early["Ended (Beijing time)"]) == (
        "2026-08-10 10:00",
        "2026-09-01 10:00",
    )
    assert early["Expected closure"] == "2026-11-08"
    assert (early["Against the expected date"], late["Against the expected date"]) == (
        "Early",
        "Late",
    )
    assert (early["Ended by"], late["Ended by"]) == (
        "Wang Li (Counselling centre)",
        "Dr Zhou (Hospital)",
    )
    assert "Ended by (side)" not in header


def test_a_chinese_directors_workbook_reads_in_chinese(audit, login):
    audit.director.locale = "zh_CN"
    db.session.commit()
    client = login(audit.director)
    response = client.get(f"/referrals/closure/export.xlsx?which=closed&{SEPTEMBER}")
    header, *rows = openpyxl.load_workbook(io.BytesIO(response.data)).active.values
    late = next(dict(zip(header, row, strict=True)) for row in rows if row[1] == "XJU002")
    assert late["结束时间（北京时间）"] == datetime(2026, 9, 10, 10, 0)
    assert late["与预计结案日相比"] == "逾期"
    assert late["办结人"] == "Dr Zhou（医院）"


def test_a_period_across_a_new_year_gives_each_end_its_year(audit, login):
    audit.director.locale = "zh_CN"
    db.session.commit()
    client = login(audit.director)

    across = client.get("/referrals/closure?first=2025-12-01&last=2026-09-30").get_data(True)
    within = client.get(f"/referrals/closure?{SEPTEMBER}").get_data(True)

    assert "2025年12月1日 周一 至 2026年9月30日 周三" in visible_text(across)
    assert "9月1日 周二 至 9月30日 周三" in visible_text(within)
