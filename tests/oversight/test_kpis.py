"""KPI values on the `world` fixture, worked out by hand (arithmetic in the comments)."""

from __future__ import annotations

import math
from datetime import date
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import insert
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import StaffingEntry
from campus.models import StaffPost
from campus.models import Student
from oversight import kpis
from oversight import tables
from referrals.services import ReferralSettings
from tests.oversight.conftest import add_warning
from tests.warning.response_helpers import DEPARTMENT_PEER_WATCH
from warning.models import Deadline
from warning.models import PolicyKind
from warning.models import PolicyStatus
from warning.models import PolicyVersion
from warning.models import WeeklyReport
from warning.response_policy import default_response_yaml

SEPT = date(2026, 9, 1)
SHANGHAI = ZoneInfo("Asia/Shanghai")
EIGHT_HOURS = timedelta(hours=8)  # months are Shanghai calendar months


def view(world, by="department", first=SEPT, last=SEPT, department_id=None):
    return kpis.View((world.xju.institution.id,), first, last, by, department_id, EIGHT_HOURS)


def row(frame: pd.DataFrame, **where) -> dict:
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    (found,) = frame[mask].to_dict("records")
    return found


def compute(key, v):
    return kpis.compute(db.session, kpis.BY_KEY[key], v, clock.now(), ReferralSettings())


def test_screening_coverage_counts_completed_students_of_the_cohort(world):
    out = compute("screening", view(world))
    # Computing: S1, S2, S3 assigned, S1 and S3 completed -> 2 / 3 = 66.7 %
    computing = row(out, department="Computing")
    assert (computing["cohort"], computing["screened"]) == (3, 2)
    assert computing["coverage"] == 2 / 3
    # Maths: S4 assigned and completed -> 1 / 1
    assert row(out, department="Maths")["coverage"] == 1.0
    # The institution as a whole: 3 / 4 = 75 %
    assert compute("screening", view(world, "institution"))["coverage"].tolist() == [0.75]


def test_service_coverage_is_contacted_warned_students_over_warned_students(world):
    out = compute("service", view(world, "institution"))
    # Opened in September: S1 (red, contacted) and S2 (yellow, no contact); S3's is August's.
    # 1 contacted / 2 warned = 50 %
    assert row(out, institution="Xiangjiang University")["warned"] == 2
    assert out["coverage"].tolist() == [0.5]


def test_crisis_rate_is_red_warnings_per_10000_students_on_the_roll(world):
    out = compute("crisis", view(world, "institution"))
    # 1 red warning opened in September, 4 students on the roll: 1 * 10000 / 4 = 2500
    assert out["incidents"].tolist() == [1]
    assert out["per_10000"].tolist() == [2500.0]


def test_warnings_by_level_per_month(world):
    out = compute("levels", view(world, "month", first=date(2026, 8, 1)))
    # August: S3's blue. September: S1's red and S2's yellow.
    august, september = row(out, month="2026-08"), row(out, month="2026-09")
    assert (august["red"], august["yellow"], august["blue"]) == (0, 0, 1)
    assert (september["red"], september["yellow"], september["blue"], september["total"]) == (
        1,
        1,
        0,
        2,
    )


def test_deadline_compliance_per_level_leaves_out_superseded_and_future_deadlines(world):
    out = compute("deadlines", view(world, "institution"))
    # Red: acknowledge met on time, assessment met late; peer watch superseded (not owed) and
    # the follow-up due 09-20 is after now (09-14): 1 met / 2 due = 50 %.
    red = row(out, level_name="red")
    assert (red["due"], red["met"], red["compliance"]) == (2, 1, 0.5)
    # Yellow: the contact due 09-06 was never made: 0 / 1 = 0 %, shown as 0 %, not "—".
    assert row(out, level_name="yellow")["compliance"] == 0.0
    # Blue: nothing fell due: 0 / 0 -> no rate at all ("—").
    assert math.isnan(row(out, level_name="blue")["compliance"])


