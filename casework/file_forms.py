"""Forms and words of the student file and the family-contact log."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from wtforms import HiddenField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import Regexp

from campus.fields import DayField
from campus.fields import DayTimeField
from campus.fields import choose_one
from campus.fields import labelled_choices
from campus.forms import MultiCheckboxField
from campus.forms import OnceForm
from campus.forms import RecordForm
from campus.models import EnrolmentStatus
from casework.family_contacts import AGREEMENTS
from casework.models import ContactChannel
from casework.models import ContactDirection
from casework.models import ContactOutcome

DIRECTION_LABELS = {
    ContactDirection.WE_CALLED: _l("We contacted the guardian"),
    ContactDirection.GUARDIAN_CALLED: _l("The guardian contacted us"),
    ContactDirection.MET: _l("Met in person"),
}
CHANNEL_LABELS = {
    ContactChannel.PHONE: _l("Phone"),
    ContactChannel.IN_PERSON: _l("In person"),
    ContactChannel.WECHAT: _l("WeChat"),
    ContactChannel.SMS: _l("Text message"),
    ContactChannel.VIDEO: _l("Video call"),
}
OUTCOME_LABELS = {
    ContactOutcome.REACHED: _l("Reached"),
    ContactOutcome.NOT_REACHED: _l("Not reached"),
    ContactOutcome.REFUSED: _l("Refused to talk"),
}
AGREEMENT_LABELS = {
    "informed_consent": _l("Guardian informed and consents"),
    "accompany_to_hospital": _l("Agrees to accompany the student to hospital"),
    "take_home": _l("Agrees to take the student home"),
    "leave_arrangement": _l("Agrees to the leave or return arrangements"),
    "refused_cooperation": _l("Refuses to cooperate"),
}
assert tuple(AGREEMENT_LABELS) == AGREEMENTS, "every agreement needs its words, in order"


class FamilyContactForm(OnceForm):
    """One contact with a guardian; sent twice, it stores one entry. Its three choices open on
    "Choose…": with "we called, by phone, reached" chosen in advance, a form sent in a hurry
    recorded a guardian told who was never reached, and met the red warning's deadline to tell
    her."""

    corrects = HiddenField(validators=[Optional(), Regexp(r"^\d{1,9}$")])
    at = DayTimeField(
        _l("When"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Give the date and time of the contact."))],
    )
    direction = choose_one(
        _l("Who contacted whom"),
        labelled_choices(DIRECTION_LABELS),
        _l("Choose who contacted whom."),
    )
    guardian_name = StringField(
        _l("Guardian's name"),
        validators=[DataRequired(_l("Give the guardian's name.")), Length(max=100)],
    )
    guardian_relation = StringField(
        _l("Relation to the student (e.g. mother)"), validators=[Optional(), Length(max=50)]
    )
    channel = choose_one(
        _l("Channel"), labelled_choices(CHANNEL_LABELS), _l("Choose how you were in touch.")
    )
    summary = TextAreaField(
        _l("What was said"),
        validators=[DataRequired(_l("Write what was said.")), Length(max=4000)],
    )
    outcome = choose_one(
        _l("Outcome"),
        labelled_choices(OUTCOME_LABELS),
        _l("Choose the outcome: whether the guardian was reached."),
    )
    agreements = MultiCheckboxField(
        _l("Agreements"), choices=list(AGREEMENT_LABELS.items()), validators=[Optional()]
    )
    other_agreement = StringField(_l("Other agreement"), validators=[Optional(), Length(max=200)])
    follow_up_on = DayField(_l("Follow up on (optional)"), validators=[Optional()])
    submit = SubmitField(_l("Save the contact"))


GENDER_LABELS = {"M": _l("Male"), "F": _l("Female")}
ENROLMENT_LABELS = {
    EnrolmentStatus.ENROLLED: _l("Enrolled"),
    EnrolmentStatus.ON_LEAVE: _l("On leave"),
    EnrolmentStatus.GRADUATED: _l("Graduated"),
    EnrolmentStatus.WITHDRAWN: _l("Withdrawn"),
    EnrolmentStatus.REMOVED: _l("Removed: entered in error"),
}


def agreement_words(agreements: list[str], other: str) -> str:
    """An entry's agreements in the reader's words, the free "other" one last."""
    words = [str(AGREEMENT_LABELS[a]) for a in agreements if a in AGREEMENT_LABELS]
    return pgettext("list separator", ", ").join(words + ([other] if other else []))


class GuardianForm(RecordForm):
    """The guardian on file corrected (`casework.guardian_corrections`). `was_name` and
    `was_phone` are the guardian as the page showed it: sent twice, the second finds the
    correction made; sent after someone else's, it is refused."""

    was_name = HiddenField(validators=[Length(max=100)])
    was_phone = HiddenField(validators=[Length(max=40)])
    name = StringField(_l("Guardian's name"), validators=[Optional(), Length(max=100)])
    phone = StringField(
        _l("Guardian's phone"),
        validators=[
            DataRequired(_l("Give the guardian's phone number.")),
            Length(max=40, message=_l("The phone number is too long.")),
        ],
        render_kw={"type": "tel", "inputmode": "tel"},
    )
    submit = SubmitField(_l("Save the correction"))
