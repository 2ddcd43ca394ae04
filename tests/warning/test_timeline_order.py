"""A warning's timeline reads in cause order, newest first: lines written at one time (a signal
and the warning it opened, an interview held and the contact logged with it) show what was
written later above what caused it, on SQLite and PostgreSQL alike. Before, lines of one time
kept the order the rows came back in, so a signal read above the warning it opened."""

from __future__ import annotations

import re
from datetime import timedelta

from campus import clock
from campus.extensions import db
from tests.factories import phq9_signal
from tests.warning.response_helpers import department_contact
from tests.warning.response_helpers import page_text
from warning import actions


def _timeline(login, network) -> list[str]:
    """The timeline's lines on the warning page, top to bottom, as a reader sees them."""
    html = login(network.school_counsellor).get(f"/warnings/students/{network.student.id}")
    listed = html.get_data(as_text=True).split('<ol class="timeline">', 1)[1].split("</ol>")[0]
    return [page_text(line).strip() for line in re.findall(r"<li>(.*?)</li>", listed, re.S)]


def _first(lines: list[str], words: str) -> int:
    return next(i for i, line in enumerate(lines) if words in line)


def test_the_warning_a_signal_opened_reads_above_the_signal(network, login):
    phq9_signal(network.student, 22)  # the signal and the warning it opens share this instant

    lines = _timeline(login, network)
    assert _first(lines, "Warning opened") < _first(lines, "Signal")


def test_a_contact_logged_with_an_interview_held_reads_above_it(network, login):
    warning = phq9_signal(network.student, 15)
    clock.advance(timedelta(days=1))
    # The counsellor records the interview held and logs it as a contact, at one time.
    actions.interview_held(db.session, network.school_counsellor, warning, clock.now())
    db.session.commit()
    department_contact(network, warning)

    lines = _timeline(login, network)
    assert _first(lines, "Contact") < _first(lines, "Post-screening interview held")
    assert _first(lines, "Post-screening interview held") < _first(lines, "Warning opened")
    assert _first(lines, "Warning opened") < _first(lines, "Signal")


def test_a_guardian_told_seconds_after_a_call_in_the_same_minute_reads_above_it(network, login):
    """The guardian's notice carries the minute typed on the family-contact form (10:00:00), the
    call the second it was saved (10:00:20): by the full time the notice, saved 13 seconds
    later, read below the call."""
    warning = phq9_signal(network.student, 22)  # red: the guardian is to be told
    clock.advance(timedelta(seconds=20))
    department_contact(network, warning)
    clock.advance(timedelta(seconds=13))
    client = login(network.dept_counsellor)
    sent = client.post(
        f"/casework/students/{network.student.id}/family-contacts/new?back=warning",
        data={
            "submission": "0123456789abcdef0123456789abcdef",
            "at": "2026-09-14T10:00",  # the clock is 10:00:33 in Beijing
            "direction": "we_called",
            "guardian_name": "张父",
            "guardian_relation": "父亲",
            "channel": "phone",
            "summary": "告知预警情况。",
            "outcome": "reached",
        },
    )
    assert sent.status_code == 302

    lines = _timeline(login, network)
    assert _first(lines, "Guardian notified") < _first(lines, "Contact")
