"""What people notice when a missed deadline escalates a warning: who is told (the department
leader oversees the department's warnings and receives its escalations, once per escalation),
what the home page card says, and which deadline the warnings list marks as missed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import User
from campus.notifications import Notification
from campus.notifications import OutboxMail
from tests.factories import phq9_signal
from warning import actions

from .response_helpers import LEVEL_WORDS
from .response_helpers import class_peer_watch_policy
from .response_helpers import page_text
from .response_helpers import sweep_after

LEADERSHIP_NOTE = "A warning in your department was escalated to school leadership"
CENTRE_NOTE = "A warning in your department was escalated to the counselling centre"


def _texts(user: User) -> list[str]:
    """The user's inbox notes, oldest first, by their (source) text."""
    return list(
        db.session.scalars(
            select(Notification.text)
            .where(Notification.user_id == user.id)
            .order_by(Notification.id)
        )
    )


# --- (a) who is told --------------------------------------------------------------------------


def test_a_red_escalated_to_leadership_tells_the_department_leader_once(network, login):
    start = clock.now()
    phq9_signal(network.student, 22)
    told_before = {
        "leader": _texts(network.dept_leader),
        "counsellor": _texts(network.dept_counsellor),
        "director": _texts(network.director),
    }

    assert sweep_after(timedelta(minutes=61), start) == 1  # the centre's hour passed

    assert _texts(network.dept_leader) == [*told_before["leader"], LEADERSHIP_NOTE]
    (note,) = db.session.scalars(
        select(Notification).where(
            Notification.user_id == network.dept_leader.id, Notification.text == LEADERSHIP_NOTE
        )
    )
    assert note.urgent
    # The counsellor's part (the guardian call) is unchanged: she is not told again.
    assert _texts(network.dept_counsellor) == told_before["counsellor"]
    assert _texts(network.director) == [
        *told_before["director"],
        "A warning has been escalated to school leadership",
    ]
    # The inbox names the student and what school leadership now owes, by when.
    inbox = page_text(login(network.dept_leader).get("/inbox/").get_data(as_text=True))
    line = inbox[inbox.index("escalated to school leadership") :]
    assert network.student.name in line[:200]
    # Which step was missed and since when, apart from what is owed next and by when.
    assert "Not done in time: Acknowledge (due today 11:00, overdue for 1 minute)" in line
    assert "Now owed by school leadership: Acknowledge, by today 12:01" in line[:400]
    # The mail says only that: no name, no level.
    (mail,) = db.session.scalars(select(OutboxMail).where(OutboxMail.notification_id == note.id))
    assert mail.recipient == "leader@xju.test"
    assert network.student.name not in mail.body
    assert not any(word in mail.body for word in LEVEL_WORDS)

    # Ignored at the top, the acknowledgement is passed on again every hour within leadership:
    # the leader heard of the escalation already and is not told again.
    assert sweep_after(timedelta(minutes=122), start) == 1
    assert _texts(network.dept_leader).count(LEADERSHIP_NOTE) == 1


@pytest.mark.parametrize(
    ("peer_watch_owed_by", "counsellor_told"),
    [
        # The default: the department counsellor's own peer watch goes up to the centre with her
        # guardian call, so she is not the one told to do it now.
        ("department", []),
        # A campus whose class owes it: missed, it goes up to the department counsellor.
        ("class", ["A warning in your department needs attention"]),
    ],
)
def test_one_sweep_escalating_several_deadlines_gives_each_person_one_notice(
    network, peer_watch_owed_by, counsellor_told
):
    """A day on, the red's assessment (centre -> leadership), guardian call (department ->
    centre) and peer watch (department -> centre, or class -> department where the class owes
    it) all escalate in one sweep."""
    if peer_watch_owed_by == "class":
        class_peer_watch_policy(network.institution.id)
    start = clock.now()
    warning = phq9_signal(network.student, 22)
    actions.acknowledge(db.session, network.school_counsellor, warning, warning.version, start)
    db.session.commit()
    before = {
        who: len(_texts(getattr(network, who)))
        for who in ("dept_leader", "dept_counsellor", "school_counsellor", "director")
    }

    assert sweep_after(timedelta(hours=24, minutes=1), start) == 3

    new = {who: _texts(getattr(network, who))[count:] for who, count in before.items()}
    assert new == {
        "dept_leader": [LEADERSHIP_NOTE],
        "dept_counsellor": counsellor_told,
        "school_counsellor": ["A warning needs the counselling centre's attention"],
        "director": ["A warning has been escalated to school leadership"],
    }


