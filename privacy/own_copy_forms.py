"""The form staff fill in when a student's request for their own copy arrives on paper."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length

from campus.fields import DayField
from privacy.own_copy import VERIFICATIONS

FORMAT_LABELS = {"pdf": _l("PDF (to read and print)"), "json": _l("JSON (for a computer)")}
LANGUAGE_LABELS = {"zh_CN": _l("Chinese"), "en": _l("English")}


class PaperRequestForm(FlaskForm):
    received_on = DayField(
        _l("Date the request was received"),
        validators=[InputRequired(_l("Choose the day the request was received."))],
    )
    verified_by = SelectField(
        _l("How the request was verified"),
        choices=[(key, _l(words)) for key, words in VERIFICATIONS.items()],
        validators=[DataRequired(_l("Choose how the request was verified."))],
    )
    reference = StringField(
        _l("Reference (the form's number or the letter's reference)"),
        validators=[
            DataRequired(_l("Give the form's number or the letter's reference.")),
            Length(max=100),
        ],
    )
    fmt = SelectField(
        _l("File"),
        choices=list(FORMAT_LABELS.items()),
        validators=[DataRequired(_l("Choose the kind of file."))],
    )
    language = SelectField(
        _l("Language"),
        choices=list(LANGUAGE_LABELS.items()),
        validators=[DataRequired(_l("Choose the language."))],
    )
