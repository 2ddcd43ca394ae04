"""Early warning pages: the counsellor's queue, the student timeline, reports, policy simulation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
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
from sqlalchemy import select

from campus import acting_for
from campus import audit
from campus import clock
from campus import network
from campus.centre_phone import on_duty_phone
from campus.extensions import db
from campus.forms import add_error
from campus.forms import filled
from campus.i18n import refusal_text
from campus.i18n import shown
from campus.i18n import viewer_locale
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.models import User
from campus.outcomes import Refused
from campus.permissions import require_roles
from campus.scope import Capability
from campus.scope import capability_for
from campus.scope import get_student
from campus.spreadsheets import ImportFileError
from campus.spreadsheets import send_template
from privacy import consent as privacy_consent
from warning import academic
from warning import actions
from warning import caseload
from warning import labels
from warning import permissions
from warning import queue
from warning import reports
from warning import response
from warning import retriage
from warning import services
from warning import weekly_reading
from warning.forms import CONCERN_LABELS
from warning.forms import AcademicImportForm
from warning.forms import ConcernReportForm
from warning.forms import JudgementForm
from warning.forms import LifeEventForm
from warning.forms import OverrideForm
from warning.forms import PolicyDraftForm
from warning.forms import WeeklyReportForm
from warning.models import PolicyKind
from warning.models import PolicyStatus
from warning.models import PolicyVersion
from warning.policy import Policy
from warning.policy import PolicyError
from warning.policy import range_overlaps
from warning.response_forms import CONTACT_OUTCOMES
from warning.response_forms import METHOD_LABELS
from warning.response_forms import ShareOutForm
from warning.response_policy import ResponsePolicy
from warning.response_policy import active_response_policy
from warning.response_policy import setting_changes

bp = Blueprint("warning", __name__, url_prefix="/warnings")

QUEUE_ROLES = (
    Role.DEPT_COUNSELLOR,
    Role.DEPT_LEADER,
    Role.SCHOOL_COUNSELLOR,
    Role.DIRECTOR,
    Role.ADMIN,
)
DEPARTMENT_STAFF = (Role.DEPT_COUNSELLOR, Role.DEPT_LEADER, Role.SCHOOL_COUNSELLOR, Role.DIRECTOR)


# --------------------------------------------------------------------------------------------------
# Queue and student page
# --------------------------------------------------------------------------------------------------


def _int_arg(name: str, low: int = 1, high: int = 10_000) -> int | None:
    value = request.args.get(name, type=int)
    return value if value is not None and low <= value <= high else None


@bp.route("/", endpoint="queue")
@require_roles(*QUEUE_ROLES)
def queue_page():
    flt = queue.QueueFilter(
        level=_int_arg("level", 1, 3),
        department_id=_int_arg("department", 1, 2**31),
        status=request.args.get("status", "open"),
        overdue=request.args.get("overdue") == "1",
        unacknowledged=request.args.get("unacknowledged") == "1",
        mine=request.args.get("mine") == "1",
        unassigned=request.args.get("unassigned") == "1",
        sort=request.args.get("sort", "level")
        if request.args.get("sort") in queue.SORTS
        else "level",
        page=_int_arg("page") or 1,
    )
    page = queue.queue(db.session, current_user, flt, clock.now())
    sharing = permissions.sharing_institution(current_user)
    # Rendered before the audit commit (which expires the page's rows) and returned only after
    # it: the rule of `audit.record_read`, without re-reading every row.
    body = render_template(
        "warning/queue.html",
        page=page,
        flt=flt,
        departments=queue.departments(db.session, current_user),
        page_size=queue.PAGE_SIZE,
        sorts=queue.SORTS,
        has_cases=current_user.has_role(Role.SCHOOL_COUNSELLOR),
        share_form=_share_out_form(sharing) if sharing is not None else None,
    )
    audit.record_list_read(
        db.session,
        actor=current_user,
        action="list",
        record_type="warning_queue",
        student_ids=[student.id for _, student, _, _ in page.rows],
        detail=f"level={flt.level} department={flt.department_id} status={flt.status} "
        f"overdue={flt.overdue} unacknowledged={flt.unacknowledged} mine={flt.mine} "
        f"unassigned={flt.unassigned} "
        f"sort={flt.sort} page={flt.page}",
    )
    return body


def _share_out_form(institution_id: int) -> ShareOutForm:
    """The queue's form; each counsellor is named with their open cases, to share out evenly."""
    form = ShareOutForm()
    form.counsellor.choices = [
        (
            user.id,
            ngettext(
                "%(name)s (%(num)s open case)",
                "%(name)s (%(num)s open cases)",
                cases,
                name=user.name,
            ),
        )
        for user, cases in caseload.with_open_cases(db.session, institution_id)
    ]
    return form


