"""Forms of the campus kernel: sign-in, passwords, structure, users, roster import."""

from __future__ import annotations

import uuid
from typing import Any, Protocol, Self, TypeVar, cast

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField
from wtforms import Field
from wtforms import HiddenField
from wtforms import PasswordField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import SubmitField
from wtforms.validators import DataRequired
from wtforms.validators import Email
from wtforms.validators import EqualTo
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput
from wtforms.widgets import HiddenInput
from wtforms.widgets import ListWidget

from campus.fields import DayField
from campus.fields import WholeNumberField
from campus.fields import required_text
from campus.fields import spreadsheet_file
from campus.fields import whole_number
from campus.i18n import N_
from campus.models import PEER_UNIT
from campus.models import ROLE_SCOPE
from campus.models import Role
from campus.models import ScopeKind
from campus.models import SignOnProtocol

# A student's gender as stored (the roster's 男/女 or M/F), in words.
GENDER_LABELS = {"M": _l("Male"), "F": _l("Female")}


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice as tick-boxes: usable on a phone, unlike a Ctrl-click list."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


_T_co = TypeVar("_T_co", covariant=True)


class _Input(Protocol[_T_co]):
    name: str

    @property
    def data(self) -> _T_co | None: ...


def filled(field: _Input[_T_co]) -> _T_co:
    """The value of a field whose `DataRequired` (or `InputRequired`) has passed: after
    validation it is never None, which the type of `field.data` (None before input) cannot say."""
    if field.data is None:
        raise ValueError(f"{field.name} was read before validation")
    return field.data


def least_length(field: Field) -> int | None:
    """The fewest characters `field` takes, when more than one: the `field` macro says so under
    it, so a reason refused as too short was asked for at that length in the first place."""
    # The stubs type validators as a protocol that `isinstance` does not narrow to Length.
    lengths = [cast(Length, v) for v in field.validators if isinstance(v, Length)]
    least = max((v.min for v in lengths), default=-1)
    return least if least > 1 else None


def add_error(field: Field, message: str) -> None:
    """Show `message` under `field` after validation, as a check that needed the database."""
    # WTForms types `errors` as a sequence (a tuple before validation); by now it is a list.
    assert isinstance(field.errors, list)
    field.errors.append(message)


class RecordForm(FlaskForm):
    """A form that writes a record. Its fields ask the browser not to restore what was typed when
    the page is reached again with Back: the page comes fresh from the server (never cached), and
    a person who saw "saved" and sent the restored text again wrote the same record twice."""

    class Meta:
        def render_field(self, field: Field, render_kw: dict[str, Any]) -> Markup:
            if "autocomplete" not in (field.render_kw or {}):
                render_kw = {"autocomplete": "off", **render_kw}
            rendered: Markup = super().render_field(field, render_kw)  # type: ignore[misc]
            return rendered


class VersionedForm(RecordForm):
    """A form acting on a record as the page showed it: `version` is the record's version when the
    page was drawn, and a step sent from a page older than the record is refused, not applied."""

    # No label: the version is the page's, never a question put to the person filling it in.
    # Missing or unreadable, the page was not ours as drawn: it is drawn again.
    version = WholeNumberField(
        "",
        widget=HiddenInput(),
        invalid=_l("Reload the form."),
        validators=[InputRequired(_l("Reload the form.")), NumberRange(min=1)],
    )


class OnceForm(RecordForm):
    """A form whose record is stored once however often it is sent: a double tap on a slow phone,
    a resend after a timeout. `submission` is a one-time token issued with the blank form
    (`issued`); the record keeps it under a unique constraint, and a second request with the same
    token finds the first record instead of writing another."""

    submission = HiddenField(
        validators=[
            InputRequired(_l("Reload the form.")),
            Length(max=40, message=_l("Reload the form.")),
        ]
    )

    def issued(self) -> Self:
        """The form with a fresh token, for a blank form being shown."""
        self.submission.data = uuid.uuid4().hex
        return self


class AccountForm(FlaskForm):
    """The two fields that name an account, as `auth.account_key` reads them: every form that
    signs someone in or sends them a link asks for them alike."""

    institution = StringField(
        _l("Institution code"),
        validators=[DataRequired(_l("Give your institution's code.")), Length(max=32)],
    )
    login = StringField(
        _l("Student or staff number"),
        validators=[DataRequired(_l("Give your student or staff number.")), Length(max=64)],
    )


class LoginForm(AccountForm):
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Give your password.")), Length(max=200)]
    )
    submit = SubmitField(_l("Sign in"))


