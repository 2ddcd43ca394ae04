"""Contacts with a student's family (家校沟通): the append-only log, its call scripts, the
follow-up it plans and the month's figure of key students whose guardians were reached.

Logging is `check_family_contact` (raises `FamilyContactError` or `PermissionError`, writes
nothing), then `do_log_family_contact` (writes, does not commit), then one commit in
`log_family_contact`. An entry is never edited: a correction is a new entry that names the one it
corrects, and the file shows the old one as corrected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import aliased

from campus import audit
from campus import clock
from campus.i18n import N_
from campus.i18n import Message
from campus.i18n import viewer_locale
from campus.models import Institution
from campus.models import Student
from campus.models import User
from campus.scope import Capability
from campus.scope import student_filter
from campus.submissions import Once
from campus.submissions import stored_once
from casework.file_permissions import can_log_family_contact
from casework.models import ContactChannel
from casework.models import ContactDirection
from casework.models import ContactOutcome
from casework.models import FamilyContact
from warning import actions
from warning.models import EarlyWarning
from warning.models import Task
from warning.models import WarningStatus
from warning.policy import Level

# What a family may agree to in a contact (issue #17 section 4); their words are in
# `casework.file_forms.AGREEMENT_LABELS`.
AGREEMENTS = (
    "informed_consent",  # 家长知情同意
    "accompany_to_hospital",  # 同意陪同就医
    "take_home",  # 同意接回家
    "leave_arrangement",  # 同意休学/复学安排
    "refused_cooperation",  # 拒绝配合
)
FOLLOW_UP_TASK_TEXT = N_("Follow up with the family of %(name)s (agreed in a family contact)")
FOLLOW_UP_KIND = "family_follow_up"
# Key students for the month's figure: an open warning at yellow or red.
KEY_LEVEL = Level.YELLOW
SCRIPTS_FILE = Path(__file__).with_name("call_scripts.yaml")


class FamilyContactError(ValueError):
    """A family contact that cannot be logged as given; the message says what to change, and
    `field` names the form's field it is about (None: the contact as a whole)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CallScript:
    """A usual call: the summary it starts from, in each language, and what it suggests."""

    key: str
    title: dict[str, str]
    summary: dict[str, str]
    channel: ContactChannel
    agreements: tuple[str, ...]

    def title_for(self, locale: str) -> str:
        return self.title["zh_CN" if locale.startswith("zh") else "en"]

    def summary_for(self, locale: str) -> str:
        return self.summary["zh_CN" if locale.startswith("zh") else "en"]


@lru_cache(maxsize=1)
def call_scripts() -> tuple[CallScript, ...]:
    """The call scripts of `call_scripts.yaml`, in the file's order."""
    data = yaml.safe_load(SCRIPTS_FILE.read_text(encoding="utf-8"))
    scripts = tuple(
        CallScript(
            key=entry["key"],
            title=dict(entry["title"]),
            # YAML folds a long text's lines with a space; Chinese runs on without one.
            summary={
                k: ("" if k == "zh_CN" else " ").join(v.split())
                for k, v in entry["summary"].items()
            },
            channel=ContactChannel(entry["channel"]),
            agreements=tuple(entry.get("agreements", ())),
        )
        for entry in data["scripts"]
    )
    unknown = {a for s in scripts for a in s.agreements} - set(AGREEMENTS)
    if unknown:
        raise ValueError(f"call_scripts.yaml names unknown agreements: {sorted(unknown)}")
    return scripts


def call_script(key: str | None) -> CallScript | None:
    return next((s for s in call_scripts() if s.key == key), None)


@dataclass(frozen=True)
class NewFamilyContact:
    """A contact as the form gives it; `at` is the institution's local wall-clock time."""

    at: datetime
    direction: ContactDirection
    guardian_name: str
    guardian_relation: str
    channel: ContactChannel
    summary: str
    outcome: ContactOutcome
    agreements: Sequence[str]
    other_agreement: str
    follow_up_on: date | None
    submission: str
    corrects_id: int | None = None


def _zone(session: Session, student: Student):
    return clock.institution_zone(session.get(Institution, student.institution_id))