@bp.route("/share-out", methods=["POST"])
@require_roles(*permissions.ACTION_ROLES["counsellor"])
def share_out():
    """The queue's ticked cases to one counsellor; back to the queue as it was filtered."""
    institution_id = permissions.sharing_institution(current_user)
    if institution_id is None:
        abort(403)
    form = _share_out_form(institution_id)
    filters: dict[str, Any] = request.args.to_dict()
    back = redirect(url_for("warning.queue", **filters))
    if not form.validate_on_submit():
        for message in (e for errors in form.errors.values() for e in errors):
            flash(str(message), "error")
        return back
    try:
        done = actions.share_out(
            db.session, current_user, filled(form.cases), filled(form.counsellor), clock.now()
        )
    except LookupError:
        abort(404)
    except actions.ActionNotAllowed:
        abort(403)
    except actions.StaleWarning:
        flash(_("A case changed while you were choosing. Look again and give the rest."), "error")
        return back
    except actions.InvalidAction as refused:
        flash(refusal_text(refused), "error")
        return back
    if done.given:
        flash(
            ngettext(
                "%(num)s case was given to %(name)s.",
                "%(num)s cases were given to %(name)s.",
                done.given,
                name=db.session.get_one(User, form.counsellor.data).name,
            ),
            "success",
        )
    if done.left:
        flash(
            ngettext(
                "%(num)s case had been taken up or closed meanwhile and was left as it is.",
                "%(num)s cases had been taken up or closed meanwhile and were left as they are.",
                done.left,
            ),
            "warning",
        )
    return back


@bp.route("/students/<int:student_id>")
@require_roles(*QUEUE_ROLES)
def student(student_id: int, refused=None, bound: dict | None = None):
    """The student's warning page; `refused` is an action form sent back with its errors (see
    `response_views.act`), `bound` this page's own forms sent back with theirs (by name)."""
    # The read is of the student's page (all their warnings and timeline), filed on the student:
    # a "warning" kind showed the student's number as a warning's on the audit trail.
    found = get_student(
        db.session, current_user, student_id, Capability.WARNING, record_type="student_warnings"
    )
    capability = capability_for(db.session, current_user, found)
    warning = services.open_warning(db.session, found.id)
    clinical = capability is Capability.CLINICAL
    return render_template(
        "warning/student.html",
        student=found,
        warning=warning,
        clinical=clinical,
        # Scores beside screening signals only while the student's consent stands (privacy).
        results_withdrawn=clinical
        and privacy_consent.screening_withdrawal(db.session, found.id) is not None,
        timeline=services.student_timeline(db.session, found, capability),
        warnings=queue.warnings_of(db.session, found),
        **_page_forms(warning, bound or {}),
        may_act=current_user.has_role(*DEPARTMENT_STAFF),
        # Staff arranging a peer watch or a check-in see when no one would receive it.
        peers=network.peers_of(db.session, found) if warning else None,
        owed=response.still_owed(db.session, warning) if warning else [],
        may_appoint=current_user.has_role(*network.APPOINTERS),
        refused_action=refused,
        now=clock.now(),
    )


def _page_forms(warning, bound: dict) -> dict:
    """The page's own forms, empty unless one comes back with what was typed and its errors."""
    return {
        "override_form": bound.get("override")
        or OverrideForm(formdata=None, version=warning.version if warning else ""),
        "judgement_form": bound.get("judgement") or JudgementForm(formdata=None).issued(),
        "life_event_form": bound.get("life_event") or LifeEventForm(formdata=None).issued(),
    }


