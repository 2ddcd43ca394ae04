"""Demo early-warning data: concern and weekly reports, academic records and life events, so the
queue shows red, yellow and blue warnings with their reasons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus import network
from campus.demo import guardian_relation
from campus.demo import peer_holders
from campus.demo import printed_informant
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from casework import family_contacts
from warning import academic
from warning import labels
from warning import reports
from warning.models import ConcernCategory
from warning.models import EarlyWarning
from warning.models import LifeEventKind
from warning.models import SignalSource
from warning.models import WarningStatus
from warning.models import WeeklyReport
from warning.policy import Level
from warning.services import record_signal

# The chosen cases' totals in the open freshman intake: a red, two yellows and three blues.
SCREENINGS = (
    {"phq9": 22},
    {"phq9": 14},
    {"gad7": 12},
    {"phq9": 7},
    {"gad7": 6},
    {"phq9": 8},
)
# The class's concern reports came in this morning: the suicidal-talk red is the queue's fresh
# one, its hour to acknowledge still running.
CONCERN_AGO = timedelta(minutes=40)
# How soon the centre worked each older red (after it opened): the demo's reds met their steps.
ACKNOWLEDGED_AFTER = timedelta(minutes=35)
PEER_WATCH_AFTER = timedelta(hours=2)
GUARDIAN_AFTER = timedelta(hours=3)
ASSESSED_AFTER = timedelta(hours=20)
CONTACT_EVERY = timedelta(days=7)
CONCERNS = (ConcernCategory.SUICIDAL_TALK, ConcernCategory.LOW_MOOD, ConcernCategory.ISOLATION)


def seed(session: Session, institution: Institution) -> None:
    """Add the domain's demo data to ``institution``; skipped once its concern reports exist (the
    screening demo's results are signals too, so their presence says nothing about ours)."""
    from warning.models import Signal

    ours = select(Signal.id).where(
        Signal.institution_id == institution.id, Signal.source == SignalSource.CONCERN_REPORT
    )
    if session.scalar(ours.limit(1)):
        return
    now = clock.now()
    # The warnings' students hold no peer role: the demo's committee member and informant sign in
    # to do their class's and room's work, not to read about themselves.
    peers = peer_holders(institution.id)
    students = list(
        session.scalars(
            select(Student)
            .where(Student.institution_id == institution.id, Student.user_id.not_in(peers))
            .order_by(Student.id)
            .limit(40)
        )
    )
    if len(students) < 12:
        return
    _concerns(session, institution, students, now)
    mates = [
        s for s in _printed_informants_roommates(session, institution) if s not in students[:3]
    ]
    screened = _screenings(session, institution, students[3:], mates, now)
    # A life event or a failed term goes to a student without a warning yet, so its story starts
    # with it (a signal recorded before a later screening answer would open her warning twice).
    warned = set(session.scalars(select(EarlyWarning.student_id)))
    others = [s for s in students[3:] if s not in screened and s.id not in warned]
    for student, kind in zip(
        others[:2],
        (LifeEventKind.BEREAVEMENT, LifeEventKind.INTERPERSONAL_ISOLATION),
        strict=True,
    ):
        record_signal(
            session,
            student=student,
            source=SignalSource.LIFE_EVENT,
            observed_at=now - timedelta(days=5),
            label=labels.life_event(kind.value, (now - timedelta(days=5)).date()),
            flags=academic.life_event_flags(kind),
            now=now - timedelta(days=5),
        )
    # Last year's spring term is the registrar's latest: only the older grade has grades in it.
    for student in [s for s in others[2:] if s.class_group.grade < now.year][:1]:
        record_signal(
            session,
            student=student,
            source=SignalSource.ACADEMIC,
            observed_at=now - timedelta(days=20),
            label=labels.academic_difficulty(
                f"{now.year - 1}-{now.year}-2",
                [labels.failed_credits(14), labels.academic_warning()],
            ),
            flags=["key_group:academic_difficulty"],
            now=now - timedelta(days=20),
        )
    work_reds(session, institution, now)
    keep_in_touch(session, institution, now)
    session.commit()
    _weekly(session, institution, now)


