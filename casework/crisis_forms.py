"""Forms of crisis records, their documents and the contagion follow-up."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired
from wtforms import BooleanField
from wtforms import RadioField
from wtforms import SelectField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from campus.documents import PRINT_LANGUAGES
from campus.documents import institution_language
from campus.fields import DayField
from campus.fields import DayTimeField
from campus.fields import labelled_choices
from campus.fields import required_text
from campus.forms import MultiCheckboxField
from campus.forms import OnceForm
from campus.i18n import N_
from casework.file_forms import CHANNEL_LABELS
from casework.file_forms import OUTCOME_LABELS
from casework.models import ContactChannel
from casework.models import ContagionRelation
from casework.models import CrisisAction
from casework.models import CrisisDocumentKind

ACTION_LABELS = {
    CrisisAction.ACCOMPANIED: _l("Accompanied by staff"),
    CrisisAction.HOSPITAL: _l("Taken to hospital"),
    CrisisAction.POLICE: _l("Police called (110)"),
    CrisisAction.AMBULANCE: _l("Ambulance called (120)"),
    CrisisAction.GUARDIAN_INFORMED: _l("Guardian informed"),
    CrisisAction.GUARDIAN_ARRIVED: _l("Guardian arrived"),
    CrisisAction.HANDED_OVER: _l("Handed over to the family"),
}
# What a call to the family logged from an entry says without words of its own: the account is
# in the crisis record, which the family log's readers (the department leader) do not read.
FAMILY_SUMMARY = N_("Logged with an entry of the crisis record, which holds the account.")
# What the entry form offers to tick: "guardian informed" is said by the call to the family that
# reached the guardian (`EntryForm.family_outcome`), which is the family contact too.
TICKED_ACTIONS = {
    action: label
    for action, label in ACTION_LABELS.items()
    if action is not CrisisAction.GUARDIAN_INFORMED
}
DOCUMENT_LABELS = {
    CrisisDocumentKind.GUARDIAN_NOTICE: _l("Guardian informed notice"),
    CrisisDocumentKind.SAFETY_PLEDGE: _l("Safety pledge"),
}
RELATION_LABELS = {
    ContagionRelation.ROOMMATE: _l("Roommate"),
    ContagionRelation.CLASSMATE: _l("Classmate"),
    ContagionRelation.WITNESS: _l("Witness"),
    ContagionRelation.FRIEND: _l("Friend"),
    ContagionRelation.OTHER: _l("Other"),
}
# The relations a counsellor gives students found by number (roommates and classmates are
# offered by name, their relation known).
NUMBER_RELATIONS = {
    relation: label
    for relation, label in RELATION_LABELS.items()
    if relation not in (ContagionRelation.ROOMMATE, ContagionRelation.CLASSMATE)
}
LOCAL_MINUTE = "%Y-%m-%dT%H:%M"


class EntryForm(OnceForm):
    """One account of what happened; times are the institution's local time. Sent twice, the
    same form is one entry (see CrisisEntry)."""

    occurred_at = DayTimeField(
        _l("When it happened"),
        format=LOCAL_MINUTE,
        validators=[InputRequired(_l("Choose when it happened."))],
    )
    place = StringField(
        _l("Where"), validators=[DataRequired(_l("Say where it happened.")), Length(max=200)]
    )
    narrative = required_text(_l("What happened"), _l("Write what happened."), 4000)
    present = StringField(_l("Who was present"), validators=[Optional(), Length(max=500)])
    actions = MultiCheckboxField(
        _l("What was done"), choices=labelled_choices(TICKED_ACTIONS), validators=[Optional()]
    )
    hospital = StringField(
        _l("Hospital (if taken to one)"), validators=[Optional(), Length(max=200)]
    )
    handed_over_at = DayTimeField(
        _l("Handed over to the family at"), format=LOCAL_MINUTE, validators=[Optional()]
    )
    handed_over_to = StringField(
        _l("Handed over to (name and relation)"), validators=[Optional(), Length(max=100)]
    )
    # The call to the family, saved as a family contact (`crisis.FamilyCall`); no outcome, no
    # call in this entry.
    family_outcome = RadioField(
        _l("Call to the family"),
        choices=[("", _l("No call in this entry")), *labelled_choices(OUTCOME_LABELS)],
        default="",
        validators=[Optional()],
    )
    family_name = StringField(_l("Guardian's name"), validators=[Optional(), Length(max=100)])
    family_relation = StringField(
        _l("Relation to the student (e.g. mother)"), validators=[Optional(), Length(max=50)]
    )
    family_channel = SelectField(
        _l("Channel"), choices=labelled_choices(CHANNEL_LABELS), default=ContactChannel.PHONE.value
    )
    family_at = DayTimeField(
        _l("When the family was called (empty: now)"), format=LOCAL_MINUTE, validators=[Optional()]
    )
    family_said = TextAreaField(
        _l("What was said (optional)"), validators=[Optional(), Length(max=4000)]
    )
    corrects = SelectField(_l("Corrects an earlier entry"), coerce=int, default=0)
    submit = SubmitField(_l("Add to the record"))


class GenerateDocumentForm(FlaskForm):
    kind = SelectField(_l("Document"), validators=[DataRequired(_l("Choose the document."))])
    # The family's or the student's language, not the counsellor's: the institution's unless
    # changed, and kept with the copy (`CrisisDocument.language`).
    language = SelectField(
        _l("Language"),
        choices=list(PRINT_LANGUAGES.items()),
        default=institution_language,
        validators=[DataRequired(_l("Choose the language."))],
    )
    submit = SubmitField(_l("Generate a copy"))


class SignatureForm(FlaskForm):
    signed_on = DayField(
        _l("Signed on"), validators=[InputRequired(_l("Choose the day it was signed."))]
    )
    signed_by = StringField(
        _l("Signed by"), validators=[DataRequired(_l("Give who signed it.")), Length(max=100)]
    )
    scan = FileField(_l("Signed scan (PDF, JPEG or PNG; optional)"))
    submit = SubmitField(_l("Record the signature"))


class ScanForm(FlaskForm):
    scan = FileField(
        _l("Signed scan (PDF, JPEG or PNG)"),
        validators=[FileRequired(_l("Choose the signed scan to attach."))],
    )
    submit = SubmitField(_l("Attach the scan"))


class ContagionForm(FlaskForm):
    roommates = MultiCheckboxField(_l("Roommates"), coerce=int, validators=[Optional()])
    classmates = MultiCheckboxField(_l("Classmates"), coerce=int, validators=[Optional()])
    numbers = TextAreaField(
        _l("Other students by student number"),
        validators=[Optional(), Length(max=2000)],
        description=_l("One or more student numbers, separated by spaces, commas or lines."),
    )
    relation = SelectField(
        _l("Their relation to the student"),
        choices=labelled_choices(NUMBER_RELATIONS),
        default=ContagionRelation.WITNESS.value,
    )
    submit = SubmitField(_l("List for follow-up"))


class ClearForm(FlaskForm):
    note = required_text(
        _l("How is the student?"), _l("Say how the student is."), 500, min_length=4
    )
    submit = SubmitField(_l("Clear from the list"))


class EscalateForm(FlaskForm):
    note = required_text(
        _l("Why this student needs a warning"),
        _l("Say why this student needs a warning."),
        500,
        min_length=4,
    )
    level = RadioField(
        _l("Level"),
        choices=[("1", _l("blue")), ("2", _l("yellow")), ("3", _l("red"))],
        default="2",
        validators=[InputRequired(_l("Choose the level."))],
    )
    submit = SubmitField(_l("Escalate to a warning"))


class SettingsForm(FlaskForm):
    safety_pledge = BooleanField(_l("The centre asks for a safety pledge at hand-over"))
    submit = SubmitField(_l("Save"))
