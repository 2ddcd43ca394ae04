"""What people do with a warning: acknowledge, contact, assessment, peer watch, follow-up, level
change, escalation, closure (解除预警), and class/dorm task completion. The guardian's notice is a
family contact (casework's), which meets the warning's step through `guardian_reached`.

Every action takes the warning's version as the actor saw it: if someone else changed the warning
meanwhile the action raises `StaleWarning` and writes nothing (the version column makes a racing
commit fail too). Each action meets the matching deadline, writes a timeline event and an audit
row, and commits its unit of work.

Each action is written in two halves, as zulip's actions are: `check_<action>` raises the domain
error (`InvalidAction`) and writes nothing; `do_<action>` writes, inside `_unit_of_work`, which
first makes the checks every action shares (`check_can_act`) and commits once at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import exists
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from campus import audit
from campus import clock
from campus import network
from campus.extensions import set_once
from campus.i18n import N_
from campus.i18n import Message
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from campus.notifications import Notification
from campus.notifications import notify
from campus.notifications import notify_many
from campus.scope import Capability
from campus.scope import student_filter
from warning import caseload
from warning import escalation
from warning import permissions
from warning import reports
from warning import response
from warning import review
from warning.models import Deadline
from warning.models import EarlyWarning
from warning.models import OwnerTier
from warning.models import Task
from warning.models import TaskClosed
from warning.models import WarningEvent
from warning.models import WarningStatus
from warning.policy import Level


class StaleWarning(Exception):
    """Someone else updated the warning first; nothing was written."""


class ActionNotAllowed(Exception):
    """The actor's role does not allow this action on this warning."""


class InvalidAction(ValueError):
    """The action's input breaks a rule; the message says which (shown to the user)."""


CONTACT_METHODS = ("phone", "in_person", "message", "video")
# What came of a contact, as the form offers it. An unanswered call or a message left did not
# reach the student (`NOT_REACHED`): it is an attempt, on the timeline, but it meets no contact
# deadline and is no contact in the service figures. Every other outcome reached her (she spoke,
# even to decline or to agree another time).
CONTACT_OUTCOMES = ("reached", "no_answer", "declined", "message_left", "rescheduled")
NOT_REACHED = frozenset({"no_answer", "message_left"})
# Where a step met outside the warning's own actions is done, by action name: the domain that owns
# it registers its page (casework: the guardian's notice is a family contact), so the owed step
# still leads there.
STEP_PAGES: dict[str, Callable[[EarlyWarning], str]] = {}
# What a professional assessment also is in another domain, by the name of what it serves: the
# domain that owns it registers a function `(session, assessor, warning, now)` that writes it in
# the assessment's unit of work (casework: the post-screening interview a result of the warning
# listed the student for is held by it, `casework.interviews.hold_by_assessment`), so the
# assessment reaches it without the warning stage importing casework.
ASSESSMENT_SERVES: dict[str, Callable[[Session, User, EarlyWarning, datetime], object]] = {}
# What a contact that reached the student meets (a check-in too: see
# `permissions.DEADLINE_ACTIONS`).
CONTACT_MEETS = ["acknowledge", "contact", "follow_up", "check_in"]
# What the counsellor given a case reads (the mail says no more; the page names the student).
CASE_ASSIGNED_TEXT = N_("A case has been given to you")
CASES_SHARED_TEXT = N_(
    "Cases have been given to you: they are among your cases in the warning queue."
)


def _unit_of_work(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    expected_version: int,
    action: str,
    work: Callable[[], None],
    *,
    audited_by_work: bool = False,
) -> EarlyWarning:
    """Check role, state and version (`check_can_act`), run `work` (the action's `do_*`), bump the
    version, audit (unless `work` writes its own, richer audit row) and commit; on any failure roll
    back, so an action writes all of its work or none of it."""
    check_can_act(actor, warning, expected_version, action)

    def written() -> None:
        work()
        # Every action changes the warning, so a racing action on the same version loses.
        flag_modified(warning, "owner_tier")
        if not audited_by_work:
            audit.record_on(
                session,
                warning,
                actor=actor,
                action=f"warning.{action}",
                record_type="warning",
            )

    _all_or_nothing(session, written)
    return warning


def _all_or_nothing(session: Session, work: Callable[[], None]) -> None:
    """Run `work` and commit; on any failure roll back and raise (`StaleWarning` when a warning
    changed since it was read)."""
    try:
        work()
        session.commit()
    except StaleDataError:
        session.rollback()
        raise StaleWarning() from None
    except Exception:
        session.rollback()
        raise


def check_can_act(actor: User, warning: EarlyWarning, expected_version: int, action: str) -> None:
    """What every action checks first: `actor`'s role for `action`, an open warning, and the
    version `actor` saw. Raises `ActionNotAllowed`, `InvalidAction` or `StaleWarning`; writes
    nothing."""
    if not permissions.can_act_on(actor, warning, action):
        raise ActionNotAllowed(action)
    if warning.status != WarningStatus.OPEN:
        raise InvalidAction(N_("This warning is closed."))
    if warning.version != expected_version:
        raise StaleWarning()


def _event(
    session: Session, warning: EarlyWarning, actor: User, kind: str, now: datetime, **fields
):
    session.add(WarningEvent.of(warning, actor, kind, now, **fields))