def check_family_contact(
    session: Session, actor: User, student: Student, data: NewFamilyContact, now: datetime
) -> datetime:
    """Raise unless `actor` may log `data` for `student`; return when it happened, in UTC."""
    if not can_log_family_contact(actor, student):
        raise PermissionError("not a family-contact writer for this student")
    at = clock.to_utc(data.at, _zone(session, student))
    if at > now:
        raise FamilyContactError(
            N_("A contact cannot be logged before it has happened."), field="at"
        )
    if data.follow_up_on is not None and data.follow_up_on < data.at.date():
        raise FamilyContactError(
            N_("The follow-up date cannot come before the contact."), field="follow_up_on"
        )
    if not set(data.agreements) <= set(AGREEMENTS):
        raise FamilyContactError(N_("Choose the agreements from the list."))
    if not data.summary.strip() or not data.guardian_name.strip():
        raise FamilyContactError(N_("Say whom you spoke with and what was said."))
    if data.corrects_id is not None:
        corrected = session.get(FamilyContact, data.corrects_id)
        if corrected is None or corrected.student_id != student.id:
            raise FamilyContactError(N_("The entry to correct is not in this student's log."))
    return at


def known_relation(session: Session, student: Student, guardian_name: str) -> str:
    """How the guardian named `guardian_name` is related to `student`, as the latest family
    contact with them wrote it ("" when none did): the form that names the guardian on file
    fills in the relation too, rather than asking again what the log already says."""
    if not guardian_name:
        return ""
    return (
        session.scalar(
            select(FamilyContact.guardian_relation)
            .where(
                FamilyContact.student_id == student.id,
                FamilyContact.guardian_name == guardian_name,
                FamilyContact.guardian_relation != "",
            )
            .order_by(FamilyContact.at.desc(), FamilyContact.id.desc())
            .limit(1)
        )
        or ""
    )


@dataclass(frozen=True)
class GuardianOnFile:
    """The guardian the roster names and the number to call them on, for whoever must call, as
    the roster import stored them (None when the roster gave none)."""

    name: str | None
    phone: str | None
    # Who corrected them on the file, and when (UTC); None while they are as the roster gave them.
    corrected_by: str | None = None
    corrected_at: datetime | None = None

    @property
    def dial(self) -> str:
        """The number as a `tel:` link dials it: digits (and a leading +) only."""
        phone = (self.phone or "").strip()
        digits = "".join(ch for ch in phone if ch.isdigit())
        return "+" + digits if phone.startswith("+") else digits

    @property
    def shown_phone(self) -> str:
        """The number as read aloud: a mainland mobile in groups (139 1234 5678), any other
        number as the roster gave it."""
        compact = self.dial
        if len(compact) == 11 and compact.startswith("1") and compact == (self.phone or "").strip():
            return f"{compact[:3]} {compact[3:7]} {compact[7:]}"
        return (self.phone or "").strip()


def guardian_to_call(viewer: User, student: Student) -> GuardianOnFile | None:
    """The guardian on the roster with their phone number, for a viewer whose job is to call the
    family (the family log's writers: the department's counsellors, the school centre); None for
    anyone else, who never sees the number (a class or dorm peer, a department leader, an
    administrator outside the roster's own pages)."""
    if not can_log_family_contact(viewer, student):
        return None
    corrector = student.guardian_corrected_by if student.guardian_corrected_at else None
    return GuardianOnFile(
        name=(student.guardian_name or "").strip() or None,
        phone=(student.guardian_phone or "").strip() or None,
        corrected_by=corrector.name if corrector is not None else None,
        corrected_at=student.guardian_corrected_at if corrector is not None else None,
    )


def tells_guardian(session: Session, data: NewFamilyContact) -> bool:
    """Whether the contact is the guardian told, meeting an open warning's "notify the guardian"
    step (`warning.actions.guardian_reached`): only one that reached them. An unanswered call
    (not reached) or a guardian who would not talk (refused) leaves the notice owed, as an
    unanswered call leaves a student's contact owed. A correction tells only where the entry it
    corrects had not reached them (the call was logged as unanswered by mistake); otherwise that
    entry told them already."""
    if data.outcome is not ContactOutcome.REACHED:
        return False
    if data.corrects_id is None:
        return True
    corrected = session.get(FamilyContact, data.corrects_id)
    return corrected is None or corrected.outcome is not ContactOutcome.REACHED


