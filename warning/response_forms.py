"""Forms of the intervention actions; each carries the warning's version for optimistic locking."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

METHOD_CHOICES = [
    ("phone", _l("Phone")),
    ("in_person", _l("In person")),
    ("message", _l("Message")),
    ("video", _l("Video call")),
]


class VersionedForm(FlaskForm):
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1)])


class AcknowledgeForm(VersionedForm):
    submit = SubmitField(_l("Acknowledge"))


class ContactForm(VersionedForm):
    method = SelectField(_l("How"), choices=METHOD_CHOICES, validators=[DataRequired()])
    outcome = StringField(_l("Outcome"), validators=[DataRequired(), Length(max=200)])
    note = TextAreaField(
        _l("Note (department and school staff only)"), validators=[Optional(), Length(max=2000)]
    )
    submit = SubmitField(_l("Log contact"))


class GuardianForm(VersionedForm):
    method = SelectField(_l("How"), choices=METHOD_CHOICES, validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Guardian notified"))


class AssessmentForm(VersionedForm):
    outcome = StringField(_l("Assessment outcome"), validators=[DataRequired(), Length(max=200)])
    note = TextAreaField(
        _l("Clinical note (school centre only)"), validators=[Optional(), Length(max=4000)]
    )
    submit = SubmitField(_l("Record assessment"))


class PeerWatchForm(VersionedForm):
    days = IntegerField(
        _l("Peer watch for how many days"),
        default=7,
        validators=[InputRequired(), NumberRange(min=1, max=30)],
    )
    submit = SubmitField(_l("Ask class and dorm to keep company"))


class FollowUpForm(VersionedForm):
    due_at = DateTimeLocalField(
        _l("Next follow-up"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )
    submit = SubmitField(_l("Schedule follow-up"))


class EscalateForm(VersionedForm):
    reason = TextAreaField(_l("Why escalate"), validators=[DataRequired(), Length(min=10, max=500)])
    submit = SubmitField(_l("Escalate one tier up"))


class CloseForm(VersionedForm):
    outcome = TextAreaField(_l("Outcome"), validators=[DataRequired(), Length(min=10, max=500)])
    review_date = DateField(_l("Review date"), validators=[DataRequired()])
    submit = SubmitField(_l("Close warning"))


class TaskDoneForm(FlaskForm):
    note = StringField(
        _l("Short note (no health details)"), validators=[Optional(), Length(max=300)]
    )
    submit = SubmitField(_l("Mark done"))


ACTION_FORMS: dict[str, type[VersionedForm]] = {
    "acknowledge": AcknowledgeForm,
    "contact": ContactForm,
    "guardian": GuardianForm,
    "assessment": AssessmentForm,
    "peer_watch": PeerWatchForm,
    "follow_up": FollowUpForm,
    "escalate": EscalateForm,
    "close": CloseForm,
}
