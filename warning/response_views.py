"""Intervention pages: acting on a warning, the task lists, and (registered here) the inbox."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import false, or_, select

from campus import audit, clock, nav, scheduler
from campus.extensions import db
from campus.models import Caseload, Role, Student
from campus.scope import Capability, student_filter
from referrals import leave
from warning import actions, escalation, response
from warning.models import Deadline, OwnerTier, Task, Warning, WarningStatus
from warning.response_forms import ACTION_FORMS, TaskDoneForm

bp = Blueprint("response", __name__)

TASK_ROLES = {
    Role.DORM_INFORMANT,
    Role.CLASS_COMMITTEE,
    Role.DEPT_COUNSELLOR,
    Role.DEPT_LEADER,
    Role.SCHOOL_COUNSELLOR,
    Role.DIRECTOR,
}
# The student page has its own level override form; the others are rendered by _actions.html.
RENDERED_ACTIONS = tuple(ACTION_FORMS)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    nav.register(app, lambda: _("Tasks"), "response.tasks", TASK_ROLES, order=15)
    app.jinja_env.globals["warning_action_forms"] = warning_action_forms
    app.jinja_env.globals["task_text"] = task_text
    app.jinja_env.globals["tier_label"] = tier_label
    app.jinja_env.globals["deadline_label"] = deadline_label
    scheduler.register_sweep(app, "warning.escalation", escalation.sweep_deadlines)
    scheduler.register_sweep(app, "warning.follow_ups", escalation.sweep_follow_ups)
    scheduler.register_sweep(app, "warning.missing_reports", escalation.sweep_missing_reports)


def warning_action_forms(warning: Warning) -> list[tuple[str, object]]:
    """The action forms the signed-in user may use on `warning`, each carrying its version."""
    allowed = actions.allowed_actions(current_user, warning)
    return [
        (name, ACTION_FORMS[name](formdata=None, prefix=name, version=warning.version))
        for name in RENDERED_ACTIONS
        if name in allowed
    ]


def tier_label(tier: int) -> str:
    return {
        OwnerTier.DORM: _("dorm"),
        OwnerTier.CLASS: _("class"),
        OwnerTier.DEPARTMENT: _("department"),
        OwnerTier.SCHOOL: _("counselling centre"),
        OwnerTier.LEADERSHIP: _("school leadership"),
    }[OwnerTier(tier)]


def deadline_label(kind: str) -> str:
    return {
        "acknowledge": _("Acknowledge"),
        "assessment": _("Professional assessment"),
        "guardian_notified": _("Notify the guardian"),
        "peer_watch": _("Arrange the peer watch"),
        "contact": _("Contact the student"),
        "check_in": _("Check in with the student"),
        "follow_up": _("Follow-up contact"),
    }.get(kind, kind)


def task_text(task: Task) -> str:
    """A peer or missing-report task in the reader's language; other tasks as written."""
    if task.kind in response.PEER_TASK_TEXT and task.student is not None:
        return _(response.PEER_TASK_TEXT[task.kind], name=task.student.name)
    return _stored_text(task.text, _STORED_TEXTS.get(task.kind, ()))


# Tasks whose English text is stored (the missing-report sweep's once-only check compares it);
# the values are read back out of it to show the text in the reader's language.
_STORED_TEXTS = {
    "report_missing": tuple(escalation.REPORT_MISSING_TEXT.values()),
    "return_plan": (*leave.PEER_TASK_TEXT.values(), leave.STAFF_TASK_TEXT),
    "return_follow_up": (leave.FOLLOW_UP_TASK_TEXT,),
}
_PLACEHOLDER = re.compile(r"%\\\(([a-z_]+)\\\)s")


def _stored_text(text: str, templates: tuple[str, ...]) -> str:
    for template in templates:
        pattern = _PLACEHOLDER.sub(r"(?P<\1>.+?)", re.escape(template))
        match = re.fullmatch(pattern, text, flags=re.S)
        if match:
            return _(template, **match.groupdict())
    return text


# --------------------------------------------------------------------------------------------------
# Acting on a warning
# --------------------------------------------------------------------------------------------------


def _warning_or_404(warning_id: int) -> Warning:
    """The warning if its student is in the viewer's WARNING scope; 404 (audited) otherwise."""
    warning = db.session.scalar(
        select(Warning)
        .join(Student, Student.id == Warning.student_id)
        .where(Warning.id == warning_id, student_filter(current_user, Capability.WARNING))
    )
    if warning is None:
        audit.record_read(
            db.session,
            actor=current_user,
            action="act",
            record_type="warning",
            record_id=warning_id,
            outcome="denied",
        )
        abort(404)
    return warning


def _local_to_utc(value: datetime) -> datetime:
    return clock.to_utc(value, clock.institution_zone(None))


def _perform(name: str, form, warning: Warning, now: datetime) -> None:
    session, actor, version = db.session, current_user, form.version.data
    if name == "acknowledge":
        actions.acknowledge(session, actor, warning, version, now)
    elif name == "contact":
        actions.log_contact(
            session,
            actor,
            warning,
            version,
            now,
            method=form.method.data,
            outcome=form.outcome.data,
            note=form.note.data,
        )
    elif name == "guardian":
        actions.notify_guardian(
            session, actor, warning, version, now, method=form.method.data, note=form.note.data
        )
    elif name == "assessment":
        actions.record_assessment(
            session, actor, warning, version, now, outcome=form.outcome.data, note=form.note.data
        )
    elif name == "peer_watch":
        due = now + timedelta(days=form.days.data)
        actions.assign_peer_watch(session, actor, warning, version, now, due_at=due)
    elif name == "follow_up":
        due = _local_to_utc(form.due_at.data)
        actions.schedule_follow_up(session, actor, warning, version, now, due_at=due)
    elif name == "escalate":
        actions.escalate_manually(session, actor, warning, version, now, reason=form.reason.data)
    elif name == "close":
        actions.close(
            session,
            actor,
            warning,
            version,
            now,
            outcome=form.outcome.data,
            review_date=form.review_date.data,
        )