def _saw_student(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    now: datetime,
    kind: str,
    steps: list[str],
    outcome: str,
    note: str | None,
    *,
    reached: bool = True,
    **fields,
) -> None:
    """What a contact and an assessment both write: having seen the student acknowledges the
    warning (when the actor's acknowledgement counts, `may_acknowledge`), meets its `steps` and
    logs the event with what came of it. An attempt that did not reach her (`reached`) leaves
    her last contact as it was."""
    if reached:
        warning.last_contact_at = now
    if acknowledgement_counts(session, actor, warning):
        warning.acknowledged_at = warning.acknowledged_at or now
    else:
        steps = [step for step in steps if step != "acknowledge"]
    response.meet(session, warning, steps, now)
    _event(
        session,
        warning,
        actor,
        kind,
        now,
        outcome=outcome.strip()[:200],
        note=(note or "").strip() or None,
        **fields,
    )


def _took_up(session: Session, actor: User, warning: EarlyWarning, now: datetime) -> None:
    """What acknowledging, a contact and an assessment share: the warning is being worked on, so
    a school counsellor acting on it takes the case on (`caseload.take_on`) and the concern
    reports that fed it count as followed up (`reports.mark_followed_up`)."""
    caseload.take_on(session, actor, warning, now)
    reports.mark_followed_up(session, warning, now)


def acknowledge(
    session: Session, actor: User, warning: EarlyWarning, expected_version: int, now: datetime
) -> EarlyWarning:
    """Acknowledge the warning: the checks every action makes (`check_can_act`), by someone whose
    acknowledgement counts at the warning's level (`check_acknowledge`). Commits."""
    check_acknowledge(session, actor, warning)
    return _unit_of_work(
        session,
        actor,
        warning,
        expected_version,
        "acknowledge",
        lambda: do_acknowledge(session, actor, warning, now),
    )


def acknowledgement_counts(session: Session, actor: User, warning: EarlyWarning) -> bool:
    """Whether `actor` acknowledging `warning` now acknowledges it (`permissions.may_acknowledge`
    under the institution's response policy)."""
    return permissions.may_acknowledge(
        actor, warning, response.acknowledgement_owed_by(session, warning)
    )


def may_take(session: Session, actor: User, warning: EarlyWarning, action: str) -> bool:
    """Whether `actor` may take `action` on `warning` now: the role and scope of the action
    (`permissions.allowed_actions`, none on a closed warning) and, to acknowledge, an
    acknowledgement that counts at its level (`acknowledgement_counts`). The action's form and
    its sending ask this one question: the form of a red's acknowledgement opened for a
    department counsellor whose sending of it was then refused."""
    if action not in permissions.allowed_actions(actor, warning):
        return False
    return action != "acknowledge" or acknowledgement_counts(session, actor, warning)


def check_acknowledge(session: Session, actor: User, warning: EarlyWarning) -> None:
    """Raises `ActionNotAllowed` unless `actor`'s acknowledgement counts at the warning's level:
    a red's hour is the centre's, and a department counsellor's click would have shown the red
    to the centre as acknowledged when no one there had seen it. Writes nothing."""
    if not acknowledgement_counts(session, actor, warning):
        raise ActionNotAllowed("acknowledge")


def do_acknowledge(session: Session, actor: User, warning: EarlyWarning, now: datetime) -> None:
    """Write an acknowledgement in the caller's unit of work (does not commit)."""
    if warning.acknowledged_at is None:
        warning.acknowledged_at = now
    response.meet(session, warning, ["acknowledge"], now)
    _event(session, warning, actor, "acknowledged", now)
    _took_up(session, actor, warning, now)


def log_contact(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    expected_version: int,
    now: datetime,
    *,
    method: str,
    outcome: str,
    note: str | None = None,
) -> EarlyWarning:
    """A contact with the student; it also counts as acknowledgement and plans the next follow-up
    at the level's cadence. Commits."""
    check_contact(method, outcome)
    return _unit_of_work(
        session,
        actor,
        warning,
        expected_version,
        "contact",
        lambda: do_log_contact(session, actor, warning, now, method, outcome, note),
    )


def check_contact(method: str, outcome: str) -> None:
    """Raises `InvalidAction` unless the contact says how it was made and what came of it."""
    if method not in CONTACT_METHODS:
        raise InvalidAction(N_("Choose how the student was contacted."))
    if not outcome.strip():
        raise InvalidAction(N_("Say what came of the contact."))


def do_log_contact(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    now: datetime,
    method: str,
    outcome: str,
    note: str | None,
) -> None:
    """Write a contact `check_contact` allowed, in the caller's unit of work (does not commit).
    An attempt that did not reach the student (`NOT_REACHED`) is the warning taken up, and
    logged, but the contact is still owed: an unanswered call had met the 72-hour contact and
    put the next follow-up two weeks away."""
    reached = outcome not in NOT_REACHED
    _saw_student(
        session,
        actor,
        warning,
        now,
        "contact" if reached else "contact_attempt",
        CONTACT_MEETS if reached else ["acknowledge"],
        outcome,
        note,
        reached=reached,
        method=method,
    )
    if reached:
        every = response.follow_up_every(session, warning)
        response.plan_follow_up(session, warning, now + every, now)
    _took_up(session, actor, warning, now)