def _response_policy(institution_id: int, version: str, status: PolicyStatus, red_owes: str):
    """A campus's own response policy: the default's, its red owing `red_owes` where the
    default's red owes the peer watch."""
    text = default_response_yaml()
    assert DEPARTMENT_PEER_WATCH in text
    owed = DEPARTMENT_PEER_WATCH.replace("peer_watch", red_owes)
    text = text.replace(DEPARTMENT_PEER_WATCH, owed)
    db.session.add(
        PolicyVersion(
            institution_id=institution_id,
            kind=PolicyKind.RESPONSE,
            version=version,
            yaml_text=text.replace('"response-default-2026.2"', f'"{version}"'),
            status=status,
        )
    )


def test_deadline_compliance_places_deadlines_by_the_policy_that_set_them(world):
    """HNU's own policy in force has its red owe a department contact within 24 hours (the
    default's contact is yellow's); the one it retired had the default's levels. XJU keeps the
    shipped default."""
    hnu = world.hnu.institution.id
    _response_policy(hnu, "hnu-2026", PolicyStatus.ACTIVE, red_owes="contact")
    _response_policy(hnu, "hnu-2025", PolicyStatus.RETIRED, red_owes="peer_watch")
    red = world.hnu.warnings[0]  # opened 09-04 00:00
    raised = add_warning(world.hnu.students[1], 3, datetime(2026, 9, 5))  # yellow, then red
    db.session.add_all(
        [
            # Set under the policy in force: a red deadline, met on time.
            Deadline(
                warning_id=red.id,
                kind="contact",
                tier=3,
                due_at=datetime(2026, 9, 5),
                met_at=datetime(2026, 9, 4, 6),
                response_policy_version="hnu-2026",
            ),
            # Set before deadlines named their policy: read by the policy in force, red; missed.
            Deadline(warning_id=red.id, kind="contact", tier=3, due_at=datetime(2026, 9, 6)),
            # Set while the student was yellow under the retired policy: yellow's, met on time.
            Deadline(
                warning_id=raised.id,
                kind="contact",
                tier=3,
                due_at=datetime(2026, 9, 8),
                met_at=datetime(2026, 9, 6),
                response_policy_version="hnu-2025",
            ),
        ]
    )
    db.session.commit()
    both = kpis.View((world.xju.institution.id, hnu), SEPT, SEPT, "institution", None, EIGHT_HOURS)
    out = compute("deadlines", both)
    hnu_red = row(out, institution="Hunan Normal University", level_name="red")
    hnu_yellow = row(out, institution="Hunan Normal University", level_name="yellow")
    assert (hnu_red["due"], hnu_red["met"]) == (2, 1)  # the default would have put them in yellow
    assert (hnu_yellow["due"], hnu_yellow["met"], hnu_yellow["compliance"]) == (1, 1, 1.0)
    # XJU's, by the default as before: red 1 of 2, its yellow contact missed.
    xju_red = row(out, institution=XJU, level_name="red")
    assert (xju_red["due"], xju_red["met"]) == (2, 1)
    assert row(out, institution=XJU, level_name="yellow")["due"] == 1


def test_referral_closure_counts_a_referral_in_the_month_it_closed(world):
    # S1's, sent 06-10 and expected to close by 09-08, closed on 07-20 after 40 days: July's,
    # early. S2's, sent 06-20, is expected by 09-18: not yet overdue now (09-14).
    # S2's has had no update since 06-20, more than 14 days before now: stalled.
    summer = compute("referrals", view(world, "institution", first=date(2026, 7, 1)))
    xju = row(summer, institution="Xiangjiang University")
    assert (xju["due"], xju["closed"], xju["closure_rate"]) == (1, 1, 1.0)
    assert (xju["closed_late"], xju["lost"], xju["overdue"]) == (0, 0, 0)
    assert (xju["median_days"], xju["p90_days"]) == (40.0, 40.0)
    assert xju["stalled"] == 1
    by_month = compute("referrals", view(world, "month", first=date(2026, 7, 1)))
    assert row(by_month, month="2026-07")["closed"] == 1
    assert row(by_month, month="2026-09")["due"] == 0


