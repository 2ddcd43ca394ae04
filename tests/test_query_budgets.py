"""The busiest pages hold to a query budget, and the budget does not grow with the data (no N+1).

Each page is measured on a small realistic campus, then again after the data doubles: the count
must be the measured budget both times. A budget that has to rise is a reviewed change here.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Caseload
from campus.models import ClassGroup
from campus.models import Hospital
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.models import User
from casework.family_contacts import NewFamilyContact
from casework.family_contacts import log_family_contact
from casework.models import ContactChannel
from casework.models import ContactDirection
from casework.models import ContactOutcome
from referrals.models import ReferralStatus
from screening.models import Campaign
from tests.casework.conftest import campaign
from tests.casework.conftest import screened
from tests.factories import phq9_signal
from tests.factories import referral_in
from warning.policy import Level

# PHQ-9 totals the default policy reads as blue, yellow and red, in that order of students.
TOTALS = {Level.BLUE: 6, Level.YELLOW: 12, Level.RED: 22}
STUDENTS = 30


@dataclass
class Campus:
    institution: Institution
    group: ClassGroup
    hospital: Hospital
    counsellor: User
    director: User
    committee: User
    leader: User
    students: list[Student] = field(default_factory=list)


@pytest.fixture
def school(campus) -> Campus:
    inst = campus.institution("XJU")
    dept = campus.department(inst, "Computing")
    group = campus.class_group(dept, "CS-1")
    school = Campus(
        institution=inst,
        group=group,
        hospital=campus.hospital(inst, "Brain Hospital"),
        counsellor=campus.staff(inst, Role.SCHOOL_COUNSELLOR),
        director=campus.staff(inst, Role.DIRECTOR),
        committee=campus.staff(inst, Role.CLASS_COMMITTEE, group=group),
        leader=campus.staff(inst, Role.DEPT_LEADER, department=dept),
    )
    campus.commit()
    return school


def _grow(campus, school: Campus, count: int) -> None:
    """Add `count` students, a third each at blue, yellow and red (with deadlines and tasks
    planned), every red one referred and sent, and two signals more for the first student."""
    levels = list(TOTALS)
    for n in range(count):
        student = campus.student(school.group, campus.room(school.institution))
        db.session.add(Caseload(counsellor_id=school.counsellor.id, student_id=student.id))
        campus.commit()
        level = levels[n % len(levels)]
        warning = phq9_signal(student, TOTALS[level])
        if level is Level.RED:
            referral_in(ReferralStatus.SENT, warning, school.counsellor, school.hospital)
        school.students.append(student)
    for total in (7, 13):
        clock.advance(timedelta(minutes=5))
        phq9_signal(school.students[0], total)
    _more_history(school)


def _more_history(school: Campus) -> None:
    """Another screening round (two instruments) and a family contact for the first student, so
    the file's count is measured on a longer history each time."""
    first = school.students[0]
    rounds = db.session.scalar(select(func.count(Campaign.id))) or 0
    opens = datetime(2024, 3, 1) + timedelta(days=60 * rounds)
    screened(first, campaign(school.institution, f"Round {rounds}", opens), opens, phq9=5, gad7=4)
    log_family_contact(
        db.session,
        school.counsellor,
        first,
        NewFamilyContact(
            at=clock.now(),
            direction=ContactDirection.WE_CALLED,
            guardian_name="Guardian",
            guardian_relation="",
            channel=ContactChannel.PHONE,
            summary="Talked about the week.",
            outcome=ContactOutcome.REACHED,
            agreements=(),
            other_agreement="",
            follow_up_on=None,
            submission=f"budget-{rounds}",
        ),
        clock.now(),
    )


