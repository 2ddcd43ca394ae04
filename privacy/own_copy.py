"""A student's own copy of their data (PIPL art. 45): what they gave and what they were told,
gathered into plain frozen dataclasses that the PDF and the JSON file are both written from.

What goes in is decided part by part. Each domain that holds something of the student's own
declares a `PartSource` with `register_part` from a `registration.py`; its loader returns the
`Entry`s of that part, already in words (the reader's language) and naive-UTC times, never a row.
A part says only what the student gave or was told: no warning level, band, score, flag, reason,
note, or anything another person wrote about them (the staff-only list is in
docs/architecture.md, "A student's own copy"). The copy is built before the audit row is
committed, so the commit expiring rows cannot change what is sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from campus import audit
from campus import clock
from campus import notifications
from campus.i18n import N_
from campus.i18n import shown_name
from campus.models import Student
from campus.models import User

EXTENSION = "privacy.own_copy_parts"
# The JSON file's `schema`: bump the number when a key changes meaning or goes; adding a part or a
# fact is not a change of schema (readers ignore keys they do not know).
SCHEMA = "xinqiao.own-copy/1"

Value = str | datetime | date | None


@dataclass(frozen=True)
class Fact:
    """One labelled value: `key` is the JSON key (stable, English), `label` the reader's words."""

    key: str
    label: str
    value: Value


@dataclass(frozen=True)
class Answer:
    """One question as it was asked and the answer the student chose, in the reader's language."""

    number: int
    question: str
    answer: str


@dataclass(frozen=True)
class Entry:
    """One record of a part (a consent, a questionnaire, an appointment)."""

    heading: str
    facts: tuple[Fact, ...]
    answers: tuple[Answer, ...] = ()


@dataclass(frozen=True)
class CopyContext:
    """What a part's loader is given: whose copy, in which language, and where the
    institution's licensed questionnaire texts are (so a question reads as it was asked)."""

    session: Session
    student: Student
    locale: str
    licensed_dir: Path | None = None


@dataclass(frozen=True)
class PartSource:
    """A domain's contribution: the JSON key, the heading, its place, and its loader."""

    key: str
    title: Callable[[], str]
    order: int
    loader: Callable[[CopyContext], list[Entry]]
    # What the reader is told when the part has no entry ("You have not booked …").
    empty: Callable[[], str] = field(default=lambda: "")


@dataclass(frozen=True)
class Part:
    key: str
    title: str
    empty: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class OwnCopy:
    """The whole copy: who, when it was made, in which language and zone, and the parts."""

    institution: str
    student_name: str
    student_number: str
    locale: str
    zone: str
    generated_at: datetime  # naive UTC
    profile: tuple[Fact, ...]
    parts: tuple[Part, ...]


def register_part(app: Flask, part: PartSource) -> None:
    """Declare a part of the copy (call from a domain's `registration.py`)."""
    parts: list[PartSource] = app.extensions.setdefault(EXTENSION, [])
    if any(p.key == part.key for p in parts):
        raise ValueError(f"own-copy part {part.key!r} is registered twice")
    parts.append(part)


def part_sources(app: Flask) -> list[PartSource]:
    """The registered parts in document order."""
    parts: list[PartSource] = app.extensions.get(EXTENSION, [])
    return sorted(parts, key=lambda p: p.order)


def profile_of(student: Student) -> tuple[Fact, ...]:
    """The student as they know themselves on the campus: name, number, where they study and
    live. Not the guardian's phone, the enrolment status or anything a counsellor set."""
    room = student.room
    return (
        Fact("name", _("Name"), student.name),
        Fact("student_number", _("Student number"), student.student_number),
        Fact("department", _("Department"), student.department.name),
        Fact("class", _("Class"), student.class_group.name),
        Fact(
            "dorm_room",
            _("Dorm room"),
            f"{room.building.name} {room.number}" if room is not None else None,
        ),
    )


def gather(
    app: Flask,
    session: Session,
    student: Student,
    locale: str,
    *,
    licensed_dir: Path | None = None,
) -> OwnCopy:
    """The student's own copy in `locale` (call inside `force_locale(locale)`, so every label
    and every part's words are in that language)."""
    context = CopyContext(session, student, locale, licensed_dir)
    parts = tuple(
        Part(
            key=source.key,
            title=source.title(),
            empty=source.empty(),
            entries=tuple(source.loader(context)),
        )
        for source in part_sources(app)
    )
    zone = clock.institution_zone(student.institution)
    return OwnCopy(
        institution=shown_name(student.institution),
        student_name=student.name,
        student_number=student.student_number,
        locale=locale,
        zone=zone.key,
        generated_at=clock.now().replace(microsecond=0),
        profile=profile_of(student),
        parts=parts,
    )


