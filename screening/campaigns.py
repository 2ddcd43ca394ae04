"""Screening campaigns: validation, the cohort each targets, live coverage and reminders.

Assignments are materialised when a campaign is saved (one row per student in the cohort), so
"who is due" is a plain indexed query and a roster change can be re-synced explicitly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import Table
from sqlalchemy import and_
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from campus import audit
from campus import clock
from campus import notifications
from campus.extensions import rows_changed
from campus.i18n import N_
from campus.i18n import Message
from campus.models import ClassGroup
from campus.models import Department
from campus.models import EnrolmentStatus
from campus.models import Institution
from campus.models import Student
from campus.models import User
from campus.roster import Joined
from campus.scope import Capability
from campus.scope import student_filter
from privacy.consent import screening_allowed_clause
from screening.instruments import list_instruments
from screening.models import Campaign
from screening.models import CampaignAssignment
from screening.models import status_expression
from screening.scoring import load_instrument


class CampaignError(ValueError):
    """A campaign definition that cannot be saved; `problems` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class CloseChanged(Exception):
    """The campaign's close is no longer the one the administrator confirmed moving from."""


@dataclass
class CampaignSpec:
    """What an administrator fills in; times are naive UTC."""

    name: str
    instruments: list[str]
    opens_at: datetime
    closes_at: datetime
    name_en: str = ""  # optional: English readers see `name` until it is given
    grades: list[int] = field(default_factory=list)
    department_ids: list[int] = field(default_factory=list)
    class_ids: list[int] = field(default_factory=list)
    consent_text_zh: str = ""
    consent_text_en: str = ""
    reminder_every_days: int = 3
    students_see_report: bool = False  # students may download their own report (casework)


@dataclass(frozen=True)
class Overlap:
    """Another campaign sharing instruments with the one being saved, open at the same time, with
    students in both: they would take the same scales twice."""

    campaign: Campaign
    instruments: list[str]
    students: int  # in both cohorts
    completed: int  # of those, already done with the other campaign


@dataclass
class Coverage:
    due: int = 0
    started: int = 0
    completed: int = 0
    expired: int = 0

    @property
    def total(self) -> int:
        return self.due + self.started + self.completed + self.expired

    @property
    def percent_completed(self) -> float:
        return round(100 * self.completed / self.total, 1) if self.total else 0.0

    def __add__(self, other: Coverage) -> Coverage:
        return Coverage(
            self.due + other.due,
            self.started + other.started,
            self.completed + other.completed,
            self.expired + other.expired,
        )


def validate_spec(
    session: Session, institution: Institution, spec: CampaignSpec, licensed_dir: Path | None
) -> list[str]:
    """Every reason `spec` cannot be saved (empty when it can)."""
    problems = []
    if not spec.name.strip():
        problems.append(N_("Give the campaign a name."))
    if spec.closes_at <= spec.opens_at:
        problems.append(N_("The window must close after it opens."))
    problems.extend(instrument_problems(spec.instruments, licensed_dir))
    problems.extend(_cohort_problems(session, institution, spec))
    return problems


def instrument_problems(codes: Sequence[str], licensed_dir: Path | None) -> list[str]:
    """Unknown, repeated or unusable instrument codes; at least one is required."""
    if not codes:
        return [N_("Choose at least one instrument.")]
    known = set(list_instruments())
    problems: list[str] = [
        Message(N_("Unknown instrument %(code)s."), code=code)
        for code in codes
        if code not in known
    ]
    if len(set(codes)) != len(codes):
        problems.append(N_("Each instrument can appear only once."))
    for code in dict.fromkeys(c for c in codes if c in known):
        if load_instrument(code).licensed and not _licensed_text_loaded(code, licensed_dir):
            # The server's operator loads it (`flask screening load-licensed-text`, README): not
            # the institution's administrator, who reads this and has no page for it, since the
            # text is installed for the whole server and the licence is the institution's.
            problems.append(
                Message(
                    N_(
                        "The questions of %(code)s are licensed and their text is not loaded "
                        "yet. The institution holding the licence gives the item text (a CSV or "
                        "YAML file: number, Chinese, English) to the server's operator, who loads "
                        "it on the server; then it can be chosen here."
                    ),
                    code=code.upper(),
                )
            )
    return problems


def _licensed_text_loaded(code: str, licensed_dir: Path | None) -> bool:
    return licensed_dir is not None and (licensed_dir / f"{code}.yaml").is_file()


