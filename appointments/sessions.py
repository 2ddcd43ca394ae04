"""After a session: its outcome (attended / no-show / cancelled by the centre), the risk assessed
and, where it warrants it, the student's warning raised through the warning domain; the session
note (咨询记录) from draft to signed (and co-signed for a trainee), then addenda only.

Each step is `check_*` (raises `SessionError` with a message a counsellor can act on, writes
nothing) then `do_*` (writes, audits, does not commit), and the public function commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from appointments import session_permissions as permissions
from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import CounsellorProfile
from appointments.models import NoteState
from appointments.models import SessionNote
from appointments.models import SessionNoteAddendum
from appointments.models import SessionOutcome
from campus import audit
from campus.i18n import N_
from campus.i18n import Message
from campus.models import Role
from campus.models import User
from campus.outcomes import Refused
from warning.labels import Label
from warning.models import SignalSource
from warning.policy import Level

# After the session: it took place or the student did not come. Cancelling is a change of the
# appointment (`changes.cancel`), which records why and tells the student.
ATTENDED, NO_SHOW = "attended", "no_show"
ATTENDANCE_STATE = {ATTENDED: AppointmentState.ATTENDED, NO_SHOW: AppointmentState.NO_SHOW}
# The risk vocabulary is the warning levels': none, low = blue, medium = yellow, high = red.
RISK_LEVELS = (Level.NONE, Level.BLUE, Level.YELLOW, Level.RED)
RISK_SIGNAL_LABEL = N_("Risk assessed in a counselling session: %(reason)s")
NOTE_MAX = 20000
REASON_MIN = 10


class SessionError(Refused, ValueError):
    """A session step refused, with the reason a person can act on (a `Message`)."""


@dataclass(frozen=True)
class Outcome:
    """What the counsellor records after the session."""

    attendance: str
    risk_level: int | None = None
    reason: str = ""


# --------------------------------------------------------------------------------------------------
# Outcome and risk
# --------------------------------------------------------------------------------------------------


def has_begun(appointment: Appointment, now: datetime) -> bool:
    """Whether the session has begun, so that its outcome may be recorded."""
    return appointment.starts_at <= now


def check_outcome(actor: User, appointment: Appointment, outcome: Outcome, now: datetime) -> str:
    """The cleaned risk reason if the outcome may be recorded; raises `SessionError` otherwise."""
    if not permissions.can_record_session(actor, appointment):
        raise SessionError(Message(N_("Only the session's counsellor records its outcome.")))
    if appointment.state != AppointmentState.BOOKED:
        raise SessionError(Message(N_("This session's outcome is already recorded.")))
    if outcome.attendance not in ATTENDANCE_STATE:
        raise SessionError(Message(N_("Say whether the student came.")))
    if not has_begun(appointment, now):
        raise SessionError(
            Message(N_("The session has not begun yet: record its outcome once it has."))
        )
    reason = (outcome.reason or "").strip()
    if outcome.attendance != ATTENDED:
        return ""
    if outcome.risk_level not in RISK_LEVELS:
        raise SessionError(Message(N_("Give the risk you assessed in this session.")))
    if outcome.risk_level > Level.NONE and len(reason) < REASON_MIN:
        raise SessionError(
            Message(N_("Say why you assessed this risk (at least %(n)s characters)."), n=REASON_MIN)
        )
    return reason[:1000]


def do_record_outcome(
    session: Session,
    actor: User,
    appointment: Appointment,
    outcome: Outcome,
    reason: str,
    now: datetime,
) -> SessionOutcome:
    """Write what `check_outcome` allowed: the appointment's state, the outcome row and, for a
    risk above none, a counsellor's signal through `warning.services.record_signal`, which
    opens or raises the student's warning (with the reason) in this same unit of work."""
    from warning import services as warning_services

    appointment.state = ATTENDANCE_STATE[outcome.attendance]
    row = SessionOutcome(
        appointment_id=appointment.id,
        institution_id=appointment.institution_id,
        student_id=appointment.student_id,
        risk_level=outcome.risk_level if outcome.attendance == ATTENDED else None,
        risk_reason=reason or None,
        recorded_by_id=actor.id,
        recorded_at=now,
    )
    session.add(row)
    if outcome.attendance == ATTENDED and outcome.risk_level:
        signal = warning_services.record_signal(
            session,
            student=appointment.student,
            source=SignalSource.COUNSELLOR,
            observed_at=now,
            label=Label(RISK_SIGNAL_LABEL, {"reason": reason[:200]}),
            explicit_level=outcome.risk_level,
            flags=["counselling_session"],
            evidence_type="appointment",
            evidence_id=appointment.id,
            recorded_by=actor,
            now=now,
        )
        row.signal_id = signal.id
    session.flush()
    audit.record_on(
        session,
        appointment,
        actor=actor,
        action="session_outcome",
        record_type="appointment",
        detail=f"attendance={outcome.attendance} risk={row.risk_level}",
    )
    return row


