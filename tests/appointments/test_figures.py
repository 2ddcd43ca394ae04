"""The centre's appointment figures per term, against a small world worked out by hand."""

from __future__ import annotations

from datetime import datetime

import pytest

from appointments import figures
from appointments.models import AppointmentState
from appointments.models import CounsellorProfile
from appointments.models import SessionKind
from appointments.models import Slot
from appointments.models import SlotState
from campus.extensions import db
from campus.models import Role
from oversight import periods
from tests.appointments.session_world import appointment

A, N, C = AppointmentState.ATTENDED, AppointmentState.NO_SHOW, AppointmentState.CANCELLED


def _at(day: str, hour: int = 1) -> datetime:
    """A naive UTC moment (01:00 UTC is 09:00 in Shanghai)."""
    return datetime.fromisoformat(day).replace(hour=hour)


@pytest.fixture
def world(campus):
    """Three counsellors (A full time; B a half-time trainee; C half time, no sessions) and four
    students; the waits and counts each test expects are worked out in the comments."""
    inst = campus.institution("XJU")
    group = campus.class_group(campus.department(inst))
    s1, s2, s3, s4 = (campus.student(group, name=f"学生{i}") for i in range(1, 5))
    a = campus.staff(inst, Role.SCHOOL_COUNSELLOR, login="a")
    b = campus.staff(inst, Role.SCHOOL_COUNSELLOR, login="b")
    c = campus.staff(inst, Role.SCHOOL_COUNSELLOR, login="c")
    a.name, b.name, c.name = "甲老师", "乙老师", "丙老师"
    db.session.add_all(
        [
            CounsellorProfile(user_id=a.id, institution_id=inst.id, fte=1.0),
            CounsellorProfile(
                user_id=b.id, institution_id=inst.id, fte=0.5, is_trainee=True, supervisor_id=a.id
            ),
            CounsellorProfile(user_id=c.id, institution_id=inst.id, fte=0.5),
        ]
    )
    # s1: first appointment waits 2 days; attends twice, then misses one.
    appointment(s1, a, _at("2026-09-03"), booked_at=_at("2026-09-01"), state=A)
    appointment(s1, a, _at("2026-09-10"), state=A, kind=SessionKind.FOLLOW_UP)
    appointment(s1, a, _at("2026-09-17"), state=N, kind=SessionKind.FOLLOW_UP)
    # s2: an earlier booking cancelled (never a first appointment); the first held waits 6 days.
    appointment(s2, b, _at("2026-09-05"), booked_at=_at("2026-09-01"), state=C)
    appointment(s2, b, _at("2026-09-08"), booked_at=_at("2026-09-02"), state=A)
    # s3: waits 10 days, then does not come.
    appointment(s3, a, _at("2026-09-15"), booked_at=_at("2026-09-05"), state=N)
    # s4: first seen in the spring term (waited 9 days); in autumn a follow-up only.
    appointment(s4, a, _at("2026-05-10"), booked_at=_at("2026-05-01"), state=A)
    appointment(s4, b, _at("2026-09-20"), booked_at=_at("2026-09-18"), state=A)

    def slot(starts_at: datetime, state: SlotState = SlotState.OPEN) -> None:
        db.session.add(
            Slot(
                institution_id=inst.id,
                counsellor_id=c.id,
                starts_at=starts_at,
                ends_at=starts_at,
                kind=SessionKind.FIRST_VISIT,
                state=state,
            )
        )

    slot(datetime(2026, 8, 31, 17, 0))  # 09-01 01:00 in Shanghai: the autumn term's first hour
    slot(datetime(2026, 8, 31, 15, 0))  # 08-31 23:00 in Shanghai: August, in no term
    slot(_at("2026-10-08"), SlotState.WITHDRAWN)  # never offered
    campus.commit()
    return inst


def _term(inst, key: str) -> figures.Figures:
    return figures.compute(db.session, inst.id, figures.term_window(inst, periods.parse(key)))


