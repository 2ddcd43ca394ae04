"""What a hospital may be told about a referred student: a fixed allow-list, chosen per referral.

The liaison's pages are rendered from `disclosed_view` only, never from the student or referral
objects, so a field the counsellor did not tick cannot reach the hospital by a template mistake.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from campus.forms import GENDER_LABELS
from referrals.models import Referral


@dataclass(frozen=True)
class Disclosable:
    label: str  # a lazy translation (`_l`)
    value: Callable[[Referral], str | date]  # a date is written in words by the printed form


DISCLOSABLE: dict[str, Disclosable] = {
    "name": Disclosable(_l("Name"), lambda r: r.student.name),
    "gender": Disclosable(_l("Gender"), lambda r: _gender(r.student.gender)),
    "birth_date": Disclosable(_l("Birth date"), lambda r: r.student.birth_date),
    "student_number": Disclosable(_l("Student number"), lambda r: r.student.student_number),
    "department": Disclosable(_l("Department"), lambda r: r.student.department.name),
    "guardian_contact": Disclosable(
        _l("Guardian contact"),
        lambda r: f"{r.student.guardian_name or ''} {r.student.guardian_phone or ''}".strip(),
    ),
    "referral_reason": Disclosable(_l("Referral reason"), lambda r: r.reason),
    "screening_summary": Disclosable(_l("Screening summary"), lambda r: r.screening_summary or ""),
}


# Minimum necessary for a hospital to register and see the student; the rest is ticked on purpose.
def _gender(code: str | None) -> str:
    """The gender in words (男/女): the stored M/F is a code."""
    return str(GENDER_LABELS.get(code or "", code or ""))


DEFAULT_DISCLOSED: tuple[str, ...] = ("name", "gender", "birth_date", "referral_reason")


def disclosed_view(referral: Referral) -> list[tuple[object, str | date]]:
    """(label, value) for each field the counsellor chose to disclose, in allow-list order."""
    chosen = referral.disclosed
    return [
        (item.label, item.value(referral)) for key, item in DISCLOSABLE.items() if key in chosen
    ]


@dataclass(frozen=True)
class ReferrerContact:
    """Whom the hospital calls back: the referring counsellor (name, work phone) and the centre."""

    name: str
    phone: str | None
    centre_phone: str | None


def referrer_contact(referral: Referral) -> ReferrerContact:
    """Who referred the student, their work phone and the counselling centre's phone, for the
    hospital to call back. This is staff contact, not student data, so it is outside the
    per-referral allow-list and always shown to the liaison (and to no student or peer)."""
    counsellor = referral.created_by
    return ReferrerContact(counsellor.name, counsellor.phone, counsellor.institution.on_duty_phone)


def validate_fields(keys: list[str]) -> str:
    """The ";"-joined allow-listed keys; raises ValueError on anything outside the allow-list."""
    unknown = sorted(set(keys) - DISCLOSABLE.keys())
    if unknown:
        raise ValueError(f"not disclosable: {', '.join(unknown)}")
    return ";".join(k for k in DISCLOSABLE if k in keys)