def do_log_family_contact(
    session: Session, actor: User, student: Student, data: NewFamilyContact, at: datetime
) -> FamilyContact:
    """Add the entry, its follow-up task for the author (when a date is set) and the audit row;
    no commit."""
    task = None
    if data.follow_up_on is not None:
        due = clock.to_utc(
            datetime.combine(data.follow_up_on, time(23, 59)), _zone(session, student)
        )
        task = Task.saying(
            Message(FOLLOW_UP_TASK_TEXT, name=student.name),
            institution_id=student.institution_id,
            student_id=student.id,
            kind=FOLLOW_UP_KIND,
            assignee_user_id=actor.id,
            due_at=due,
            created_by_id=actor.id,
        )
        session.add(task)
        session.flush()
    entry = FamilyContact(
        institution_id=student.institution_id,
        student_id=student.id,
        at=at,
        author_id=actor.id,
        direction=data.direction,
        guardian_name=data.guardian_name.strip(),
        guardian_relation=data.guardian_relation.strip(),
        channel=data.channel,
        summary=data.summary.strip(),
        outcome=data.outcome,
        agreements=[a for a in AGREEMENTS if a in set(data.agreements)],
        other_agreement=data.other_agreement.strip(),
        follow_up_on=data.follow_up_on,
        follow_up_task_id=task.id if task else None,
        corrects_id=data.corrects_id,
        submission=data.submission,
    )
    session.add(entry)
    session.flush()
    audit.record_on(session, entry, actor=actor, action="create", record_type="family_contact")
    named = _guardian_named(entry.guardian_name, entry.guardian_relation)
    if tells_guardian(session, data):
        actions.guardian_reached(session, actor, student, data.channel.value, named, at)
    elif data.outcome is not ContactOutcome.REACHED and data.corrects_id is None:
        # The attempt is part of the response; a correction of one is not another attempt.
        actions.guardian_not_reached(
            session, actor, student, data.channel.value, named, data.outcome.value, at
        )
    return entry


def _guardian_named(name: str, relation: str | None) -> str:
    """The guardian as the warning's timeline names her: "何雪（母亲）" with the full-width
    brackets of a Chinese line when the relation was written in Chinese (it is stored text, read
    in any language), "Li Na (mother)" otherwise."""
    if not relation:
        return name
    chinese = any("\u4e00" <= char <= "\u9fff" for char in relation)
    return f"{name}（{relation}）" if chinese else f"{name} ({relation})"


def log_family_contact(
    session: Session, actor: User, student: Student, data: NewFamilyContact, now: datetime
) -> Once[FamilyContact]:
    """Log the contact once: the entry and whether this call created it. A second submit of the
    same form (same token) writes nothing and returns the first entry; the token of another
    student's entry is `Refused`."""
    at = check_family_contact(session, actor, student, data, now)

    def log() -> FamilyContact:
        return do_log_family_contact(session, actor, student, data, at)

    mine = FamilyContact.student_id == student.id
    return stored_once(session, FamilyContact, data.submission, mine, log)


def contacts_of(session: Session, student: Student) -> list[FamilyContact]:
    """The student's log, newest contact first (the caller has authorised the read)."""
    return list(
        session.scalars(
            select(FamilyContact)
            .where(FamilyContact.student_id == student.id)
            .order_by(FamilyContact.at.desc(), FamilyContact.id.desc())
        )
    )


def corrected_ids(contacts: Sequence[FamilyContact]) -> set[int]:
    """Entries a later entry corrects: shown struck through, kept."""
    return {c.corrects_id for c in contacts if c.corrects_id is not None}


