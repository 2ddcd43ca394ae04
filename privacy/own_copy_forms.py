"""The form staff fill in when a student's request for their own copy arrives on paper."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms import SelectField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length

from privacy.own_copy import VERIFICATIONS

FORMAT_LABELS = {"pdf": _l("PDF (to read and print)"), "json": _l("JSON (for a computer)")}
LANGUAGE_LABELS = {"zh_CN": _l("Chinese"), "en": _l("English")}


class PaperRequestForm(FlaskForm):
    received_on = DateField(_l("Date the request was received"), validators=[InputRequired()])
    verified_by = SelectField(
        _l("How the request was verified"),
        choices=[(key, _l(words)) for key, words in VERIFICATIONS.items()],
        validators=[DataRequired()],
    )
    reference = StringField(
        _l("Reference (the form's number or the letter's reference)"),
        validators=[DataRequired(), Length(max=100)],
    )
    fmt = SelectField(_l("File"), choices=list(FORMAT_LABELS.items()), validators=[DataRequired()])
    language = SelectField(
        _l("Language"), choices=list(LANGUAGE_LABELS.items()), validators=[DataRequired()]
    )
