"""A level that rises replaces the lower level's plan; a level that falls keeps what is owed.

Found in a walk of the demo (dc01, 蒋浩): a blue warning rose to red on a dorm informant's concern
report of suicidal talk, yet the red case still listed the blue's "Follow-up contact (class)" due
eleven days later, and the informant still had her keep-company task parked under "later" with
the blue's date. Now a rise, by a new signal or a counsellor's override alike, ends the old
level's follow-up (kept, superseded, and said on the timeline), plans the new level's first
response, and asks the peers who were keeping company again at the new level's urgency.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from campus import clock
from campus.extensions import db
from tests.factories import open_warning
from warning import actions
from warning import reports
from warning.models import Deadline
from warning.models import EarlyWarning
from warning.models import OwnerTier
from warning.models import Task
from warning.models import TaskClosed
from warning.models import WarningEvent
from warning.policy import Level

from .conftest import Network
from .response_helpers import open_deadlines
from .response_helpers import page_text

RED_FIRST_RESPONSE = {"acknowledge", "assessment", "guardian_notified", "peer_watch"}


def _blue_being_followed_up(network: Network) -> tuple[EarlyWarning, Deadline]:
    """A blue whose check-in the class did: its follow-up is the class's, due in 30 days, and
    both peers hold a keep-company task due then."""
    warning = open_warning(network.student, Level.BLUE)
    task = db.session.scalars(
        select(Task).where(Task.warning_id == warning.id, Task.assignee_class_id.is_not(None))
    ).one()
    actions.complete_task(db.session, network.class_committee, task, clock.now(), note="聊了聊")
    follow_up = open_deadlines(warning)["follow_up"]
    assert follow_up.tier == OwnerTier.CLASS
    assert follow_up.due_at == clock.now() + timedelta(days=30)
    assert {t.due_at for t in _open_tasks(warning)} == {follow_up.due_at}
    return warning, follow_up


def _open_tasks(warning: EarlyWarning) -> list[Task]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Task).where(Task.warning_id == warning.id, Task.done_at.is_(None))
        )
    )


def _informant_reports_suicidal_talk(network: Network) -> None:
    unit = reports.units_of(db.session, network.dorm_informant)[0]
    reports.file_concern_report(
        db.session,
        user=network.dorm_informant,
        unit=unit,
        student=network.student,
        category="suicidal_talk",
        text="他说不想活了",
        now=clock.now(),
    )


def _assert_red_plan_replaced_the_blue(network: Network, warning, follow_up, risen_at) -> None:
    db.session.expire_all()
    assert warning.level == Level.RED
    owed = open_deadlines(warning)
    assert set(owed) == RED_FIRST_RESPONSE  # the class's follow-up is no longer listed
    # Kept, not deleted: superseded at the rise, neither met nor missed.
    old = db.session.get(Deadline, follow_up.id)
    assert old.superseded_at == risen_at
    assert (old.met_at, old.escalated_at) == (None, None)
    said = db.session.scalars(
        select(WarningEvent).where(
            WarningEvent.warning_id == warning.id, WarningEvent.kind == "superseded"
        )
    ).all()
    assert [(e.outcome, e.from_tier) for e in said] == [("follow_up", OwnerTier.CLASS)]
    # Each peer was keeping company: asked again, due with the red's 24-hour peer watch, not the
    # blue's date a month away; the blue's task is closed as no longer owed.
    watch_due = owed["peer_watch"].due_at
    assert watch_due == risen_at + timedelta(hours=24)
    tasks = _open_tasks(warning)
    assert sorted((t.kind, t.due_at) for t in tasks) == [("peer_watch", watch_due)] * 2
    closed = db.session.scalars(
        select(Task).where(Task.warning_id == warning.id, Task.kind == "follow_up")
    ).all()
    assert {t.closed_reason for t in closed} == {TaskClosed.ENDED}


def test_a_concern_raising_blue_to_red_replaces_the_blue_follow_up_and_the_peers_due(
    network, login
):
    warning, follow_up = _blue_being_followed_up(network)
    clock.advance(timedelta(days=19))
    risen_at = clock.now()
    _informant_reports_suicidal_talk(network)
    _assert_red_plan_replaced_the_blue(network, warning, follow_up, risen_at)

    page = page_text(
        login(network.dept_counsellor)
        .get(f"/warnings/students/{network.student.id}")
        .get_data(as_text=True)
    )
    still_to_do = page.split("Still to do", 1)[1].split("Timeline", 1)[0]
    assert "Follow-up contact" not in still_to_do
    assert "No longer owed at the new level Follow-up contact (class) was due" in page

    listed = page_text(login(network.dorm_informant).get("/tasks").get_data(as_text=True))
    assert "Please keep company with 张三" in listed
    assert "tomorrow" in listed.split("Please keep company with 张三", 1)[1][:200]


def test_a_counsellors_override_to_red_replaces_the_blue_plan_too(network):
    warning, follow_up = _blue_being_followed_up(network)
    clock.advance(timedelta(days=3))
    risen_at = clock.now()
    actions.change_level(
        db.session,
        network.dept_counsellor,
        warning,
        warning.version,
        risen_at,
        level=Level.RED,
        reason="Roommate says he gave away his things",
    )
    _assert_red_plan_replaced_the_blue(network, warning, follow_up, risen_at)


def test_a_peer_keeping_company_does_not_arrange_the_departments_watch(network):
    """The re-issued task is the peers' company; arranging the watch stays the department's
    step, which then runs their task to the watch's end."""
    warning, _follow_up = _blue_being_followed_up(network)
    _informant_reports_suicidal_talk(network)
    mine = next(t for t in _open_tasks(warning) if t.assignee_room_id is not None)
    actions.complete_task(db.session, network.dorm_informant, mine, clock.now(), note="一起吃饭")
    assert "peer_watch" in open_deadlines(warning)

    week = clock.now() + timedelta(days=7)
    warning = db.session.get_one(EarlyWarning, warning.id)
    actions.assign_peer_watch(
        db.session, network.dept_counsellor, warning, warning.version, clock.now(), due_at=week
    )
    assert "peer_watch" not in open_deadlines(warning)
    assert {(t.kind, t.due_at) for t in _open_tasks(warning)} == {("peer_watch", week)}


