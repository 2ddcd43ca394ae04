"""Post-screening interviews (筛查后约谈): the list a campaign's rules pick, assignment, the
invitation, the outcome, reminders and escalation, and the coverage figures.

The list is written in the transaction that stores the result qualifying a student (online intake
and paper import both hand results to `consider_result`; a safety answer kept in a draft hands its
signal to `consider_safety`): one entry per student and campaign, whatever the number of results,
recording every rule met. The campaign's first qualifying result pins the rule set (its version
and text) in an `InterviewRound`, so later results of the campaign are judged by the same rules.

Each step is written in two halves, as the warning actions are: `check_*` raises `InterviewError`
with a message a person can act on and writes nothing; `do_*` writes without committing; the
public function commits once, or rolls all of it back.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

from flask import current_app
from flask import has_app_context
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import union
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from campus import audit
from campus import clock
from campus import network
from campus import notifications
from campus.audit import AuditEvent
from campus.holdings import Holding
from campus.i18n import N_
from campus.i18n import Message
from campus.local_time import Moment
from campus.models import WITH_ENDED_ROLES
from campus.models import Caseload
from campus.models import Department
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from casework import interview_permissions as permissions
from casework import interview_rules
from casework.interview_rules import Finding
from casework.interview_rules import Rule
from casework.interview_rules import RuleSet
from casework.models import InterviewEntry
from casework.models import InterviewRound
from casework.models import InterviewState
from referrals.models import Referral
from screening.models import Campaign
from screening.models import CampaignAssignment
from screening.models import InstrumentResponse
from screening.models import ScreeningResult
from warning import caseload
from warning import labels
from warning.models import Deadline
from warning.models import EarlyWarning
from warning.models import Signal
from warning.models import WarningEvent
from warning.models import WarningStatus
from warning.policy import Level

OPEN_STATES = (InterviewState.TO_ASSIGN, InterviewState.ASSIGNED, InterviewState.SCHEDULED)
# The list's filter for every open state at once: what the home page counts as "to hold".
OPEN = "open"
# The interviewer's own open entries, as their home page and their notes count them.
MINE_TO_HOLD = "/interviews?mine=1&state=open"
CONCLUSIONS = ("no_concern", "watch", "follow_up", "refer")
# The conclusion of an interview the red's professional assessment held (`hold_by_assessment`):
# what the counsellor concluded is the assessment's, on the warning's timeline. Never offered on
# the outcome form.
HELD_AS_ASSESSMENT = "assessment"
LEVEL_DECISIONS = ("confirm", "lower", "raise")
NEXT_STEPS = ("none", "follow_up", "refer")
ATTENDANCE = ("attended", "no_show", "unreachable")
PLACE_LENGTH = 200
STUDENT_PAGE = "/interviews/mine"


class InterviewError(ValueError):
    """A step that breaks a rule; the message (an `N_` text or a `Message`) says which, and
    `field` names the outcome form's field it is said under (whether the student came, unless
    the rule is about another answer)."""

    field = "attendance"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        if field is not None:
            self.field = field


class FollowUpDateError(InterviewError):
    """The outcome's follow-up date is missing or falls outside the warning's follow-up
    cadence: said under that date."""

    field = "follow_up_on"


class HeldTimeError(InterviewError):
    """The time the interview is said to have taken place cannot be: said under that time."""

    field = "held_at"


class StaleInterview(Exception):
    """Someone else changed the entry first; nothing was written."""


# --------------------------------------------------------------------------------------------------
# The list, built as results arrive
# --------------------------------------------------------------------------------------------------


def consider_result(session: Session, result: ScreeningResult, signal: Signal | None) -> None:
    """List the result's student when the campaign's rules pick the result; in the caller's
    transaction (the one storing the result), idempotent per student and campaign."""
    finding = Finding(
        instrument=result.instrument,
        band=result.band,
        flags=result.flag_set,
        level=signal.implied_level if signal is not None else int(Level.NONE),
    )
    _consider(session, result.campaign, result.student, finding, result.completed_at)


def consider_safety(
    session: Session, campaign: Campaign, student: Student, instrument: str, signal: Signal
) -> None:
    """List a student whose safety answer was kept before any result (a saved draft, a late or
    failed submit): the answer's red signal is evidence enough, in the same transaction."""
    finding = Finding(instrument, None, signal.flag_set, signal.implied_level)
    _consider(session, campaign, student, finding, signal.observed_at)


def _consider(
    session: Session, campaign: Campaign, student: Student, finding: Finding, now: datetime
) -> None:
    rules = round_rules(session, campaign)
    matched = rules.matched(finding)
    if not matched:
        return
    entry = session.scalar(
        select(InterviewEntry).where(
            InterviewEntry.campaign_id == campaign.id, InterviewEntry.student_id == student.id
        )
    )
    due_at, from_warning = _deadline(session, campaign, student, rules, matched)
    if entry is None:
        entry = InterviewEntry(
            campaign_id=campaign.id,
            student_id=student.id,
            institution_id=campaign.institution_id,
            department_id=student.department_id,
            rule_set_version=rules.version,
            reasons=[],
            tier=interview_rules.tier_of(matched),
            due_at=due_at,
            due_from_warning=from_warning,
            created_at=now,
        )
        session.add(entry)
    elif from_warning and due_at < entry.due_at:
        entry.due_at, entry.due_from_warning = due_at, True
    known = {r["rule"] for r in entry.reasons}
    added = [
        {"rule": rule.name, "key": label.key, "params": label.params, "tier": rule.tier}
        for rule in matched
        if rule.name not in known
        for label in [rule.reason(finding)]
    ]
    if added:
        entry.reasons = [*entry.reasons, *added]
        entry.tier = (
            "department" if all(r["tier"] == "department" for r in entry.reasons) else ("school")
        )
    session.flush()


