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
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import contains_eager

from campus import audit
from campus import clock
from campus.access import load_or_404
from campus.extensions import db
from campus.i18n import refusal_text
from campus.i18n import shown
from campus.local_time import due_words
from campus.models import User
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
from warning.labels import tier_label
from warning.models import Deadline
from warning.models import EarlyWarning
from warning.models import OwnerTier
from warning.models import Task
from warning.models import TaskClosed
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


def escalation_target(warning: EarlyWarning) -> dict[str, Any]:
    """Whom 升级至上一级 hands the warning to, for its form: the next tier and the names of the
    people who hold it for this student (none: it waits there until someone does)."""
    tier = OwnerTier(min(warning.owner_tier + 1, OwnerTier.LEADERSHIP))
    ids = response.owners_many(db.session, [warning], tier)[warning.id]
    names = db.session.scalars(select(User.name).where(User.id.in_(ids)).order_by(User.name))
    return {"tier": tier, "names": list(names)}


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


def deadline_action(warning: EarlyWarning, kind: str) -> str | None:
    """The action whose form meets a deadline of `kind` on `warning`
    (`permissions.DEADLINE_ACTIONS`) when the signed-in user's role and scope allow it, so the
    owed step links to that form; None otherwise. No query: the task list asks it of every line."""
    name = permissions.DEADLINE_ACTIONS.get(kind)
    if name is None or not permissions.can_act_on(current_user, warning, name):
        return None
    return name


def deadline_link(
    warning: EarlyWarning, kind: str, offered: Sequence[str] | None = None
) -> str | None:
    """Where the signed-in user meets a deadline of `kind` on `warning`: the form of its action
    (`deadline_action`), or the page another domain registered for it (`actions.STEP_PAGES`);
    None when it is not theirs to do. `offered` are the actions whose forms the page itself
    shows (the warning page): of the warning's own actions, only those lead on from there."""
    name = deadline_action(warning, kind)
    if name is None:
        return None
    page = actions.STEP_PAGES.get(name)
    if page is not None:
        return page(warning)
    if name not in ACTIONS or (offered is not None and name not in offered):
        return None
    return url_for("actions.act", warning_id=warning.id, name=name)


def deadline_label(kind: str) -> str:
    """A deadline kind in the viewer's words (an unknown kind as it is)."""
    return _(DEADLINE_NAMES[kind]) if kind in DEADLINE_NAMES else kind


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


def notice_missed(detail: dict, done: bool = False) -> str:
    """The steps an inbox note's warning did not have done in time, each with when it fell due,
    e.g. "Not done in time: Acknowledge (due today 11:00, overdue for 3 hours)"; "" when
    nothing was missed. How long it has been overdue is said of the step the note names as owed
    while it still waits (`done` false), never of another step's deadline; a note written before
    the due times were recorded names the steps alone."""
    kinds = [kind for kind in detail.get("missed") or [] if isinstance(kind, str)]
    since = dict(detail.get("missed_at") or {})
    if not since and detail.get("overdue_since") and detail.get("due_kind"):
        since[detail["due_kind"]] = detail["overdue_since"]  # written before `missed_at`
        kinds += [] if detail["due_kind"] in kinds else [detail["due_kind"]]
    if not kinds:
        return ""
    now, comma = clock.now(), pgettext("list separator", ", ")
    # Steps that fell due together are named together: (when, with how long) -> step names.
    groups: dict[tuple[str | None, bool], list[str]] = {}
    for kind in kinds:
        timed = bool(since.get(kind))
        waiting = timed and not done and kind == detail.get("due_kind")
        groups.setdefault((since.get(kind) if timed else None, waiting), []).append(
            deadline_label(kind)
        )
    parts = []
    for (at, waiting), names in groups.items():
        steps = comma.join(names)
        if at is None:
            parts.append(steps)
            continue
        when = datetime.fromisoformat(at)
        if waiting:
            howlong = format_timedelta(now - when)
            parts.append(
                _(
                    "%(step)s (due %(when)s, overdue for %(howlong)s)",
                    step=steps,
                    when=due_words(when, now),
                    howlong=howlong,
                )
            )
        else:
            parts.append(_("%(step)s (due %(when)s)", step=steps, when=due_words(when, now)))
    return _("Not done in time: %(steps)s", steps=pgettext("list separator", "; ").join(parts))


