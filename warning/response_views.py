"""Intervention pages: acting on a warning, the task lists, and (registered here) the inbox."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import pgettext
from flask_login import current_user
from flask_login import login_required
from sqlalchemy.orm import Session

from campus import audit
from campus import clock
from campus.access import load_or_404
from campus.extensions import db
from campus.i18n import shown
from campus.local_time import local_time
from campus.notifications import Notification
from campus.scope import Capability
from campus.scope import student_filter
from referrals import leave as leave_rules
from warning import actions
from warning import caseload
from warning import escalation
from warning import permissions
from warning import response
from warning import task_list
from warning import task_texts
from warning.models import Deadline
from warning.models import EarlyWarning
from warning.models import Task
from warning.models import WarningStatus
from warning.response_forms import ACTION_FORMS
from warning.response_forms import ActionForm
from warning.response_forms import CounsellorForm
from warning.response_forms import TaskDoneForm
from warning.response_policy import DEADLINE_NAMES

# Tasks live under /tasks; the actions on one warning sit under that warning's URL.
bp = Blueprint("response", __name__, url_prefix="/tasks")
actions_bp = Blueprint("actions", __name__, url_prefix="/warnings/<int:warning_id>/actions")

# The student page has its own level override form; the others are rendered by _actions.html.
RENDERED_ACTIONS = tuple(ACTION_FORMS)


@dataclass(frozen=True)
class RefusedAction:
    """An action whose form was refused: shown again open on the student's page, with what was
    typed, each field's error and, for a refusal by the rules, the reason."""

    name: str
    form: ActionForm
    message: str | None = None


def warning_action_forms(
    warning: EarlyWarning, refused: RefusedAction | None = None, owed: Iterable[Deadline] = ()
) -> list[tuple[str, object]]:
    """The action forms the signed-in user may use on `warning`, each carrying its version (the
    refused one as it was sent). Acknowledging is offered until it is done, and again when a
    raised level owes a new acknowledgement (`owed`, the warning's open deadlines); never to
    someone whose acknowledgement would not count (a department counsellor's, of a red)."""
    acknowledged = warning.acknowledged_at is not None and all(
        d.kind != "acknowledge" for d in owed
    )
    return [
        (
            name,
            refused.form
            if refused is not None and refused.name == name
            else action_form(name, warning, formdata=None),
        )
        for name in RENDERED_ACTIONS
        if actions.may_take(db.session, current_user, warning, name)
        and not (name == "acknowledge" and acknowledged)
    ]


def deadline_label(kind: str) -> str:
    """A deadline kind in the viewer's words (an unknown kind as it is)."""
    return _(DEADLINE_NAMES[kind]) if kind in DEADLINE_NAMES else kind


def missed_steps(detail: dict) -> str:
    """The steps an escalation note's warning did not have done in time, in words, or ''."""
    kinds = detail.get("missed") or []
    return pgettext("list separator", ", ").join(deadline_label(kind) for kind in kinds)


def escalation_reason(outcome: str) -> str:
    """Why a warning went up a tier, from its timeline event's outcome
    (`escalation.event_outcome`): the step not done in time, or a person's decision."""
    missed = escalation.missed_in(outcome)
    if missed is None:
        return _("escalated by a person")
    return _("%(deadline)s not done in time", deadline=deadline_label(missed))


def chore_label(kind: str) -> str:
    return {"report_missing": _("Missing weekly reports")}.get(kind, kind)


def notice_due(detail: dict) -> datetime | None:
    """The deadline an inbox note's detail names (stored as ISO text in its JSON), or None."""
    return datetime.fromisoformat(detail["due_at"]) if detail.get("due_at") else None


def notice_overdue(detail: dict) -> str:
    """How long the step an inbox note names has been overdue, from its detail's
    `overdue_since` (a tier let it pass), e.g. "overdue for 3 hours (since 2026-09-14 11:00)";
    "" when it was never missed."""
    if not detail.get("overdue_since"):
        return ""
    since = datetime.fromisoformat(detail["overdue_since"])
    return _(
        "overdue for %(howlong)s (since %(when)s)",
        howlong=format_timedelta(clock.now() - since),
        when=local_time(since),
    )