def interview_held(session: Session, actor: User, warning: EarlyWarning, now: datetime) -> None:
    """A post-screening interview held with the student while her warning is open: she was seen,
    so it is her last contact (what service coverage counts) and on the warning's timeline, in
    the caller's unit of work. The interview's outcome and level decision stay on the interview;
    the warning's own response steps are met by its own actions. An interview written up after
    a later contact was logged leaves that contact her last."""
    warning.last_contact_at = max(warning.last_contact_at or now, now)
    _event(session, warning, actor, "interview_held", now)


def guardian_reached(
    session: Session, actor: User, student: Student, method: str, who: str, now: datetime
) -> bool:
    """A family contact that reached the guardian is the guardian told: it meets the open
    warning's "notify the guardian" deadline and puts the notice on its timeline, in the caller's
    unit of work. It is the only way the step is met: the warning page's "Guardian notified" form
    logs a family contact (`casework.family_contacts`), so one call is one record, in the
    student's family contacts and the month's figure as well as on the warning. False when there
    is nothing it meets (no open warning, no notice owed, or not the actor's to give): where no
    notice is owed (a yellow warning, or a guardian told already) the contact is still on the
    timeline, as the guardian spoken with (`guardian_contacted`), so the warning's story holds
    every call to the family whatever its level."""
    warning = _guardian_step_of(session, actor, student)
    if warning is None:
        return False
    if not response.meet(session, warning, ["guardian_notified"], now):
        _event(session, warning, actor, "guardian_contacted", now, method=_method(method), note=who)
        return False
    _event(session, warning, actor, "guardian_notified", now, method=_method(method), note=who)
    flag_modified(warning, "owner_tier")  # a racing action on the version it was read at loses
    audit.record_on(session, warning, actor=actor, action="warning.guardian", record_type="warning")
    return True


def guardian_notice_owed(session: Session, student: Student) -> bool:
    """Whether the student's open warning still owes the guardian's notice (a red, by default):
    what a call that did not reach the family leaves to do, and only then."""
    warning = session.scalar(
        select(EarlyWarning).where(
            EarlyWarning.student_id == student.id, EarlyWarning.status == WarningStatus.OPEN
        )
    )
    return warning is not None and any(
        deadline.kind == "guardian_notified" for deadline in response.still_owed(session, warning)
    )


def guardian_not_reached(
    session: Session,
    actor: User,
    student: Student,
    method: str,
    who: str,
    outcome: str,
    now: datetime,
) -> bool:
    """A family contact that did not reach the guardian (`outcome`: not reached, or she would not
    talk): an attempt on the open warning's timeline, at every level, as an unanswered call to
    the student is, and a notice owed still owed; in the caller's unit of work. Before, the
    attempt was on a red's timeline only, and a yellow's read as if no one had tried. False when
    there is nothing it belongs to (no open warning, or not the actor's to contact)."""
    warning = _guardian_step_of(session, actor, student)
    if warning is None:
        return False
    _event(
        session,
        warning,
        actor,
        "guardian_attempt",
        now,
        method=_method(method),
        outcome=outcome,
        note=who,
    )
    return True


def _guardian_step_of(session: Session, actor: User, student: Student) -> EarlyWarning | None:
    """The student's open warning, if telling her guardian is `actor`'s to do on it."""
    warning = session.scalar(
        select(EarlyWarning).where(
            EarlyWarning.student_id == student.id, EarlyWarning.status == WarningStatus.OPEN
        )
    )
    if warning is None or not permissions.can_act_on(actor, warning, "guardian"):
        return None
    return warning


def _method(channel: str) -> str:
    """A family contact's channel as the warning's ways of contact name it (WeChat and text
    messages are both a message)."""
    return channel if channel in CONTACT_METHODS else "message"


def record_assessment(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    expected_version: int,
    now: datetime,
    *,
    outcome: str,
    note: str | None = None,
) -> EarlyWarning:
    """The school counsellor's professional assessment (its note is clinical: school only).
    Commits."""
    check_assessment(outcome)
    return _unit_of_work(
        session,
        actor,
        warning,
        expected_version,
        "assessment",
        lambda: do_record_assessment(session, actor, warning, now, outcome, note),
    )


def check_assessment(outcome: str) -> None:
    """Raises `InvalidAction` unless the assessment has an outcome."""
    if not outcome.strip():
        raise InvalidAction(N_("Give the assessment's outcome."))


def do_record_assessment(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    now: datetime,
    outcome: str,
    note: str | None,
) -> None:
    """Write an assessment `check_assessment` allowed, in the caller's unit of work, with what
    it also serves in other domains (`ASSESSMENT_SERVES`). The assessor saw the student, so her
    next follow-up is planned at the level's cadence, as after a contact: a red assessed, its
    family called and its peer watch arranged had owed nothing more until the sweep's safety net
    came round."""
    _saw_student(
        session, actor, warning, now, "assessment", ["acknowledge", "assessment"], outcome, note
    )
    response.plan_follow_up(session, warning, now + response.follow_up_every(session, warning), now)
    _took_up(session, actor, warning, now)
    for serve in ASSESSMENT_SERVES.values():
        serve(session, actor, warning, now)


