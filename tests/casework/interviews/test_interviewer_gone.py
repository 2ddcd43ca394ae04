"""An interview whose interviewer's role ended goes back to the list to assign, the director is
told once, and nobody reminds a person who has gone."""

from __future__ import annotations

import html
from datetime import timedelta

from sqlalchemy import select

from campus import admin
from campus import clock
from campus.extensions import db
from campus.models import Role
from campus.notifications import Notification
from casework import interviews
from casework.models import InterviewEntry
from casework.models import InterviewState
from tests.casework import interview_world as w
from tests.conftest import sign_in
from tests.factories import role_assignment


def _end_role(world: w.World, user, role: Role) -> None:
    admin.remove_role(db.session, world.admin, world.institution, role_assignment(user, role))
    db.session.expire_all()


def _notes(user, ending: str) -> list[Notification]:
    return [
        n
        for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id))
        if n.text.endswith(ending)
    ]


def test_an_interview_whose_interviewer_left_goes_back_to_the_list_to_assign(client, world, listed):
    made, yellow, red = listed
    interviews.assign(db.session, world.director, [yellow], world.counsellor, clock.now())
    interviews.schedule(
        db.session,
        world.counsellor,
        yellow,
        yellow.version,
        clock.now(),
        when=clock.now() + timedelta(days=2),
        place="Centre room 3",
    )
    role = role_assignment(world.counsellor, Role.SCHOOL_COUNSELLOR)
    sign_in(client, world.admin)
    confirm = client.get(f"/admin/users/{world.counsellor.id}/roles/{role.id}/remove")
    # Handed the interview, the school counsellor has its student on her caseload too.
    assert (
        "This person currently holds 1 student on their caseload, 1 interview not yet held. Once "
        "the role ends, their access to those students' full records ends; the interviews go back "
        "to the list to assign." in html.unescape(confirm.get_data(as_text=True))
    )
    _end_role(world, world.counsellor, Role.SCHOOL_COUNSELLOR)

    assert interviews.interviewer_gone_sweep(db.session, clock.now()) == 1
    assert interviews.interviewer_gone_sweep(db.session, clock.now()) == 0  # once

    db.session.expire_all()
    entry = db.session.get(InterviewEntry, yellow.id)
    assert (entry.state, entry.interviewer_id) == (InterviewState.TO_ASSIGN, None)
    assert entry.place == "Centre room 3"  # what the student was told, for whoever takes it
    (note,) = _notes(world.director, "their interviewer's role has ended")
    assert [i["params"]["student"] for i in note.detail["items"]] == ["Wang Fang"]
    sign_in(client, world.director)
    waiting = client.get(f"{note.link}&campaign={made.id}").get_data(as_text=True)
    assert "Wang Fang" in waiting


def test_a_department_counsellor_still_in_post_keeps_her_interview(world, listed):
    made, yellow, red = listed
    yellow.tier = "department"
    db.session.commit()
    interviews.assign(db.session, world.director, [yellow], world.computing_counsellor, clock.now())
    _end_role(world, world.maths_counsellor, Role.DEPT_COUNSELLOR)

    assert interviews.interviewer_gone_sweep(db.session, clock.now()) == 0
    db.session.expire_all()
    assert db.session.get(InterviewEntry, yellow.id).interviewer_id == (
        world.computing_counsellor.id
    )


def test_the_reminder_goes_to_the_director_not_to_an_interviewer_who_left(world, listed):
    made, yellow, red = listed
    interviews.assign(db.session, world.director, [yellow], world.counsellor, clock.now())
    _end_role(world, world.counsellor, Role.SCHOOL_COUNSELLOR)
    clock.set_now(yellow.due_at - timedelta(days=2))

    # Wang Fang's (Zhao Min's red was due with its assessment, long before).
    assert interviews.reminder_sweep(db.session, clock.now()) == 1

    assert _notes(world.counsellor, "are due soon.") == []
    (reminder,) = _notes(world.director, "are due soon.")
    assert [i["params"]["student"] for i in reminder.detail["items"]] == ["Wang Fang"]