def _cohort_problems(session: Session, institution: Institution, spec: CampaignSpec) -> list[str]:
    departments = set(
        session.scalars(select(Department.id).where(Department.institution_id == institution.id))
    )
    classes = set(
        session.scalars(
            select(ClassGroup.id)
            .join(Department)
            .where(Department.institution_id == institution.id)
        )
    )
    problems = []
    if set(spec.department_ids) - departments:
        problems.append(N_("A chosen department does not belong to this institution."))
    if set(spec.class_ids) - classes:
        problems.append(N_("A chosen class does not belong to this institution."))
    return problems


def cohort_size(session: Session, campaign: Campaign) -> int:
    """How many students the campaign is assigned to."""
    return (
        session.scalar(
            select(func.count(CampaignAssignment.id)).where(
                CampaignAssignment.campaign_id == campaign.id
            )
        )
        or 0
    )


def save_campaign(
    session: Session,
    institution: Institution,
    actor: User,
    spec: CampaignSpec,
    *,
    campaign: Campaign | None = None,
    licensed_dir: Path | None = None,
    overlapping: Sequence[Overlap] = (),
    close_from: datetime | None = None,
) -> Campaign:
    """Create or update a campaign and sync its assignments, in one transaction; `overlapping`
    names the campaigns (see `overlaps`) the actor saw and saved it all the same, for the audit.
    `close_from` is the close the actor confirmed moving from (`close_move`): the close is
    claimed from it with a conditional update, so of two submits of one confirmation (or of two
    administrators) only the first moves it; the others raise `CloseChanged` and write nothing."""
    problems = validate_spec(session, institution, spec, licensed_dir)
    if campaign is None and spec.closes_at <= clock.now():
        # Its students would only ever see it as ended, and a campaign is never deleted.
        problems.append(N_("The window has already closed: choose a closing time to come."))
    if problems:
        raise CampaignError(problems)
    closed_before = campaign.closes_at if campaign is not None else None
    if campaign is not None and close_from is not None:
        claimed = rows_changed(
            session,
            update(Campaign)
            .where(Campaign.id == campaign.id, Campaign.closes_at == close_from)
            .values(closes_at=spec.closes_at)
            .execution_options(synchronize_session=False),
        )
        if not claimed:
            raise CloseChanged
    if campaign is None:
        campaign = Campaign(institution_id=institution.id, created_by_id=actor.id)
        session.add(campaign)
    campaign.name = spec.name.strip()
    campaign.name_en = spec.name_en.strip() or None
    campaign.instruments = list(spec.instruments)
    campaign.grades = sorted(set(spec.grades))
    campaign.department_ids = sorted(set(spec.department_ids))
    campaign.class_ids = sorted(set(spec.class_ids))
    campaign.opens_at, campaign.closes_at = spec.opens_at, spec.closes_at
    campaign.consent_text_zh = spec.consent_text_zh.strip()
    campaign.consent_text_en = spec.consent_text_en.strip()
    campaign.reminder_every_days = spec.reminder_every_days
    campaign.students_see_report = spec.students_see_report
    session.flush()
    added, removed = sync_assignments(session, campaign)
    moved = 0
    if closed_before is not None and _to_the_minute(closed_before) != _to_the_minute(
        campaign.closes_at
    ):
        moved = _close_moved(session, actor, campaign, closed_before)
    audit.record_on(
        session,
        campaign,
        actor=actor,
        action="save_campaign",
        record_type="campaign",
        detail=f"instruments={','.join(campaign.instruments)} added={added} removed={removed}"
        + (f" overlaps={','.join(str(o.campaign.id) for o in overlapping)}" if overlapping else "")
        + (f" close_from={closed_before} interviews_moved={moved}" if moved else ""),
    )
    session.commit()
    return campaign


def close_moves(campaign: Campaign, closes_at: datetime) -> bool:
    """Whether saving `closes_at` moves the campaign's close (the form gives minutes)."""
    return _to_the_minute(campaign.closes_at) != _to_the_minute(closes_at)


@dataclass(frozen=True)
class CloseMove:
    """What moving a campaign's close would do, told the administrator before it is saved."""

    before: datetime
    after: datetime
    days: int  # calendar days between the two closes, local; positive when later
    was_open: bool  # students could take it when asked
    not_completed: int  # assigned students who have not completed it
    interviews: int  # interview deadlines still owed that would move
    interviews_due: datetime | None  # to when

    @property
    def earlier(self) -> bool:
        return self.after < self.before