def test_referral_closure_counts_an_open_referral_once_its_expected_day_is_over(world):
    """S2's, sent 06-20 and still open, is expected to close on 18 September (Shanghai): on
    that day it is not yet overdue; from local midnight on it is, and nothing closed: 0 / 1."""
    clock.set_now(datetime(2026, 9, 18, 15, 59))  # 23:59 on 18 September in Shanghai
    on_the_day = compute("referrals", view(world, "institution"))
    assert row(on_the_day, institution="Xiangjiang University")["due"] == 0
    clock.set_now(datetime(2026, 9, 18, 16, 0))
    after = row(
        compute("referrals", view(world, "institution")), institution="Xiangjiang University"
    )
    assert (after["due"], after["overdue"], after["closure_rate"]) == (1, 1, 0.0)
    # Computing's, where S2 studies; none of Maths'.
    by_department = compute("referrals", view(world))
    assert row(by_department, department="Computing")["overdue"] == 1
    assert row(by_department, department="Maths")["overdue"] == 0
    maths = world.xju.students[3].department_id
    assert compute("referrals", view(world, department_id=maths))["overdue"].sum() == 0


# Monday 21 September, 14:00 in Shanghai: the reports of the weeks of 09-07 and 09-14 are due
# (by noon on the Monday after); the week of 09-21 has only begun.
SEPT_21 = datetime(2026, 9, 21, 6)
XJU = "Xiangjiang University"


def reports_at(v, now=SEPT_21):
    return kpis.compute(db.session, kpis.BY_KEY["reports"], v, now)


def test_weekly_report_compliance_counts_the_weeks_due_by_now(world):
    out = reports_at(view(world, "institution"))
    # Weeks of 09-07 and 09-14 -> 2 weeks per unit; 09-21's is not due yet.
    # The class reported for 09-07 only: 1 / 2. The room never reported: 0 / 2.
    xju = row(out, institution=XJU)
    assert (xju["expected_class"], xju["reported_class"]) == (2, 1)
    assert xju["class_compliance"] == 0.5
    assert (xju["expected_room"], xju["room_compliance"]) == (2, 0.0)
    # On the frozen clock (Monday 09-14, 10:00), not even 09-07's report is due: nothing is
    # expected in September yet, so no rate at all rather than 0 %.
    early = row(reports_at(view(world, "institution"), clock.now()), institution=XJU)
    assert (early["expected_class"], early["expected_room"]) == (0, 0)
    assert math.isnan(early["class_compliance"])


def test_weeks_before_a_reporter_or_the_school_existed_are_not_expected(world, campus):
    """Each department was expected 92 class-weeks counted from July, including weeks before its
    2026 classes and their committee members existed: the weekly-report rate read 2.2 %."""
    maths = world.xju.students[3].class_group
    late = campus.staff(world.xju.institution, Role.CLASS_COMMITTEE, group=maths)
    (assignment,) = late.assignments(Role.CLASS_COMMITTEE)
    assignment.since = datetime(2026, 9, 15, 2)  # Tuesday: the week of 09-14 is not theirs
    db.session.commit()
    summer = view(world, "department", first=date(2026, 7, 1), last=SEPT)
    out = reports_at(summer, datetime(2026, 9, 29, 6))
    # Computing's class: from 08-24 (went live, reporter appointed), weeks of 08-24, 08-31,
    # 09-07, 09-14 and 09-21 -> 5, none in July. Maths: the week of 09-21 only -> 1.
    assert row(out, department="Computing")["expected_class"] == 5
    assert row(out, department="Maths")["expected_class"] == 1


def test_a_week_after_a_reporters_role_ended_is_not_expected(world):
    (informant,) = [
        a
        for a in db.session.scalars(select(RoleAssignment))
        if a.role == Role.DORM_INFORMANT and a.institution_id == world.xju.institution.id
    ]
    informant.ends_at = datetime(2026, 9, 16)  # within the week of 09-14
    db.session.commit()
    xju = row(reports_at(view(world, "institution")), institution=XJU)
    assert xju["expected_room"] == 1  # the week of 09-07 only
    assert xju["expected_class"] == 2


