"""The termly access review: once a term an administrator confirms or ends every staff role of
the institution, each decision recorded with its date and who made it.

An administrator opens the review of the term (`oversight.periods`) that today falls in; it
covers every working staff assignment given before it opened (students' own role is not staff
access), and is due `ACCESS_REVIEW_DAYS` after it opened. What is still unreviewed after the
deadline heads the administrator's home page. Ending a role here ends it at once, like removing
it on the user's page, and keeps it in the user's history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta

from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm import joinedload

from campus import admin
from campus import audit
from campus.i18n import N_
from campus.i18n import Message
from campus.models import WITH_ENDED_ROLES
from campus.models import AccessReview
from campus.models import AccessReviewDecision
from campus.models import Institution
from campus.models import ReviewOutcome
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import RoleEnd
from campus.models import User
from campus.outcomes import Refused
from oversight import periods


class ReviewError(Refused):
    """A review step that cannot be taken; `message` says why. Nothing was written."""


@dataclass(frozen=True)
class Person:
    """One staff member's assignments in a review, with what the review decided for each."""

    user: User
    rows: list[tuple[RoleAssignment, AccessReviewDecision | None]]

    @property
    def pending(self) -> int:
        return sum(decision is None for _assignment, decision in self.rows)


def term_of(institution: Institution, now: datetime) -> periods.Period:
    return periods.term(admin.local_today(institution, now))


def review_of_term(
    session: Session, institution: Institution, now: datetime
) -> AccessReview | None:
    """The review of the term today falls in, if it has been opened."""
    return session.scalar(
        select(AccessReview).where(
            AccessReview.institution_id == institution.id,
            AccessReview.term_key == term_of(institution, now).key,
        )
    )


def latest_review(session: Session, institution_id: int) -> AccessReview | None:
    return session.scalar(
        select(AccessReview)
        .where(AccessReview.institution_id == institution_id)
        .order_by(AccessReview.opened_at.desc(), AccessReview.id.desc())
        .limit(1)
    )


def find_review(session: Session, institution: Institution, review_id: int) -> AccessReview | None:
    """Review `review_id` of `institution`; None for a forged or another institution's id."""
    return session.scalar(
        select(AccessReview).where(
            AccessReview.id == review_id, AccessReview.institution_id == institution.id
        )
    )


def open_review(
    session: Session, actor: User, institution: Institution, now: datetime, days: int
) -> AccessReview:
    """Open this term's review, due `days` days from today; audited, in one commit."""
    if review_of_term(session, institution, now) is not None:
        raise ReviewError(Message(N_("This term’s access review is already open.")))
    review = AccessReview(
        institution_id=institution.id,
        term_key=term_of(institution, now).key,
        opened_at=now,
        opened_by_id=actor.id,
        deadline=admin.local_today(institution, now) + timedelta(days=days),
    )
    session.add(review)
    try:
        session.flush()
        audit.record_on(
            session, review, actor=actor, action="open_access_review", record_type="access_review"
        )
        session.commit()
    except IntegrityError:  # opened at the same moment by another administrator
        session.rollback()
        raise ReviewError(Message(N_("This term’s access review is already open."))) from None
    return review


def _covered(review: AccessReview) -> Select[tuple[RoleAssignment]]:
    """The working staff assignments `review` covers (given before it opened)."""
    return select(RoleAssignment).where(
        RoleAssignment.institution_id == review.institution_id,
        RoleAssignment.role != Role.STUDENT,
        RoleAssignment.since < review.opened_at,
    )


def _undecided(review: AccessReview) -> Select[tuple[RoleAssignment]]:
    decided = select(AccessReviewDecision.id).where(
        AccessReviewDecision.review_id == review.id,
        AccessReviewDecision.assignment_id == RoleAssignment.id,
    )
    return _covered(review).where(~decided.exists())


def pending_count(session: Session, review: AccessReview) -> int:
    counted = session.scalar(_undecided(review).with_only_columns(func.count()))
    return counted or 0