def month_bounds(now: datetime, zone) -> tuple[datetime, datetime]:
    """The institution's current calendar month as UTC bounds [start, end)."""
    today = clock.local_date(now, zone)
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return (
        clock.to_utc(datetime.combine(first, time()), zone),
        clock.to_utc(datetime.combine(following, time()), zone),
    )


def as_it_stands(*, reached: bool) -> tuple[ColumnElement[bool], ...]:
    """SQL: the `FamilyContact` reached the family (`reached`), or tried and did not (not
    reached, refused), as the log now says. An entry a later one corrects counts as the
    correction says, not as itself: a call logged as answered and corrected to unanswered is an
    attempt. What the month's figure and the oversight KPI `family` both count."""
    correcting = aliased(FamilyContact)
    outcome = (
        FamilyContact.outcome == ContactOutcome.REACHED
        if reached
        else FamilyContact.outcome != ContactOutcome.REACHED
    )
    return (
        outcome,
        ~select(correcting.id).where(correcting.corrects_id == FamilyContact.id).exists(),
    )


def _counts_in_month(start: datetime, end: datetime, *, reached: bool):
    """This month's entries of the warning's student that reached the family (`reached`), or
    that tried and did not, as they stand (`as_it_stands`)."""
    return (
        FamilyContact.student_id == EarlyWarning.student_id,
        FamilyContact.at >= start,
        FamilyContact.at < end,
        *as_it_stands(reached=reached),
    )


@dataclass(frozen=True)
class MonthFigure:
    """Key students (open red or yellow warning) in the viewer's scope, and how many of them had
    their family reached this month (an unanswered call or a guardian who would not talk is an
    attempt, not a contact)."""

    key_students: int
    contacted: int


def key_students_contacted(session: Session, user: User, now: datetime) -> MonthFigure:
    """The month's figure for `user`'s scope, in one query: this calendar month's contacts
    only, the month's round of calls (the oversight KPI `family` counts a contact that reached
    the family at any time since the warning opened instead, and each page says which it
    counts). Only a contact that reached the family counts: an unanswered call had the student
    listed as her family contacted."""
    start, end = month_bounds(now, clock.viewer_zone())
    contacted = select(FamilyContact.id).where(*_counts_in_month(start, end, reached=True)).exists()
    row = session.execute(
        select(
            func.count(EarlyWarning.id),
            func.count(EarlyWarning.id).filter(contacted),
        )
        .join(Student, Student.id == EarlyWarning.student_id)
        .where(
            EarlyWarning.status == WarningStatus.OPEN,
            EarlyWarning.level >= KEY_LEVEL,
            student_filter(user, Capability.WARNING),
        )
    ).one()
    return MonthFigure(key_students=row[0], contacted=row[1])


def viewer_scripts() -> list[tuple[str, str]]:
    """(key, title) of each call script in the reader's language."""
    locale = viewer_locale()
    return [(s.key, s.title_for(locale)) for s in call_scripts()]


@dataclass(frozen=True)
class KeyStudent:
    """A key student of the month's figure, their family's latest contact this month that
    reached them, and the latest attempt this month that did not (shown while none reached)."""

    student: Student
    level: int
    contacted_at: datetime | None
    attempted_at: datetime | None = None


def key_students_this_month(session: Session, user: User, now: datetime) -> list[KeyStudent]:
    """The students the figure counts (at most 500), not yet contacted first, then by level."""
    start, end = month_bounds(now, clock.viewer_zone())

    def latest(*, reached: bool):
        return (
            select(func.max(FamilyContact.at))
            .where(*_counts_in_month(start, end, reached=reached))
            .scalar_subquery()
        )

    rows = session.execute(
        select(Student, EarlyWarning.level, latest(reached=True), latest(reached=False))
        .join(EarlyWarning, EarlyWarning.student_id == Student.id)
        .where(
            EarlyWarning.status == WarningStatus.OPEN,
            EarlyWarning.level >= KEY_LEVEL,
            student_filter(user, Capability.WARNING),
        )
        .order_by(EarlyWarning.level.desc(), Student.student_number)
        .limit(500)
    ).tuples()
    found = [KeyStudent(*row) for row in rows]
    return sorted(found, key=lambda k: k.contacted_at is not None)
