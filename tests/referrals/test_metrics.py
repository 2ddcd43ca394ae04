"""The closure audit on a fixture small enough to work out by hand.

Period 2026-09-01..2026-09-30, expected closure = sent + 90 days, now = 2026-10-15,
stalled = 14 days.

| ref | dept | hosp | sent  | expected | status        | ended | days | due? | closed?            |
|-----|------|------|-------|----------|---------------|-------|------|------|--------------------|
| r1  | A    | H1   | 06-05 | 09-03    | closed        | 06-15 | 10   | yes  | yes                |
| r2  | A    | H1   | 06-10 | 09-08    | closed        | 07-10 | 30   | yes  | yes                |
| r3  | A    | H2   | 06-20 | 09-18    | declined      | 07-10 | 20   | yes  | yes (documented)   |
| r4  | B    | H1   | 06-25 | 09-23    | lost          | 08-01 | —    | yes  | no (lost)          |
| r5  | B    | H2   | 06-28 | 09-26    | in_treatment  | —     | —    | yes  | no; stalled+overdue|
| r8  | A    | H2   | 06-15 | 09-13    | closed        | 10-05 | —    | yes  | no (after period)  |
| r6  | B    | H1   | 07-05 | 10-03    | sent          | —     | —    | no   | stalled+overdue    |
| r7  | B    | H1   | draft | —        | draft         | —     | —    | no   | updated 10-10: fine|

Overall: due 6, closed 3 → rate 0.5; days [10, 20, 30] → median 20, p90 = 20 + 0.8 × 10 = 28
(rank 0.9 × (3 − 1) = 1.8). Department A: due 4, closed 3, rate 0.75, median 20, p90 28, stalled 0.
Department B: due 2, closed 0, rate 0, median none, stalled 1, overdue 1.
Hospital H1: r1, r2, r4 → due 3, closed 2, median 20, p90 10 + 0.9 × 20 = 28.
Right now: stalled r5, r6 and overdue r5, r6.
"""

from __future__ import annotations

import math
from datetime import date
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from referrals import metrics
from referrals.services import ReferralSettings

NOW = datetime(2026, 10, 15, 12, 0)
SHANGHAI = ZoneInfo("Asia/Shanghai")
SEPTEMBER = metrics.Period(date(2026, 9, 1), date(2026, 9, 30))
T = pd.Timestamp


def _row(rid, dept, hosp, sent, status, ended=None, updated=None):
    sent_at = T(f"2026-{sent} 08:00") if sent else pd.NaT
    ended_at = T(f"2026-{ended} 08:00") if ended else pd.NaT
    last = T(f"2026-{updated} 08:00") if updated else (ended_at if ended else sent_at)
    return {
        "id": rid,
        "student_id": 100 + rid,
        "status": status,
        "sent_at": sent_at,
        "ended_at": ended_at,
        "last_transition_at": last,
        "department_id": 1 if dept == "A" else 2,
        "department": dept,
        "hospital_id": 1 if hosp == "H1" else 2,
        "hospital": hosp,
        "student_number": f"S{rid}",
        "student_name": f"Student {rid}",
    }


@pytest.fixture
def annotated():
    frame = pd.DataFrame(
        [
            _row(1, "A", "H1", "06-05", "closed", "06-15"),
            _row(2, "A", "H1", "06-10", "closed", "07-10"),
            _row(3, "A", "H2", "06-20", "declined", "07-10"),
            _row(4, "B", "H1", "06-25", "lost_to_follow_up", "08-01"),
            _row(5, "B", "H2", "06-28", "in_treatment", updated="09-20"),
            _row(8, "A", "H2", "06-15", "closed", "10-05"),
            _row(6, "B", "H1", "07-05", "sent"),
            _row(7, "B", "H1", None, "draft", updated="10-10"),
        ]
    )
    return metrics.annotate(frame, SEPTEMBER, NOW, ReferralSettings(), SHANGHAI)


