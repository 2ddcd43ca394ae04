"""Leave of absence and return-to-school pages, for school counsellors and the centre director."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, TypeVar

from flask import Blueprint
from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import pgettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import and_
from sqlalchemy import select
from sqlalchemy import true
from wtforms import HiddenField

from campus import clock
from campus.access import list_in_scope
from campus.access import load_or_404
from campus.extensions import db
from campus.forms import add_error
from campus.forms import filled
from campus.models import Role
from campus.models import Student
from campus.models import User
from campus.outcomes import Refused
from campus.permissions import require_roles
from campus.scope import Capability
from campus.scope import student_filter
from referrals import leave as leave_rules
from referrals.forms import ASSESSMENT_LABELS
from referrals.forms import REASON_LABELS
from referrals.forms import SECTION_LABELS
from referrals.forms import ApproveReturnForm
from referrals.forms import AssessmentForm
from referrals.forms import CancelAppointmentsForm
from referrals.forms import HandOverForm
from referrals.forms import LeaveForm
from referrals.forms import PlanItemForm
from referrals.forms import PlanTaskDoneForm
from referrals.forms import StatementForm
from referrals.forms import WithdrawItemForm
from referrals.forms import leave_status_text
from referrals.forms import owner_label
from referrals.models import LeaveOfAbsence
from referrals.models import LeaveReason
from referrals.models import LeaveStatus
from referrals.models import PlanSection
from referrals.models import ReturnAssessment
from referrals.models import ReturnPlanItem
from referrals.permissions import CLINICAL_READERS
from warning.models import Task

bp = Blueprint("leave", __name__, url_prefix="/referrals/leave")


@bp.route("", methods=["GET", "POST"])
@require_roles(*CLINICAL_READERS)
def index():
    form = LeaveForm()
    if form.validate_on_submit():
        if not current_user.has_role(Role.SCHOOL_COUNSELLOR):
            abort(403)
        student = db.session.scalar(
            select(Student).where(
                Student.student_number == filled(form.student_number).strip(),
                student_filter(current_user, Capability.CLINICAL),
            )
        )
        if student is None:
            add_error(
                form.student_number,
                _("No student with this number on your caseload (use break-glass if needed)."),
            )
        else:
            started = _start(form, student)
            if started is not None:
                return started
    due_only = request.args.get("follow_ups") == "due"
    today = clock.local_date(clock.now(), clock.institution_zone(None))
    rows = list_in_scope(
        LeaveOfAbsence,
        and_(
            leave_rules.leave_clause(current_user),
            leave_rules.follow_up_due_clause(today) if due_only else true(),
        ),
        (LeaveOfAbsence.start_date.desc(),),
        action="leave_list",
        record_type="leave_of_absence",
        filter_note="follow_ups_due" if due_only else "",
    )
    page = render_template(
        "referrals/leaves.html",
        leaves=rows,
        form=form,
        reason_labels=REASON_LABELS,
        status_text=lambda leave: leave_status_text(leave, today),
        due_only=due_only,
    )
    # A refused form comes back as typed, its error beside the field, not blank after a redirect.
    return (page, 400) if form.errors else page


def _start(form: LeaveForm, student: Student) -> ResponseReturnValue | None:
    """Start the leave and go to its page; None when refused, the refusal added to the form."""
    data = leave_rules.NewLeave(
        start_date=filled(form.start_date),
        expected_return_date=filled(form.expected_return_date),
        reason_category=LeaveReason(form.reason_category.data),
    )
    try:
        leave = leave_rules.start_leave(db.session, current_user, student, data, clock.now())
    except leave_rules.LeaveError as error:
        db.session.rollback()
        add_error(getattr(form, error.field or "student_number"), error.shown())
        return None
    flash(_("Leave recorded for %(name)s.", name=student.name), "success")
    booked = leave_rules.booked_appointments(db.session, leave, clock.now())
    if booked:
        flash(
            ngettext(
                "The student still has %(num)d counselling appointment booked: see below to "
                "cancel it.",
                "The student still has %(num)d counselling appointments booked: see below to "
                "cancel them.",
                len(booked),
            ),
            "warning",
        )
    return redirect(url_for("leave.detail", leave_id=leave.id))


def _load(leave_id: int) -> LeaveOfAbsence:
    """The leave if its student is in the viewer's clinical scope; every read is audited."""
    return load_or_404(
        LeaveOfAbsence,
        leave_id,
        leave_rules.leave_clause(current_user),
        action="leave_read",
        record_type="leave",
        audit_read=True,
    )


