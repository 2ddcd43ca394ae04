"""Pages of the counsellors' time: a school counsellor's own availability, the director's view of
every counsellor (and their profiles), the administrator's academic calendar. Thin: parse, load
in scope, call `appointments.availability`, render."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from datetime import datetime
from datetime import timedelta

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments import availability
from appointments.availability import AvailabilityError
from appointments.availability import Changed
from appointments.availability_forms import GENDER_LABELS
from appointments.availability_forms import KIND_LABELS
from appointments.availability_forms import REASON_LABELS
from appointments.availability_forms import WEEKDAY_LABELS
from appointments.availability_forms import BreakForm
from appointments.availability_forms import ExceptionForm
from appointments.availability_forms import ProfileForm
from appointments.availability_forms import RemoveForm
from appointments.availability_forms import TemplateForm
from appointments.models import Appointment
from appointments.models import AvailabilityException
from appointments.models import AvailabilityTemplate
from appointments.models import SlotState
from appointments.permissions import AVAILABILITY_EDITORS
from appointments.permissions import CALENDAR_KEEPERS
from appointments.permissions import CENTRE_MANAGERS
from appointments.permissions import COUNSELLOR_ROLES
from appointments.permissions import editable_counsellors
from appointments.permissions import manages_centre
from campus import acting_for
from campus import audit
from campus import clock
from campus import workbench
from campus.extensions import db
from campus.forms import add_error
from campus.forms import filled
from campus.local_time import due_words
from campus.models import User
from campus.outcomes import Refused
from campus.permissions import require_roles

bp = Blueprint("availability", __name__, url_prefix="/appointments/availability")
# One page holds both forms, and both have times: their fields are told apart by a prefix.
TEMPLATE_PREFIX = "weekly"
EXCEPTION_PREFIX = "away"
# The page's list of booked sessions in time away, where the confirmation and the home page lead.
CLASHES_ANCHOR = "clashes"


def _weeks_ahead() -> int:
    return int(current_app.config["BOOKING_OPENS_WEEKS_AHEAD"])


def _today() -> date:
    return clock.local_date(clock.now(), clock.viewer_zone())


# --------------------------------------------------------------------------------------------------
# Loaders: out of scope is the same 404 as missing, and the denial is audited
# --------------------------------------------------------------------------------------------------


def _denied(record_type: str, record_id: int) -> None:
    audit.record_denied(db.session, current_user, "availability", record_type, record_id)
    abort(404)


def _counsellor_or_404(counsellor_id: int) -> User:
    counsellor = db.session.scalar(
        select(User).where(User.id == counsellor_id, editable_counsellors(current_user))
    )
    if counsellor is None:
        _denied("counsellor", counsellor_id)
    assert counsellor is not None  # _denied aborts
    return counsellor


def _template_or_404(template_id: int) -> AvailabilityTemplate:
    template = db.session.scalar(
        select(AvailabilityTemplate)
        .join(User, User.id == AvailabilityTemplate.counsellor_id)
        .where(AvailabilityTemplate.id == template_id, editable_counsellors(current_user))
    )
    if template is None:
        _denied("availability_template", template_id)
    assert template is not None
    return template


def _exception_or_404(exception_id: int) -> AvailabilityException:
    row = db.session.scalar(
        select(AvailabilityException)
        .join(User, User.id == AvailabilityException.counsellor_id)
        .where(AvailabilityException.id == exception_id, editable_counsellors(current_user))
    )
    if row is None:
        _denied("availability_exception", exception_id)
    assert row is not None
    return row


# --------------------------------------------------------------------------------------------------
# A counsellor's page
# --------------------------------------------------------------------------------------------------


@bp.route("/")
@require_roles(*AVAILABILITY_EDITORS)
def mine() -> ResponseReturnValue:
    """A school counsellor's own availability; the director goes to every counsellor's."""
    if not current_user.has_role(*COUNSELLOR_ROLES):
        return redirect(url_for("availability.counsellors"))
    return _counsellor_page(_counsellor_or_404(current_user.id))


@bp.route("/counsellors/<int:counsellor_id>")
@require_roles(*AVAILABILITY_EDITORS)
def counsellor(counsellor_id: int) -> ResponseReturnValue:
    return _counsellor_page(_counsellor_or_404(counsellor_id))


def _template_form() -> TemplateForm:
    form = TemplateForm(prefix=TEMPLATE_PREFIX)
    if form.valid_from.data is None:
        form.valid_from.data = _today()
    return form


def _profile_form(counsellor: User, formdata: bool = False) -> ProfileForm:
    form = ProfileForm() if formdata else ProfileForm(formdata=None)
    choices = [(0, _("No supervisor"))]
    choices += [
        (u.id, u.name)
        for u in availability.supervisors(db.session, counsellor.institution_id)
        if u.id != counsellor.id
    ]
    form.supervisor_id.choices = choices
    if not formdata:
        profile = availability.profile_of(db.session, counsellor)
        if profile is not None:
            form.gender.data = profile.gender
            form.is_trainee.data = profile.is_trainee
            form.supervisor_id.data = profile.supervisor_id or 0
            form.fte.data = profile.fte
    return form


def _counsellor_page(
    counsellor: User,
    status: int = 200,
    *,
    template_form: TemplateForm | None = None,
    exception_form: ExceptionForm | None = None,
    profile_form: ProfileForm | None = None,
) -> ResponseReturnValue:
    today = _today()
    now = clock.now()
    is_own = counsellor.id == current_user.id
    may_profile = manages_centre(current_user, counsellor.institution_id)
    if template_form is None:
        template_form = TemplateForm(formdata=None, prefix=TEMPLATE_PREFIX).issued()
        template_form.valid_from.data = today
    if exception_form is None:
        exception_form = ExceptionForm(formdata=None, prefix=EXCEPTION_PREFIX)
    if may_profile and profile_form is None:
        profile_form = _profile_form(counsellor)
    slots = availability.coming_slots(db.session, counsellor.id, now)
    clashes = _clashes_read(counsellor)
    clashes_by_slot: dict[int, list[Appointment]] = {}
    for appointment in clashes:
        clashes_by_slot.setdefault(appointment.slot_id, []).append(appointment)
    days: dict[date, list[availability.ComingSlot]] = {}
    zone = clock.viewer_zone()
    for coming in slots:
        days.setdefault(clock.local_date(coming.slot.starts_at, zone), []).append(coming)
    body = render_template(
        "appointments/availability/counsellor.html",
        counsellor=counsellor,
        is_own=is_own,
        templates=availability.templates_of(db.session, [counsellor.id]),
        exceptions=availability.exceptions_of(db.session, counsellor.id, today),
        breaks=availability.breaks_of(db.session, counsellor.institution_id, today),
        days=days,
        clashes=clashes,
        clashes_by_slot=clashes_by_slot,
        template_form=template_form,
        exception_form=exception_form,
        profile_form=profile_form if may_profile else None,
        remove_form=RemoveForm(formdata=None),
        weekday_labels=WEEKDAY_LABELS,
        kind_labels=KIND_LABELS,
        reason_labels=REASON_LABELS,
        open_state=SlotState.OPEN,
        until=today + timedelta(days=13),
    )
    return body, status


def _clashes_read(counsellor: User) -> list[Appointment]:
    """The booked sessions in the counsellor's time away; the page names their students, so the
    read is audited (only when there are any: without a clash no student is shown)."""
    clashes = availability.clashing_with_time_away(db.session, counsellor, clock.now())
    if clashes:
        audit.record_list_read(
            db.session,
            actor=current_user,
            action="list_away_clashes",
            record_type="appointment",
            student_ids=[appointment.student_id for appointment in clashes],
            institution_id=counsellor.institution_id,
        )
    return clashes


def workbench_items(session: Session, user: User, now: datetime) -> list[workbench.Item]:
    """The counsellor's home page: her booked sessions that fall in her time away, leading to
    the list of them on her availability page. Counted, not named: no student is read here."""
    clashes = availability.clashing_with_time_away(session, user, now)
    if not clashes:
        return []
    return [
        workbench.Item(
            len(clashes),
            ngettext(
                "%(num)d booked session falls in your time away: change its time with the student",
                "%(num)d booked sessions fall in your time away: change their times with the "
                "students",
                len(clashes),
            ),
            url_for("availability.mine", _anchor=CLASHES_ANCHOR),
            workbench.Urgency.TODAY,
            _("The earliest is %(when)s.", when=due_words(clashes[0].starts_at, now)),
        )
    ]


def _booked_in_this_time(count: int) -> str:
    return ngettext(
        "%(num)d booked session falls in this time: it stays booked; arrange it with the student.",
        "%(num)d booked sessions fall in this time: they stay booked; arrange them with "
        "the students.",
        count,
    )


def _booked_in_this_break(count: int) -> str:
    # The administrator keeps the calendar; the centre arranges the sessions, from its list.
    return ngettext(
        "%(num)d booked session falls in this break: it stays booked, and the counselling "
        "centre finds it on its list of appointments to rearrange.",
        "%(num)d booked sessions fall in this break: they stay booked, and the counselling "
        "centre finds them on its list of appointments to rearrange.",
        count,
    )


def _after_change(
    changed: Changed, done: str, booked: Callable[[int], str] = _booked_in_this_time
) -> None:
    """Flash what a change did, and the booked sessions it could not withdraw."""
    flash(done, "success")
    if changed.booked_under_cover:
        flash(booked(len(changed.booked_under_cover)), "warning")


@bp.route("/counsellors/<int:counsellor_id>/templates", methods=["POST"])
@require_roles(*AVAILABILITY_EDITORS)
def add_template(counsellor_id: int) -> ResponseReturnValue:
    counsellor = _counsellor_or_404(counsellor_id)
    form = _template_form()
    if not form.validate_on_submit():
        return _counsellor_page(counsellor, 400, template_form=form)
    data = availability.TemplateInput(
        weekday=filled(form.weekday),
        starts=filled(form.starts),
        ends=filled(form.ends),
        session_minutes=filled(form.session_minutes),
        break_minutes=filled(form.break_minutes),
        room=form.room.data or "",
        kind=filled(form.kind),
        capacity=form.capacity.data or 1,
        valid_from=filled(form.valid_from),
        valid_until=form.valid_until.data,
    )
    now = clock.now()
    try:
        _template, added = availability.add_template(
            db.session, current_user, counsellor, data, now, filled(form.submission)
        )
    except AvailabilityError as error:
        add_error(form.starts, error.message.shown())
        return _counsellor_page(counsellor, 400, template_form=form)
    except Refused as refusal:
        add_error(form.submission, refusal.message.shown())
        return _counsellor_page(counsellor, 400, template_form=form)
    if not added:  # the same form again: the first request opened its sessions
        flash(_("Weekly time added."), "success")
        return redirect(url_for("availability.counsellor", counsellor_id=counsellor.id))
    changed = availability.open_open_weeks(db.session, counsellor.institution, now, _weeks_ahead())
    _after_change(
        changed,
        ngettext(
            "Weekly time added: %(num)d session is open for booking.",
            "Weekly time added: %(num)d sessions are open for booking.",
            changed.created,
        ),
    )
    return redirect(url_for("availability.counsellor", counsellor_id=counsellor.id))


@bp.route("/templates/<int:template_id>/remove", methods=["POST"])
@require_roles(*AVAILABILITY_EDITORS)
def remove_template(template_id: int) -> ResponseReturnValue:
    template = _template_or_404(template_id)
    counsellor_id = template.counsellor_id
    if RemoveForm().validate_on_submit():
        changed = availability.remove_template(db.session, current_user, template, clock.now())
        _after_change(changed, _("Weekly time removed; its open sessions are withdrawn."))
    else:
        flash(_("The form had expired; please try again."), "error")
    return redirect(url_for("availability.counsellor", counsellor_id=counsellor_id))


@bp.route("/counsellors/<int:counsellor_id>/exceptions", methods=["POST"])
@require_roles(*AVAILABILITY_EDITORS)
def add_exception(counsellor_id: int) -> ResponseReturnValue:
    counsellor = _counsellor_or_404(counsellor_id)
    form = ExceptionForm(prefix=EXCEPTION_PREFIX)
    if not form.validate_on_submit():
        return _counsellor_page(counsellor, 400, exception_form=form)
    first = filled(form.first_day)
    data = availability.ExceptionInput(
        first_day=first,
        last_day=form.last_day.data or first,
        starts=form.starts.data,
        ends=form.ends.data,
        reason=filled(form.reason),
        note=form.note.data or "",
    )
    try:
        _row, changed = availability.add_exception(
            db.session, current_user, counsellor, data, clock.now()
        )
    except AvailabilityError as error:
        add_error(form.first_day, error.message.shown())
        return _counsellor_page(counsellor, 400, exception_form=form)
    flash(
        ngettext(
            "Time away added: %(num)d open session withdrawn.",
            "Time away added: %(num)d open sessions withdrawn.",
            changed.withdrawn,
        ),
        "success",
    )
    if not changed.booked_under_cover:
        return redirect(url_for("availability.counsellor", counsellor_id=counsellor.id))
    # Booked sessions stay booked: the page lists each with its student and a link to change
    # its time, and this leads straight there.
    count = len(changed.booked_under_cover)
    flash(
        ngettext(
            "%(num)d booked session falls in this time away: it stays booked. Change its time "
            "with the student; it is listed under “Booked sessions in time away”.",
            "%(num)d booked sessions fall in this time away: they stay booked. Change their "
            "times with the students; they are listed under “Booked sessions in time away”.",
            count,
        ),
        "warning",
    )
    return redirect(
        url_for("availability.counsellor", counsellor_id=counsellor.id, _anchor=CLASHES_ANCHOR)
    )


@bp.route("/exceptions/<int:exception_id>/remove", methods=["POST"])
@require_roles(*AVAILABILITY_EDITORS)
def remove_exception(exception_id: int) -> ResponseReturnValue:
    row = _exception_or_404(exception_id)
    counsellor_id = row.counsellor_id
    if RemoveForm().validate_on_submit():
        reopened = availability.remove_exception(db.session, current_user, row, clock.now())
        flash(
            ngettext(
                "Time away removed: %(num)d session open again.",
                "Time away removed: %(num)d sessions open again.",
                reopened,
            ),
            "success",
        )
    else:
        flash(_("The form had expired; please try again."), "error")
    return redirect(url_for("availability.counsellor", counsellor_id=counsellor_id))


@bp.route("/counsellors/<int:counsellor_id>/profile", methods=["POST"])
@require_roles(*CENTRE_MANAGERS)
def save_profile(counsellor_id: int) -> ResponseReturnValue:
    counsellor = _counsellor_or_404(counsellor_id)
    form = _profile_form(counsellor, formdata=True)
    if not form.validate_on_submit():
        return _counsellor_page(counsellor, 400, profile_form=form)
    data = availability.ProfileInput(
        gender=form.gender.data or "",
        is_trainee=bool(form.is_trainee.data),
        supervisor_id=form.supervisor_id.data or None,
        fte=filled(form.fte),
    )
    try:
        availability.save_profile(db.session, current_user, counsellor, data)
    except AvailabilityError as error:
        add_error(form.supervisor_id, error.message.shown())
        return _counsellor_page(counsellor, 400, profile_form=form)
    flash(_("Profile saved."), "success")
    return redirect(url_for("availability.counsellor", counsellor_id=counsellor.id))


# --------------------------------------------------------------------------------------------------
# The director's view of every counsellor
# --------------------------------------------------------------------------------------------------


@bp.route("/counsellors")
@require_roles(*CENTRE_MANAGERS)
def counsellors() -> ResponseReturnValue:
    institution_id = current_user.assignments(*CENTRE_MANAGERS)[0].institution_id
    people = availability.counsellors(db.session, institution_id)
    templates: dict[int, list[AvailabilityTemplate]] = {}
    ids = [p.id for p in people]
    for template in availability.templates_of(db.session, ids):
        templates.setdefault(template.counsellor_id, []).append(template)
    today = _today()
    return render_template(
        "appointments/availability/counsellors.html",
        people=people,
        templates=templates,
        profiles=availability.profiles_of(db.session, ids),
        away=availability.exceptions_of_many(db.session, ids, today),
        weekday_labels=WEEKDAY_LABELS,
        kind_labels=KIND_LABELS,
        reason_labels=REASON_LABELS,
        gender_labels=GENDER_LABELS,
    )


# --------------------------------------------------------------------------------------------------
# The administrator's academic calendar
# --------------------------------------------------------------------------------------------------


@bp.route("/academic-calendar", methods=["GET", "POST"])
@require_roles(*CALENDAR_KEEPERS)
def academic_calendar() -> ResponseReturnValue:
    institution = acting_for.admin_institution()
    form = BreakForm()
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate():
            try:
                _row, changed = availability.add_break(
                    db.session,
                    current_user,
                    institution,
                    form.name.data or "",
                    filled(form.first_day),
                    filled(form.last_day),
                    clock.now(),
                    name_en=form.name_en.data or "",
                )
            except AvailabilityError as error:
                add_error(form.first_day, error.message.shown())
            else:
                _after_change(
                    changed,
                    ngettext(
                        "Break added: %(num)d open session withdrawn.",
                        "Break added: %(num)d open sessions withdrawn.",
                        changed.withdrawn,
                    ),
                    _booked_in_this_break,
                )
                return redirect(url_for("availability.academic_calendar"))
    today = clock.local_date(clock.now(), clock.institution_zone(institution))
    body = render_template(
        "appointments/availability/academic_calendar.html",
        breaks=availability.breaks_of(db.session, institution.id, today),
        form=form,
        remove_form=RemoveForm(formdata=None),
    )
    return body, status


@bp.route("/academic-calendar/<int:break_id>/remove", methods=["POST"])
@require_roles(*CALENDAR_KEEPERS)
def remove_break(break_id: int) -> ResponseReturnValue:
    institution = acting_for.admin_institution()
    row = availability.find_break(db.session, institution, break_id)
    if row is None:
        _denied("academic_break", break_id)
    assert row is not None
    if RemoveForm().validate_on_submit():
        reopened = availability.remove_break(db.session, current_user, row, clock.now())
        flash(
            ngettext(
                "Break removed: %(num)d session open again.",
                "Break removed: %(num)d sessions open again.",
                reopened,
            ),
            "success",
        )
    else:
        flash(_("The form had expired; please try again."), "error")
    return redirect(url_for("availability.academic_calendar"))