def settled_notices(session: Session, notes: Sequence[Notification]) -> dict[int, str]:
    """The inbox notes whose deadline is no longer owed, each with what became of it in words
    (`response.settled_notes`); registered with the inbox (`notifications.register_settled`)."""
    words = {
        "met": _("done"),
        "escalated": _("passed on to the next tier"),
        "ended": _("no longer needed"),
    }
    return {
        note_id: words[fate] for note_id, fate in response.settled_notes(session, notes).items()
    }


def task_text(task: Task) -> str:
    """The task's text in the reader's language (as written when it has no message id)."""
    return shown(task_texts.task_message(task))


# --------------------------------------------------------------------------------------------------
# Acting on a warning
# --------------------------------------------------------------------------------------------------


def _warning_or_404(warning_id: int) -> EarlyWarning:
    """The warning if its student is in the viewer's WARNING scope; 404 (audited) otherwise."""
    return load_or_404(
        EarlyWarning,
        warning_id,
        student_filter(current_user, Capability.WARNING),
        action="act",
        record_type="warning",
    )


def _local_to_utc(value: datetime) -> datetime:
    return clock.to_utc(value, clock.viewer_zone())


@dataclass(frozen=True)
class ActionView:
    """An action's page: the action it runs, and what the action takes from its form (the one
    `ACTION_FORMS` names; besides the actor, the warning, its version as seen and "now")."""

    run: Callable[..., EarlyWarning]
    fields: Callable[[Any, datetime], dict[str, object]] = lambda form, now: {}


ACTIONS: dict[str, ActionView] = {
    "acknowledge": ActionView(actions.acknowledge),
    "contact": ActionView(
        actions.log_contact,
        lambda form, now: {
            "method": form.method.data,
            "outcome": form.outcome.data,
            "note": form.note.data,
        },
    ),
    "guardian": ActionView(
        actions.notify_guardian,
        lambda form, now: {"method": form.method.data, "note": form.note.data},
    ),
    "assessment": ActionView(
        actions.record_assessment,
        lambda form, now: {"outcome": form.outcome.data, "note": form.note.data},
    ),
    "peer_watch": ActionView(
        actions.assign_peer_watch,
        lambda form, now: {
            "due_at": now + timedelta(days=form.days.data),
            "arranged": form.arranged.data,
        },
    ),
    "follow_up": ActionView(
        actions.schedule_follow_up,
        lambda form, now: {"due_at": _local_to_utc(form.due_at.data)},
    ),
    "escalate": ActionView(
        actions.escalate_manually,
        lambda form, now: {"reason": form.reason.data},
    ),
    "close": ActionView(
        actions.close,
        lambda form, now: {"outcome": form.outcome.data, "review_date": form.review_date.data},
    ),
    "counsellor": ActionView(
        actions.assign_counsellor,
        lambda form, now: {"counsellor_id": form.counsellor.data},
    ),
}


def action_form(name: str, warning: EarlyWarning, **kwargs: Any) -> ActionForm:
    """Action `name`'s form for `warning`, with the choices that depend on it (the centre's
    counsellors, the one it has now marked)."""
    form = ACTION_FORMS[name](prefix=name, version=warning.version, **kwargs)
    if isinstance(form, CounsellorForm):
        counsellors = caseload.centre_counsellors(db.session, warning.institution_id)
        form.counsellor.choices = [
            (
                user.id,
                _("%(name)s (now)", name=user.name)
                if user.id == warning.assigned_counsellor_id
                else user.name,
            )
            for user in counsellors
        ]
    return form


def _perform(name: str, form: ActionForm, warning: EarlyWarning, now: datetime) -> None:
    view = ACTIONS[name]
    view.run(db.session, current_user, warning, form.version.data, now, **view.fields(form, now))


