"""Forms of the retention pages: a student's erasure request, the director's decision, a hold."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import RadioField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from campus.fields import required_text


class ErasureRequestForm(FlaskForm):
    note = TextAreaField(
        _l("Anything you want the centre to know (optional)"),
        validators=[Optional(), Length(max=1000)],
    )
    understood = BooleanField(
        _l("I have read what will be erased and what may be kept."),
        validators=[DataRequired(_l("Tick the box to confirm you have read this page."))],
    )
    submit = SubmitField(_l("Ask for my data to be erased"))


class DecisionForm(FlaskForm):
    """The decision; what is kept comes as one `keep_<record type>` select per type (the
    service checks every value against its list of reasons)."""

    decision = RadioField(
        _l("Decision"),
        choices=[
            ("approve", _l("Approve (erase all but what is kept below)")),
            ("decline", _l("Decline")),
        ],
        validators=[InputRequired(_l("Choose approve or decline."))],
    )
    reason = TextAreaField(
        _l("Reasons (required to decline; shown to the student)"),
        validators=[Optional(), Length(max=1000)],
    )
    submit = SubmitField(_l("Record the decision"))


class HoldForm(FlaskForm):
    student_number = StringField(
        _l("Student number"),
        validators=[DataRequired(_l("Give the student number.")), Length(max=32)],
    )
    reason = required_text(
        _l("Legal reason for the hold"), _l("Give the legal reason for the hold."), 1000
    )
    submit = SubmitField(_l("Place the hold"))