def round_rules(session: Session, campaign: Campaign) -> RuleSet:
    """The rule set `campaign` is judged by: pinned at its first qualifying result, the
    institution's own (or the default) until then."""
    pinned = session.scalar(select(InterviewRound).where(InterviewRound.campaign_id == campaign.id))
    if pinned is not None:
        return interview_rules.stored(pinned.rule_set_text)
    rules = institution_rules(campaign.institution)
    session.add(
        InterviewRound(
            campaign_id=campaign.id,
            institution_id=campaign.institution_id,
            rule_set_version=rules.version,
            rule_set_text=rules.text,
            created_at=clock.now(),
        )
    )
    return rules


def institution_rules(institution: Institution) -> RuleSet:
    rules_dir = current_app.config.get("INTERVIEW_RULES_DIR") if has_app_context() else None
    return interview_rules.rules_for(institution.code, rules_dir)


def _deadline(
    session: Session,
    campaign: Campaign,
    student: Student,
    rules: RuleSet,
    matched: list[Rule],
) -> tuple[datetime, bool]:
    """The campaign's deadline, or the open warning's when a rule met keeps it (a safety
    answer keeps its red deadline) and the warning still owes it. A deadline already met is no
    deadline: a red result arriving after the centre assessed the student had been listed as due
    at that assessment's past deadline, overdue from its first minute; it is due as the
    campaign's other interviews are, and a later assessment of the warning holds it
    (`hold_by_assessment`)."""
    campaign_due = campaign.closes_at + timedelta(days=rules.deadline_days)
    if not any(rule.deadline == "warning" for rule in matched):
        return campaign_due, False
    warning_due = session.scalar(
        select(func.min(Deadline.due_at))
        .join(EarlyWarning, Deadline.warning_id == EarlyWarning.id)
        .where(
            EarlyWarning.student_id == student.id,
            EarlyWarning.status == WarningStatus.OPEN,
            Deadline.kind == rules.warning_deadline_kind,
            Deadline.still_owed(),
        )
    )
    if warning_due is None:
        return campaign_due, False
    return warning_due, True


# --------------------------------------------------------------------------------------------------
# The screening's close moved
# --------------------------------------------------------------------------------------------------

DUE_MOVED_TEXT = N_("A screening's close was moved: your interview deadlines moved with it.")
DUE_MOVED_ITEM = N_(
    "%(campaign)s: its close was moved, and your interviews from it are now due %(date)s"
)


def close_move_due(
    session: Session, campaign: Campaign, closes_at: datetime, now: datetime
) -> datetime | None:
    """When the campaign's interviews still owed would be due were it to close at `closes_at`:
    the rule set's `deadline_days` after it, or the end of today when that is already past; None
    while nobody is listed (the first entry is due from the close as it then is)."""
    text = session.scalar(
        select(InterviewRound.rule_set_text).where(InterviewRound.campaign_id == campaign.id)
    )
    if text is None:
        return None
    due = closes_at + timedelta(days=interview_rules.stored(text).deadline_days)
    if due <= now:
        zone = clock.institution_zone(session.get(Institution, campaign.institution_id))
        tomorrow = clock.local_date(now, zone) + timedelta(days=1)
        due = max(clock.day_start(tomorrow, zone) - timedelta(minutes=1), now)
    return due


def _owed_moving(campaign: Campaign, due: datetime):
    """The campaign's interviews still owed whose deadline is the campaign's and not `due`."""
    return select(InterviewEntry).where(
        InterviewEntry.campaign_id == campaign.id,
        InterviewEntry.state.in_(OPEN_STATES),
        InterviewEntry.due_from_warning.is_(False),
        InterviewEntry.due_at != due,
    )


def close_move_preview(
    session: Session, campaign: Campaign, closes_at: datetime, now: datetime
) -> tuple[int, datetime | None]:
    """How many interviews `follow_close` would move were the campaign to close at `closes_at`
    instead, and to when: what the administrator is asked to confirm before saving."""
    due = close_move_due(session, campaign, closes_at, now)
    if due is None or closes_at == campaign.closes_at:
        return 0, None
    moving = _owed_moving(campaign, due).subquery()
    count = session.scalar(select(func.count()).select_from(moving)) or 0
    return count, due if count else None


def follow_close(
    session: Session, actor: User, campaign: Campaign, closed_before: datetime, now: datetime
) -> int:
    """The administrator moved `campaign`'s close from `closed_before`: every interview still
    owed (to assign, assigned or invited) whose deadline is the campaign's is due the rule set's
    `deadline_days` after the new close, in the caller's transaction (the campaign's save); how
    many moved. An interview held or closed unreachable keeps the deadline it was judged by, and
    one due at a red warning's deadline keeps the warning's.

    A new deadline already past would make the interview overdue, and the directors told it was
    missed, the moment the close moved, though nobody could have met it: it is due at the end of
    today instead, and missed only if today passes (`close_move_due`). Each moved entry keeps the
    date it was first given (moved twice, its page still names the original) and when it last
    moved, has its own audit row, and is reminded and escalated again by the new date. Each
    interviewer is told in one note a day (a digest per person and day), a line per campaign
    naming it and its new deadline; moved again that day, the line is replaced by the latest
    date, so three moves are one note with one line, not three identical copies."""
    if campaign.closes_at == closed_before:
        return 0
    due = close_move_due(session, campaign, campaign.closes_at, now)
    if due is None:
        return 0
    owed = session.scalars(_owed_moving(campaign, due).order_by(InterviewEntry.id)).all()
    for entry in owed:
        before = entry.due_at
        if entry.due_moved_from is None:
            entry.due_moved_from = before
        entry.due_moved_at = now
        entry.due_at = due
        # The reminder and the escalation were of the old date: the new one has its own.
        entry.reminded_at = entry.escalated_at = None
        audit.record_on(
            session,
            entry,
            actor=actor,
            action="interview.due_moved",
            record_type="interview",
            detail=f"due_from={before.isoformat()} due_to={due.isoformat()} "
            f"close_from={closed_before.isoformat()}",
        )
    interviewers = sorted({e.interviewer_id for e in owed if e.interviewer_id is not None})
    today = clock.local_date(now, clock.institution_zone(campaign.institution))
    item: dict[str, object] = {
        "text": DUE_MOVED_ITEM,
        "names": {"campaign": [campaign.name, campaign.name_en]},
        "moments": {"date": due.isoformat()},
        "link": f"{MINE_TO_HOLD}&campaign={campaign.id}",
        "same": f"campaign:{campaign.id}",  # moved again today: the line says the latest date
    }
    for user_id in interviewers:
        notifications.notify_digest(
            session,
            [user_id],
            f"interview_due_moved:user:{user_id}:{today}",
            DUE_MOVED_TEXT,
            MINE_TO_HOLD,
            [item],
        )
    session.flush()
    return len(owed)


