"""When a school counsellor's role ends, her caseload ends with it: the students' full records are
closed to her, and a school-counsellor role given back to her later starts with an empty caseload.
A counsellor whose role still works keeps hers; a second sweep changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from campus import admin
from campus import clock
from campus import scheduler
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Caseload
from campus.models import Role
from campus.models import Student
from campus.models import User
from campus.scope import Capability
from campus.scope import capability_for
from tests.factories import role_assignment
from warning import caseload
from warning import handover


def _on_caseload(counsellor: User, *students: Student) -> None:
    for student in students:
        caseload.join(db.session, counsellor, student, clock.now())
    db.session.commit()


def _caseload_of(counsellor: User) -> set[int]:
    return set(
        db.session.scalars(
            select(Caseload.student_id).where(Caseload.counsellor_id == counsellor.id)
        )
    )


def _ended_rows() -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "caseload_ended")
            .order_by(AuditEvent.student_id)
        )
    )


def _results(student: Student) -> str:
    """The student's screening results: a clinical page, caseload or break-glass only."""
    return f"/screening/students/{student.id}/results"


def test_a_removed_counsellors_caseload_ends_and_a_role_given_back_opens_nothing(
    app, campus, network, login
):
    leaving = network.school_counsellor
    staying = campus.staff(network.institution, Role.SCHOOL_COUNSELLOR)
    administrator = campus.staff(network.institution, Role.ADMIN)
    campus.commit()
    _on_caseload(leaving, network.student, network.other_student)
    _on_caseload(staying, network.student)
    assert login(leaving).get(_results(network.student)).status_code == 200

    role = role_assignment(leaving, Role.SCHOOL_COUNSELLOR)
    removed = login(administrator).post(f"/admin/users/{leaving.id}/roles/{role.id}/remove")
    assert removed.status_code == 302
    results = scheduler.run_sweeps(app, db.session)
    assert results["warning.caseloads_ended"] == 2

    assert _caseload_of(leaving) == set()
    assert _caseload_of(staying) == {network.student.id}
    rows = _ended_rows()
    assert [(r.student_id, r.record_type, r.record_id, r.actor_id) for r in rows] == sorted(
        [
            (network.student.id, "counsellor", str(leaving.id), None),
            (network.other_student.id, "counsellor", str(leaving.id), None),
        ]
    )
    assert {r.institution_id for r in rows} == {network.institution.id}

    # The next minute's sweep finds nothing and writes nothing.
    assert handover.end_caseloads_sweep(db.session, clock.now()) == 0
    assert len(_ended_rows()) == 2

    # A year on, the role is given back: the records stay closed until she takes a case again.
    given = login(administrator).post(
        f"/admin/users/{leaving.id}", data={"role": Role.SCHOOL_COUNSELLOR.value}
    )
    assert given.status_code == 302
    db.session.expire_all()
    back = db.session.get_one(User, leaving.id)
    assert back.has_role(Role.SCHOOL_COUNSELLOR)
    assert capability_for(db.session, back, network.student) is Capability.WARNING
    assert login(back).get(_results(network.student)).status_code == 404
    assert login(back).get(_results(network.other_student)).status_code == 404
    assert login(staying).get(_results(network.student)).status_code == 200


def test_a_counsellor_whose_role_still_works_keeps_her_caseload(campus, network):
    counsellor = network.school_counsellor
    # An earlier school-counsellor role of hers ended; the one she holds now works.
    earlier = role_assignment(counsellor, Role.SCHOOL_COUNSELLOR)
    earlier.ends_at = clock.now() - timedelta(days=400)
    campus.commit()
    campus.staff(network.institution, Role.SCHOOL_COUNSELLOR, user=counsellor)
    campus.commit()
    _on_caseload(counsellor, network.student)

    assert handover.end_caseloads_sweep(db.session, clock.now()) == 0

    assert _caseload_of(counsellor) == {network.student.id}
    db.session.expire_all()
    kept = db.session.get_one(User, counsellor.id)
    assert capability_for(db.session, kept, network.student) is Capability.CLINICAL
    assert _ended_rows() == []


def test_a_caseload_ends_when_a_dated_role_ends_and_with_a_switched_off_account(campus, network):
    dated = network.school_counsellor
    assignment = role_assignment(dated, Role.SCHOOL_COUNSELLOR)
    today = clock.local_date(clock.now(), clock.institution_zone(network.institution))
    assignment.until = today
    assignment.ends_at = admin.end_moment(network.institution, today)
    switched_off = campus.staff(network.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    _on_caseload(dated, network.student)
    _on_caseload(switched_off, network.other_student)
    switched_off.active = False
    campus.commit()

    # Today her role still works; the switched-off account's caseload ends at once.
    assert handover.end_caseloads_sweep(db.session, clock.now()) == 1
    assert _caseload_of(dated) == {network.student.id}
    assert _caseload_of(switched_off) == set()

    assert handover.end_caseloads_sweep(db.session, assignment.ends_at) == 1
    assert _caseload_of(dated) == set()
    assert [r.student_id for r in _ended_rows()] == sorted(
        [network.student.id, network.other_student.id]
    )
