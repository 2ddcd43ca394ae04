"""Crisis records (危机事件记录) on red warnings and their hand-over documents.

A record belongs to one red warning and is opened with its first entry; later entries are
appended, never changed (a correction is a new entry naming the one it corrects). The family
contacts an entry records are saved, in the same transaction, as the student's family contacts
(`casework.family_contacts`): its call to the family, and its hand-over to the family, met in
person and reached (a call in person at the hand-over is that same meeting: one contact). The
family log, the month's figure and the warning's "notify the guardian" step all read them, by the
family log's rule, and the entry says "guardian informed" only when one of them reached the
family. A correction's call corrects the call of the entry it corrects, and its hand-over that
entry's hand-over, as the family log corrects an entry: one call stays one record.

Documents (家长知情告知书, and 安全承诺书 where the centre uses it) are generated from the record
as tracked copies that go from unsigned to signed, with the signed scan attached when one is
uploaded.

As elsewhere: `check_*` raises `CrisisError` with a message a person can act on and writes
nothing; the public function writes, audits and commits once, or rolls back all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import date
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus import audit
from campus import clock
from campus.documents import PRINT_LANGUAGES
from campus.extensions import set_once
from campus.i18n import N_
from campus.i18n import Message
from campus.models import Institution
from campus.models import Student
from campus.models import User
from casework import family_contacts
from casework import scans
from casework.file_permissions import can_log_family_contact
from casework.models import ContactChannel
from casework.models import ContactDirection
from casework.models import ContactOutcome
from casework.models import CrisisAction
from casework.models import CrisisDocument
from casework.models import CrisisDocumentKind
from casework.models import CrisisEntry
from casework.models import CrisisRecord
from casework.models import CrisisSettings
from casework.models import FamilyContact
from warning.models import EarlyWarning
from warning.models import WarningStatus
from warning.policy import Level


class CrisisError(ValueError):
    """The input breaks a rule of crisis records; the message says which (shown to the user,
    `campus.i18n.refusal_text`). `field` names the form field it is about, so the refusal sits
    under what is to change; None: the form as a whole."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class FamilyCallError(CrisisError):
    """The entry's call to the family cannot be logged as a family contact as given: said under
    the guardian's name, the first field of the call."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "family_name")


class AlreadySaved(Exception):
    """The same form was sent twice (a double click, a reload): the first one was kept."""


@dataclass(frozen=True)
class FamilyCall:
    """The call to the family an entry records (its time already in naive UTC; None: now, or the
    hand-over's time for a call in person at the hand-over). `summary` is what the family log
    keeps of it: never the entry's narrative, which the log's readers (the department leader
    among them) may not read; the form's words, or where the account is
    (`crisis_forms.FAMILY_SUMMARY`)."""

    at: datetime | None
    guardian_name: str
    guardian_relation: str
    channel: ContactChannel
    outcome: ContactOutcome
    summary: str


# The family contacts' tokens: their entry's, so a form sent twice is one entry and one contact
# of each kind (its call; its hand-over, when that was not the call).
FAMILY_SUBMISSION = "crisis:{}"
HANDOVER_SUBMISSION = "crisis-handover:{}"
# What the family log keeps of a hand-over, in its writer's language (as a call's summary is).
HANDOVER_SUMMARY = N_("Handed over to the family in person; the account is in the crisis record.")


@dataclass(frozen=True)
class EntryInput:
    """One account of what happened, as the form gave it (times already in naive UTC)."""

    occurred_at: datetime
    place: str
    narrative: str
    submission: str
    present: str | None = None
    actions: list[str] = field(default_factory=list)
    hospital: str | None = None
    handed_over_at: datetime | None = None
    handed_over_to: str | None = None
    corrects_id: int | None = None
    family: FamilyCall | None = None


def record_of(session: Session, warning_id: int) -> CrisisRecord | None:
    """The crisis record of the warning, if one was opened."""
    return session.scalar(select(CrisisRecord).where(CrisisRecord.warning_id == warning_id))


def check_new_record(session: Session, warning: EarlyWarning) -> None:
    """Raises `CrisisError` unless `warning` is an open red warning without a crisis record."""
    if warning.status != WarningStatus.OPEN:
        raise CrisisError(Message(N_("This warning is closed.")))
    if warning.level < Level.RED:
        raise CrisisError(
            Message(
                N_(
                    "A crisis record belongs to a red warning. Raise the level to red on the "
                    "warning page first, with your reason."
                )
            )
        )
    if record_of(session, warning.id) is not None:
        raise AlreadySaved()


def check_entry(
    session: Session, record: CrisisRecord | None, entry: EntryInput, now: datetime
) -> None:
    """Raises `CrisisError` unless the entry says when (not in the future), where and what
    happened, names the hospital when one was involved and the hand-over when there was one,
    and corrects (if at all) an entry of the same record."""
    if entry.occurred_at > now:
        raise CrisisError(Message(N_("When it happened cannot be in the future.")), "occurred_at")
    if not entry.place.strip() or not entry.narrative.strip():
        raise CrisisError(
            Message(N_("Say where it happened and what happened.")),
            "narrative" if entry.place.strip() else "place",
        )
    unknown = set(entry.actions) - {a.value for a in CrisisAction}
    if unknown:
        raise CrisisError(Message(N_("Choose what was done from the list.")), "actions")
    if CrisisAction.GUARDIAN_INFORMED in entry.actions:
        # Said by a call that reached the guardian (`_add_entry`), never ticked apart from it.
        raise CrisisError(
            Message(N_("Record the call to the family: who, how and its outcome.")), "actions"
        )
    if CrisisAction.HOSPITAL in entry.actions and not (entry.hospital or "").strip():
        raise CrisisError(Message(N_("Name the hospital the student was taken to.")), "hospital")
    handed = hands_over(entry)
    if handed and (entry.handed_over_at is None or not (entry.handed_over_to or "").strip()):
        raise CrisisError(
            Message(N_("Give the time of the hand-over and who took the student.")),
            "handed_over_to" if entry.handed_over_at is not None else "handed_over_at",
        )
    if entry.handed_over_at is not None:
        if entry.handed_over_at > now:
            raise CrisisError(
                Message(N_("The hand-over cannot be in the future.")), "handed_over_at"
            )
        if entry.handed_over_at < entry.occurred_at:
            raise CrisisError(
                Message(N_("The hand-over cannot come before what happened.")), "handed_over_at"
            )
    if entry.corrects_id is not None:
        earlier = session.get(CrisisEntry, entry.corrects_id)
        if record is None or earlier is None or earlier.record_id != record.id:
            raise CrisisError(
                Message(N_("Choose an earlier entry of this record to correct.")), "corrects"
            )


def hands_over(entry: EntryInput) -> bool:
    """Whether the entry records a hand-over to the family: ticked, or its time or who took the
    student given (`check_entry` then asks for both)."""
    return (
        CrisisAction.HANDED_OVER in entry.actions
        or entry.handed_over_at is not None
        or bool((entry.handed_over_to or "").strip())
    )


def open_record(
    session: Session, actor: User, warning: EarlyWarning, entry: EntryInput, now: datetime
) -> CrisisRecord:
    """Open the crisis record of a red warning with its first entry; audits and commits.
    Raises `CrisisError`, or `AlreadySaved` when the warning already has its record."""
    check_new_record(session, warning)
    check_entry(session, None, entry, now)
    contacts = check_family_contacts(session, actor, warning.student, entry, now)
    record = CrisisRecord(
        institution_id=warning.institution_id,
        student_id=warning.student_id,
        warning_id=warning.id,
        opened_at=now,
        opened_by_id=actor.id,
    )
    session.add(record)
    try:
        session.flush()
        _add_entry(session, actor, record, entry, now, contacts)
        audit.record_on(session, record, actor=actor, action="crisis.open", record_type="crisis")
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AlreadySaved() from None
    return record


def append_entry(
    session: Session, actor: User, record: CrisisRecord, entry: EntryInput, now: datetime
) -> CrisisEntry:
    """Add an entry to `record`; audits and commits. Raises `CrisisError`, or `AlreadySaved` for
    a form sent twice."""
    check_entry(session, record, entry, now)
    contacts = check_family_contacts(session, actor, record.student, entry, now)
    try:
        added = _add_entry(session, actor, record, entry, now, contacts)
        audit.record_on(
            session, added, actor=actor, action="crisis.entry", record_type="crisis_entry"
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AlreadySaved() from None
    return added


def _add_entry(
    session: Session,
    actor: User,
    record: CrisisRecord,
    entry: EntryInput,
    now: datetime,
    contacts: list[CheckedContact],
) -> CrisisEntry:
    """Add the entry and, after it (so a form sent twice stops at the entry's token), its family
    contacts, each of which audits itself and meets the warning's step."""

    def text(value: str | None, limit: int) -> str | None:
        return (value or "").strip()[:limit] or None

    done = set(entry.actions)
    if hands_over(entry):
        done.add(CrisisAction.HANDED_OVER)
    if any(c.data.outcome is ContactOutcome.REACHED for c in contacts):
        done.add(CrisisAction.GUARDIAN_INFORMED)
    added = CrisisEntry(
        record_id=record.id,
        institution_id=record.institution_id,
        student_id=record.student_id,
        occurred_at=entry.occurred_at,
        place=entry.place.strip()[:200],
        narrative=entry.narrative.strip(),
        present=text(entry.present, 500),
        actions=[a.value for a in CrisisAction if a.value in done],
        hospital=text(entry.hospital, 200),
        handed_over_at=entry.handed_over_at,
        handed_over_to=text(entry.handed_over_to, 100),
        corrects_id=entry.corrects_id,
        submission=entry.submission[:40],
        author_id=actor.id,
        created_at=now,
    )
    session.add(added)
    session.flush()
    for contact in contacts:
        family_contacts.do_log_family_contact(
            session, actor, record.student, contact.data, contact.at
        )
    return added


@dataclass(frozen=True)
class CheckedContact:
    """A family contact of an entry as the family log takes it, and when it was, in UTC."""

    data: family_contacts.NewFamilyContact
    at: datetime


def check_family_contacts(
    session: Session, actor: User, student: Student, entry: EntryInput, now: datetime
) -> list[CheckedContact]:
    """The entry's family contacts, checked by the family log's own rules
    (`family_contacts.check_family_contact`): its call to the family, and its hand-over to the
    family (met in person, reached) unless the call was in person, which is then that meeting
    and must have reached the family. Each corrects the live contact of its kind that the entry
    it corrects logged. Raises `FamilyCallError` (the call) or `CrisisError` and writes nothing.
    (Whoever writes a crisis record may log the student's family contacts today: the refusal
    keeps it so should the two role lists part.)"""
    call = entry.family
    handed = hands_over(entry)
    if (call is not None or handed) and not can_log_family_contact(actor, student):
        if call is not None:
            raise FamilyCallError(
                Message(N_("You may not log this student's family contacts: leave the call empty."))
            )
        raise CrisisError(
            Message(N_("A hand-over to the family is a family contact, which you may not log.")),
            "handed_over_to",
        )
    zone = clock.institution_zone(session.get(Institution, student.institution_id))
    wanted: list[tuple[family_contacts.NewFamilyContact, bool]] = []
    met = False
    if call is not None:
        met = handed and call.channel is ContactChannel.IN_PERSON
        if met and call.outcome is not ContactOutcome.REACHED:
            raise FamilyCallError(
                Message(
                    N_(
                        "A hand-over in person reached the family: give this call in person as "
                        "reached, or the channel of a call made before it."
                    )
                )
            )
        at = call.at or (entry.handed_over_at if met else None) or now
        wanted.append((_call_contact(entry, call, clock.to_local(at, zone)), met))
    if handed and not met:
        wanted.append((_handover_contact(entry, zone), True))
    checked = []
    for data, hand_over in wanted:
        data = replace(data, corrects_id=_to_correct(session, student, entry, hand_over))
        try:
            at = family_contacts.check_family_contact(session, actor, student, data, now)
        except family_contacts.FamilyContactError as error:
            raise FamilyCallError(error.args[0]) from None
        checked.append(CheckedContact(data, at))
    return checked


def _call_contact(
    entry: EntryInput, call: FamilyCall, at: datetime
) -> family_contacts.NewFamilyContact:
    """The entry's call to the family as the family log takes it (`at` in local time)."""
    return family_contacts.NewFamilyContact(
        at=at,
        direction=(
            ContactDirection.MET
            if call.channel is ContactChannel.IN_PERSON
            else ContactDirection.WE_CALLED
        ),
        guardian_name=call.guardian_name,
        guardian_relation=call.guardian_relation,
        channel=call.channel,
        summary=call.summary,
        outcome=call.outcome,
        agreements=(),
        other_agreement="",
        follow_up_on=None,
        submission=FAMILY_SUBMISSION.format(entry.submission[:40]),
    )


def _handover_contact(entry: EntryInput, zone: ZoneInfo) -> family_contacts.NewFamilyContact:
    """The entry's hand-over as a family contact: the family met in person and reached, the
    person who took the student named as the form gave them (name and relation)."""
    assert entry.handed_over_at is not None  # `check_entry` asks for it with a hand-over
    return family_contacts.NewFamilyContact(
        at=clock.to_local(entry.handed_over_at, zone),
        direction=ContactDirection.MET,
        guardian_name=(entry.handed_over_to or "").strip()[:100],
        guardian_relation="",
        channel=ContactChannel.IN_PERSON,
        summary=Message(HANDOVER_SUMMARY).shown(),
        outcome=ContactOutcome.REACHED,
        agreements=(),
        other_agreement="",
        follow_up_on=None,
        submission=HANDOVER_SUBMISSION.format(entry.submission[:40]),
    )


def _to_correct(
    session: Session, student: Student, entry: EntryInput, hand_over: bool
) -> int | None:
    """The family contact a correction's call (or hand-over) replaces: the one of that kind the
    corrected entry logged, or where it logged none the entry that one corrects in turn, as the
    family log reads it now (its latest correction there). None for a new account."""
    entry_id = entry.corrects_id
    while entry_id is not None:
        earlier = session.get(CrisisEntry, entry_id)
        if earlier is None or earlier.student_id != student.id:
            return None
        found = _contact_of(session, earlier, hand_over)
        if found is not None:
            return _latest(session, found).id
        entry_id = earlier.corrects_id
    return None


def _contact_of(session: Session, entry: CrisisEntry, hand_over: bool) -> FamilyContact | None:
    """The entry's call (`hand_over` False) or hand-over, as it logged them: its call in person
    at a hand-over is the hand-over."""
    call_token = FAMILY_SUBMISSION.format(entry.submission)
    handover_token = HANDOVER_SUBMISSION.format(entry.submission)
    found = {
        c.submission: c
        for c in session.scalars(
            select(FamilyContact).where(
                FamilyContact.student_id == entry.student_id,
                FamilyContact.submission.in_((call_token, handover_token)),
            )
        )
    }
    call = found.get(call_token)
    met = (
        call is not None
        and call.channel is ContactChannel.IN_PERSON
        and entry.handed_over_at is not None
    )
    if hand_over:
        return call if met else found.get(handover_token)
    return None if met else call


def _latest(session: Session, contact: FamilyContact) -> FamilyContact:
    """The contact as the family log shows it now: its latest correction, if it was corrected."""
    while True:
        later = session.scalar(
            select(FamilyContact)
            .where(FamilyContact.corrects_id == contact.id)
            .order_by(FamilyContact.id.desc())
            .limit(1)
        )
        if later is None:
            return contact
        contact = later


def family_calls(session: Session, record: CrisisRecord) -> dict[int, FamilyContact]:
    """Entry id -> the family contact its call to the family was saved as (found by the
    entry's token), for the record's page; one query."""
    tokens = {FAMILY_SUBMISSION.format(e.submission): e.id for e in record.entries}
    if not tokens:
        return {}
    found = session.scalars(
        select(FamilyContact).where(
            FamilyContact.student_id == record.student_id,
            FamilyContact.submission.in_(tokens),
        )
    )
    return {tokens[contact.submission]: contact for contact in found}


# --------------------------------------------------------------------------------------------------
# Hand-over documents
# --------------------------------------------------------------------------------------------------


def uses_safety_pledge(session: Session, institution_id: int) -> bool:
    """Whether the institution asks for a 安全承诺书 at hand-over (default: yes)."""
    settings = session.get(CrisisSettings, institution_id)
    return True if settings is None else settings.safety_pledge


def set_safety_pledge(
    session: Session, actor: User, institution_id: int, used: bool, now: datetime
) -> None:
    """Turn the safety pledge on or off for the institution; audits and commits."""
    settings = session.get(CrisisSettings, institution_id)
    if settings is None:
        settings = CrisisSettings(institution_id=institution_id)
        session.add(settings)
    settings.safety_pledge = used
    settings.updated_at = now
    settings.updated_by_id = actor.id
    audit.record(
        session,
        actor=actor,
        action="crisis.settings",
        record_type="crisis_settings",
        record_id=institution_id,
        institution_id=institution_id,
        detail=f"safety_pledge={used}",
    )
    session.commit()


def document_kinds(session: Session, institution_id: int) -> list[CrisisDocumentKind]:
    """The documents the institution hands over at a crisis."""
    kinds = [CrisisDocumentKind.GUARDIAN_NOTICE]
    if uses_safety_pledge(session, institution_id):
        kinds.append(CrisisDocumentKind.SAFETY_PLEDGE)
    return kinds


def generate_document(
    session: Session,
    actor: User,
    record: CrisisRecord,
    kind: str,
    now: datetime,
    language: str,
) -> CrisisDocument:
    """A new tracked copy of a hand-over document in `language` (one of
    `campus.documents.PRINT_LANGUAGES`, the copy prints in it whoever downloads it), unsigned;
    audits and commits."""
    if kind not in document_kinds(session, record.institution_id):
        raise CrisisError(Message(N_("This institution does not use that document.")))
    if language not in PRINT_LANGUAGES:
        raise CrisisError(Message(N_("Choose the language.")))
    document = CrisisDocument(
        record_id=record.id,
        institution_id=record.institution_id,
        student_id=record.student_id,
        kind=CrisisDocumentKind(kind),
        generated_at=now,
        generated_by_id=actor.id,
        language=language,
    )
    session.add(document)
    session.flush()
    audit.record_on(
        session,
        document,
        actor=actor,
        action="generate",
        record_type=f"crisis_{kind}",
        detail=f"language={language}",
    )
    session.commit()
    return document


def check_signature(
    session: Session, document: CrisisDocument, signed_on: date, signer: str, now: datetime
) -> None:
    """Raises `CrisisError` unless the signature names its signer and a date between the
    copy's generation and today (the institution's calendar), on a copy not yet signed."""
    if document.signed_on is not None:
        raise CrisisError(Message(N_("This copy is already recorded as signed.")))
    if not signer.strip():
        raise CrisisError(Message(N_("Say who signed.")), "signed_by")
    zone = clock.institution_zone(session.get(Institution, document.institution_id))
    if signed_on > clock.local_date(now, zone):
        raise CrisisError(Message(N_("The date of signing cannot be in the future.")), "signed_on")
    if signed_on < clock.local_date(document.generated_at, zone):
        raise CrisisError(
            Message(N_("The copy cannot be signed before it was printed.")), "signed_on"
        )


def record_signature(
    session: Session,
    actor: User,
    document: CrisisDocument,
    now: datetime,
    *,
    signed_on: date,
    signer: str,
    scan: scans.StoredScan | None,
    scan_folder: Path,
) -> CrisisDocument:
    """Mark the copy signed (and attach its scan); audits and commits. A copy signed meanwhile
    by someone else raises `CrisisError` and the new scan is not kept."""
    try:
        check_signature(session, document, signed_on, signer, now)
        values: dict[str, object] = {
            "signed_on": signed_on,
            "signed_by_name": signer.strip()[:100],
            "signed_recorded_by_id": actor.id,
            "signed_recorded_at": now,
        }
        if scan is not None:
            values |= _scan_values(scan, now)
        if not set_once(session, CrisisDocument.signed_on, document.id, **values):
            raise CrisisError(Message(N_("This copy is already recorded as signed.")))
        audit.record_on(
            session,
            document,
            actor=actor,
            action="signed",
            record_type=f"crisis_{document.kind.value}",
            detail="with scan" if scan else None,
        )
        session.commit()
    except Exception:
        session.rollback()
        if scan is not None:
            scans.discard(scan_folder, scan.name)
        raise
    session.refresh(document)
    return document


def attach_scan(
    session: Session,
    actor: User,
    document: CrisisDocument,
    now: datetime,
    *,
    scan: scans.StoredScan,
    scan_folder: Path,
) -> CrisisDocument:
    """Attach the scan of a copy already recorded as signed and without one; audits, commits."""
    try:
        if document.signed_on is None:
            raise CrisisError(Message(N_("Record the signature first.")))
        if not set_once(session, CrisisDocument.scan_file, document.id, **_scan_values(scan, now)):
            raise CrisisError(Message(N_("This copy already has its scan.")))
        audit.record_on(
            session,
            document,
            actor=actor,
            action="scan",
            record_type=f"crisis_{document.kind.value}",
        )
        session.commit()
    except Exception:
        session.rollback()
        scans.discard(scan_folder, scan.name)
        raise
    session.refresh(document)
    return document


def _scan_values(scan: scans.StoredScan, now: datetime) -> dict[str, object]:
    return {
        "scan_file": scan.name,
        "scan_type": scan.media_type,
        "scan_size": scan.size,
        "scan_uploaded_at": now,
    }


def documents_of(session: Session, record: CrisisRecord) -> list[CrisisDocument]:
    return list(
        session.scalars(
            select(CrisisDocument)
            .where(CrisisDocument.record_id == record.id)
            .order_by(CrisisDocument.generated_at, CrisisDocument.id)
        )
    )
