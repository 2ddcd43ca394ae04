"""Sharing out cases from the queue: after an intake screening the director ticks the reds nobody
has yet and gives them to a counsellor at once, instead of one warning page per red. Only cases
with no counsellor are given; one taken up meanwhile is left as it is; the counsellor is told once;
a forged or foreign id, or a department counsellor's request, writes nothing."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy import select

from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Caseload
from campus.models import Role
from campus.notifications import Notification
from tests.factories import open_warning
from warning.models import EarlyWarning
from warning.models import WarningEvent
from warning.policy import Level


def _share(client, warnings, counsellor_id, query=""):
    return client.post(
        f"/warnings/share-out{query}",
        data={"cases": [str(w.id) for w in warnings], "counsellor": str(counsellor_id)},
    )


def _counsellors(*warnings) -> list[int | None]:
    db.session.expire_all()
    return [db.session.get(EarlyWarning, w.id).assigned_counsellor_id for w in warnings]


def _given_events() -> int:
    return db.session.scalar(
        select(func.count(WarningEvent.id)).where(WarningEvent.kind == "counsellor_assigned")
    )


def _notes_to(user) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)))


def test_the_director_gives_the_ticked_reds_to_a_counsellor_who_is_told_once(
    campus, network, login
):
    colleague = campus.staff(network.institution, Role.SCHOOL_COUNSELLOR)
    colleague.name = "周老师"
    campus.commit()
    first = open_warning(network.student, Level.RED)
    second = open_warning(network.other_student, Level.RED)
    still_waiting = open_warning(campus.student(network.group, name="王五"), Level.YELLOW)
    director = login(network.director)

    queue = director.get("/warnings/").get_data(as_text=True)
    assert 'form="share-out"' in queue
    assert f'name="cases" value="{first.id}"' in queue
    assert f'name="cases" value="{second.id}"' in queue
    assert "周老师 (0 open cases)" in queue
    told_before = len(_notes_to(colleague))

    response = _share(director, [first, second], colleague.id, "?level=3")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/warnings/?level=3")
    queue = director.get("/warnings/").get_data(as_text=True)
    assert "2 cases were given to 周老师." in queue
    assert "周老师 (2 open cases)" in queue  # what the director weighs for the next one
    assert f'name="cases" value="{still_waiting.id}"' in queue

    assert _counsellors(first, second) == [colleague.id, colleague.id]
    on_caseload = db.session.scalars(
        select(Caseload.student_id).where(Caseload.counsellor_id == colleague.id)
    )
    assert set(on_caseload) == {network.student.id, network.other_student.id}
    assert _given_events() == 2
    notes = _notes_to(colleague)[told_before:]
    assert [n.link for n in notes] == ["/warnings/?mine=1"]
    audited = db.session.scalars(
        select(AuditEvent.record_id).where(AuditEvent.action == "warning.counsellor")
    )
    assert sorted(audited) == sorted([str(first.id), str(second.id)])


def test_a_case_taken_up_meanwhile_is_left_with_its_counsellor(campus, network, login):
    colleague = campus.staff(network.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    taken = open_warning(network.student, Level.RED)
    free = open_warning(network.other_student, Level.RED)
    director = login(network.director)
    assert f'name="cases" value="{taken.id}"' in director.get("/warnings/").get_data(True)

    # sc01 takes the first up while the director is choosing.
    counsellor = login(network.school_counsellor)
    counsellor.post(
        f"/warnings/{taken.id}/actions/acknowledge", data={"acknowledge-version": taken.version}
    )
    _share(director, [taken, free], colleague.id)

    assert _counsellors(taken, free) == [network.school_counsellor.id, colleague.id]
    page = director.get("/warnings/").get_data(as_text=True)
    assert "1 case was given to" in page
    assert "1 case had been taken up or closed meanwhile and was left as it is." in page
    assert f'name="cases" value="{taken.id}"' not in page


def test_sent_twice_the_same_ticks_give_each_case_once(campus, network, login):
    colleague = campus.staff(network.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    warning = open_warning(network.student, Level.RED)
    director = login(network.director)

    _share(director, [warning], colleague.id)
    _share(director, [warning], colleague.id)

    assert _counsellors(warning) == [colleague.id]
    assert _given_events() == 1
    assert len([n for n in _notes_to(colleague) if n.link == "/warnings/?mine=1"]) == 1


def test_no_tick_or_no_counsellor_is_refused_in_words_and_gives_nothing(campus, network, login):
    stranger = campus.staff(campus.institution("HNU"), Role.SCHOOL_COUNSELLOR)
    campus.commit()
    warning = open_warning(network.student, Level.RED)
    director = login(network.director)

    _share(director, [], network.school_counsellor.id)
    assert "Tick the cases to give to a counsellor." in director.get("/warnings/").get_data(True)
    for forged in (stranger.id, network.dept_counsellor.id):
        _share(director, [warning], forged)
        assert "Not a valid choice." in director.get("/warnings/").get_data(True)
    assert _counsellors(warning) == [None]
    assert _given_events() == 0


def test_a_forged_or_foreign_case_writes_nothing_not_even_the_others(campus, network, login):
    elsewhere = campus.institution("HNU")
    foreign = open_warning(
        campus.student(campus.class_group(campus.department(elsewhere, "Maths"), "M-1")),
        Level.RED,
    )
    mine = open_warning(network.student, Level.RED)
    director = login(network.director)

    assert _share(director, [mine, foreign], network.school_counsellor.id).status_code == 404
    forged = director.post(
        "/warnings/share-out",
        data={"cases": [str(mine.id), "999999"], "counsellor": network.school_counsellor.id},
    )
    assert forged.status_code == 404
    assert _counsellors(mine, foreign) == [None, None]
    assert _given_events() == 0


def test_department_staff_are_not_offered_sharing_out_and_are_refused(network, login):
    warning = open_warning(network.student, Level.RED)
    department = login(network.dept_counsellor)

    page = department.get("/warnings/").get_data(as_text=True)
    assert 'id="share-out"' not in page
    assert 'name="unassigned"' not in page
    assert _share(department, [warning], network.school_counsellor.id).status_code == 403
    assert _counsellors(warning) == [None]


def test_the_queue_can_show_only_the_cases_no_counsellor_has_yet(campus, network, login):
    taken = open_warning(network.student, Level.RED, assigned_counsellor_id=None)
    open_warning(network.other_student, Level.YELLOW)
    director = login(network.director)
    _share(director, [taken], network.school_counsellor.id)

    waiting = director.get("/warnings/?unassigned=1").get_data(as_text=True)
    assert network.other_student.name in waiting
    assert network.student.name not in waiting
    everything = director.get("/warnings/").get_data(as_text=True)
    assert network.student.name in everything


def test_a_director_of_two_schools_gives_cases_one_by_one(campus, network, login):
    """Whose counsellors to offer is the school's: with two, the queue does not guess."""
    warning = open_warning(network.student, Level.RED)
    campus.staff(campus.institution("HNU"), Role.DIRECTOR, user=network.director)
    campus.commit()
    director = login(network.director)
    assert 'id="share-out"' not in director.get("/warnings/").get_data(as_text=True)
    assert _share(director, [warning], network.school_counsellor.id).status_code == 403
    assert _counsellors(warning) == [None]
