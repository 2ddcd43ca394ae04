"""The duty roster's pages (值班表): the week, who is on duty now, and the director's planning.
Thin: parse, load in scope, call `appointments.roster`, render. Also the small pieces other pages
show: "who is on duty now" for the crisis pages (a template global) and the staff's workbench."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import timedelta

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import pgettext
from flask_login import current_user
from sqlalchemy.orm import Session

from appointments import roster
from appointments.availability import monday_of
from appointments.availability_forms import RemoveForm
from appointments.availability_forms import ShiftForm
from appointments.models import DutyShift
from appointments.permissions import ON_DUTY_VIEWERS
from appointments.permissions import ROSTER_PLANNERS
from appointments.permissions import plans_roster
from appointments.permissions import sees_on_duty
from campus import audit
from campus import clock
from campus import workbench
from campus.extensions import db
from campus.forms import add_error
from campus.forms import filled
from campus.local_time import local_day
from campus.local_time import local_time
from campus.local_time import moment_words
from campus.models import User
from campus.outcomes import Refused
from campus.permissions import require_roles

bp = Blueprint("duty", __name__, url_prefix="/appointments/duty")


def _week_start() -> date:
    """The Monday of the week asked for (`?week=` any day of it), this week otherwise."""
    asked = request.args.get("week", "")
    try:
        day = date.fromisoformat(asked) if asked else None
    except ValueError:
        day = None
    return monday_of(day or clock.local_date(clock.now(), clock.viewer_zone()))


@bp.route("/")
@require_roles(*ON_DUTY_VIEWERS)
def index() -> ResponseReturnValue:
    return _week_page(_week_start())


def _shift_form(formdata: bool = False) -> ShiftForm:
    form = ShiftForm() if formdata else ShiftForm(formdata=None).issued()
    people = roster.candidates(db.session, current_user.institution_id)
    form.user_id.choices = [(u.id, u.name) for u in people]
    return form


def _week_page(
    week_start: date, status: int = 200, form: ShiftForm | None = None
) -> ResponseReturnValue:
    institution = current_user.institution
    planner = plans_roster(current_user, institution.id)
    shifts = roster.week_of(db.session, institution, week_start)
    zone = clock.viewer_zone()
    days: list[tuple[date, list[DutyShift]]] = []
    for n in range(7):
        day = week_start + timedelta(days=n)
        lower = clock.to_utc(datetime.combine(day, datetime.min.time()), zone)
        upper = lower + timedelta(days=1)
        days.append((day, [s for s in shifts if s.starts_at < upper and s.ends_at > lower]))
    if planner and form is None:
        form = _shift_form()
    body = render_template(
        "appointments/duty/week.html",
        week_start=week_start,
        previous_week=week_start - timedelta(days=7),
        next_week=week_start + timedelta(days=7),
        days=days,
        now_on_duty=roster.on_duty(db.session, institution.id, clock.now()),
        form=form if planner else None,
        remove_form=RemoveForm(formdata=None),
        planner=planner,
        now=clock.now(),
        shift_hours=shift_hours,
    )
    return body, status


def shift_hours(shift: DutyShift, day: date) -> str:
    """A shift's hours on its day's row of the week: "08:00 – 20:00", "20:00 – 次日 08:00" (and on
    the next row "前一天 20:00 – 08:00"). The row names the day, so "yesterday 08:00", which
    says a deadline, read as a contradiction under "Mon 7 Dec" the morning after."""
    return f"{_hour_on(shift.starts_at, day)} – {_hour_on(shift.ends_at, day)}"


def _hour_on(moment: datetime, day: date) -> str:
    at, hour = local_day(moment), local_time(moment, "HH:mm")
    if at == day:
        return hour
    if at == day + timedelta(days=1):
        return _("next day %(time)s", time=hour)
    if at == day - timedelta(days=1):
        return _("day before %(time)s", time=hour)
    return moment_words(moment)


@bp.route("/shifts", methods=["POST"])
@require_roles(*ROSTER_PLANNERS)
def add_shift() -> ResponseReturnValue:
    institution = current_user.institution
    if not plans_roster(current_user, institution.id):
        abort(403)
    form = _shift_form(formdata=True)
    zone = clock.viewer_zone()
    week = _week_start()
    if not form.validate_on_submit():
        return _week_page(week, 400, form)
    starts = clock.to_utc(filled(form.starts), zone)
    data = roster.ShiftInput(
        user_id=filled(form.user_id),
        starts_at=starts,
        ends_at=clock.to_utc(filled(form.ends), zone),
        phone=form.phone.data or "",
        note=form.note.data or "",
    )
    try:
        shift = roster.add_shift(
            db.session, current_user, institution, data, clock.now(), filled(form.submission)
        )
    except roster.RosterError as error:
        add_error(form.user_id, error.message.shown())
        return _week_page(week, 400, form)
    except Refused as refusal:
        add_error(form.submission, refusal.message.shown())
        return _week_page(week, 400, form)
    flash(_("%(name)s is on duty as planned.", name=shift.user.name), "success")
    shown_week = monday_of(clock.local_date(starts, zone))
    # The week the new shift falls in, from the top of the page where "on duty as planned"
    # shows: a redirect without a fragment would keep the form's #h-plan.
    return redirect(url_for("duty.index", week=shown_week.isoformat(), _anchor="main"))


@bp.route("/shifts/<int:shift_id>/remove", methods=["POST"])
@require_roles(*ROSTER_PLANNERS)
def remove_shift(shift_id: int) -> ResponseReturnValue:
    shift = roster.find_shift(db.session, current_user.institution_id, shift_id)
    if shift is None or not plans_roster(current_user, shift.institution_id):
        audit.record_denied(db.session, current_user, "duty_shift_remove", "duty_roster", shift_id)
        abort(404)
    week = monday_of(clock.local_date(shift.starts_at, clock.viewer_zone()))
    if not RemoveForm().validate_on_submit():
        flash(_("The form had expired; please try again."), "error")
    else:
        try:
            roster.remove_shift(db.session, current_user, shift, clock.now())
        except roster.RosterError as error:
            flash(error.message.shown(), "error")
        else:
            flash(_("Shift removed."), "success")
    return redirect(url_for("duty.index", week=week.isoformat()))


# --------------------------------------------------------------------------------------------------
# "Who is on duty now" on other pages
# --------------------------------------------------------------------------------------------------


def on_duty_now() -> list[DutyShift] | None:
    """Template global: the shifts running now in the reader's institution, or None for a reader
    who is not shown the roster (students, peers, outsiders)."""
    if not current_user.is_authenticated or not sees_on_duty(current_user):
        return None
    return roster.on_duty(db.session, current_user.institution_id, clock.now())


def workbench_items(session: Session, user: User, now: datetime) -> list[workbench.Item]:
    """The staff's home page: who is on duty now, with their duty phone. Nothing when no one is:
    the home page lists what needs doing, and "no one on duty" is said plainly where a person
    looks for the duty (the crisis pages and the roster), not as a chore every morning."""
    shifts = roster.on_duty(session, user.institution_id, now)
    if not shifts:
        return []
    names = pgettext("list separator", ", ").join(
        f"{s.user.name} {s.phone}".strip() if s.phone else s.user.name for s in shifts
    )
    return [
        workbench.Item(
            len(shifts),
            _("On duty now: %(names)s", names=names),
            url_for("duty.index"),
            workbench.Urgency.INFO,
        )
    ]
