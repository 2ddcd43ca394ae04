"""What a class psychology committee member or dorm informant reads of the tasks given to them.

Found in a review: a red's peer watch read "keep company with X this week", a blue's "check in
with X this week", a return plan and a crisis check-in had words of their own, so a peer who had
seen two tasks could tell which classmate was red, and "this week" stood on a 24-hour deadline;
two classmates called 马彬 could not be told apart; an informant got 18 identical notes. Now every
task about a student reads the same and names no period, the list says who by student number and
when in plain words, and new tasks raise one note.
"""

from __future__ import annotations

import html
import re
from datetime import date
from datetime import timedelta

import pytest
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.local_time import due_words
from campus.models import Student
from campus.notifications import Notification
from campus.notifications import OutboxMail
from casework.models import CrisisRecord
from referrals import leave as rules
from referrals.models import LeaveReason
from referrals.models import PlanSection
from tests.casework.crisis_world import ENTRY
from tests.casework.crisis_world import CrisisWorld
from tests.casework.crisis_world import crisis_world
from tests.casework.test_crisis_records import as_
from tests.factories import open_warning
from tests.pages import without_tokens
from tests.warning.response_helpers import LEVEL_WORDS
from warning import actions
from warning import response
from warning.models import EarlyWarning
from warning.models import Task
from warning.policy import Level

ONE_WORDING = "Please keep company with X and see how they are doing"
TASK_LINE = re.compile(
    r'<p><strong>(?P<what>.*?)</strong>(?: <span class="task-who">(?P<who>.*?)</span>)?\s*'
    r'<span class="task-due">(?P<when>.*?)</span>',
    re.S,
)


@pytest.fixture
def world(campus) -> CrisisWorld:
    return crisis_world(campus)


def _tasks(app, user) -> list[dict[str, str]]:
    """Each task line of `user`'s task list: what it says, who (by number) and when."""
    page = as_(app, user).get("/tasks").get_data(as_text=True)
    return [
        {k: html.unescape(v or "").strip() for k, v in m.groupdict().items()}
        for m in TASK_LINE.finditer(page)
    ]


def _student(number: str) -> Student:
    return db.session.scalars(select(Student).where(Student.student_number == number)).one()


def _arrange_peer_watch(world: CrisisWorld, warning: EarlyWarning, days: int = 7) -> None:
    """The department counsellor asks class and dorm to keep company with a red's student."""
    actions.assign_peer_watch(
        db.session,
        world.dept_counsellor,
        warning,
        warning.version,
        clock.now(),
        due_at=clock.now() + timedelta(days=days),
    )


def _every_task_kind(app, world: CrisisWorld, campus) -> Student:
    """A red's peer watch its department counsellor arranged (the world's student), a blue's
    check-in (a roommate), a blue's follow-up (the other roommate, whose check-in a counsellor's
    call met: a peer holds one task per student and purpose), a check-in after the crisis
    (a classmate) and a return plan item for each peer (a student back from leave). Returns the
    student back from leave."""
    _arrange_peer_watch(world, world.warning)
    open_warning(world.roommates[0], Level.BLUE)
    blue = open_warning(world.roommates[1], Level.BLUE)
    response.meet(db.session, blue, ["check_in"], clock.now())
    # Due within the week: a follow-up a month out is not listed before its week begins.
    response.plan_follow_up(db.session, blue, clock.now() + timedelta(days=6), clock.now())
    db.session.commit()
    counsellor = as_(app, world.counsellor)
    counsellor.post(f"/crisis/warnings/{world.warning.id}", data=ENTRY)
    record = db.session.scalars(select(CrisisRecord)).one()
    counsellor.post(
        f"/crisis/{record.id}/contagion",
        data={"classmates": [str(world.classmate.id)], "relation": "witness"},
    )
    returning = campus.student(world.classmate.class_group, world.student.room, name="马彬")
    campus.commit()
    data = rules.NewLeave(date(2026, 3, 1), date(2026, 9, 1), LeaveReason.MENTAL_HEALTH)
    leave = rules.start_leave(db.session, world.counsellor, returning, data, clock.now())
    for section, peer in (
        (PlanSection.ACADEMIC, world.committee),
        (PlanSection.DAILY_LIFE, world.dorm),
    ):
        rules.add_plan_item(
            db.session,
            world.counsellor,
            leave,
            section,
            "Deferred exams; watch for relapse of the eating disorder at meals",
            peer.id,
            date(2026, 9, 30),
        )
    return returning