@bp.route("/warnings/<int:warning_id>/actions/<name>", methods=["GET", "POST"])
@login_required
def act(warning_id: int, name: str):
    """One action on a warning; GET shows its form alone (also the fallback without scripts)."""
    if name not in ACTION_FORMS:
        abort(404)
    warning = _warning_or_404(warning_id)
    if name not in actions.allowed_actions(current_user, warning):
        abort(403 if warning.status == WarningStatus.OPEN else 409)
    form = ACTION_FORMS[name](prefix=name, version=warning.version)
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return _action_page(warning, name, form), status
    try:
        _perform(name, form, warning, clock.now())
    except actions.StaleWarning:
        message = _(
            "Someone else updated this warning first. Nothing was saved: reload the student's "
            "page to see their change, then try again."
        )
        return _action_page(warning, name, form, message), 409
    except actions.ActionNotAllowed:
        abort(403)
    except ValueError as error:  # InvalidAction, the early-warning OverrideError
        return _action_page(warning, name, form, _(str(error))), 400
    flash(_("Saved."), "success")
    return redirect(url_for("warning.student", student_id=warning.student_id))


def _action_page(warning: Warning, name: str, form, message: str | None = None):
    return render_template(
        "response/action.html", warning=warning, name=name, form=form, message=message
    )


# --------------------------------------------------------------------------------------------------
# Task lists
# --------------------------------------------------------------------------------------------------


def _deadline_scope(user):
    """Which open deadlines each role works from, inside its WARNING scope."""
    clauses = []
    if user.has_role(Role.DEPT_COUNSELLOR, Role.DEPT_LEADER):
        clauses.append(
            Warning.department_id.in_(
                [a.department_id for a in user.assignments(Role.DEPT_COUNSELLOR, Role.DEPT_LEADER)]
            )
        )
    if user.has_role(Role.SCHOOL_COUNSELLOR):
        caseload = select(Caseload.student_id).where(Caseload.counsellor_id == user.id)
        clauses.append(
            or_(
                Warning.level == response.RED,
                Deadline.tier >= OwnerTier.SCHOOL,
                Warning.student_id.in_(caseload),
            )
        )
    if user.has_role(Role.DIRECTOR):
        clauses.append(Deadline.tier >= OwnerTier.LEADERSHIP)
    return or_(*clauses) if clauses else false()


def _open_deadlines(user) -> list[tuple[Deadline, Warning, Student]]:
    return db.session.execute(
        select(Deadline, Warning, Student)
        .join(Warning, Warning.id == Deadline.warning_id)
        .join(Student, Student.id == Warning.student_id)
        .where(
            Deadline.met_at.is_(None),
            Deadline.escalated_at.is_(None),
            Deadline.superseded_at.is_(None),
            Warning.status == WarningStatus.OPEN,
            student_filter(user, Capability.WARNING),
            _deadline_scope(user),
        )
        .order_by(Deadline.due_at)
        .limit(500)
    ).all()


def _bucket(due_at: datetime, now: datetime, end_of_today: datetime) -> str:
    if due_at < now:
        return "overdue"
    return "today" if due_at < end_of_today else "upcoming"


def _end_of_today(now: datetime) -> datetime:
    zone = clock.institution_zone(None)
    midnight = datetime.combine(clock.local_date(now, zone) + timedelta(days=1), time(0))
    return clock.to_utc(midnight, zone)


@bp.route("/tasks")
@login_required
def tasks():
    """What is overdue, due today and upcoming: tasks for everyone, deadlines for staff who may
    see warnings (class and dorm tiers see only names and task text)."""
    now = clock.now()
    end = _end_of_today(now)
    task_rows = db.session.scalars(actions.open_tasks_query(current_user).limit(500)).all()
    deadline_rows = _open_deadlines(current_user)
    if deadline_rows:
        audit.record_list_read(
            db.session,
            actor=current_user,
            action="list",
            record_type="deadline",
            student_ids=[student.id for _, _, student in deadline_rows],
            detail=f"{len(deadline_rows)} open deadlines",
        )
    buckets = {key: {"tasks": [], "deadlines": []} for key in ("overdue", "today", "upcoming")}
    for task in task_rows:
        buckets[_bucket(task.due_at, now, end)]["tasks"].append(task)
    for row in deadline_rows:
        buckets[_bucket(row[0].due_at, now, end)]["deadlines"].append(row)
    return render_template(
        "response/tasks.html", buckets=buckets, done_form=TaskDoneForm(formdata=None)
    )


@bp.route("/tasks/<int:task_id>/done", methods=["POST"])
@login_required
def task_done(task_id: int):
    task = db.session.scalar(
        actions.open_tasks_query(current_user, include_done=True).where(Task.id == task_id)
    )
    if task is None:
        abort(404)
    form = TaskDoneForm()
    if not form.validate_on_submit():
        for error in form.note.errors:
            flash(error, "error")
        return redirect(url_for("response.tasks"))
    try:
        actions.complete_task(db.session, current_user, task, clock.now(), note=form.note.data)
    except actions.TaskAlreadyDone:
        flash(_("This task was already marked done."), "warning")
        return redirect(url_for("response.tasks"))
    except actions.ActionNotAllowed:
        abort(404)
    flash(_("Thank you. The task is marked done."), "success")
    return redirect(url_for("response.tasks"))