def assign_peer_watch(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    expected_version: int,
    now: datetime,
    *,
    due_at: datetime,
    arranged: str | None = None,
) -> EarlyWarning:
    """Ask the student's class committee and dorm informant to keep company with the student;
    the tasks name the student and nothing else. When neither can receive it, `arranged` says
    who keeps her company as the actor arranged it in person. Commits."""
    check_peer_watch(session, warning, now, due_at, arranged)
    return _unit_of_work(
        session,
        actor,
        warning,
        expected_version,
        "peer_watch",
        lambda: do_assign_peer_watch(session, actor, warning, now, due_at, arranged),
    )


def check_peer_watch(
    session: Session, warning: EarlyWarning, now: datetime, due_at: datetime, arranged: str | None
) -> None:
    """Raises `InvalidAction` unless the peer watch ends in the future and reaches someone: a
    classmate or roommate who receives the task, or, when there is none (the student holds her
    class's and room's only peer roles, or nobody does), the company the actor arranged in
    person. Before, the button met the red's peer-watch deadline with tasks nobody received.
    Reads the response network; writes nothing."""
    if due_at <= now:
        raise InvalidAction(N_("The peer watch must end in the future."))
    cover = network.peers_of(session, warning.student)
    if not (cover.class_held or cover.room_held) and not (arranged or "").strip():
        raise InvalidAction(
            N_(
                "No classmate or roommate can receive this peer watch. Arrange company for the "
                "student in person and say who keeps them company, or appoint a psychology "
                "committee member or dorm informant first."
            )
        )


def do_assign_peer_watch(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    now: datetime,
    due_at: datetime,
    arranged: str | None = None,
) -> None:
    """Write the peer tasks `check_peer_watch` allowed and tell their tiers, in the caller's unit
    of work; the company arranged in person, if any, is the event's note."""
    response.add_peer_tasks(session, warning, "peer_watch", due_at, now, created_by=actor)
    response.meet(session, warning, ["peer_watch"], now)
    note = (arranged or "").strip()[:2000] or None
    _event(session, warning, actor, "peer_watch_assigned", now, note=note)
    response.notify_tier(session, warning, OwnerTier.CLASS)
    response.notify_tier(session, warning, OwnerTier.DORM)


def schedule_follow_up(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    expected_version: int,
    now: datetime,
    *,
    due_at: datetime,
) -> EarlyWarning:
    """Set the next follow-up sooner than the cadence, never later (the cadence is the floor).
    Commits."""
    check_follow_up(session, warning, now, due_at)
    return _unit_of_work(
        session,
        actor,
        warning,
        expected_version,
        "follow_up",
        lambda: do_schedule_follow_up(session, actor, warning, now, due_at),
    )


def check_follow_up(
    session: Session, warning: EarlyWarning, now: datetime, due_at: datetime
) -> None:
    """Raises `InvalidAction` unless `due_at` falls within the level's follow-up cadence from
    `now`. Reads the response policy; writes nothing."""
    every = response.follow_up_every(session, warning)
    if due_at <= now:
        raise InvalidAction(N_("That follow-up date has passed: choose one still to come."))
    if due_at > now + every:
        raise InvalidAction(
            Message(
                N_("Choose a follow-up date within %(days)d days: the level's follow-up cadence."),
                days=every.days,
            )
        )


def do_schedule_follow_up(
    session: Session, actor: User, warning: EarlyWarning, now: datetime, due_at: datetime
) -> None:
    """Write the follow-up date `check_follow_up` allowed, in the caller's unit of work."""
    response.plan_follow_up(session, warning, due_at, now)
    _event(session, warning, actor, "follow_up_scheduled", now, outcome=due_at.isoformat())


def change_level(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    expected_version: int,
    now: datetime,
    *,
    level: int,
    reason: str,
) -> EarlyWarning:
    """The one way a person overrides a level, in the same unit of work as every other action:
    scope, state and version first, then the early-warning service's override rules (who may
    raise or lower, a reason), then the override itself and the commit.

    Its `OverrideError` (a ValueError) reaches the caller with its message.
    """
    from warning import services

    def work() -> None:
        allowed = services.check_override(actor, warning, level, reason)
        services.do_override_level(
            session, warning=warning, actor=actor, level=level, reason=allowed, now=now
        )

    return _unit_of_work(
        session, actor, warning, expected_version, "level", work, audited_by_work=True
    )


def assign_counsellor(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    expected_version: int,
    now: datetime,
    *,
    counsellor_id: int,
) -> EarlyWarning:
    """Give the case to one of the centre's counsellors (the director sharing out the reds, or
    a counsellor handing one to a colleague): it is theirs, on their caseload, and they are
    told. Commits."""
    counsellor = check_assign_counsellor(session, warning, counsellor_id)
    return _unit_of_work(
        session,
        actor,
        warning,
        expected_version,
        "counsellor",
        lambda: do_assign_counsellor(session, actor, warning, counsellor, now),
    )


def check_assign_counsellor(session: Session, warning: EarlyWarning, counsellor_id: int) -> User:
    """The chosen counsellor: one of the warning's school's working counsellors, not already the
    case's. Raises `InvalidAction`; writes nothing."""
    chosen = next(
        (
            user
            for user in caseload.centre_counsellors(session, warning.institution_id)
            if user.id == counsellor_id
        ),
        None,
    )
    if chosen is None:
        raise InvalidAction(N_("Choose one of the centre's counsellors."))
    if warning.assigned_counsellor_id == chosen.id:
        raise InvalidAction(N_("This is already their case."))
    return chosen