# --------------------------------------------------------------------------------------------------
# Reading the list
# --------------------------------------------------------------------------------------------------


def campaign_deadline_days(session: Session, campaign_ids: Iterable[int]) -> dict[int, int]:
    """How many days after its close each campaign's interviews are due, by campaign id: the
    `deadline_days` of the rule set the campaign pinned. The list and an entry's page say it
    beside a campaign's deadline, which otherwise read as a bare date weeks after the yellow
    warning's own contact deadline."""
    ids = set(campaign_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(InterviewRound.campaign_id, InterviewRound.rule_set_text).where(
            InterviewRound.campaign_id.in_(ids)
        )
    ).tuples()
    return {campaign: interview_rules.stored(text).deadline_days for campaign, text in rows}


@dataclass(frozen=True)
class ShownReason:
    """One reason of the student's warning as a page shows it: `labelled(key, params, text)`."""

    key: str | None
    params: dict[str, Any] | None
    text: str


def warning_reasons(
    session: Session, warning: EarlyWarning | None, now: datetime
) -> list[ShownReason]:
    """The open warning's reasons as they stand now, every one deciding its level, in the order
    the warning's page names them (its line says the first and counts the rest). An interview's
    own reasons are the rules its screening met as it was listed, one per rule: a second safety
    answer (an acute ASQ after a PHQ-9 item 9) met no new rule and was never added there, so the
    interview shows these first. Where the level stands apart from what the evidence now says
    (red held after its signals lapsed), the warning's own line is all there is to say."""
    from warning import services as warning_services

    if warning is None:
        return []
    tri = warning_services.current_triage(session, warning.student, now)
    if int(tri.level) != warning.level or not tri.reasons:
        return [ShownReason(warning.reason_key, warning.reason_params, warning.reason)]
    return [
        ShownReason(label.key if label else None, label.params if label else None, text)
        for label, text in warning_services.reason_labels(session, tri, warning)
    ]


def reasons_shown(entry: InterviewEntry) -> list[str]:
    """The rules met, in the viewer's language."""
    return [labels.render(r["key"], r.get("params")) for r in entry.reasons]


def interviewer_choices(
    session: Session, institution_id: int
) -> list[tuple[User, Role, int | None]]:
    """Everyone who may be handed an entry of the institution: school counsellors, and department
    counsellors (for the department-tier entries of their own department)."""
    rows = session.execute(
        select(User, RoleAssignment.role, RoleAssignment.department_id)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(
            RoleAssignment.institution_id == institution_id,
            RoleAssignment.role.in_([Role.SCHOOL_COUNSELLOR, Role.DEPT_COUNSELLOR]),
            User.active.is_(True),
        )
        .order_by(RoleAssignment.role.desc(), User.name)
    ).all()
    return [(user, role, department) for user, role, department in rows]


# --------------------------------------------------------------------------------------------------
# Assignment
# --------------------------------------------------------------------------------------------------


def check_assign(actor: User, entries: Sequence[InterviewEntry], interviewer: User | None) -> User:
    """The interviewer, if `actor` may hand every one of `entries` to them; raises otherwise."""
    if interviewer is None:
        raise InterviewError(N_("Choose an interviewer."))
    if not entries:
        raise InterviewError(N_("Choose at least one student on the list."))
    for entry in entries:
        if not permissions.can_assign(actor, entry.institution_id):
            raise InterviewError(N_("Only the centre director or a school counsellor assigns."))
        if not entry.open:
            raise InterviewError(N_("An interview already closed cannot be reassigned."))
        if not permissions.may_interview(interviewer, entry):
            raise InterviewError(
                N_(
                    "A department counsellor may only interview students of their own "
                    "department whose reasons are all department tier; choose a school "
                    "counsellor."
                )
            )
    return interviewer


def do_assign(
    session: Session,
    actor: User,
    entries: Sequence[InterviewEntry],
    interviewer: User,
    now: datetime,
) -> None:
    for entry in entries:
        if entry.interviewer_id is not None and entry.interviewer_id != interviewer.id:
            _leave_caseload(session, actor, entry, entry.interviewer_id)
        entry.interviewer_id = interviewer.id
        entry.assigned_at, entry.assigned_by_id = now, actor.id
        if entry.state == InterviewState.TO_ASSIGN:
            entry.state = InterviewState.ASSIGNED
        audit.record_on(
            session,
            entry,
            actor=actor,
            action="interview.assign",
            record_type="interview",
            detail=f"interviewer={interviewer.id}",
        )
        # The student's file (screening results, warning, earlier interviews) is what the
        # interview is about: a school counsellor holding it has her on the caseload, as the
        # counsellor of her case does (`warning.caseload`), until her role ends
        # (`warning.handover.end_caseloads_sweep`). Audited, since it opens the clinical record.
        if permissions.joins_caseload(interviewer, entry) and caseload.join(
            session, interviewer, entry.student, now
        ):
            audit.record_on(
                session,
                entry,
                actor=actor,
                action="caseload_joined",
                record_type="interview",
                detail=f"counsellor={interviewer.id}",
            )
    notifications.notify(
        session,
        [interviewer.id],
        N_("You have post-screening interviews to hold: see the interview list."),
        MINE_TO_HOLD,
    )


