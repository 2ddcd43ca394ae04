"""The referral form (转介单) a hospital files: built from the disclosed fields only.

`referral_form` is the one place that reads a referral for the printed form, and it reads the
student only through `disclosure.disclosed_view`, so a field the counsellor did not tick (the
screening summary, the guardian's phone, the internal note) cannot reach the paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from campus.i18n import shown_name
from referrals.disclosure import ReferrerContact, disclosed_view, referrer_contact
from referrals.models import Referral, Urgency


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
    fields: list[tuple[object, str]]


def referral_form(referral: Referral) -> ReferralForm:
    """The form's content, read before the audit commit expires the rows."""
    return ReferralForm(
        number=referral.id,
        hospital=shown_name(referral.hospital),
        hospital_department=referral.hospital.department,
        green_channel=referral.green_channel,
        booking_due_at=referral.booking_due_at if referral.green_channel else None,
        urgency=referral.urgency,
        sent_at=referral.sent_at,
        referrer=referrer_contact(referral),
        fields=disclosed_view(referral),
    )