def do_assign_counsellor(
    session: Session, actor: User, warning: EarlyWarning, counsellor: User, now: datetime
) -> None:
    """Write the assignment `check_assign_counsellor` allowed, in the caller's unit of work."""
    _give_case(session, actor, warning, counsellor, now)
    if counsellor.id != actor.id:
        notify(
            session, [counsellor.id], CASE_ASSIGNED_TEXT, f"/warnings/students/{warning.student_id}"
        )


def _give_case(
    session: Session, actor: User, warning: EarlyWarning, counsellor: User, now: datetime
) -> None:
    caseload.assign(session, actor, warning, counsellor, now)
    _event(session, warning, actor, "counsellor_assigned", now, outcome=counsellor.name)


@dataclass(frozen=True)
class SharedOut:
    """What `share_out` did: how many cases it gave, and how many it left because someone had
    taken them up, or closed them, since the queue was drawn."""

    given: int
    left: int


def share_out(
    session: Session,
    actor: User,
    warning_ids: Sequence[int],
    counsellor_id: int,
    now: datetime,
) -> SharedOut:
    """Give the ticked cases with no counsellor yet to one of the centre's counsellors, at once:
    after an intake screening the director shares out a dozen reds, which one warning page at a
    time took a dozen pages. A case taken up or closed meanwhile is left as it is (reassigning
    one stays a step on its own page, where its counsellor is named); the counsellor gets one
    notice. Each case is audited as one assignment. Commits.

    Raises `LookupError` for an id outside the actor's scope and `ActionNotAllowed` for a case
    the actor may not give, writing nothing."""
    warnings = list(
        session.scalars(
            select(EarlyWarning)
            .join(Student, Student.id == EarlyWarning.student_id)
            .where(EarlyWarning.id.in_(set(warning_ids)))
            .where(student_filter(actor, Capability.WARNING))
            .order_by(EarlyWarning.id)
        )
    )
    if len(warnings) != len(set(warning_ids)):
        raise LookupError("a warning outside the actor's scope")
    if not all(permissions.can_act_on(actor, w, "counsellor") for w in warnings):
        raise ActionNotAllowed("counsellor")
    free = [w for w in warnings if w.awaits_counsellor]
    # Raises `InvalidAction` before anything is written unless the counsellor is the centre's.
    counsellors: dict[int, User] = {}
    for warning in free:
        if warning.institution_id not in counsellors:
            counsellors[warning.institution_id] = check_assign_counsellor(
                session, warning, counsellor_id
            )

    def written() -> None:
        for warning in free:
            _give_case(session, actor, warning, counsellors[warning.institution_id], now)
            flag_modified(warning, "owner_tier")  # a racing action on the same version loses
            audit.record_on(
                session, warning, actor=actor, action="warning.counsellor", record_type="warning"
            )
        told = {c.id for c in counsellors.values()} - {actor.id}
        if told:
            notify(session, told, CASES_SHARED_TEXT, "/warnings/?mine=1")

    _all_or_nothing(session, written)
    return SharedOut(given=len(free), left=len(warnings) - len(free))


def escalate_manually(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    expected_version: int,
    now: datetime,
    *,
    reason: str,
) -> EarlyWarning:
    """Hand the warning one tier up, with a reason. Commits."""
    check_escalation(warning, reason)
    return _unit_of_work(
        session,
        actor,
        warning,
        expected_version,
        "escalate",
        lambda: do_escalate_manually(session, actor, warning, now, reason),
    )


def check_escalation(warning: EarlyWarning, reason: str) -> None:
    """Raises `InvalidAction` unless the escalation says why and there is a tier above."""
    if len(reason.strip()) < 10:
        raise InvalidAction(N_("Say why you escalate (at least 10 characters)."))
    if warning.owner_tier >= OwnerTier.LEADERSHIP:
        raise InvalidAction(N_("This warning is already with school leadership."))


def do_escalate_manually(
    session: Session, actor: User, warning: EarlyWarning, now: datetime, reason: str
) -> None:
    """Write the escalation `check_escalation` allowed, in the caller's unit of work."""
    escalation.escalate(
        session,
        warning,
        warning.owner_tier,
        warning.owner_tier + 1,
        now,
        actor=actor,
        note=reason.strip(),
    )


def close(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    expected_version: int,
    now: datetime,
    *,
    outcome: str,
    review_date: date,
) -> EarlyWarning:
    """解除预警: a school counsellor ends the warning with an outcome and a review date; what was
    still owed ends with it. A later signal opens a new warning. Commits."""
    check_close(session, warning, now, outcome, review_date)
    return _unit_of_work(
        session,
        actor,
        warning,
        expected_version,
        "close",
        lambda: do_close(session, actor, warning, now, outcome, review_date),
    )


def check_close(
    session: Session, warning: EarlyWarning, now: datetime, outcome: str, review_date: date
) -> None:
    """Raises `InvalidAction` unless the closure describes its outcome and sets a review date
    after today in the institution's calendar, and, for a red warning, a school counsellor's
    professional assessment is on its timeline."""
    if len(outcome.strip()) < 10:
        raise InvalidAction(N_("Describe the outcome (at least 10 characters)."))
    check_closable(session, warning)
    zone = clock.institution_zone(session.get(Institution, warning.institution_id))
    if review_date <= clock.local_date(now, zone):
        raise InvalidAction(N_("The review date must be in the future."))