def test_autumn_term_figures_as_worked_out_by_hand(world):
    got = _term(world, "term:2026-autumn")
    # Waits of the three first appointments in the term: 2, 6 and 10 days (s4's came in spring).
    assert got.first_appointments == 3
    assert got.wait_median_days == 6.0
    assert got.wait_p90_days == 10.0  # nearest rank: the ⌈0.9·3⌉ = 3rd value
    # Seven appointment slots in the term plus the open one at 09-01 01:00 local; withdrawn and
    # 08-31 23:00 local are not the term's.
    assert got.slots_offered == 8
    assert got.slots_booked == 6  # the cancelled booking's slot and the empty one hold nobody
    assert got.slots_used == 4
    assert (got.attended, got.no_shows) == (4, 2)
    assert got.no_show_rate == 33.3  # 2 ÷ (4 + 2)
    assert got.students_seen == 3  # s1, s2, s4
    assert got.sessions_per_student == 1.33  # 4 ÷ 3
    assert got.total_fte == 2.0
    assert got.clinical_load == 1.5  # 3 students ÷ 2.0 FTE
    loads = [(c.name, c.students_seen, c.load) for c in got.counsellors]
    # B saw s2 and s4 on half time (2 ÷ 0.5); A saw s1 (s3 did not come); C saw nobody.
    assert loads == [("乙老师", 2, 4.0), ("甲老师", 1, 1.0), ("丙老师", 0, 0.0)]


def test_spring_term_counts_its_own_first_appointments(world):
    got = _term(world, "term:2026-spring")
    assert got.first_appointments == 1
    assert got.wait_median_days == 9.0
    assert got.wait_p90_days == 9.0
    # s4's only: the slot at 23:00 local on 08-31 is in August, between terms (Feb–Jul, Sep–Jan).
    assert got.slots_offered == 1
    assert got.students_seen == 1
    assert got.no_show_rate == 0.0


def test_an_empty_term_shows_no_rates(world):
    got = _term(world, "term:2025-autumn")
    assert got.first_appointments == 0
    assert got.wait_median_days is None
    assert got.wait_p90_days is None
    assert (got.slots_offered, got.slots_booked, got.slots_used) == (0, 0, 0)
    assert got.no_show_rate is None
    assert got.sessions_per_student is None
    assert got.clinical_load == 0.0  # nobody seen by 2.0 FTE


def test_nearest_rank_percentile():
    waits = [float(n) for n in range(1, 11)]
    assert figures.nearest_rank(waits, 0.9) == 9.0
    assert figures.nearest_rank([4.0], 0.9) == 4.0
    assert figures.nearest_rank([5.0, 1.0], 0.5) == 1.0


def test_director_reads_the_figures_from_the_dashboard(world, campus, login):
    director = campus.staff(world, Role.DIRECTOR, login="director")
    campus.commit()
    client = login(director)
    dashboard = client.get("/oversight/").get_data(as_text=True)
    assert "/appointments/sessions/figures" in dashboard
    page = client.get("/appointments/sessions/figures?term=term:2026-autumn")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "median 6.0 · 90th percentile 10.0" in body
    assert "33.3%" in body
    assert "Center for Collegiate Mental Health" in body
    assert "学生1" not in body  # no student is named
    empty = client.get("/appointments/sessions/figures?term=term:2025-autumn").get_data(
        as_text=True
    )
    assert "median — · 90th percentile —" in empty


def test_a_term_not_offered_is_refused_with_a_message(world, campus, login):
    director = campus.staff(world, Role.DIRECTOR, login="director")
    campus.commit()
    client = login(director)
    response = client.get("/appointments/sessions/figures?term=month:2026-09")
    assert response.status_code == 302
    assert "Choose a term" in client.get(response.location).get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.DEPT_COUNSELLOR, Role.SCHOOL_COUNSELLOR])
def test_figures_are_the_directors_and_administrators(world, campus, client, role):
    from tests.conftest import sign_in

    dept = campus.department(world, "History")
    user = campus.staff(world, role, department=dept if role == Role.DEPT_COUNSELLOR else None)
    campus.commit()
    sign_in(client, user)
    assert client.get("/appointments/sessions/figures").status_code == 403
