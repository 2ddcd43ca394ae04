"""A student asks for help (自主求助): her request is a self-referral signal, so the response
network contacts her as it would for any yellow, and she is told who will get in touch, never a
level. A double tap is one request; a request with no way to reach her is refused in words."""

from __future__ import annotations

import re

from sqlalchemy import func
from sqlalchemy import select

from campus.extensions import db
from campus.notifications import Notification
from tests.factories import open_warning
from warning.models import EarlyWarning
from warning.models import Signal
from warning.models import SignalSource
from warning.models import WarningStatus
from warning.policy import Level


def _token(page: str) -> str:
    found = re.search(r'name="submission" type="hidden" value="([0-9a-f]+)"', page)
    assert found, page[:2000]
    return found.group(1)


def _ask(client, **data: str):
    token = _token(client.get("/help").get_data(as_text=True))
    return client.post("/help", data={"submission": token, **data}), token


def _requests(student) -> int:
    return db.session.scalar(
        select(func.count(Signal.id)).where(
            Signal.student_id == student.id, Signal.source == SignalSource.SELF_REFERRAL
        )
    )


def _open_warning(student) -> EarlyWarning | None:
    return db.session.scalar(
        select(EarlyWarning).where(
            EarlyWarning.student_id == student.id, EarlyWarning.status == WarningStatus.OPEN
        )
    )


def test_asking_for_help_reaches_the_department_counsellor_and_tells_her_who_will_call(
    network, login
):
    student = login(network.student.user)
    page = student.get("/help").get_data(as_text=True)
    assert page.index('href="tel:') < page.index("Ask a teacher to contact you")  # numbers first
    assert 'href="tel:120"' in page
    assert 'href="tel:110"' in page

    response, _ = _ask(student, contact_by="phone", good_time="weekday afternoons")
    assert response.status_code == 302
    after = student.get("/help").get_data(as_text=True)
    assert "Your department counsellor or a counsellor of the mental health centre" in after
    assert "We received your request of" in after
    for level_word in ("yellow", "Yellow", "level"):
        assert level_word not in after

    warning = _open_warning(network.student)
    assert warning is not None
    assert warning.level == Level.YELLOW
    told = db.session.scalars(
        select(Notification.user_id).where(Notification.user_id == network.dept_counsellor.id)
    ).all()
    assert told
    timeline = login(network.dept_counsellor).get(f"/warnings/students/{network.student.id}")
    assert (
        "The student asked for help: to be contacted by phone, best weekday afternoons"
        in timeline.get_data(as_text=True)
    )


def test_a_double_tap_is_one_request(network, login):
    student = login(network.student.user)
    _response, token = _ask(student, contact_by="message")
    again = student.post("/help", data={"submission": token, "contact_by": "message"})
    assert again.status_code == 302
    assert _requests(network.student) == 1


def test_a_request_without_a_way_to_reach_her_is_refused_and_nothing_is_written(network, login):
    student = login(network.student.user)
    refused, _ = _ask(student, good_time="x" * 101)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Choose how we should reach you." in body
    forged, _ = _ask(student, contact_by="carrier pigeon")
    assert forged.status_code == 422
    assert _requests(network.student) == 0
    assert _open_warning(network.student) is None


def test_a_request_while_a_red_is_open_keeps_the_red(network, login):
    open_warning(network.student, Level.RED)
    student = login(network.student.user)
    _ask(student, contact_by="in_person")
    assert _requests(network.student) == 1
    assert _open_warning(network.student).level == Level.RED


def test_staff_do_not_ask_for_help_on_a_students_page(network, login):
    assert login(network.dept_counsellor).get("/help").status_code == 403