def record_outcome(
    session: Session, actor: User, appointment: Appointment, outcome: Outcome, now: datetime
) -> SessionOutcome:
    """Record the session's outcome (and any warning it raises) in one commit."""
    reason = check_outcome(actor, appointment, outcome, now)
    try:
        row = do_record_outcome(session, actor, appointment, outcome, reason, now)
        session.commit()
    except IntegrityError:
        # A second tab recorded it first (unique appointment_id): nothing of ours is kept.
        session.rollback()
        raise SessionError(Message(N_("This session's outcome is already recorded."))) from None
    return row


def outcome_of(session: Session, appointment: Appointment) -> SessionOutcome | None:
    return session.scalar(
        select(SessionOutcome).where(SessionOutcome.appointment_id == appointment.id)
    )


# --------------------------------------------------------------------------------------------------
# The note: draft, sign, co-sign, addenda
# --------------------------------------------------------------------------------------------------


def _supervisor_of(session: Session, author: User) -> int | None:
    """The author's supervisor when the author is a trainee (their `CounsellorProfile`)."""
    profile = session.scalar(
        select(CounsellorProfile).where(CounsellorProfile.user_id == author.id)
    )
    if profile is None or not profile.is_trainee:
        return None
    return profile.supervisor_id


def check_draft(actor: User, appointment: Appointment, note: SessionNote | None, body: str) -> str:
    """The cleaned text if the draft may be saved; raises `SessionError` otherwise."""
    if not permissions.can_record_session(actor, appointment):
        raise SessionError(Message(N_("Only the session's counsellor writes its note.")))
    if appointment.state != AppointmentState.ATTENDED:
        raise SessionError(Message(N_("A note is written for a session the student attended.")))
    if note is not None and note.signed:
        raise SessionError(
            Message(N_("The note is signed and can no longer be changed: add an addendum."))
        )
    text = (body or "").strip()
    if not text:
        raise SessionError(Message(N_("Write the note first.")))
    if len(text) > NOTE_MAX:
        raise SessionError(Message(N_("A note holds at most %(n)s characters."), n=NOTE_MAX))
    return text