@bp.route("/<int:leave_id>")
@require_roles(*CLINICAL_READERS)
def detail(leave_id: int):
    return _detail_page(_load(leave_id))


def _detail_page(leave: LeaveOfAbsence, refused: tuple[str, FlaskForm] | None = None) -> str:
    """The leave's page; `refused` is (name, form) of a step's form shown again as the counsellor
    filled it in, with its errors, so nothing they typed is lost to a missing date."""
    plan_form = PlanItemForm(prefix="plan", formdata=None).issued()
    plan_form.owner_id.choices = _owner_choices(leave)
    forms: dict[str, FlaskForm] = {
        "statement_form": StatementForm(prefix="st"),
        "assessment_form": _assessment_form(leave),
        "approve_form": ApproveReturnForm(prefix="ap"),
        "plan_form": plan_form,
        "done_form": PlanTaskDoneForm(formdata=None),
        "hand_over_form": _hand_over_form(leave, submitted=False),
        "withdraw_form": WithdrawItemForm(prefix="wd", formdata=None),
        "cancel_form": CancelAppointmentsForm(
            prefix="ca", formdata=None, data={"reason": _(leave_rules.LEAVE_CANCEL_REASON)}
        ),
    }
    if refused is not None:
        name, form = refused
        forms[name] = form
    earliest_due = leave_rules.earliest_due(leave)
    shown_plan_form = forms["plan_form"]
    assert isinstance(shown_plan_form, PlanItemForm)
    shown_plan_form.due_date.render_kw = {"min": earliest_due.isoformat()}
    return render_template(
        "referrals/leave_detail.html",
        leave=leave,
        outstanding=leave_rules.outstanding(leave),
        reason_labels=REASON_LABELS,
        status=leave_status_text(leave, leave_rules.local_today(db.session, leave, clock.now())),
        section_labels=SECTION_LABELS,
        assessment_labels=ASSESSMENT_LABELS,
        people=_people(leave),
        owners=_owners(leave),
        owners_gone=leave_rules.owners_gone(db.session, leave),
        owns=leave_rules.owns,
        refused_task=g.get("refused_task"),
        refused_item=g.get("refused_item"),
        in_hospital=(
            leave_rules.inpatient_referrals(db.session, leave)
            if leave.status is LeaveStatus.ON_LEAVE
            else []
        ),
        inpatient_states=leave_rules.INPATIENT_STATES,
        booked=leave_rules.booked_appointments(db.session, leave, clock.now()),
        earliest_due=earliest_due,
        **forms,
    )


def _hand_over_form(leave: LeaveOfAbsence, *, submitted: bool = True) -> HandOverForm:
    form = HandOverForm(prefix="ho") if submitted else HandOverForm(prefix="ho", formdata=None)
    form.owner_id.choices = _owner_choices(leave)
    return form


def _people(leave: LeaveOfAbsence) -> dict[int, str]:
    """Names of whoever owns or ticked the case's tasks: the plan says who did it, for whom."""
    tasks = [i.task for i in leave.plan_items] + [f.task for f in leave.follow_ups]
    ids = {t.assignee_user_id for t in tasks} | {t.done_by_id for t in tasks}
    ids |= {i.withdrawn_by_id for i in leave.plan_items}
    ids.discard(None)
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).tuples()
    return dict(rows.all())


