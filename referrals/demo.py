"""Demo referrals that take the time real ones take, and a return-to-school case.

Each referral is a story told step by step on the days a centre and a hospital take: sent, booked
within days, assessed, treated for weeks, discharged, closed. Some ended long ago (the closure
audit's days to closure read weeks, not hours), some are still under way, one is stalled, one
green channel went through in hours and one is past its booking deadline now. Every step is taken
at its own moment (the clock frozen there), so its audit row, its notice and the warning's
timeline read in order.

A story starts from a warning: one of the warning demo's when one opened early enough, or one of
its own (the student asked for help, or her counsellor judged her at risk) for a story that began
before the warning demo's do, on a student of the older grade, enrolled by then. The referred hold
no peer role: a student the demo sends on leave is no room's informant or class's member.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus.demo import peer_holders
from campus.demo import printed_informant
from campus.models import ClassGroup
from campus.models import Hospital
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.models import User
from referrals import leave as leave_rules
from referrals import services
from referrals.models import AssessmentOutcome
from referrals.models import ConsentBy
from referrals.models import LeaveReason
from referrals.models import PlanSection
from referrals.models import Referral
from referrals.models import ReferralStatus
from referrals.models import ReturnAssessment
from referrals.models import Urgency
from warning import labels
from warning.demo import holder
from warning.models import EarlyWarning
from warning.models import SignalSource
from warning.models import WarningStatus
from warning.policy import Level
from warning.services import record_signal

S = ReferralStatus
O = AssessmentOutcome  # noqa: E741 - a short alias keeps the stories readable
# The hospital's side of a referral; the counsellor takes every other step.
LIAISON_STEPS = (S.APPOINTMENT_BOOKED, S.ASSESSED, S.IN_TREATMENT, S.DISCHARGED)


@dataclass(frozen=True)
class When:
    """A local moment `days` days before today at `hh:mm`; with no time, exactly `days` days
    before now (a deadline that must have just passed, whatever the hour of seeding)."""

    days: float
    at: str | None = None

    def utc(self, now: datetime, zone: ZoneInfo) -> datetime:
        if self.at is None:
            return now - timedelta(days=self.days)
        day = clock.local_date(now, zone) - timedelta(days=int(self.days))
        hour, minute = (int(part) for part in self.at.split(":"))
        return clock.to_utc(datetime.combine(day, time(hour, minute)), zone)


@dataclass(frozen=True)
class Step:
    """A move of the referral: to `target` at `when`, booked for `appointment` when it books."""

    when: When
    target: ReferralStatus
    appointment: When | None = None
    note: str | None = None
    declined_by: ConsentBy | None = None


@dataclass(frozen=True)
class Contact:
    """The department counsellor reached the student (on the warning's timeline)."""

    when: When
    method: str
    outcome: str


@dataclass(frozen=True)
class Opening:
    """How a story's own warning opened: the student asked for help (yellow), or her counsellor
    judged her at `level` with `observation`."""

    when: When
    level: Level = Level.YELLOW
    observation: str | None = None  # none: she asked for help herself


@dataclass(frozen=True)
class Story:
    """One referral from the warning it came from to where it stands today."""

    reason: str
    steps: tuple[Step | Contact, ...]  # in time order; the first sends it
    opening: Opening  # its own warning's, or one to fall back on (`own`)
    own: bool = False  # always its own warning: it began before the warning demo's
    green: bool = False
    outcome: AssessmentOutcome | None = None
    # A leave from the day after the step numbered here (an admission), with its return plan.
    leave_after: int | None = None
    return_assessed: When | None = None
    warning_closed: When | None = None  # the centre closed the warning (解除预警) then
    levels: tuple[Level, ...] = (Level.YELLOW,)  # of the warning demo's it may take
    after_warning: timedelta = timedelta(days=2)  # sent no sooner after the warning opened


STORIES = (
    # Outpatient care for two months, closed in the spring; the warning closed after it.
    Story(
        reason="主动求助，持续情绪低落、失眠两月余，需专科评估",
        opening=Opening(When(150, "22:00")),
        own=True,
        outcome=O.OUTPATIENT,
        steps=(
            Step(When(143, "10:00"), S.SENT),
            Step(When(141, "15:00"), S.APPOINTMENT_BOOKED, appointment=When(136, "09:30")),
            Step(When(136, "11:30"), S.ASSESSED),
            Step(When(136, "16:00"), S.IN_TREATMENT),
            Step(When(80, "10:00"), S.CLOSED, note="门诊治疗八周，症状明显缓解，医生建议定期复诊"),
        ),
        warning_closed=When(75, "16:00"),
    ),
    # The green channel: booked within the hour, admitted the next morning, four weeks in
    # hospital, closed three weeks after the discharge.
    Story(
        reason="流露明确轻生念头，需紧急专科评估",
        opening=Opening(
            When(118, "14:00"), Level.RED, "室友反映其深夜流露轻生念头，已当面确认，需紧急评估"
        ),
        own=True,
        green=True,
        outcome=O.INPATIENT,
        steps=(
            Step(When(118, "15:30"), S.SENT),
            Step(When(118, "16:10"), S.APPOINTMENT_BOOKED, appointment=When(118, "18:00")),
            Step(When(118, "20:30"), S.ASSESSED),
            Step(When(117, "09:00"), S.IN_TREATMENT),
            Step(When(90, "10:00"), S.DISCHARGED),
            Step(When(70, "16:00"), S.CLOSED, note="出院后按时门诊复诊，病情稳定，转入学校随访"),
        ),
    ),
    # Admitted a month ago, discharged last week, on leave with a return plan: still open.
    Story(
        reason="失眠、情绪低落加重，回避社交，需专科评估",
        opening=Opening(
            When(38, "21:30"), Level.YELLOW, "近两周失眠、情绪低落，多次缺课，少与人交流"
        ),
        own=True,
        outcome=O.INPATIENT,
        steps=(
            Step(When(33, "10:00"), S.SENT),
            Step(When(31, "14:00"), S.APPOINTMENT_BOOKED, appointment=When(28, "09:00")),
            Contact(When(28, "08:30"), "in_person", "陪同前往医院就诊"),
            Step(When(28, "11:00"), S.ASSESSED),
            Step(When(27, "09:00"), S.IN_TREATMENT),
            Step(When(7, "10:00"), S.DISCHARGED),
        ),
        leave_after=4,
        return_assessed=When(2, "15:00"),
    ),
    # Booked, then the appointment passed and the hospital never said how it went: stalled.
    Story(
        reason="筛查结果提示中度抑郁，需专科评估",
        opening=Opening(When(30, "22:00")),
        steps=(
            Step(When(26, "10:00"), S.SENT),
            Step(When(23, "15:00"), S.APPOINTMENT_BOOKED, appointment=When(19, "09:30")),
        ),
    ),
    # Assessed, no disorder: closed within a week, the centre's counselling goes on.
    Story(
        reason="筛查结果提示抑郁风险，需专科评估排除",
        opening=Opening(When(28, "22:00")),
        outcome=O.NO_DISORDER,
        levels=(Level.YELLOW, Level.RED),
        steps=(
            Step(When(24, "10:00"), S.SENT),
            Step(When(22, "15:00"), S.APPOINTMENT_BOOKED, appointment=When(19, "09:30")),
            Step(When(19, "11:00"), S.ASSESSED),
            Step(When(17, "10:00"), S.CLOSED, note="医院评估未见精神障碍，回校继续心理咨询"),
        ),
    ),
    # The guardian refused, with the refusal documented: a closed loop, not a loss.
    Story(
        reason="情绪低落伴焦虑，需专科评估",
        opening=Opening(When(24, "22:00")),
        steps=(
            Step(When(20, "10:00"), S.SENT),
            Step(When(18, "15:00"), S.APPOINTMENT_BOOKED, appointment=When(15, "09:30")),
            Step(
                When(16, "16:00"),
                S.DECLINED,
                note="家长认为是学业压力所致，拒绝就医；已告知风险，家长签字确认",
                declined_by=ConsentBy.GUARDIAN,
            ),
        ),
    ),
    # In outpatient treatment since last week.
    Story(
        reason="焦虑症状明显，影响学习和睡眠，需专科评估",
        opening=Opening(When(23, "22:00")),
        outcome=O.OUTPATIENT,
        steps=(
            Step(When(19, "10:00"), S.SENT),
            Step(When(17, "15:00"), S.APPOINTMENT_BOOKED, appointment=When(12, "09:30")),
            Step(When(12, "11:00"), S.ASSESSED),
            Step(When(12, "15:00"), S.IN_TREATMENT),
        ),
    ),
    # A green channel sent yesterday that the hospital has not booked: past its deadline now.
    Story(
        reason="筛查安全条目阳性，需紧急专科评估",
        opening=Opening(When(2), Level.RED, "筛查后面谈：仍有消极念头，需紧急评估"),
        green=True,
        steps=(Step(When(1.25), S.SENT),),
        levels=(Level.RED,),
        after_warning=timedelta(hours=6),
    ),
)


def seed(session: Session, institution: Institution) -> None:
    """Tell every story (each once, on its own student) and work the reds they raised."""
    hospital = session.scalar(select(Hospital).where(Hospital.institution_id == institution.id))
    counsellor = holder(session, institution, Role.SCHOOL_COUNSELLOR)
    liaison = holder(session, institution, Role.HOSPITAL_LIAISON)
    if hospital is None or counsellor is None or liaison is None:
        return
    if session.scalar(select(Referral.id).where(Referral.institution_id == institution.id)):
        return
    now = clock.now()
    teller = _Teller(session, institution, hospital, counsellor, liaison, now)
    # The stories needing the oldest warning choose first, so each finds one if any fits.
    for story in sorted(STORIES, key=lambda s: -_sent(s).days):
        teller.tell(story)
    from warning import demo as warning_demo

    warning_demo.work_reds(session, institution, now)
    warning_demo.keep_in_touch(session, institution, now)
    session.commit()


def _sent(story: Story) -> When:
    return story.steps[0].when


class _Teller:
    def __init__(
        self,
        session: Session,
        institution: Institution,
        hospital: Hospital,
        counsellor: User,
        liaison: User,
        now: datetime,
    ) -> None:
        self.session, self.institution, self.now = session, institution, now
        self.hospital, self.counsellor, self.liaison = hospital, counsellor, liaison
        self.zone = clock.institution_zone(institution)
        self.settings = services.ReferralSettings()
        self.taken: set[int] = set()

    def at(self, when: When) -> datetime:
        return when.utc(self.now, self.zone)

    def tell(self, story: Story) -> None:
        warning = None if story.own else self._existing(story)
        if warning is None:
            warning = self._own(story)
        if warning is None:
            return
        self.taken.add(warning.student_id)
        sent = self.at(_sent(story))
        with clock.frozen_at(sent):
            referral = services.create_referral(
                self.session, self.counsellor, warning, self._new(story, sent), sent
            )
        for number, step in enumerate(story.steps):
            if isinstance(step, Contact):
                self._contact(warning, step)
            else:
                self._move(referral, story, step)
            if number == story.leave_after:
                self._leave(referral, story, self.at(step.when))
        if story.warning_closed is not None:
            self._close(warning, self.at(story.warning_closed))

    def _existing(self, story: Story) -> EarlyWarning | None:
        """The latest of the warning demo's open warnings at the story's levels that opened
        early enough before the referral (a referral is a warning's later step)."""
        before = self.at(_sent(story)) - story.after_warning
        return self.session.scalar(
            select(EarlyWarning)
            .join(Student, Student.id == EarlyWarning.student_id)
            .where(
                EarlyWarning.institution_id == self.institution.id,
                EarlyWarning.status == WarningStatus.OPEN,
                EarlyWarning.level.in_(story.levels),
                EarlyWarning.opened_at < before,
                Student.user_id.not_in(peer_holders(self.institution.id)),
                Student.id.not_in(self.taken or {0}),
                ~select(Referral.id).where(Referral.student_id == Student.id).exists(),
            )
            .order_by(EarlyWarning.opened_at.desc(), EarlyWarning.id)
            .limit(1)
        )

    def _own(self, story: Story) -> EarlyWarning | None:
        """The story's own warning, opened as `story.opening` says on a student of the older
        grade (enrolled by then) with none yet, away from the printed informant's room."""
        student = self.session.scalar(self._unwarned().limit(1))
        if student is None:
            return None
        opening = story.opening
        at = self.at(opening.when)
        with clock.frozen_at(at):
            if opening.observation is None:
                record_signal(
                    self.session,
                    student=student,
                    source=SignalSource.SELF_REFERRAL,
                    observed_at=at,
                    label=labels.self_referral("in_person", "工作日下午"),
                    recorded_by=student.user,
                    now=at,
                )
            else:
                record_signal(
                    self.session,
                    student=student,
                    source=SignalSource.COUNSELLOR,
                    observed_at=at,
                    label=labels.judgement(opening.observation),
                    explicit_level=opening.level,
                    recorded_by=self._department_counsellor(student) or self.counsellor,
                    now=at,
                )
        self.session.commit()
        return self.session.scalar(
            select(EarlyWarning).where(
                EarlyWarning.student_id == student.id, EarlyWarning.status == WarningStatus.OPEN
            )
        )

    def _unwarned(self):
        informant = printed_informant(self.session, self.institution.id)
        room = informant.room_id if informant is not None else None
        return (
            select(Student)
            .join(ClassGroup, ClassGroup.id == Student.class_id)
            .where(
                Student.institution_id == self.institution.id,
                ClassGroup.grade < self.now.year,
                Student.user_id.not_in(peer_holders(self.institution.id)),
                Student.room_id.is_distinct_from(room),
                ~select(EarlyWarning.id).where(EarlyWarning.student_id == Student.id).exists(),
            )
            .order_by(Student.id.desc())
        )

    def _new(self, story: Story, at: datetime) -> services.NewReferral:
        return services.NewReferral(
            hospital_id=self.hospital.id,
            reason=story.reason,
            urgency=Urgency.EMERGENCY if story.green else Urgency.URGENT,
            green_channel=story.green,
            disclosed_fields=["name", "gender", "birth_date", "referral_reason"],
            consent_by=ConsentBy.GUARDIAN,
            consent_name="家长",
            consent_method="phone",
            consent_at=at,
        )

    def _move(self, referral: Referral, story: Story, step: Step) -> None:
        at = self.at(step.when)
        change = services.Change(
            target=step.target,
            expected_version=referral.version,
            note=step.note,
            outcome=story.outcome if step.target is S.ASSESSED else None,
            appointment_at=self.at(step.appointment) if step.appointment else None,
            declined_by=step.declined_by,
        )
        by = self.liaison if step.target in LIAISON_STEPS else self.counsellor
        with clock.frozen_at(at):
            services.transition(self.session, by, referral, change, at, self.settings)

    def _contact(self, warning: EarlyWarning, contact: Contact) -> None:
        """The department counsellor's calls at the level's pace up to this contact, then it."""
        from warning import actions
        from warning import demo as warning_demo

        at = self.at(contact.when)
        warning_demo.keep_in_touch_with(self.session, self.institution, warning, at)
        by = self._department_counsellor(warning.student) or self.counsellor
        with clock.frozen_at(at):
            actions.do_log_contact(
                self.session, by, warning, at, contact.method, contact.outcome, None
            )
        self.session.commit()

    def _close(self, warning: EarlyWarning, at: datetime) -> None:
        """The centre ends the warning (解除预警) once the care is over, after the calls it owed
        up to then; reviewed three months later."""
        from warning import actions
        from warning import demo as warning_demo

        warning_demo.keep_in_touch_with(self.session, self.institution, warning, at)
        review = clock.local_date(at, self.zone) + timedelta(days=90)
        with clock.frozen_at(at):
            actions.do_close(
                self.session,
                self.counsellor,
                warning,
                at,
                "门诊治疗结束，情绪稳定，学业恢复正常，解除预警。",
                review,
            )
        self.session.commit()

    def _leave(self, referral: Referral, story: Story, admitted: datetime) -> None:
        """A leave from the day of the admission, recorded the next morning, with its return
        plan; the centre's return assessment (not yet) after the discharge."""
        student = referral.student
        start = clock.local_date(admitted, self.zone)
        recorded = clock.to_utc(datetime.combine(start + timedelta(days=1), time(10, 0)), self.zone)
        expected_return = start + timedelta(days=120)
        with clock.frozen_at(recorded):
            leave = leave_rules.start_leave(
                self.session,
                self.counsellor,
                student,
                leave_rules.NewLeave(start, expected_return, LeaveReason.MENTAL_HEALTH),
                recorded,
            )
            leave.referral_id = referral.id
            owners = leave_rules.owner_choices(self.session, student)
            for section, text in (
                (PlanSection.ACADEMIC, "缓考与课程调整，适当减轻课业负担"),
                (PlanSection.PSYCHOLOGICAL, "每两周一次心理咨询"),
                (PlanSection.DAILY_LIFE, "室友陪同就餐，日常多关注"),
            ):
                leave_rules.add_plan_item(
                    self.session,
                    self.counsellor,
                    leave,
                    section,
                    text,
                    owners[0].user.id,
                    expected_return + timedelta(days=10),
                )
        if story.return_assessed is None:
            return
        assessed = self.at(story.return_assessed)
        with clock.frozen_at(assessed):
            leave_rules.record_assessment(
                self.session,
                self.counsellor,
                leave,
                ReturnAssessment.NOT_YET,
                "出院后仍有早醒和回避社交，建议继续门诊治疗，一个月后复评。",
                assessed,
            )

    def _department_counsellor(self, student: Student) -> User | None:
        return holder(self.session, self.institution, Role.DEPT_COUNSELLOR, student.department_id)