def save_draft(
    session: Session,
    actor: User,
    appointment: Appointment,
    body: str,
    now: datetime,
    *,
    sign: bool = False,
) -> SessionNote:
    """Save the note's draft (creating it the first time), and sign it when `sign`; one commit."""
    note = note_of(session, appointment)
    text = check_draft(actor, appointment, note, body)
    if note is None:
        note = SessionNote(
            appointment_id=appointment.id,
            institution_id=appointment.institution_id,
            student_id=appointment.student_id,
            author_id=actor.id,
            body=text,
            created_at=now,
        )
        session.add(note)
    else:
        note.body = text
    note.supervisor_id = _supervisor_of(session, actor)
    note.updated_at = now
    if sign:
        do_sign(session, actor, note, now)
    session.flush()
    audit.record_on(
        session,
        note,
        actor=actor,
        action="session_note_signed" if sign else "session_note_draft",
        record_type="session_note",
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise SessionError(
            Message(N_("Someone saved this note at the same moment: open the session again."))
        ) from None
    return note


def do_sign(session: Session, actor: User, note: SessionNote, now: datetime) -> None:
    """Sign the draft: from now on the database keeps it as it is."""
    note.state = NoteState.SIGNED
    note.signed_at = now


def may_co_sign(actor: User, note: SessionNote) -> bool:
    """Whether `actor` co-signs `note` now: its supervisor, while it waits for the co-sign (the
    page offered the button again after the co-sign, to be refused)."""
    return permissions.can_co_sign(actor, note) and note.state == NoteState.SIGNED


def check_co_sign(actor: User, note: SessionNote) -> None:
    if not permissions.can_co_sign(actor, note):
        raise SessionError(Message(N_("Only the trainee's supervisor co-signs this note.")))
    if note.state != NoteState.SIGNED:
        raise SessionError(Message(N_("Only a signed note awaiting the co-sign can be co-signed.")))


def co_sign(session: Session, actor: User, note: SessionNote, now: datetime) -> SessionNote:
    """The supervisor's co-sign of a trainee's signed note; one commit."""
    check_co_sign(actor, note)
    note.state = NoteState.CO_SIGNED
    note.co_signed_by_id = actor.id
    note.co_signed_at = now
    audit.record_on(
        session, note, actor=actor, action="session_note_co_signed", record_type="session_note"
    )
    session.commit()
    return note


def check_addendum(actor: User, note: SessionNote, body: str) -> str:
    if not permissions.can_add_addendum(actor, note):
        raise SessionError(
            Message(N_("Only the note's author or co-signing supervisor adds to it."))
        )
    if not note.signed:
        raise SessionError(Message(N_("Sign the note first; until then, edit the draft.")))
    text = (body or "").strip()
    if not text:
        raise SessionError(Message(N_("Write the addendum first.")))
    if len(text) > NOTE_MAX:
        raise SessionError(Message(N_("A note holds at most %(n)s characters."), n=NOTE_MAX))
    return text


def add_addendum(
    session: Session, actor: User, note: SessionNote, body: str, token: str, now: datetime
) -> SessionNoteAddendum | None:
    """Append an addendum to a signed note; a second submit of the same form adds nothing (None)."""
    text = check_addendum(actor, note, body)
    if not token or len(token) > 40:
        raise SessionError(Message(N_("The form has expired: open the session again.")))
    if session.scalar(
        select(SessionNoteAddendum.id).where(SessionNoteAddendum.submission == token)
    ):
        return None
    row = SessionNoteAddendum(
        note_id=note.id,
        institution_id=note.institution_id,
        student_id=note.student_id,
        author_id=actor.id,
        body=text,
        at=now,
        submission=token,
    )
    session.add(row)
    try:
        session.flush()
        audit.record_on(
            session, row, actor=actor, action="session_note_addendum", record_type="session_note"
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    return row


# How a viewer stands to an appointment's note: the page says who reads it in these terms.
AUTHOR, TRAINEE_AUTHOR, SUPERVISOR, DIRECTOR, OTHER = (
    "author",
    "trainee_author",
    "supervisor",
    "director",
    "other",
)


def note_reader(
    session: Session, viewer: User, appointment: Appointment, note: SessionNote | None
) -> str:
    """Whether `viewer` writes the note (its author, or the session's counsellor before there
    is one; a trainee's is co-signed), co-signs it as the supervisor named on it, reads it as
    the director, or none of these (`note` is the one `readable_note` gave, None if none)."""
    writes = (
        note.author_id == viewer.id
        if note is not None
        else permissions.can_record_session(viewer, appointment)
    )
    if writes:
        supervised = (
            note.supervisor_id if note is not None else _supervisor_of(session, viewer)
        ) is not None
        return TRAINEE_AUTHOR if supervised else AUTHOR
    if note is not None and note.supervisor_id == viewer.id:
        return SUPERVISOR
    if any(
        a.institution_id == appointment.institution_id for a in viewer.assignments(Role.DIRECTOR)
    ):
        return DIRECTOR
    return OTHER


def note_of(session: Session, appointment: Appointment) -> SessionNote | None:
    """The appointment's note, whoever asks: callers show it only through `readable_note`."""
    return session.scalar(select(SessionNote).where(SessionNote.appointment_id == appointment.id))


def readable_note(session: Session, viewer: User, appointment: Appointment) -> SessionNote | None:
    """The appointment's note if `viewer` may read it (`note_clause`), else None."""
    return session.scalar(
        select(SessionNote).where(
            SessionNote.appointment_id == appointment.id, permissions.note_clause(viewer)
        )
    )