# Each page a signed-in person opens most, with the statements it may take; the first student's
# timeline stands for every timeline.
BUDGETS = {
    # Unacknowledged reds first (their count and rows), then the rest; next deadlines grouped;
    # the centre's counsellors with their open cases, for sharing out the ticked ones (11).
    ("counsellor", "/warnings/"): 11,
    # The open referral panel reads the referral and audits that read (issue #15 item 7); the
    # user reloaded after that commit brings their working roles along (17, from 18). A clinical
    # reader's page asks whether the student withdrew consent to screening (issue #19): 18. Whether
    # the student's class and room have someone to receive a peer watch (the response network): 19.
    # What is still owed on the warning, listed in its response card: 20. The centre's
    # counsellors, whom the case may be given to: 21. Whose acknowledgement the level owes (the
    # institution's response policy), so a department counsellor is not offered a red's: 22.
    # The guardian's relation as the family log last wrote it, for the guardian step's form: 23.
    # Whom escalating hands the warning to (the next tier's holders, their names): 25.
    ("counsellor", "timeline"): 25,
    # The student file (issue #17): the student, the CLINICAL check, each section's reads
    # (warnings, family contacts, screening: results and one trajectory per instrument,
    # referrals and leave, interviews, crisis records, counselling appointments and the notes the
    # viewer may read), the audit row; however long the history. Consent (issue #19): the
    # withdrawals section, and "withdrawn?" for the screening section and the timeline's scores.
    ("counsellor", "file"): 27,
    # The workbench (issue #15 item 16): the user and the unread count, then one counting query
    # per item kind the role has (reds and yellows together; tasks; deadlines; stalled referrals;
    # follow-ups due; campaigns; post-screening interviews: to hold, to assign and overdue in
    # one), whatever the number of warnings, tasks, referrals or interviews; who is on duty
    # now (issue #18's duty roster, one query with the people); the counsellor's own sessions
    # (today's, earlier ones without an outcome: one query; drafts and notes to co-sign: one);
    # her time away still to come (1; with any, her booked sessions in it: one more); green-channel
    # referrals not booked by their deadline, to chase the hospital (1).
    ("counsellor", "/"): 15,
    # Only this week's reports and the task list; class members work from no deadline.
    ("committee", "/"): 4,
    # The department leader: her workbench lines as a counsellor's (the user, the unread count,
    # reds and yellows, overdue, tasks, deadlines, the month's family contacts, who is on duty: 8),
    # then her departments' overview card, whatever the number of departments: open warnings by
    # level, missed deadlines by step, the department's classes and rooms and this week's reports
    # (4: the filed ones, the class and dorm reporters), the open campaigns' counts, referrals,
    # leaves, the departments' names (10).
    ("leader", "/"): 18,
    # As the counsellor's, plus this term's glance: deadlines and screening KPI tables (4, and
    # 1 for the response policies that set the deadlines, which place each at its level), the
    # month's key students whose family was contacted (1) and the interview list's count (1).
    # Who is on duty now (1). The director's own sessions, as the counsellor's (2). Future
    # appointments whose counsellor's role has ended, to rearrange (1, whatever their number);
    # booked sessions in time away, to rearrange as well: counsellors' time away and the
    # centre's closures still to come (2; with any, the sessions on those days: one more);
    # green-channel referrals not booked by their deadline, to chase the hospital (1).
    ("director", "/"): 22,
    ("counsellor", "/tasks"): 5,
    ("committee", "/tasks"): 4,
    # 44 for the tables and charts (the post-screening interview table: its groups and one
    # count), 28 for the headline tables again for the period before, 3 for the
    # family-contact KPI (issue #17) in both periods, 1 for the response policy in force,
    # whose windows the deadline definition quotes, and 2 for the response policies that set
    # the deadlines counted (each deadline at its level under its own policy), in both periods.
    ("director", "/oversight/"): 78,
}


def _counts(school: Campus, login, count_queries) -> dict[tuple[str, str], int]:
    """Statements each page in BUDGETS takes, measured on a second visit (the first warms up)."""
    counts = {}
    for who, page in BUDGETS:
        client = login(getattr(school, who))
        first = school.students[0].id
        url = {
            "timeline": f"/warnings/students/{first}",
            "file": f"/casework/students/{first}",
        }.get(page, page)
        assert client.get(url).status_code == 200
        with count_queries() as counted:
            assert client.get(url).status_code == 200
        counts[who, page] = counted.count
    return counts


def test_busiest_pages_hold_their_query_budget_as_the_data_doubles(
    campus, school, login, count_queries
):
    _grow(campus, school, STUDENTS)
    assert _counts(school, login, count_queries) == BUDGETS
    _grow(campus, school, STUDENTS)
    assert _counts(school, login, count_queries) == BUDGETS
