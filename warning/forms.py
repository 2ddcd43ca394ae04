"""Forms of the early-warning pages: reports, life events, judgement, override, imports, policy."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms import RadioField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import ValidationError

from campus.fields import DayField
from campus.fields import choose_one
from campus.fields import labelled_choices
from campus.fields import required_text
from campus.fields import spreadsheet_file
from campus.forms import MultiCheckboxField
from campus.forms import OnceForm
from warning.help import CONTACT_WAYS
from warning.models import DANGER_CONCERNS
from warning.models import ConcernCategory
from warning.models import LifeEventKind

CONCERN_LABELS = {
    ConcernCategory.LOW_MOOD: _l("Low mood"),
    ConcernCategory.ISOLATION: _l("Isolation, keeps to themselves"),
    ConcernCategory.SLEEP: _l("Sleep problems"),
    ConcernCategory.CONFLICT: _l("Conflict with others"),
    ConcernCategory.SUICIDAL_TALK: _l("Talks about suicide or not wanting to live"),
    ConcernCategory.SELF_HARM: _l("Self-harm"),
    ConcernCategory.CRISIS_BEHAVIOUR: _l("Crisis behaviour (danger now)"),
    ConcernCategory.OTHER: _l("Other"),
}
LIFE_EVENT_LABELS = {
    LifeEventKind.BEREAVEMENT: _l("Bereavement"),
    LifeEventKind.FAMILY_CHANGE: _l("Family change (divorce, illness, …)"),
    LifeEventKind.FINANCIAL_HARDSHIP: _l("Financial hardship"),
    LifeEventKind.DISCIPLINARY_ACTION: _l("Disciplinary action"),
    LifeEventKind.INTERPERSONAL_ISOLATION: _l("Interpersonal isolation"),
}
LEVEL_CHOICES = [("1", _l("Blue")), ("2", _l("Yellow")), ("3", _l("Red"))]


# The words of the weekly report's button for a week with nothing to report, as the unit page
# (warning/unit.html) draws it.
ALL_IS_WELL = _l("All is well this week")


class WeeklyReportForm(FlaskForm):
    # Sent empty, the report is told its other way: a week with nothing to tell is filed with
    # the button above the note, not with an empty note.
    note = required_text(
        _l("What did you notice this week? (no diagnoses, just what you saw)"),
        _l("Write what you noticed this week, or tap “%(button)s” above.", button=ALL_IS_WELL),
        1000,
    )
    students = MultiCheckboxField(
        _l("Anyone you are worried about (optional)"), coerce=int, validators=[Optional()]
    )
    submit = SubmitField(_l("File this week's report"))


class RosterChoiceField(RadioField):
    """One student of the reporter's own list (the view sets the choices). Any other id, a
    forged one included, is refused in words that say nothing about that student."""

    def pre_validate(self, form) -> None:
        if self.data is not None and self.data not in {choice[0] for choice in self.choices or []}:
            raise ValidationError(_l("Choose a student from your list."))


class ConcernReportForm(OnceForm):
    # No student is chosen in advance: a report about the wrong person must never be one tap away.
    student_id = RosterChoiceField(
        _l("Who are you worried about?"),
        coerce=int,
        validators=[InputRequired(_l("Choose the student you are worried about."))],
    )
    category = choose_one(
        _l("What worries you"),
        labelled_choices(CONCERN_LABELS),
        _l("Choose what worries you about the student."),
    )
    # Required, except when someone may be in danger now: that report must not wait for words.
    text = TextAreaField(
        _l("What happened, in your words"),
        validators=[Length(max=2000)],
        description=_l(
            "If someone may be in danger now (suicidal talk, self-harm, crisis), you may send "
            "the report without this; add what you can."
        ),
    )
    submit = SubmitField(_l("Send concern report"))

    def validate_text(self, field) -> None:
        if not (field.data or "").strip() and self.category.data not in DANGER_CONCERNS:
            raise ValidationError(_l("Say what happened, in your words."))


class LifeEventForm(OnceForm):
    # Opens on "Choose…": with bereavement standing first and selected, a form sent with only
    # the date and the note recorded a death in the family nobody reported.
    kind = choose_one(
        _l("Life event"), labelled_choices(LIFE_EVENT_LABELS), _l("Choose the life event.")
    )
    occurred_on = DayField(
        _l("When it happened"), validators=[InputRequired(_l("Choose the day it happened."))]
    )
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=1000)])
    submit = SubmitField(_l("Record life event"))


class JudgementForm(OnceForm):
    level = choose_one(_l("Level you judge"), LEVEL_CHOICES, _l("Choose the level you judge."))
    label = required_text(
        _l("Your observation (shown to department staff)"),
        _l("Write what you observed."),
        300,
        min_length=5,
    )
    submit = SubmitField(_l("Record judgement"))


class OverrideForm(FlaskForm):
    level = choose_one(_l("New level"), LEVEL_CHOICES, _l("Choose the new level."))
    reason = required_text(
        _l("Reason for the override"),
        _l("Say why you set the level yourself."),
        500,
        min_length=10,
    )
    version = HiddenField()
    submit = SubmitField(_l("Override level"))


class AcademicImportForm(FlaskForm):
    file = spreadsheet_file(_l("Registrar file (CSV or XLSX)"))
    submit = SubmitField(_l("Check and import"))


class PolicyDraftForm(FlaskForm):
    # Tall and monospaced: the policy is read and edited as a whole file, its comments beside it.
    yaml_text = TextAreaField(
        _l("Policy (YAML)"),
        validators=[DataRequired(_l("Write the policy, or paste it.")), Length(max=100_000)],
        render_kw={"rows": 28, "spellcheck": "false", "class": "code"},
        # Whatever language the notes are in, the engine reads only the English names and values.
        description=_l(
            "Lines beginning with # are notes for the reader; the system does not read them. "
            "Setting names and values are read as written, in English (red, yellow, blue …)."
        ),
    )
    submit = SubmitField(_l("Save draft"))


# How a student asking for help would like to be reached, in her words; keyed by the rules' own
# list (`help.CONTACT_WAYS`), so a way without a label fails at import.
CONTACT_WAY_LABELS = {
    "phone": _l("Phone call"),
    "message": _l("A message (WeChat or text)"),
    "in_person": _l("Meet in person"),
}


class HelpRequestForm(OnceForm):
    """A student asking to be contacted. No free text about how she feels: the request reaches
    her department's staff too, and a few words of time are all they need to call her."""

    contact_by = RadioField(
        _l("How should we reach you?"),
        choices=[(way, CONTACT_WAY_LABELS[way]) for way in CONTACT_WAYS],
        validators=[InputRequired(_l("Choose how we should reach you."))],
    )
    good_time = StringField(
        _l("When suits you (optional)"),
        description=_l("For example: weekday afternoons, after 6 pm."),
        validators=[Optional(), Length(max=100)],
    )
    submit = SubmitField(_l("Ask a teacher to contact me"))