def check_closable(session: Session, warning: EarlyWarning) -> None:
    """Raises `InvalidAction` where the warning itself may not close yet, whatever the form
    says: a red with no professional assessment on its timeline."""
    if warning.level >= Level.RED and not _assessed(session, warning):
        raise InvalidAction(
            N_(
                "A red warning can be closed only after a professional assessment is recorded: "
                "record the assessment first."
            )
        )


def _assessed(session: Session, warning: EarlyWarning) -> bool:
    """Whether a professional assessment is on the warning's timeline."""
    found = session.scalar(
        select(WarningEvent.id)
        .where(WarningEvent.warning_id == warning.id, WarningEvent.kind == "assessment")
        .limit(1)
    )
    return found is not None


def do_close(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    now: datetime,
    outcome: str,
    review_date: date,
) -> None:
    """Close the warning as `check_close` allowed, ending what was owed, in the caller's unit of
    work."""
    response.supersede_open(session, warning, now)
    warning.status = WarningStatus.CLOSED
    warning.closed_at = now
    warning.closed_by_id = actor.id
    warning.close_outcome = outcome.strip()[:500]
    warning.review_date = review_date
    _event(
        session,
        warning,
        actor,
        "closed",
        now,
        outcome=outcome.strip()[:200],
        outcome_params={"review_date": review_date.isoformat()},
    )
    review.plan_review(session, actor, warning, warning.student, review_date)
    reports.mark_followed_up(session, warning, now)
    _tell_department_closed(session, warning)


# What the student's department counsellor reads when the centre closes the warning: no outcome,
# no clinical word; the inbox names the student in-app (never in the mail).
CLOSED_FOR_DEPARTMENT_TEXT = N_(
    "The mental health centre has closed a warning for a student of your department. The "
    "review date is on the student's warning page."
)


def _tell_department_closed(session: Session, warning: EarlyWarning) -> None:
    """Tell the student's department counsellors that the centre closed the warning (解除预警),
    in the caller's unit of work: they follow the student, and learned of it only by finding
    the warning gone from their queue."""
    counsellors = sorted(
        set(
            session.scalars(
                select(RoleAssignment.user_id)
                .join(User, User.id == RoleAssignment.user_id)
                .where(
                    RoleAssignment.role == Role.DEPT_COUNSELLOR,
                    RoleAssignment.institution_id == warning.institution_id,
                    RoleAssignment.department_id == warning.department_id,
                    User.active.is_(True),
                )
            )
        )
    )
    if not counsellors:
        return
    detail = response.notice_details(session, [(warning, counsellors, OwnerTier.DEPARTMENT)])
    notify_many(
        session,
        [
            (
                counsellors,
                CLOSED_FOR_DEPARTMENT_TEXT,
                f"/warnings/students/{warning.student_id}",
                detail.get((warning.id, OwnerTier.DEPARTMENT), {}),
            )
        ],
    )


# --------------------------------------------------------------------------------------------------
# Tasks of the class and dorm tiers (and any addressed task)
# --------------------------------------------------------------------------------------------------


class TaskAlreadyDone(Exception):
    """The task was completed before (a double submit, two tabs, a second reporter); `by` is
    who completed it, or None for a task closed without a person's tick, for `reason`."""

    def __init__(self, by: User | None, reason: TaskClosed | None = None) -> None:
        super().__init__(by.name if by is not None else "")
        self.by = by
        self.reason = reason


def already_done(session: Session, task: Task) -> TaskAlreadyDone:
    """The refusal for ticking `task` that someone has already marked done (naming them), or
    that was closed for a reason."""
    by = session.get(User, task.done_by_id) if task.done_by_id is not None else None
    return TaskAlreadyDone(by, task.closed_reason)


def claim_task(session: Session, actor: User, task: Task, now: datetime, note: str | None) -> None:
    """Mark `task` done by `actor` with `note`, in one statement that matches only while it is
    open: of two ticks at one moment (two tabs, two people) exactly one is recorded. The other
    is rolled back, writes nothing, and raises `TaskAlreadyDone` naming who was first. Setting
    `done_at` on the loaded object let both through, the second's note over the first's."""
    claimed = set_once(
        session, Task.done_at, task.id, done_at=now, done_by_id=actor.id, done_note=note
    )
    if not claimed:
        session.rollback()  # expires `task`: who did it is read afresh
        raise already_done(session, task)
    session.expire(task, ["done_at", "done_by_id", "done_note"])


def complete_task(
    session: Session, actor: User, task: Task, now: datetime, *, note: str | None = None
) -> Task:
    """Mark a task done with a short non-clinical note; a peer task meets the warning's deadline
    of the same kind (the check-in, the peer watch) and, for a check-in, plans the next one."""
    if not permissions.can_complete_task(actor, task):
        raise ActionNotAllowed("task")
    first = _company_recorded_today(session, task, now)
    if first is not None:
        raise already_done(session, first)
    claim_task(session, actor, task, now, (note or "").strip()[:500] or None)
    _close_own_copies(session, actor, task, now)
    warning = session.get(EarlyWarning, task.warning_id) if task.warning_id else None
    if warning is not None and warning.status == WarningStatus.OPEN:
        _complete_peer_work(session, actor, warning, task, now, note)
    audit.record_on(
        session,
        task,
        actor=actor,
        action="task.done",
        record_type="task",
    )
    session.commit()
    session.refresh(task)
    return task