def test_a_report_for_a_week_not_yet_due_is_not_counted(world):
    committee = db.session.scalar(
        select(RoleAssignment.user_id).where(RoleAssignment.role == Role.CLASS_COMMITTEE)
    )
    db.session.add(
        WeeklyReport(
            institution_id=world.xju.institution.id,
            class_id=world.xju.students[0].class_id,
            week_start=date(2026, 9, 21),
            zero_report=True,
            filed_by_id=committee,
        )
    )
    db.session.commit()
    xju = row(reports_at(view(world, "institution")), institution=XJU)
    assert (xju["expected_class"], xju["reported_class"]) == (2, 1)


@pytest.mark.parametrize("by", ["institution", "month", "department"])
def test_one_departments_report_compliance_counts_its_classes_only(world, by):
    """Grouped by month or school, the department filter held for every other table but this
    one, which showed the whole school's classes and rooms."""
    maths = world.xju.students[3].department_id
    out = reports_at(view(world, by, department_id=maths))
    # Maths has a class and no committee member: nothing is expected of it, and the dorm
    # rooms, which belong to no department, are not counted at all.
    assert out["expected_class"].sum() == 0
    assert out["expected_room"].sum() == 0
    computing = world.xju.students[0].department_id
    out = reports_at(view(world, by, department_id=computing))
    assert (out["expected_class"].sum(), out["reported_class"].sum()) == (2, 1)
    assert out["expected_room"].sum() == 0


def test_an_empty_period_shows_dashes_not_zero_percent(world, app):
    # January 2026 has no campaign, no warning, no deadline and no referral due: each of these
    # rates has a zero denominator and must read "—", never 0 %.
    january = date(2026, 1, 1)
    for key in ("screening", "service", "deadlines", "referrals"):
        kpi = kpis.BY_KEY[key]
        out = compute(key, view(world, "month", january, january))
        with app.test_request_context():
            table = tables.build(kpi, out, "month")
        assert table.rows, key
        percents = [
            cell.value
            for row_ in table.rows
            for cell, (_c, _l, fmt) in zip(row_[-len(kpi.columns) :], kpi.columns, strict=True)
            if fmt == "pct"
        ]
        assert percents, key
        assert all(v == "—" for v in percents), key


def test_a_department_with_nothing_in_it_is_a_row_with_dashes(world, campus):
    campus.department(world.xju.institution, "Physics")
    campus.commit()
    out = compute("service", view(world))
    physics = row(out, department="Physics")
    assert physics["warned"] == 0
    assert math.isnan(physics["coverage"])


def _bulk_students(world, count: int) -> None:
    institution = world.xju.institution
    department_id = world.xju.students[0].department_id
    class_id = world.xju.students[0].class_id
    db.session.execute(
        insert(Student),
        [
            {
                "institution_id": institution.id,
                "student_number": f"BULK{i:05d}",
                "name": f"Bulk {i}",
                "gender": "F",
                "birth_date": date(2007, 1, 1),
                "department_id": department_id,
                "class_id": class_id,
            }
            for i in range(count)
        ],
    )
    db.session.commit()


def _teacher(world, starts=date(2025, 9, 1), ends=None, post=StaffPost.FULL_TIME, **extra):
    db.session.add(
        StaffingEntry(
            institution_id=world.xju.institution.id,
            person_name=extra.get("name", "Teacher"),
            user_id=extra.get("user_id"),
            post=post,
            starts_on=starts,
            ends_on=ends,
        )
    )
    db.session.commit()


def test_exactly_4000_students_with_one_full_time_teacher_meet_the_ratio_not_the_two(world):
    _bulk_students(world, 4000 - 4)  # the fixture already has 4 students: 4000 in all
    _teacher(world)
    xju = compute("staffing", view(world, "institution")).iloc[0]
    # 1 teacher * 4000 >= 4000 students: ratio met; 1 < 2: the minimum is not.
    assert (xju["enrolled"], xju["teachers"]) == (4000, 1)
    assert bool(xju["ratio_met"])
    assert not bool(xju["two_met"])
    assert not bool(xju["compliant"])
    assert xju["needed"] == 2


