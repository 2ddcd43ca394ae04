"""Demo counselling sessions for the school counsellor sc01: a few past sessions with their
outcomes and signed notes (one with an addendum), a no-show, and appointments today and later this
week, so the counsellor's day, a session page and the figures show something at once. The trainee
sc02 (supervised by sc01) has yesterday's session with a signed note awaiting sc01's co-sign.
`seed_sessions(session, institution)` is called by the appointments domain's demo seed."""

from __future__ import annotations

from datetime import datetime
from datetime import time
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments.models import LIVE_STATES
from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import CounsellorProfile
from appointments.models import NoteState
from appointments.models import SessionKind
from appointments.models import SessionNote
from appointments.models import SessionNoteAddendum
from appointments.models import SessionOutcome
from appointments.models import Slot
from campus import clock
from campus.models import Caseload
from campus.models import Institution
from campus.models import Student
from campus.models import User

# (days from today, local hour, state, note) for each demo student in turn.
SESSIONS = [
    (
        -14,
        9,
        AppointmentState.ATTENDED,
        "首次来访。主诉入学后适应困难、睡眠差，入睡需一小时以上。"
        "情绪低落但否认自伤想法。约定每周一次，先做睡眠卫生与作息调整。",
    ),
    (
        -7,
        9,
        AppointmentState.ATTENDED,
        "第二次咨询。睡眠略有改善，能按时上课；与室友关系仍紧张，"
        "练习了表达需求的说法。风险评估：无。",
    ),
    (
        -10,
        14,
        AppointmentState.ATTENDED,
        "首次来访。因专业课考试失利自责，担心拿不到奖学金。"
        "讨论了学习计划，建议联系辅导员了解补考安排。",
    ),
    (-3, 14, AppointmentState.NO_SHOW, None),
    (0, 15, AppointmentState.BOOKED, None),
    (2, 10, AppointmentState.BOOKED, None),
]
ADDENDUM = "补记：来访者当晚通过微信告知已与室友沟通，情况缓和。"
TRAINEE_NOTE = (
    "首次来访。因恋爱关系结束情绪低落两周，食欲下降，仍能上课。否认自伤想法。"
    "约定下周复诊，布置情绪记录作业。"
)


def seed_sessions(session: Session, institution: Institution) -> None:
    """Add sc01's demo sessions unless they exist (idempotent)."""
    sc01 = session.scalar(
        select(User).where(User.institution_id == institution.id, User.login == "sc01")
    )
    if sc01 is None or session.scalar(
        select(SessionNote.id).where(SessionNote.author_id == sc01.id).limit(1)
    ):
        return
    if (
        session.scalar(select(CounsellorProfile.id).where(CounsellorProfile.user_id == sc01.id))
        is None
    ):
        session.add(CounsellorProfile(user_id=sc01.id, institution_id=institution.id, gender="F"))
    students = list(
        session.scalars(
            select(Student)
            .join(Caseload, Caseload.student_id == Student.id)
            .where(Caseload.counsellor_id == sc01.id)
            .order_by(Student.id)
            .limit(3)
        )
    ) or list(
        session.scalars(
            select(Student)
            .where(Student.institution_id == institution.id)
            .order_by(Student.id)
            .limit(3)
        )
    )
    if not students:
        return
    zone = clock.institution_zone(institution)
    today = clock.local_date(clock.now(), zone)
    # Two sessions for the first student, then the others in turn (fewer students: round again).
    owners = [students[i % len(students)] for i in (0, 0, 1, 2, 1, 0)]
    for (days, hour, state, text), student in zip(SESSIONS, owners, strict=True):
        starts_at = clock.to_utc(datetime.combine(today + timedelta(days=days), time(hour)), zone)
        _session_row(session, institution, sc01, student, starts_at, state, text)
    trainee = session.scalar(
        select(CounsellorProfile).where(
            CounsellorProfile.institution_id == institution.id,
            CounsellorProfile.is_trainee.is_(True),
            CounsellorProfile.supervisor_id == sc01.id,
        )
    )
    if trainee is not None:
        yesterday = clock.to_utc(datetime.combine(today - timedelta(days=1), time(16)), zone)
        _session_row(
            session,
            institution,
            trainee.user,
            students[-1],
            yesterday,
            AppointmentState.ATTENDED,
            TRAINEE_NOTE,
            supervisor=sc01,
        )
    session.commit()


def recorded_outcome(appointment: Appointment) -> SessionOutcome:
    """The outcome a demo session's counsellor recorded an hour after it began, which is what
    set its state in the real flow: attended with no risk found, or missed with none assessed."""
    return SessionOutcome(
        appointment_id=appointment.id,
        institution_id=appointment.institution_id,
        student_id=appointment.student_id,
        risk_level=0 if appointment.state == AppointmentState.ATTENDED else None,
        recorded_by_id=appointment.counsellor_id,
        recorded_at=appointment.starts_at + timedelta(minutes=60),
    )


def _session_row(
    session: Session,
    institution: Institution,
    counsellor: User,
    student: Student,
    starts_at: datetime,
    state: AppointmentState,
    text: str | None,
    supervisor: User | None = None,
) -> None:
    kind = SessionKind.FOLLOW_UP if text and text.startswith("第二次") else SessionKind.FIRST_VISIT
    # The calendar's demo may have opened a slot at this very time: take it unless it is booked.
    slot = session.scalar(
        select(Slot).where(Slot.counsellor_id == counsellor.id, Slot.starts_at == starts_at)
    )
    if slot is None:
        slot = Slot(
            institution_id=institution.id,
            counsellor_id=counsellor.id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=50),
            room="心理中心 咨询室 2",
            kind=kind,
        )
        session.add(slot)
        session.flush()
    elif session.scalar(
        select(Appointment.id).where(
            Appointment.slot_id == slot.id, Appointment.state.in_(LIVE_STATES)
        )
    ):
        return
    appointment = Appointment(
        institution_id=institution.id,
        slot_id=slot.id,
        student_id=student.id,
        counsellor_id=counsellor.id,
        starts_at=starts_at,
        kind=kind,
        state=state,
        booked_by_id=student.user_id or counsellor.id,
        booked_at=starts_at - timedelta(days=4),
    )
    session.add(appointment)
    session.flush()
    if state == AppointmentState.BOOKED:
        return
    ended = starts_at + timedelta(minutes=60)
    session.add(recorded_outcome(appointment))
    if text is None:
        return
    note = SessionNote(
        appointment_id=appointment.id,
        institution_id=institution.id,
        student_id=student.id,
        author_id=counsellor.id,
        body=text,
        state=NoteState.SIGNED,
        created_at=ended,
        updated_at=ended,
        signed_at=ended,
        supervisor_id=supervisor.id if supervisor else None,
    )
    session.add(note)
    session.flush()
    if "室友" in text:
        session.add(
            SessionNoteAddendum(
                note_id=note.id,
                institution_id=institution.id,
                student_id=student.id,
                author_id=counsellor.id,
                body=ADDENDUM,
                at=ended + timedelta(days=1),
                submission=f"demo-{note.id}",
            )
        )