def test_every_task_a_peer_is_given_reads_the_same_whatever_gave_it(app, world, campus):
    _every_task_kind(app, world, campus)
    committee_kinds = {
        t.kind
        for t in db.session.scalars(
            select(Task).where(
                (Task.assignee_class_id == world.committee.roles[0].class_id)
                | (Task.assignee_user_id == world.committee.id)
            )
        )
    }
    assert committee_kinds == {
        "peer_watch",
        "check_in",
        "follow_up",
        "contagion_check_in",
        "return_plan",
    }
    for peer, expected in ((world.committee, 5), (world.dorm, 4)):
        lines = _tasks(app, peer)
        assert len(lines) == expected, lines
        for line in lines:
            number = line["who"].removeprefix("Student number ")
            name = _student(number).name
            # One wording, whatever gave the task: only the name (and the number) tell them apart.
            assert line["what"].replace(name, "X") == ONE_WORDING
            for word in (*LEVEL_WORDS, "week", "Week", "return", "crisis", "exam"):
                assert word not in line["what"] + line["when"], (word, line)


def test_the_red_peer_watch_is_due_at_the_watchs_end_as_a_blue_check_in_is(app, world):
    """Before, a red's watch was the class's within 24 hours: "due tomorrow 10:00" beside a
    blue's check-in a week away told the peer which classmate was red. The department
    counsellor's week of company is due when it ends, as the blue's 7-day check-in is."""
    assert _tasks(app, world.committee) == []  # nothing for the peers until she asks
    _arrange_peer_watch(world, world.warning)
    open_warning(world.roommates[0], Level.BLUE)
    lines = {line["who"]: line for line in _tasks(app, world.committee)}
    red = lines[f"Student number {world.student.student_number}"]
    blue = lines[f"Student number {world.roommates[0].student_number}"]
    assert (
        red["what"] == f"Please keep company with {world.student.name} and see how they are doing"
    )
    assert red["what"].replace(world.student.name, "X") == blue["what"].replace(
        world.roommates[0].name, "X"
    )
    # 7 days from 10:00 in Changsha on 14 September, in plain words, for both: the end of the
    # company asked for, not a one-off deadline.
    assert red["when"] == blue["when"] == "until Mon 21 Sep 10:00"


def test_two_classmates_of_one_name_are_told_apart_by_their_student_numbers(app, world, campus):
    group = world.classmate.class_group
    first = campus.student(group, world.student.room, name="马彬", number="2026101")
    second = campus.student(group, None, name="马彬", number="2026102")
    campus.commit()
    _arrange_peer_watch(world, open_warning(first, Level.RED))
    open_warning(second, Level.BLUE)
    about = [line for line in _tasks(app, world.committee) if "马彬" in line["what"]]
    assert sorted(line["who"] for line in about) == [
        "Student number 2026101",
        "Student number 2026102",
    ]
    # No more than the committee member's own list of classmates already shows her.
    roster = as_(app, world.committee).get("/students").get_data(as_text=True)
    assert "2026101" in roster
    assert "2026102" in roster


def _notes(user, after: int = 0) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id, Notification.id > after)
            .order_by(Notification.id)
        )
    )


def _read_the_worlds_note(world: CrisisWorld, user) -> int:
    """The world's own red's peer watch, arranged by the department counsellor, told its
    informant of her task; she has read that note, so what follows starts a note of its own.
    The id the notes counted after it come after."""
    assert _notes(user) == []  # the red alone told her nothing
    _arrange_peer_watch(world, world.warning)
    (note,) = _notes(user)
    assert note.detail == {"new_tasks": 1}
    clock.advance(timedelta(minutes=1))  # she reads it after it came
    note.read_at = clock.now()
    db.session.commit()
    return note.id


