"""Whose case it is: the centre's counsellor who takes a warning up first, or whom the director
gives it to. The page and the queue name them, the queue filters a counsellor's own cases, and a
forged or foreign choice is refused and writes nothing."""

from __future__ import annotations

from sqlalchemy import select

from campus.extensions import db
from campus.models import Caseload
from campus.models import Role
from campus.notifications import Notification
from tests.factories import open_warning
from warning.models import EarlyWarning
from warning.models import WarningEvent
from warning.policy import Level


def _give(client, warning, counsellor_id):
    return client.post(
        f"/warnings/{warning.id}/actions/counsellor",
        data={"counsellor-version": warning.version, "counsellor-counsellor": str(counsellor_id)},
    )


def _events(warning) -> list[str]:
    return list(
        db.session.scalars(
            select(WarningEvent.outcome).where(
                WarningEvent.warning_id == warning.id, WarningEvent.kind == "counsellor_assigned"
            )
        )
    )


def test_the_director_gives_a_red_to_a_counsellor_who_is_told_and_gets_the_case(
    campus, network, login
):
    colleague = campus.staff(network.institution, Role.SCHOOL_COUNSELLOR)
    colleague.name = "周老师"
    campus.commit()
    warning = open_warning(network.student, Level.RED)
    director = login(network.director)

    page = director.get(f"/warnings/students/{network.student.id}").get_data(as_text=True)
    assert "No counsellor of the centre has taken this case yet." in page
    assert 'id="action-counsellor"' in page
    assert _give(director, warning, colleague.id).status_code == 302

    db.session.expire_all()
    assert db.session.get(EarlyWarning, warning.id).assigned_counsellor_id == colleague.id
    assert db.session.scalar(
        select(Caseload.id).where(
            Caseload.counsellor_id == colleague.id, Caseload.student_id == network.student.id
        )
    )
    assert _events(warning) == ["周老师"]
    told = db.session.scalars(select(Notification).where(Notification.user_id == colleague.id))
    assert f"/warnings/students/{network.student.id}" in [n.link for n in told]
    page = director.get(f"/warnings/students/{network.student.id}").get_data(as_text=True)
    assert "Case counsellor: 周老师" in page


def test_a_counsellor_who_takes_a_case_up_is_named_and_finds_it_among_their_own(
    campus, network, login
):
    other_student = network.other_student
    mine = open_warning(network.student, Level.YELLOW)
    open_warning(other_student, Level.YELLOW)
    client = login(network.school_counsellor)
    client.post(
        f"/warnings/{mine.id}/actions/acknowledge", data={"acknowledge-version": mine.version}
    )

    everyone = client.get("/warnings/").get_data(as_text=True)
    assert network.student.name in everyone
    assert other_student.name in everyone
    assert f"· {network.school_counsellor.name}" in everyone
    own = client.get("/warnings/?mine=1").get_data(as_text=True)
    assert network.student.name in own
    assert other_student.name not in own


def test_only_the_centre_gives_cases_and_only_to_its_own_counsellors(campus, network, login):
    elsewhere = campus.institution("HNU")
    stranger = campus.staff(elsewhere, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    warning = open_warning(network.student, Level.RED)

    department = login(network.dept_counsellor)
    page = department.get(f"/warnings/students/{network.student.id}").get_data(as_text=True)
    assert 'id="action-counsellor"' not in page
    assert _give(department, warning, network.school_counsellor.id).status_code == 403

    director = login(network.director)
    for forged in (stranger.id, network.dept_counsellor.id, 999_999):
        response = _give(director, warning, forged)
        assert response.status_code == 400
        assert "Not a valid choice." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(EarlyWarning, warning.id).assigned_counsellor_id is None
    assert _events(warning) == []


def test_the_queue_filter_for_own_cases_is_only_offered_to_the_centres_counsellors(network, login):
    open_warning(network.student, Level.RED)
    assert 'name="mine"' in login(network.school_counsellor).get("/warnings/").get_data(True)
    assert 'name="mine"' not in login(network.dept_counsellor).get("/warnings/").get_data(True)
