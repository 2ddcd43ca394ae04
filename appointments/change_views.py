"""Pages of appointment changes: the student's appointments and waitlist, cancel and move, join
and answer the waitlist, and the director's list of students whose booking is by the centre
only. Thin: parse, load in scope, call `appointments.changes` / `appointments.waitlist`."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from appointments import booking
from appointments import change_permissions as permissions
from appointments import changes
from appointments import rearrange
from appointments import seats
from appointments import waitlist
from appointments.availability_forms import REASON_LABELS
from appointments.booking_views import STATE_WORDS
from appointments.change_forms import KIND_LABELS
from appointments.change_forms import CentreCancelForm
from appointments.change_forms import LiftForm
from appointments.change_forms import RescheduleForm
from appointments.change_forms import StudentCancelForm
from appointments.change_forms import WaitlistForm
from appointments.changes import ChangeError
from appointments.changes import LateCancellationUnconfirmed
from appointments.models import Appointment
from appointments.models import AppointmentCancellation
from appointments.models import AppointmentState
from appointments.models import CounsellorProfile
from appointments.models import SessionKind
from appointments.models import Slot
from appointments.models import WaitlistEntry
from appointments.models import WaitlistState
from campus import audit
from campus import clock
from campus import workbench
from campus.access import load_or_404
from campus.access import own_student_or_404
from campus.centre_phone import on_duty_phone
from campus.extensions import db
from campus.forms import add_error
from campus.i18n import refusal_text
from campus.local_time import due_words
from campus.models import Institution
from campus.models import Student
from campus.models import User
from campus.permissions import require_roles
from campus.scope import institution_ids

bp = Blueprint("appointment_changes", __name__, url_prefix="/appointments/changes")


def _student_of(session: Session, user: User) -> Student | None:
    return session.scalar(select(Student).where(Student.user_id == user.id))


def _appointment(appointment_id: int) -> Appointment:
    """The appointment if the viewer may open it (their own, or their centre's); a forged or
    out-of-scope id is the same 404 as a missing one, audited. Staff reads are audited."""
    return load_or_404(
        Appointment,
        appointment_id,
        permissions.appointment_scope(current_user),
        action="appointment_read",
        record_type="appointment",
        audit_read=not current_user.has_role(*permissions.STUDENT_ROLES),
    )


def _entry(entry_id: int) -> WaitlistEntry:
    entry = waitlist.entry_for(db.session, current_user, entry_id)
    if entry is None:
        audit.record_denied(db.session, current_user, "waitlist_read", "waitlist", entry_id)
        abort(404)
    return entry


def centre_phone(student: Student) -> str | None:
    """The phone a barred student calls: their institution's on-duty phone, else the app's."""
    return on_duty_phone(db.session.get(Institution, student.institution_id))


def student_panel(student: Student) -> dict[str, object]:
    """What the student's partials show: upcoming appointments, the waitlist entry (and its
    offer), and the booking bar. The booking helper's "my appointments" page may include
    `appointments/changes/_panel.html` with this as `changes_panel`."""
    now = clock.now()
    upcoming = booking.upcoming(db.session, student, now)
    return {
        "upcoming": upcoming,
        "late": {a.id: changes.is_late(a, now) for a in upcoming},
        "entry": waitlist.open_entry(db.session, student),
        "bar": changes.booking_bar(db.session, student, now),
        "centre_phone": centre_phone(student),
        "cancel_hours": current_app.config["BOOKING_CANCEL_HOURS"],
        "now": now,
    }


def current_student_panel() -> dict[str, object]:
    """`student_panel` of the signed-in student (a template global for the booking pages)."""
    return student_panel(own_student_or_404())


def session_kind_label(slot: Slot, student_id: int) -> str:
    """The kind of session `slot` is for the student coming to it (a template global): a
    first-visit time is a follow-up for a student who came before (`booking.visit_kind`)."""
    return str(KIND_LABELS[booking.visit_kind_for(db.session, student_id, slot)])


@bp.route("")
@require_roles(*permissions.STUDENT_ROLES)
def mine() -> str:
    return render_template(
        "appointments/changes/mine.html", changes_panel=student_panel(own_student_or_404())
    )


@bp.route("/to-rearrange")
@require_roles(*permissions.CENTRE_ROLES)
def to_rearrange() -> str:
    """The centre's booked appointments still to come that cannot go ahead as booked: their
    counsellor has left or is away then, or the centre is closed that day (`rearrange`). None is
    cancelled or moved by itself; each links to its page to be moved or cancelled with the
    student told. Only the centre's own (those who may change them) see it, audited."""
    centre = institution_ids(current_user, *permissions.CENTRE_ROLES)
    rows = rearrange.to_rearrange(db.session, centre, clock.now())
    audit.record_list_read(
        db.session,
        actor=current_user,
        action="list_to_rearrange",
        record_type="appointment",
        student_ids=[row.appointment.student_id for row in rows],
        institution_id=current_user.institution_id,
    )
    return render_template(
        "appointments/changes/to_rearrange.html",
        rows=rows,
        why=rearrange.Why,
        reason_labels=REASON_LABELS,
    )


