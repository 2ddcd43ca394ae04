"""When a school counsellor's role ends, her open cases go back to the centre: the warnings list's
"no case counsellor yet" filter shows them, the timeline says why in words, and the director and
the centre's counsellors are told once each. A second sweep changes nothing."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy import select

from campus import admin
from campus import clock
from campus import scheduler
from campus.extensions import db
from campus.models import Role
from campus.notifications import Notification
from tests.factories import open_warning
from tests.factories import role_assignment
from warning import handover
from warning.models import EarlyWarning
from warning.models import WarningEvent
from warning.policy import Level


def _returned_events() -> int:
    return db.session.scalar(
        select(func.count(WarningEvent.id)).where(WarningEvent.kind == "case_returned")
    )


def _returned_notes(user) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(
                Notification.user_id == user.id,
                Notification.digest_key.like("cases_returned:%"),
            )
        )
    )


def test_an_ended_counsellors_cases_go_back_to_the_centre_once(app, campus, network, login):
    leaving = network.school_counsellor
    leaving.name = "王老师"
    staying = campus.staff(network.institution, Role.SCHOOL_COUNSELLOR)
    administrator = campus.staff(network.institution, Role.ADMIN)
    campus.commit()
    hers = open_warning(network.student, Level.RED, assigned_counsellor_id=leaving.id)
    theirs = open_warning(network.other_student, Level.YELLOW, assigned_counsellor_id=staying.id)

    admin = login(administrator)
    role = role_assignment(leaving, Role.SCHOOL_COUNSELLOR)
    removed = admin.post(f"/admin/users/{leaving.id}/roles/{role.id}/remove")
    assert removed.status_code == 302
    results = scheduler.run_sweeps(app, db.session)
    assert results["warning.cases_returned"] == 1

    db.session.expire_all()
    assert db.session.get(EarlyWarning, hers.id).assigned_counsellor_id is None
    assert db.session.get(EarlyWarning, theirs.id).assigned_counsellor_id == staying.id

    director = login(network.director)
    waiting = director.get("/warnings/?unassigned=1").get_data(as_text=True)
    assert network.student.name in waiting
    assert network.other_student.name not in waiting
    page = director.get(f"/warnings/students/{network.student.id}").get_data(as_text=True)
    assert (
        "The case counsellor&#39;s role has ended; the case went back to the centre to be "
        "assigned" in page
    )
    assert "王老师" in page

    for told in (network.director, staying):
        notes = _returned_notes(told)
        assert len(notes) == 1
        assert notes[0].link == "/warnings/?unassigned=1"
        assert notes[0].detail["items"] == [
            {
                "text": handover.CASE_RETURNED_ITEM,
                "params": {"student": network.student.name, "counsellor": "王老师"},
            }
        ]
    assert _returned_notes(leaving) == []
    inbox = director.get("/inbox/").get_data(as_text=True)
    assert "Cases came back to the centre: their counsellor&#39;s role has ended" in inbox

    # A second run (the next minute's) finds nothing and tells nobody again.
    assert handover.return_cases_sweep(db.session, clock.now()) == 0
    assert _returned_events() == 1
    assert len(_returned_notes(network.director)) == 1


def test_a_working_counsellor_keeps_her_cases_and_a_switched_off_account_loses_them(
    campus, network
):
    working = open_warning(
        network.student, Level.RED, assigned_counsellor_id=network.school_counsellor.id
    )
    gone = campus.staff(network.institution, Role.SCHOOL_COUNSELLOR)
    off = open_warning(network.other_student, Level.YELLOW, assigned_counsellor_id=gone.id)
    gone.active = False
    campus.commit()

    assert handover.return_cases_sweep(db.session, clock.now()) == 1

    db.session.expire_all()
    assert db.session.get(EarlyWarning, working.id).assigned_counsellor_id == (
        network.school_counsellor.id
    )
    assert db.session.get(EarlyWarning, off.id).assigned_counsellor_id is None


def test_a_role_ending_by_date_returns_the_cases_the_day_after(campus, network):
    counsellor = network.school_counsellor
    assignment = role_assignment(counsellor, Role.SCHOOL_COUNSELLOR)
    today = clock.local_date(clock.now(), clock.institution_zone(network.institution))
    assignment.until = today
    assignment.ends_at = admin.end_moment(network.institution, today)
    warning = open_warning(network.student, Level.RED, assigned_counsellor_id=counsellor.id)
    campus.commit()

    assert handover.return_cases_sweep(db.session, clock.now()) == 0
    assert handover.return_cases_sweep(db.session, assignment.ends_at) == 1
    db.session.expire_all()
    assert db.session.get(EarlyWarning, warning.id).assigned_counsellor_id is None
