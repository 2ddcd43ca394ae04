"""A student's erasure request: asked on their page, reviewed by the director, carried out by the
purge, confirmed to the student; open cases, legal holds and the roll keep what they must."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Student
from campus.notifications import Notification
from casework.models import CrisisRecord
from casework.models import FamilyContact
from privacy import erasure
from privacy import holds
from privacy.retention_models import ErasureRequest
from privacy.retention_models import ErasureState
from privacy.retention_models import PurgeRun
from privacy.retention_models import RunState
from screening.models import ScreeningResult
from tests.conftest import sign_in
from tests.factories import open_warning
from tests.privacy.records import LONG_AGO
from tests.privacy.records import left
from tests.privacy.records import school
from tests.privacy.records import whole_record
from warning.models import EarlyWarning
from warning.policy import Level

AT = datetime(2025, 10, 1, 8)
MINE = "/privacy/erasure/mine"


@pytest.fixture
def world(campus):
    where = school(campus)
    group = campus.class_group(campus.department(where.institution))
    student = campus.student(group, name="Li Na")
    other = campus.student(group, name="Zhao Lei")
    for s in (student, other):
        whole_record(s, where, AT)
    db.session.commit()
    return where, student, other


def _as(app, user):
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client


def _count(model, student_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(model).where(model.student_id == student_id)
    )


def _ask(app, student, note: str = "I graduated and want a clean slate"):
    return _as(app, student.user).post(MINE, data={"note": note, "understood": "y"})


def _decide(app, director, request_id: int, **form):
    data = {"decision": "approve", "reason": ""} | form
    return _as(app, director).post(f"/privacy/erasure/{request_id}", data=data)


def test_student_asks_director_approves_and_the_records_are_erased(app, world):
    where, student, other = world
    assert _ask(app, student).status_code == 302
    request = db.session.scalars(select(ErasureRequest)).one()
    assert request.state == ErasureState.REQUESTED
    note = db.session.scalars(
        select(Notification).where(Notification.user_id == where.director.id)
    ).one()
    assert note.link == f"/privacy/erasure/{request.id}"

    page = _as(app, where.director).get(f"/privacy/erasure/{request.id}")
    assert page.status_code == 200
    assert b"Li Na" in page.data
    db.session.expire_all()
    assert request.state == ErasureState.UNDER_REVIEW

    _decide(app, where.director, request.id)

    db.session.expire_all()
    assert request.state == ErasureState.CARRIED_OUT
    assert _count(ScreeningResult, student.id) == 0
    assert _count(CrisisRecord, student.id) == 0
    assert db.session.scalars(
        select(FamilyContact.summary).where(FamilyContact.student_id == student.id)
    ).all() == [""]
    # Still enrolled: the name and account stay so the student can read the outcome.
    assert db.session.get(Student, student.id).name == "Li Na"
    assert request.kept == {"identity": "on_roll", "audit": "access_record"}
    # The other student is untouched.
    assert _count(ScreeningResult, other.id) == 1
    run = db.session.scalars(select(PurgeRun)).one()
    assert (run.kind, run.erasure_id, run.state) == ("erasure", request.id, RunState.FINISHED)
    assert (
        db.session.scalar(
            select(func.count()).where(
                AuditEvent.action == "erasure_purge", AuditEvent.student_id == student.id
            )
        )
        == 1
    )

    page = _as(app, student.user).get(MINE)
    assert b"Carried out" in page.data
    assert b"You are still enrolled" in page.data
    assert (
        db.session.scalar(select(func.count()).where(Notification.user_id == student.user_id)) == 1
    )


def test_a_partly_approved_erasure_keeps_the_open_red_warning(app, world):
    where, student, _other = world
    red = open_warning(student, Level.RED)
    _ask(app, student)
    request = db.session.scalars(select(ErasureRequest)).one()

    page = _as(app, where.director).get(f"/privacy/erasure/{request.id}")
    assert b"An open warning" in page.data
    _decide(app, where.director, request.id)

    db.session.expire_all()
    assert request.kept == {
        "warnings": "open_warning",
        "identity": "on_roll",
        "audit": "access_record",
    }
    assert request.state == ErasureState.CARRIED_OUT
    # Only the open warning stays as it was; the closed one of last year is anonymised.
    rows = db.session.execute(
        select(EarlyWarning.id, EarlyWarning.reason).where(EarlyWarning.student_id == student.id)
    ).all()
    reasons = {warning_id: reason for warning_id, reason in rows}
    assert reasons.pop(red.id).startswith("red:")
    assert list(reasons.values()) == [""]
    assert _count(ScreeningResult, student.id) == 0
    # The student reads why without being told of a warning.
    page = _as(app, student.user).get(MINE)
    assert b"still following a case with you" in page.data
    assert b"warning" not in page.data.lower()


def test_a_legal_hold_refuses_approval_and_a_decline_needs_its_reason(app, world):
    where, student, _other = world
    holds.place(
        db.session, where.director, student, "Complaint before the education bureau", clock.now()
    )
    _ask(app, student)
    request = db.session.scalars(select(ErasureRequest)).one()

    page = _decide(app, where.director, request.id)
    assert (
        b"A legal hold is in force"
        in _as(app, where.director).get(f"/privacy/erasure/{request.id}").data
    )
    assert page.status_code == 200
    assert b"A legal hold is in force for this student: decline" in page.data
    assert _decide(app, where.director, request.id, decision="decline").status_code == 200
    db.session.expire_all()
    assert request.state == ErasureState.UNDER_REVIEW
    assert _count(ScreeningResult, student.id) == 1

    _decide(app, where.director, request.id, decision="decline", reason="Held for the complaint")

    db.session.expire_all()
    assert request.state == ErasureState.DECLINED
    assert _count(ScreeningResult, student.id) == 1
    page = _as(app, student.user).get(MINE)
    assert b"Held for the complaint" in page.data


def test_a_second_request_while_one_is_reviewed_is_refused(app, world):
    _where, student, _other = world
    client = _as(app, student.user)
    form = {"note": "", "understood": "y"}
    client.post(MINE, data=form)
    page = client.post(MINE, data=form, follow_redirects=True)  # the same page sent twice

    assert b"You already have a request being reviewed." in page.data
    assert db.session.scalar(select(func.count()).select_from(ErasureRequest)) == 1


def test_the_student_must_confirm_they_read_the_page(app, world):
    _where, student, _other = world
    page = _as(app, student.user).post(MINE, data={"note": ""})

    assert b"Tick the box" in page.data
    assert db.session.scalar(select(func.count()).select_from(ErasureRequest)) == 0


def test_a_decided_request_cannot_be_decided_again(app, world):
    where, student, _other = world
    _ask(app, student)
    request = db.session.scalars(select(ErasureRequest)).one()
    _decide(app, where.director, request.id, decision="decline", reason="Not now")

    _decide(app, where.director, request.id)

    db.session.expire_all()
    assert request.state == ErasureState.DECLINED
    assert _count(ScreeningResult, student.id) == 1


def test_a_forged_keep_reason_is_refused_and_changes_nothing(app, world):
    where, student, _other = world
    _ask(app, student)
    request = db.session.scalars(select(ErasureRequest)).one()

    page = _decide(app, where.director, request.id, keep_screening_results="because")

    assert b"Choose a reason from the list" in page.data
    db.session.expire_all()
    assert request.state == ErasureState.UNDER_REVIEW
    assert _count(ScreeningResult, student.id) == 1


def test_the_director_may_keep_a_part_for_a_retention_duty(app, world):
    where, student, _other = world
    _ask(app, student)
    request = db.session.scalars(select(ErasureRequest)).one()

    _decide(app, where.director, request.id, keep_family_contacts="retention_duty")

    db.session.expire_all()
    assert request.kept["family_contacts"] == "retention_duty"
    assert db.session.scalars(
        select(FamilyContact.summary).where(FamilyContact.student_id == student.id)
    ).all() == ["Mother worried about her sleep"]


def test_a_graduate_s_erasure_strips_the_name_too(app, world, campus):
    where, student, _other = world
    left(student, LONG_AGO)
    db.session.commit()
    request = erasure.request_erasure(db.session, student, "", clock.now())
    decision = erasure.Decision(True, {}, "")

    erasure.decide(app, db.session, where.director, request, decision, clock.now())

    assert request.kept == {"audit": "access_record"}
    assert request.state == ErasureState.CARRIED_OUT
    # Who read the student's data stays on record (the request's own rows among them).
    assert db.session.scalar(select(func.count()).where(AuditEvent.student_id == student.id)) >= 2
    assert db.session.get(Student, student.id).name == "—"
    # Told before the account went: the note was written while it could still be delivered.
    assert (
        db.session.scalar(select(func.count()).where(Notification.user_id == student.user_id)) == 1
    )


def test_an_approved_erasure_interrupted_is_finished_by_the_sweep(app, world):
    where, student, _other = world
    request = erasure.request_erasure(db.session, student, "", clock.now())
    request.state = ErasureState.APPROVED  # approved, then the worker died before the purge
    request.kept = {"identity": "on_roll", "audit": "access_record"}
    db.session.commit()

    from privacy import purge

    purge.sweep(db.session, clock.now())

    db.session.expire_all()
    assert request.state == ErasureState.CARRIED_OUT
    assert _count(ScreeningResult, student.id) == 0


def test_only_the_director_of_the_school_reviews(app, world, campus):
    where, student, _other = world
    _ask(app, student)
    request = db.session.scalars(select(ErasureRequest)).one()
    elsewhere = campus.staff(campus.institution("HNU"), campus_role("DIRECTOR"))
    counsellor = where.counsellor
    db.session.commit()

    assert _as(app, elsewhere).get(f"/privacy/erasure/{request.id}").status_code == 404
    assert _as(app, counsellor).get(f"/privacy/erasure/{request.id}").status_code == 403
    assert _as(app, student.user).get("/privacy/erasure").status_code == 403
    assert _as(app, where.director).get("/privacy/erasure/999999").status_code == 404


def campus_role(name: str):
    from campus.models import Role

    return Role[name]


def test_the_director_places_and_lifts_a_hold_by_student_number(app, world):
    where, student, _other = world
    client = _as(app, where.director)

    page = client.post(
        "/privacy/holds", data={"student_number": "NOPE", "reason": "x"}, follow_redirects=True
    )
    assert b"No student of your school has this number" in page.data
    client.post(
        "/privacy/holds",
        data={"student_number": student.student_number, "reason": "Lawsuit"},
    )
    hold = holds.in_force(db.session, student.id)
    assert hold is not None
    again = client.post(
        "/privacy/holds",
        data={"student_number": student.student_number, "reason": "Again"},
        follow_redirects=True,
    )
    assert b"already under a legal hold" in again.data

    client.post(f"/privacy/holds/{hold.id}/lift")

    db.session.expire_all()
    assert holds.in_force(db.session, student.id) is None
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"legal_hold_placed", "legal_hold_lifted"} <= actions
