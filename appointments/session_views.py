"""Counselling sessions: the counsellor's day, one session's page (outcome, risk, note, addenda,
next appointment), the supervisor's co-sign list and the centre's appointment figures.

Thin: parse, load in scope (`appointments.session_permissions`), call `appointments.sessions` /
`appointments.figures`, render. Every page that shows a note audits the read first.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload

from appointments import counsellor_day
from appointments import figures
from appointments import sessions
from appointments.booking_permissions import book_for_clause
from appointments.booking_views import precheck_facts
from appointments.booking_views import precheck_of
from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import SessionNote
from appointments.session_forms import ATTENDANCE_LABELS
from appointments.session_forms import NOTE_STATE_LABELS
from appointments.session_forms import RISK_LABELS
from appointments.session_forms import STATE_LABELS
from appointments.session_forms import AddendumForm
from appointments.session_forms import CoSignForm
from appointments.session_forms import NoteForm
from appointments.session_forms import OutcomeForm
from appointments.session_permissions import FIGURE_ROLES
from appointments.session_permissions import SESSION_ROLES
from appointments.session_permissions import appointment_clause
from appointments.session_permissions import can_add_addendum
from appointments.session_permissions import can_record_session
from appointments.session_permissions import note_clause
from campus import acting_for
from campus import audit
from campus import clock
from campus import workbench
from campus.access import load_or_404
from campus.extensions import db
from campus.i18n import shown
from campus.local_time import local_time
from campus.models import Student
from campus.models import User
from campus.permissions import require_roles
from oversight import periods

bp = Blueprint("counselling_sessions", __name__, url_prefix="/appointments/sessions")


def _appointment(appointment_id: int) -> Appointment:
    """The appointment in the viewer's reach, or 404 (the denial audited)."""
    return load_or_404(
        Appointment,
        appointment_id,
        appointment_clause(current_user),
        action="read_session",
        record_type="appointment",
    )


@bp.route("", endpoint="day")
@require_roles(*SESSION_ROLES)
def day():
    """My appointments today and the rest of this week (Monday to Sunday, local), and what is
    still to do for earlier ones: outcomes to record, drafts to sign."""
    zone = clock.viewer_zone()
    today = counsellor_day.day_of(clock.now(), zone)
    monday = today.date - timedelta(days=today.date.weekday())
    start = clock.day_start(monday, zone)
    end = clock.day_start(monday + timedelta(days=7), zone)
    rows = list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.counsellor_id == current_user.id,
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
                appointment_clause(current_user),
            )
            .options(selectinload(Appointment.student))
            .order_by(Appointment.starts_at)
        )
    )
    unrecorded = counsellor_day.unrecorded(db.session, current_user, today)
    drafts = counsellor_day.drafts(db.session, current_user)
    audit.record_list_read(
        db.session,
        actor=current_user,
        action="list_sessions",
        record_type="appointment",
        student_ids=[a.student_id for a in (*unrecorded, *rows)] + [n.student_id for n in drafts],
        detail=f"rows={len(rows)} week={monday.isoformat()}",
    )
    todays = [a for a in rows if clock.local_date(a.starts_at, zone) == today.date]
    later = [a for a in rows if clock.local_date(a.starts_at, zone) > today.date]
    earlier = [a for a in rows if clock.local_date(a.starts_at, zone) < today.date]
    return render_template(
        "appointments/sessions/day.html",
        today=today.date,
        todays=todays,
        later=later,
        earlier=[a for a in earlier if a.state != AppointmentState.BOOKED],
        unrecorded=unrecorded,
        drafts=[n.appointment for n in drafts],
        state_labels=STATE_LABELS,
        awaiting=len(counsellor_day.awaiting_co_sign(db.session, current_user)),
    )


def _next_appointment(appointment: Appointment) -> Appointment | None:
    """The student's next live appointment after this one (any counsellor)."""
    return db.session.scalar(
        select(Appointment)
        .where(
            Appointment.student_id == appointment.student_id,
            Appointment.starts_at > appointment.starts_at,
            Appointment.state == AppointmentState.BOOKED,
        )
        .order_by(Appointment.starts_at)
        .limit(1)
    )


def _next_booking_url(appointment: Appointment) -> str | None:
    """Where the viewer books the student's next session, if they book for this student
    (`booking_permissions.book_for_clause`): the staff booking page, this session's counsellor's
    times first, leading back here."""
    reachable = db.session.scalar(
        select(Student.id).where(
            Student.id == appointment.student_id, book_for_clause(current_user)
        )
    )
    if reachable is None:
        return None
    return url_for(
        "booking.book_for",
        student_id=appointment.student_id,
        counsellor=appointment.counsellor_id,
        back=f"session-{appointment.id}",
    )


