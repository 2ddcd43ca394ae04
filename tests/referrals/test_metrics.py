"""The closure audit on a fixture small enough to work out by hand.

Period 2026-09-01..2026-09-30, now = 2026-10-15 12:00 UTC (20:00 in Shanghai), so September is
audited as of its end; expected closure = sent + 90 days; stalled = 14 days (updated on or
before 10-01). Times are 08:00 UTC, 16:00 in Shanghai: the same calendar day.

| ref | dept | hosp | sent  | expected | status        | ended | timing  | September            |
|-----|------|------|-------|----------|---------------|-------|---------|----------------------|
| r1  | A    | H1   | 07-10 | 10-08    | closed        | 09-05 | early   | closed (57 days)     |
| r2  | A    | H1   | 06-01 | 08-30    | closed        | 09-15 | late    | closed (106 days)    |
| r3  | A    | H2   | 06-20 | 09-18    | declined      | 09-18 | on time | closed (90 days)     |
| r4  | B    | H1   | 05-01 | 07-30    | lost          | 09-10 | late    | lost                 |
| r5  | B    | H2   | 06-28 | 09-26    | in_treatment  | —     | —       | overdue; stalled now |
| r6  | B    | H1   | 07-05 | 10-03    | sent          | —     | —       | not yet due; stalled |
| r7  | B    | H1   | draft | —        | draft         | —     | —       | (updated 10-10)      |
| r8  | A    | H2   | 05-15 | 08-13    | closed        | 10-05 | late    | overdue at its end   |
| r9  | A    | H1   | 03-01 | 05-30    | closed        | 08-20 | late    | (August's)           |

September: closed r1 r2 r3 (late: r2), lost r4, overdue r5 r8 → due 6, closure rate 3 / 6 = 0.5;
days [57, 90, 106] → median 90, p90 = 90 + 0.8 × 16 = 102.8 (rank 0.9 × 2 = 1.8). Stalled now:
r5, r6. Department A: r1 r2 r3 r8 → due 4, closed 3, overdue 1, rate 0.75. Department B: r4 r5 →
due 2, closed 0, lost 1, overdue 1, rate 0; stalled r5 r6. Hospital H1: r1 r2 r4 → due 3, closed
2, days [57, 106] → median 81.5, p90 = 57 + 0.9 × 49 = 101.1.

August, as of its end (local midnight on 09-01): closed r9 (late); overdue r2 (expected 08-30),
r4 (07-30), r8 (08-13) → due 4, rate 0.25. October, as of now: closed r8 (late); overdue r5 and
r6 (expected 10-03) → due 3. r8 is overdue in August and September and closed late in October.
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
        "ended_by": "Counsellor" if ended else None,
        "ended_side": "counsellor" if ended else None,
    }


@pytest.fixture
def frame():
    return pd.DataFrame(
        [
            _row(1, "A", "H1", "07-10", "closed", "09-05"),
            _row(2, "A", "H1", "06-01", "closed", "09-15"),
            _row(3, "A", "H2", "06-20", "declined", "09-18"),
            _row(4, "B", "H1", "05-01", "lost_to_follow_up", "09-10"),
            _row(5, "B", "H2", "06-28", "in_treatment", updated="09-20"),
            _row(6, "B", "H1", "07-05", "sent"),
            _row(7, "B", "H1", None, "draft", updated="10-10"),
            _row(8, "A", "H2", "05-15", "closed", "10-05"),
            _row(9, "A", "H1", "03-01", "closed", "08-20"),
        ]
    )


@pytest.fixture
def annotated(frame):
    return metrics.annotate(frame, SEPTEMBER, NOW, ReferralSettings(), SHANGHAI)


def test_a_month_counts_what_closed_in_it_and_what_was_overdue_at_its_end(annotated):
    overall = metrics.summarise(annotated).iloc[0]
    assert (overall["due"], overall["closed"], overall["closed_late"]) == (6, 3, 1)
    assert (overall["lost"], overall["overdue"], overall["stalled"]) == (1, 2, 2)
    assert overall["closure_rate"] == pytest.approx(0.5)
    assert overall["median_days"] == pytest.approx(90)
    assert overall["p90_days"] == pytest.approx(102.8)


def test_each_ended_referral_is_early_on_time_or_late_against_its_expected_date(annotated):
    timing = annotated.set_index("id")["timing"]
    assert (timing[1], timing[2], timing[3], timing[4], timing[8]) == (
        "early",
        "late",
        "on_time",
        "late",
        "late",
    )
    assert timing[[5, 6, 7]].isna().all()  # not ended: neither early nor late
    assert annotated.set_index("id").loc[1, "expected_closure"] == date(2026, 10, 8)


def test_closure_by_department(annotated):
    table = metrics.summarise(annotated, "department")
    a, b = table.loc["A"], table.loc["B"]
    assert (a["due"], a["closed"], a["overdue"], a["stalled"]) == (4, 3, 1, 0)
    assert a["closure_rate"] == pytest.approx(0.75)
    assert (a["median_days"], a["p90_days"]) == (pytest.approx(90), pytest.approx(102.8))
    assert (b["due"], b["closed"], b["lost"], b["overdue"], b["stalled"]) == (2, 0, 1, 1, 2)
    assert b["closure_rate"] == 0
    assert math.isnan(b["median_days"])


def test_closure_by_hospital(annotated):
    h1 = metrics.summarise(annotated, "hospital").loc["H1"]
    assert (h1["due"], h1["closed"], h1["closed_late"], h1["lost"]) == (3, 2, 1, 1)
    assert (h1["median_days"], h1["p90_days"]) == (pytest.approx(81.5), pytest.approx(101.1))


def test_each_month_is_audited_as_of_its_own_end(frame):
    """r8 was overdue at the end of August and of September and closed late in October; the
    stalled referrals are today's, so only October (today's month) shows them."""
    period = metrics.Period(date(2026, 8, 1), date(2026, 10, 31))
    months = metrics.by_month(frame, period, NOW, ReferralSettings(), SHANGHAI)
    assert list(months.index) == ["2026-08", "2026-09", "2026-10"]
    august, september, october = (months.loc[m] for m in months.index)
    assert (august["due"], august["closed"], august["overdue"]) == (4, 1, 3)
    assert august["closure_rate"] == pytest.approx(0.25)
    assert (september["due"], september["closed"], september["overdue"]) == (6, 3, 2)
    assert (october["due"], october["closed"], october["closed_late"]) == (3, 1, 1)
    assert october["overdue"] == 2
    assert (august["stalled"], september["stalled"], october["stalled"]) == (0, 0, 2)


def test_a_month_still_to_come_has_nothing_due(frame):
    november = metrics.Period(date(2026, 11, 1), date(2026, 11, 30))
    empty = metrics.annotate(frame, november, NOW, ReferralSettings(), SHANGHAI)
    assert not empty["due"].any()
    assert math.isnan(metrics.summarise(empty).iloc[0]["closure_rate"])


def test_stalled_and_overdue_right_now(frame, annotated):
    assert metrics.snapshot(frame, NOW, ReferralSettings(), SHANGHAI) == {
        "stalled": 2,
        "overdue": 2,  # r5, and r6 whose expected closure (10-03) is over by now
    }
    assert list(metrics.drill_down(annotated, which="stalled")["id"]) == [5, 6]


def test_drill_down_lists_the_referrals_behind_a_figure(annotated):
    rows = metrics.drill_down(annotated, which="due", department_id=2)
    assert sorted(rows["id"]) == [4, 5]
    assert sorted(metrics.drill_down(annotated, which="closed")["id"]) == [1, 2, 3]
    assert list(metrics.drill_down(annotated, which="late")["id"]) == [2]
    assert list(metrics.drill_down(annotated, which="lost")["id"]) == [4]
    assert sorted(metrics.drill_down(annotated, which="overdue")["id"]) == [5, 8]
    with pytest.raises(ValueError, match="unknown list"):
        metrics.drill_down(annotated, which="month")


def test_empty_period_has_no_rate_instead_of_dividing_by_zero(frame):
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
    assert overall["stalled"] == 2  # stalled now, whatever the period


def test_closure_page_renders_with_no_referrals_at_all(world, login):
    response = login(world.director).get("/referrals/closure?first=2026-09-01&last=2026-09-30")
    assert response.status_code == 200
    assert "—" in response.get_data(as_text=True)


def test_a_referral_closed_just_after_local_midnight_closes_on_that_local_day(frame):
    """Ended 00:30 on 1 October in Shanghai (16:30 on 30 September in UTC): October's."""
    one = frame[frame["id"] == 1].copy()
    one["ended_at"] = T("2026-09-30 16:30")
    october = metrics.Period(date(2026, 10, 1), date(2026, 10, 31))
    assert not metrics.annotate(one, SEPTEMBER, NOW, ReferralSettings(), SHANGHAI)["closed"].any()
    assert metrics.annotate(one, october, NOW, ReferralSettings(), SHANGHAI)["closed"].all()