def _concerns(session: Session, institution: Institution, students: list[Student], now) -> None:
    for student, category in zip(students[:3], CONCERNS, strict=False):
        committee = session.scalar(
            select(User)
            .join(User.roles)
            .where(
                RoleAssignment.institution_id == institution.id,
                RoleAssignment.role == Role.CLASS_COMMITTEE,
            )
            .order_by(RoleAssignment.class_id != student.class_id, User.id)
            .limit(1)
        )
        record_signal(
            session,
            student=student,
            source=SignalSource.CONCERN_REPORT,
            observed_at=now - CONCERN_AGO,
            label=labels.concern_report("class", category.value, now - CONCERN_AGO),
            flags=[f"concern:{category.value}"],
            recorded_by=committee,
            now=now - CONCERN_AGO,
        )


def _printed_informants_roommates(session: Session, institution: Institution) -> list[Student]:
    """The roommates of the dorm informant the demo prints (`campus.demo.printed_informant`),
    none of them a peer: one is among the blues, so her task list shows her work (the blue's
    check-in) rather than nothing."""
    informant = printed_informant(session, institution.id)
    if informant is None:
        return []
    return list(
        session.scalars(
            select(Student)
            .where(
                Student.room_id == informant.room_id,
                Student.user_id.not_in(peer_holders(institution.id)),
            )
            .order_by(Student.student_number)
        )
    )


def _screenings(
    session: Session,
    institution: Institution,
    students: list[Student],
    mates: list[Student],
    now,
) -> list[Student]:
    """The chosen cases answer the open freshman intake two days ago, through the screening
    demo, so each warning's reason is a result on the campaign's pages; returns them. The first
    of the printed informant's roommates still due (`mates`) is the first blue."""
    from screening import demo as screening_demo

    due = screening_demo.still_due(session, institution, now)
    mates = [s for s in mates if s.id in due][:1]
    others = [s for s in students if s.id in due and s not in mates]
    screened = (others[:3] + mates + others[3:])[: len(SCREENINGS)]
    for student, totals in zip(screened, SCREENINGS, strict=False):
        answers = screening_demo.answers_scoring(totals)
        screening_demo.complete(session, due[student.id], answers, now - timedelta(days=2))
    return screened


# The weeks before this one the demo's reporters owed and filed: the weekly-reports page's four
# weeks (`weekly_reading.WEEKS_SHOWN`) and the oversight rate have weeks to read.
PAST_WEEKS = 3
# One unit in this many did not file a past week's report, so the page has "missing" weeks and
# the rate is not a perfect one.
MISSED_EVERY = 13
# Notes naming no one, about the room or the class as a whole, by how many weeks back: the
# printed informant's room and the printed committee member's class each wrote one.
ROOM_NOTE = (2, "宿舍最近有人整晚不睡，白天也没什么精神。")
CLASS_NOTE = (1, "临近期中考试，班里不少同学说压力大、睡得少。")


def _weekly(session: Session, institution: Institution, now) -> None:
    """The past weeks' reports (`_past_weeks`), then zero reports from half the reporters this
    week, so the missing-report view has both kinds."""
    week = reports.week_start(now.date())
    reporters = (
        session.scalars(
            select(User)
            .join(User.roles)
            .where(
                RoleAssignment.institution_id == institution.id,
                RoleAssignment.role.in_((Role.CLASS_COMMITTEE, Role.DORM_INFORMANT)),
            )
        )
        .unique()
        .all()
    )
    _past_weeks(session, institution, reporters, now)
    for user in reporters[::2]:
        for unit in reports.units_of(session, user)[:1]:
            try:
                reports.file_weekly_report(
                    session, user=user, unit=unit, week=week, zero_report=True, note=None, now=now
                )
            except reports.ReportError:
                continue