def _render_session(
    appointment: Appointment,
    *,
    outcome_form: OutcomeForm | None = None,
    note_form: NoteForm | None = None,
    addendum_form: AddendumForm | None = None,
    status: int = 200,
):
    note = sessions.readable_note(db.session, current_user, appointment)
    if note is not None:
        audit.record_read_on(
            db.session,
            note,
            actor=current_user,
            action="read_session_note",
            record_type="session_note",
            detail=f"appointment={appointment.id} addenda={len(note.addenda)}",
        )
    else:
        audit.record_read_on(
            db.session,
            appointment,
            actor=current_user,
            action="read_session",
            record_type="appointment",
        )
    outcome = sessions.outcome_of(db.session, appointment)
    people: dict[int, str] = dict(
        list(
            db.session.execute(
                select(User.id, User.name).where(
                    User.id.in_(
                        {appointment.counsellor_id}
                        | ({note.author_id, note.co_signed_by_id or 0} if note else set())
                        | ({a.author_id for a in note.addenda} if note else set())
                    )
                )
            ).tuples()
        )
    )
    writer = can_record_session(current_user, appointment)
    check, has_check = precheck_of(appointment)
    next_appointment = _next_appointment(appointment)
    return render_template(
        "appointments/sessions/session.html",
        appointment=appointment,
        student=appointment.student,
        outcome=outcome,
        note=note,
        people=people,
        writer=writer,
        outcome_form=outcome_form or OutcomeForm(),
        note_form=note_form or NoteForm(body=note.body if note and not note.signed else ""),
        addendum_form=addendum_form or AddendumForm().issued(),
        co_sign_form=CoSignForm(),
        may_co_sign=note is not None and sessions.may_co_sign(current_user, note),
        note_reader=sessions.note_reader(db.session, current_user, appointment, note),
        may_add=note is not None and note.signed and can_add_addendum(current_user, note),
        next_appointment=next_appointment,
        booking_url=_next_booking_url(appointment)
        if next_appointment is None and appointment.state != AppointmentState.BOOKED
        else None,
        state_labels=STATE_LABELS,
        note_state_labels=NOTE_STATE_LABELS,
        risk_labels=RISK_LABELS,
        attendance_labels=ATTENDANCE_LABELS,
        begun=sessions.has_begun(appointment, clock.now()),
        precheck=precheck_facts(check) if check is not None else None,
        precheck_out_of_reach=has_check and check is None,
    ), status


@bp.route("/<int:appointment_id>", endpoint="session")
@require_roles(*SESSION_ROLES)
def session_page(appointment_id: int):
    return _render_session(_appointment(appointment_id))


@bp.route("/<int:appointment_id>/outcome", methods=["POST"], endpoint="outcome")
@require_roles(*SESSION_ROLES)
def outcome(appointment_id: int):
    appointment = _appointment(appointment_id)
    form = OutcomeForm()
    if not form.validate():
        return _render_session(appointment, outcome_form=form, status=400)
    risk = form.risk_level.data
    try:
        sessions.record_outcome(
            db.session,
            current_user,
            appointment,
            sessions.Outcome(
                attendance=form.attendance.data or "",
                risk_level=int(risk) if risk not in (None, "", "None") else None,
                reason=form.reason.data or "",
            ),
            clock.now(),
        )
    except sessions.SessionError as error:
        db.session.rollback()
        flash(shown(error.message), "error")
        return _render_session(_appointment(appointment_id), outcome_form=form, status=400)
    flash(_("The outcome is recorded."), "success")
    return redirect(url_for(".session", appointment_id=appointment_id))


@bp.route("/<int:appointment_id>/note", methods=["POST"], endpoint="note")
@require_roles(*SESSION_ROLES)
def note(appointment_id: int):
    appointment = _appointment(appointment_id)
    form = NoteForm()
    if not form.validate():
        return _render_session(appointment, note_form=form, status=400)
    sign = bool(form.sign.data)
    try:
        sessions.save_draft(
            db.session, current_user, appointment, form.body.data or "", clock.now(), sign=sign
        )
    except sessions.SessionError as error:
        db.session.rollback()
        flash(shown(error.message), "error")
        return _render_session(_appointment(appointment_id), note_form=form, status=400)
    flash(_("The note is signed.") if sign else _("The draft is saved."), "success")
    return redirect(url_for(".session", appointment_id=appointment_id))


def _note(appointment_id: int) -> SessionNote:
    """The appointment's note if the viewer may read it, else 404 (the denial audited)."""
    found = db.session.scalar(
        select(SessionNote).where(
            SessionNote.appointment_id == appointment_id, note_clause(current_user)
        )
    )
    if found is None:
        audit.record_denied(
            db.session, current_user, "read_session_note", "session_note", appointment_id
        )
        abort(404)
    return found