def timeline_words() -> dict:
    """The words of a timeline (event kinds, levels, contact outcomes): `warning/_timeline.html`
    reads them wherever it is included (this page, the student file)."""
    return {
        "event_labels": _event_labels(),
        "peer_work_done": _peer_work_done(),
        "level_names": _level_names(),
        "contact_outcomes": CONTACT_OUTCOMES,
        "guardian_outcomes": _guardian_outcomes(),
        "methods": METHOD_LABELS,
    }


def _peer_work_done() -> dict[str, str]:
    """What a classmate or roommate did, by the kind of task she finished: she kept company,
    she did not arrange the watch (the deadline's name, which staff owe)."""
    return {
        "peer_watch": _("kept the student company"),
        "check_in": _("checked in with the student"),
    }


def _guardian_outcomes() -> dict[str, str]:
    """What came of a call to the guardian that did not tell her (`actions.guardian_not_reached`;
    the family log's words)."""
    return {"not_reached": _("Not reached"), "refused": _("Refused to talk")}


def _level_names() -> dict[int, str]:
    return {0: _("None"), 1: _("Blue"), 2: _("Yellow"), 3: _("Red")}


def _event_labels() -> dict[str, str]:
    return {
        "opened": _("Warning opened"),
        "level_changed": _("Level changed"),
        "override": _("Level overridden"),
        "acknowledged": _("Acknowledged"),
        "contact": _("Contact"),
        "contact_attempt": _("Tried to reach the student"),
        "task_done": _("Done by the class or dorm"),
        "peer_check_in": _("Checked in by the class or dorm"),
        "guardian_notified": _("Guardian notified"),
        "guardian_attempt": _("Tried to reach the guardian"),
        "guardian_contacted": _("Spoke with the guardian"),
        "assessment": _("Assessment"),
        "interview_held": _("Post-screening interview held"),
        "peer_watch_assigned": _("Peer watch arranged"),
        "follow_up_scheduled": _("Follow-up scheduled"),
        "escalated": _("Escalated"),
        "superseded": _("No longer owed at the new level"),
        "counsellor_assigned": _("Case given to"),
        "case_returned": _(
            "The case counsellor's role has ended; the case went back to the centre to be assigned"
        ),
        "review_returned": _(
            "The counsellor's role ended before the review she set; the review went to the "
            "centre's director"
        ),
        "closed": pgettext("warning", "Closed"),
        "reopened": _("Reopened"),
    }


PageForm = TypeVar("PageForm", bound=FlaskForm)


def _page_form(
    path: str, name: str, form_class: type[PageForm]
) -> Callable[[Callable[[Student, PageForm], str | None]], Callable[[int], ResponseReturnValue]]:
    """The view of the student page's own form `name` (a key of `_page_forms`), made of `action`
    and routed at `path` below the student's page: a POST that department staff send, the same
    who see the forms there (`may_act`), guarded here once for every form. The student is read
    for an act called `name` (scoped and audited by `get_student`), then
    `action` returns what to tell the user when it is done, or None when it refused the form (the
    reason on the form; a send-once form's `Refused` token is put on the form here). Done: back
    to the student's page; refused: the page again with the form as typed, 400."""

    def decorate(
        action: Callable[[Student, PageForm], str | None],
    ) -> Callable[[int], ResponseReturnValue]:
        @wraps(action)
        def view(student_id: int):
            found = get_student(
                db.session, current_user, student_id, Capability.WARNING, action=name
            )
            form = form_class()
            try:
                message = action(found, form)
            except Refused as refusal:
                # A send-once form (`OnceForm`) whose token another person's form used.
                add_error(form["submission"], refusal.message.shown())
                message = None
            if message is None:
                return student(found.id, bound={name: form}), 400
            flash(message, "success")
            # Not back at the form's #anchor, which the redirect would keep: at the message.
            return redirect(url_for("warning.student", student_id=found.id, _anchor="main"))

        guarded = require_roles(*DEPARTMENT_STAFF)(view)
        return bp.route(f"/students/<int:student_id>{path}", methods=["POST"])(guarded)

    return decorate


