"""The queue leads with the reds nobody has acknowledged, and says where each case stands."""

from __future__ import annotations

from datetime import timedelta

from campus import clock
from campus.extensions import db
from campus.models import Role
from tests import factories
from warning import actions
from warning import queue


def _reds_a_day_apart(campus, unit, names):
    """One red warning per name, each opened a day after the one before."""
    warnings = []
    for name in names:
        warnings.append(factories.phq9_signal(campus.student(unit.group, name=name), 22))
        clock.advance(timedelta(days=1))
    return warnings


def test_the_newest_unacknowledged_red_leads_the_queue_even_behind_a_full_page(campus, unit):
    """Thirty reds already acknowledged, oldest first, used to push a new red onto page two."""
    counsellor = campus.staff(unit.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    older = _reds_a_day_apart(campus, unit, [f"Student {i:02}" for i in range(30)])
    for warning in older:
        actions.acknowledge(db.session, counsellor, warning, warning.version, clock.now())
    _reds_a_day_apart(campus, unit, ["Unacknowledged Early", "Unacknowledged Late"])
    factories.phq9_signal(unit.student, 12)
    first = queue.queue(db.session, counsellor, queue.QueueFilter(), clock.now())
    names = [student.name for _w, student, _d, _o in first.rows]
    assert names[:3] == ["Unacknowledged Late", "Unacknowledged Early", "Student 00"]
    assert len(names) == queue.PAGE_SIZE
    second = queue.queue(db.session, counsellor, queue.QueueFilter(page=2), clock.now())
    rest = [student.name for _w, student, _d, _o in second.rows]
    assert rest[:5] == ["Student 23", "Student 24", "Student 25", "Student 26", "Student 27"]
    assert rest[-1] == unit.student.name
    assert len(set(names + rest)) == first.total == 33


def test_queue_shows_acknowledgement_owner_next_deadline_and_last_contact(campus, unit, login):
    counsellor = campus.staff(unit.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    factories.phq9_signal(campus.student(unit.group, name="Wang Fang"), 22)
    yellow = factories.phq9_signal(unit.student, 15)
    actions.log_contact(
        db.session, counsellor, yellow, yellow.version, clock.now(), method="phone", outcome="ok"
    )
    clock.advance(timedelta(hours=2))
    rows = login(counsellor).get("/warnings/").get_data(as_text=True)
    red_row = rows[rows.index("Wang Fang") : rows.index("Li Hua")]
    yellow_row = rows[rows.index("Li Hua") :]
    assert "Not acknowledged" in red_row
    assert "counselling centre" in red_row
    assert "due today 11:00" in red_row  # the hour to acknowledge, in Beijing time
    assert "overdue" in red_row
    assert "None yet" in red_row
    assert "Yes" in yellow_row
    assert "department" in yellow_row
    assert "Mon 14 Sep 10:00" in yellow_row  # acknowledged and contacted at 02:00 UTC
    assert "due Mon 28 Sep 10:00" in yellow_row  # the next follow-up, fourteen days on
    assert "overdue" not in yellow_row