def test_a_yellow_escalated_to_the_centre_tells_the_department_leader(network):
    start = clock.now()
    phq9_signal(network.student, 12)  # the department contacts within 72 hours
    before = _texts(network.dept_leader)
    assert sweep_after(timedelta(hours=73), start) == 1
    assert _texts(network.dept_leader) == [*before, CENTRE_NOTE]


def test_a_blue_escalated_to_the_department_tells_the_leader_once_as_the_department(network):
    start = clock.now()
    phq9_signal(network.student, 7)  # the class checks in within 7 days
    assert sweep_after(timedelta(days=7, minutes=1), start) == 1
    assert _texts(network.dept_leader) == ["A warning in your department needs attention"]


def test_another_departments_leader_hears_nothing(campus, network):
    from campus.models import Role

    history_leader = campus.staff(
        network.institution, Role.DEPT_LEADER, department=network.other_student.department
    )
    campus.commit()
    start = clock.now()
    phq9_signal(network.student, 22)
    sweep_after(timedelta(minutes=61), start)
    assert _texts(history_leader) == []


# --- (b) the home page card -------------------------------------------------------------------


def test_the_home_card_says_an_unacknowledged_red_went_to_school_leadership(network, login):
    start = clock.now()
    phq9_signal(network.student, 22)
    sweep_after(timedelta(minutes=61), start)

    for person in (network.dept_counsellor, network.dept_leader):
        home = page_text(login(person).get("/").get_data(as_text=True))
        assert "awaits the counselling centre's acknowledgement" not in home
        assert "1 red warning was not acknowledged in time: escalated to school leadership" in home
        # How long it has waited (the centre's 11:00), not school leadership's next hour.
        assert "The acknowledgement was due today 11:00: overdue for 1 minute." in home
        assert "Now due today 12:01." in home
    centre = page_text(login(network.school_counsellor).get("/").get_data(as_text=True))
    assert "1 red warning escalated to school leadership still awaits acknowledgement" in centre


def test_the_home_card_keeps_a_fresh_red_apart_from_an_escalated_one(campus, network, login):
    start = clock.now()
    phq9_signal(network.student, 22)
    sweep_after(timedelta(minutes=61), start)
    newer = campus.student(network.group, name="王芳")
    campus.commit()
    phq9_signal(newer, 22)  # its hour is still running

    home = page_text(login(network.dept_counsellor).get("/").get_data(as_text=True))
    assert "1 red warning awaits the counselling centre's acknowledgement" in home
    assert "1 red warning was not acknowledged in time: escalated to school leadership" in home


def test_the_home_card_of_an_escalated_red_leaves_once_it_is_acknowledged(network, login):
    start = clock.now()
    warning = phq9_signal(network.student, 22)
    sweep_after(timedelta(minutes=61), start)
    db.session.refresh(warning)
    actions.acknowledge(db.session, network.director, warning, warning.version, clock.now())
    db.session.commit()
    home = page_text(login(network.dept_counsellor).get("/").get_data(as_text=True))
    assert "red warning" not in home


# --- (c) which deadline is marked overdue -----------------------------------------------------


def _queue_row(page: str, name: str) -> str:
    row = page[page.index(name) :]
    return row[: row.index("</tr>")]


def test_the_warnings_list_marks_the_missed_deadline_not_the_new_one(network, login):
    start = clock.now()
    phq9_signal(network.student, 22)
    sweep_after(timedelta(minutes=61), start)
    clock.set_now(start + timedelta(minutes=70))

    page = login(network.dept_counsellor).get("/warnings/").get_data(as_text=True)
    cell = page_text(_queue_row(page, network.student.name))
    # Next is school leadership's acknowledgement, due 12:01: not overdue. The centre's
    # 11:00 was missed, and that is what the row says.
    assert "Acknowledge (school leadership) due today 12:01" in cell
    assert "overdue" not in cell
    assert "Acknowledge missed (due today 11:00), escalated" in cell
    # The list of warnings with a missed deadline still holds it.
    overdue = login(network.dept_counsellor).get("/warnings/?overdue=1").get_data(as_text=True)
    assert network.student.name in overdue


