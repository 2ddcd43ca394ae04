"""Forms of the counsellors' time and the duty roster, with the words of their vocabularies."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import SelectField
from wtforms import StringField
from wtforms import SubmitField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional

from appointments.models import ExceptionReason
from appointments.models import SessionKind
from campus.fields import DayField
from campus.fields import DayTimeField
from campus.fields import NumberField
from campus.fields import TimeOfDayField
from campus.fields import WholeNumberField
from campus.fields import labelled_choices
from campus.forms import OnceForm

WEEKDAY_LABELS = {
    0: _l("Monday"),
    1: _l("Tuesday"),
    2: _l("Wednesday"),
    3: _l("Thursday"),
    4: _l("Friday"),
    5: _l("Saturday"),
    6: _l("Sunday"),
}
KIND_LABELS = {
    SessionKind.FIRST_VISIT: _l("First visit"),
    SessionKind.FOLLOW_UP: _l("Follow-up session"),
    SessionKind.GROUP: _l("Group session"),
}
REASON_LABELS = {
    ExceptionReason.LEAVE: _l("Personal leave"),
    ExceptionReason.HOLIDAY: _l("Holiday"),
    ExceptionReason.OTHER: _l("Other (training, meeting…)"),
}
GENDER_LABELS = {"": _l("Not said"), "F": _l("Female"), "M": _l("Male")}


class TemplateForm(OnceForm):
    weekday = SelectField(_l("Day of the week"), choices=list(WEEKDAY_LABELS.items()), coerce=int)
    starts = TimeOfDayField(
        _l("Starts at"), validators=[InputRequired(_l("Give the time the sessions start."))]
    )
    ends = TimeOfDayField(
        _l("Ends at"), validators=[InputRequired(_l("Give the time the sessions end."))]
    )
    session_minutes = WholeNumberField(
        _l("Minutes per session"),
        default=50,
        invalid=_l("Give the minutes as a whole number, e.g. 50."),
        validators=[InputRequired(_l("Give how many minutes a session lasts."))],
    )
    break_minutes = WholeNumberField(
        _l("Minutes of break between sessions"),
        default=10,
        invalid=_l("Give the minutes as a whole number, e.g. 50."),
        validators=[InputRequired(_l("Give the minutes of break between sessions (0 for none)."))],
    )
    room = StringField(_l("Room"), validators=[DataRequired(_l("Give the room.")), Length(max=100)])
    kind = SelectField(
        _l("Kind of session"), choices=labelled_choices(KIND_LABELS), coerce=SessionKind
    )
    capacity = WholeNumberField(
        _l("Students per group session"), default=8, validators=[Optional(), NumberRange(min=1)]
    )
    valid_from = DayField(
        _l("First day"), validators=[InputRequired(_l("Choose the first day of this weekly time."))]
    )
    valid_until = DayField(_l("Last day (optional)"), validators=[Optional()])
    submit = SubmitField(_l("Add weekly time"))


class ExceptionForm(FlaskForm):
    first_day = DayField(
        _l("First day away"), validators=[InputRequired(_l("Choose the first day away."))]
    )
    last_day = DayField(_l("Last day away (optional: one day)"), validators=[Optional()])
    starts = TimeOfDayField(_l("From (optional: whole days)"), validators=[Optional()])
    ends = TimeOfDayField(_l("Until (optional)"), validators=[Optional()])
    reason = SelectField(
        _l("Reason"), choices=labelled_choices(REASON_LABELS), coerce=ExceptionReason
    )
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Add time away"))


class BreakForm(FlaskForm):
    name = StringField(
        _l("Name of the break"),
        validators=[DataRequired(_l("Give the name of the break.")), Length(max=100)],
    )
    name_en = StringField(_l("English name (optional)"), validators=[Optional(), Length(max=200)])
    first_day = DayField(
        _l("First day of the break"),
        validators=[InputRequired(_l("Choose the first day of the break."))],
    )
    last_day = DayField(
        _l("Last day of the break"),
        validators=[InputRequired(_l("Choose the last day of the break."))],
    )
    submit = SubmitField(_l("Add to the calendar"))


class ProfileForm(FlaskForm):
    gender = SelectField(_l("Gender"), choices=list(GENDER_LABELS.items()))
    is_trainee = BooleanField(_l("Trainee: a supervisor co-signs the session notes"))
    supervisor_id = SelectField(_l("Supervisor"), coerce=int, validators=[Optional()])
    fte = NumberField(
        _l("Working time (1.0 = full time)"),
        default=1.0,
        invalid=_l("Give the working time as a number: 1.0 full time, 0.5 half time."),
        validators=[InputRequired(_l("Give the working time: 1.0 full time, 0.5 half time."))],
    )
    submit = SubmitField(_l("Save profile"))


class ShiftForm(OnceForm):
    user_id = SelectField(
        _l("Who is on duty"), coerce=int, validators=[InputRequired(_l("Choose who is on duty."))]
    )
    starts = DayTimeField(
        _l("On duty from"), validators=[InputRequired(_l("Choose when the duty starts."))]
    )
    ends = DayTimeField(
        _l("On duty until"), validators=[InputRequired(_l("Choose when the duty ends."))]
    )
    phone = StringField(_l("Duty phone (optional)"), validators=[Optional(), Length(max=40)])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Put on duty"))


class RemoveForm(FlaskForm):
    """A remove button: only the CSRF token."""

    submit = SubmitField(_l("Remove"))