# What a school counsellor does on a warning that takes its case on (`warning.actions._took_up`):
# acknowledging it, a contact (or an attempt) and the professional assessment.
TAKE_UP_EVENTS = ("acknowledged", "contact", "contact_attempt", "assessment")


def _came_only_from(session: Session, entry: InterviewEntry, counsellor_id: int) -> bool:
    """Whether `counsellor_id`'s caseload row for the entry's student came from being handed this
    interview and from nothing else: its assignment put the student on her caseload (the
    interview's `caseload_joined` audit row names her; none when she had the student already),
    and she holds no other reason to: another interview of the student, a warning of the
    student whose counsellor she is or that she took up, or a referral she made."""
    mine = f"counsellor={counsellor_id}"
    joined_here = session.scalar(
        select(AuditEvent.id)
        .where(
            AuditEvent.action == "caseload_joined",
            AuditEvent.record_type == "interview",
            AuditEvent.record_id == str(entry.id),
            or_(AuditEvent.detail == mine, AuditEvent.detail.like(f"{mine} %")),
        )
        .limit(1)
    )
    if joined_here is None:
        return False
    warnings = select(EarlyWarning.id).where(EarlyWarning.student_id == entry.student_id)
    other_reasons = (
        select(InterviewEntry.id).where(
            InterviewEntry.student_id == entry.student_id,
            InterviewEntry.interviewer_id == counsellor_id,
            InterviewEntry.id != entry.id,
        ),
        select(EarlyWarning.id).where(
            EarlyWarning.student_id == entry.student_id,
            EarlyWarning.assigned_counsellor_id == counsellor_id,
        ),
        select(WarningEvent.id).where(
            WarningEvent.warning_id.in_(warnings),
            WarningEvent.actor_id == counsellor_id,
            WarningEvent.kind.in_(TAKE_UP_EVENTS),
        ),
        select(Referral.id).where(
            Referral.student_id == entry.student_id, Referral.created_by_id == counsellor_id
        ),
    )
    return not any(session.scalar(query.limit(1)) is not None for query in other_reasons)


def _leave_caseload(session: Session, actor: User, entry: InterviewEntry, former_id: int) -> None:
    """The interview goes from `former_id` to another interviewer: the caseload row it gave her
    ends, audited on the interview, unless she has the student on her caseload for another
    reason too (`_came_only_from`)."""
    if not _came_only_from(session, entry, former_id):
        return
    ended = session.scalar(
        select(Caseload).where(
            Caseload.counsellor_id == former_id, Caseload.student_id == entry.student_id
        )
    )
    if ended is not None:
        session.delete(ended)
        audit.record_on(
            session,
            entry,
            actor=actor,
            action="interview.caseload_ended",
            record_type="interview",
            detail=f"counsellor={former_id}",
        )


def case_counsellor_sweep(session: Session, now: datetime) -> int:
    """The scheduler's sweep: an interview still to assign goes to the school counsellor who has
    taken up the student's open warning, committed together; how many. Without it the case was
    handed out twice: the counsellor took the red, and the interview list still read "to assign".
    The counsellor is its actor in the audit trail: taking the case is what assigned it."""
    rows = session.execute(
        select(InterviewEntry, User)
        .join(
            EarlyWarning,
            (EarlyWarning.student_id == InterviewEntry.student_id)
            & (EarlyWarning.status == WarningStatus.OPEN),
        )
        .join(User, User.id == EarlyWarning.assigned_counsellor_id)
        .where(InterviewEntry.state == InterviewState.TO_ASSIGN, User.active.is_(True))
        .order_by(InterviewEntry.id)
    ).tuples()
    taken: dict[User, list[InterviewEntry]] = {}
    for entry, counsellor in rows:
        if permissions.may_interview(counsellor, entry):
            taken.setdefault(counsellor, []).append(entry)
    for counsellor, entries in taken.items():  # one notice for each counsellor
        do_assign(session, counsellor, entries, counsellor, now)
    session.commit()
    return sum(len(entries) for entries in taken.values())


def _may_still_interview(now: datetime):
    """SQL: the entry's interviewer has a working account and, at `now`, a role that lets them
    interview it (as `permissions.may_interview`: a school counsellor of its institution, or a
    counsellor of its department for a department-tier entry)."""
    role = (
        select(RoleAssignment.id)
        .where(
            RoleAssignment.user_id == InterviewEntry.interviewer_id,
            RoleAssignment.institution_id == InterviewEntry.institution_id,
            RoleAssignment.working_at(now),
            or_(
                RoleAssignment.role == Role.SCHOOL_COUNSELLOR,
                and_(
                    RoleAssignment.role == Role.DEPT_COUNSELLOR,
                    InterviewEntry.tier == "department",
                    RoleAssignment.department_id == InterviewEntry.department_id,
                ),
            ),
        )
        .exists()
    )
    active = (
        select(User.id)
        .where(User.id == InterviewEntry.interviewer_id, User.active.is_(True))
        .exists()
    )
    return and_(role, active)


INTERVIEWS_RETURNED_TEXT = N_(
    "Interviews came back to the list to assign: their interviewer's role has ended"
)


def interviewer_gone_sweep(session: Session, now: datetime) -> int:
    """The scheduler's sweep: an interview not yet held whose interviewer no longer may hold it
    (the role ended, or the account is off) goes back to the list to assign, the time and place
    the student was given kept on it for whoever takes it over; the directors are told by one
    note a day. Idempotent: a returned entry has no interviewer. Commits; how many came back."""
    gone = session.scalars(
        select(InterviewEntry)
        .where(
            InterviewEntry.state.in_((InterviewState.ASSIGNED, InterviewState.SCHEDULED)),
            InterviewEntry.interviewer_id.is_not(None),
            ~_may_still_interview(now),
        )
        .order_by(InterviewEntry.institution_id, InterviewEntry.id)
        .execution_options(**{WITH_ENDED_ROLES: True})
    ).all()
    today = clock.local_date(now, clock.institution_zone(None))
    for entry in gone:
        former = entry.interviewer_id
        entry.interviewer_id = None
        entry.state = InterviewState.TO_ASSIGN
        audit.record_on(
            session,
            entry,
            actor=None,
            action="interview.interviewer_gone",
            record_type="interview",
            detail=f"interviewer={former}",
        )
        notifications.notify_digest(
            session,
            network.holders(session, entry.institution_id, Role.DIRECTOR, now),
            f"interview_returned:institution:{entry.institution_id}:{today}",
            INTERVIEWS_RETURNED_TEXT,
            f"/interviews?state={InterviewState.TO_ASSIGN.value}",
            [_item(entry, N_("%(student)s: interview due %(date)s"))],
        )
    session.commit()
    return len(gone)


