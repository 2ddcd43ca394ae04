"""The guardian on file corrected by whoever calls the family (家校沟通): the department's
counsellor for their department, the school's counsellors and the director, the same people who
see the number (`can_log_family_contact`).

The guardian's name and number come from the roster import; the counsellor often learns the
right number from the student or the family, and it was theirs to record only by asking the
administrator to import the roster again. A correction is checked (`check_guardian_correction`,
raises, writes nothing), then made with its audit row, old and new values, in one commit
(`correct_guardian`). The student row keeps who corrected it and when, which the file shows and
which a later roster import respects (`campus.roster._upsert_guardian`).

The form carries the guardian as the page showed it: a correction applies only over that
guardian (a compare-and-set), so a second send of the same form finds its own correction made
and writes nothing, and a form drawn before someone else's correction is refused, not applied
over it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy import func
from sqlalchemy import update
from sqlalchemy.orm import Session

from campus import audit
from campus.extensions import rows_changed
from campus.i18n import N_
from campus.i18n import Message
from campus.models import Student
from campus.models import User
from campus.outcomes import Refused
from campus.roster import phone_problem
from campus.roster import written_phone
from casework.file_permissions import can_log_family_contact

ACTION = "correct_guardian"
NAME_MAX = 100  # `Student.guardian_name`
PHONE_MAX = 40  # `Student.guardian_phone`


class GuardianError(ValueError):
    """A correction that cannot be made as given; `field` names the form's field it is about."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class GuardianChange:
    """The guardian as the form's page showed it (`was_…`, "" for none on file) and as corrected."""

    was_name: str
    was_phone: str
    name: str
    phone: str


class Corrected(Enum):
    """What `correct_guardian` did: corrected now, or found the same correction made already (a
    second send of the form)."""

    NOW = "now"
    ALREADY = "already"


def on_file(student: Student) -> tuple[str, str]:
    """The guardian's name and phone exactly as stored ("" for none): the form's `was_…`."""
    return student.guardian_name or "", student.guardian_phone or ""


def check_guardian_correction(actor: User, student: Student, change: GuardianChange) -> None:
    """Raise unless `actor` may correct `student`'s guardian to `change`: `PermissionError` for
    someone who does not call this family, `GuardianError` for a value the roster would refuse."""
    if not can_log_family_contact(actor, student):
        raise PermissionError("not a family-contact writer for this student")
    phone = written_phone(change.phone)
    if not phone:
        raise GuardianError(N_("Give the guardian's phone number."), field="phone")
    # One rule for a guardian's number, the roster import's.
    if problem := phone_problem(phone):
        raise GuardianError(problem, field="phone")
    if len(phone) > PHONE_MAX:
        raise GuardianError(N_("The phone number is too long."), field="phone")
    if len(change.name.strip()) > NAME_MAX:
        raise GuardianError(N_("The name is too long."), field="name")


def correct_guardian(
    session: Session, actor: User, student: Student, change: GuardianChange, now: datetime
) -> Corrected:
    """Correct the guardian on file, with an audit row of the old and new values, committed.

    `Refused` when nothing is to change, or when the guardian on file is no longer the one the
    form showed (another correction came first); a second send of a correction already made
    writes nothing and says so."""
    check_guardian_correction(actor, student, change)
    name, phone = change.name.strip(), written_phone(change.phone)
    new = (name, phone)
    if (change.was_name, change.was_phone) == new:
        raise Refused(Message(N_("That is the guardian on file already: nothing was changed.")))
    claimed = rows_changed(
        session,
        update(Student)
        .where(
            Student.id == student.id,
            func.coalesce(Student.guardian_name, "") == change.was_name,
            func.coalesce(Student.guardian_phone, "") == change.was_phone,
        )
        .values(
            guardian_name=name or None,
            guardian_phone=phone,
            guardian_corrected_by_id=actor.id,
            guardian_corrected_at=now,
        )
        .execution_options(synchronize_session=False),
    )
    if claimed != 1:
        session.refresh(student)
        if on_file(student) == new:
            return Corrected.ALREADY
        raise Refused(
            Message(
                N_(
                    "The guardian on file was changed since this page was opened; it shows "
                    "now. Correct it again if it is still wrong."
                )
            )
        )
    audit.record_on(
        session,
        student,
        actor=actor,
        action=ACTION,
        record_type="student",
        detail=f"guardian_name: {change.was_name!r} -> {name!r}; "
        f"guardian_phone: {change.was_phone!r} -> {phone!r}",
    )
    session.commit()
    session.refresh(student)
    return Corrected.NOW
