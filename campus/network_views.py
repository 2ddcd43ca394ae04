"""The response-network pages: who holds each unit, and appointing (or ending) a class's
psychology committee member or a dorm room's informant from its own students. An administrator
reaches the whole institution, a department counsellor the classes of their departments."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_babel import pgettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import SelectField
from wtforms import SubmitField
from wtforms.validators import DataRequired
from wtforms.validators import Optional

from campus import acting_for
from campus import admin
from campus import network
from campus.extensions import db
from campus.fields import DayField
from campus.i18n import shown_name
from campus.models import Role
from campus.models import ScopeKind
from campus.models import User
from campus.outcomes import flash_outcome
from campus.permissions import require_roles
from campus.workbench import Item
from campus.workbench import Urgency

bp = Blueprint("network", __name__, url_prefix="/network")

UNIT_KINDS = {"class": ScopeKind.CLASS, "room": ScopeKind.ROOM}


class AppointForm(FlaskForm):
    student_id = SelectField(
        _l("Student"), coerce=int, validators=[DataRequired(_l("Choose the student to appoint."))]
    )
    until = DayField(
        _l("Last day"),
        validators=[Optional()],
        description=_l("Optional: the role ends by itself after this day (e.g. the school year)."),
    )
    submit = SubmitField(_l("Appoint"))


class EndForm(FlaskForm):
    """The CSRF-checked button that ends one holder's role."""

    submit = SubmitField(_l("End this role"))


def _reach() -> network.Reach:
    """The viewer's reach on this request: the institution an administrator acts for, or a
    department counsellor's departments."""
    if current_user.has_role(Role.ADMIN):
        return network.Reach(acting_for.admin_institution())
    reaches = network.reaches(db.session, current_user)
    return reaches[0] if reaches else abort(403)


@bp.route("/")
@require_roles(*network.APPOINTERS)
def index() -> ResponseReturnValue:
    reach = _reach()
    # The rooms list's GET form: a building, and a room as people write it (6栋-303).
    search = network.RoomSearch(
        request.args.get("building", type=int), request.args.get("room", "").strip()[:40]
    )
    found, matching = (
        network.find_rooms(db.session, reach.institution, search)
        if reach.whole and search.given
        else ([], 0)
    )
    return render_template(
        "campus/network/index.html",
        coverage=network.coverage(db.session, reach),
        gaps=network.gaps(db.session, reach),
        kinds={kind: key for key, kind in UNIT_KINDS.items()},
        search=search,
        buildings=network.buildings(db.session, reach.institution) if reach.whole else [],
        found=found,
        matching=matching,
        listed=network.ROOMS_LISTED,
    )


def _unit_or_404(reach: network.Reach, kind: str, unit_id: int) -> network.Unit:
    try:
        return network.find_unit(db.session, reach, UNIT_KINDS[kind], unit_id)
    except (KeyError, admin.AdminError):
        abort(404)


@bp.route("/<kind>/<int:unit_id>", methods=["GET", "POST"])
@require_roles(*network.APPOINTERS)
def unit(kind: str, unit_id: int) -> ResponseReturnValue:
    reach = _reach()
    found = _unit_or_404(reach, kind, unit_id)
    students = network.candidates(db.session, reach, found)
    form = AppointForm()
    form.student_id.choices = [(s.id, f"{s.student_number} {s.name}") for s in students]
    if form.validate_on_submit():
        appointed = flash_outcome(
            _("Appointed."),
            network.appoint,
            db.session,
            current_user,
            reach,
            found,
            form.student_id.data,
            form.until.data,
        )
        if appointed:
            return redirect(url_for("network.unit", kind=kind, unit_id=unit_id))
    return render_template(
        "campus/network/unit.html",
        unit=found,
        kind=kind,
        form=form,
        end_form=EndForm(formdata=None),
        has_students=bool(students),
        whole=reach.whole,
    ), (422 if form.errors else 200)


@bp.route("/<kind>/<int:unit_id>/end/<int:assignment_id>", methods=["POST"])
@require_roles(*network.APPOINTERS)
def end(kind: str, unit_id: int, assignment_id: int) -> ResponseReturnValue:
    reach = _reach()
    found = _unit_or_404(reach, kind, unit_id)
    if EndForm().validate_on_submit():
        flash_outcome(
            _("Role ended."), network.end, db.session, current_user, reach, found, assignment_id
        )
    return redirect(url_for("network.unit", kind=kind, unit_id=unit_id))


def workbench_items(session: Session, user: User, now: datetime) -> list[Item]:
    """Each reach whose network has a unit with students and no holder. A department or a
    centre with nobody is for today: a yellow warning there reaches no one, a red one no
    department leader."""
    found = []
    reaches = network.reaches(session, user)
    for reach in reaches:
        institution = reach.institution
        gaps = network.gaps(session, reach)
        if not gaps.any:
            continue
        parts = [
            ngettext(
                "%(num)s department without a counsellor",
                "%(num)s departments without a counsellor",
                gaps.departments,
            ),
            ngettext(
                "%(num)s department without a department leader",
                "%(num)s departments without a department leader",
                gaps.leaderless,
            ),
            ngettext(
                "%(num)s class without a psychology committee member",
                "%(num)s classes without a psychology committee member",
                gaps.classes,
            ),
            ngettext(
                "%(num)s dorm room without an informant",
                "%(num)s dorm rooms without an informant",
                gaps.rooms,
            ),
        ]
        counts = (gaps.departments, gaps.leaderless, gaps.classes, gaps.rooms)
        shown = [part for part, count in zip(parts, counts, strict=True) if count]
        if gaps.no_centre:
            shown.insert(0, _("no school counsellor"))
        text = _("The response network has gaps")
        if len(reaches) > 1:
            text = _("%(institution)s: %(text)s", institution=shown_name(institution), text=text)
        urgent = gaps.departments or gaps.leaderless or gaps.no_centre
        found.append(
            Item(
                sum(counts),
                text,
                url_for("network.index", institution=institution.id),
                Urgency.TODAY if urgent else Urgency.THIS_WEEK,
                pgettext("list separator", "; ").join(shown),
            )
        )
    return found