@bp.route("/<int:appointment_id>")
@require_roles(*permissions.CHANGE_ROLES)
def show(appointment_id: int) -> str:
    """One appointment: when, where, with whom; for a cancelled one, who cancelled and why."""
    appointment = _appointment(appointment_id)
    cancellation = db.session.scalar(
        select(AppointmentCancellation).where(
            AppointmentCancellation.appointment_id == appointment.id
        )
    )
    return render_template(
        "appointments/changes/show.html",
        appointment=appointment,
        cancellation=cancellation,
        moved=changes.moved_to(db.session, appointment) if cancellation else None,
        own=permissions.is_own(current_user, appointment),
        late=changes.is_late(appointment, clock.now()),
    )


@bp.route("/<int:appointment_id>/cancel", methods=["GET", "POST"])
@require_roles(*permissions.CHANGE_ROLES)
def cancel(appointment_id: int) -> str | Response | tuple[str, int]:
    appointment = _appointment(appointment_id)
    own = permissions.is_own(current_user, appointment)
    if appointment.state != AppointmentState.BOOKED:
        return _gone(appointment, own, _("Cancel the appointment"))
    now = clock.now()
    form: StudentCancelForm | CentreCancelForm = StudentCancelForm() if own else CentreCancelForm()
    late = own and changes.is_late(appointment, now)
    if form.validate_on_submit():
        try:
            if isinstance(form, CentreCancelForm):
                changes.cancel(
                    db.session,
                    current_user,
                    appointment,
                    now,
                    reason=form.reason.data or "",
                    withdraw_slot=bool(form.withdraw_slot.data),
                )
            else:
                changes.cancel(
                    db.session,
                    current_user,
                    appointment,
                    now,
                    late_confirmed=bool(form.late_confirmed.data),
                )
        except LateCancellationUnconfirmed as exc:
            assert isinstance(form, StudentCancelForm)
            add_error(form.late_confirmed, refusal_text(exc))
        except ChangeError as exc:
            flash(refusal_text(exc), "error")
            return redirect(_back(appointment, own))
        else:
            flash(_("The appointment is cancelled."), "success")
            return redirect(_back(appointment, own))
    return render_template(
        "appointments/changes/cancel.html",
        appointment=appointment,
        form=form,
        own=own,
        late=late,
        hours=current_app.config["BOOKING_CANCEL_HOURS"],
    )


def _gone(appointment: Appointment, own: bool, title: str) -> tuple[str, int]:
    """The cancel or move page of an appointment no longer booked (Back to an old page, a second
    tab): what became of it — moved (to which time, now), cancelled, or held — and a link to the
    booking that stands instead of a form. A form sent here changes nothing (409)."""
    page = render_template(
        "appointments/changes/gone.html",
        appointment=appointment,
        own=own,
        title=title,
        moved=changes.moved_to(db.session, appointment),
        state_words=STATE_WORDS,
    )
    return page, 409 if request.method == "POST" else 200


def _back(appointment: Appointment, own: bool) -> str:
    return url_for(".mine") if own else url_for(".show", appointment_id=appointment.id)