def close_move(
    session: Session, campaign: Campaign, closes_at: datetime, now: datetime
) -> CloseMove | None:
    """What saving `closes_at` would do, when it moves the close of a campaign open now or moves
    interview deadlines (the administrator confirms it first); None otherwise."""
    if not close_moves(campaign, closes_at):
        return None
    from casework import interviews

    moving, due = interviews.close_move_preview(session, campaign, closes_at, now)
    was_open = campaign.is_open(now)
    if not was_open and not moving:
        return None
    zone = clock.institution_zone(campaign.institution)
    days = (clock.local_date(closes_at, zone) - clock.local_date(campaign.closes_at, zone)).days
    not_completed = (
        session.scalar(
            select(func.count(CampaignAssignment.id)).where(
                CampaignAssignment.campaign_id == campaign.id,
                CampaignAssignment.completed_at.is_(None),
            )
        )
        or 0
    )
    return CloseMove(campaign.closes_at, closes_at, days, was_open, not_completed, moving, due)


def _to_the_minute(moment: datetime) -> datetime:
    """The form gives times to the minute: a close stored with seconds (a seeded or imported
    campaign) saved unchanged has not moved."""
    return moment.replace(second=0, microsecond=0)


def _close_moved(session: Session, actor: User, campaign: Campaign, closed_before: datetime) -> int:
    """The interviews still owed move with the close, in the save's transaction
    (`casework.interviews.follow_close`); how many. Imported here, as intake's hand-off is, so
    screening's models load without casework."""
    from casework import interviews

    return interviews.follow_close(session, actor, campaign, closed_before, clock.now())


def interviews_moved_since(session: Session, campaign: Campaign, since: datetime) -> int:
    """How many of the campaign's interview deadlines moved with its close at or after `since`:
    what the administrator is told after saving."""
    from casework.models import InterviewEntry

    return (
        session.scalar(
            select(func.count(InterviewEntry.id)).where(
                InterviewEntry.campaign_id == campaign.id, InterviewEntry.due_moved_at >= since
            )
        )
        or 0
    )


def cohort_query(campaign: Campaign):
    """Enrolled students of the campaign's institution matching every cohort dimension, less
    those who withdrew their consent to screening (privacy.consent)."""
    return _cohort(campaign.institution_id, campaign)


def _cohort(institution_id: int, campaign: Campaign | CampaignSpec):
    stmt = (
        select(Student.id)
        .join(ClassGroup, Student.class_id == ClassGroup.id)
        .where(
            Student.institution_id == institution_id,
            Student.enrolment_status == EnrolmentStatus.ENROLLED,
            screening_allowed_clause(),
        )
    )
    if campaign.grades:
        stmt = stmt.where(ClassGroup.grade.in_(campaign.grades))
    if campaign.department_ids:
        stmt = stmt.where(Student.department_id.in_(campaign.department_ids))
    if campaign.class_ids:
        stmt = stmt.where(Student.class_id.in_(campaign.class_ids))
    return stmt


def overlaps(
    session: Session,
    institution: Institution,
    spec: CampaignSpec,
    *,
    editing: Campaign | None = None,
) -> list[Overlap]:
    """The institution's other campaigns whose window meets `spec`'s, sharing an instrument and
    students with it: saving it all the same is the administrator's call, made knowingly."""
    stmt = select(Campaign).where(
        Campaign.institution_id == institution.id,
        Campaign.opens_at < spec.closes_at,
        Campaign.closes_at > spec.opens_at,
    )
    if editing is not None:
        stmt = stmt.where(Campaign.id != editing.id)
    sharing = {
        other.id: (other, shared)
        for other in session.scalars(stmt.order_by(Campaign.opens_at, Campaign.id))
        if (shared := [code for code in spec.instruments if code in other.instruments])
    }
    if not sharing:
        return []
    cohort = _cohort(institution.id, spec).subquery()
    counts = session.execute(
        select(
            CampaignAssignment.campaign_id,
            func.count(),
            func.count(CampaignAssignment.completed_at),
        )
        .where(
            CampaignAssignment.campaign_id.in_(sharing),
            CampaignAssignment.student_id.in_(select(cohort.c.id)),
        )
        .group_by(CampaignAssignment.campaign_id)
    ).all()
    both = {campaign_id: (n, done) for campaign_id, n, done in counts}
    return [
        Overlap(other, shared, *both[other.id])
        for other, shared in sharing.values()
        if other.id in both
    ]