def pending(
    session: Session, review: AccessReview, limit: int | None = None
) -> list[RoleAssignment]:
    """The assignments still to review, by holder's name."""
    query = (
        _undecided(review)
        .join(User, User.id == RoleAssignment.user_id)
        .options(joinedload(RoleAssignment.user))
        .order_by(User.name, RoleAssignment.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def people(session: Session, review: AccessReview) -> list[Person]:
    """Everyone in `review`, by name: their working assignments still to review, and those it
    has decided on (an assignment ended in the review stays listed, as ended)."""
    decisions = {
        d.assignment_id: d
        for d in session.scalars(
            select(AccessReviewDecision)
            .where(AccessReviewDecision.review_id == review.id)
            .options(joinedload(AccessReviewDecision.reviewed_by))
        )
    }
    decided = session.scalars(
        select(RoleAssignment)
        .where(RoleAssignment.id.in_(list(decisions)))
        .options(joinedload(RoleAssignment.user))
        .execution_options(**{WITH_ENDED_ROLES: True})
    )
    undecided = session.scalars(_undecided(review).options(joinedload(RoleAssignment.user)))
    assignments = sorted([*decided, *undecided], key=lambda a: (a.user.name, a.user_id, a.id))
    grouped: dict[int, Person] = {}
    for assignment in assignments:
        person = grouped.setdefault(assignment.user_id, Person(assignment.user, []))
        person.rows.append((assignment, decisions.get(assignment.id)))
    return list(grouped.values())


def check_decide(
    session: Session, review: AccessReview, assignment: RoleAssignment, now: datetime
) -> None:
    """`assignment` (already known to be of the review's institution) can be decided on now:
    covered by the review, not decided yet, still working. Raises `ReviewError`, writes nothing."""
    if assignment.role == Role.STUDENT or assignment.since >= review.opened_at:
        raise ReviewError(Message(N_("This role is not part of this review.")))
    already = session.scalar(
        select(AccessReviewDecision.id).where(
            AccessReviewDecision.review_id == review.id,
            AccessReviewDecision.assignment_id == assignment.id,
        )
    )
    if already is not None:
        raise ReviewError(Message(N_("This role has already been reviewed.")))
    if not assignment.live_at(now):
        raise ReviewError(Message(N_("This role has already ended.")))


def _decide(
    session: Session,
    actor: User,
    review: AccessReview,
    assignment: RoleAssignment,
    outcome: ReviewOutcome,
    now: datetime,
) -> None:
    session.add(
        AccessReviewDecision(
            review_id=review.id,
            assignment_id=assignment.id,
            outcome=outcome,
            reviewed_at=now,
            reviewed_by_id=actor.id,
        )
    )
    audit.record(
        session,
        actor=actor,
        action=f"access_review_{outcome.value}",
        record_type="user",
        record_id=assignment.user_id,
        institution_id=review.institution_id,
        detail=f"review #{review.id} {assignment.role.value} #{assignment.id}",
    )


def _commit(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError:  # the same decision sent twice at once: the first one stands
        session.rollback()
        raise ReviewError(Message(N_("This role has already been reviewed."))) from None


def confirm(
    session: Session,
    actor: User,
    review: AccessReview,
    assignments: Sequence[RoleAssignment],
    now: datetime,
) -> int:
    """Confirm each of `assignments` (all checked first: one that cannot be confirmed confirms
    none), audited, in one commit; how many were confirmed."""
    for assignment in assignments:
        check_decide(session, review, assignment, now)
    for assignment in assignments:
        _decide(session, actor, review, assignment, ReviewOutcome.CONFIRMED, now)
    _commit(session)
    return len(assignments)


def end(
    session: Session,
    actor: User,
    institution: Institution,
    review: AccessReview,
    assignment: RoleAssignment,
    now: datetime,
) -> None:
    """End `assignment` at once as the review's decision, kept in the holder's history."""
    check_decide(session, review, assignment, now)
    try:
        admin.check_end(actor, assignment, now)
    except admin.AdminError as error:
        raise ReviewError(error.message) from None
    admin.do_end_role(session, actor, institution, assignment, RoleEnd.REVIEW, now)
    _decide(session, actor, review, assignment, ReviewOutcome.ENDED, now)
    _commit(session)


def pending_of(session: Session, review: AccessReview, user_id: int) -> list[RoleAssignment]:
    """One person's assignments still to review (for "confirm all of this person's roles")."""
    return list(session.scalars(_undecided(review).where(RoleAssignment.user_id == user_id)))


def overdue(review: AccessReview, today: date) -> bool:
    return today > review.deadline