@bp.route("/<int:appointment_id>/reschedule", methods=["GET", "POST"])
@require_roles(*permissions.CHANGE_ROLES)
def reschedule(appointment_id: int) -> str | Response | tuple[str, int]:
    appointment = _appointment(appointment_id)
    own = permissions.is_own(current_user, appointment)
    if appointment.state != AppointmentState.BOOKED:
        return _gone(appointment, own, _("Change the time"))
    now = clock.now()
    form = RescheduleForm()
    free = seats.free_seats(
        db.session,
        appointment.institution_id,
        now,
        for_student_id=appointment.student_id,
        where=Slot.kind == appointment.slot.kind,
    )
    free = [f for f in free if f.slot.id != appointment.slot_id]
    form.slot.choices = [(f.slot.id, "") for f in free]
    if request.method == "POST":
        if not form.validate():
            add_error(form.slot, _("Choose one of the free times listed."))
        else:
            slot = db.session.get(Slot, form.slot.data) if form.slot.data else None
            try:
                changes.reschedule(db.session, current_user, appointment, slot, now)
            except ChangeError as exc:
                add_error(form.slot, refusal_text(exc))
            else:
                flash(_("The appointment is moved to the new time."), "success")
                return redirect(_back(appointment, own))
    blocked = None
    if own:
        try:
            # The limits that do not depend on the chosen time, said before the student chooses.
            if (
                changes.is_late(appointment, now)
                or changes.reschedules_left(db.session, appointment) <= 0
                or not changes.may_self_book(db.session, appointment.student, now)
            ):
                changes.check_reschedule(db.session, current_user, appointment, None, now)
        except ChangeError as exc:
            blocked = refusal_text(exc)
    return render_template(
        "appointments/changes/reschedule.html",
        appointment=appointment,
        form=form,
        free=free,
        blocked=blocked,
        left=changes.reschedules_left(db.session, appointment) if own else None,
    )


# --------------------------------------------------------------------------------------------------
# The waitlist
# --------------------------------------------------------------------------------------------------


def _counsellor_choices(institution_id: int) -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(User.id, User.name)
        .join(CounsellorProfile, CounsellorProfile.user_id == User.id)
        .where(CounsellorProfile.institution_id == institution_id)
        .order_by(User.name)
    ).tuples()
    return [("", _("Anyone"))] + [(str(user_id), name) for user_id, name in rows]


@bp.route("/waitlist", methods=["GET", "POST"])
@require_roles(*permissions.STUDENT_ROLES)
def join() -> str | Response:
    student = own_student_or_404()
    form = WaitlistForm()
    form.counsellor.choices = _counsellor_choices(student.institution_id)
    allowed = {value for value, _label in form.counsellor.choices}
    if form.validate_on_submit():
        if (form.counsellor.data or "") not in allowed:
            add_error(form.counsellor, _("Choose a counsellor from the list."))
        else:
            wishes = waitlist.Wishes(
                kind=SessionKind(form.kind.data) if form.kind.data else None,
                counsellor_gender=form.counsellor_gender.data or "",
                counsellor_id=int(form.counsellor.data) if form.counsellor.data else None,
                earliest_on=form.earliest_on.data,
                latest_on=form.latest_on.data,
            )
            try:
                waitlist.join(db.session, current_user, student, wishes, clock.now())
            except ChangeError as exc:
                flash(refusal_text(exc), "error")
            else:
                flash(
                    _("You are on the waitlist. We will tell you as soon as a time is free."),
                    "success",
                )
                return redirect(url_for(".mine"))
    return render_template(
        "appointments/changes/join.html", form=form, changes_panel=student_panel(student)
    )


def _answer(entry_id: int, action: str) -> Response:
    entry = _entry(entry_id)
    try:
        if action == "accept":
            waitlist.accept(db.session, current_user, entry, clock.now())
            flash(_("The time is booked for you."), "success")
        elif action == "decline":
            waitlist.decline(db.session, current_user, entry, clock.now())
            flash(_("You declined this time and stay on the waitlist."), "success")
        else:
            waitlist.leave(db.session, current_user, entry, clock.now())
            flash(_("You have left the waitlist."), "success")
    except ChangeError as exc:
        flash(refusal_text(exc), "error")
    return redirect(url_for(".mine"))


@bp.route("/waitlist/<int:entry_id>/accept", methods=["POST"])
@require_roles(*permissions.STUDENT_ROLES)
def accept(entry_id: int) -> Response:
    return _answer(entry_id, "accept")