@_page_form("/override", "override", OverrideForm)
def override(found: Student, form: OverrideForm) -> str | None:
    warning = services.open_warning(db.session, found.id)
    if warning is None:
        abort(404)
    if not form.validate_on_submit():
        return None
    seen = int(text) if (text := form.version.data or "").isdigit() else warning.version
    try:
        actions.change_level(
            db.session,
            current_user,
            warning,
            seen,
            clock.now(),
            level=int(form.level.data),
            reason=filled(form.reason),
        )
    except actions.ActionNotAllowed:
        abort(403)
    except actions.StaleWarning:
        abort(409, _("The warning changed while you were reading it. Reload and try again."))
    except (services.OverrideError, actions.InvalidAction) as exc:
        db.session.rollback()
        form.level.errors = [*form.level.errors, refusal_text(exc)]
        return None
    return _("The level was overridden.")


@_page_form("/judgement", "judgement", JudgementForm)
def judgement(found: Student, form: JudgementForm) -> str | None:
    """A counsellor's own judgement is a new signal with an explicit level (never an edit)."""
    if not form.validate_on_submit():
        return None
    services.record_judgement(
        db.session,
        student=found,
        level=int(form.level.data),
        observation=filled(form.label),
        actor=current_user,
        now=clock.now(),
        submission=filled(form.submission),
    )
    return _("Your judgement was recorded.")


@_page_form("/life-event", "life_event", LifeEventForm)
def life_event(found: Student, form: LifeEventForm) -> str | None:
    if not form.validate_on_submit():
        return None
    today = clock.local_date(clock.now(), clock.institution_zone(found.institution))
    if filled(form.occurred_on) > today:
        form.occurred_on.errors = [_("The date cannot be in the future.")]
        return None
    academic.record_life_event(
        db.session,
        student=found,
        kind=form.kind.data,
        occurred_on=filled(form.occurred_on),
        note=form.note.data,
        actor=current_user,
        now=clock.now(),
        submission=filled(form.submission),
    )
    return _("The life event was recorded.")


# --------------------------------------------------------------------------------------------------
# Class and dorm tiers
# --------------------------------------------------------------------------------------------------


def _my_units(kind: str):
    units = [u for u in reports.units_of(db.session, current_user) if u.kind == kind]
    if len(units) == 1:
        return redirect(url_for("warning.unit", kind=kind, unit_id=units[0].id))
    return render_template("warning/my_units.html", units=units, kind=kind)


@bp.route("/my-class")
@require_roles(Role.CLASS_COMMITTEE)
def my_class():
    return _my_units("class")


@bp.route("/my-dorm")
@require_roles(Role.DORM_INFORMANT)
def my_dorm():
    return _my_units("room")


def _unit_or_404(kind: str, unit_id: int) -> reports.ReportingUnit:
    unit = reports.unit_of(db.session, current_user, kind, unit_id)
    if unit is None:
        abort(404)
    return unit


def _roster_choices(roster: list[Student]) -> list[tuple[int, str]]:
    """The unit's roster as the choices of a form's student field: a sent id outside it is
    refused as not a choice. The reporter is not among them: a report about oneself would go to
    the department as a peer's concern; help for oneself is asked for on the home page."""
    return [
        (s.id, f"{s.name} · {s.student_number}") for s in roster if s.user_id != current_user.id
    ]


def _concern_form(roster: list[Student]) -> ConcernReportForm:
    form = ConcernReportForm()
    form.student_id.choices = _roster_choices(roster)
    return form


def _weekly_form(roster: list[Student], **kwargs) -> WeeklyReportForm:
    form = WeeklyReportForm(**kwargs)
    form.students.choices = _roster_choices(roster)
    return form


def _this_week(unit: reports.ReportingUnit):
    """The unit's reporting week by the institution's calendar, not UTC's."""
    zone = clock.institution_zone(db.session.get(Institution, unit.institution_id))
    return reports.week_start(clock.local_date(clock.now(), zone))