def test_a_rise_to_yellow_ends_the_peers_task_as_the_department_takes_it_on(network):
    warning, follow_up = _blue_being_followed_up(network)
    actions.change_level(
        db.session,
        network.dept_counsellor,
        warning,
        warning.version,
        clock.now(),
        level=Level.YELLOW,
        reason="Stopped coming to class",
    )
    owed = open_deadlines(warning)
    assert set(owed) == {"contact"}
    assert owed["contact"].tier == OwnerTier.DEPARTMENT
    assert _open_tasks(warning) == []
    assert db.session.get(Deadline, follow_up.id).superseded_at is not None


def test_a_fall_keeps_what_the_higher_level_owed_until_it_is_done(network):
    """A centre counsellor lowering a red keeps the guardian's call, the assessment, the peer
    watch and the peers' company owed as they were; only the red's acknowledgement goes (the
    centre lowering it has seen it), said on the timeline. Yellow's contact comes beside them."""
    warning = open_warning(network.student, Level.RED)
    week = clock.now() + timedelta(days=7)
    actions.assign_peer_watch(
        db.session, network.dept_counsellor, warning, warning.version, clock.now(), due_at=week
    )
    before = {kind: d.due_at for kind, d in open_deadlines(warning).items()}
    clock.advance(timedelta(hours=2))
    warning = db.session.get_one(EarlyWarning, warning.id)
    actions.change_level(
        db.session,
        network.school_counsellor,
        warning,
        warning.version,
        clock.now(),
        level=Level.YELLOW,
        reason="Seen in person: safe, low mood",
    )
    owed = {kind: d.due_at for kind, d in open_deadlines(warning).items()}
    assert owed == {
        "assessment": before["assessment"],
        "guardian_notified": before["guardian_notified"],
        "contact": clock.now() + timedelta(hours=72),
    }
    assert {(t.kind, t.due_at) for t in _open_tasks(warning)} == {("peer_watch", week)}
    said = db.session.scalars(
        select(WarningEvent.outcome).where(
            WarningEvent.warning_id == warning.id, WarningEvent.kind == "superseded"
        )
    ).all()
    assert said == ["acknowledge"]
