"""Printed recovery documents: the referral form (转介单) and the return-to-school assessment
opinion (复学评估意见书), each built as plain data before the audit commit expires the rows.

`referral_form` is the one place that reads a referral for the printed form, and it reads the
student only through `disclosure.disclosed_view`, so a field the counsellor did not tick (the
screening summary, the guardian's phone, the internal note) cannot reach the paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime

from flask_babel import lazy_gettext as _l

from campus.i18n import shown_name
from campus.i18n import viewer_locale
from campus.models import Role
from referrals.disclosure import ReferrerContact
from referrals.disclosure import disclosed_view
from referrals.disclosure import referrer_contact
from referrals.forms import SECTION_LABELS
from referrals.forms import owner_label
from referrals.leave import FOLLOW_UP_MONTHS
from referrals.leave import add_months
from referrals.models import LeaveOfAbsence
from referrals.models import Referral
from referrals.models import ReturnAssessment
from referrals.models import Urgency


@dataclass(frozen=True)
class ReferralForm:
    """What the printed referral form shows: logistics, the referrer and the disclosed fields."""

    number: int
    hospital: str
    hospital_department: str | None
    green_channel: bool
    booking_due_at: datetime | None
    urgency: Urgency
    sent_at: datetime | None
    referrer: ReferrerContact
    fields: list[tuple[object, str | date]]


def referral_form(referral: Referral) -> ReferralForm:
    """The form's content, read before the audit commit expires the rows."""
    return ReferralForm(
        number=referral.id,
        hospital=shown_name(referral.hospital),
        hospital_department=referral.hospital.department_in(viewer_locale()),
        green_channel=referral.green_channel,
        booking_due_at=referral.booking_due_at if referral.green_channel else None,
        urgency=referral.urgency,
        sent_at=referral.sent_at,
        referrer=referrer_contact(referral),
        fields=disclosed_view(referral),
    )


# The conclusions an opinion offers, as printed check boxes. The centre records two outcomes: a
# "not yet" is printed as deferral with continued treatment advised, the usual reason to defer.
CONCLUSIONS: tuple[tuple[object, frozenset[ReturnAssessment]], ...] = (
    (_l("Return approved"), frozenset({ReturnAssessment.FIT_TO_RETURN})),
    (_l("Return deferred"), frozenset({ReturnAssessment.NOT_YET})),
    (_l("Continued treatment advised"), frozenset({ReturnAssessment.NOT_YET})),
)


@dataclass(frozen=True)
class PlanLine:
    section: str
    text: str
    owner: str
    due: date


@dataclass(frozen=True)
class ReturnOpinion:
    """What the printed return-to-school assessment opinion shows."""

    number: int
    student_name: str
    student_number: str
    department: str
    class_name: str
    leave_start: date
    expected_return: date
    statement_hospital: str | None
    statement_received_on: date | None
    statement_summary: str | None
    assessed_at: datetime
    assessor: str
    note: str | None
    conclusions: list[tuple[object, bool]]
    plan: list[PlanLine]
    returned_on: date | None
    # (months after the return, the due date once the return date is known)
    follow_ups: list[tuple[int, date | None]]


def return_opinion(
    leave: LeaveOfAbsence, assessor: str, owner_roles: dict[int, tuple[Role, ...]]
) -> ReturnOpinion | None:
    """The opinion's content, or None while the centre has not assessed the return; each plan
    item's owner is named with `owner_roles` (`referrals.leave.owner_roles`)."""
    outcome = leave.assessment_outcome
    if outcome is None or leave.assessment_at is None:
        return None
    student = leave.student
    return ReturnOpinion(
        number=leave.id,
        student_name=student.name,
        student_number=student.student_number,
        department=student.department.name,
        class_name=student.class_group.name,
        leave_start=leave.start_date,
        expected_return=leave.expected_return_date,
        statement_hospital=leave.statement_hospital,
        statement_received_on=leave.statement_received_on,
        statement_summary=leave.statement_summary,
        assessed_at=leave.assessment_at,
        assessor=assessor,
        note=leave.assessment_note,
        conclusions=[(label, outcome in ticked) for label, ticked in CONCLUSIONS],
        plan=[
            PlanLine(
                str(SECTION_LABELS[i.section]),
                i.text,
                owner_label(i.owner.name, owner_roles.get(i.owner_id, ())),
                i.due_date,
            )
            for i in leave.plan_items
            if not i.withdrawn
        ],
        returned_on=leave.returned_on,
        follow_ups=[
            (months, add_months(leave.returned_on, months) if leave.returned_on else None)
            for months in FOLLOW_UP_MONTHS
        ],
    )
