"""Demo referrals and a return-to-school case, for students the warning demo has warned."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus.models import Hospital
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from referrals import leave as leave_rules
from referrals import services
from referrals.models import AssessmentOutcome
from referrals.models import ConsentBy
from referrals.models import LeaveReason
from referrals.models import PlanSection
from referrals.models import ReferralStatus
from referrals.models import ReturnAssessment
from referrals.models import Urgency
from warning.models import EarlyWarning

S = ReferralStatus


def seed(session: Session, institution: Institution) -> None:
    """A green-channel referral past its booking deadline, a stalled one, one in inpatient
    treatment, one closed after "no disorder", and a leave with a return plan. The referred hold
    no peer role: a student the demo sends on leave is no room's informant or class's member."""
    peers = select(RoleAssignment.user_id).where(
        RoleAssignment.institution_id == institution.id,
        RoleAssignment.role.in_((Role.CLASS_COMMITTEE, Role.DORM_INFORMANT)),
    )
    warnings = session.scalars(
        select(EarlyWarning)
        .join(Student, Student.id == EarlyWarning.student_id)
        .where(EarlyWarning.institution_id == institution.id, Student.user_id.not_in(peers))
        .order_by(EarlyWarning.id)
    ).all()
    hospital = session.scalar(select(Hospital).where(Hospital.institution_id == institution.id))
    counsellor = _holder(session, institution, Role.SCHOOL_COUNSELLOR)
    liaison = _holder(session, institution, Role.HOSPITAL_LIAISON)
    if len(warnings) < 4 or hospital is None or counsellor is None or liaison is None:
        return
    now = clock.now()
    settings = services.ReferralSettings()
    plans = [
        (True, 1, [S.SENT], None),
        (False, 20, [S.SENT], None),
        (False, 10, [S.SENT, S.APPOINTMENT_BOOKED, S.ASSESSED, S.IN_TREATMENT], "inpatient"),
        (False, 30, [S.SENT, S.APPOINTMENT_BOOKED, S.ASSESSED, S.CLOSED], "no_disorder"),
    ]
    unused = list(warnings)
    for green, days_ago, path, outcome in plans:
        start = now - timedelta(days=days_ago, hours=6)
        warning = next((w for w in unused if _referable(w, start, outcome)), None)
        if warning is None:
            continue
        unused.remove(warning)
        referral = services.create_referral(
            session, counsellor, warning, _new(hospital.id, green, start), start
        )
        for n, target in enumerate(path):
            by = (
                liaison
                if target in (S.APPOINTMENT_BOOKED, S.ASSESSED, S.IN_TREATMENT)
                else counsellor
            )
            change = services.Change(
                target=target,
                expected_version=referral.version,
                # The assessment follows at `start` + 2 h: not before the appointment.
                appointment_at=start + timedelta(hours=1, minutes=30),
                outcome=AssessmentOutcome(outcome) if outcome else None,
            )
            services.transition(session, by, referral, change, start + timedelta(hours=n), settings)
        if outcome == "inpatient":
            _leave(session, counsellor, referral, now)
    from warning import demo as warning_demo

    warning_demo.work_reds(session, institution, now)


def _referable(warning: EarlyWarning, start: datetime, outcome: str | None) -> bool:
    """Whether the demo may refer `warning` at `start`: after it opened (a referral is the
    warning's next step), and, for the referral whose hospital report raises her to red
    (inpatient), after her last contact too. The warning demo ran first and kept in touch with
    its blues and yellows up to today at their level's pace; a report dated before one of those
    contacts would leave a "stable" call on her timeline days after the hospital admitted her."""
    if warning.opened_at >= start:
        return False
    return outcome != "inpatient" or (
        warning.last_contact_at is None or warning.last_contact_at < start
    )


def _new(hospital_id: int, green: bool, at) -> services.NewReferral:
    return services.NewReferral(
        hospital_id=hospital_id,
        reason="持续情绪低落，需专科评估",
        urgency=Urgency.EMERGENCY if green else Urgency.URGENT,
        green_channel=green,
        disclosed_fields=["name", "gender", "birth_date", "referral_reason"],
        consent_by=ConsentBy.GUARDIAN,
        consent_name="家长",
        consent_method="phone",
        consent_at=at,
    )


def _leave(session: Session, counsellor: User, referral, now) -> None:
    student = referral.student
    data = leave_rules.NewLeave(
        (now - timedelta(days=5)).date(),
        (now + timedelta(days=120)).date(),
        LeaveReason.MENTAL_HEALTH,
    )
    leave = leave_rules.start_leave(session, counsellor, student, data, now)
    leave.referral_id = referral.id
    owners = leave_rules.owner_choices(session, student)
    for section, text in (
        (PlanSection.ACADEMIC, "缓考与课程调整，适当减轻课业负担"),
        (PlanSection.PSYCHOLOGICAL, "每两周一次心理咨询"),
        (PlanSection.DAILY_LIFE, "室友陪同就餐，日常多关注"),
    ):
        leave_rules.add_plan_item(
            session,
            counsellor,
            leave,
            section,
            text,
            owners[0].user.id,
            (now + timedelta(days=130)).date(),
        )
    leave_rules.record_assessment(
        session,
        counsellor,
        leave,
        ReturnAssessment.NOT_YET,
        "仍有早醒和回避社交，建议继续门诊治疗，一个月后复评。",
        now,
    )


def _holder(session: Session, institution: Institution, role: Role) -> User | None:
    return session.scalar(
        select(User)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.role == role, RoleAssignment.institution_id == institution.id)
        .order_by(User.login)
    )
