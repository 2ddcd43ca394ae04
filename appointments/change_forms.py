"""Forms of the appointment changes: cancel, move, join the waitlist, lift a booking bar."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import RadioField
from wtforms import SelectField
from wtforms.validators import Optional

from appointments.models import SessionKind
from campus.fields import DayField
from campus.fields import labelled_choices
from campus.fields import required_text

KIND_LABELS = {
    SessionKind.FIRST_VISIT: _l("First visit"),
    SessionKind.FOLLOW_UP: _l("Follow-up session"),
    SessionKind.GROUP: _l("Group session"),
}
COUNSELLOR_GENDER_CHOICES = [
    ("", _l("No preference")),
    ("F", _l("A woman counsellor")),
    ("M", _l("A man counsellor")),
]


class StudentCancelForm(FlaskForm):
    """The student's cancellation; after the limit the tick says they know it counts."""

    late_confirmed = BooleanField(
        _l("I understand this late cancellation is recorded and counts like a missed appointment.")
    )


class CentreCancelForm(FlaskForm):
    reason = required_text(
        _l("Why the centre cancels (the student reads this)"),
        _l("Say why the centre cancels: the student reads it."),
        300,
    )
    withdraw_slot = BooleanField(
        _l("The time itself is off (the counsellor is unavailable): do not offer it to others")
    )


class RescheduleForm(FlaskForm):
    # The choices are the free times of this moment; a forged or taken one is refused by the
    # service with its own message, so the choice is not validated against the list here.
    slot = RadioField(_l("New time"), coerce=int, choices=[], validate_choice=False)


class WaitlistForm(FlaskForm):
    kind = SelectField(
        _l("Kind of session"),
        choices=[("", _l("Any"))] + labelled_choices(KIND_LABELS),
        validators=[Optional()],
    )
    counsellor_gender = SelectField(
        _l("Counsellor's gender"), choices=COUNSELLOR_GENDER_CHOICES, validators=[Optional()]
    )
    counsellor = SelectField(
        _l("A particular counsellor"), choices=[], validate_choice=False, validators=[Optional()]
    )
    earliest_on = DayField(_l("From (first day you can come)"), validators=[Optional()])
    latest_on = DayField(_l("Until (last day you can come)"), validators=[Optional()])


class LiftForm(FlaskForm):
    reason = required_text(
        _l("Why the student may book again"), _l("Say why the student may book again."), 300
    )
