"""The home page as a workbench for the warning tiers: each count links to a list showing the
same number, scoped as that list is."""

from __future__ import annotations

import re
from datetime import datetime
from datetime import timedelta

from flask_babel import force_locale

from campus import clock
from campus.extensions import db
from campus.models import Role
from tests.factories import phq9_signal
from tests.pages import without_tokens
from warning import escalation
from warning import workbench

from .response_helpers import arrange_peer_watch
from .response_helpers import class_peer_watch_policy


def _link(html: str, text: str) -> str:
    """The href of the workbench item whose sentence contains `text`."""
    match = re.search(r'<a href="([^"]+)">[^<]*' + re.escape(text), html)
    assert match, f"no item {text!r} in the workbench"
    return match.group(1).replace("&amp;", "&")


def test_counsellor_sees_own_departments_unacknowledged_reds_and_the_queue_shows_as_many(
    network, login
):
    phq9_signal(network.student, 22)
    phq9_signal(network.other_student, 22)  # another department: not this counsellor's
    client = login(network.dept_counsellor)

    home = client.get("/").get_data(as_text=True)

    # The red's hour is the centre's to acknowledge; the department watches it run.
    assert "1 red warning awaits the counselling centre&#39;s acknowledgement" in home
    assert "The earliest is due in 1 hour (today 11:00)." in home
    queue = client.get(_link(home, "red warning awaits")).get_data(as_text=True)
    assert "1 in all" in queue
    assert network.student.name in queue
    assert network.other_student.name not in queue
    centre = login(network.school_counsellor).get("/").get_data(as_text=True)
    assert "2 red warnings await acknowledgement" in centre


def test_a_missed_deadline_leads_the_workbench_and_links_to_the_overdue_queue(network, login):
    phq9_signal(network.student, 22)
    clock.advance(timedelta(hours=2))
    client = login(network.dept_counsellor)

    home = client.get("/").get_data(as_text=True)

    assert "The earliest was due 1 hour ago (today 11:00)." in home
    # The missed acknowledgement is the centre's; the counsellor's own call to the guardian and
    # peer watch are next.
    assert home.index("1 warning has a missed deadline") < home.index("Upcoming: 2 tasks")
    overdue = client.get(_link(home, "warning has a missed deadline")).get_data(as_text=True)
    assert "1 in all" in overdue


def test_acknowledged_yellow_leaves_the_workbench(network, login):
    warning = phq9_signal(network.student, 12)
    client = login(network.dept_counsellor)
    assert "1 yellow warning not yet acknowledged" in client.get("/").get_data(as_text=True)

    warning.acknowledged_at = clock.now()
    db.session.commit()

    assert "yellow warning" not in client.get("/").get_data(as_text=True)


def test_class_committee_sees_this_weeks_report_until_it_is_filed(network, login):
    client = login(network.class_committee)
    home = client.get("/").get_data(as_text=True)
    assert "This week&#39;s class report is not filed yet" in home
    # The card names the button the page has (it said "a zero report", a word on no button).
    assert "When all is well, just tap “All is well this week”." in home

    unit = client.get(_link(home, "This week&#39;s class report"), follow_redirects=True)
    assert network.group.name in unit.get_data(as_text=True)
    assert ">All is well this week</button>" in unit.get_data(as_text=True)
    path = f"/warnings/units/class/{network.group.id}/zero-report"
    assert client.post(path, follow_redirects=True).status_code == 200

    home = client.get("/").get_data(as_text=True)
    assert "class report" not in home
    assert "Nothing to do today." in home


def test_other_departments_counsellor_has_nothing_to_do(campus, network, login):
    # Their class has its committee member and their department its leader, so the response
    # network asks nothing of them either.
    group = network.other_student.class_group
    campus.staff(network.institution, Role.CLASS_COMMITTEE, group=group)
    campus.staff(network.institution, Role.DEPT_LEADER, department=group.department)
    campus.commit()
    phq9_signal(network.student, 22)
    home = login(network.other_counsellor).get("/").get_data(as_text=True)
    assert "Nothing to do today." in home


def test_class_committee_sees_the_peer_watch_task_of_a_red_without_any_level(network, login):
    warning = phq9_signal(network.student, 22)
    client = login(network.class_committee)
    tasks = r'<a href="(/tasks[^"]*)">(\d+ tasks? due today or overdue|Upcoming: \d+ tasks?)'
    assert not re.search(tasks, client.get("/").get_data(as_text=True)), "not before it is asked"
    arrange_peer_watch(warning, network.dept_counsellor)
    home = client.get("/").get_data(as_text=True)
    assert re.search(tasks, home), "the class's peer-watch task is on the workbench"
    assert "red" not in without_tokens(home).lower()


def _sections(page: str) -> tuple[str, str]:
    """The task page split into the reader's own buckets and the section of others' deadlines."""
    own, _, others = page.partition('id="h-others"')
    return own, others


def test_a_department_counsellor_counts_their_own_tiers_deadlines_and_watches_the_rest(
    network, login
):
    phq9_signal(network.student, 22)
    client = login(network.dept_counsellor)

    home = client.get("/").get_data(as_text=True)
    # Of a red's four first deadlines the guardian call and the peer watch are the department's
    # (tomorrow); the centre's acknowledgement due within the hour is not counted as the
    # counsellor's task.
    assert "due today or overdue" not in home
    assert "Upcoming: 2 tasks" in home
    assert (
        "1 red warning awaits the counselling centre&#39;s acknowledgement" in home
    )  # as the queue

    own, others = _sections(client.get("/tasks").get_data(as_text=True))
    for mine in ("Notify the guardian", "Arrange the peer watch"):
        assert mine in own
        assert mine not in others
    for theirs in ("Acknowledge", "Professional assessment"):
        assert theirs not in own
        assert theirs in others
    assert "2 deadlines" in others