def assign(
    session: Session,
    actor: User,
    entries: Sequence[InterviewEntry],
    interviewer: User | None,
    now: datetime,
) -> int:
    """Hand `entries` to `interviewer` and tell them, in one commit; how many were assigned."""
    chosen = check_assign(actor, entries, interviewer)
    _commit(session, lambda: do_assign(session, actor, entries, chosen, now))
    return len(entries)


# --------------------------------------------------------------------------------------------------
# The invitation
# --------------------------------------------------------------------------------------------------


def check_schedule(
    actor: User, entry: InterviewEntry, when: datetime | None, place: str, now: datetime
) -> str:
    """The place, cleaned, if `actor` may invite the student for `when` there; raises otherwise."""
    if not permissions.can_conduct(actor, entry):
        raise InterviewError(N_("Only the interviewer or the centre director may invite."))
    if not entry.open or entry.interviewer_id is None:
        raise InterviewError(N_("Assign an interviewer before inviting the student."))
    if when is None or when <= now:
        raise InterviewError(N_("Choose a time in the future."))
    place = (place or "").strip()
    if not place or len(place) > PLACE_LENGTH:
        raise InterviewError(N_("Say where the conversation takes place (at most 200 characters)."))
    return place


def do_schedule(
    session: Session, actor: User, entry: InterviewEntry, when: datetime, place: str, now: datetime
) -> None:
    changed = entry.state == InterviewState.SCHEDULED
    entry.scheduled_for, entry.place, entry.invited_at = when, place, now
    entry.state = InterviewState.SCHEDULED
    audit.record_on(
        session,
        entry,
        actor=actor,
        action="interview.reschedule" if changed else "interview.invite",
        record_type="interview",
    )
    # Neutral words only: never the reason, a score or a level. The time and place are on the
    # student's page the note links to.
    text = (
        N_("The time or place of your conversation with the mental health centre has changed.")
        if changed
        else N_("The mental health centre invites you to a conversation. See the time and place.")
    )
    if entry.student.user_id is not None:
        notifications.notify(session, [entry.student.user_id], text, STUDENT_PAGE)


def schedule(
    session: Session,
    actor: User,
    entry: InterviewEntry,
    expected_version: int,
    now: datetime,
    *,
    when: datetime | None,
    place: str,
) -> None:
    """Invite the student (or move the invitation) and tell them; commits."""
    _same_version(entry, expected_version)
    cleaned = check_schedule(actor, entry, when, place, now)
    assert when is not None  # check_schedule refuses a missing time
    _commit(session, lambda: do_schedule(session, actor, entry, when, cleaned, now))