@bp.route("/units/<any(class, room):kind>/<int:unit_id>")
@require_roles(Role.CLASS_COMMITTEE, Role.DORM_INFORMANT)
def unit(kind: str, unit_id: int, weekly_form=None, concern_form=None):
    found = _unit_or_404(kind, unit_id)
    week = _this_week(found)
    roster = reports.roster(db.session, current_user, found)  # the page's list and both forms'
    urgent = _urgent_receipt(found)
    institution = db.session.get(Institution, found.institution_id) if urgent else None
    this_week = reports.this_weeks_report(db.session, found, week)
    return render_template(
        "warning/unit.html",
        unit=found,
        urgent=urgent,
        on_duty=on_duty_phone(institution) if urgent else None,
        week=week,
        roster=roster,
        this_week=this_week,
        this_week_concern=this_week is not None and reports.has_concern(db.session, this_week),
        filed=reports.filed_by(db.session, current_user, found),
        weekly_form=weekly_form or _weekly_form(roster, formdata=None),
        concern_form=concern_form or _concern_form(roster).issued(),
        concern_labels=CONCERN_LABELS,
    )


def _urgent_receipt(found: reports.ReportingUnit) -> reports.UrgentReceipt | None:
    """The receipt the page leads with when it is shown right after a report graded red."""
    received = request.args.get("received", type=int)
    if received is None:
        return None
    return reports.urgent_receipt(db.session, current_user, found, received)


@bp.route("/units/<any(class, room):kind>/<int:unit_id>/zero-report", methods=["POST"])
@require_roles(Role.CLASS_COMMITTEE, Role.DORM_INFORMANT)
def zero_report(kind: str, unit_id: int):
    """ "All is well" for the week; with a note typed or a student named, it asks which was
    meant: the note was dropped and a zero report filed, with no way to amend it."""
    found = _unit_or_404(kind, unit_id)
    form = _weekly_form(reports.roster(db.session, current_user, found))
    form.validate()  # for what was typed and its errors list; filing is not this form's
    if (form.note.data or "").strip() or request.form.getlist(form.students.name):
        form.note.errors = []
        add_error(
            form.note,
            _("You wrote a note: send it as this week's report, or clear it to say all is well."),
        )
        return unit(kind, unit_id, weekly_form=form), 400
    _file_weekly(found, zero=True, note=None, students=[])
    return redirect(url_for("warning.unit", kind=kind, unit_id=unit_id))


@bp.route("/units/<any(class, room):kind>/<int:unit_id>/weekly-report", methods=["POST"])
@require_roles(Role.CLASS_COMMITTEE, Role.DORM_INFORMANT)
def weekly_report(kind: str, unit_id: int):
    found = _unit_or_404(kind, unit_id)
    form = _weekly_form(reports.roster(db.session, current_user, found))
    if not form.validate_on_submit():
        return unit(kind, unit_id, weekly_form=form), 400
    # The choices are the unit's roster, so every named id was checked against it by the form.
    named = [
        reports.roster_student(db.session, current_user, found, i) for i in form.students.data or []
    ]
    _file_weekly(found, zero=False, note=form.note.data, students=named)
    return redirect(url_for("warning.unit", kind=kind, unit_id=unit_id))


def _file_weekly(found: reports.ReportingUnit, *, zero: bool, note: str | None, students) -> None:
    try:
        reports.file_weekly_report(
            db.session,
            user=current_user,
            unit=found,
            week=_this_week(found),
            zero_report=zero,
            note=note,
            now=clock.now(),
            students=students,
        )
    except reports.ReportError as exc:
        flash(refusal_text(exc), "error")
    else:
        if zero:
            flash(_("Thank you. This week's report is filed."), "success")
        else:  # the reporter should know whose eyes a note reaches (`reports.tell_note`)
            flash(
                _(
                    "Thank you. This week's report is filed; the counsellors responsible are told "
                    "there is a note to read."
                ),
                "success",
            )


