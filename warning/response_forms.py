"""Forms of the intervention actions; each carries the warning's version for optimistic locking."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import RadioField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional
from wtforms.validators import ValidationError

from campus import clock
from campus.fields import DayField
from campus.fields import DayTimeField
from campus.fields import WholeNumberField
from campus.fields import choose_one
from campus.fields import required_text
from campus.forms import RecordForm
from campus.forms import VersionedForm
from warning.actions import CONTACT_METHODS
from warning.actions import CONTACT_OUTCOMES as OUTCOME_CODES

# The labels of the ways a student or guardian is reached; the codes are the rule's
# (`actions.CONTACT_METHODS`), so a code without a label fails at import, not on a page.
METHOD_LABELS = {
    "phone": _l("Phone"),
    "in_person": _l("In person"),
    "message": _l("Message"),
    "video": _l("Video call"),
}
METHOD_CHOICES = [(code, METHOD_LABELS[code]) for code in CONTACT_METHODS]
# What came of a contact, stored as its code and shown as its label.
CONTACT_OUTCOMES = {
    "reached": _l("Reached the student"),
    "no_answer": _l("No answer"),
    "declined": _l("The student declined to talk"),
    "message_left": _l("Left a message"),
    "rescheduled": _l("Agreed another time"),
}


class ActionForm(VersionedForm):
    """The form of one intervention action on a warning."""

    # Each action's button names it, and so does the message saying it was saved.
    submit: SubmitField


class AcknowledgeForm(ActionForm):
    submit = SubmitField(_l("Acknowledge"))


class ContactForm(ActionForm):
    method = choose_one(_l("How"), METHOD_CHOICES, _l("Choose how the student was contacted."))
    outcome = RadioField(
        _l("Outcome"),
        # From the actions' own list: an outcome without a label fails at import, not on a page.
        choices=[(code, CONTACT_OUTCOMES[code]) for code in OUTCOME_CODES],
        validators=[InputRequired(_l("Choose what came of the contact."))],
    )
    note = TextAreaField(
        _l("Note (department and school staff only)"), validators=[Optional(), Length(max=2000)]
    )
    submit = SubmitField(_l("Log contact"))


class AssessmentForm(ActionForm):
    outcome = StringField(
        _l("Assessment outcome"),
        validators=[DataRequired(_l("Say what the assessment found.")), Length(max=200)],
        # The timeline shows it to the department; the clinical note below stays the centre's.
        description=_l(
            "Department staff read this on the timeline: say what they need to act on, and keep "
            "diagnoses and clinical detail for the clinical note."
        ),
    )
    note = TextAreaField(
        _l("Clinical note (school centre only)"), validators=[Optional(), Length(max=4000)]
    )
    submit = SubmitField(_l("Record assessment"))


class PeerWatchForm(ActionForm):
    days = WholeNumberField(
        _l("Peer watch for how many days"),
        default=7,
        validators=[
            InputRequired(_l("Give how many days the peers keep company, from 1 to 30.")),
            NumberRange(min=1, max=30),
        ],
    )
    arranged = TextAreaField(
        _l("Company arranged in person"),
        description=_l(
            "Needed only when no classmate or roommate can receive the request: who keeps the "
            "student company, and how to reach them."
        ),
        validators=[Optional(), Length(max=2000)],
    )
    submit = SubmitField(_l("Ask class and dorm to keep company"))


class FollowUpForm(ActionForm):
    due_at = DayTimeField(
        _l("Next follow-up"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Choose when the next follow-up is."))],
    )
    submit = SubmitField(_l("Schedule follow-up"))


class EscalateForm(ActionForm):
    reason = required_text(
        _l("Why escalate"), _l("Say why the case goes one tier up."), 500, min_length=10
    )
    submit = SubmitField(_l("Escalate one tier up"))


class CloseForm(ActionForm):
    """解除预警 is final: the form says what will happen and the server refuses it unconfirmed."""

    consequence = _l(
        "Closing the warning ends it: the student leaves the warning queue and everyone's task "
        "lists, and the deadlines and tasks still open end now. Only a new signal opens a new "
        "warning."
    )
    outcome = required_text(
        _l("Outcome"), _l("Write the outcome of the warning."), 500, min_length=10
    )
    review_date = DayField(
        _l("Review date"), validators=[InputRequired(_l("Choose the day of the review."))]
    )
    confirm = BooleanField(
        _l("I have read the above and mean to close this warning"),
        validators=[
            DataRequired(_l("Tick the box to confirm that you mean to close the warning."))
        ],
    )
    submit = SubmitField(_l("Close warning"))

    def validate_review_date(self, field: DayField) -> None:
        """A review day after today, said beside the field with the form's other errors: a
        past day was refused only by the rules, after the outcome and the tick were fixed, one
        round later (`actions.check_close` still refuses it)."""
        if field.data is not None and field.data <= clock.local_date(
            clock.now(), clock.viewer_zone()
        ):
            raise ValidationError(_l("The review date must be in the future."))


class TaskDoneForm(FlaskForm):
    note = StringField(
        _l("Short note (no health details)"), validators=[Optional(), Length(max=300)]
    )
    submit = SubmitField(_l("Mark done"))


class CounsellorForm(ActionForm):
    # Choices: the centre's counsellors (`response_views.action_form` fills them).
    counsellor = SelectField(
        _l("Case counsellor"), coerce=int, validators=[InputRequired(_l("Choose the counsellor."))]
    )
    submit = SubmitField(_l("Give the case to a counsellor"))


class ShareOutForm(RecordForm):
    """The queue's: the ticked cases to one counsellor (choices: the centre's counsellors)."""

    # The ticked rows' warning ids; which of them the user may give is the service's to decide.
    cases = SelectMultipleField(
        coerce=int,
        validate_choice=False,
        validators=[DataRequired(_l("Tick the cases to give to a counsellor."))],
    )
    counsellor = SelectField(
        _l("Give the ticked cases to"),
        coerce=int,
        validators=[InputRequired(_l("Choose the counsellor."))],
    )
    submit = SubmitField(_l("Give them the cases"))


ACTION_FORMS: dict[str, type[ActionForm]] = {
    "acknowledge": AcknowledgeForm,
    "contact": ContactForm,
    "assessment": AssessmentForm,
    "peer_watch": PeerWatchForm,
    "follow_up": FollowUpForm,
    "counsellor": CounsellorForm,
    "escalate": EscalateForm,
    "close": CloseForm,
}
