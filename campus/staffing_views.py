"""The administrator's staffing register page: add a mental-health teacher's post, end one."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from flask import abort
from flask import flash
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
from wtforms import StringField
from wtforms import SubmitField
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from campus import acting_for
from campus import admin
from campus import clock
from campus import staffing
from campus.extensions import db
from campus.fields import DayField
from campus.forms import OnceForm
from campus.models import Institution
from campus.models import Role
from campus.models import StaffingEntry
from campus.models import StaffPost
from campus.models import User
from campus.outcomes import flash_outcome
from campus.permissions import require_roles
from campus.workbench import Item
from campus.workbench import Urgency

bp = Blueprint("staffing", __name__, url_prefix="/admin/staffing")

POST_LABELS = {
    StaffPost.FULL_TIME: _l("Full-time mental-health teacher"),
    StaffPost.PART_TIME: _l("Part-time mental-health teacher"),
}


class StaffingForm(OnceForm):
    person_name = StringField(_l("Name"), validators=[Optional(), Length(max=100)])
    user_id = SelectField(_l("Account (optional)"), coerce=int, validators=[Optional()])
    post = SelectField(_l("Post"), choices=list(POST_LABELS.items()), coerce=StaffPost)
    starts_on = DayField(
        _l("First day in post"),
        validators=[InputRequired(_l("Choose the first day in post."))],
    )
    ends_on = DayField(_l("Last day in post (optional)"), validators=[Optional()])
    submit = SubmitField(_l("Add to the register"))


class EndPostForm(FlaskForm):
    ends_on = DayField(
        _l("Last day in post"), validators=[InputRequired(_l("Choose the last day in post."))]
    )
    submit = SubmitField(_l("End post"))


@bp.route("/", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def index() -> ResponseReturnValue:
    institution = acting_for.admin_institution()
    form = StaffingForm()
    today = admin.local_today(institution, clock.now())
    unregistered = staffing.unregistered_counsellors(db.session, institution, today)
    if not form.is_submitted():
        form.issued()
        _offer(form, unregistered, request.args.get("account", type=int), institution)
    staff = admin.staff_accounts(db.session, institution)
    accounts = [(u.id, f"{u.name} ({u.login})") for u in staff]
    form.user_id.choices = [(0, _("No account")), *accounts]
    if form.validate_on_submit():
        user = admin.find_user(db.session, institution, form.user_id.data or 0)
        added = flash_outcome(
            _("Added to the staffing register."),
            staffing.add_entry,
            db.session,
            current_user,
            institution,
            person_name=form.person_name.data or "",
            user=user,
            post=form.post.data,
            starts_on=form.starts_on.data,
            ends_on=form.ends_on.data,
            submission=form.submission.data,
        )
        if added:
            return redirect(url_for("staffing.index"))
    return render_template(
        "campus/staffing.html",
        unregistered=unregistered,
        entries=staffing.entries(db.session, institution),
        form=form,
        end_form=EndPostForm(formdata=None),
        post_labels=POST_LABELS,
        students_per_teacher=staffing.STUDENTS_PER_TEACHER,
        minimum_teachers=staffing.MINIMUM_TEACHERS,
    )


def _offer(
    form: StaffingForm,
    unregistered: list[staffing.Unregistered],
    account: int | None,
    institution: Institution,
) -> None:
    """Fill the blank form in for a school counsellor the register lacks (`?account=<id>`, the
    link beside their name): their account, a full-time post from the day the role was given."""
    chosen = next((u for u in unregistered if u.user.id == account), None)
    if chosen is None:
        return
    form.user_id.data = chosen.user.id
    form.post.data = StaffPost.FULL_TIME
    form.starts_on.data = clock.local_date(chosen.since, clock.institution_zone(institution))


def _own_entry(entry_id: int) -> StaffingEntry:
    """The entry of the institution the administrator acts for; any other id is a 404."""
    entry = staffing.find_entry(db.session, acting_for.admin_institution(), entry_id)
    return entry or abort(404)


@bp.route("/<int:entry_id>/end", methods=["POST"])
@require_roles(Role.ADMIN)
def end(entry_id: int) -> ResponseReturnValue:
    entry = _own_entry(entry_id)
    form = EndPostForm()
    if not form.validate_on_submit():
        flash(_("Give the last day in post."), "error")
        return redirect(url_for("staffing.index"))
    flash_outcome(
        _("Post ended."), staffing.end_entry, db.session, current_user, entry, form.ends_on.data
    )
    return redirect(url_for("staffing.index"))


# How many of the school counsellors missing from the register the home page names.
NAMED = 5


def workbench_items(session: Session, user: User, now: datetime) -> list[Item]:
    """Each institution the user administers where school counsellors hold the role but not a
    post in the register: the staffing figure on the oversight page leaves them out."""
    found = []
    for institution in admin.administered_institutions(session, user):
        today = admin.local_today(institution, now)
        missing = staffing.unregistered_counsellors(session, institution, today)
        if not missing:
            continue
        names = pgettext("list separator", ", ").join(u.user.name for u in missing[:NAMED])
        if len(missing) > NAMED:
            names = _("%(names)s and %(more)s more", names=names, more=len(missing) - NAMED)
        text = ngettext(
            "%(num)s school counsellor is not in the staffing register",
            "%(num)s school counsellors are not in the staffing register",
            len(missing),
        )
        detail = _(
            "The full-time teacher figure on the oversight page counts only the register: "
            "%(names)s",
            names=names,
        )
        url = url_for("staffing.index", institution=institution.id, _anchor="unregistered")
        found.append(Item(len(missing), text, url, Urgency.THIS_WEEK, detail))
    return found