@bp.route("/units/<any(class, room):kind>/<int:unit_id>/concern", methods=["POST"])
@require_roles(Role.CLASS_COMMITTEE, Role.DORM_INFORMANT)
def concern(kind: str, unit_id: int):
    found = _unit_or_404(kind, unit_id)
    form = _concern_form(reports.roster(db.session, current_user, found))
    if not form.validate_on_submit():
        return unit(kind, unit_id, concern_form=form), 400
    target = reports.roster_student(db.session, current_user, found, form.student_id.data)
    # The form's required choice of the unit's roster refused a missing or foreign student.
    assert target is not None
    try:
        filed = reports.file_concern_report(
            db.session,
            user=current_user,
            unit=found,
            student=target,
            category=form.category.data,
            text=form.text.data or "",  # may be empty when someone is in danger now
            now=clock.now(),
            submission=filled(form.submission),
        )
    except Refused as refusal:  # a token that is not this person's form
        flash(refusal.message.shown(), "error")
    else:
        if reports.graded_red(db.session, filed):
            # What to do now, on the page itself (a refresh or Back keeps it): the reporter chose
            # the category, so it reveals nothing; a double submit lands on the same receipt.
            return redirect(url_for("warning.unit", kind=kind, unit_id=unit_id, received=filed.id))
        # Otherwise the same receipt whatever the level, so it never hints at one; no promise of who
        # acts: a blue concern stays with the class and dorm tiers and no department counsellor
        # is told of it, so "passed on to the department" was false.
        flash(
            _(
                "Thank you. Your concern was received, and the teachers responsible will follow "
                "it up. If you are asked to help, it will appear under Tasks."
            ),
            "success",
        )
    return redirect(url_for("warning.unit", kind=kind, unit_id=unit_id))


# --------------------------------------------------------------------------------------------------
# Department and school staff: the class and dorm weekly reports
# --------------------------------------------------------------------------------------------------


def _report_weeks(institution_id: int) -> tuple[date, date, date]:
    """(newest week shown, this week, first week): Mondays by the viewer's institution's
    calendar; `?week=` (a day, ISO) moves the newest back, never past this week nor before the
    first week there is anything to read (`weekly_reading.first_week`)."""
    zone = clock.institution_zone(current_user.institution)
    current = reports.week_start(clock.local_date(clock.now(), zone))
    first = weekly_reading.first_week(db.session, institution_id, current)
    try:
        asked = date.fromisoformat(request.args.get("week", ""))
    except ValueError:
        return current, current, first
    return max(min(reports.week_start(asked), current), first), current, first


@bp.route("/weekly-reports")
@require_roles(*permissions.WEEKLY_REPORT_READERS)
def weekly_reports():
    department_id = _int_arg("department", 1, 2**31)
    units = weekly_reading.units_in_reach(db.session, current_user, department_id)
    return _weekly_page(
        units,
        weekly_reading.WEEKS_SHOWN,
        institution_id=current_user.institution_id,
        detail=f"department={department_id}",
        unit=None,
        departments=queue.departments(db.session, current_user),
        department_id=department_id,
    )


@bp.route("/weekly-reports/<any(class, room):kind>/<int:unit_id>")
@require_roles(*permissions.WEEKLY_REPORT_READERS)
def unit_reports(kind: str, unit_id: int):
    found = weekly_reading.unit_in_reach(db.session, current_user, kind, unit_id)
    if found is None:
        audit.record_denied(db.session, current_user, "weekly_reports", "weekly_report", unit_id)
        abort(404)
    return _weekly_page(
        [found],
        weekly_reading.UNIT_WEEKS,
        institution_id=found.institution_id,
        detail=f"{kind}={unit_id}",
        unit=found,
    )


