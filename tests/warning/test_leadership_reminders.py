"""A red that school leadership does not acknowledge: its deadline is passed on within leadership
every hour. The director keeps one note that is raised again, saying how long it has been
overdue, with a reminder mail at an interval, not a new urgent note and mail every hour; the
home page says for how long it has waited. The centre, whose deadline it was, is told once that
it went up to leadership."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Role
from campus.models import User
from campus.notifications import Notification
from campus.notifications import OutboxMail
from tests.factories import phq9_signal
from warning import caseload

from .response_helpers import page_text
from .response_helpers import sweep_after

ARRIVED = "A warning has been escalated to school leadership"
STILL_OUTSTANDING = "A warning escalated to school leadership is still outstanding"
CENTRE_MISSED = "A warning the counselling centre owed was escalated to school leadership"
CASE_MISSED = "A case of yours was escalated to school leadership"


def _notes(user: User) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    )


def _texts(user: User) -> list[str]:
    return [note.text for note in _notes(user)]


def _mails(user: User) -> list[OutboxMail]:
    return list(
        db.session.scalars(
            select(OutboxMail)
            .where(OutboxMail.recipient == user.email, OutboxMail.channel_id.is_(None))
            .order_by(OutboxMail.id)
        )
    )


def _hours_at_the_top(start, hours: int) -> None:
    """The centre's hour passes (to leadership), then `hours` of leadership's hours pass."""
    assert sweep_after(timedelta(minutes=61), start) == 1
    for hour in range(1, hours + 1):
        assert sweep_after(timedelta(minutes=61 + 61 * hour), start) == 1


# --- 1. the director ---------------------------------------------------------------------------


def test_hours_at_the_top_raise_the_directors_one_note_again_instead_of_adding_notes(
    network, login
):
    start = clock.now()
    phq9_signal(network.student, 22)
    before = len(_notes(network.director))
    assert sweep_after(timedelta(minutes=61), start) == 1
    (note,) = _notes(network.director)[before:]
    assert note.text == ARRIVED
    assert note.urgent
    login(network.director).post(f"/inbox/{note.id}/read")  # read, but not acted on
    db.session.refresh(note)
    assert note.read_at is not None

    for hour in range(1, 4):
        assert sweep_after(timedelta(minutes=61 + 61 * hour), start) == 1

    db.session.expire_all()
    (note,) = _notes(network.director)[before:]  # still one note, not four
    assert note.text == STILL_OUTSTANDING
    assert note.urgent  # raised again: unread, at the top
    assert note.read_at is None
    inbox = page_text(login(network.director).get("/inbox/").get_data(as_text=True))
    top = inbox[inbox.index("Urgent") :][:400]  # the first note in the list
    assert top.index(STILL_OUTSTANDING) < 40
    assert network.student.name in top
    # How long it has waited: the centre's acknowledgement was due at 11:00, it is now 14:04.
    assert "Not done in time: Acknowledge (due today 11:00, overdue for 3 hours)" in top
    # What leadership owes now is its current hour (14:04 + 1), not a time already past.
    assert "Now owed by school leadership: Acknowledge, by today 15:04" in top
    assert "passed on to the next tier" not in top


def test_the_director_gets_a_reminder_mail_every_four_hours_not_every_hour(network):
    start = clock.now()
    phq9_signal(network.student, 22)
    before = len(_mails(network.director))

    _hours_at_the_top(start, 3)  # 14:04: three passes within leadership
    assert [m.body.splitlines()[0] for m in _mails(network.director)[before:]] == [ARRIVED]

    assert sweep_after(timedelta(minutes=61 + 61 * 4), start) == 1  # 15:05: four hours on
    mails = _mails(network.director)[before:]
    assert [m.body.splitlines()[0] for m in mails] == [ARRIVED, STILL_OUTSTANDING]
    assert network.student.name not in mails[-1].body


def test_the_directors_home_says_how_long_the_red_has_waited(network, login):
    start = clock.now()
    phq9_signal(network.student, 22)
    _hours_at_the_top(start, 3)

    home = page_text(login(network.director).get("/").get_data(as_text=True))
    assert "1 red warning escalated to school leadership still awaits acknowledgement" in home
    # The centre's missed hour and how long ago, then leadership's hour now owed (14:04 + 1).
    assert (
        "The acknowledgement was due today 11:00: overdue for 3 hours. Now due today 15:04." in home
    )
    assert "The earliest is due" not in home


def test_once_acknowledged_the_raised_note_no_longer_heads_the_inbox(network, login):
    from warning import actions

    start = clock.now()
    warning = phq9_signal(network.student, 22)
    _hours_at_the_top(start, 2)
    db.session.refresh(warning)
    actions.acknowledge(db.session, network.director, warning, warning.version, clock.now())
    db.session.commit()
    sweep_after(timedelta(hours=5), start)

    inbox = page_text(login(network.director).get("/inbox/").get_data(as_text=True))
    line = inbox[inbox.index(STILL_OUTSTANDING) :][:300]
    assert "done" in line
    assert "overdue" not in line
    assert _texts(network.director).count(STILL_OUTSTANDING) == 1


# --- 2. the centre, whose deadline went up -------------------------------------------------------


def test_the_centre_hears_once_that_its_missed_hour_went_to_leadership(network):
    start = clock.now()
    phq9_signal(network.student, 22)
    before = _texts(network.school_counsellor)

    _hours_at_the_top(start, 3)

    assert _texts(network.school_counsellor) == [*before, CENTRE_MISSED]
    note = _notes(network.school_counsellor)[-1]
    assert note.urgent  # the red still waits, and the centre may still acknowledge it
    assert (note.detail or {}).get("student_id") == network.student.id


def test_a_case_with_a_counsellor_tells_that_counsellor_not_the_whole_centre(campus, network):
    colleague = campus.staff(network.institution, Role.SCHOOL_COUNSELLOR, email="zhou@xju.test")
    campus.commit()
    start = clock.now()
    warning = phq9_signal(network.student, 22)
    caseload.assign(db.session, network.director, warning, colleague, start)
    db.session.commit()
    others_before = _texts(network.school_counsellor)
    before = _texts(colleague)

    _hours_at_the_top(start, 1)

    assert _texts(colleague) == [*before, CASE_MISSED]
    assert _texts(network.school_counsellor) == others_before
    assert [m.body.splitlines()[0] for m in _mails(colleague)][-1] == CASE_MISSED


@pytest.mark.parametrize("gone", ["deactivated", "role ended"])
def test_a_case_counsellor_who_cannot_be_told_leaves_the_note_to_the_centre(campus, network, gone):
    """Before, the note went to the case's counsellor alone, though their account was closed or
    their counsellor role ended: nobody at the centre heard that its hour went up."""
    colleague = campus.staff(network.institution, Role.SCHOOL_COUNSELLOR, email="zhou@xju.test")
    campus.commit()
    start = clock.now()
    warning = phq9_signal(network.student, 22)
    caseload.assign(db.session, network.director, warning, colleague, start)
    db.session.commit()
    if gone == "deactivated":
        colleague.active = False
    else:
        (role,) = colleague.roles
        role.ends_at = start
    db.session.commit()
    before = _texts(network.school_counsellor)

    _hours_at_the_top(start, 1)

    assert _texts(network.school_counsellor) == [*before, CENTRE_MISSED]
    assert [m.body.splitlines()[0] for m in _mails(network.school_counsellor)][-1] == CENTRE_MISSED
    assert CASE_MISSED not in _texts(colleague)


def test_notes_naming_leaderships_deadline_stay_outstanding_at_the_top(network, login):
    """The leader's and the centre's notes name school leadership's deadline; passed on within
    leadership an hour later, it has gone to no next tier: still outstanding, not settled."""
    start = clock.now()
    phq9_signal(network.student, 22)
    _hours_at_the_top(start, 2)

    for person, text in (
        (network.school_counsellor, "counselling centre owed"),
        (network.dept_leader, "department was escalated to school leadership"),
    ):
        inbox = page_text(login(person).get("/inbox/").get_data(as_text=True))
        line = inbox[inbox.index(text) :]
        line = line[: line.index("Open")]  # this note only
        assert "passed on to the next tier" not in line
        assert "Acknowledge (due today 11:00, overdue for 2 hours)" in line
        # Their note recorded leadership's first hour (12:01), passed on since: not given as due.
        assert "Still owed by school leadership: Acknowledge" in line
        assert "12:01" not in line
