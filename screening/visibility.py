"""Who sees what of a student who takes part: the consent's statement, read off the real rules.

The consent must not promise more privacy than the system keeps. So its "who sees what" section
is not written by hand: for each role it is derived from the tables that decide access —
`campus.scope` (each role's capability and the unit of the institution it reaches, the caseload
rule), `warning.permissions` (who is handed tasks that name a student, who acts on a warning
rather than oversees it) and `referrals.permissions` / `referrals.disclosure` (what a hospital is
told). Change a rule there and the consent changes with it; tests/screening/
test_consent_visibility.py compares the statement with what each role really sees.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext

from campus.forms import ROLE_LABELS
from campus.models import ROLE_SCOPE
from campus.models import Role
from campus.models import ScopeKind
from campus.scope import CASELOAD_ROLES
from campus.scope import ROLE_CAPABILITY
from campus.scope import Capability
from referrals.disclosure import DEFAULT_DISCLOSED
from referrals.disclosure import DISCLOSABLE
from referrals.permissions import HOSPITAL_ROLES
from warning.permissions import ACTION_ROLES
from warning.permissions import STAFF_ROLES
from warning.permissions import TASK_ROLES


class Seen(enum.StrEnum):
    """One kind of information about the student a role may see."""

    ROSTER = "roster"  # name, number, class, room
    TASKS = "tasks"  # tasks that name the student ("please keep company with ...")
    WARNING = "warning"  # warning level and reasons (safety-answer flags included), follow-ups
    ANSWERS = "answers"  # answers and scores, of every student in scope
    CASELOAD_ANSWERS = "caseload_answers"  # answers and scores on the caseload / break-glass
    REFERRAL = "referral"  # what a referral to their hospital discloses
    AGGREGATES = "aggregates"  # counts only


@dataclass(frozen=True)
class Audience:
    """Roles that see the same things of the same students."""

    roles: tuple[Role, ...]
    unit: ScopeKind | None  # which students: those of the role's room, class, department, school
    seen: tuple[Seen, ...]

    @property
    def never(self) -> tuple[Seen, ...]:
        """The sensitive kinds this audience does not see, said out loud to the student. Nothing
        is promised of a hospital: the centre may choose to share a screening summary with it."""
        if Seen.REFERRAL in self.seen:
            return ()
        answers = {Seen.ANSWERS, Seen.CASELOAD_ANSWERS}
        missing = [] if answers & set(self.seen) else [Seen.ANSWERS]
        return tuple(missing + ([] if Seen.WARNING in self.seen else [Seen.WARNING]))

    @property
    def oversees(self) -> bool:
        """Sees warnings without acting on any (the administrator): the statement says why."""
        acting = frozenset().union(*ACTION_ROLES.values())
        return Seen.WARNING in self.seen and not acting & set(self.roles)


def seen_by(role: Role) -> tuple[Seen, ...]:
    """What `role` sees of a student in its scope, from the access rules."""
    capability = ROLE_CAPABILITY[role]
    if role in HOSPITAL_ROLES:
        return (Seen.REFERRAL,)
    if capability is None:
        return (Seen.AGGREGATES,)
    seen = [Seen.ROSTER]
    if role in TASK_ROLES - STAFF_ROLES:
        seen.append(Seen.TASKS)
    if capability >= Capability.WARNING:
        seen.append(Seen.WARNING)
    if capability >= Capability.CLINICAL:
        seen.append(Seen.ANSWERS)
    elif role in CASELOAD_ROLES:
        seen.append(Seen.CASELOAD_ANSWERS)
    return tuple(seen)


def unit_of(role: Role) -> ScopeKind | None:
    """Whose records the role reaches; None for roles that see no roster at all."""
    if ROLE_CAPABILITY[role] is None:
        return None
    return ROLE_SCOPE[role]


def audiences() -> list[Audience]:
    """Every staff role, grouped where they see the same, in the order of the roles."""
    grouped: dict[tuple[ScopeKind | None, tuple[Seen, ...]], list[Role]] = {}
    for role in Role:
        if role is not Role.STUDENT:
            grouped.setdefault((unit_of(role), seen_by(role)), []).append(role)
    return [Audience(tuple(roles), unit, seen) for (unit, seen), roles in grouped.items()]


# --- what the student reads ---------------------------------------------------------------------

UNIT_LABELS = {
    ScopeKind.ROOM: _l("only for students of their own dorm room"),
    ScopeKind.CLASS: _l("only for students of their own class"),
    ScopeKind.DEPARTMENT: _l("only for students of their own department"),
    ScopeKind.INSTITUTION: _l("for every student of the university"),
}
SEEN_LABELS = {
    Seen.ROSTER: _l("your name, student number, class and dorm room"),
    Seen.TASKS: _l("tasks that ask them to keep you company or check on you, which name you"),
    Seen.WARNING: _l(
        "whether you have a warning, its level (red, yellow or blue) and why, including that an "
        "answer about self-harm or suicide needs attention, and the follow-up record"
    ),
    Seen.ANSWERS: _l("your answers and scores"),
    Seen.CASELOAD_ANSWERS: _l(
        "your answers and scores, only while they are responsible for supporting you or after "
        "recording a reason for opening your record (every opening is logged)"
    ),
    Seen.REFERRAL: _l(
        "only if you are referred to their hospital: the details the centre chooses to share "
        "(by default %(fields)s)"
    ),
    Seen.AGGREGATES: _l("counts for the university or a department, never your name"),
}
NEVER_LABELS = {
    Seen.ANSWERS: _l("your answers and scores"),
    Seen.WARNING: _l("your warning level and its reasons"),
}


OVERSEES_NOTE = _l(
    "They see it to manage the system and check that warnings are followed up; they do not "
    "handle your warning themselves, and every look is logged."
)


@dataclass(frozen=True)
class Line:
    """One audience as the student reads it."""

    who: str
    scope: str
    sees: str
    never: str
    note: str = ""  # why an audience that does not act on warnings sees them


def _joined(parts: list[str]) -> str:
    return pgettext("list separator", "; ").join(parts)


def _label(seen: Seen) -> str:
    if seen is Seen.REFERRAL:
        fields = pgettext("list separator", ", ").join(
            str(DISCLOSABLE[key].label) for key in DEFAULT_DISCLOSED
        )
        return str(SEEN_LABELS[seen]) % {"fields": fields}
    return str(SEEN_LABELS[seen])


def lines() -> list[Line]:
    """The statement in the reader's language, one line per audience."""
    return [
        Line(
            who=pgettext("list separator", ", ").join(str(ROLE_LABELS[r]) for r in a.roles),
            scope=str(UNIT_LABELS[a.unit]) if a.unit else "",
            sees=_("Sees: %(items)s.", items=_joined([_label(s) for s in a.seen])),
            never=(
                _("Never sees: %(items)s.", items=_joined([str(NEVER_LABELS[s]) for s in a.never]))
                if a.never
                else ""
            ),
            note=str(OVERSEES_NOTE) if a.oversees else "",
        )
        for a in audiences()
    ]