def _mails(user) -> int:
    return len(
        db.session.scalars(select(OutboxMail).where(OutboxMail.recipient == user.email)).all()
    )


def test_eighteen_new_tasks_are_one_unread_note_and_one_mail(app, world, campus):
    seen = _read_the_worlds_note(world, world.dorm)
    world.dorm.email = "dorm@xju.test"  # mailed from here on
    newcomers = [campus.student(world.classmate.class_group, world.student.room) for _ in range(18)]
    campus.commit()
    for student in newcomers:
        open_warning(student, Level.BLUE)  # a check-in for the room each

    (note,) = _notes(world.dorm, after=seen)
    assert note.read_at is None
    assert note.detail["new_tasks"] == 18
    assert _mails(world.dorm) == 1
    inbox = as_(app, world.dorm).get("/inbox/").get_data(as_text=True)
    # One sentence with the number in it, not "You have new tasks" and "18 in all" after it.
    assert inbox.count("You have 18 new tasks") == 1
    assert "You have new tasks" not in inbox

    # Two hours on, still unread: the note is raised (and mailed) again, not doubled.
    clock.advance(timedelta(hours=2))
    late = campus.student(world.classmate.class_group, world.student.room)
    campus.commit()
    open_warning(late, Level.BLUE)
    (note,) = _notes(world.dorm, after=seen)
    assert note.detail["new_tasks"] == 19
    assert note.created_at == clock.now()  # it heads the inbox at its latest task
    assert _mails(world.dorm) == 2


def test_a_task_minutes_after_the_last_is_not_mailed_again(app, world, campus):
    seen = _read_the_worlds_note(world, world.dorm)
    world.dorm.email = "dorm@xju.test"  # mailed from here on
    students = [campus.student(world.classmate.class_group, world.student.room) for _ in range(2)]
    campus.commit()
    open_warning(students[0], Level.BLUE)
    clock.advance(timedelta(minutes=10))
    open_warning(students[1], Level.BLUE)
    assert [n.detail["new_tasks"] for n in _notes(world.dorm, after=seen)] == [2]
    assert _mails(world.dorm) == 1


def test_once_the_note_is_read_the_next_task_is_a_new_note(app, world, campus):
    seen = _read_the_worlds_note(world, world.dorm)
    world.dorm.email = "dorm@xju.test"  # mailed from here on
    students = [campus.student(world.classmate.class_group, world.student.room) for _ in range(3)]
    campus.commit()
    open_warning(students[0], Level.BLUE)
    open_warning(students[1], Level.BLUE)
    (first,) = _notes(world.dorm, after=seen)
    assert as_(app, world.dorm).post(f"/inbox/{first.id}/read").status_code == 302

    open_warning(students[2], Level.BLUE)
    read, new = _notes(world.dorm, after=seen)
    assert (read.id, read.detail["new_tasks"], read.read_at is not None) == (first.id, 2, True)
    assert (new.text, new.detail["new_tasks"], new.read_at) == ("You have a new task", 1, None)
    assert _mails(world.dorm) == 2


