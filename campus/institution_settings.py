"""An institution's own settings, as its administrator changes them on `/admin/settings`: the
name people read (Chinese, and English for the English pages) and the counselling centre's
on-duty phone, which every crisis page and printed document gives a student and a guardian.

The centre's director may change the on-duty phone too (the number is the centre's); the
name is the administrator's. Each change is checked first and refused with words a person can
act on, having written nothing; a change made is one commit with its audit row.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import fields
from dataclasses import replace

from sqlalchemy.orm import Session

from campus import audit
from campus.centre_phone import normal_phone
from campus.i18n import N_
from campus.i18n import Message
from campus.models import Institution
from campus.models import User
from campus.outcomes import Refused

NAME_LENGTH = 200


class SettingsError(Refused):
    """A setting that cannot be saved as given; `message` says why."""


@dataclass(frozen=True)
class Settings:
    """What the settings page changes, as stored (stripped; None for an empty optional)."""

    name: str
    name_en: str | None
    on_duty_phone: str | None


def settings_of(institution: Institution) -> Settings:
    return Settings(institution.name, institution.name_en, institution.on_duty_phone)


def check_settings(wanted: Settings) -> Settings:
    """`wanted` as it would be stored: names stripped, the phone as it is dialled
    (`centre_phone.normal_phone`); `SettingsError` (or `centre_phone.PhoneError`) for a
    setting that cannot be stored. Writes nothing."""
    name = wanted.name.strip()
    if not name:
        raise SettingsError(Message(N_("Give the institution's name.")))
    if len(name) > NAME_LENGTH or len((wanted.name_en or "").strip()) > NAME_LENGTH:
        raise SettingsError(
            Message(N_("A name can be at most %(most)s characters."), most=NAME_LENGTH)
        )
    return Settings(
        name=name,
        name_en=(wanted.name_en or "").strip() or None,
        on_duty_phone=normal_phone(wanted.on_duty_phone),
    )


def save_settings(
    session: Session, actor: User | None, institution: Institution, wanted: Settings
) -> list[str]:
    """Check `wanted`, then store what changed with one audit row naming each change (the
    phone's old and new number); commits. Returns the names of the settings changed (none:
    nothing written)."""
    checked = check_settings(wanted)
    before = settings_of(institution)
    changed = [
        f.name for f in fields(Settings) if getattr(checked, f.name) != getattr(before, f.name)
    ]
    if not changed:
        return []
    for name in changed:
        setattr(institution, name, getattr(checked, name))
    detail = "; ".join(
        f"{name}: {getattr(before, name) or '-'} -> {getattr(checked, name) or '-'}"
        for name in changed
    )
    audit.record_on(
        session,
        institution,
        actor=actor,
        action="institution.settings",
        record_type="institution",
        detail=detail[:500],
    )
    session.commit()
    return changed


def save_on_duty_phone(
    session: Session, actor: User | None, institution: Institution, phone: str | None
) -> list[str]:
    """Only the centre's on-duty phone, the rest kept: the director's part of the page."""
    return save_settings(
        session, actor, institution, replace(settings_of(institution), on_duty_phone=phone)
    )