@bp.route("/<int:appointment_id>/co-sign", methods=["POST"], endpoint="co_sign")
@require_roles(*SESSION_ROLES)
def co_sign(appointment_id: int):
    found = _note(appointment_id)
    if not CoSignForm().validate():
        abort(400)
    try:
        sessions.co_sign(db.session, current_user, found, clock.now())
    except sessions.SessionError as error:
        db.session.rollback()
        flash(shown(error.message), "error")
        return redirect(url_for(".session", appointment_id=appointment_id))
    flash(_("The note is co-signed."), "success")
    return redirect(url_for(".session", appointment_id=appointment_id))


@bp.route("/<int:appointment_id>/addenda", methods=["POST"], endpoint="addendum")
@require_roles(*SESSION_ROLES)
def addendum(appointment_id: int):
    found = _note(appointment_id)
    form = AddendumForm()
    if not form.validate():
        return _render_session(found.appointment, addendum_form=form, status=400)
    try:
        sessions.add_addendum(
            db.session,
            current_user,
            found,
            form.body.data or "",
            form.submission.data or "",
            clock.now(),
        )
    except sessions.SessionError as error:
        db.session.rollback()
        flash(shown(error.message), "error")
        return _render_session(_note(appointment_id).appointment, addendum_form=form, status=400)
    flash(_("The addendum is added."), "success")
    return redirect(url_for(".session", appointment_id=appointment_id))


@bp.route("/co-sign", endpoint="co_sign_list")
@require_roles(*SESSION_ROLES)
def co_sign_list():
    """Trainees' signed notes awaiting my co-sign (names and dates; the note opens on its page)."""
    notes = counsellor_day.awaiting_co_sign(db.session, current_user)
    audit.record_list_read(
        db.session,
        actor=current_user,
        action="list_notes_to_co_sign",
        record_type="session_note",
        student_ids=[n.student_id for n in notes],
        detail=f"rows={len(notes)}",
    )
    ids = {n.appointment_id for n in notes}
    appointments = {
        a.id: a
        for a in db.session.scalars(
            select(Appointment)
            .where(Appointment.id.in_(ids))
            .options(selectinload(Appointment.student), selectinload(Appointment.counsellor))
        )
    }
    return render_template(
        "appointments/sessions/co_sign.html", notes=notes, appointments=appointments
    )


@bp.route("/figures", endpoint="figures")
@require_roles(*FIGURE_ROLES)
def figures_page():
    """The centre's appointment figures for one term (the dashboard links here)."""
    institution = acting_for.institution_for(*FIGURE_ROLES)
    today = clock.local_date(clock.now(), clock.viewer_zone())
    choices = periods.choices(today)["term"]
    key = request.args.get("term") or choices[0].key
    try:
        term = periods.parse(key)
        if term.kind != "term":
            raise ValueError(key)
    except ValueError:
        flash(_("Choose a term from the list."), "error")
        return redirect(url_for(".figures"))
    window = figures.term_window(institution, term)
    shown_figures = figures.compute(db.session, institution.id, window)
    audit.record_read_on(
        db.session,
        institution,
        actor=current_user,
        action="read_appointment_figures",
        record_type="institution",
        detail=f"term={term.key}",
    )
    return render_template(
        "appointments/sessions/figures.html",
        term=term,
        choices=choices,
        figures=shown_figures,
    )


def workbench_items(session: Session, user: User, now: datetime) -> list[workbench.Item]:
    """The counsellor's home page: today's sessions, and what earlier ones still need. Each line
    links to the list that shows the same rows. Chores, not alarms: they rank after the
    warnings whose clocks are running."""
    zone = clock.viewer_zone()
    found = counsellor_day.counts(session, user, now, zone)
    day_page = url_for("counselling_sessions.day")
    items: list[workbench.Item] = []
    if found.today:
        text = ngettext("%(num)s session today", "%(num)s sessions today", found.today)
        detail = (
            _(
                "The next starts at %(time)s.",
                time=local_time(found.next_start, "HH:mm"),
            )
            if found.next_start
            else ""
        )
        items.append(workbench.Item(found.today, text, day_page, workbench.Urgency.TODAY, detail))
    chores = (
        (
            found.unrecorded,
            ngettext(
                "%(num)s earlier session has no outcome recorded",
                "%(num)s earlier sessions have no outcome recorded",
                found.unrecorded,
            ),
            url_for("counselling_sessions.day", _anchor="unrecorded-h"),
            workbench.Urgency.TODAY,
        ),
        (
            found.drafts,
            ngettext(
                "%(num)s session note is still a draft",
                "%(num)s session notes are still drafts",
                found.drafts,
            ),
            url_for("counselling_sessions.day", _anchor="drafts-h"),
            workbench.Urgency.THIS_WEEK,
        ),
        (
            found.to_co_sign,
            ngettext(
                "%(num)s trainee note awaits your co-sign",
                "%(num)s trainee notes await your co-sign",
                found.to_co_sign,
            ),
            url_for("counselling_sessions.co_sign_list"),
            workbench.Urgency.THIS_WEEK,
        ),
    )
    items += [workbench.Item(n, text, url, urgency) for n, text, url, urgency in chores if n]
    return items