def _json_value(value: Value, copy: OwnCopy) -> str | None:
    """Times as ISO 8601 local times to the second with their offset (the institution's zone),
    dates as ISO."""
    if isinstance(value, datetime):
        return clock.to_local(value, ZoneInfo(copy.zone)).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _record(entry: Entry, copy: OwnCopy) -> dict[str, object]:
    record: dict[str, object] = {"heading": entry.heading}
    record.update({f.key: _json_value(f.value, copy) for f in entry.facts})
    if entry.answers:
        record["answers"] = [
            {"number": a.number, "question": a.question, "answer": a.answer} for a in entry.answers
        ]
    return record


def as_json(copy: OwnCopy) -> str:
    """The machine-readable copy: UTF-8 JSON with sorted keys, so two copies of the same data
    compare equal line by line. Labels say, in the reader's language, what each key holds."""
    document = {
        "schema": SCHEMA,
        "generated_at": _json_value(copy.generated_at, copy),
        "time_zone": copy.zone,
        "language": copy.locale.replace("_", "-"),  # a BCP 47 tag: zh-Hans-CN, en
        "institution": copy.institution,
        "profile": {f.key: _json_value(f.value, copy) for f in copy.profile},
        "parts": {
            part.key: {
                "title": part.title,
                "records": [_record(entry, copy) for entry in part.entries],
            }
            for part in copy.parts
        },
        "labels": {
            "profile": {f.key: f.label for f in copy.profile},
            **{
                part.key: {f.key: f.label for entry in part.entries for f in entry.facts}
                for part in copy.parts
            },
        },
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, indent=2) + "\n"


# --------------------------------------------------------------------------------------------------
# Handing the copy out: the student's download, and staff answering a request received on paper
# --------------------------------------------------------------------------------------------------

FORMATS = ("pdf", "json")
# How the centre made sure the paper request came from the student (the audit row keeps the key).
VERIFICATIONS = {
    "in_person": N_("In person, with the student card"),
    "signed_form": N_("Signed form, signature checked against the records"),
    "other": N_("Other (say how in the reference)"),
}


class CopyRequestError(ValueError):
    """A paper request that cannot be answered as entered; the message says what to correct."""


@dataclass(frozen=True)
class PaperRequest:
    """The reference of a request the centre received on paper."""

    received_on: date
    verified_by: str  # a key of VERIFICATIONS
    reference: str  # the form's number or the letter's reference, as the centre files it


def audit_download(session: Session, student: Student, *, actor: User, fmt: str) -> None:
    """The student took their own copy: one committed row before the file leaves."""
    audit.record_read_on(
        session,
        student,
        actor=actor,
        action="download_own_copy",
        record_type="own_copy",
        detail=f"format={fmt}",
    )


def check_paper_request(request: PaperRequest, fmt: str, today: date) -> None:
    """Raise `CopyRequestError` for a request that cannot be on file as entered; writes nothing."""
    if fmt not in FORMATS:
        raise CopyRequestError(_("Choose PDF or JSON."))
    if request.verified_by not in VERIFICATIONS:
        raise CopyRequestError(_("Choose how the request was verified."))
    if request.received_on > today:
        raise CopyRequestError(_("The date received cannot be in the future."))
    if not request.reference.strip():
        raise CopyRequestError(_("Enter the request's reference."))


def do_paper_request(
    session: Session,
    student: Student,
    request: PaperRequest,
    *,
    actor: User,
    fmt: str,
    notice_link: str,
) -> None:
    """Audit the copy made for the request, with its reference, and tell the student (in their
    inbox, by mail where they have one) that a copy was made — so a copy taken by someone
    posing as them does not go unnoticed. Does not commit."""
    audit.record_on(
        session,
        student,
        actor=actor,
        action="produce_own_copy",
        record_type="own_copy",
        reason=f"received={request.received_on.isoformat()} verified={request.verified_by} "
        f"reference={request.reference.strip()}",
        detail=f"format={fmt}",
    )
    if student.user_id is not None:
        notifications.notify(
            session,
            [student.user_id],
            N_(
                "The mental health centre made a copy of your data at your written request. "
                "If you did not ask for it, please tell the centre."
            ),
            notice_link,
        )


def answer_paper_request(
    session: Session,
    student: Student,
    request: PaperRequest,
    *,
    actor: User,
    fmt: str,
    notice_link: str,
    today: date,
) -> None:
    """Check the request, then audit it and tell the student in one commit."""
    check_paper_request(request, fmt, today)
    do_paper_request(session, student, request, actor=actor, fmt=fmt, notice_link=notice_link)
    session.commit()
