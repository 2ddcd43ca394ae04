"""Who may see and write counselling sessions and their notes (咨询记录): the predicates and scope
clauses named for each decision. Views and services ask here, none keeps its own role list.

Session notes belong to the centre. A note is read only by
- its author (a school counsellor of the institution),
- once signed, the centre director of the institution,
- once signed, the supervisor named on the note (the trainee author's supervisor, who co-signs).
Never by department staff, the administrator, another school counsellor, a liaison or the student
— whatever the file's capability says. Every clause here is a WHERE clause, so a note out of reach
is the same 404 as a missing one.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy import false
from sqlalchemy import or_
from sqlalchemy import select

from appointments.models import Appointment
from appointments.models import CounsellorProfile
from appointments.models import NoteState
from appointments.models import SessionNote
from campus.models import Role
from campus.models import User

# Who may open the session pages at all (the route guard); the clauses below decide which rows.
SESSION_ROLES = frozenset({Role.SCHOOL_COUNSELLOR, Role.DIRECTOR})
# Who sees the appointments figures: the centre's dashboard serves the director and the
# administrator (counts only, no student).
FIGURE_ROLES = frozenset({Role.DIRECTOR, Role.ADMIN})


def _directed(user: User) -> list[int]:
    return sorted({a.institution_id for a in user.assignments(Role.DIRECTOR)})


def _counselling(user: User) -> list[int]:
    return sorted({a.institution_id for a in user.assignments(Role.SCHOOL_COUNSELLOR)})


def _supervised_trainees(user: User):
    """The users `user` supervises as trainees (a subquery of user ids)."""
    return select(CounsellorProfile.user_id).where(
        CounsellorProfile.supervisor_id == user.id, CounsellorProfile.is_trainee.is_(True)
    )


def appointment_clause(user: User) -> ColumnElement[bool]:
    """Appointments whose session page `user` may open (join nothing: a clause on
    `Appointment`): their own as counsellor, their trainees' as supervisor, every one of the
    institution as its director."""
    clauses: list[ColumnElement[bool]] = []
    counselling = _counselling(user)
    if counselling:
        clauses.append(
            (Appointment.counsellor_id == user.id) & Appointment.institution_id.in_(counselling)
        )
        clauses.append(Appointment.counsellor_id.in_(_supervised_trainees(user)))
    directed = _directed(user)
    if directed:
        clauses.append(Appointment.institution_id.in_(directed))
    return or_(*clauses) if clauses else false()


def note_clause(user: User) -> ColumnElement[bool]:
    """Session notes `user` may read: a clause on `SessionNote`. Only the author (still a school
    counsellor there), and once it is signed the institution's director and the supervisor named
    on the note: a draft is unfinished work, its author's alone."""
    clauses: list[ColumnElement[bool]] = []
    signed = SessionNote.state != NoteState.DRAFT
    counselling = _counselling(user)
    if counselling:
        clauses.append(
            (SessionNote.author_id == user.id) & SessionNote.institution_id.in_(counselling)
        )
        clauses.append(
            signed
            & (SessionNote.supervisor_id == user.id)
            & SessionNote.institution_id.in_(counselling)
        )
    directed = _directed(user)
    if directed:
        clauses.append(signed & SessionNote.institution_id.in_(directed))
    return or_(*clauses) if clauses else false()


def can_record_session(user: User, appointment: Appointment) -> bool:
    """Only the appointment's own counsellor records its outcome and writes its note."""
    return appointment.counsellor_id == user.id and appointment.institution_id in _counselling(user)


def can_co_sign(user: User, note: SessionNote) -> bool:
    """The supervisor named on a trainee's signed note co-signs it."""
    return note.supervisor_id == user.id and note.institution_id in _counselling(user)


def can_add_addendum(user: User, note: SessionNote) -> bool:
    """The author adds to their signed note; so does the co-signing supervisor."""
    return note.author_id == user.id or can_co_sign(user, note)


def may_see_figures(user: User, institution_id: int) -> bool:
    return any(a.institution_id == institution_id for a in user.assignments(*FIGURE_ROLES))