def _past_weeks(session: Session, institution: Institution, reporters: Sequence[User], now) -> None:
    """The campus went live, and its reporters were appointed, on the Monday `PAST_WEEKS` weeks
    before this one, so those weeks were owed (`reports.weekly_report_status`): each unit filed
    "all is well" on the week's Friday evening but one in `MISSED_EVERY`, and the printed
    informant's room and the printed committee member's class a note naming no one
    (`ROOM_NOTE`, `CLASS_NOTE`; no signal, and told to nobody now: read on the page long ago)."""
    zone = clock.institution_zone(institution)
    this_week = reports.week_start(clock.local_date(now, zone))
    first = this_week - timedelta(weeks=PAST_WEEKS)
    went_live = clock.to_utc(datetime.combine(first, time()), zone)
    institution.live_since = min(institution.live_since or went_live, went_live)
    units: list[tuple[User, reports.ReportingUnit]] = []
    for user in reporters:
        for assignment in user.assignments(Role.CLASS_COMMITTEE, Role.DORM_INFORMANT):
            assignment.since = min(assignment.since or went_live, went_live)
        units += [(user, unit) for unit in reports.units_of(session, user)]
    notes: dict[tuple[str, int | None, int], str] = {}
    informant = printed_informant(session, institution.id)
    if informant is not None:
        notes["room", informant.room_id, ROOM_NOTE[0]] = ROOM_NOTE[1]
    committee = session.scalar(
        select(RoleAssignment.class_id)
        .where(
            RoleAssignment.institution_id == institution.id,
            RoleAssignment.role == Role.CLASS_COMMITTEE,
        )
        .order_by(RoleAssignment.user_id)
        .limit(1)
    )
    notes["class", committee, CLASS_NOTE[0]] = CLASS_NOTE[1]
    filed: set[tuple[int | None, int | None, date]] = {
        (class_id, room_id, week)
        for class_id, room_id, week in session.execute(
            select(WeeklyReport.class_id, WeeklyReport.room_id, WeeklyReport.week_start).where(
                WeeklyReport.institution_id == institution.id
            )
        )
    }
    for back in range(1, PAST_WEEKS + 1):
        week = this_week - timedelta(weeks=back)
        friday = clock.to_utc(datetime.combine(week + timedelta(days=4), time(20)), zone)
        for n, (user, unit) in enumerate(units):
            note = notes.get((unit.kind, unit.id, back))
            missed = note is None and (n + back) % MISSED_EVERY == 0
            report = reports.new_report(
                unit,
                week,
                user,
                friday + timedelta(minutes=7 * (n % 60)),
                zero_report=note is None,
                note=note,
            )
            if missed or (report.class_id, report.room_id, week) in filed:
                continue
            session.add(report)
            filed.add((report.class_id, report.room_id, week))
    session.commit()


def work_reds(session: Session, institution: Institution, now: datetime) -> None:
    """Every red whose hour to acknowledge has passed is a worked case, as the policy asks: the
    centre acknowledged it, arranged the peer watch, told the guardian (a family contact), assessed
    the student within the day and kept the weekly contact since; the steps are dated after the
    warning opened, so its timeline reads in order and no deadline is left overdue. The referral
    demo calls it again for the red its hospital's report raised."""
    reds = session.scalars(
        select(EarlyWarning)
        .where(
            EarlyWarning.institution_id == institution.id,
            EarlyWarning.status == WarningStatus.OPEN,
            EarlyWarning.level == Level.RED,
            EarlyWarning.acknowledged_at.is_(None),
            EarlyWarning.owner_since < now - timedelta(hours=1),
        )
        .order_by(EarlyWarning.id)
    ).all()
    centre = holder(session, institution, Role.SCHOOL_COUNSELLOR)
    if centre is None:
        return
    for warning in reds:
        start = warning.owner_since or warning.opened_at
        _work_red(session, institution, centre, warning, start, now)