# The peer watch's check-in on the counsellor's timeline: the watch goes on until its end.
WATCH_GOES_ON = N_("the watch goes on until %(day)s")


def watch_goes_on(session: Session, task: Task, now: datetime) -> bool:
    """Whether a tap on `task` today is a check-in that keeps it open, not its end: a peer watch
    of an open warning before its last day (the institution's calendar). A week's watch ended by
    one tap on its first day, and the counsellor's timeline read the watch as done. Its last day
    (or after, when no one tapped) the tap ends it, as any peer task."""
    if task.kind != "peer_watch" or task.warning_id is None or task.done_at is not None:
        return False
    warning = session.get(EarlyWarning, task.warning_id)
    if warning is None or warning.status != WarningStatus.OPEN:
        return False
    zone = clock.institution_zone(session.get(Institution, task.institution_id))
    return clock.local_date(now, zone) < clock.local_date(task.due_at, zone)


def check_in_on_watch(
    session: Session, actor: User, task: Task, now: datetime, *, note: str | None = None
) -> bool:
    """A peer's check-in on the peer watch `task` (`watch_goes_on`): on the warning's timeline
    with what she wrote, the latest on the task for her list, the watch still open until its
    end; a class-owed watch deadline is met (she keeps company, as a tick did). False, writing
    nothing, when she already checked in today (a second tap from a page loaded before). The
    peer is told nothing a blue's check-in would not tell her. Commits."""
    if not permissions.can_complete_task(actor, task):
        raise ActionNotAllowed("task")
    warning = session.get_one(EarlyWarning, task.warning_id)
    zone = clock.institution_zone(session.get(Institution, task.institution_id))
    if task.checked_in_at is not None and clock.local_date(
        task.checked_in_at, zone
    ) == clock.local_date(now, zone):
        return False
    task.checked_in_at = now
    done_note = (note or "").strip()[:500] or None
    end = clock.local_date(task.due_at, zone).isoformat()
    _event(
        session,
        warning,
        actor,
        "peer_check_in",
        now,
        outcome=WATCH_GOES_ON % {"day": end},
        outcome_key=WATCH_GOES_ON,
        outcome_params={"day": end},
        note=done_note,
    )
    response.meet(session, warning, ["peer_watch"], now, owed_up_to=OwnerTier.CLASS)
    audit.record_on(session, task, actor=actor, action="task.check_in", record_type="task")
    session.commit()
    return True


def _company_recorded_today(session: Session, task: Task, now: datetime) -> Task | None:
    """The peer task about `task`'s warning, to the same class, room or person, that someone
    completed earlier today (the institution's day), when `task` is a peer's request: that day's
    company is recorded once. A tick on a blue's check-in plans the next follow-up, a new task to
    the same peers; a second tap the same day (a page loaded before, two peers of one class)
    completed it too and planned yet another a month on."""
    if task.kind not in response.PEER_TASK_KINDS or task.warning_id is None:
        return None
    zone = clock.institution_zone(session.get(Institution, task.institution_id))
    today = clock.local_date(now, zone)
    earlier = session.scalars(
        select(Task)
        .where(
            Task.warning_id == task.warning_id,
            Task.id != task.id,
            Task.kind.in_(sorted(response.PEER_TASK_KINDS)),
            Task.done_by_id.is_not(None),
            Task.done_at <= now,
            Task.assignee_user_id.is_not_distinct_from(task.assignee_user_id),
            Task.assignee_class_id.is_not_distinct_from(task.assignee_class_id),
            Task.assignee_room_id.is_not_distinct_from(task.assignee_room_id),
        )
        .order_by(Task.done_at.desc(), Task.id.desc())
        .limit(1)
    ).first()
    if earlier is None or earlier.done_at is None:
        return None
    return earlier if clock.local_date(earlier.done_at, zone) == today else None


def _close_own_copies(session: Session, actor: User, task: Task, now: datetime) -> None:
    """Close the same request reaching `actor` by her other role (a dorm informant who is also
    her class's committee member is asked by the class and by the room, and sees it once): she
    has done it."""
    if task.warning_id is None:
        return
    copies = session.scalars(
        _addressed_to(actor)
        .where(
            Task.warning_id == task.warning_id,
            Task.kind == task.kind,
            Task.id != task.id,
            Task.done_at.is_(None),
        )
        .with_only_columns(Task.id)
    ).all()
    if copies:
        response.close_tasks(session, [Task.id.in_(copies)], TaskClosed.MET, now)