def test_overall_closure_rate_median_and_p90_match_the_hand_count(annotated):
    overall = metrics.summarise(annotated).iloc[0]
    assert (overall["due"], overall["closed"]) == (6, 3)
    assert overall["closure_rate"] == pytest.approx(0.5)
    assert overall["median_days"] == pytest.approx(20)
    assert overall["p90_days"] == pytest.approx(28)
    assert (overall["stalled"], overall["overdue"]) == (1, 1)


def test_closure_by_department(annotated):
    table = metrics.summarise(annotated, "department")
    a, b = table.loc["A"], table.loc["B"]
    assert (a["due"], a["closed"], a["stalled"]) == (4, 3, 0)
    assert a["closure_rate"] == pytest.approx(0.75)
    assert (a["median_days"], a["p90_days"]) == (pytest.approx(20), pytest.approx(28))
    assert (b["due"], b["closed"], b["stalled"], b["overdue"]) == (2, 0, 1, 1)
    assert b["closure_rate"] == 0
    assert math.isnan(b["median_days"])


def test_closure_by_hospital_and_month(annotated):
    h1 = metrics.summarise(annotated, "hospital").loc["H1"]
    assert (h1["due"], h1["closed"]) == (3, 2)
    assert (h1["median_days"], h1["p90_days"]) == (pytest.approx(20), pytest.approx(28))
    months = metrics.summarise(annotated, "month")
    assert list(months.index) == ["2026-09"]
    assert months.loc["2026-09", "due"] == 6


def test_stalled_and_overdue_right_now(annotated):
    assert metrics.snapshot(annotated) == {"stalled": 2, "overdue": 2}
    assert list(metrics.drill_down(annotated, which="stalled")["id"]) == [5, 6]


def test_drill_down_lists_the_referrals_behind_a_figure(annotated):
    rows = metrics.drill_down(annotated, which="due", department_id=2)
    assert sorted(rows["id"]) == [4, 5]
    assert sorted(metrics.drill_down(annotated, which="closed")["id"]) == [1, 2, 3]


def test_empty_period_has_no_rate_instead_of_dividing_by_zero(annotated):
    frame = annotated.drop(
        columns=["expected_closure", "due", "closed", "days", "stalled", "overdue", "month"]
    )
    empty = metrics.annotate(
        frame,
        metrics.Period(date(2025, 1, 1), date(2025, 1, 31)),
        NOW,
        ReferralSettings(),
        SHANGHAI,
    )
    overall = metrics.summarise(empty).iloc[0]
    assert (overall["due"], overall["closed"]) == (0, 0)
    assert math.isnan(overall["closure_rate"])
    assert math.isnan(overall["median_days"])
    assert metrics.summarise(empty, "department").empty


def test_closure_page_renders_with_no_referrals_at_all(world, login):
    response = login(world.director).get("/referrals/closure?first=2026-09-01&last=2026-09-30")
    assert response.status_code == 200
    assert "—" in response.get_data(as_text=True)


def test_a_referral_due_just_after_local_midnight_falls_on_that_local_day():
    """Sent 00:30 on 3 June in Shanghai (16:30 on 2 June in UTC): due 00:30 on 1 September in
    Shanghai, so it is due in September although UTC still says 31 August."""
    frame = pd.DataFrame([_row(1, "A", "H1", "06-02", "sent")])
    frame["sent_at"] = frame["last_transition_at"] = T("2026-06-02 16:30")
    annotated = metrics.annotate(frame, SEPTEMBER, NOW, ReferralSettings(), SHANGHAI)
    assert annotated["due"].tolist() == [True]
    assert annotated["month"].tolist() == ["2026-09"]


def test_a_referral_due_at_half_past_midnight_on_1_october_is_not_due_in_september():
    """Due 00:30 on 1 October in Shanghai (16:30 on 30 September in UTC): October's, not
    September's."""
    frame = pd.DataFrame([_row(1, "A", "H1", "07-02", "sent")])
    frame["sent_at"] = frame["last_transition_at"] = T("2026-07-02 16:30")
    october = metrics.Period(date(2026, 10, 1), date(2026, 10, 31))
    assert not metrics.annotate(frame, SEPTEMBER, NOW, ReferralSettings(), SHANGHAI)["due"].any()
    assert metrics.annotate(frame, october, NOW, ReferralSettings(), SHANGHAI)["due"].all()