def _roles(groups: list[Audience]) -> str:
    return pgettext("list separator", ", ").join(
        str(ROLE_LABELS[r]) for a in groups for r in a.roles
    )


def in_short() -> list[str]:
    """Who sees her results, in three or four short lines for the top of the consent page, read
    off the same audiences as the full statement (which stays below them, word for word)."""
    groups = audiences()
    answers = [a for a in groups if Seen.ANSWERS in a.seen and Seen.REFERRAL not in a.seen]
    caseload = [a for a in groups if Seen.CASELOAD_ANSWERS in a.seen]
    readers = [_roles(answers)] if answers else []
    if caseload:
        readers.append(
            _(
                "the %(roles)s supporting you (or opening your record with a logged reason)",
                roles=_roles(caseload),
            )
        )
    acting = [a for a in groups if Seen.WARNING in a.seen and not a.oversees]
    overseeing = [a for a in groups if a.oversees]
    peers = [
        a for a in groups if Seen.ROSTER in a.seen and set(a.never) >= {Seen.ANSWERS, Seen.WARNING}
    ]
    said = []
    if readers:
        said.append(
            _(
                "Your answers and scores: in the university, only %(who)s see them.",
                who=pgettext("list separator", ", ").join(readers),
            )
        )
    if acting:
        said.append(
            _(
                "Whether you have a warning, its level and why: %(who)s, who follow it up.",
                who=_roles(acting),
            )
        )
    for a in overseeing:
        if Seen.ANSWERS in a.never:
            line = _(
                "%(who)s: sees whether you have a warning, its level and why, not to handle it "
                "but to manage the system and check that warnings are followed up; never your "
                "answers or scores. Every look is logged.",
                who=_roles([a]),
            )
        else:
            line = _(
                "%(who)s: sees whether you have a warning, its level and why, not to handle it "
                "but to manage the system and check that warnings are followed up. Every look is "
                "logged.",
                who=_roles([a]),
            )
        said.append(line)
    if peers:
        said.append(
            _("%(who)s never see your answers, scores or warning level.", who=_roles(peers))
        )
    return said


def as_text(statement: list[Line]) -> str:
    """The statement as plain text, kept with the consent record exactly as shown."""
    return "\n".join(
        " ".join(
            part
            for part in (
                line.who,
                f"({line.scope})" if line.scope else "",
                line.sees,
                line.never,
                line.note,
            )
            if part
        )
        for line in statement
    )