class NewPasswordForm(FlaskForm):
    """A new password, typed twice: the rules every password a person chooses meets."""

    new = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Choose a new password.")), Length(min=10, max=200)],
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(_l("Type the new password again.")),
            EqualTo("new", message=_l("The two passwords differ.")),
        ],
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Give your current password."))]
    )
    submit = SubmitField(_l("Change password"))

    def validate_new(self, field: PasswordField) -> None:
        if field.data == self.current.data:
            raise ValidationError(_l("The new password must differ from the current one."))


class DepartmentForm(FlaskForm):
    name = StringField(
        _l("Department name"),
        validators=[DataRequired(_l("Give the department's name.")), Length(max=200)],
    )
    submit = SubmitField(_l("Add department"))


class ClassForm(FlaskForm):
    department_id = SelectField(
        _l("Department"), coerce=int, validators=[DataRequired(_l("Choose the department."))]
    )
    name = StringField(
        _l("Class name"), validators=[DataRequired(_l("Give the class name.")), Length(max=200)]
    )
    grade = SelectField(
        _l("Grade (year of entry)"),
        coerce=int,
        validators=[DataRequired(_l("Choose the year of entry."))],
    )
    submit = SubmitField(_l("Add class"))


class DormRoomsForm(FlaskForm):
    """Rooms to add to a dorm building, which is made if the institution has none of that name."""

    building = StringField(
        _l("Building"),
        validators=[DataRequired(_l("Enter the building's name, such as 东2栋.")), Length(max=100)],
        description=_l("An existing building adds rooms to it; a new name adds a building."),
        render_kw={"list": "buildings", "autocomplete": "off"},
    )
    rooms = StringField(
        _l("Room numbers"),
        validators=[
            DataRequired(_l("Enter the room numbers, such as 305, 306 or 401-410.")),
            Length(max=2000),
        ],
        description=_l("Separated by commas; a range such as 401-410 adds every room in it."),
    )
    submit = SubmitField(_l("Add rooms"))


class RenameForm(FlaskForm):
    name = StringField(
        _l("New name"), validators=[DataRequired(_l("Enter the new name.")), Length(max=200)]
    )
    submit = SubmitField(_l("Rename"))


class StaffForm(FlaskForm):
    login = StringField(
        _l("Staff number"), validators=[DataRequired(_l("Give the staff number.")), Length(max=64)]
    )
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Give the staff member's name.")), Length(max=100)],
    )
    email = StringField(
        _l("Email"),
        validators=[
            Optional(),
            Length(max=200),
            # Reminders and sign-in links go there: a typo would lose them without a word.
            Email(_l("Give an email address such as name@school.edu.cn.")),
        ],
    )
    submit = SubmitField(_l("Add staff member"))


ROLE_LABELS = {
    Role.STUDENT: _l("Student"),
    Role.DORM_INFORMANT: _l("Dorm informant"),
    Role.CLASS_COMMITTEE: _l("Class psychology committee member"),
    Role.DEPT_COUNSELLOR: _l("Department counsellor"),
    Role.DEPT_LEADER: _l("Department leader"),
    Role.SCHOOL_COUNSELLOR: _l("School counsellor"),
    Role.DIRECTOR: _l("Centre director"),
    Role.HOSPITAL_LIAISON: _l("Hospital liaison"),
    Role.ADMIN: _l("Administrator"),
    Role.PROVINCE_AUDITOR: _l("Province auditor"),
}


# The roles an account is given on its page: a student's own and a province auditor's are not.
GIVEN_ROLES = [r for r in ROLE_LABELS if r not in (Role.STUDENT, Role.PROVINCE_AUDITOR)]


def role_choices(*, peers: bool) -> list[tuple[str, Any]]:
    """The roles offered on an account's page; the peer roles only to a student's account."""
    return [(r.value, ROLE_LABELS[r]) for r in GIVEN_ROLES if peers or r not in PEER_UNIT]


class RoleAssignmentForm(FlaskForm):
    role = SelectField(
        _l("Role"),
        choices=role_choices(peers=True),
        coerce=Role,  # an unknown role is a field error, not a ValueError in the view
        validators=[DataRequired(_l("Choose the role."))],
    )
    # "<kind>:<id>" (e.g. "department:3"), or empty for the whole institution: a bare id was
    # read as whatever kind the role needed, so a class chosen for a department counsellor
    # silently granted the department that happened to share its number.
    scope = SelectField(_l("Scope"), validate_choice=False)
    # The scope list's first option (the page lists the units under it by kind).
    whole_institution = _l("The whole institution")
    until = DayField(
        _l("Last day"),
        validators=[Optional()],
        description=_l(
            "Optional: the role works through this day, then ends by itself (e.g. at the end of "
            "a term of office or of the school year)."
        ),
    )
    submit = SubmitField(_l("Assign role"))

    def validate_scope(self, field: Field) -> None:
        if self.role.errors or self.role.data is None:
            return
        wanted = ROLE_SCOPE[Role(self.role.data)]
        kind, _sep, number = (field.data or "").partition(":")
        if kind != (wanted.value if wanted in SCOPE_WORDS else "") or (
            kind and not number.isdigit()
        ):
            # Said of the field by its label: the kinds are groups inside its list, not fields.
            raise ValidationError(
                gettext(
                    SCOPE_WORDS.get(wanted, WHOLE_INSTITUTION),
                    field=self.scope.label.text,
                    whole=self.whole_institution,
                )
            )

    def scope_id(self) -> int | None:
        """The id of the scope chosen, once validated (None: the whole institution)."""
        _kind, _sep, number = (self.scope.data or "").partition(":")
        return int(number) if number else None