def _complete_peer_work(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    task: Task,
    now: datetime,
    note: str | None,
) -> None:
    """Put the finished task on the timeline with what the peer wrote (a note such as "she
    cannot sleep even with pills" was stored on the task and shown to no one) and meet its
    deadline while one is owed. The timeline has it either way: the peer watch a department
    counsellor arranged met its deadline when she asked for it, and the classmate who kept
    the student company for a week has the most to say at its end."""
    done_note = (note or "").strip()[:500] or None
    _event(session, warning, actor, "task_done", now, outcome=task.kind, note=done_note)
    # Arranging a watch a staff tier owes is that tier's step: a classmate asked to keep company
    # before it was arranged (a level risen while she was) keeps company, she does not arrange it.
    up_to = OwnerTier.CLASS if task.kind == "peer_watch" else None
    if not response.meet(session, warning, [task.kind], now, owed_up_to=up_to):
        return
    if task.kind in ("check_in", "follow_up"):
        every = response.follow_up_every(session, warning)
        response.plan_follow_up(session, warning, now + every, now)


def open_tasks_query(actor: User, *, include_done: bool = False):
    """Open (with `include_done`: all) tasks addressed to `actor` directly or through their
    class, room or department, for students in the actor's roster scope (or about no student,
    like a missing report). Never a task about the actor: a committee member who is herself
    the student is not asked to keep herself company (`permissions.is_about`). Never the same
    request twice: of a warning's open tasks of one kind reaching her by two roles (her class's
    and her room's), the first; ticking it closes the other (`_close_own_copies`)."""
    query = _addressed_to(actor)
    if include_done:
        return query
    twin = aliased(Task)
    return query.where(
        Task.done_at.is_(None),
        ~exists().where(
            twin.warning_id == Task.warning_id,
            twin.kind == Task.kind,
            twin.id < Task.id,
            twin.done_at.is_(None),
            _addressee_clause(actor, twin),
        ),
    )


def _addressed_to(actor: User):
    """Every task addressed to `actor`, done or not, in their roster scope and not about them,
    soonest first."""
    institutions = sorted({a.institution_id for a in actor.roles})
    return (
        select(Task)
        .outerjoin(Student, Student.id == Task.student_id)
        .where(
            Task.institution_id.in_(institutions) if institutions else false(),
            _addressee_clause(actor, Task),
            or_(
                Task.student_id.is_(None),
                and_(student_filter(actor, Capability.ROSTER), Student.user_id != actor.id),
            ),
        )
        .order_by(Task.due_at)
    )


def _addressee_clause(actor: User, task: Any) -> ColumnElement[bool]:
    """`task` (the Task entity or an alias of it) is addressed to `actor`: by name, or to a
    class, room or department they hold a peer's or the department's role for, or to no one
    (the centre's: a review whose counsellor has left, `warning.handover`) at an institution
    whose centre they direct."""
    clauses = [task.assignee_user_id == actor.id]
    for a in actor.roles:
        if a.role == Role.CLASS_COMMITTEE:
            clauses.append(task.assignee_class_id == a.class_id)
        elif a.role == Role.DORM_INFORMANT:
            clauses.append(task.assignee_room_id == a.room_id)
        elif a.role in permissions.DEPARTMENT_ROLES:
            clauses.append(task.assignee_department_id == a.department_id)
        elif a.role == Role.DIRECTOR:
            clauses.append(
                and_(
                    task.institution_id == a.institution_id,
                    task.assignee_user_id.is_(None),
                    task.assignee_class_id.is_(None),
                    task.assignee_room_id.is_(None),
                    task.assignee_department_id.is_(None),
                )
            )
    return or_(*clauses)


def still_new_tasks(session: Session, reader: User, note: Notification) -> int:
    """How many of the new tasks `reader`'s current peer note (`response.notify_new_tasks`)
    announces are still on her task list: the note counted them as they came, and one done by a
    classmate, or ended with its warning, since then is no longer there, so "2 new tasks" over a
    list of one is read as 1. The note's tasks are her open ones created since she read the note
    before it (all her open ones for a first note), and never more than it announced. An older
    note, since replaced, says what it said."""
    announced = response.announced_tasks(note)
    if note.digest_key != response.PEER_TASKS_KEY or note.user_id != reader.id:
        return announced
    listed = open_tasks_query(reader).order_by(None)
    since = (note.detail or {}).get("since")
    if isinstance(since, str):
        listed = listed.where(Task.created_at >= datetime.fromisoformat(since))
    still = session.scalar(select(func.count()).select_from(listed.subquery())) or 0
    return min(announced, still)


def open_deadlines_query(actor: User) -> Select[tuple[Deadline, EarlyWarning, Student]]:
    """The open deadlines of open warnings `actor` works from (see
    `permissions.deadline_clause`), inside their WARNING scope, soonest first."""
    return (
        select(Deadline, EarlyWarning, Student)
        .join(EarlyWarning, EarlyWarning.id == Deadline.warning_id)
        .join(Student, Student.id == EarlyWarning.student_id)
        .where(
            Deadline.still_owed(),
            EarlyWarning.status == WarningStatus.OPEN,
            student_filter(actor, Capability.WARNING),
            permissions.deadline_clause(actor),
        )
        .order_by(Deadline.due_at)
    )


def open_deadlines(
    session: Session, actor: User
) -> Sequence[tuple[Deadline, EarlyWarning, Student, bool]]:
    """The first 500 rows of `open_deadlines_query`, each with whether it is `actor`'s own work
    (`permissions.owned_deadline_clause`): what the task list shows, the rest set apart as
    another tier's."""
    query = open_deadlines_query(actor).add_columns(permissions.owned_deadline_clause(actor))
    return [(d, w, s, bool(own)) for d, w, s, own in session.execute(query.limit(500))]
