"""The administrator's notification channels page: add, turn off or on, and test a channel."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user
from wtforms import PasswordField
from wtforms import SelectField
from wtforms import StringField
from wtforms import SubmitField
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from campus import acting_for
from campus import channels
from campus.extensions import db
from campus.forms import ROLE_LABELS
from campus.forms import OnceForm
from campus.models import NotificationChannel
from campus.models import Role
from campus.outcomes import flash_outcome
from campus.permissions import require_roles

bp = Blueprint("channels", __name__, url_prefix="/admin/channels")

KIND_LABELS = {kind: _l(adapter.label) for kind, adapter in channels.ADAPTERS.items()}


class ChannelForm(OnceForm):
    # A channel's name, not a person's (姓名): the catalog tells them apart by context.
    label = StringField(
        lazy_pgettext("channel", "Name"),
        validators=[DataRequired(_l("Give the channel a name.")), Length(max=100)],
    )
    kind = SelectField(_l("Kind"), choices=list(KIND_LABELS.items()))
    role = SelectField(_l("Who it is for"), choices=[("", _l("Every role")), *ROLE_LABELS.items()])
    target_url = StringField(
        _l("Webhook or gateway address"),
        validators=[DataRequired(_l("Give the webhook or gateway address.")), Length(max=500)],
    )
    secret = PasswordField(_l("Secret (optional)"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone (SMS only)"), validators=[Optional(), Length(max=40)])
    submit = SubmitField(_l("Add channel"))


@bp.route("/", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def index() -> ResponseReturnValue:
    institution = acting_for.admin_institution()
    form = ChannelForm()
    if not form.is_submitted():
        form.issued()
    if form.validate_on_submit():
        added = flash_outcome(
            _("Channel added."),
            channels.add_channel,
            db.session,
            current_user,
            institution,
            kind=form.kind.data,
            role=Role(form.role.data) if form.role.data else None,
            label=(form.label.data or "").strip(),
            target_url=(form.target_url.data or "").strip(),
            secret=form.secret.data,
            phone=(form.phone.data or "").strip(),
            submission=form.submission.data,
        )
        if added:
            return redirect(url_for("channels.index"))
    rows = channels.institution_channels(db.session, institution)
    return render_template(
        "campus/channels.html",
        channels=rows,
        form=form,
        masked_url=channels.masked_url,
        masked_secret=channels.masked_secret,
    )


def _own_channel(channel_id: int) -> NotificationChannel:
    """The channel of the institution the administrator acts for; any other id is a 404."""
    return channels.find_channel(db.session, acting_for.admin_institution(), channel_id) or abort(
        404
    )


@bp.route("/<int:channel_id>/disable", methods=["POST"])
@require_roles(Role.ADMIN)
def disable(channel_id: int) -> ResponseReturnValue:
    return _switch(channel_id, False, _("Channel turned off: nothing more is sent to it."))


@bp.route("/<int:channel_id>/enable", methods=["POST"])
@require_roles(Role.ADMIN)
def enable(channel_id: int) -> ResponseReturnValue:
    return _switch(channel_id, True, _("Channel turned on."))


def _switch(channel_id: int, enabled: bool, done: str) -> ResponseReturnValue:
    """Turn one of the institution's channels on or off and say so on the channel list."""
    channels.set_enabled(db.session, current_user, _own_channel(channel_id), enabled)
    flash(done, "success")
    return redirect(url_for("channels.index"))


@bp.route("/<int:channel_id>/test", methods=["POST"])
@require_roles(Role.ADMIN)
def send_test(channel_id: int) -> ResponseReturnValue:
    """Send a test message now: the administrator learns at once whether the address works."""
    channel = _own_channel(channel_id)
    try:
        channels.send_test(channel, current_app.config, _(channels.TEST_TEXT))
    except (OSError, channels.DeliveryFailed) as error:
        current_app.logger.warning("channel %s test failed: %s", channel.id, error)
        refusal = channels.test_refusal(error).shown()
        flash(_("The test message was not accepted: %(error)s", error=refusal), "error")
    else:
        flash(_("Test message sent."), "success")
    return redirect(url_for("channels.index"))