def _assessment_form(leave: LeaveOfAbsence) -> AssessmentForm:
    """Opens on the outcome on record, so a counsellor re-assessing starts from what stands rather
    than from "fit to return" beside a recorded "not yet fit"."""
    recorded = leave.assessment_outcome.value if leave.assessment_outcome else None
    return AssessmentForm(prefix="as", data={"outcome": recorded} if recorded else None)


def _owner_choices(leave: LeaveOfAbsence) -> list[tuple[int, str]]:
    return [
        (o.user.id, owner_label(o.user.name, o.roles))
        for o in leave_rules.owner_choices(db.session, leave.student)
    ]


def _owners(leave: LeaveOfAbsence) -> dict[int, str]:
    """Each plan item's owner by name and role, as the plan lists them."""
    names = {item.owner_id: item.owner.name for item in leave.plan_items}
    return {
        owner_id: owner_label(names[owner_id], roles)
        for owner_id, roles in leave_rules.owner_roles(db.session, leave).items()
    }


Params = ParamSpec("Params")


def _leave_step(
    path: str,
) -> Callable[
    [Callable[Concatenate[LeaveOfAbsence, Params], str]],
    Callable[Concatenate[int, Params], ResponseReturnValue],
]:
    """The view of one counsellor step on a leave, routed at `path` below the leave's own: a
    step is a POST that only a school counsellor may send, said here once for every step rather
    than by a guard each route must remember. The leave is read (scoped, audited), the step's
    action takes it and returns what to tell the user, who is sent back to the leave's page. A
    refused step is shown and never half-written: a step with a form shows the page again with
    that form as filled in (400), one without (a task, the closure) goes back to the page."""

    def decorate(
        action: Callable[Concatenate[LeaveOfAbsence, Params], str],
    ) -> Callable[Concatenate[int, Params], ResponseReturnValue]:
        @wraps(action)
        def view(leave_id: int, *args: Params.args, **kwargs: Params.kwargs) -> ResponseReturnValue:
            leave = _load(leave_id)
            g.leave_form = None
            try:
                message = action(leave, *args, **kwargs)
            except leave_rules.LeaveError as error:
                db.session.rollback()
                flash(error.shown(), "error")
                if g.leave_form is not None:
                    return _detail_page(leave, g.leave_form), 400
            except Refused as refusal:  # a token that is not this person's form
                flash(refusal.message.shown(), "error")
            except PermissionError:
                db.session.rollback()
                abort(403)
            else:
                flash(message, "success")
            return redirect(url_for("leave.detail", leave_id=leave_id))

        guarded = require_roles(Role.SCHOOL_COUNSELLOR)(view)
        return bp.route(f"/<int:leave_id>{path}", methods=["POST"])(guarded)

    return decorate


SubmittedForm = TypeVar("SubmittedForm", bound=FlaskForm)


def _validated(name: str, form: SubmittedForm) -> SubmittedForm:
    """The submitted form (`name` is the page's name for it, kept for `_leave_step` to show it
    again if the step is refused), or a `LeaveError` naming each field and its error."""
    g.leave_form = (name, form)
    if form.validate_on_submit():
        return form
    errors = [
        _("%(field)s: %(error)s", field=field.label.text, error=error)
        if not isinstance(field, HiddenField)  # the CSRF token has no label to name
        else str(error)
        for field in form
        for error in field.errors
    ]
    raise leave_rules.LeaveError(
        pgettext("list separator", "; ").join(errors) or _("Check the form.")
    )


def _plan_item(leave: LeaveOfAbsence, item_id: int) -> ReturnPlanItem:
    """The item `item_id` of this leave's plan, else a 404: the id in a step's address is trusted
    only as one of the plan's own items (another case's item, or none, as if it did not exist)."""
    item = next((i for i in leave.plan_items if i.id == item_id), None)
    if item is None:
        abort(404)
    return item