# --------------------------------------------------------------------------------------------------
# The outcome
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What the interviewer records; `level` is the warning level chosen to lower or raise to."""

    attendance: str
    conclusion: str = ""
    level_decision: str = "confirm"
    level: int | None = None
    reason: str = ""
    next_step: str = "none"
    follow_up_on: date | None = None
    # When the interview really took place (naive UTC), if not at the invited time: a student who
    # came by before it. None: at the invited time.
    held_at: datetime | None = None


def _moment(entry: InterviewEntry, at: datetime) -> Moment:
    return Moment(at, clock.institution_zone(entry.student.institution))


def check_attendance(entry: InterviewEntry, outcome: Outcome, now: datetime) -> datetime | None:
    """When an attended interview took place (the time given, else the invited time); None for
    any other attendance. Raises `InterviewError` when whether the student came cannot be known
    yet: an attended or missed interview is recorded once its time has come, so the on-time
    figure and the student's own page read a time that happened. One that took place before its
    invited time (the student came by) needs that time, not in the future and not before the
    invitation (before the student was listed, when none was sent)."""
    invited = entry.scheduled_for if entry.state == InterviewState.SCHEDULED else None
    if outcome.attendance == "no_show":
        if invited is None:
            raise InterviewError(
                N_("The student has not been invited: invite them before recording a no-show.")
            )
        if invited > now:
            raise InterviewError(
                Message(
                    N_(
                        "The student is invited for %(when)s: whether they came can be recorded "
                        "from then."
                    ),
                    when=_moment(entry, invited),
                )
            )
        return None
    if outcome.attendance != "attended":
        return None
    held = outcome.held_at
    if held is None:
        if invited is None:
            raise HeldTimeError(N_("Give the time the interview took place."))
        if invited > now:
            raise InterviewError(
                Message(
                    N_(
                        "The interview is set for %(when)s: its outcome can be recorded from "
                        "then. If the student came earlier, give the time it took place."
                    ),
                    when=_moment(entry, invited),
                )
            )
        return invited
    if held > now:
        raise HeldTimeError(N_("The time it took place cannot be in the future."))
    if entry.invited_at is not None and invited is not None:
        # To the minute, as the time is typed: sent at 06:30:21, 06:30 is not before it.
        if held < entry.invited_at.replace(second=0, microsecond=0):
            raise HeldTimeError(
                Message(
                    N_("It cannot have taken place before the invitation was sent (%(when)s)."),
                    when=_moment(entry, entry.invited_at),
                )
            )
    elif held < entry.created_at:
        raise HeldTimeError(
            Message(
                N_("It cannot have taken place before the student was listed (%(when)s)."),
                when=_moment(entry, entry.created_at),
            )
        )
    return held


def check_outcome(
    session: Session, actor: User, entry: InterviewEntry, outcome: Outcome, now: datetime
) -> EarlyWarning | None:
    """The student's open warning (when the outcome changes it), if the outcome may be recorded;
    raises `InterviewError` naming the field it is about otherwise (the warning service's
    `check_override` refusals included: a missing reason is the reason's)."""
    from warning import permissions as warning_permissions
    from warning import services as warning_services

    if not permissions.can_conduct(actor, entry):
        raise InterviewError(N_("Only the interviewer or the centre director records the outcome."))
    if not entry.open or entry.interviewer_id is None:
        raise InterviewError(N_("This interview is not open."))
    if outcome.attendance not in ATTENDANCE:
        raise InterviewError(N_("Say whether the student came."))
    check_attendance(entry, outcome, now)
    if outcome.attendance != "attended":
        return None
    if outcome.conclusion not in CONCLUSIONS:
        raise InterviewError(N_("Choose the interview's conclusion."), "conclusion")
    if outcome.level_decision not in LEVEL_DECISIONS:
        raise InterviewError(
            N_("Say whether the warning level is confirmed, lowered or raised."), "level_decision"
        )
    if outcome.next_step not in NEXT_STEPS:
        raise InterviewError(N_("Choose the next step."), "next_step")
    if outcome.next_step == "follow_up" and outcome.follow_up_on is None:
        raise FollowUpDateError(N_("Give the follow-up date."))
    warning = warning_services.open_warning(session, entry.student_id)
    if outcome.level_decision == "confirm":
        return warning
    if warning is None:
        raise InterviewError(
            N_("The student has no open warning: confirm, or open one from the student's page."),
            "level_decision",
        )
    if outcome.level is None:
        raise InterviewError(N_("Choose the level to set."), "level")
    if outcome.level_decision == "lower" and outcome.level >= warning.level:
        raise InterviewError(N_("To lower the level, choose one below the current level."), "level")
    if outcome.level_decision == "raise" and outcome.level <= warning.level:
        raise InterviewError(N_("To raise the level, choose one above the current level."), "level")
    if not warning_permissions.can_act_on(actor, warning, "level"):
        raise InterviewError(
            N_("You may not change this student's warning level."), "level_decision"
        )
    try:
        warning_services.check_override(actor, warning, outcome.level, outcome.reason)
    except warning_services.OverrideReasonError as exc:
        raise InterviewError(exc.args[0], "reason") from None
    except warning_services.OverrideError as exc:
        raise InterviewError(exc.args[0], "level") from None
    return warning


def do_record_outcome(
    session: Session,
    actor: User,
    entry: InterviewEntry,
    outcome: Outcome,
    warning: EarlyWarning | None,
    now: datetime,
) -> None:
    """Write the outcome `check_outcome` allowed; a level change goes through the warning
    service (timeline, audit, response plan) in the same unit of work."""
    from warning import actions as warning_actions
    from warning import services as warning_services

    if outcome.attendance == "no_show":
        entry.no_shows += 1
        entry.state = InterviewState.ASSIGNED
        entry.scheduled_for = None
        _audit(session, actor, entry, "interview.no_show")
        return
    if outcome.attendance == "unreachable":
        entry.state = InterviewState.UNREACHABLE
        entry.closed_at, entry.closed_by_id = now, actor.id
        _audit(session, actor, entry, "interview.unreachable")
        return
    held = outcome.held_at or entry.scheduled_for
    assert held is not None  # check_attendance refuses an interview with no time
    entry.held_at = held
    if warning is not None:
        warning_actions.interview_held(session, actor, warning, held)
    entry.conclusion = outcome.conclusion
    entry.level_decision = outcome.level_decision
    entry.level_before = warning.level if warning else None
    entry.level_reason = outcome.reason.strip()[:500] or None
    if warning is not None and outcome.level_decision != "confirm":
        assert outcome.level is not None  # check_outcome requires it
        warning_services.do_override_level(
            session,
            warning=warning,
            actor=actor,
            level=outcome.level,
            reason=outcome.reason,
            now=now,
        )
    entry.level_after = warning.level if warning else None
    entry.next_step = outcome.next_step
    if outcome.next_step == "follow_up" and outcome.follow_up_on is not None:
        entry.follow_up_on = outcome.follow_up_on
        if warning is not None:
            due = _local_morning(entry, outcome.follow_up_on)
            try:
                warning_actions.check_follow_up(session, warning, now, due)
            except warning_actions.InvalidAction as exc:
                raise FollowUpDateError(exc.args[0]) from None
            warning_actions.do_schedule_follow_up(session, actor, warning, now, due)
    entry.state = InterviewState.DONE
    entry.closed_at, entry.closed_by_id = now, actor.id
    _audit(
        session,
        actor,
        entry,
        "interview.outcome",
        f"conclusion={entry.conclusion} level={entry.level_decision} "
        f"{entry.level_before}->{entry.level_after} next={entry.next_step}",
    )


def record_outcome(
    session: Session,
    actor: User,
    entry: InterviewEntry,
    expected_version: int,
    now: datetime,
    outcome: Outcome,
) -> None:
    """Record what came of the interview (and the level decision) in one commit."""
    _same_version(entry, expected_version)
    warning = check_outcome(session, actor, entry, outcome, now)
    _commit(session, lambda: do_record_outcome(session, actor, entry, outcome, warning, now))


# --------------------------------------------------------------------------------------------------
# Held as the professional assessment
# --------------------------------------------------------------------------------------------------

# Whoever was to hold an interview the assessment held, and a student invited to it for a time
# still to come, are told; neither note names a reason, the student's neutral as an invitation.
# The interviewer's leads to the student's warning page, where the assessment is: a department
# counsellor reads only the entries assigned to her, and this one is the assessor's now.
HELD_ELSEWHERE_TEXT = N_(
    "A post-screening interview you were to hold was held as the centre's professional "
    "assessment: see the student's warning."
)
INVITATION_WITHDRAWN_TEXT = N_(
    "The mental health centre has cancelled the conversation it invited you to: you need not "
    "come at that time."
)


def _campaigns_feeding(warning_id: int):
    """SQL: the campaigns whose screening of the student fed warning `warning_id`: a result of
    hers in one (or a safety answer kept in its draft) is evidence of one of its signals."""
    from_results = (
        select(ScreeningResult.campaign_id)
        .join(
            Signal,
            and_(
                Signal.evidence_type == "screening_result",
                Signal.evidence_id == ScreeningResult.id,
            ),
        )
        .where(Signal.warning_id == warning_id)
    )
    from_drafts = (
        select(CampaignAssignment.campaign_id)
        .join(InstrumentResponse, InstrumentResponse.assignment_id == CampaignAssignment.id)
        .join(
            Signal,
            and_(
                Signal.evidence_type == "instrument_response",
                Signal.evidence_id == InstrumentResponse.id,
            ),
        )
        .where(Signal.warning_id == warning_id)
    )
    return union(from_results, from_drafts)


def hold_by_assessment(
    session: Session, assessor: User, warning: EarlyWarning, now: datetime
) -> list[InterviewEntry]:
    """The one rule of an interview held by the professional assessment: the school counsellor
    who records `warning`'s assessment has met and assessed the student, which is what the
    post-screening interview asked. Every interview of hers still open that a result of the
    warning put on the list (its screening is evidence of one of the warning's signals, so a red
    result's interview, due with the assessment, always is) is held by it, in the caller's unit
    of work: held now, by the assessor, who is shown as its interviewer (whoever else had it is
    told), the level confirmed, its conclusion "held as the professional assessment"
    (`HELD_AS_ASSESSMENT`). Nothing is added to the warning's timeline: the assessment is
    there. An invitation for a time still to come is withdrawn and the student told. An entry
    already held or closed is left as it is. Returns the entries held.

    Registered with `warning.actions.ASSESSMENT_SERVES` (casework's registration), which calls
    it from `do_record_assessment`; a walk of the demo found four red results' interviews
    overdue on the list and in the director's notes though each red was assessed within its
    24 hours."""
    entries = session.scalars(
        select(InterviewEntry)
        .where(
            InterviewEntry.student_id == warning.student_id,
            InterviewEntry.state.in_(OPEN_STATES),
            InterviewEntry.campaign_id.in_(_campaigns_feeding(warning.id)),
        )
        .order_by(InterviewEntry.id)
    ).all()
    for entry in entries:
        _held_as_assessment(session, assessor, entry, warning, now)
    return list(entries)


def _held_as_assessment(
    session: Session, assessor: User, entry: InterviewEntry, warning: EarlyWarning, now: datetime
) -> None:
    former = entry.interviewer_id
    invited = entry.scheduled_for if entry.state == InterviewState.SCHEDULED else None
    if invited is not None and invited > now:
        # The time she was given will not happen: nothing may say it did (her own copy reads
        # the invitation's time as the conversation's).
        entry.scheduled_for, entry.place = None, None
        if entry.student.user_id is not None:
            notifications.notify(
                session, [entry.student.user_id], INVITATION_WITHDRAWN_TEXT, STUDENT_PAGE
            )
    entry.interviewer_id = assessor.id
    entry.held_at = now
    entry.conclusion = HELD_AS_ASSESSMENT
    entry.level_decision = "confirm"
    entry.level_before = entry.level_after = warning.level
    entry.next_step = "none"
    entry.state = InterviewState.DONE
    entry.closed_at, entry.closed_by_id = now, assessor.id
    if former is not None and former != assessor.id:
        notifications.notify(
            session, [former], HELD_ELSEWHERE_TEXT, f"/warnings/students/{entry.student_id}"
        )
    _audit(
        session,
        assessor,
        entry,
        "interview.held_by_assessment",
        f"warning={warning.id} interviewer={former}",
    )


def _local_morning(entry: InterviewEntry, day: date) -> datetime:
    """09:00 on `day` in the institution's zone, as naive UTC."""
    zone = clock.institution_zone(entry.student.institution)
    return clock.to_utc(datetime.combine(day, datetime.min.time()) + timedelta(hours=9), zone)


def _audit(
    session: Session, actor: User, entry: InterviewEntry, action: str, detail: str | None = None
) -> None:
    audit.record_on(
        session, entry, actor=actor, action=action, record_type="interview", detail=detail
    )


def _same_version(entry: InterviewEntry, expected_version: int) -> None:
    if entry.version != expected_version:
        raise StaleInterview()


def _commit(session: Session, work) -> None:
    try:
        work()
        session.commit()
    except StaleDataError:
        session.rollback()
        raise StaleInterview() from None
    except Exception:
        session.rollback()
        raise


# --------------------------------------------------------------------------------------------------
# Reminders and escalation (scheduler sweeps)
# --------------------------------------------------------------------------------------------------


def _item(entry: InterviewEntry, text: str) -> dict[str, object]:
    return {
        "text": text,
        "params": {"student": entry.student.name, "date": labels.day(entry.due_at)},
    }


def _interviewer_still_working(
    session: Session, entry: InterviewEntry, now: datetime
) -> int | None:
    """The entry's interviewer, if they may still hold it at `now`; None otherwise or if none."""
    if entry.interviewer_id is None:
        return None
    return session.scalar(
        select(InterviewEntry.interviewer_id)
        .where(InterviewEntry.id == entry.id, _may_still_interview(now))
        .execution_options(**{WITH_ENDED_ROLES: True})
    )


def reminder_sweep(session: Session, now: datetime) -> int:
    """Remind each interviewer (the director, while nobody is assigned) of entries due within
    the rule set's reminder days, once per entry, gathered into one note a day. Commits."""
    reminded = 0
    today = clock.local_date(now, clock.institution_zone(None))
    for pinned in session.scalars(select(InterviewRound)):
        rules = interview_rules.stored(pinned.rule_set_text)
        if rules.reminder_days <= 0:
            continue
        due = session.scalars(
            select(InterviewEntry).where(
                InterviewEntry.campaign_id == pinned.campaign_id,
                InterviewEntry.state.in_(OPEN_STATES),
                InterviewEntry.reminded_at.is_(None),
                InterviewEntry.due_at > now,
                InterviewEntry.due_at <= now + timedelta(days=rules.reminder_days),
            )
        ).all()
        for entry in due:
            # An interviewer who may no longer hold it (role ended, account off) is not reminded:
            # the directors are, as while nobody is assigned (`interviewer_gone_sweep` hands it
            # back to the list at its next run).
            interviewer = _interviewer_still_working(session, entry, now)
            recipients = (
                [interviewer]
                if interviewer is not None
                else network.holders(session, entry.institution_id, Role.DIRECTOR, now)
            )
            for user_id in recipients:
                notifications.notify_digest(
                    session,
                    [user_id],
                    f"interview_due:user:{user_id}:{today}",
                    N_("Post-screening interviews are due soon."),
                    MINE_TO_HOLD if interviewer is not None else "/interviews",
                    [_item(entry, N_("%(student)s: interview due %(date)s"))],
                )
            entry.reminded_at = now
            reminded += 1
    session.commit()
    return reminded


def escalation_sweep(session: Session, now: datetime) -> int:
    """Tell the centre director of every entry whose deadline passed without an interview, once
    per entry, gathered into one note a day per institution. Commits."""
    overdue = session.scalars(
        select(InterviewEntry).where(
            InterviewEntry.state.in_(OPEN_STATES),
            InterviewEntry.escalated_at.is_(None),
            InterviewEntry.due_at <= now,
        )
    ).all()
    for entry in overdue:
        notifications.notify_digest(
            session,
            network.holders(session, entry.institution_id, Role.DIRECTOR, now),
            f"interview_overdue:institution:{entry.institution_id}:"
            f"{clock.local_date(now, clock.institution_zone(None))}",
            N_("Post-screening interviews missed their deadline."),
            "/interviews?overdue=1",
            [_item(entry, N_("%(student)s: interview was due %(date)s"))],
        )
        entry.escalated_at = now
    session.commit()
    return len(overdue)


# --------------------------------------------------------------------------------------------------
# Coverage
# --------------------------------------------------------------------------------------------------


@dataclass
class InterviewCoverage:
    to_interview: int = 0
    interviewed: int = 0
    on_time: int = 0
    no_shows: int = 0
    unreachable: int = 0
    overdue: int = 0
    conclusions: dict[str, int] = field(default_factory=dict)

    @property
    def percent_interviewed(self) -> float:
        return round(100 * self.interviewed / self.to_interview, 1) if self.to_interview else 0.0


def coverage_by_department(
    session: Session, campaign: Campaign, now: datetime
) -> tuple[InterviewCoverage, list[tuple[str, InterviewCoverage]]]:
    """The campaign's interview figures, overall and per department (departments by name):
    aggregates only, the same for every reader who may see the campaign."""

    def counted(condition) -> Any:
        return func.sum(case((condition, 1), else_=0))

    rows = session.execute(
        select(
            Department.name,
            InterviewEntry.state,
            InterviewEntry.conclusion,
            func.count(),
            counted(InterviewEntry.held_at <= InterviewEntry.due_at),
            counted(InterviewEntry.no_shows > 0),
            counted(InterviewEntry.due_at <= now),
        )
        .join(Department, Department.id == InterviewEntry.department_id)
        .where(InterviewEntry.campaign_id == campaign.id)
        .group_by(Department.name, InterviewEntry.state, InterviewEntry.conclusion)
        .order_by(Department.name)
    ).all()
    total = InterviewCoverage()
    departments: dict[str, InterviewCoverage] = {}
    for name, state, conclusion, count, on_time, no_show, past_due in rows:
        for figures in (total, departments.setdefault(name, InterviewCoverage())):
            figures.to_interview += count
            figures.no_shows += int(no_show or 0)
            if state == InterviewState.DONE:
                figures.interviewed += count
                figures.on_time += int(on_time or 0)
                figures.conclusions[conclusion] = figures.conclusions.get(conclusion, 0) + count
            elif state == InterviewState.UNREACHABLE:
                figures.unreachable += count
            else:
                figures.overdue += int(past_due or 0)
    return total, list(departments.items())


CONCLUSION_WORDS = {
    "no_concern": N_("No concern"),
    "watch": N_("Watch"),
    "follow_up": N_("Follow-up"),
    "refer": N_("Refer"),
    HELD_AS_ASSESSMENT: N_("Held as the professional assessment"),
}
STATE_WORDS = {
    InterviewState.TO_ASSIGN: N_("To assign"),
    InterviewState.ASSIGNED: N_("Assigned"),
    InterviewState.SCHEDULED: N_("Invited"),
    InterviewState.DONE: N_("Interviewed"),
    InterviewState.UNREACHABLE: N_("Unreachable"),
}


def holding(session: Session, assignment: RoleAssignment, now: datetime) -> Holding | None:
    """The interviews not yet held that ending a counsellor's role hands back
    (`campus.holdings`; `interviewer_gone_sweep` does it)."""
    if assignment.role not in (Role.SCHOOL_COUNSELLOR, Role.DEPT_COUNSELLOR):
        return None
    held = int(
        session.scalar(
            select(func.count(InterviewEntry.id)).where(
                InterviewEntry.interviewer_id == assignment.user_id,
                InterviewEntry.institution_id == assignment.institution_id,
                InterviewEntry.state.in_((InterviewState.ASSIGNED, InterviewState.SCHEDULED)),
            )
        )
        or 0
    )
    return Holding(
        held,
        ngettext("%(num)d interview not yet held", "%(num)d interviews not yet held", held),
        _("the interviews go back to the list to assign"),
    )