def test_a_referral_is_overdue_once_its_expected_closure_day_is_over_in_local_time(frame):
    """Sent 00:30 on 3 June in Shanghai (16:30 on 2 June in UTC): expected to close on 1
    September, a local day. Still open at the end of August, its day had not begun; at the end
    of September it is overdue."""
    one = frame[frame["id"] == 5].copy()
    one["sent_at"] = one["last_transition_at"] = T("2026-06-02 16:30")
    august = metrics.Period(date(2026, 8, 1), date(2026, 8, 31))
    in_august = metrics.annotate(one, august, NOW, ReferralSettings(), SHANGHAI)
    assert in_august["expected_closure"].tolist() == [date(2026, 9, 1)]
    assert not in_august["overdue"].any()
    assert metrics.annotate(one, SEPTEMBER, NOW, ReferralSettings(), SHANGHAI)["overdue"].all()


def test_a_period_is_split_into_the_parts_of_its_months():
    period = metrics.Period(date(2026, 8, 20), date(2026, 10, 5))
    assert [(key, part.first, part.last) for key, part in period.months()] == [
        ("2026-08", date(2026, 8, 20), date(2026, 8, 31)),
        ("2026-09", date(2026, 9, 1), date(2026, 9, 30)),
        ("2026-10", date(2026, 10, 1), date(2026, 10, 5)),
    ]
    assert period.month("2026-10") == metrics.Period(date(2026, 10, 1), date(2026, 10, 5))
    with pytest.raises(ValueError, match="not a month"):
        period.month("2026-11")
