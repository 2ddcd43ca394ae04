"""Forms of the prevention stage: campaigns, consent, the instrument page, results import."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import HiddenField
from wtforms import SelectField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional
from wtforms.validators import ValidationError

from campus.fields import DayTimeField
from campus.fields import WholeNumberField
from campus.fields import spreadsheet_file
from campus.forms import MultiCheckboxField


class CampaignForm(FlaskForm):
    """A screening campaign; the view sets the choices (instruments by name, the institution's
    grades, departments and classes), all as tick-boxes a phone can use."""

    name = StringField(
        _l("Campaign name"),
        validators=[DataRequired(_l("Give the campaign a name.")), Length(max=200)],
    )
    name_en = StringField(_l("Name in English (optional)"), validators=[Length(max=200)])
    instruments = MultiCheckboxField(
        _l("Instruments"),
        validators=[InputRequired(_l("Tick at least one instrument."))],
    )
    grades = MultiCheckboxField(_l("Grades (none ticked: all)"), coerce=int)
    department_ids = MultiCheckboxField(_l("Departments (none ticked: all)"), coerce=int)
    class_ids = MultiCheckboxField(_l("Classes (none ticked: all)"), coerce=int)
    opens_at = DayTimeField(
        _l("Opens"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Choose when the campaign opens."))],
    )
    closes_at = DayTimeField(
        _l("Closes"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Choose when the campaign closes."))],
    )
    consent_text_zh = TextAreaField(
        _l("Consent text (Chinese)"), validators=[Optional(), Length(max=5000)]
    )
    consent_text_en = TextAreaField(
        _l("Consent text (English)"), validators=[Optional(), Length(max=5000)]
    )
    reminder_every_days = WholeNumberField(
        _l("Remind students every N days (0: never)"),
        default=3,
        validators=[Optional(), NumberRange(min=0, max=30)],
    )
    students_see_report = BooleanField(
        _l("Students may download their own screening report (neutral wording, no answers)")
    )
    # The confirm step of a campaign overlapping others: the ids of those shown, and the tick.
    overlaps_seen = HiddenField()
    overlaps_confirmed = BooleanField(
        _l("I know these students are in both campaigns: save this one all the same")
    )
    # The confirm step of a moved close (`views._close_token`): the move and the values confirmed.
    close_seen = HiddenField()
    submit = SubmitField(_l("Save campaign"))

    def validate_closes_at(self, field) -> None:
        if self.opens_at.data and field.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("The window must close after it opens."))


class ConsentForm(FlaskForm):
    informed = BooleanField(
        _l("I have read the information above and agree to take part in this screening.")
    )
    sensitive_data = BooleanField(
        _l(
            "I agree that my answers, which are sensitive health data, are processed by the "
            "mental health centre as described above."
        )
    )
    guardian_name = StringField(_l("Guardian's name"), validators=[Optional(), Length(max=100)])
    guardian_relationship = StringField(
        _l("Guardian's relationship to you"), validators=[Optional(), Length(max=50)]
    )
    guardian_agrees = BooleanField(
        _l("My guardian has read the information above and agrees that I take part.")
    )
    submit = SubmitField(_l("Agree and start"))


class InstrumentPageForm(FlaskForm):
    """Only CSRF and the submission token: the radio groups are rendered from the instrument."""

    token = HiddenField()


class ResultsImportForm(FlaskForm):
    instrument = SelectField(
        _l("Instrument"), validators=[DataRequired(_l("Choose the instrument of the results."))]
    )
    file = spreadsheet_file(_l("Results file (CSV or XLSX)"))
    clean_rows_only = BooleanField(_l("Import only the clean rows if some rows are bad"))
    submit = SubmitField(_l("Check and import"))
