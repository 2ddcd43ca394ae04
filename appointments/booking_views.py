"""Booking pages (blueprint `booking`, /appointments): a student books on a phone — free times by
day, "the first free time", preferences, the pre-appointment check, the confirmation, "my
appointments" — and staff book for a student from the student file, a warning or an interview.

Thin: each view loads what it may (the student's own records, or `booking_permissions`' scope),
calls `appointments.booking`, and renders.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import date
from datetime import datetime
from datetime import timedelta
from itertools import groupby
from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response
from wtforms import HiddenField

from appointments import booking
from appointments import booking_permissions
from appointments import changes
from appointments import refused_checks
from appointments import urgency
from appointments import waitlist
from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import CounsellorProfile
from appointments.models import PreCheck
from appointments.models import Slot
from appointments.session_permissions import SESSION_ROLES
from campus import access
from campus import audit
from campus import clock
from campus.access import own_student_or_404
from campus.centre_phone import on_duty_phone
from campus.extensions import db
from campus.i18n import N_
from campus.local_time import day_words
from campus.local_time import local_day
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.models import User
from campus.permissions import require_roles
from casework.file_permissions import may_open_file
from screening import intake
from screening.scoring import load_instrument

bp = Blueprint("booking", __name__, url_prefix="/appointments")
STAFF_ROLES = tuple(booking_permissions.BOOK_FOR_ROLES)
GENDERS = {"F": "female", "M": "male"}
STATE_WORDS = {
    AppointmentState.BOOKED: N_("booked"),
    AppointmentState.ATTENDED: N_("attended"),
    AppointmentState.NO_SHOW: N_("missed"),
    AppointmentState.CANCELLED: N_("cancelled"),
    AppointmentState.LATE_CANCELLED: N_("cancelled late"),
}


class TokenForm(FlaskForm):
    """CSRF and the one-time submission token: the questions are rendered from the instruments."""

    token = HiddenField()


# --- the student's pages ----------------------------------------------------------------------


def _preferences(student: Student) -> tuple[str | None, int | None, list[User]]:
    """The gender and "counsellor seen before" asked for in the query string; a counsellor the
    student has not seen is ignored, as is an unknown gender."""
    seen = booking.counsellors_seen(db.session, student)
    gender = request.args.get("gender") or None
    if gender not in GENDERS:
        gender = None
    counsellor_id = request.args.get("counsellor", type=int)
    if counsellor_id not in {c.id for c in seen}:
        counsellor_id = None
    return gender, counsellor_id, seen


@bp.route("/book")
@require_roles(Role.STUDENT)
def book_list() -> str:
    """Free times of the next two weeks by day, with the preferences and "the first free time"."""
    student = own_student_or_404()
    now = clock.now()
    gender, counsellor_id, seen = _preferences(student)
    # A student the centre must see soon is offered the earlier times too; nothing on the page
    # says why (she never reads her level).
    urgent = urgency.urgent(db.session, student.id) is not None
    until = now + timedelta(days=current_app.config["BOOKING_DAYS_AHEAD"])
    slots = booking.free_slots(
        db.session,
        student.institution_id,
        after=now,
        until=until,
        kinds=booking.self_bookable_kinds(counsellor_id, urgent=urgent),
        gender=gender,
        counsellor_id=counsellor_id,
    )
    upcoming = booking.upcoming(db.session, student, now)
    why_empty = (
        {} if slots else _why_empty(student, upcoming, now, until, urgent, gender, counsellor_id)
    )
    return render_template(
        "appointments/book_list.html",
        days=_by_day(slots),
        gender=gender,
        counsellor_id=counsellor_id,
        seen=seen,
        upcoming=upcoming,
        on_duty=_on_duty(student.institution_id),
        **why_empty,
    )


def _why_empty(
    student: Student,
    upcoming: list[Appointment],
    now: datetime,
    until: datetime,
    urgent: bool,
    gender: str | None,
    counsellor_id: int | None,
) -> dict[str, object]:
    """What an empty list says: why it is empty (`booking.NoFreeTime`), and whether she is on the
    waitlist or may join it (not with a time already booked, nor while booking is the
    centre's only)."""
    on_waitlist = waitlist.open_entry(db.session, student) is not None
    return {
        "empty": booking.why_no_free_time(
            db.session,
            student.institution_id,
            after=now,
            until=until,
            urgent=urgent,
            preference=gender is not None or counsellor_id is not None,
        ),
        "on_waitlist": on_waitlist,
        "may_wait": not on_waitlist
        and not upcoming
        and changes.may_self_book(db.session, student, now),
    }


@bp.route("/book/first")
@require_roles(Role.STUDENT)
def book_first() -> Response:
    """The first free time matching the preferences, straight to its pre-check."""
    student = own_student_or_404()
    gender, counsellor_id, _seen = _preferences(student)
    slot = booking.first_free(
        db.session,
        student,
        now=clock.now(),
        gender=gender,
        counsellor_id=counsellor_id,
        urgent=urgency.urgent(db.session, student.id) is not None,
    )
    if slot is None:
        # The list, with her choices, says why nothing was free and what she can do instead.
        flash(_("No time could be booked straight away; see below."), "info")
        return redirect(url_for(".book_list", gender=gender, counsellor=counsellor_id))
    return redirect(url_for(".precheck", slot_id=slot.id))


@bp.route("/book/<int:slot_id>", methods=["GET", "POST"])
@require_roles(Role.STUDENT)
def precheck(slot_id: int) -> str | Response:
    """The pre-appointment check for one time; submitting it books. A refusal redirects to this
    page again (`refused_checks`), which shows why with the answers given: Back never lands on
    a form the browser would offer to resubmit."""
    student = own_student_or_404()
    slot = _slot_or_404(slot_id, student.institution_id)
    form = TokenForm()
    if form.validate_on_submit():
        answers = _answers(request.form)
        token = form.token.data or None
        try:
            appointment = booking.book(
                db.session,
                student=student,
                slot=slot,
                booked_by=current_user,
                kind=slot.kind,
                submission_token=token,
                precheck=answers,
                raised_signal_id=refused_checks.raised_signal(current_user.id, token),
            )
        except booking.BookingError as refused:
            # A safety answer's red warning was committed before this refusal.
            refused_checks.keep(current_user.id, slot.id, token or "", answers, refused)
            return redirect(url_for(".precheck", slot_id=slot.id, refused=1), code=303)
        refused_checks.forget()
        return redirect(url_for(".confirmed", appointment_id=appointment.id))
    kept = refused_checks.kept(current_user.id, slot.id) if request.args.get("refused") else None
    # The refused form's token: booking this or one of the next times re-uses the check already
    # stored rather than raising its signal twice.
    form.token.data = kept.token if kept and kept.token else secrets.token_urlsafe(24)
    messages = [_(problem, **kept.params) for problem in kept.problems] if kept else []
    # Say at once what submitting would be told (taken, passed, a booking already held), with
    # the next free times, rather than after the student has answered every question.
    refusal = _refusal(student, slot)
    # Back after booking, or another time while one is booked: the page shows the booking she
    # holds, with its change of time and its cancelling, instead of a form she cannot send.
    held = (
        booking.upcoming(db.session, student, clock.now())
        if refusal is not None and refusal.code == "limit"
        else []
    )
    if refusal is not None and not held:
        messages.append(_(refusal.message, **refusal.params))
    safety = bool(kept and kept.safety)
    return render_template(
        "appointments/precheck.html",
        slot=slot,
        form=form,
        messages=messages,
        next_free=refusal.next_free if refusal else [],
        answers=kept.answers if kept else None,
        held=held,
        this_one=next((a for a in held if a.slot_id == slot.id), None),
        safety=safety,
        on_duty=_on_duty(slot.institution_id),
        **_questions(),
    )


@bp.route("/<int:appointment_id>/confirmed")
@require_roles(Role.STUDENT)
def confirmed(appointment_id: int) -> str:
    """The confirmation: when, where, with whom; the crisis resources after a safety answer."""
    student = own_student_or_404()
    appointment = db.session.scalar(
        select(Appointment)
        .where(Appointment.id == appointment_id, Appointment.student_id == student.id)
        .options(joinedload(Appointment.slot), joinedload(Appointment.counsellor))
    )
    if appointment is None:
        abort(404)
    check = db.session.scalar(select(PreCheck).where(PreCheck.appointment_id == appointment.id))
    safety = check is not None and check.safety_signal_id is not None
    return render_template(
        "appointments/confirmed.html",
        appointment=appointment,
        safety=safety,
        on_duty=_on_duty(student.institution_id),
    )


@bp.route("/mine")
@require_roles(Role.STUDENT)
def mine() -> str:
    """The student's appointments, upcoming first, then the past ones."""
    student = own_student_or_404()
    now = clock.now()
    rows = list(
        db.session.scalars(
            select(Appointment)
            .where(Appointment.student_id == student.id)
            .options(joinedload(Appointment.slot), joinedload(Appointment.counsellor))
            .order_by(Appointment.starts_at.desc())
        )
    )
    upcoming = [a for a in rows if a.starts_at > now and a.state == AppointmentState.BOOKED]
    past = [a for a in rows if a not in upcoming]
    return render_template(
        "appointments/mine.html",
        upcoming=sorted(upcoming, key=lambda a: a.starts_at),
        past=past,
        # A move cancels the old time: it reads "moved → the new time", not "cancelled".
        moved=changes.moves(
            db.session, [a.id for a in past if a.state == AppointmentState.CANCELLED]
        ),
        state_words=STATE_WORDS,
    )


# --- staff booking for a student ------------------------------------------------------------


def _bookable_student(student_id: int) -> Student:
    """The student if the signed-in staff member may book for them, the read audited (the page
    shows their upcoming appointment); 404 (audited) otherwise."""
    student = db.session.scalar(
        select(Student).where(
            Student.id == student_id, booking_permissions.book_for_clause(current_user)
        )
    )
    if student is None:
        audit.record_denied(db.session, current_user, "book_for", "student", student_id)
        abort(404)
    audit.record_read_on(
        db.session, student, actor=current_user, action="book_for", record_type="student"
    )
    return student


def _came_from(student: Student) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """Where the staff booking pages lead back to: the page the booking link was followed from
    (`?back=` "warning", "file" or "interview-<id>", carried through the confirm step), else the
    student's warning page. The query arguments that carry it on, and the back link (address,
    words); no back link but an interview's for staff who may not open the student's file.
    From a session page ("session-<id>") the counsellor asked for (`?counsellor=`) is carried
    on too, so "other times" keeps preferring their times."""
    raw = request.args.get("back", "")
    if (
        raw.startswith("session-")
        and raw[len("session-") :].isdigit()
        and current_user.has_role(*SESSION_ROLES)
    ):
        url = url_for("counselling_sessions.session", appointment_id=int(raw[len("session-") :]))
        return {"back": raw, **_preferred_args()}, (url, _("Back to the session"))
    if raw.startswith("interview-") and raw[len("interview-") :].isdigit():
        entry_id = int(raw[len("interview-") :])
        url = url_for("interviews.detail", entry_id=entry_id)
        return {"back": raw}, (url, _("Back to the interview"))
    if not may_open_file(current_user, student):
        return {}, None
    if raw == "file":
        url = url_for("casework_file.page", student_id=student.id)
        return {"back": raw}, (url, _("Back to the student file"))
    url = url_for("warning.student", student_id=student.id)
    return ({"back": raw} if raw == "warning" else {}), (url, _("Back to the warning page"))


@bp.route("/for/<int:student_id>")
@require_roles(*STAFF_ROLES)
def book_for(student_id: int) -> str:
    """Free times for a student (first visits and follow-ups), each leading to its confirm step
    (`confirm_for`): tapping a time books nothing. A booking made leads back here with
    `?booked=<id>`: the page opens on what was booked. For a student whose professional
    assessment is owed, the page says whether a free time comes before it, and when none does,
    leads to the counsellor on duty."""
    student = _bookable_student(student_id)
    now = clock.now()
    until = now + timedelta(days=current_app.config["BOOKING_DAYS_AHEAD"])
    slots = booking.free_slots(
        db.session, student.institution_id, after=now, until=until, kinds=booking.INDIVIDUAL
    )
    # A counsellor booking the student's next session from its page sees their own times first;
    # every counsellor's times are one link away (and shown when they have none free).
    preferred = _preferred_counsellor(student)
    own_slots = [s for s in slots if preferred is not None and s.counsellor_id == preferred.id]
    upcoming = booking.upcoming(db.session, student, now)
    booked_id = request.args.get("booked", type=int)
    just_booked = next((a for a in upcoming if a.id == booked_id), None)
    back_args, back_link = _came_from(student)
    return render_template(
        "appointments/book_for.html",
        student=student,
        back_args=back_args,
        back_link=back_link,
        days=_by_day(own_slots or slots),
        preferred=preferred,
        preferred_free=bool(own_slots),
        every_url=url_for(
            ".book_for",
            student_id=student.id,
            **{k: v for k, v in back_args.items() if k != "counsellor"},
        ),
        upcoming=upcoming,
        just_booked=just_booked,
        others=[a for a in upcoming if a is not just_booked],
        **_assessment_timing(student, just_booked or (upcoming[0] if upcoming else None), slots),
    )


@bp.route("/for/<int:student_id>/book/<int:slot_id>", methods=["GET", "POST"])
@require_roles(*STAFF_ROLES)
def confirm_for(student_id: int, slot_id: int) -> str | Response | tuple[str, int]:
    """The confirm step of booking a time for a student: what will be booked (the student, the
    time in words, the place, the counsellor, the kind of session), a button that books it and
    a way back to the other times. Only the button writes. What booking would be told (the time
    taken meanwhile or passed, a booking the student already holds) is said at once, with the
    next free times, each leading to its own confirm step. The form's one-time token makes a
    second submit of it the booking the first one made (`booking.book`), said so: nothing is
    booked twice."""
    student = _bookable_student(student_id)
    slot = _slot_or_404(slot_id, student.institution_id)
    back_args, _back_link = _came_from(student)
    form = TokenForm()
    refusal: booking.BookingError | None = None
    if form.validate_on_submit():
        token = form.token.data or None
        sent_before = booking.booked_with_token(db.session, token)
        try:
            appointment = booking.book(
                db.session,
                student=student,
                slot=slot,
                booked_by=current_user,
                kind=slot.kind,
                submission_token=token,
            )
        except booking.BookingError as refused:
            refusal = refused
        else:
            if sent_before is not None:
                flash(
                    _(
                        "This booking was already made when the form was first sent: nothing was "
                        "booked twice."
                    ),
                    "info",
                )
            return redirect(
                url_for(
                    ".book_for",
                    student_id=student.id,
                    booked=appointment.id,
                    **back_args,
                )
            )
    else:
        refusal = _refusal(student, slot)
    form.token.data = secrets.token_urlsafe(24)
    # Refused for a booking the student holds (this very time, pressed Back after booking it, or
    # another): the step says which, with its page and its change of time, as the booking page does.
    held = booking.upcoming(db.session, student, clock.now()) if refusal else []
    this_one = next((a for a in held if a.slot_id == slot.id), None)
    page = render_template(
        "appointments/confirm_for.html",
        student=student,
        slot=slot,
        form=form,
        back_args=back_args,
        this_one=this_one,
        held=[a for a in held if a is not this_one] if refusal and refusal.code == "limit" else [],
        refusal=_(refusal.message, **refusal.params) if refusal and not this_one else None,
        next_free=refusal.next_free if refusal and not this_one else [],
    )
    return (page, 409) if refusal is not None and form.is_submitted() else page


def _preferred_args() -> dict[str, Any]:
    """The `?counsellor=` asked for, to carry on from page to page."""
    raw = request.args.get("counsellor", "")
    return {"counsellor": raw} if raw.isdigit() else {}


def _preferred_counsellor(student: Student) -> User | None:
    """The counsellor whose times the staff booking page lists first (`?counsellor=`): one of
    the student's institution's counsellors, else none."""
    counsellor_id = request.args.get("counsellor", type=int)
    if counsellor_id is None:
        return None
    return db.session.scalar(
        select(User)
        .join(CounsellorProfile, CounsellorProfile.user_id == User.id)
        .where(User.id == counsellor_id, CounsellorProfile.institution_id == student.institution_id)
    )


def _assessment_timing(
    student: Student, booked: Appointment | None, slots: list[Slot]
) -> dict[str, object]:
    """What the staff booking page says of a professional assessment still owed: when it is due,
    whether it is overdue, and whether the time booked (else the earliest free one) comes
    before it. Nothing for a student who owes none (`urgency.urgent`)."""
    found = urgency.urgent(db.session, student.id)
    due = found.assessment_due if found else None
    if due is None:
        return {"assessment_due": None}
    earliest = slots[0] if slots else None
    when = booked.starts_at if booked else (earliest.starts_at if earliest else None)
    return {
        "assessment_due": due,
        "overdue": due <= clock.now(),
        "earliest": earliest,
        "in_time": when is not None and when < due,
        "on_duty": _on_duty(student.institution_id),
    }


# --- the counsellor's booked sessions and their pre-checks ----------------------------------


@bp.route("/booked")
@require_roles(Role.SCHOOL_COUNSELLOR, Role.DIRECTOR)
def booked() -> str:
    """The signed-in counsellor's upcoming booked sessions, each with its pre-check."""
    now = clock.now()
    rows = list(
        db.session.execute(
            select(Appointment, PreCheck.id)
            .outerjoin(PreCheck, PreCheck.appointment_id == Appointment.id)
            .where(
                Appointment.counsellor_id == current_user.id,
                Appointment.state == AppointmentState.BOOKED,
                Appointment.starts_at > now - timedelta(hours=1),
            )
            .options(joinedload(Appointment.student), joinedload(Appointment.slot))
            .order_by(Appointment.starts_at)
            .limit(200)
        )
    )
    audit.record_list_read(
        db.session,
        actor=current_user,
        action="list_booked",
        record_type="appointment",
        student_ids=[appointment.student_id for appointment, _check in rows],
        institution_id=current_user.institution_id,
    )
    return render_template("appointments/booked.html", rows=rows)


@bp.route("/precheck/<int:precheck_id>")
@require_roles(Role.SCHOOL_COUNSELLOR, Role.DIRECTOR)
def precheck_detail(precheck_id: int) -> str:
    """One pre-check, for the counsellor of its appointment or at screening results' scope;
    the read is audited."""
    check = load_precheck(precheck_id)
    return render_template("appointments/precheck_detail.html", **precheck_facts(check))


def load_precheck(precheck_id: int) -> PreCheck:
    """The pre-check if the signed-in user may read it (`booking_permissions.precheck_clause`),
    the read audited; 404 (the denial audited) otherwise. Every page that shows a pre-check
    loads it here."""
    return access.load_or_404(
        PreCheck,
        precheck_id,
        booking_permissions.precheck_clause(current_user),
        action="read",
        record_type="appointment_precheck",
        audit_read=True,
    )


def precheck_of(appointment: Appointment) -> tuple[PreCheck | None, bool]:
    """The appointment's pre-check as `load_precheck` gives it when the signed-in user may read
    it, and whether there is one at all (a check out of the user's reach is neither shown nor
    counted as a denied read: the page that asks shows something else)."""
    readable = db.session.scalar(
        select(PreCheck.id).where(
            PreCheck.appointment_id == appointment.id,
            booking_permissions.precheck_clause(current_user),
        )
    )
    if readable is not None:
        return load_precheck(readable), True
    exists = db.session.scalar(
        select(PreCheck.id).where(PreCheck.appointment_id == appointment.id).limit(1)
    )
    return None, exists is not None


def precheck_facts(check: PreCheck) -> dict[str, object]:
    """What `appointments/_precheck_facts.html` shows of a pre-check: the instruments' own
    questions and band labels in the page's language, and where its red warning is, for a
    reader who may open it."""
    locale = str(get_locale() or "zh_CN")
    phq2, gad2 = load_instrument(booking.PHQ2), load_instrument(booking.GAD2)
    band_labels = {
        inst.code: next((b.label.get(locale) for b in inst.bands if b.code == code), code)
        for inst, code in ((phq2, check.phq2_band), (gad2, check.gad2_band))
    }
    warning_url = (
        url_for("warning.student", student_id=check.student_id)
        if check.safety_signal_id and may_open_file(current_user, check.student)
        else None
    )
    safety_instrument = load_instrument(booking.SAFETY_INSTRUMENT)
    safety_answer = (
        check.safety_signal_id is not None
        or check.safety_answer
        in intake.safety_values(safety_instrument).get(booking.SAFETY_ITEM, ())
    )
    return {
        "check": check,
        "safety_answer": safety_answer,
        "phq2": phq2,
        "gad2": gad2,
        "band_labels": band_labels,
        "locale": locale,
        "safety_item": safety_instrument.item(booking.SAFETY_ITEM),
        "warning_url": warning_url,
    }


# --- helpers --------------------------------------------------------------------------------


def _refusal(student: Student, slot: Slot) -> booking.BookingError | None:
    """What booking `slot` for `student` now would be told (the time taken or passed, a booking
    already held), said before the form is sent rather than after; None when it would book."""
    try:
        booking.check_book(
            db.session,
            student=student,
            slot=slot,
            booked_by=current_user,
            kind=slot.kind,
            now=clock.now(),
        )
    except booking.BookingError as refused:
        return refused
    return None


def _slot_or_404(slot_id: int | None, institution_id: int) -> Slot:
    """A slot of the institution; a forged or foreign id is the same 404 as a missing one."""
    slot = (
        db.session.scalar(
            select(Slot)
            .where(Slot.id == slot_id, Slot.institution_id == institution_id)
            .options(joinedload(Slot.counsellor))
        )
        if slot_id is not None
        else None
    )
    if slot is None:
        abort(404)
    return slot


def _by_day(slots: list[Slot]) -> list[tuple[date, str, list[Slot]]]:
    """Slots grouped by the local day they start on, with the day's heading (date, weekday)."""
    days = []
    for day, group in groupby(slots, key=lambda s: local_day(s.starts_at)):
        days.append((day, day_words(day), list(group)))
    return days


def _questions() -> dict[str, object]:
    """The pre-check's questions from the instruments themselves, in the page's language."""
    return {
        "phq2": load_instrument(booking.PHQ2),
        "gad2": load_instrument(booking.GAD2),
        "safety_item": load_instrument(booking.SAFETY_INSTRUMENT).item(booking.SAFETY_ITEM),
        # The answers that are a safety answer, as the instrument decides: choosing one shows the
        # crisis resources at once (static/screening.js), as on a screening's page.
        "safety_values": intake.safety_values(load_instrument(booking.SAFETY_INSTRUMENT)).get(
            booking.SAFETY_ITEM, ()
        ),
        "locale": str(get_locale() or "zh_CN"),
        "reason_max": booking.REASON_MAX,
    }


def _answers(form: Mapping[str, str]) -> booking.PreCheckAnswers:
    """The pre-check as posted: fields `phq2_<n>`, `gad2_<n>`, `safety` and `reason`."""

    def items(prefix: str) -> dict[int, object]:
        found: dict[int, object] = {}
        for key, value in form.items():
            number = key.removeprefix(prefix)
            if key.startswith(prefix) and number.isdigit() and value.strip():
                found[int(number)] = value.strip()
        return found

    return booking.PreCheckAnswers(
        reason=form.get("reason", ""),
        phq2=items("phq2_"),
        gad2=items("gad2_"),
        safety=form.get("safety") or None,
    )


def _on_duty(institution_id: int) -> str | None:
    """The centre's on-duty phone shown beside the crisis hotline."""
    return on_duty_phone(db.session.get(Institution, institution_id))
