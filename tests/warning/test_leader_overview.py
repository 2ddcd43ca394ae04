"""A department leader's home page shows their department at a glance: open warnings by level,
reds not acknowledged, warnings with a missed deadline (by step), weekly reports not in; each
count the list it links to shows, and only of the departments they lead."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from campus import clock
from campus.models import Role
from referrals.models import ReferralStatus
from tests.factories import phq9_signal
from tests.factories import referral_in

FIGURE = re.compile(
    r'<li class="figure[^"]*">\s*(?:<a href="(?P<url>[^"]*)">|<span>)<strong>(?P<count>\d+)'
    r'</strong> <span class="figure-label">(?P<label>[^<]*)</span>(?:</a>|</span>)\s*'
    r'(?:<p class="muted">(?P<detail>[^<]*)</p>)?'
)


def _cards(page: str) -> dict[str, dict[str, tuple[int, str | None, str | None]]]:
    """Each overview card's figures by label: (count, link, detail), by the card's heading."""
    cards = {}
    for part in page.split('<section class="card overview"')[1:]:
        body = part.split("</section>", 1)[0]
        heading = re.search(r"<h2[^>]*>([^<]*)</h2>", body)
        assert heading is not None
        cards[html.unescape(heading.group(1))] = {
            html.unescape(m["label"]): (
                int(m["count"]),
                html.unescape(m["url"]) if m["url"] else None,
                html.unescape(m["detail"]) if m["detail"] else None,
            )
            for m in FIGURE.finditer(body)
        }
    return cards


def test_a_leader_sees_her_departments_counts_and_not_another_departments(network, campus, login):
    phq9_signal(network.student, 22)  # red, Computing
    phq9_signal(campus.student(network.group, name="王五"), 12)  # yellow, Computing
    phq9_signal(network.other_student, 22)  # red, History: another department's
    campus.commit()
    client = login(network.dept_leader)

    cards = _cards(client.get("/").get_data(as_text=True))
    assert list(cards) == ["Computing at a glance"]
    figures = cards["Computing at a glance"]
    assert figures["Red warnings"][0] == 1
    assert figures["Yellow warnings"][0] == 1
    assert figures["Blue warnings"][0] == 0
    assert figures["Reds not yet acknowledged"][0] == 1
    assert figures["Warnings with a missed deadline"][0] == 0
    # This week's class and dorm reports: the class and the room with a reporter owe one.
    assert figures["Not in yet this week"][0] == 2

    # Each count leads to the list that shows the same warnings: Computing's red, not History's.
    reds = client.get(figures["Red warnings"][1]).get_data(as_text=True)
    assert "张三" in reds
    assert "李四" not in reds
    waiting = client.get(figures["Reds not yet acknowledged"][1]).get_data(as_text=True)
    assert "张三" in waiting
    assert "王五" not in waiting


def test_missed_deadlines_are_counted_by_step_and_link_to_the_overdue_list(network, login):
    phq9_signal(network.student, 22)
    phq9_signal(network.other_student, 22)
    clock.advance(timedelta(hours=2))  # the centre's hour to acknowledge has passed

    client = login(network.dept_leader)
    count, url, detail = _cards(client.get("/").get_data(as_text=True))["Computing at a glance"][
        "Warnings with a missed deadline"
    ]
    assert count == 1
    assert detail is not None
    assert "Acknowledge 1" in detail
    overdue = client.get(url).get_data(as_text=True)
    assert "张三" in overdue
    assert "李四" not in overdue


def test_a_leader_of_two_departments_sees_each_apart(network, campus, login):
    phq9_signal(network.student, 12)  # yellow, Computing
    phq9_signal(network.other_student, 22)  # red, History
    history = network.other_student.department
    leader = network.dept_leader
    campus.staff(network.institution, Role.DEPT_LEADER, user=leader, department=history)
    campus.commit()

    cards = _cards(login(network.dept_leader).get("/").get_data(as_text=True))
    assert list(cards) == ["Computing at a glance", "History at a glance"]
    assert cards["Computing at a glance"]["Red warnings"][0] == 0
    assert cards["Computing at a glance"]["Yellow warnings"][0] == 1
    assert cards["History at a glance"]["Red warnings"][0] == 1
    assert cards["History at a glance"]["Yellow warnings"][0] == 0


def test_a_department_counsellor_has_no_overview_card(network, login):
    phq9_signal(network.student, 22)
    assert _cards(login(network.dept_counsellor).get("/").get_data(as_text=True)) == {}


def test_referrals_are_counted_for_the_department_without_a_link_to_the_clinical_record(
    network, campus, login
):
    hospital = campus.hospital(network.institution, "Brain Hospital")
    for student in (network.student, network.other_student):
        warning = phq9_signal(student, 22)
        assert warning is not None
        referral_in(ReferralStatus.SENT, warning, network.school_counsellor, hospital)
    campus.commit()

    page = login(network.dept_leader).get("/").get_data(as_text=True)
    count, url, _ = _cards(page)["Computing at a glance"]["Students referred to a hospital"]
    assert count == 1  # Computing's; History's is not the leader's
    assert url is None
    assert "/referrals/" not in page
