"""The counselling centre's on-duty phone, as students are given it: beside the crisis hotline,
on a refused booking, in an invitation, on a printed report.

A campus gives its own number (`Institution.on_duty_phone`, set on the institution settings
page or by `flask campus create-institution --on-duty-phone`); a deployment may give one for
all its campuses (`CENTRE_ON_DUTY_PHONE`). There is no made-up default: a student told to call a
number nobody at her campus answers is worse off than one given the hotline and 120/110 alone,
which every crisis page and printed document gives whether or not the centre's number is known.
"""

from __future__ import annotations

import re
import unicodedata

from flask import current_app

from campus.i18n import N_
from campus.i18n import Message
from campus.models import Institution
from campus.outcomes import Refused

# What a number may be written with: digits, a leading +, hyphens, spaces, brackets round an area
# code (0731-88880000, (0731) 8888 0000, 13800000000, 400-161-9995, 12356, +86 731 8888 0000).
_PHONE = re.compile(r"\+?[\d\- ()]+")
# A number someone can dial: 5 digits (12356) to 15 (the international maximum, E.164).
FEWEST_DIGITS = 5
MOST_DIGITS = 15


class PhoneError(Refused):
    """A phone number that cannot be dialled as written; `message` says how to write one."""


def on_duty_phone(institution: Institution | None) -> str | None:
    """The institution's own on-duty number, else the deployment's (`CENTRE_ON_DUTY_PHONE`),
    else None: the page then gives the hotline and 120/110 without a line for the centre."""
    own = institution.on_duty_phone if institution is not None else None
    return own or current_app.config.get("CENTRE_ON_DUTY_PHONE") or None


def normal_phone(text: str | None) -> str | None:
    """`text` as a number to store and dial (None when empty): full-width digits and hyphens, as a
    Chinese input method types them, become ASCII, and spaces hyphens (a `tel:` link takes no
    space). `PhoneError` for anything else: letters, words, an extension, too few or too many
    digits."""
    written = unicodedata.normalize("NFKC", text or "").strip()
    if not written:
        return None
    written = re.sub(r"\s+", " ", written.replace("－", "-").replace("—", "-"))
    digits = sum(ch.isdigit() for ch in written)
    if not _PHONE.fullmatch(written) or not FEWEST_DIGITS <= digits <= MOST_DIGITS:
        raise PhoneError(
            Message(
                N_(
                    "Write a number that can be dialled as it is, with digits and hyphens only, "
                    "e.g. 0731-88880000 or 13800000000."
                )
            )
        )
    return re.sub(r" *- *| +", "-", written.replace("( ", "(").replace(" )", ")"))
