"""A new campus's first steps, on its administrator's home page until every one is done.

An administrator who has just signed in to an empty campus needs to know what comes next and in
which order: the centre's on-duty phone, departments and classes, the roster, staff with their
roles, the hospitals referrals go to, activation slips, the first screening. Each domain
declares its own step in its `registration.py` (`register_step`), as it declares its nav
entries; whether a step is done is read from the data (never ticked by hand), all steps of one
institution in one statement, so the list goes away by itself once the campus is set up and
comes back should a step come undone (a department added without a counsellor).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from flask import url_for
from sqlalchemy import ColumnElement
from sqlalchemy import false
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.orm import Session

from campus import admin
from campus.centre_phone import on_duty_phone
from campus.models import ActivationBatch
from campus.models import ClassGroup
from campus.models import Department
from campus.models import EnrolmentStatus
from campus.models import Institution
from campus.models import Role
from campus.models import SignOn
from campus.models import Student
from campus.models import User


@dataclass(frozen=True)
class FirstStep:
    """One step: what to do, why, the page that does it, and when it counts as done."""

    order: int
    label: Callable[[], str]  # lazily translated, as nav labels are
    why: Callable[[], str]
    endpoint: str
    done: Callable[[Institution], ColumnElement[bool]]  # SQL: true once the step is done


@dataclass(frozen=True)
class StepState:
    label: str
    why: str
    url: str
    done: bool


@dataclass(frozen=True)
class Checklist:
    institution: Institution
    steps: list[StepState]

    @property
    def done(self) -> int:
        return sum(step.done for step in self.steps)


def register_step(app: Flask, step: FirstStep) -> None:
    """Declare a first step every new campus takes (shown in `order`)."""
    app.extensions.setdefault("xinqiao_first_steps", []).append(step)


def steps(app: Flask) -> list[FirstStep]:
    return sorted(app.extensions.get("xinqiao_first_steps", []), key=lambda s: s.order)


def checklist(app: Flask, session: Session, institution: Institution) -> Checklist:
    """Every step with whether `institution` has done it, read in one statement."""
    declared = steps(app)
    done = session.execute(select(*(s.done(institution) for s in declared))).one()
    return Checklist(
        institution,
        [
            StepState(
                s.label(), s.why(), url_for(s.endpoint, institution=institution.id), bool(flag)
            )
            for s, flag in zip(declared, done, strict=True)
        ],
    )


def checklists(app: Flask, session: Session, user: User) -> list[Checklist]:
    """The checklist of each institution `user` administers that is not yet set up; none for
    anyone else, or once every step is done."""
    if not user.has_role(Role.ADMIN) or not steps(app):
        return []
    found = [checklist(app, session, i) for i in admin.administered_institutions(session, user)]
    return [c for c in found if c.done < len(c.steps)]


# The kernel's own steps' tests of done, registered in `campus.registration`.


def phone_set(institution: Institution) -> ColumnElement[bool]:
    """Students in crisis are given a number at the centre (the campus's own or the server's)."""
    return true() if on_duty_phone(institution) else false()


def structure_built(institution: Institution) -> ColumnElement[bool]:
    """A department with a class."""
    return (
        select(ClassGroup.id)
        .join(Department, Department.id == ClassGroup.department_id)
        .where(Department.institution_id == institution.id)
        .exists()
    )


def roster_imported(institution: Institution) -> ColumnElement[bool]:
    """An enrolled student."""
    return (
        select(Student.id)
        .where(
            Student.institution_id == institution.id,
            Student.enrolment_status == EnrolmentStatus.ENROLLED,
        )
        .exists()
    )


def students_can_sign_in(institution: Institution) -> ColumnElement[bool]:
    """Activation slips printed, or no need of them: the campus sign-on is on, or students
    already have passwords (a campus that moved here with its accounts)."""
    return or_(
        select(ActivationBatch.id).where(ActivationBatch.institution_id == institution.id).exists(),
        select(SignOn.id)
        .where(SignOn.institution_id == institution.id, SignOn.enabled.is_(True))
        .exists(),
        select(Student.id)
        .join(User, User.id == Student.user_id)
        .where(Student.institution_id == institution.id, User.password_hash.is_not(None))
        .exists(),
    )
