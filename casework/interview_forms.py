"""Forms of the post-screening interview list: assignment, the invitation, the outcome."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput
from wtforms.widgets import ListWidget

from campus.fields import DayField
from campus.fields import DayTimeField
from campus.forms import VersionedForm

ATTENDANCE_CHOICES = [
    ("attended", _l("The student came")),
    ("no_show", _l("Did not come: reschedule")),
    ("unreachable", _l("Could not be reached: close without an interview")),
]
CONCLUSION_CHOICES = [
    ("no_concern", _l("No concern")),
    ("watch", _l("Watch")),
    ("follow_up", _l("Follow-up")),
    ("refer", _l("Refer")),
]
LEVEL_DECISION_CHOICES = [
    ("confirm", _l("Confirm the current level")),
    ("lower", _l("Lower it")),
    ("raise", _l("Raise it")),
]
LEVEL_CHOICES = [("", "—"), ("1", _l("blue")), ("2", _l("yellow")), ("3", _l("red"))]
NEXT_STEP_CHOICES = [
    ("none", _l("None")),
    ("follow_up", _l("Follow-up on a date")),
    ("refer", _l("Refer to a hospital")),
]


class AssignForm(FlaskForm):
    """Hand the chosen students (or every unassigned one of a department) to an interviewer."""

    entries = SelectMultipleField(
        _l("Students"),
        coerce=int,
        choices=[],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    department = SelectField(_l("Or every unassigned student of"), coerce=str, choices=[])
    interviewer = SelectField(
        _l("Interviewer"),
        coerce=str,
        choices=[],
        validators=[DataRequired(_l("Choose the interviewer."))],
    )
    submit = SubmitField(_l("Assign"))


class ScheduleForm(VersionedForm):
    when = DayTimeField(
        _l("Time"), format="%Y-%m-%dT%H:%M", validators=[InputRequired(_l("Choose a time."))]
    )
    place = StringField(_l("Place"), validators=[DataRequired(_l("Say where.")), Length(max=200)])
    submit = SubmitField(_l("Send the invitation"))


class OutcomeForm(VersionedForm):
    attendance = RadioField(
        _l("Did the student come?"),
        choices=ATTENDANCE_CHOICES,
        validators=[InputRequired(_l("Say whether the student came."))],
    )
    held_at = DayTimeField(
        _l("When it took place"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
        description=_l(
            "Leave empty if it took place at the invited time; give the time if the student "
            "came earlier or later."
        ),
    )
    conclusion = RadioField(_l("Conclusion"), choices=CONCLUSION_CHOICES, validators=[Optional()])
    level_decision = RadioField(
        _l("Warning level"),
        choices=LEVEL_DECISION_CHOICES,
        default="confirm",
        validators=[Optional()],
    )
    level = SelectField(_l("New level"), choices=LEVEL_CHOICES, validators=[Optional()])
    reason = TextAreaField(
        _l("Reason for the level (required to lower or raise)"),
        validators=[Optional(), Length(max=500)],
    )
    next_step = RadioField(
        _l("Next step"), choices=NEXT_STEP_CHOICES, default="none", validators=[Optional()]
    )
    follow_up_on = DayField(_l("Follow-up date"), validators=[Optional()])
    submit = SubmitField(_l("Record the outcome"))