def test_4001_students_need_two_full_time_teachers_and_two_are_compliant(world):
    _bulk_students(world, 4001 - 4)
    _teacher(world, name="Teacher A")
    _teacher(world, name="Teacher B")
    xju = compute("staffing", view(world, "institution")).iloc[0]
    # 2 * 4000 = 8000 >= 4001, and 2 >= 2: compliant; ceil(4001 / 4000) = 2 needed.
    assert bool(xju["ratio_met"])
    assert bool(xju["two_met"])
    assert bool(xju["compliant"])
    assert xju["needed"] == 2


def test_4001_students_with_one_full_time_teacher_miss_the_ratio(world):
    _bulk_students(world, 4001 - 4)
    _teacher(world)
    xju = compute("staffing", view(world, "institution")).iloc[0]
    # 1 * 4000 < 4001
    assert not bool(xju["ratio_met"])


def test_department_counsellors_and_school_counsellor_roles_are_not_teachers(world):
    """The fixture has a school counsellor and a department counsellor but an empty register."""
    assert compute("staffing", view(world, "institution"))["teachers"].tolist() == [0]


def test_part_time_teachers_are_not_counted(world):
    _teacher(world, post=StaffPost.PART_TIME)
    _teacher(world, post=StaffPost.PART_TIME)
    assert compute("staffing", view(world, "institution"))["teachers"].tolist() == [0]


SUMMER = {"first": date(2026, 7, 1), "last": date(2026, 8, 1)}  # ends 08-31, before "now"


def test_a_teacher_whose_post_ended_mid_period_is_not_counted_at_its_end(world):
    _teacher(world, name="Left in July", ends=date(2026, 7, 15))
    _teacher(world, name="Left on the last day", ends=date(2026, 8, 31))
    _teacher(world, name="Starts in September", starts=date(2026, 9, 1))
    _teacher(world, name="Started mid-period", starts=date(2026, 8, 31))
    out = compute("staffing", view(world, "institution", **SUMMER))
    # In post on 08-31: the one who left that day (last day included) and the one who started.
    assert out["teachers"].tolist() == [2]


def test_a_period_not_over_yet_counts_who_is_in_post_today(world):
    # "Now" is 2026-09-14: a post ending 09-10 is over, one starting 09-20 has not begun.
    _teacher(world, name="Left", ends=date(2026, 9, 10))
    _teacher(world, name="Not yet", starts=date(2026, 9, 20))
    _teacher(world, name="Here")
    assert compute("staffing", view(world, "institution"))["teachers"].tolist() == [1]


def test_a_school_without_teachers_has_no_students_per_teacher_figure(world, app):
    hnu = kpis.View((world.hnu.institution.id,), SEPT, SEPT, "institution")
    out = kpis.compute(db.session, kpis.BY_KEY["staffing"], hnu, clock.now())
    assert out["teachers"].tolist() == [0]
    assert math.isnan(out["students_per_teacher"].iloc[0])
    with app.test_request_context():
        table = tables.build(kpis.BY_KEY["staffing"], out, "institution")
    assert "—" in [cell.value for cell in table.rows[0]]


def test_referral_closure_matches_the_referral_stage(world):
    from referrals import metrics

    # The referral stage's own pandas closure audit, over the same referrals and period.
    frame = metrics.referral_frame(db.session, world.xju.director, world.xju.institution.id)
    period = metrics.Period(date(2026, 7, 1), date(2026, 9, 30))
    annotated = metrics.annotate(frame, period, clock.now(), ReferralSettings(), SHANGHAI)
    theirs = metrics.summarise(annotated).iloc[0]
    ours = compute("referrals", view(world, "institution", first=date(2026, 7, 1))).iloc[0]
    for column in metrics.COLUMNS:
        assert ours[column] == theirs[column], column


def test_a_warning_opened_after_local_midnight_counts_in_the_local_month(world):
    """00:30 on 1 September in Shanghai is 16:30 on 31 August in UTC: a September warning."""
    add_warning(world.xju.students[3], 3, datetime(2026, 8, 31, 16, 30))
    db.session.commit()
    by_month = compute("crisis", view(world, "month", first=date(2026, 8, 1)))
    assert row(by_month, month="2026-09")["incidents"] == 2
    assert row(by_month, month="2026-08")["incidents"] == 0