# What to choose for a role held over each kind of unit, said when another kind was chosen; the
# scope list is named by its label (`field`), its first option by its words (`whole`).
SCOPE_WORDS = {
    ScopeKind.DEPARTMENT: N_(
        "This role is held over a department: under “%(field)s”, choose a department."
    ),
    ScopeKind.CLASS: N_("This role is held over a class: under “%(field)s”, choose a class."),
    ScopeKind.ROOM: N_("This role is held over a dorm room: under “%(field)s”, choose a room."),
    ScopeKind.HOSPITAL: N_(
        "This role is held over a hospital: under “%(field)s”, choose a hospital."
    ),
}
# Under the scope list of a role's second step, what the choice means for that kind of role.
SCOPE_HINTS = {
    ScopeKind.DEPARTMENT.value: _l("The role works for the students of the department chosen."),
    ScopeKind.CLASS.value: _l("A committee member serves their own class."),
    ScopeKind.ROOM.value: _l("A dorm informant serves their own room."),
    ScopeKind.HOSPITAL.value: _l(
        "The liaison sees only the referrals sent to the hospital chosen."
    ),
}
# Instead of an empty list: what must exist before the role can be given.
SCOPE_MISSING = {
    ScopeKind.DEPARTMENT.value: _l("There are no departments yet: add one first."),
    ScopeKind.CLASS.value: _l("This student is in no class."),
    ScopeKind.ROOM.value: _l(
        "This student has no dorm room on the roster, so they cannot be a room's informant: give "
        "their room in a roster import first."
    ),
    ScopeKind.HOSPITAL.value: _l("There are no hospitals yet: add one first."),
}
WHOLE_INSTITUTION = N_(
    "This role is held over the whole institution: under “%(field)s”, choose “%(whole)s”."
)


class RoleUntilForm(FlaskForm):
    """The last day of a role being held; empty: no end date."""

    until = DayField(_l("Last day"), validators=[Optional()])
    submit = SubmitField(_l("Save last day"))


class RosterImportForm(FlaskForm):
    file = spreadsheet_file(_l("Roster file (CSV or XLSX)"))
    grade = WholeNumberField(
        _l("Year of entry for rows without one"),
        invalid=_l("Give the year of entry, e.g. 2026."),
        validators=[Optional(), NumberRange(1990, 2100)],
        description=_l(
            "Only needed when rows have no grade and neither their class names nor their "
            "student numbers show the year of entry; used for those rows only."
        ),
    )
    clean_rows_only = BooleanField(_l("Import only the clean rows if some rows are bad"))
    submit = SubmitField(_l("Check and import"))


class BreakGlassForm(FlaskForm):
    reason = required_text(
        _l("Why do you need this record now?"),
        _l("Say why you need this record now."),
        500,
        min_length=10,
    )
    submit = SubmitField(_l("Open the record (logged)"))


class PhoneForm(FlaskForm):
    """A staff member's work phone, on their own account page or by the administrator."""

    phone = StringField(_l("Work phone"), validators=[Optional(), Length(max=40)])
    submit = SubmitField(_l("Save phone"))


SIGN_ON_PROTOCOL_LABELS = {
    SignOnProtocol.CAS: _l("CAS (central authentication service)"),
    SignOnProtocol.OIDC: _l("OpenID Connect"),
}