def notice_owed(detail: dict) -> str:
    """What an inbox note's warning owes now and by when, e.g. "Acknowledge due today 12:00"
    (said as of the reading, not the writing: a note is often read a day later); after a missed
    step, "Now owed by school leadership: Acknowledge, by …", so the next deadline is never read
    as the missed one's, and a deadline since passed on within school leadership is not given as
    still to come. "" when the note names no deadline."""
    due = notice_due(detail)
    kind = detail.get("due_kind")
    if due is None or not isinstance(kind, str):
        return ""
    what, when = deadline_label(kind), due_words(due)
    if not notice_missed(detail):
        return _("%(what)s due %(when)s", what=what, when=when)
    if detail.get("due_tier") is None:
        return _("Now owed: %(what)s, by %(when)s", what=what, when=when)
    if due <= clock.now():
        # Passed on within school leadership since the note was written (it has no next tier):
        # still owed there, by a later deadline than the one the note recorded.
        return _("Still owed by %(tier)s: %(what)s", tier=tier_label(detail["due_tier"]), what=what)
    return _(
        "Now owed by %(tier)s: %(what)s, by %(when)s",
        tier=tier_label(detail["due_tier"]),
        what=what,
        when=when,
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


def open_new_tasks(note: Notification) -> int:
    """How many of the new tasks a peer's inbox note announces are still open for the reader
    (`actions.still_new_tasks`), so the number matches the Tasks page she opens from it."""
    return actions.still_new_tasks(db.session, current_user, note)


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
        return _refused(warning, RefusedAction(name, form, _unmet_rule(name, warning))), 400
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
        return _refused(warning, RefusedAction(name, form, refusal_text(error))), 400
    flash(_("%(action)s: saved.", action=form.submit.label.text), "success")
    # The form was sent to #action-<name>, and a redirect without a fragment keeps it: the page
    # opened at the form with its "saved" message above the screen. Land on the message.
    return redirect(url_for("warning.student", student_id=warning.student_id, _anchor="main"))


def _unmet_rule(name: str, warning: EarlyWarning) -> str | None:
    """A rule of the warning itself that refuses the action whatever the form says (a red closed
    before its assessment), said with the form's own errors rather than a round later."""
    if name != "close":
        return None
    try:
        actions.check_closable(db.session, warning)
    except actions.InvalidAction as error:
        return refusal_text(error)
    return None


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
    # Each task's student (its name, its number) comes with it, not one query a line.
    listed_tasks = actions.open_tasks_query(current_user).options(contains_eager(Task.student))
    task_rows = db.session.scalars(listed_tasks.limit(500)).all()
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
    now = clock.now()
    try:
        if leave is None and actions.watch_goes_on(db.session, task, now):
            # Before its last day a peer watch's tap is a day's company, not its end.
            if actions.check_in_on_watch(db.session, current_user, task, now, note=note):
                flash(_done_text(task, now), "success")
            else:
                flash(_("You already checked in today. Thank you."), "info")
            return redirect(url_for("response.tasks"))
        if leave is not None:
            leave_rules.complete_task(db.session, current_user, leave, task, note, now)
        else:
            actions.complete_task(db.session, current_user, task, now, note=note)
    except actions.TaskAlreadyDone as done:
        if done.by is None:
            flash(_closed_text(done.reason), "warning")
        elif done.by.id == current_user.id:  # the same person, in another tab
            flash(_("You already marked this done."), "warning")
        else:
            flash(_("This was already marked done by %(name)s.", name=done.by.name), "warning")
        return redirect(url_for("response.tasks"))
    except leave_rules.LeaveError as error:
        db.session.rollback()
        flash(error.shown(), "error")
        return redirect(url_for("response.tasks"))
    except (actions.ActionNotAllowed, PermissionError):
        abort(404)
    flash(_done_text(task, now), "success")
    return redirect(url_for("response.tasks"))


def _done_text(task: Task, now: datetime) -> str:
    """What the reader is told on ticking `task`: that it is done, and when her next one about
    the same student is due (a blue's check-in plans the next for next month), and where it
    waits. A committee member who saw the classmate's task again right under the one she
    ticked took her tap for one that did not work. Nothing of why, nor of a level: the date is
    the one her list shows. A peer's request (a red's watch, a blue's check-in) is told the
    same few words whatever it was: a one-off's next date or a watch's "keep her company" told
    a peer which classmate was red."""
    if task_texts.is_peer_request(task):
        return _("Thank you. It is recorded.")
    done = _("Thank you. The task is marked done.")
    student = task.student
    if student is None:
        return done
    following = db.session.scalar(
        actions.open_tasks_query(current_user).where(Task.student_id == student.id).limit(1)
    )
    if following is None:
        return done
    when, name = due_words(following.due_at, now), student.name
    if task_list.bucket_of(following.due_at, now, _end_of_today(now)) == "later":
        return _(
            "Thank you. The task is marked done. The next one for %(name)s is due %(when)s: "
            "it waits under Later on your task list until the week it is due.",
            name=name,
            when=when,
        )
    return _(
        "Thank you. The task is marked done. The next one for %(name)s is due %(when)s.",
        name=name,
        when=when,
    )


def _closed_text(reason: TaskClosed | None) -> str:
    """What a peer ticking a task closed without her reads (from a page opened before): that
    it is taken care of, never how (a counsellor's call, an escalation would tell her more
    about the student than her task does)."""
    if reason is TaskClosed.MET:
        return _("Someone has already taken care of this. Thank you.")
    if reason is TaskClosed.REPLACED:
        return _("This task was replaced by a newer one on your list.")
    if reason is not None:
        return _("This task is no longer needed.")
    return _("This task was already marked done.")
