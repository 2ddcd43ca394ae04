"""A review a school counsellor set when closing a warning is not lost when her role ends before
its day: the administrator is told she holds it, the sweep gives it to the centre's directors
(their task list, a note, a timeline line saying whose review it was), a director does it, and
the morning reminder goes to the directors. A second sweep changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from campus import clock
from campus import scheduler
from campus.extensions import db
from campus.models import Role
from campus.notifications import Notification
from tests.factories import open_warning
from tests.factories import role_assignment
from warning import handover
from warning import review
from warning.models import EarlyWarning
from warning.models import Task
from warning.models import WarningStatus
from warning.policy import Level


def _closed_with_review(network, counsellor):
    warning = open_warning(network.student, Level.YELLOW, assigned_counsellor_id=counsellor.id)
    warning.status = WarningStatus.CLOSED
    warning.assigned_counsellor_id = None
    today = clock.local_date(clock.now(), clock.institution_zone(network.institution))
    task = review.plan_review(
        db.session, counsellor, warning, network.student, today + timedelta(days=5)
    )
    db.session.commit()
    return warning, task


def _notes(user, text) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user.id, Notification.text == text)
        )
    )


def test_an_ended_counsellors_review_goes_to_the_director_and_is_done_there(
    app, campus, network, login
):
    leaving = network.school_counsellor
    leaving.name = "王老师"
    staying = campus.staff(network.institution, Role.SCHOOL_COUNSELLOR)
    administrator = campus.staff(network.institution, Role.ADMIN)
    campus.commit()
    warning, task = _closed_with_review(network, leaving)

    admin = login(administrator)
    role = role_assignment(leaving, Role.SCHOOL_COUNSELLOR)
    confirm = admin.get(f"/admin/users/{leaving.id}/roles/{role.id}/remove")
    assert (
        "This person currently holds 1 review of a closed warning not yet done. Once the role "
        "ends, the reviews go to the centre&#39;s director." in confirm.get_data(as_text=True)
    )
    assert admin.post(f"/admin/users/{leaving.id}/roles/{role.id}/remove").status_code == 302
    assert scheduler.run_sweeps(app, db.session)["warning.reviews_returned"] == 1

    db.session.expire_all()
    handed = db.session.get(Task, task.id)
    assert handed.assignee_user_id is None
    assert handed.done_at is None
    assert network.student.name not in login(staying).get("/tasks").get_data(as_text=True)
    director = login(network.director)
    listed = director.get("/tasks").get_data(as_text=True)
    assert f"Review {network.student.name}" in listed
    assert "it was 王老师&#39;s review, whose role has ended" in listed

    notes = _notes(network.director, handover.REVIEWS_RETURNED_TEXT)
    assert [(n.link, n.detail["items"][0]["params"]["counsellor"]) for n in notes] == [
        ("/tasks", "王老师")
    ]
    assert _notes(staying, handover.REVIEWS_RETURNED_TEXT) == []
    page = director.get(f"/warnings/students/{network.student.id}").get_data(as_text=True)
    assert "the review went to the centre&#39;s director" in page

    # A second run finds nothing; on the morning of the day the director is reminded.
    assert handover.return_reviews_sweep(db.session, clock.now()) == 0
    assert review.sweep_reviews(db.session, handed.due_at - review.REMIND_BEFORE) == 1
    assert len(_notes(network.director, review.CENTRE_REVIEW_NOTE_TEXT)) == 1

    done = director.post(f"/tasks/{task.id}/done", data={"note": "Seen, stable"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Task, task.id).done_by_id == network.director.id
    assert db.session.get(EarlyWarning, warning.id).status == WarningStatus.CLOSED


def test_a_working_counsellor_keeps_her_review_and_a_switched_off_account_loses_it(campus, network):
    _warning, kept = _closed_with_review(network, network.school_counsellor)
    gone = campus.staff(network.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    _other, lost = _closed_with_review(network, gone)
    gone.active = False
    campus.commit()

    assert handover.return_reviews_sweep(db.session, clock.now()) == 1

    db.session.expire_all()
    assert db.session.get(Task, kept.id).assignee_user_id == network.school_counsellor.id
    assert db.session.get(Task, lost.id).assignee_user_id is None