@bp.route("/waitlist/<int:entry_id>/decline", methods=["POST"])
@require_roles(*permissions.STUDENT_ROLES)
def decline(entry_id: int) -> Response:
    return _answer(entry_id, "decline")


@bp.route("/waitlist/<int:entry_id>/leave", methods=["POST"])
@require_roles(*permissions.STUDENT_ROLES)
def leave(entry_id: int) -> Response:
    return _answer(entry_id, "leave")


# --------------------------------------------------------------------------------------------------
# The director: booking by the centre only
# --------------------------------------------------------------------------------------------------


@bp.route("/barred")
@require_roles(*permissions.LIFT_ROLES)
def barred() -> str:
    """Students whose misses leave booking to the centre, per institution the director runs;
    the list names students, so it is audited."""
    now = clock.now()
    schools = institution_ids(current_user, *permissions.LIFT_ROLES)
    rows = [
        (db.session.get_one(Institution, i), changes.barred_students(db.session, i, now))
        for i in schools
    ]
    for _institution, students in rows:
        for barred_student in students:
            audit.record_on(
                db.session,
                barred_student.student,
                actor=current_user,
                action="booking_bars_read",
                record_type="student",
            )
    db.session.commit()
    return render_template(
        "appointments/changes/barred.html",
        rows=rows,
        form=LiftForm(),
        limit=current_app.config["NO_SHOW_LIMIT"],
        days=current_app.config["NO_SHOW_WINDOW_DAYS"],
    )


@bp.route("/barred/<int:student_id>/lift", methods=["POST"])
@require_roles(*permissions.LIFT_ROLES)
def lift(student_id: int) -> Response:
    schools = institution_ids(current_user, *permissions.LIFT_ROLES)
    student = db.session.scalar(
        select(Student).where(Student.id == student_id, Student.institution_id.in_(schools))
    )
    if student is None:
        audit.record_denied(db.session, current_user, "booking_bar.lift", "student", student_id)
        abort(404)
    form = LiftForm()
    if not form.validate_on_submit():
        flash(_("Say why the bar is lifted (at most 300 characters)."), "error")
        return redirect(url_for(".barred"))
    try:
        changes.lift_bar(db.session, current_user, student, form.reason.data or "", clock.now())
    except ChangeError as exc:
        flash(refusal_text(exc), "error")
    else:
        flash(_("%(name)s may book for themself again.", name=student.name), "success")
    return redirect(url_for(".barred"))


def student_workbench_items(session: Session, user: User, now: datetime) -> list[workbench.Item]:
    """The student's home page: a time the waitlist holds for them (it goes to the next student
    when the hold ends), and their next appointment, with where and with whom."""
    student = _student_of(session, user)
    if student is None:
        return []
    items = []
    entry = waitlist.open_entry(session, student)
    if entry is not None and entry.state == WaitlistState.OFFERED and entry.offer_expires_at:
        items.append(
            workbench.Item(
                1,
                _("A counselling time is held for you"),
                url_for("appointment_changes.mine", _anchor="offer-title"),
                workbench.Urgency.TODAY,  # first among the student's lines (order), not red
                _(
                    "Accept or decline it by %(until)s; after that it goes to the next student.",
                    until=due_words(entry.offer_expires_at, now),
                ),
            )
        )
    upcoming = session.scalar(
        booking.upcoming_query(student, now)
        .options(joinedload(Appointment.slot).joinedload(Slot.counsellor))
        .limit(1)
    )
    if upcoming is not None:
        zone = clock.viewer_zone()
        today = clock.local_date(upcoming.starts_at, zone) == clock.local_date(now, zone)
        slot = upcoming.slot
        items.append(
            workbench.Item(
                1,
                _(
                    "Your next counselling session: %(when)s",
                    when=due_words(upcoming.starts_at, now),
                ),
                url_for("appointment_changes.show", appointment_id=upcoming.id),
                workbench.Urgency.TODAY if today else workbench.Urgency.INFO,
                # As the booking pages show a time (appointments/_slot.html).
                " · ".join(
                    [_("Counsellor: %(name)s", name=slot.counsellor.name)]
                    + ([_("Room: %(room)s", room=slot.room)] if slot.room else [])
                ),
            )
        )
    return items