def sync_assignments(session: Session, campaign: Campaign) -> tuple[int, int]:
    """Add assignments for students now in the cohort; drop untouched ones no longer in it.

    Assignments already started or completed are kept even if the student left the cohort:
    their consent and answers must not disappear because the cohort was edited.
    """
    wanted = set(session.scalars(cohort_query(campaign)))
    have = dict(
        session.execute(
            select(CampaignAssignment.student_id, CampaignAssignment.id).where(
                CampaignAssignment.campaign_id == campaign.id
            )
        )
        .tuples()
        .all()
    )
    new = sorted(wanted - have.keys())
    if new:
        session.execute(
            insert(CampaignAssignment),
            [{"campaign_id": campaign.id, "student_id": s} for s in new],
        )
    stale = [have[s] for s in have.keys() - wanted]
    removed = 0
    if stale:
        removed = rows_changed(
            session,
            delete(CampaignAssignment).where(
                CampaignAssignment.id.in_(stale), CampaignAssignment.started_at.is_(None)
            ),
        )
    return len(new), removed


def assign_late_students(
    session: Session, now: datetime, institution: Institution | None = None
) -> list[tuple[Campaign, int]]:
    """Assign the students who joined a campaign's cohort after it was saved (a roster imported
    in the first week, a transfer) to each campaign that has not closed (of `institution`, or
    of every institution), uncommitted; the campaigns that gained students, with how many. Only
    additions: who leaves a cohort is the campaign editor's to drop."""
    unclosed = select(Campaign).where(Campaign.closes_at > now)
    if institution is not None:
        unclosed = unclosed.where(Campaign.institution_id == institution.id)
    joined = []
    for campaign in session.scalars(unclosed.order_by(Campaign.opens_at, Campaign.id)).all():
        assigned = select(CampaignAssignment.student_id).where(
            CampaignAssignment.campaign_id == campaign.id
        )
        late = list(session.scalars(cohort_query(campaign).where(Student.id.not_in(assigned))))
        if late:
            session.execute(
                insert(CampaignAssignment),
                [{"campaign_id": campaign.id, "student_id": s} for s in late],
            )
            joined.append((campaign, len(late)))
    return joined


def late_students_sweep(session: Session, now: datetime) -> int:
    """The scheduler's sweep: `assign_late_students` over every institution, committed together
    (for students a roster import did not assign itself: a transfer, a class moved into a
    cohort by hand)."""
    added = sum(count for _, count in assign_late_students(session, now))
    session.commit()
    return added


# What the import's page calls a campaign its students joined (N 名学生已加入进行中的筛查「…」).
UNDER_WAY = N_("screening under way")
UPCOMING = N_("upcoming screening")


def joined_on_import(session: Session, institution: Institution, now: datetime) -> list[Joined]:
    """The roster import's hook (`roster.register_joining`): the imported students join the
    unclosed campaigns whose cohort they belong to in the import's own commit, so a campaign's
    coverage counts them at once and the import's page says so."""
    return [
        Joined(UNDER_WAY if campaign.is_open(now) else UPCOMING, campaign, count)
        for campaign, count in assign_late_students(session, now, institution)
    ]


def coverage(session: Session, campaign: Campaign, viewer: User, now: datetime) -> Coverage:
    """Live counts by status over the students `viewer` may see."""
    counts = tally(session, viewer, now, CampaignAssignment.campaign_id == campaign.id)
    return counts.get((), Coverage())


def coverage_by_department(
    session: Session, campaign: Campaign, viewer: User, now: datetime
) -> list[tuple[int, str, Coverage]]:
    """Counts by status per department (its id, to drill down, and name), departments by name."""
    counts = tally(
        session,
        viewer,
        now,
        CampaignAssignment.campaign_id == campaign.id,
        keys=(Department.name, Department.id),
        joined=(Department, Student.department_id == Department.id),
    )
    return [(department_id, name, cover) for (name, department_id), cover in counts.items()]


def coverage_by_class(
    session: Session, campaign: Campaign, viewer: User, now: datetime, department: Department
) -> list[tuple[str, Coverage]]:
    """Counts by status per class of `department`, classes by name: the drill-down behind a row
    of `coverage_by_department`, counts only (who they are is the department's own list)."""
    counts = tally(
        session,
        viewer,
        now,
        CampaignAssignment.campaign_id == campaign.id,
        Student.department_id == department.id,
        keys=(ClassGroup.name,),
        joined=(ClassGroup, Student.class_id == ClassGroup.id),
    )
    return [(name, cover) for (name,), cover in counts.items()]


