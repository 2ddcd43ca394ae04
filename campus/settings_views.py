"""The institution settings page (`/admin/settings`): the administrator's names of the
institution and the centre's on-duty phone; the director's on-duty phone alone. And the home page
line that asks for the phone until a student in crisis is given one."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import StringField
from wtforms import SubmitField
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from campus import acting_for
from campus import clock
from campus import institution_settings
from campus import local_time
from campus.centre_phone import PhoneError
from campus.centre_phone import on_duty_phone
from campus.extensions import db
from campus.forms import add_error
from campus.i18n import shown_name
from campus.models import Institution
from campus.models import Role
from campus.models import User
from campus.outcomes import Refused
from campus.permissions import require_roles
from campus.scope import institution_ids
from campus.workbench import Item
from campus.workbench import Urgency

bp = Blueprint("institution_settings", __name__, url_prefix="/admin/settings")

# Who opens the page: the administrator (every setting) and the centre's director (the on-duty
# phone, which is the centre's).
SETTINGS_ROLES = (Role.ADMIN, Role.DIRECTOR)
PHONE_LENGTH = 40


class OnDutyPhoneForm(FlaskForm):
    on_duty_phone = StringField(
        _l("The mental health centre's on-duty phone"),
        validators=[
            Optional(),
            Length(max=PHONE_LENGTH, message=_l("A phone number is at most 40 characters.")),
        ],
        description=_l(
            "A number someone at the centre answers; outside office hours, one forwarded to "
            "whoever is on duty. Empty: students are given the 24-hour hotline and 120/110 alone."
        ),
    )
    submit = SubmitField(_l("Save"))


class InstitutionSettingsForm(OnDutyPhoneForm):
    name = StringField(
        _l("Name in Chinese"),
        validators=[
            DataRequired(message=_l("Give the institution's name.")),
            Length(max=institution_settings.NAME_LENGTH),
        ],
        description=_l("As students and staff read it on every page and printed document."),
    )
    name_en = StringField(
        _l("English name (optional)"),
        validators=[Optional(), Length(max=institution_settings.NAME_LENGTH)],
        description=_l("Shown to those who read Xinqiao in English."),
    )


def _edits_all(institution: Institution) -> bool:
    """Whether the signed-in user changes every setting (the administrator) or only the phone."""
    return any(a.institution_id == institution.id for a in current_user.assignments(Role.ADMIN))


@bp.route("/", methods=["GET", "POST"])
@require_roles(*SETTINGS_ROLES)
def index() -> ResponseReturnValue:
    institution = acting_for.institution_for(*SETTINGS_ROLES)
    whole = _edits_all(institution)
    zone = clock.institution_zone(institution)
    form_class = InstitutionSettingsForm if whole else OnDutyPhoneForm
    form = form_class(obj=institution)
    if form.validate_on_submit():
        saved = _save(institution, form)
        if saved is not None:
            flash(_saved_words(saved, institution), "success")
            return redirect(url_for("institution_settings.index"))
    return render_template(
        "campus/settings.html",
        institution=institution,
        form=form,
        whole=whole,
        on_duty=on_duty_phone(institution),
        zone=local_time.zone_words(zone),
        live_since=clock.local_date(institution.live_since, zone),
    ), (422 if form.errors else 200)


def _save(institution: Institution, form: OnDutyPhoneForm) -> list[str] | None:
    """Save the form; the settings changed, or None when refused (the reason under its field)."""
    try:
        if isinstance(form, InstitutionSettingsForm):
            wanted = institution_settings.Settings(
                form.name.data or "", form.name_en.data, form.on_duty_phone.data
            )
            return institution_settings.save_settings(db.session, current_user, institution, wanted)
        return institution_settings.save_on_duty_phone(
            db.session, current_user, institution, form.on_duty_phone.data
        )
    except PhoneError as refusal:
        add_error(form.on_duty_phone, refusal.message.shown())
    except Refused as refusal:
        # The phone form keeps the stored names, which were accepted when they were stored.
        assert isinstance(form, InstitutionSettingsForm)
        add_error(form.name, refusal.message.shown())
    return None


def _saved_words(changed: list[str], institution: Institution) -> str:
    """What the flash says: nothing changed, or saved, and what students are now given."""
    if not changed:
        return _("Nothing changed.")
    if "on_duty_phone" not in changed:
        return _("Saved.")
    phone = on_duty_phone(institution)
    if phone:
        return _(
            "Saved. Students asking for help and the crisis pages now give the centre's on-duty "
            "phone, %(phone)s.",
            phone=phone,
        )
    return _(
        "Saved. Without the centre's number, students asking for help are given the 24-hour "
        "hotline and 120/110."
    )


def workbench_items(session: Session, user: User, now: datetime) -> list[Item]:
    """Each institution the user administers or directs whose students in crisis would be given
    no centre number: first on the administrator's home (the number is theirs to set), and for
    today on the director's."""
    admin_of = set(institution_ids(user, Role.ADMIN))
    ids = institution_ids(user, *SETTINGS_ROLES)
    if current_app.config.get("CENTRE_ON_DUTY_PHONE"):
        return []  # the deployment gives every campus a number
    # Mostly in the session already (the signed-in user's own): no query for the usual one.
    found = [i for i in (session.get_one(Institution, n) for n in ids) if not i.on_duty_phone]
    text = _("The centre's on-duty phone is not set: students asking for help see only the hotline")
    detail = _(
        "A student who answers a safety question, asks for help or books counselling is given "
        "the 24-hour hotline and 120/110, but no number at your centre; nor is a guardian's "
        "notice. Set it now."
    )
    return [
        Item(
            0,
            text
            if len(ids) == 1
            else _("%(institution)s: %(text)s", institution=shown_name(inst), text=text),
            url_for("institution_settings.index", institution=inst.id),
            Urgency.NOW if inst.id in admin_of else Urgency.TODAY,
            detail,
        )
        for inst in found
    ]