class SignOnForm(FlaskForm):
    """An institution's campus sign-on; which fields are required depends on the protocol
    (`campus.signon.check_settings`)."""

    protocol = SelectField(
        _l("Protocol"),
        choices=[(p.value, label) for p, label in SIGN_ON_PROTOCOL_LABELS.items()],
        coerce=SignOnProtocol,
        validators=[DataRequired(_l("Choose the protocol."))],
    )
    enabled = BooleanField(_l("Offer the campus sign-on on the sign-in page"))
    server_url = StringField(
        _l("Server address (CAS) or issuer (OpenID Connect)"),
        validators=[DataRequired(_l("Give the server address or the issuer.")), Length(max=500)],
        description=_l("As the IT office gives it, starting with https://"),
    )
    cas_version = SelectField(
        _l("CAS version"), choices=[(3, "3.0"), (2, "2.0")], coerce=int, validators=[Optional()]
    )
    identity_attribute = StringField(
        _l("Attribute or claim that holds the staff or student number"),
        validators=[Optional(), Length(max=100)],
        description=_l(
            "Leave empty to use the CAS user name, or the OpenID preferred_username claim."
        ),
    )
    client_id = StringField(
        _l("Client ID (OpenID Connect)"), validators=[Optional(), Length(max=200)]
    )
    client_secret_env = StringField(
        _l("Environment variable holding the client secret (OpenID Connect)"),
        validators=[Optional(), Length(max=100)],
        description=_l(
            "The secret itself is never entered here: the server's operator sets this "
            "variable on the server."
        ),
    )
    idp_enforces_mfa = BooleanField(_l("The campus sign-on itself asks for a second factor"))
    local_passwords = BooleanField(_l("People may also sign in with a Xinqiao password"))
    submit = SubmitField(_l("Save sign-on settings"))


class FirstPasswordForm(NewPasswordForm):
    """The password a person chooses after signing in with an activation code: they have none
    yet, so there is no current one to ask for."""

    submit = SubmitField(_l("Set my password"))


class SlipsForm(OnceForm):
    """Issuing activation codes: how long they work, whoever they are for."""

    valid_days = whole_number(
        _l("Codes valid for (days)"),
        1,
        60,
        _l("Enter a number of days from 1 to 60."),
        default=14,
        description=_l("From 1 to 60 days; a code works until the end of its last day."),
    )


class ActivationBatchForm(SlipsForm):
    # The choices are the issuer's cohorts; a value outside them is answered with a 404 by the
    # view (a forged cohort), not a form error.
    cohort = SelectField(
        _l("Students"),
        validators=[DataRequired(_l("Choose the students to issue codes for."))],
        validate_choice=False,
    )
    submit = SubmitField(_l("Issue codes and print slips"))


class LostSlipForm(SlipsForm):
    student_number = StringField(
        _l("Student number"),
        validators=[DataRequired(_l("Give the student number.")), Length(max=64)],
    )
    submit = SubmitField(_l("Issue a new code for this student"))


class CodeSignInForm(AccountForm):
    # Only a student is given a code: the number asked for is a student's.
    login = StringField(
        _l("Student number"),
        validators=[DataRequired(_l("Give your student number.")), Length(max=64)],
    )
    code = StringField(
        _l("Activation code"),
        validators=[DataRequired(_l("Give the activation code on your slip.")), Length(max=40)],
    )
    submit = SubmitField(_l("Sign in for the first time"))


class ResetRequestForm(AccountForm):
    submit = SubmitField(_l("Send me a link"))


class SecondFactorForm(FlaskForm):
    """The second step of sign-in: a code from the app, or one of the recovery codes."""

    code = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        validators=[
            DataRequired(_l("Give the code your app shows, or one of your recovery codes.")),
            Length(max=40),
        ],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Continue"))


class AppCodeForm(FlaskForm):
    """A six-digit code from the app: to confirm a new set-up, or to get new recovery codes."""

    code = StringField(
        _l("Six-digit code from the app"),
        validators=[DataRequired(_l("Give the six-digit code your app shows.")), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField(_l("Confirm"))


class RecoveryCodesSavedForm(FlaskForm):
    saved = BooleanField(
        _l("I have saved these recovery codes somewhere safe"),
        validators=[DataRequired(message=_l("Tick the box once you have saved the codes."))],
    )
    submit = SubmitField(_l("Continue"))


class MfaPolicyForm(FlaskForm):
    roles = MultiCheckboxField(
        _l("Roles that must sign in with an authenticator app"),
        choices=[
            (r.value, label) for r, label in ROLE_LABELS.items() if r is not Role.PROVINCE_AUDITOR
        ],
        validators=[Optional()],
    )
    submit = SubmitField(_l("Save"))


class RemoveStudentForm(FlaskForm):
    """Why a student added by mistake is removed: kept in the audit trail, where her number and
    name stay once she is gone."""

    reason = required_text(
        _l("Why is this student removed?"),
        _l("Say why this student is removed."),
        500,
    )


class CorrectStudentForm(FlaskForm):
    """A student's number and name as they should have been typed."""

    student_number = StringField(
        _l("Student number"),
        validators=[DataRequired(_l("Give the student number.")), Length(max=32)],
    )
    name = StringField(_l("Name"), validators=[DataRequired(_l("Give the name.")), Length(max=100)])
    submit = SubmitField(_l("Save the correction"))