def _weekly_page(units, shown: int, *, institution_id: int, detail: str, **page) -> str:
    """The weekly reports of `units`, `shown` weeks back from the one asked for, each student
    shown audited as read (the department's page and one unit's alike)."""
    newest, current, first = _report_weeks(institution_id)
    # No week before the first with anything to read (?week=1900-01-01 paged into empty weeks
    # back to 1899), and no link to one.
    shown_now = min(shown, (newest - first).days // 7 + 1)
    weeks = weekly_reading.weeks_of(db.session, current_user, units, newest, current, shown_now)
    earlier = newest - timedelta(weeks=shown)
    body = render_template(
        "warning/weekly_reports.html",
        weeks=weeks,
        newest=newest,
        earlier=earlier if earlier >= first else None,
        later=min(newest + timedelta(weeks=shown), current) if newest < current else None,
        concern_labels=CONCERN_LABELS,
        **page,
    )
    audit.record_list_read(
        db.session,
        actor=current_user,
        action="weekly_reports",
        record_type="weekly_report",
        student_ids=weekly_reading.students_shown(db.session, weeks),
        institution_id=institution_id,
        detail=f"{detail} week={newest.isoformat()}",
    )
    return body


# --------------------------------------------------------------------------------------------------
# Administrator: academic import, triage policy
# --------------------------------------------------------------------------------------------------


@bp.route("/academic-import", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def academic_import():
    institution = acting_for.admin_institution()  # the file's student numbers are this one's
    form = AcademicImportForm()
    result, file_error = None, None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            frame = academic.read_academic_table(upload.filename, upload.read())
        except ImportFileError as exc:
            file_error = refusal_text(exc)
        else:
            result = academic.import_academic(
                db.session,
                institution,
                current_user,
                frame,
                thresholds=academic.AcademicThresholds(
                    **current_app.config["WARNING_ACADEMIC_THRESHOLDS"]
                ),
                now=clock.now(),
            )
    failed = file_error or form.errors or (result and not result.imported)
    status = 400 if failed else 200
    return render_template(
        "warning/academic_import.html", form=form, result=result, file_error=file_error
    ), status


@bp.route("/academic-import/template.<fmt>")
@require_roles(Role.ADMIN)
def academic_template(fmt: str):
    """The registrar's file to fill in, with Chinese headers and an example row."""
    return send_template(
        academic.TEMPLATE, fmt, _("academic data template"), "xinqiao-academic-data-template"
    )


def _institution_id() -> int:
    """The institution whose policies the administrator is working on: the one they act for."""
    return acting_for.admin_institution().id


def _version_or_404(version_id: int) -> PolicyVersion:
    found = db.session.scalar(
        select(PolicyVersion).where(
            PolicyVersion.id == version_id, PolicyVersion.institution_id == _institution_id()
        )
    )
    if found is None:
        abort(404)
    return found


# Each kind of policy: its index page and what the pages call it (one draft -> simulate ->
# activate path for both).
_POLICY_PAGES = {
    PolicyKind.TRIAGE: "warning.policy",
    PolicyKind.RESPONSE: "warning.response_policy",
}


def _policy_title(kind: PolicyKind) -> str:
    return _("Triage policy") if kind is PolicyKind.TRIAGE else _("Response policy")


def _in_force(kind: PolicyKind) -> Policy | ResponsePolicy:
    """The institution's policy of `kind` in force (the shipped one until a draft is activated)."""
    if kind is PolicyKind.TRIAGE:
        return services.active_policy(db.session, _institution_id())
    return active_response_policy(db.session, _institution_id())


# Each kind of policy is summed up in words by its own partial, beside its text.
_SUMMARIES = {
    PolicyKind.TRIAGE: "warning/_triage_summary.html",
    PolicyKind.RESPONSE: "warning/_response_summary.html",
}


@bp.route("/policy", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def policy():
    return _policy_index(PolicyKind.TRIAGE)


@bp.route("/response-policy", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def response_policy():
    return _policy_index(PolicyKind.RESPONSE)


def _policy_index(kind: PolicyKind):
    """The versions of one kind of policy, the one in force in words, and a new draft started
    from its text."""
    in_force = _in_force(kind)
    form = PolicyDraftForm()
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            draft = retriage.save_draft(
                db.session,
                institution_id=_institution_id(),
                yaml_text=filled(form.yaml_text),
                actor=current_user,
                kind=kind,
            )
        except retriage.PolicyVersionError as exc:
            errors = exc.errors
        else:
            flash(_("Draft saved."), "success")
            return redirect(url_for("warning.policy_version", version_id=draft.id))
    elif request.method == "GET":
        form.yaml_text.data = retriage.text_in_force(
            db.session, _institution_id(), kind, viewer_locale()
        )
    return render_template(
        "warning/policy.html",
        form=form,
        errors=errors,
        versions=retriage.versions(db.session, _institution_id(), kind),
        active_version=labels.policy_name(in_force.version, kind),
        shown=in_force,
        summary=_SUMMARIES[kind],
        title=_policy_title(kind),
    ), (400 if errors or form.errors else 200)


def _render_version(version: PolicyVersion, form: PolicyDraftForm, **simulation) -> str:
    shown = _policy_or_none(version)
    return render_template(
        "warning/policy_version.html",
        version=version,
        form=form,
        title=_policy_title(version.kind),
        index=_POLICY_PAGES[version.kind],
        shown=shown,
        overlaps=range_overlaps(shown) if isinstance(shown, Policy) else [],
        summary=_SUMMARIES[version.kind],
        **{
            "errors": [],
            "moves": None,
            "response_moves": None,
            "setting_changes": [],
            **simulation,
        },
    )


def _policy_or_none(version: PolicyVersion) -> Policy | ResponsePolicy | None:
    """The policy a stored version's text makes; None while a draft's text is refused (its
    errors are shown instead)."""
    try:
        return retriage.policy_of(version)
    except PolicyError:
        return None


@bp.route("/policy/<int:version_id>", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def policy_version(version_id: int):
    version = _version_or_404(version_id)
    form = PolicyDraftForm(obj=version)
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            retriage.save_draft(
                db.session,
                institution_id=_institution_id(),
                yaml_text=filled(form.yaml_text),
                actor=current_user,
                draft=version,
            )
        except retriage.PolicyVersionError as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            flash(_("Draft saved."), "success")
            return redirect(url_for("warning.policy_version", version_id=version.id))
    return _render_version(version, form, errors=errors), (400 if errors or form.errors else 200)


@bp.route("/policy/<int:version_id>/simulate", methods=["POST"])
@require_roles(Role.ADMIN)
def policy_simulate(version_id: int):
    version = _version_or_404(version_id)
    try:
        draft = retriage.policy_of(version)
    except PolicyError as exc:
        abort(400, pgettext("list separator", "; ").join(shown(e) for e in exc.errors))
    simulation: dict[str, object]
    if isinstance(draft, ResponsePolicy):  # a version of kind RESPONSE
        active = active_response_policy(db.session, _institution_id())
        simulation = {
            "response_moves": retriage.simulate_response(
                db.session, institution_id=_institution_id(), draft=draft
            ),
            # Every setting the draft changes, now and under the draft: those no open warning
            # shows (a reminder interval, the follow-up after a discharge) as well as the rest.
            "setting_changes": setting_changes(active, draft),
        }
    else:
        simulation = {
            "moves": retriage.simulate(
                db.session, institution_id=_institution_id(), draft=draft, now=clock.now()
            )
        }
    db.session.rollback()  # a simulation writes nothing, whatever happened above
    return _render_version(version, PolicyDraftForm(obj=version, formdata=None), **simulation)


@bp.route("/policy/<int:version_id>/activate", methods=["POST"])
@require_roles(Role.ADMIN)
def policy_activate(version_id: int):
    version = _version_or_404(version_id)
    if version.status != PolicyStatus.DRAFT:
        flash(_("Only a draft can be activated."), "error")
        return redirect(url_for("warning.policy_version", version_id=version.id))
    try:
        retriage.activate(db.session, draft=version, actor=current_user, now=clock.now())
    except retriage.PolicyVersionError as exc:
        db.session.rollback()
        flash(
            _(
                "This draft cannot be activated: %(problems)s",
                problems=pgettext("list separator", "; ").join(shown(e) for e in exc.errors),
            ),
            "error",
        )
    else:
        flash(_activated(version), "success")
    return redirect(url_for("warning.policy_version", version_id=version.id))


def _activated(version: PolicyVersion) -> str:
    if version.kind is PolicyKind.RESPONSE:
        return _(
            "%(policy)s is active. Deadlines set from now on follow it.",
            policy=labels.policy_name(version.version, version.kind),
        )
    # Not "run a re-triage": the scheduler's sweep re-triages every campus on its next run.
    return _(
        "%(policy)s is active. New signals are graded by it at once, and every student's level is "
        "checked again under it at the system's next scheduled run.",
        policy=labels.policy_name(version.version, version.kind),
    )
