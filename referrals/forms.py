"""Forms of the recovery stage: hospitals, referrals and their moves, leave and return, audit."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
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
from wtforms.validators import Optional

from campus.fields import DayField
from campus.fields import DayTimeField
from campus.fields import choose_one
from campus.fields import labelled_choices
from campus.fields import required_text
from campus.forms import ROLE_LABELS
from campus.forms import MultiCheckboxField
from campus.forms import OnceForm
from campus.forms import RecordForm
from campus.forms import VersionedForm
from campus.local_time import day_words
from campus.models import Role
from referrals.disclosure import DEFAULT_DISCLOSED
from referrals.disclosure import DISCLOSABLE
from referrals.models import AssessmentOutcome
from referrals.models import ConsentBy
from referrals.models import LeaveOfAbsence
from referrals.models import LeaveReason
from referrals.models import LeaveStatus
from referrals.models import PlanSection
from referrals.models import ReferralStatus
from referrals.models import ReturnAssessment
from referrals.models import Urgency

URGENCY_LABELS = {
    Urgency.ROUTINE: _l("Routine"),
    Urgency.URGENT: _l("Urgent"),
    Urgency.EMERGENCY: _l("Emergency"),
}
OUTCOME_LABELS = {
    AssessmentOutcome.NO_DISORDER: _l("No disorder"),
    AssessmentOutcome.OUTPATIENT: _l("Outpatient treatment"),
    AssessmentOutcome.INPATIENT: _l("Inpatient treatment"),
}
CONSENT_LABELS = {ConsentBy.STUDENT: _l("The student"), ConsentBy.GUARDIAN: _l("A guardian")}
CONSENT_METHODS = [
    ("written", _l("Signed in writing")),
    ("in_person", _l("Verbally, in person")),
    ("phone", _l("By phone")),
    ("electronic", _l("Electronically")),
]
REASON_LABELS = {
    LeaveReason.MENTAL_HEALTH: _l("Mental health"),
    LeaveReason.PHYSICAL_HEALTH: _l("Physical health"),
    LeaveReason.OTHER: _l("Other"),
}
LEAVE_STATUS_LABELS = {
    LeaveStatus.ON_LEAVE: _l("On leave"),
    LeaveStatus.RETURNED: _l("Returned to school"),
    LeaveStatus.CLOSED: _l("Case closed"),
}


def leave_status_text(leave: LeaveOfAbsence, today: date) -> str:
    """The leave's status as its pages say it: a return approved ahead of its date is not yet
    a return, and "returned" read as if the student were back in class already."""
    if leave.status is LeaveStatus.RETURNED and leave.returned_on and leave.returned_on > today:
        return str(_l("Return approved for %(day)s", day=day_words(leave.returned_on)))
    return str(LEAVE_STATUS_LABELS[leave.status])


def owner_label(name: str, roles: tuple[Role, ...]) -> str:
    """A plan owner's name with the roles that put them around the student (王芳（院系辅导员）):
    the name alone does not say whether she is the department counsellor or the dorm informant."""
    if not roles:
        return name
    labels = str(_lp("list separator", ", ")).join(str(ROLE_LABELS[r]) for r in roles)
    return str(_l("%(name)s (%(role)s)", name=name, role=labels))


SECTION_LABELS = {
    PlanSection.ACADEMIC: _l("Academic adjustments"),
    PlanSection.PSYCHOLOGICAL: _l("Psychological support"),
    PlanSection.DAILY_LIFE: _l("Daily-life care"),
}
ASSESSMENT_LABELS = {
    ReturnAssessment.FIT_TO_RETURN: _l("Fit to return"),
    ReturnAssessment.NOT_YET: _lp("return assessment", "Not yet"),
}


class HospitalForm(FlaskForm):
    name = StringField(
        _l("Hospital name"),
        validators=[DataRequired(_l("Give the hospital's name.")), Length(max=200)],
    )
    name_en = StringField(_l("Name in English (optional)"), validators=[Length(max=200)])
    department = StringField(_l("Department (e.g. psychiatry)"), validators=[Length(max=200)])
    department_en = StringField(
        _l("Department in English (optional)"), validators=[Length(max=200)]
    )
    green_channel_contact = StringField(_l("Green-channel contact"), validators=[Length(max=200)])
    submit = SubmitField(_l("Add hospital"))


class ReferralFields(RecordForm):
    """What a referral says: to which hospital, why, what is disclosed, and the consent."""

    hospital_id = SelectField(
        _l("Hospital"), coerce=int, validators=[InputRequired(_l("Choose the hospital."))]
    )
    reason = required_text(
        _l("Reason for referral"), _l("Write why the student is referred."), 2000
    )
    urgency = SelectField(_l("Urgency"), choices=labelled_choices(URGENCY_LABELS))
    green_channel = BooleanField(_l("Green channel (urgent appointment through the hospital)"))
    disclosed_fields = MultiCheckboxField(
        _l("Fields disclosed to the hospital"),
        choices=[(key, item.label) for key, item in DISCLOSABLE.items()],
        default=list(DEFAULT_DISCLOSED),
    )
    screening_summary = TextAreaField(
        _l("Screening summary (only sent if ticked above)"), validators=[Length(max=2000)]
    )
    internal_note = TextAreaField(
        _l("Internal note (never sent to the hospital)"), validators=[Length(max=2000)]
    )
    consent_by = SelectField(_l("Consent given by"), choices=labelled_choices(CONSENT_LABELS))
    # Shown by the page when the student is under 18 today (`services.is_minor_on`).
    MINOR_HINT = _l(
        "The student is under 18: the referral can be sent only with a guardian's consent. You "
        "may save the draft before the guardian is reached."
    )
    consent_name = StringField(
        _l("Name of the person consenting"),
        validators=[
            DataRequired(_l("Give the name of the person who consented.")),
            Length(max=100),
        ],
    )
    consent_method = SelectField(_l("How consent was given"), choices=CONSENT_METHODS)
    consent_at = DayTimeField(
        _l("When consent was given"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Choose when consent was given."))],
    )


class ReferralForm(ReferralFields, OnceForm):
    submit = SubmitField(_l("Save referral as draft"))


class DraftForm(ReferralFields, VersionedForm):
    """A draft corrected before it is sent: the hospital has seen nothing of it yet."""

    submit = SubmitField(_l("Save the draft"))


class TransitionForm(FlaskForm):
    """One form per move (prefixed by its target); which fields a move needs the service checks."""

    version = HiddenField(validators=[InputRequired(_l("Reload the form."))])
    note = TextAreaField(_l("Note"), validators=[Length(max=1000)])
    appointment_at = DayTimeField(
        _l("Appointment date and time"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    outcome = SelectField(
        _l("Assessment outcome"),
        choices=[("", "—"), *labelled_choices(OUTCOME_LABELS)],
        validators=[Optional()],
    )
    declined_by = SelectField(
        _l("Refused by"),
        choices=[("", "—"), *labelled_choices(CONSENT_LABELS)],
        validators=[Optional()],
    )


class ConfirmedTransitionForm(TransitionForm):
    """A move that cannot be undone: the page says what will happen, the server wants it ticked."""

    confirm = BooleanField(
        _l("I have read what will happen and want to go ahead"),
        validators=[DataRequired(_l("Tick the box to confirm this step."))],
    )


# The button of each move, a plain verb for what it does.
MOVE_VERBS = {
    ReferralStatus.SENT: _l("Send referral"),
    ReferralStatus.APPOINTMENT_BOOKED: _l("Record the appointment"),
    ReferralStatus.ASSESSED: _l("Record the assessment"),
    ReferralStatus.IN_TREATMENT: _l("Record the start of treatment"),
    ReferralStatus.DISCHARGED: _l("Record the discharge"),
    ReferralStatus.CLOSED: _l("Close referral"),
    ReferralStatus.DECLINED: _l("Record the refusal"),
    ReferralStatus.LOST_TO_FOLLOW_UP: _l("Mark as lost to follow-up"),
    ReferralStatus.WITHDRAWN: _l("Withdraw referral"),
}
# The button of an appointment booked again, from "appointment booked".
REBOOK_VERB = _l("Change the appointment time")
# The button of "discharged" for outpatient care: its treatment ends, nobody leaves a ward.
TREATMENT_ENDED_VERB = _l("Record the end of treatment")
# What the liaison's recording of the end of treatment leads to, said on its form.
LIAISON_END_HINTS = {
    AssessmentOutcome.OUTPATIENT: _l(
        "When the student's outpatient treatment has ended, record it here: the school's "
        "counsellor is told, follows up with the student and closes the referral."
    ),
    AssessmentOutcome.INPATIENT: _l(
        "When the student leaves hospital, record the discharge here: the school's counsellor is "
        "told, plans the return and follow-up, and closes the referral."
    ),
}
# "Lost to follow-up" as the liaison reads it: the last resort, not the way to end treatment.
LIAISON_LOST_CONSEQUENCE = _l(
    "Only when the student has stopped coming and cannot be reached. Marking the referral lost "
    "to follow-up ends it for good: it can no longer be updated, and it counts as an open loop in "
    "the school's referral closure audit."
)
# ...and, in treatment, the way to end it instead, named by its button (`%(end)s`: the verb of
# "discharged" for the outcome, 登记出院 or 登记结束治疗), so the words match what she can press.
LIAISON_LOST_INSTEAD = {
    AssessmentOutcome.OUTPATIENT: _l("If the treatment has ended, press “%(end)s” instead."),
    AssessmentOutcome.INPATIENT: _l("If the student has left hospital, press “%(end)s” instead."),
}
# What a move that cannot be undone does, said before it is confirmed: sending hands personal
# data to the hospital; the final states end the referral. %(hospital)s and %(fields)s are the
# referral's hospital and the fields ticked for disclosure.
MOVE_CONSEQUENCES = {
    ReferralStatus.SENT: _l(
        "Sending passes the student's %(fields)s to the liaison of %(hospital)s. What is sent "
        "cannot be called back; afterwards you can only withdraw the referral."
    ),
    ReferralStatus.CLOSED: _l("Closing ends this referral for good: it can no longer be updated."),
    ReferralStatus.DECLINED: _l(
        "Recording the refusal ends this referral for good: it can no longer be updated. Say in "
        "the note who refused and why."
    ),
    ReferralStatus.LOST_TO_FOLLOW_UP: _l(
        "Marking the referral lost to follow-up ends it for good: it can no longer be updated, "
        "and it counts as an open loop in the referral closure audit."
    ),
    ReferralStatus.WITHDRAWN: _l(
        "Withdrawing ends this referral for good: it can no longer be updated. To refer the "
        "student again, start a new referral."
    ),
}


def transition_form(target: ReferralStatus, **kwargs) -> TransitionForm:
    """The form of the move to `target`: confirmed when the move cannot be undone."""
    form_class = ConfirmedTransitionForm if target in MOVE_CONSEQUENCES else TransitionForm
    return form_class(prefix=target.value, **kwargs)


class LeaveForm(FlaskForm):
    student_number = StringField(
        _l("Student number"),
        validators=[DataRequired(_l("Give the student number.")), Length(max=32)],
    )
    start_date = DayField(
        _l("Leave starts"), validators=[InputRequired(_l("Choose the day the leave starts."))]
    )
    expected_return_date = DayField(
        _l("Expected return"),
        validators=[InputRequired(_l("Choose the day the student is expected back."))],
    )
    reason_category = SelectField(_l("Reason category"), choices=labelled_choices(REASON_LABELS))
    submit = SubmitField(_l("Record leave"))


class StatementForm(FlaskForm):
    received_on = DayField(
        _l("Statement received on"),
        validators=[InputRequired(_l("Choose the day the statement was received."))],
    )
    hospital = StringField(
        _l("Issuing hospital"),
        validators=[
            DataRequired(_l("Give the hospital that issued the statement.")),
            Length(max=200),
        ],
    )
    summary = required_text(
        _l("Summary of the statement"), _l("Write what the statement says, in short."), 4000
    )
    submit = SubmitField(_l("Record statement"))


class AssessmentForm(FlaskForm):
    # Opens on "Choose…" and needs its grounds: a form sent untouched recorded "fit to return".
    outcome = choose_one(
        _l("Centre assessment"),
        labelled_choices(ASSESSMENT_LABELS),
        _l("Choose the centre's assessment."),
    )
    note = required_text(
        _l("Assessment note"), _l("Write what the assessment found and why."), 4000
    )
    submit = SubmitField(_l("Record assessment"))


class ApproveReturnForm(FlaskForm):
    returned_on = DayField(
        _l("Return date"), validators=[InputRequired(_l("Choose the day the student returns."))]
    )
    # Asked only while a referral of the student records no discharge from inpatient care
    # (`referrals.leave.check_return` decides; the page shows them only then).
    inpatient_confirmed = BooleanField(
        _l("I have checked that the student has left inpatient care and approve the return")
    )
    inpatient_reason = TextAreaField(
        _l("Why the return is approved with no discharge recorded"),
        validators=[Length(max=500, message=_l("Write at most %(max)d characters."))],
    )
    submit = SubmitField(_l("Approve return"))


class PlanItemForm(OnceForm):
    section = SelectField(_l("Section"), choices=labelled_choices(SECTION_LABELS))
    text = StringField(
        _l("What is to be done (the owner sees this; no clinical detail)"),
        validators=[DataRequired(_l("Say what is to be done.")), Length(max=300)],
    )
    owner_id = SelectField(
        _l("Owner"), coerce=int, validators=[InputRequired(_l("Choose who will do it."))]
    )
    due_date = DayField(_l("Due date"), validators=[InputRequired(_l("Choose the day it is due."))])
    submit = SubmitField(_l("Add plan item"))


class HandOverForm(FlaskForm):
    """An open plan item given to someone else around the student (its owner left, or cannot)."""

    owner_id = SelectField(
        _l("New owner"), coerce=int, validators=[InputRequired(_l("Choose the new owner."))]
    )
    submit = SubmitField(_l("Hand over"))


class CancelAppointmentsForm(FlaskForm):
    """The appointments a student on leave still has booked, cancelled at once by the centre."""

    reason = required_text(
        _l("What the student reads"),
        _l("Write what the student reads about the cancellation."),
        300,
    )
    submit = SubmitField(_l("Cancel these appointments"))


class WithdrawItemForm(FlaskForm):
    """A mistaken plan item withdrawn: kept in the plan as withdrawn, with this reason."""

    reason = required_text(_l("Why it is withdrawn"), _l("Say why the item is withdrawn."), 500)
    submit = SubmitField(_l("Withdraw the item"))


class PlanTaskDoneForm(FlaskForm):
    """Ticking a plan item or follow-up: its owner needs no note, anyone else says what was done
    (`referrals.leave.check_task_done` decides; the page asks only those who must)."""

    note = TextAreaField(
        _l("What was done, or what its owner told you"), validators=[Length(max=500)]
    )


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter: nothing is written

    first = DayField(
        _l("From"), validators=[InputRequired(_l("Choose the first day of the period."))]
    )
    last = DayField(_l("To"), validators=[InputRequired(_l("Choose the last day of the period."))])


STATUS_LABELS = {
    ReferralStatus.DRAFT: _l("Draft"),
    ReferralStatus.SENT: _l("Sent"),
    ReferralStatus.APPOINTMENT_BOOKED: _l("Appointment booked"),
    ReferralStatus.ASSESSED: _l("Assessed"),
    ReferralStatus.IN_TREATMENT: _l("In treatment"),
    ReferralStatus.DISCHARGED: _l("Discharged / treatment ended"),
    ReferralStatus.CLOSED: _l("Closed"),
    ReferralStatus.DECLINED: _l("Declined"),
    ReferralStatus.LOST_TO_FOLLOW_UP: _l("Lost to follow-up"),
    ReferralStatus.WITHDRAWN: _l("Withdrawn"),
}