def tally(
    session: Session,
    viewer: User,
    now: datetime,
    *criteria: ColumnElement[bool],
    keys: tuple[Any, ...] = (),
    joined: tuple[Any, Any] | None = None,
) -> dict[tuple[Any, ...], Coverage]:
    """The one count behind every campaign figure: assignments matching `criteria` whose student
    `viewer` may see, by status (`status_expression`) and by `keys` (in their order), in one
    query."""
    status = status_expression(now)
    stmt = (
        select(*keys, status, func.count(CampaignAssignment.id))
        .select_from(CampaignAssignment)
        .join(Campaign, CampaignAssignment.campaign_id == Campaign.id)
        .join(Student, CampaignAssignment.student_id == Student.id)
    )
    if joined is not None:
        stmt = stmt.join(*joined)
    rows = session.execute(
        stmt.where(student_filter(viewer, Capability.ROSTER), *criteria)
        .group_by(*keys, status)
        .order_by(*keys)
    ).all()
    counts: dict[tuple[Any, ...], Coverage] = {}
    for *key, state, count in rows:
        setattr(counts.setdefault(tuple(key), Coverage()), state, count)
    return counts


def open_now(now: datetime) -> ColumnElement[bool]:
    """Campaigns whose window is open at `now`."""
    return and_(Campaign.opens_at <= now, Campaign.closes_at > now)


def still_owed() -> ColumnElement[bool]:
    """An assignment (its student joined) still to complete by someone who may be asked for it:
    enrolled, and not withdrawn from screening (privacy.consent). Reminders go to them, and a
    department's list of who has not completed a campaign lists them."""
    return and_(
        CampaignAssignment.completed_at.is_(None),
        Student.enrolment_status == EnrolmentStatus.ENROLLED,
        screening_allowed_clause(),
    )


def send_reminders(session: Session, campaign: Campaign, now: datetime) -> int:
    """Notify students who still owe this open campaign, at most once per reminder interval.

    Idempotent: a student reminded today (or within `reminder_every_days`) is skipped, so a
    re-run sweep or a restarted scheduler never sends twice. Caller commits.
    """
    if campaign.reminder_every_days <= 0 or not campaign.is_open(now):
        return 0
    # "Reminded today" means today on the institution's calendar: local midnight, stored as UTC.
    zone = clock.institution_zone(campaign.institution)
    midnight = clock.to_utc(datetime.combine(campaign.local_today(now), datetime.min.time()), zone)
    cutoff = midnight - timedelta(days=campaign.reminder_every_days - 1)
    due = session.execute(
        select(CampaignAssignment, Student.user_id)
        .join(Student, CampaignAssignment.student_id == Student.id)
        .where(
            CampaignAssignment.campaign_id == campaign.id,
            still_owed(),
            Student.user_id.is_not(None),
            (CampaignAssignment.last_reminded_at.is_(None))
            | (CampaignAssignment.last_reminded_at < cutoff),
        )
    ).all()
    for assignment, _user_id in due:
        assignment.last_reminded_at = now
    # One stored message id, translated for each reader when shown: a sweep has no reader's
    # language, and the campaign's name stays out so nothing user-typed is formatted into it.
    notifications.notify(
        session,
        [user_id for _a, user_id in due],
        N_("Please complete your mental health screening: it is waiting in My screenings."),
        "/screening/mine",
    )
    return len(due)


def naming_unit(session: Session, unit: object) -> int:
    """How many campaigns of the unit's institution list `unit` (a department or a class) in
    their cohort: the structure page keeps such a unit (`campus.structure.register_use`)."""
    if isinstance(unit, Department):
        institution_id, listed = unit.institution_id, "department_ids"
    elif isinstance(unit, ClassGroup):
        institution_id, listed = unit.department.institution_id, "class_ids"
    else:
        return 0
    cohorts = session.scalars(
        select(getattr(Campaign, listed)).where(Campaign.institution_id == institution_id)
    )
    return sum(1 for ids in cohorts if unit.id in (ids or []))


def reminder_sweep(session: Session, now: datetime) -> int:
    """The scheduler's sweep: reminders for every open campaign, committed together."""
    campaigns = session.scalars(
        select(Campaign).where(Campaign.opens_at <= now, Campaign.closes_at > now)
    ).all()
    sent = sum(send_reminders(session, campaign, now) for campaign in campaigns)
    session.commit()
    return sent


def campaigns_for(session: Session, institution_ids: Sequence[int]) -> list[Campaign]:
    return list(
        session.scalars(
            select(Campaign)
            .where(Campaign.institution_id.in_(institution_ids))
            .order_by(Campaign.opens_at.desc())
        )
    )


def not_started_by(student: Student) -> tuple[Table, ColumnElement[bool]]:
    """The campaigns `student` is only listed as due to take (no consent given, nothing
    answered): they go with her when an administrator removes a student added by mistake
    (`campus.roster_corrections.register_leaves_with`); one she started keeps her."""
    table: Table = CampaignAssignment.__table__  # type: ignore[assignment]
    return table, and_(
        CampaignAssignment.student_id == student.id,
        CampaignAssignment.started_at.is_(None),
        CampaignAssignment.completed_at.is_(None),
    )