def _work_red(
    session: Session,
    institution: Institution,
    centre: User,
    warning: EarlyWarning,
    start: datetime,
    now: datetime,
) -> None:
    from warning import actions

    student = warning.student
    actions.do_acknowledge(session, centre, warning, min(start + ACKNOWLEDGED_AFTER, now))
    watched = min(start + PEER_WATCH_AFTER, now)
    cover = network.peers_of(session, student)
    arranged = None if cover.class_held or cover.room_held else "辅导员安排室友轮流陪伴"
    actions.do_assign_peer_watch(
        session, centre, warning, watched, now + timedelta(days=3), arranged
    )
    told = min(start + GUARDIAN_AFTER, now)
    counsellor = holder(session, institution, Role.DEPT_COUNSELLOR, student.department_id) or centre
    family_contacts.do_log_family_contact(
        session, counsellor, student, _guardian_told(institution, student, told), told
    )
    if start + ASSESSED_AFTER < now:
        actions.do_record_assessment(
            session,
            centre,
            warning,
            start + ASSESSED_AFTER,
            "面谈评估：风险可控，继续每周跟进",
            None,
        )
    contact = start + ASSESSED_AFTER + CONTACT_EVERY
    while contact < now:
        actions.do_log_contact(
            session, centre, warning, contact, "in_person", "每周面谈：情绪较前平稳", None
        )
        contact += CONTACT_EVERY


def keep_in_touch(session: Session, institution: Institution, now: datetime) -> None:
    """Every yellow and blue whose first response fell due before today was met: the department's
    counsellor reached the student halfway through its window and again at the level's cadence
    since, so the demo shows no weeks-old step owed and never escalated. The referral demo calls
    it again for the warnings its own stories opened."""
    from warning.models import Deadline

    first_due = (
        select(Deadline.warning_id, func.min(Deadline.due_at))
        .where(Deadline.still_owed(), Deadline.kind != "follow_up")
        .group_by(Deadline.warning_id)
    )
    due = {warning_id: at for warning_id, at in session.execute(first_due)}
    warnings = session.scalars(
        select(EarlyWarning)
        .where(
            EarlyWarning.institution_id == institution.id,
            EarlyWarning.status == WarningStatus.OPEN,
            EarlyWarning.level < Level.RED,
            EarlyWarning.id.in_([w for w, at in due.items() if at < now]),
        )
        .order_by(EarlyWarning.id)
    ).all()
    for warning in warnings:
        keep_in_touch_with(session, institution, warning, now)


def keep_in_touch_with(
    session: Session, institution: Institution, warning: EarlyWarning, until: datetime
) -> None:
    """The department counsellor's calls to `warning`'s student up to `until`: halfway through
    its first response's window, then at its level's cadence. Nothing when no first response is
    owed."""
    from warning import actions
    from warning import response
    from warning.models import Deadline

    due = session.scalar(
        select(func.min(Deadline.due_at)).where(
            Deadline.warning_id == warning.id,
            Deadline.still_owed(),
            Deadline.kind != "follow_up",
        )
    )
    counsellor = holder(session, institution, Role.DEPT_COUNSELLOR, warning.student.department_id)
    if due is None or counsellor is None:
        return
    contact = warning.owner_since + (due - warning.owner_since) / 2
    every = response.follow_up_every(session, warning)
    while contact < until:
        actions.do_log_contact(
            session, counsellor, warning, contact, "phone", "电话联系：近况平稳", None
        )
        contact += every


def _guardian_told(
    institution: Institution, student: Student, at: datetime
) -> family_contacts.NewFamilyContact:
    from casework.models import ContactChannel
    from casework.models import ContactDirection
    from casework.models import ContactOutcome

    zone = clock.institution_zone(institution)
    name = student.guardian_name or "家长"
    return family_contacts.NewFamilyContact(
        at=clock.to_local(at, zone),
        direction=ContactDirection.WE_CALLED,
        guardian_name=name,
        guardian_relation=guardian_relation(name) if student.guardian_name else "",
        channel=ContactChannel.PHONE,
        summary="告知学生近期心理状况及学校的关心安排，家长表示会配合学校。",
        outcome=ContactOutcome.REACHED,
        agreements=[],
        other_agreement="",
        follow_up_on=None,
        submission=f"demo-red-{student.id}",
    )


def holder(
    session: Session, institution: Institution, role: Role, department_id: int | None = None
) -> User | None:
    """Who the demo has act as `role` at `institution` (in the department `department_id`,
    given one): the first holder by login, so every demo module picks the same person."""
    scope = [] if department_id is None else [RoleAssignment.department_id == department_id]
    return session.scalar(
        select(User)
        .join(User.roles)
        .where(RoleAssignment.institution_id == institution.id, RoleAssignment.role == role, *scope)
        .order_by(User.login)
    )
