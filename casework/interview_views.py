"""Pages of the post-screening interview list: the list (assign), one entry (invite, outcome),
and the student's own invitations. Thin: parse, load in scope, call `casework.interviews`."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from campus import audit
from campus import clock
from campus.access import load_or_404
from campus.centre_phone import on_duty_phone
from campus.extensions import db
from campus.forms import add_error
from campus.i18n import refusal_text
from campus.local_time import due_words
from campus.models import Department
from campus.models import Role
from campus.models import Student
from campus.models import User
from campus.permissions import require_roles
from casework import interview_permissions as permissions
from casework import interviews
from casework.interview_forms import AssignForm
from casework.interview_forms import OutcomeForm
from casework.interview_forms import ScheduleForm
from casework.interviews import InterviewError
from casework.interviews import Outcome
from casework.interviews import StaleInterview
from casework.models import InterviewEntry
from casework.models import InterviewState
from screening.models import Campaign
from warning import services as warning_services
from warning.models import EarlyWarning
from warning.models import WarningStatus

bp = Blueprint("interviews", __name__, url_prefix="/interviews")
LIST_LIMIT = 500


def _entry(entry_id: int) -> InterviewEntry:
    """The entry if the viewer may see it; a forged or out-of-scope id is a 404, audited."""
    return load_or_404(
        InterviewEntry,
        entry_id,
        permissions.entry_scope(current_user),
        action="interview_read",
        record_type="interview",
    )


def _campaigns() -> list[Campaign]:
    school = [a.institution_id for a in current_user.roles]
    return list(
        db.session.scalars(
            select(Campaign)
            .where(Campaign.institution_id.in_(school))
            .order_by(Campaign.opens_at.desc())
        )
    )


@bp.route("")
@require_roles(*permissions.LIST_ROLES)
def index():
    now = clock.now()
    campaigns = _campaigns()
    campaign_id = request.args.get("campaign", type=int)
    campaign = next((c for c in campaigns if c.id == campaign_id), None)
    department_id = request.args.get("department", type=int)
    state = request.args.get("state", "")
    mine = request.args.get("mine") == "1"
    overdue = request.args.get("overdue") == "1"
    stmt = (
        select(InterviewEntry)
        .join(Student, Student.id == InterviewEntry.student_id)
        .where(permissions.entry_scope(current_user))
        .options(contains_eager(InterviewEntry.student))
        .order_by(InterviewEntry.due_at, Student.name)
        .limit(LIST_LIMIT)
    )
    if campaign is not None:
        stmt = stmt.where(InterviewEntry.campaign_id == campaign.id)
    if department_id:
        stmt = stmt.where(InterviewEntry.department_id == department_id)
    if state == interviews.OPEN:
        stmt = stmt.where(InterviewEntry.state.in_(interviews.OPEN_STATES))
    elif state in InterviewState.__members__.values():
        stmt = stmt.where(InterviewEntry.state == InterviewState(state))
    if mine:
        stmt = stmt.where(InterviewEntry.interviewer_id == current_user.id)
    if overdue:
        stmt = stmt.where(
            InterviewEntry.state.in_(interviews.OPEN_STATES), InterviewEntry.due_at <= now
        )
    rows = list(db.session.scalars(stmt))
    page = _list_page(
        rows, campaign, campaigns, now, AssignForm(), department_id, state, mine, overdue=overdue
    )
    audit.record_list_read(
        db.session,
        actor=current_user,
        action="interview_list_read",
        record_type="interview",
        student_ids=[r.student_id for r in rows],
        detail=f"rows={len(rows)} campaign={campaign_id} department={department_id} state={state}",
    )
    return page


def _list_page(
    rows, campaign, campaigns, now, form, department_id, state, mine, status=200, overdue=False
):
    institution_ids = sorted({c.institution_id for c in campaigns})
    can_assign = any(permissions.can_assign(current_user, i) for i in institution_ids)
    departments = list(
        db.session.scalars(
            select(Department)
            .where(Department.institution_id.in_(institution_ids))
            .order_by(Department.name)
        )
    )
    if can_assign:
        _assign_choices(form, institution_ids, departments, rows)
    interviewers = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(User.id.in_({r.interviewer_id for r in rows if r.interviewer_id}))
        )
    }
    coverage = interviews.coverage_by_department(db.session, campaign, now) if campaign else None
    # Each student's open warning: its line (the most serious reason first) heads the reasons.
    warnings = {
        w.student_id: w
        for w in db.session.scalars(
            select(EarlyWarning).where(
                EarlyWarning.student_id.in_({r.student_id for r in rows}),
                EarlyWarning.status == WarningStatus.OPEN,
            )
        )
    }
    page = render_template(
        "casework/interviews/index.html",
        rows=rows,
        campaign=campaign,
        campaigns=campaigns,
        departments=departments,
        department_id=department_id,
        state=state,
        mine=mine,
        overdue=overdue,
        states=interviews.STATE_WORDS,
        held_as_assessment=interviews.HELD_AS_ASSESSMENT,
        open_state=interviews.OPEN,
        interviewers=interviewers,
        warnings=warnings,
        can_assign=can_assign,
        form=form,
        coverage=coverage,
        deadline_days=interviews.campaign_deadline_days(db.session, {r.campaign_id for r in rows}),
        now=now,
    )
    return page, status


def _assign_choices(form: AssignForm, institution_ids, departments, rows) -> None:
    form.entries.choices = [(r.id, r.student.name) for r in rows]
    form.department.choices = [("", "—")] + [(str(d.id), d.name) for d in departments]
    choices = [("", "—")]
    for institution_id in institution_ids:
        for user, role, department in interviews.interviewer_choices(db.session, institution_id):
            if role == Role.SCHOOL_COUNSELLOR:
                label = _("%(name)s (school counsellor)", name=user.name)
            else:
                name = next((d.name for d in departments if d.id == department), "")
                label = _(
                    "%(name)s (department counsellor, %(department)s)",
                    name=user.name,
                    department=name,
                )
            choices.append((str(user.id), label))
    form.interviewer.choices = choices


@bp.route("/assign", methods=["POST"])
@require_roles(*permissions.ASSIGN_ROLES)
def assign():
    """Hand the ticked students, or every unassigned one of a department, to an interviewer.
    A refusal names why at the top of the list and assigns nobody."""
    form = AssignForm()
    campaign_id = request.form.get("campaign", type=int)
    campaign = next((c for c in _campaigns() if c.id == campaign_id), None)
    # The choices were offered on the list page; here only their values are parsed.
    form.department.choices = [(form.department.data or "", "")]
    form.interviewer.choices = [(form.interviewer.data or "", "")]
    back = redirect(_list_url(campaign))
    if not form.validate_on_submit():
        flash(_("Nothing was assigned: choose the students and an interviewer."), "error")
        return back
    interviewer = _interviewer(form.interviewer.data)
    entries = _chosen_entries(form, campaign)
    if not entries and not form.entries.data and (form.department.data or "").isdigit():
        # "Tick at least one student" would answer someone who chose a department instead.
        flash(
            _(
                "Nothing was assigned: nobody of that department is still waiting for an "
                "interviewer."
            ),
            "error",
        )
        return back
    try:
        count = interviews.assign(db.session, current_user, entries, interviewer, clock.now())
    except InterviewError as exc:
        flash(_("Nothing was assigned: %(why)s", why=refusal_text(exc)), "error")
    except StaleInterview:
        abort(409, description=_("Someone else changed these entries; reload and try again."))
    else:
        flash(_("%(count)s students assigned.", count=count))
    return back


def _list_url(campaign: Campaign | None) -> str:
    """The list the assignment was made from, its filters kept: rebuilt from the values the list
    itself understands (never a URL taken from the request), so it stays on this site."""
    department = request.form.get("list_department", type=int)
    state = request.form.get("list_state", "")
    known = state == interviews.OPEN or state in InterviewState.__members__.values()
    return url_for(
        ".index",
        campaign=campaign.id if campaign else None,
        department=department or None,
        state=state if known else None,
        mine="1" if request.form.get("list_mine") == "1" else None,
        overdue="1" if request.form.get("list_overdue") == "1" else None,
    )


def _interviewer(value: str | None) -> User | None:
    return db.session.get(User, int(value)) if value and value.isdigit() else None


def _chosen_entries(form: AssignForm, campaign: Campaign | None) -> list[InterviewEntry]:
    """The ticked entries, or every unassigned one of the chosen department, within the viewer's
    scope: a forged id simply is not found."""
    stmt = (
        select(InterviewEntry)
        .join(Student, Student.id == InterviewEntry.student_id)
        .where(permissions.entry_scope(current_user))
    )
    if campaign is not None:
        stmt = stmt.where(InterviewEntry.campaign_id == campaign.id)
    ticked = [int(i) for i in form.entries.data or []]
    if ticked:
        found = list(db.session.scalars(stmt.where(InterviewEntry.id.in_(ticked))))
        if len(found) != len(set(ticked)):
            abort(404)
        return found
    if form.department.data and form.department.data.isdigit():
        return list(
            db.session.scalars(
                stmt.where(
                    InterviewEntry.department_id == int(form.department.data),
                    InterviewEntry.state == InterviewState.TO_ASSIGN,
                )
            )
        )
    return []


@bp.route("/<int:entry_id>")
@require_roles(*permissions.LIST_ROLES)
def detail(entry_id: int):
    entry = _entry(entry_id)
    return _detail_page(entry, _invitation_form(entry), OutcomeForm())


def _invitation_form(entry: InterviewEntry) -> ScheduleForm:
    """The invitation's form as it stands: the time and place the student was given, whatever
    the request sent (the outcome form's answers, when that one is sent back)."""
    form = ScheduleForm(formdata=None)
    if entry.scheduled_for:
        form.when.data = clock.to_local(entry.scheduled_for, clock.viewer_zone()).replace(
            tzinfo=None
        )
        form.place.data = entry.place
    return form


def _detail_page(entry: InterviewEntry, schedule_form, outcome_form, status: int = 200):
    warning = warning_services.open_warning(db.session, entry.student_id)
    schedule_form.version.data = entry.version
    outcome_form.version.data = entry.version
    campaign = db.session.get_one(Campaign, entry.campaign_id)
    page = render_template(
        "casework/interviews/detail.html",
        entry=entry,
        campaign=campaign,
        warning=warning,
        reasons=interviews.reasons_shown(entry),
        warning_reasons=interviews.warning_reasons(db.session, warning, clock.now()),
        states=interviews.STATE_WORDS,
        conclusions=interviews.CONCLUSION_WORDS,
        held_as_assessment=interviews.HELD_AS_ASSESSMENT,
        can_conduct=permissions.can_conduct(current_user, entry),
        schedule_form=schedule_form,
        outcome_form=outcome_form,
        deadline_days=interviews.campaign_deadline_days(db.session, [entry.campaign_id]),
        now=clock.now(),
    )
    audit.record_read_on(
        db.session, entry, actor=current_user, action="interview_read", record_type="interview"
    )
    return page, status


@bp.route("/<int:entry_id>/schedule", methods=["POST"])
@require_roles(*permissions.LIST_ROLES)
def schedule(entry_id: int):
    entry = _entry(entry_id)
    form = ScheduleForm()
    if form.validate_on_submit():
        when = clock.to_utc(form.when.data, clock.viewer_zone()) if form.when.data else None
        try:
            interviews.schedule(
                db.session,
                current_user,
                entry,
                int(form.version.data or 0),
                clock.now(),
                when=when,
                place=form.place.data or "",
            )
        except InterviewError as exc:
            add_error(form.when, refusal_text(exc))
        except StaleInterview:
            abort(409, description=_("Someone else changed this interview; reload and try again."))
        else:
            if when is not None and when > entry.due_at:
                # Saved all the same: the student's own time may leave no earlier one.
                flash(
                    _(
                        "The invitation was sent to the student, but the time is later than the "
                        "interview's deadline (%(due)s).",
                        due=due_words(entry.due_at),
                    ),
                    "warning",
                )
            else:
                flash(_("The invitation was sent to the student."))
            return redirect(url_for(".detail", entry_id=entry.id))
    return _detail_page(entry, form, OutcomeForm(formdata=None), 422)


@bp.route("/<int:entry_id>/outcome", methods=["POST"])
@require_roles(*permissions.LIST_ROLES)
def outcome(entry_id: int):
    entry = _entry(entry_id)
    form = OutcomeForm()
    if form.validate_on_submit():
        level = int(form.level.data) if form.level.data else None
        recorded = Outcome(
            attendance=form.attendance.data or "",
            conclusion=form.conclusion.data or "",
            level_decision=form.level_decision.data or "confirm",
            level=level,
            reason=form.reason.data or "",
            next_step=form.next_step.data or "none",
            follow_up_on=form.follow_up_on.data,
            held_at=clock.to_utc(form.held_at.data, clock.viewer_zone())
            if form.held_at.data
            else None,
        )
        try:
            interviews.record_outcome(
                db.session, current_user, entry, int(form.version.data or 0), clock.now(), recorded
            )
        except InterviewError as exc:  # said under the answer it is about
            add_error(getattr(form, exc.field, form.attendance), refusal_text(exc))
        except StaleInterview:
            abort(409, description=_("Someone else changed this interview; reload and try again."))
        else:
            flash(_("The outcome was recorded."))
            if entry.next_step == "refer" and (w := _open_warning_id(entry)) is not None:
                return redirect(url_for("referrals.new", warning_id=w))
            return redirect(url_for(".detail", entry_id=entry.id))
    return _detail_page(entry, _invitation_form(entry), form, 422)


def _open_warning_id(entry: InterviewEntry) -> int | None:
    warning = warning_services.open_warning(db.session, entry.student_id)
    return warning.id if warning else None


@bp.route("/mine")
@require_roles(Role.STUDENT)
def mine():
    """The student's invitations: time and place, in neutral words; nothing about why."""
    invitations = list(
        db.session.execute(
            select(InterviewEntry.scheduled_for, InterviewEntry.place, User.name)
            .join(Student, Student.id == InterviewEntry.student_id)
            .outerjoin(User, User.id == InterviewEntry.interviewer_id)
            .where(
                Student.user_id == current_user.id,
                InterviewEntry.state == InterviewState.SCHEDULED,
                InterviewEntry.scheduled_for >= clock.now(),
            )
            .order_by(InterviewEntry.scheduled_for)
        ).tuples()
    )
    return render_template(
        "casework/interviews/mine.html",
        invitations=invitations,
        centre_phone=on_duty_phone(
            current_user.student.institution if current_user.student else None
        ),
    )


def campaign_coverage(campaign: Campaign):
    """The campaign page's interview figures (a template global): aggregates only."""
    return interviews.coverage_by_department(db.session, campaign, clock.now())


def can_open_list() -> bool:
    """Whether the signed-in person may open the interview list (a template global)."""
    return any(a.role in permissions.LIST_ROLES for a in current_user.roles)