def test_the_centre_works_the_acknowledgement_and_watches_the_departments_guardian_call(
    network, login
):
    phq9_signal(network.student, 22)
    client = login(network.school_counsellor)

    home = client.get("/").get_data(as_text=True)
    assert "1 task due today or overdue" in home  # the acknowledgement, within the hour
    assert "Upcoming: 1 task" in home  # the assessment, within 24 hours

    own, others = _sections(client.get("/tasks").get_data(as_text=True))
    assert "Acknowledge" in own
    assert "Professional assessment" in own
    assert "Notify the guardian" in others
    assert "Arrange the peer watch" in others
    assert "Notify the guardian" not in own


def test_a_missed_deadline_of_another_tier_is_marked_overdue_where_it_is_watched(network, login):
    phq9_signal(network.student, 22)
    clock.advance(timedelta(hours=2))  # the sweep has not run yet: not escalated
    own, others = _sections(login(network.dept_counsellor).get("/tasks").get_data(as_text=True))
    acknowledge = others[others.index("Acknowledge") :]
    assert acknowledge[: acknowledge.index("</li>")].count("overdue") == 1
    assert "Nothing here." in own[own.index('id="h-overdue"') : own.index('id="h-today"')]


def test_a_peer_watch_no_one_can_receive_is_the_department_counsellors_own(campus, network, login):
    # A campus whose class owes red's peer watch; a class with no committee member, and a student
    # with no room: the class's peer watch of a red would reach no one, so the department
    # counsellor works it instead of watching it.
    class_peer_watch_policy(network.institution.id)
    alone = campus.student(campus.class_group(network.department, "CS-2026-9"), name="孤生")
    campus.commit()
    phq9_signal(alone, 22)
    client = login(network.dept_counsellor)

    own, others = _sections(client.get("/tasks").get_data(as_text=True))
    assert "Arrange the peer watch" in own
    assert "no committee member or informant to receive it: yours to arrange" in own
    assert "Arrange the peer watch" not in others
    home = client.get("/").get_data(as_text=True)
    assert "Upcoming: 2 tasks" in home  # the guardian call and the peer watch

    # The centre's list is unchanged: the class tier is not the school's to arrange.
    own, others = _sections(login(network.school_counsellor).get("/tasks").get_data(as_text=True))
    assert "Arrange the peer watch" in others


def test_a_department_leader_watches_the_guardian_call_and_arranges_the_peer_watch(network, login):
    # The family is told by the department's counsellors (a family contact the leader may not
    # write): on her list the guardian call is watched, while the peer watch, which her roles
    # may arrange, stays her own.
    phq9_signal(network.student, 22)
    client = login(network.dept_leader)

    own, others = _sections(client.get("/tasks").get_data(as_text=True))
    assert "Arrange the peer watch" in own
    assert "Notify the guardian" not in own
    assert "Notify the guardian" in others
    assert "Upcoming: 1 task" in client.get("/").get_data(as_text=True)

    # The counsellor beside her still owns the call, and it leads to the family-contact form
    # that gives it (before, to a warning action that is no more: a 404).
    counsellor = login(network.dept_counsellor)
    own, _ = _sections(counsellor.get("/tasks").get_data(as_text=True))
    link = re.search(r'<a href="([^"]+)">Notify the guardian</a>', own)
    assert link
    assert link.group(1) == (
        f"/casework/students/{network.student.id}/family-contacts/new?back=warning"
    )
    assert counsellor.get(link.group(1)).status_code == 200


def test_a_missed_guardian_call_is_not_the_department_leaders_overdue_task(network, login):
    warning = phq9_signal(network.student, 22)
    arrange_peer_watch(warning, network.dept_leader)
    clock.advance(timedelta(hours=25))  # the call is missed; the sweep has not run yet

    home = login(network.dept_leader).get("/").get_data(as_text=True)
    assert "due today or overdue" not in home
    counsellor_home = login(network.dept_counsellor).get("/").get_data(as_text=True)
    assert "1 task due today or overdue" in counsellor_home
    assert "1 of them is overdue." in counsellor_home


def test_a_red_escalated_to_leadership_is_the_directors_own_whatever_the_step(network, login):
    # Nothing climbs above leadership: an assessment missed there is hers to see done, though a
    # counsellor of the centre writes it.
    phq9_signal(network.student, 22)
    for _ in range(2):
        clock.advance(timedelta(hours=25))
        escalation.sweep_deadlines(db.session, clock.now())
        db.session.commit()

    own, _ = _sections(login(network.director).get("/tasks").get_data(as_text=True))
    assert "Professional assessment" in own


def test_a_deadline_later_today_is_said_in_hours_not_as_a_day(app):
    just_after_midnight = datetime(2026, 9, 13, 16, 30)  # 00:30 on the 14th in Beijing
    before_the_next = datetime(2026, 9, 14, 15, 51)  # 23:51 the same day

    with app.test_request_context(), force_locale("zh_CN"):
        words = workbench.when_due(before_the_next, just_after_midnight)

    assert words == "最早一条23小时后到期（今天 23:51）。"
