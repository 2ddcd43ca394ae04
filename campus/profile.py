"""What a person keeps about themselves on their account: for now a staff member's work phone.

The phone is staff contact, not student data: the hospital sees the referring counsellor's on a
referral (`referrals.disclosure.referrer_contact`). A student's account has none, so nothing a
student or a peer sees could carry one.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from campus import audit
from campus.i18n import N_
from campus.i18n import Message
from campus.models import User
from campus.outcomes import Refused

# Digits with an optional leading "+" and the separators people write: "0731-8888-0101",
# "+86 138 0000 0000", "(0731) 88880101", an extension after "转" or "ext".
PHONE = re.compile(r"^\+?[0-9()\- ]{5,30}((转|ext\.?) ?[0-9]{1,6})?$")


class ProfileError(Refused):
    """A value that cannot be saved on the account; `message` says why."""


def has_work_phone(user: User) -> bool:
    """Staff accounts keep a work phone; a student's account (peer roles included) does not."""
    return user.student is None


def set_phone(session: Session, actor: User, user: User, phone: str | None) -> None:
    """Save (or, empty, remove) `user`'s work phone, with an audit row; commits. `actor` is the
    user themself or an administrator of their institution (the caller has checked which)."""
    if not has_work_phone(user):
        raise ProfileError(Message(N_("A student account has no work phone.")))
    phone = " ".join((phone or "").split()) or None
    if phone is not None and not PHONE.match(phone):
        raise ProfileError(Message(N_("Write the phone with digits, e.g. 0731-8888-0101.")))
    user.phone = phone
    audit.record_on(session, user, actor=actor, action="phone_changed", record_type="user")
    session.commit()