def test_a_peer_who_ticks_a_task_twice_on_a_phone_is_told_she_did_it(app, world):
    """A committee member taps "mark done" again from a page loaded before her first tap: she is
    told she already did, not that her own name did."""
    blue = open_warning(world.roommates[0], Level.BLUE)
    task = db.session.scalars(
        select(Task).where(
            Task.warning_id == blue.id, Task.assignee_class_id == world.committee.roles[0].class_id
        )
    ).one()
    client = as_(app, world.committee)
    client.post(f"/tasks/{task.id}/done", data={"note": "had lunch together"})
    page = client.post(f"/tasks/{task.id}/done", data={"note": ""}, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "You already marked this done." in text
    assert world.committee.name not in text.split("<main", 1)[1].split("</main>", 1)[0]
    db.session.refresh(task)
    assert task.done_note == "had lunch together"


def _inbox_line(app, user) -> str:
    inbox = as_(app, user).get("/inbox/").get_data(as_text=True)
    return inbox.split('<ul class="inbox">', 1)[1].split("</li>", 1)[0]


def test_the_note_counts_the_new_tasks_still_open_as_the_tasks_page_lists_them(app, world, campus):
    """Found on a committee member's phone: "你有 2 项新任务" and one task on the Tasks page, the
    other done since. The note now counts its tasks still open, and not her older ones."""
    clock.advance(timedelta(hours=1))
    # Her older task, the red's peer watch, stays open.
    seen = _read_the_worlds_note(world, world.dorm)
    clock.advance(timedelta(hours=1))
    newcomers = [campus.student(world.classmate.class_group, world.student.room) for _ in range(2)]
    campus.commit()
    warnings = [open_warning(student, Level.BLUE) for student in newcomers]
    (note,) = _notes(world.dorm, after=seen)
    assert note.detail["new_tasks"] == 2
    assert "You have 2 new tasks" in _inbox_line(app, world.dorm)

    for done, warning in enumerate(warnings, start=1):
        # The counsellor closes the warning: its check-in ends, off her Tasks page.
        actions.close(
            db.session,
            world.counsellor,
            warning,
            warning.version,
            clock.now(),
            outcome="Seen at the centre; no concern for now.",
            review_date=date(2026, 12, 1),
        )
        line = _inbox_line(app, world.dorm)
        listed = [t["who"] for t in _tasks(app, world.dorm)]
        assert len(listed) == 3 - done  # the new ones still open, and her older one
        if done == 1:
            assert "You have a new task" in line
            assert "2 new tasks" not in line
            assert f"Student number {newcomers[1].student_number}" in listed
        else:
            assert "Your new tasks have all been done or have ended." in line


def test_a_peer_who_ticks_a_check_in_is_thanked_and_finds_the_next_one_listed_as_current(
    app, world
):
    """Found on a committee member's phone: ticking a blue's check-in said "marked done" and the
    same task stood right below, due next month, so he took his tap for one that did not work.
    He was then told when the next one was due and found it folded under Later, which a red's
    watch never said nor did: that told him which classmate was red. He is now thanked in the
    words a watch's tap is, and the next one is listed among the current ones, reading 关注至 as
    the watch does, with no level, score or reason anywhere. But not the day he ticked it: listed
    at once, a second tap that day completed it and planned another; it is listed from the week
    it is due (`task_list.not_begun`), as a blue's first check-in is asked within a week."""
    classmate = world.roommates[0]
    blue = open_warning(classmate, Level.BLUE)
    task = db.session.scalars(
        select(Task).where(
            Task.warning_id == blue.id, Task.assignee_class_id == world.committee.roles[0].class_id
        )
    ).one()
    client = as_(app, world.committee)
    page = client.post(f"/tasks/{task.id}/done", data={"note": ""}, follow_redirects=True)
    text = html.unescape(page.get_data(as_text=True))
    following = db.session.scalars(
        actions.open_tasks_query(world.committee).where(Task.student_id == classmate.id)
    ).one()
    assert following.id != task.id
    assert following.due_at > clock.now() + timedelta(days=8)
    assert "Thank you. It is recorded." in text
    assert "marked done" not in text
    assert "next one" not in text
    assert 'id="h-later"' not in text, "a peer's request is never folded under Later"
    assert classmate.student_number not in text  # done for now: not offered again today
    clock.set_now(following.due_at - timedelta(days=6))
    client = as_(app, world.committee)
    text = html.unescape(client.get("/tasks").get_data(as_text=True))
    assert 'id="h-later"' not in text, "a peer's request is never folded under Later"
    upcoming = text.split('id="h-upcoming"', 1)[1]
    assert classmate.student_number in upcoming
    assert f"until {due_words(following.due_at)}" in upcoming
    home = html.unescape(client.get("/").get_data(as_text=True))
    assert "Later:" not in home
    for word in LEVEL_WORDS:
        assert word not in without_tokens(text)
