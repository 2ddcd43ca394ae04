"""Forms of the session page: the outcome with its risk assessment, the note, an addendum."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from appointments.models import AppointmentState
from appointments.models import NoteState
from appointments.sessions import ATTENDED
from appointments.sessions import NO_SHOW
from appointments.sessions import NOTE_MAX
from campus.forms import OnceForm

ATTENDANCE_LABELS = {
    ATTENDED: _l("Attended"),
    NO_SHOW: _l("Did not come (no-show)"),
}
# The warning levels' words, as risk: the same vocabulary the warning pages use.
RISK_LABELS = {
    "0": _l("None"),
    "1": _l("Low (blue)"),
    "2": _l("Medium (yellow)"),
    "3": _l("High (red)"),
}
STATE_LABELS = {
    AppointmentState.BOOKED: _l("Booked"),
    AppointmentState.ATTENDED: _l("Attended"),
    AppointmentState.NO_SHOW: _l("No-show"),
    AppointmentState.CANCELLED: _l("Cancelled"),
    AppointmentState.LATE_CANCELLED: _l("Cancelled late"),
}
NOTE_STATE_LABELS = {
    NoteState.DRAFT: _l("Draft"),
    NoteState.SIGNED: _l("Signed"),
    NoteState.CO_SIGNED: _l("Signed and co-signed"),
}


class OutcomeForm(FlaskForm):
    attendance = RadioField(
        _l("Did the session take place?"),
        choices=list(ATTENDANCE_LABELS.items()),
        validators=[DataRequired(message=_l("Say whether the student came."))],
    )
    risk_level = RadioField(
        _l("Risk assessed in this session"),
        choices=list(RISK_LABELS.items()),
        validators=[Optional()],
    )
    reason = TextAreaField(
        _l("Why (the warning shows this reason)"), validators=[Optional(), Length(max=1000)]
    )
    submit = SubmitField(_l("Record the outcome"))


class NoteForm(FlaskForm):
    body = TextAreaField(
        _l("Session note"), validators=[Length(max=NOTE_MAX)], render_kw={"rows": 12}
    )
    save = SubmitField(_l("Save draft"))
    sign = SubmitField(_l("Sign the note"))


class AddendumForm(OnceForm):
    """Sent twice, the same form is one addendum."""

    body = TextAreaField(_l("Addendum"), validators=[Length(max=NOTE_MAX)])
    submit = SubmitField(_l("Add the addendum"))


class CoSignForm(FlaskForm):
    submit = SubmitField(_l("Co-sign"))