@_leave_step("/statement")
def statement(leave: LeaveOfAbsence) -> str:
    form = _validated("statement_form", StatementForm(prefix="st"))
    leave_rules.record_statement(
        db.session,
        current_user,
        leave,
        filled(form.received_on),
        filled(form.hospital),
        filled(form.summary),
        leave_rules.local_today(db.session, leave, clock.now()),
    )
    return _("Hospital statement recorded.")


@_leave_step("/assessment")
def assessment(leave: LeaveOfAbsence) -> str:
    form = _validated("assessment_form", AssessmentForm(prefix="as"))
    leave_rules.record_assessment(
        db.session,
        current_user,
        leave,
        ReturnAssessment(form.outcome.data),
        form.note.data or "",
        clock.now(),
    )
    return _("Centre assessment recorded.")


@_leave_step("/approve")
def approve(leave: LeaveOfAbsence) -> str:
    form = _validated("approve_form", ApproveReturnForm(prefix="ap"))
    inpatient = leave_rules.InpatientConfirmation(
        bool(form.inpatient_confirmed.data), form.inpatient_reason.data or ""
    )
    leave_rules.approve_return(db.session, current_user, leave, filled(form.returned_on), inpatient)
    return _("Return approved; follow-ups at 1, 3 and 6 months are scheduled.")


@_leave_step("/plan")
def plan_item(leave: LeaveOfAbsence) -> str:
    form = PlanItemForm(prefix="plan")
    form.owner_id.choices = _owner_choices(leave)
    _validated("plan_form", form)
    leave_rules.add_plan_item(
        db.session,
        current_user,
        leave,
        PlanSection(form.section.data),
        filled(form.text),
        form.owner_id.data,
        filled(form.due_date),
        submission=filled(form.submission),
    )
    return _("Plan item added; its owner sees it among their tasks.")


@_leave_step("/tasks/<int:task_id>/done")
def task_done(leave: LeaveOfAbsence, task_id: int) -> str:
    task = db.session.get(Task, task_id)
    if task is None:
        abort(404)
    g.refused_task = task_id  # a refused note box opens again on this task, as typed
    form = _validated("done_form", PlanTaskDoneForm())
    note = form.note.data or ""
    leave_rules.complete_task(db.session, current_user, leave, task, note, clock.now())
    if leave_rules.owns(current_user, task):
        return _("Marked done.")
    return _("Marked done for its owner, with your note.")


@_leave_step("/items/<int:item_id>/hand-over")
def hand_over(leave: LeaveOfAbsence, item_id: int) -> str:
    item = _plan_item(leave, item_id)
    form = _validated("hand_over_form", _hand_over_form(leave))
    handed = leave_rules.hand_over_plan_item(
        db.session, current_user, leave, item, form.owner_id.data, clock.now()
    )
    return _("Handed over to %(name)s; they see it among their tasks.", name=handed.owner.name)


@_leave_step("/items/<int:item_id>/withdraw")
def withdraw_item(leave: LeaveOfAbsence, item_id: int) -> str:
    item = _plan_item(leave, item_id)
    g.refused_item = item_id  # a refused reason box opens again on this item, as typed
    form = _validated("withdraw_form", WithdrawItemForm(prefix="wd"))
    leave_rules.withdraw_plan_item(
        db.session, current_user, leave, item, filled(form.reason), clock.now()
    )
    return _("Item withdrawn; it stays in the plan, marked withdrawn, and no longer prints.")


@_leave_step("/appointments/cancel")
def cancel_appointments(leave: LeaveOfAbsence) -> str:
    form = _validated("cancel_form", CancelAppointmentsForm(prefix="ca"))
    count = leave_rules.cancel_appointments(
        db.session, current_user, leave, filled(form.reason), clock.now()
    )
    return ngettext(
        "%(num)d appointment cancelled; the student and the counsellor are told.",
        "%(num)d appointments cancelled; the student and the counsellors are told.",
        count,
    )


@_leave_step("/close")
def close(leave: LeaveOfAbsence) -> str:
    leave_rules.close_case(db.session, current_user, leave, clock.now())
    return _("Return case closed.")