@actions_bp.route("/<name>", methods=["GET", "POST"])
@login_required
def act(warning_id: int, name: str):
    """One action on a warning; GET shows its form alone (also the fallback without scripts)."""
    if name not in ACTIONS:
        abort(404)
    warning = _warning_or_404(warning_id)
    if not actions.may_take(db.session, current_user, warning, name):
        abort(403 if warning.status == WarningStatus.OPEN else 409)
    form = action_form(name, warning)
    if not form.is_submitted():
        return render_template("response/action.html", warning=warning, name=name, form=form)
    if not form.validate():
        return _refused(warning, RefusedAction(name, form)), 400
    try:
        _perform(name, form, warning, clock.now())
    except actions.StaleWarning:
        message = _(
            "Someone else updated this warning first. Nothing was saved: reload the student's "
            "page to see their change, then try again."
        )
        return _refused(warning, RefusedAction(name, form, message)), 409
    except actions.ActionNotAllowed:
        abort(403)
    except ValueError as error:  # InvalidAction, the early-warning OverrideError
        return _refused(warning, RefusedAction(name, form, _(str(error)))), 400
    flash(_("%(action)s: saved.", action=form.submit.label.text), "success")
    return redirect(url_for("warning.student", student_id=warning.student_id))


def _refused(warning: EarlyWarning, refused: RefusedAction):
    """The student's page again with the refused form open where it was filled in. The page is
    the `warning.student` view's (looked up by endpoint: view modules do not import each other),
    so it is rendered, scoped and audited exactly as when first read."""
    return current_app.view_functions["warning.student"](warning.student_id, refused=refused)


# --------------------------------------------------------------------------------------------------
# Task lists
# --------------------------------------------------------------------------------------------------


def _end_of_today(now: datetime) -> datetime:
    zone = clock.viewer_zone()
    midnight = datetime.combine(clock.local_date(now, zone) + timedelta(days=1), time(0))
    return clock.to_utc(midnight, zone)


@bp.route("")
@login_required
def tasks():
    """What is overdue, due today and upcoming, most urgent first (see `task_list`): tasks for
    everyone, deadlines for staff who may see warnings (class and dorm tiers see only names and
    task text), then the repetitive chores collapsed by kind."""
    now = clock.now()
    end = _end_of_today(now)
    task_rows = db.session.scalars(actions.open_tasks_query(current_user).limit(500)).all()
    deadline_rows = actions.open_deadlines(db.session, current_user)
    listed = task_list.build(task_rows, deadline_rows, now, end)
    # Rendered before the audit commit, which would expire every row and re-read each one (N+1),
    # and returned only after it, as `audit.record_read` requires.
    body = render_template(
        "response/tasks.html",
        listed=listed,
        now=now,
        done_form=TaskDoneForm(formdata=None),
        held_tiers=permissions.tiers_held(current_user),
    )
    if deadline_rows:
        audit.record_list_read(
            db.session,
            actor=current_user,
            action="list",
            record_type="deadline",
            student_ids=[student.id for _, _, student, _ in deadline_rows],
            detail=f"{len(deadline_rows)} open deadlines",
        )
    return body


@bp.route("/<int:task_id>/done", methods=["POST"])
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
    note = form.note.data or ""
    # A return-to-school plan item or follow-up is done by the leave's rules, with its audit row
    # on the leave, as when it is ticked on the leave's page.
    leave = leave_rules.leave_of_task(db.session, task)
    try:
        if leave is not None:
            leave_rules.complete_task(db.session, current_user, leave, task, note, clock.now())
        else:
            actions.complete_task(db.session, current_user, task, clock.now(), note=note)
    except actions.TaskAlreadyDone as done:
        if done.by is None:
            flash(_("This task was already marked done."), "warning")
        else:
            flash(_("This was already marked done by %(name)s.", name=done.by.name), "warning")
        return redirect(url_for("response.tasks"))
    except leave_rules.LeaveError as error:
        db.session.rollback()
        flash(error.shown(), "error")
        return redirect(url_for("response.tasks"))
    except (actions.ActionNotAllowed, PermissionError):
        abort(404)
    flash(_("Thank you. The task is marked done."), "success")
    return redirect(url_for("response.tasks"))