def test_the_warnings_list_marks_overdue_a_next_deadline_that_has_passed(network, login):
    start = clock.now()
    phq9_signal(network.student, 22)
    clock.set_now(start + timedelta(minutes=70))  # the sweep has not run: nothing escalated
    page = login(network.dept_counsellor).get("/warnings/").get_data(as_text=True)
    cell = page_text(_queue_row(page, network.student.name))
    assert "due today 11:00 overdue" in cell
    assert "escalated" not in cell


def test_the_warning_page_and_tasks_show_the_new_deadline_without_an_overdue_mark(network, login):
    start = clock.now()
    phq9_signal(network.student, 22)
    sweep_after(timedelta(minutes=61), start)
    clock.set_now(start + timedelta(minutes=70))
    client = login(network.director)

    page = page_text(client.get(f"/warnings/students/{network.student.id}").get_data(as_text=True))
    owed = page[page.index("Still to do") :]
    owed = owed[: owed.index("Arrange the peer watch")]
    assert "Acknowledge (school leadership) due" in owed
    assert "overdue" not in owed
    tasks = page_text(client.get("/tasks").get_data(as_text=True))
    assert "Acknowledge (school leadership) due today 12:01" in tasks
    assert "overdue" not in tasks.split("Overdue", 1)[1]


def test_the_timeline_says_in_words_which_step_was_missed(network, login):
    """Before, it read "Escalated missed acknowledge": the stored code, in English for a
    Chinese reader too."""
    start = clock.now()
    phq9_signal(network.student, 22)
    sweep_after(timedelta(minutes=61), start)
    client = login(network.director)

    page = page_text(client.get(f"/warnings/students/{network.student.id}").get_data(as_text=True))
    assert "Acknowledge not done in time" in page
    assert "missed acknowledge" not in page
    client.post("/language/zh_CN")
    zh = page_text(client.get(f"/warnings/students/{network.student.id}").get_data(as_text=True))
    assert "missed" not in zh
    assert "未按时完成" in zh


def test_the_leaders_note_names_the_step_her_department_did_not_do(network, login):
    """Before, the leader's note named only what the centre owed next ("Acknowledge due …"),
    not that her department's guardian call was missed."""
    start = clock.now()
    warning = phq9_signal(network.student, 22)
    actions.acknowledge(db.session, network.school_counsellor, warning, warning.version, start)
    db.session.commit()
    sweep_after(timedelta(hours=24, minutes=1), start)

    inbox = page_text(login(network.dept_leader).get("/inbox/").get_data(as_text=True))
    line = inbox[inbox.index("escalated to school leadership") :][:400]
    missed = line[line.index("Not done in time:") :][:120]
    assert "Notify the guardian" in missed
    assert "Professional assessment" in missed


def test_a_later_steps_note_says_when_it_was_missed_apart_from_when_it_is_now_due(network, login):
    """Before, the director's note of a missed assessment read "Professional assessment due
    <the day after>" beside "overdue for 2 hours": the overdue time of the centre's deadline
    against the due time of leadership's. Now each is said of its own deadline."""
    start = clock.now()  # 10:00
    warning = phq9_signal(network.student, 22)
    actions.acknowledge(db.session, network.school_counsellor, warning, warning.version, start)
    db.session.commit()
    sweep_after(timedelta(hours=24, minutes=1), start)  # the centre's 24 hours passed
    clock.set_now(start + timedelta(hours=26))

    inbox = page_text(login(network.director).get("/inbox/").get_data(as_text=True))
    line = inbox[inbox.index("escalated to school leadership") :]
    line = line[: line.index("Open")]
    assert (
        "Not done in time: Professional assessment (due today 10:00, overdue for 2 hours); "
        "Notify the guardian, Arrange the peer watch (due today 10:00)"
    ) in line
    assert "Now owed by school leadership: Professional assessment, by tomorrow 10:01" in line
    # No "overdue" is said of the deadline still to come.
    assert "tomorrow 10:01" not in line[: line.index("Now owed")]
    assert "overdue" not in line[line.index("Now owed") :]
