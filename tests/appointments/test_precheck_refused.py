"""A refused pre-check answers with a redirect to a page that shows why with the answers kept
(Post/Redirect/Get), so the phone's Back button never meets "Confirm form resubmission"; a
safety answer among them still leads that page with the crisis resources, its red warning
committed before the redirect."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from appointments import booking
from appointments.models import Appointment
from appointments.models import PreCheck
from campus import clock
from campus.extensions import db
from campus.models import User
from campus.notifications import Notification
from tests.appointments.booking_fixtures import Centre
from tests.conftest import Campus
from tests.pages import without_tokens
from warning import actions
from warning.models import Signal
from warning.policy import Level
from warning.response import RED_EVIDENCE_TEXT
from warning.services import open_warning

CRISIS = "You do not have to face this alone"
NO_REASON = "Say in a few words what you would like to talk about."
ON_DUTY = "0731-5555-1234"


@pytest.fixture
def centre(campus: Campus) -> Centre:
    return Centre(campus)


def _form(**changes: str) -> dict[str, str]:
    """A pre-check with its reason left empty: refused for that alone."""
    form = {"token": "form-1", "reason": "", "phq2_1": "1", "phq2_2": "2"}
    form |= {"gad2_1": "3", "gad2_2": "0", "safety": "0"}
    return form | changes


def _checked(page: str, name: str, value: str) -> bool:
    return f'id="{name}_{value}" name="{name}" value="{value}" checked' in page


def _student_at_a_free_time(centre: Centre, login: Callable[[User], FlaskClient]):
    centre.institution.on_duty_phone = ON_DUTY
    slot = centre.slot(centre.counsellor())
    student = centre.student()
    centre.campus.commit()
    return login(student.user), slot, student


def _crisis_shown(text: str) -> bool:
    """The crisis resources stand on the page, not held hidden for a safety answer chosen."""
    return '<section class="card crisis" role="alert"' in text


def test_a_refused_pre_check_redirects_to_a_page_with_its_errors_and_the_answers_kept(
    centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    client, slot, _student = _student_at_a_free_time(centre, login)
    refused = client.post(f"/appointments/book/{slot.id}", data=_form())
    assert refused.status_code == 303
    assert refused.headers["Location"] == f"/appointments/book/{slot.id}?refused=1"
    page = client.get(refused.headers["Location"])
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert NO_REASON in text
    assert _checked(text, "phq2_2", "2")
    assert _checked(text, "gad2_1", "3")
    assert _checked(text, "safety", "0")
    assert 'name="token" type="hidden" value="form-1"' in text  # the same form, sent again
    assert not _crisis_shown(text)
    # Held hidden, shown by the page's script the moment an answer of 1-3 is chosen.
    assert 'id="safety" data-safety-values="1 2 3"' in text
    assert "hidden data-crisis-live" in text
    # Back (or a reload) loads the same page again: a GET, nothing resent, nothing written.
    again = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert without_tokens(again) == without_tokens(text)
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_a_refused_pre_check_with_a_safety_answer_leads_with_the_crisis_resources(
    centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    client, slot, student = _student_at_a_free_time(centre, login)
    refused = client.post(f"/appointments/book/{slot.id}", data=_form(safety="2"))
    assert refused.status_code == 303
    # Raised by the POST itself, before any page is asked for.
    warning = open_warning(db.session, student.id)
    assert warning is not None
    assert warning.level == Level.RED
    text = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert text.index(CRISIS) < text.index(NO_REASON)
    assert f'href="tel:{ON_DUTY}"' in text
    assert _checked(text, "safety", "2")
    # Sent again corrected, it books with the check, and the page forgets the refusal.
    done = client.post(f"/appointments/book/{slot.id}", data=_form(safety="2", reason="sleep"))
    assert "/confirmed" in done.headers["Location"]
    assert NO_REASON not in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1


def test_the_kept_answers_show_only_on_their_own_time_and_only_after_a_refusal(
    centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    client, slot, _student = _student_at_a_free_time(centre, login)
    other = centre.slot(centre.counsellor(), hours=30)
    centre.campus.commit()
    client.post(f"/appointments/book/{slot.id}", data=_form(safety="1"))
    for url in (f"/appointments/book/{other.id}?refused=1", f"/appointments/book/{slot.id}"):
        text = client.get(url).get_data(as_text=True)
        assert NO_REASON not in text
        assert not _crisis_shown(text)
        assert not _checked(text, "phq2_2", "2")


def test_the_kept_answers_are_not_readable_in_the_session_cookie(
    centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    client, slot, _student = _student_at_a_free_time(centre, login)
    secret = "x" * 150 + "MY-SECRET"
    refused = client.post(f"/appointments/book/{slot.id}", data=_form(reason=secret, phq2_1=""))
    assert "MY-SECRET" in client.get(refused.headers["Location"]).get_data(as_text=True)
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert "MY-SECRET" not in cookie.value
    with client.session_transaction() as stored:
        assert stored.get("refused_precheck")
        assert "MY-SECRET" not in repr(dict(stored))


def _safety_signals(student) -> list[Signal]:
    return list(
        db.session.scalars(
            select(Signal)
            .where(Signal.student_id == student.id, Signal.evidence_type == "appointment_precheck")
            .order_by(Signal.id)
        )
    )


def _red_evidence_notes() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Notification).where(Notification.text == RED_EVIDENCE_TEXT)
    )


def test_a_safety_answer_refused_then_sent_again_corrected_is_one_signal_and_no_second_alarm(
    centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    client, slot, student = _student_at_a_free_time(centre, login)
    client.post(f"/appointments/book/{slot.id}", data=_form(safety="2"))
    client.post(f"/appointments/book/{slot.id}", data=_form(safety="2"))  # refused once more
    done = client.post(f"/appointments/book/{slot.id}", data=_form(safety="2", reason="sleep"))
    assert "/confirmed" in done.headers["Location"]

    (signal,) = _safety_signals(student)  # one answer, one line on the counsellor's timeline
    check = db.session.scalar(select(PreCheck).where(PreCheck.student_id == student.id))
    assert check.safety_signal_id == signal.id
    assert signal.evidence_id == check.id  # it now points at the answer as stored
    assert _red_evidence_notes() == 0  # the centre is not told the same answer twice


def _signed_in_again(client: FlaskClient, student, login) -> FlaskClient:
    """The student signs out and in again: the refusal her session kept is gone."""
    client.post("/logout")
    client = login(student.user)
    with client.session_transaction() as stored:
        assert "refused_precheck" not in stored
    return client


def test_a_safety_answer_refused_then_booked_after_signing_in_again_is_one_signal(
    centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    client, slot, student = _student_at_a_free_time(centre, login)
    client.post(f"/appointments/book/{slot.id}", data=_form(safety="2"))
    clock.advance(timedelta(minutes=40))  # longer than an idle session lives
    client = _signed_in_again(client, student, login)

    done = client.post(
        f"/appointments/book/{slot.id}", data=_form(safety="2", reason="sleep", token="form-2")
    )
    assert "/confirmed" in done.headers["Location"]
    (signal,) = _safety_signals(student)
    check = db.session.scalar(select(PreCheck).where(PreCheck.student_id == student.id))
    assert check.safety_signal_id == signal.id
    assert signal.evidence_id == check.id
    assert _red_evidence_notes() == 0


def test_a_safety_answer_whose_time_was_taken_then_booked_after_signing_in_again_is_one_signal(
    centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    client, slot, student = _student_at_a_free_time(centre, login)
    later = centre.slot(slot.counsellor, hours=30)
    centre.campus.commit()
    other = centre.student()
    centre.campus.commit()
    booking.book(db.session, student=other, slot=slot, booked_by=other.user, kind=slot.kind)
    taken = client.post(f"/appointments/book/{slot.id}", data=_form(safety="2", reason="sleep"))
    assert "refused=1" in taken.headers["Location"]
    first = db.session.scalar(select(PreCheck).where(PreCheck.student_id == student.id))
    assert first.appointment_id is None  # stored with its signal, the time refused
    clock.advance(timedelta(minutes=20))
    client = _signed_in_again(client, student, login)

    done = client.post(
        f"/appointments/book/{later.id}", data=_form(safety="2", reason="sleep", token="form-2")
    )
    assert "/confirmed" in done.headers["Location"]
    (signal,) = _safety_signals(student)
    checks = db.session.scalars(select(PreCheck).where(PreCheck.student_id == student.id)).all()
    assert [c.safety_signal_id for c in checks] == [signal.id, signal.id]
    assert signal.evidence_id == first.id  # the answer as first stored
    assert _red_evidence_notes() == 0


def test_the_same_answer_days_apart_is_told_again(
    centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    client, slot, student = _student_at_a_free_time(centre, login)
    client.post(f"/appointments/book/{slot.id}", data=_form(safety="2"))
    clock.advance(timedelta(days=3))
    later = centre.slot(slot.counsellor, hours=24)
    centre.campus.commit()
    client = _signed_in_again(client, student, login)

    done = client.post(
        f"/appointments/book/{later.id}", data=_form(safety="2", reason="sleep", token="form-2")
    )
    assert "/confirmed" in done.headers["Location"]
    assert len(_safety_signals(student)) == 2
    assert _red_evidence_notes() > 0  # the centre hears of it again


def test_the_same_answer_after_the_centre_acted_on_it_is_told_again(
    centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    client, slot, student = _student_at_a_free_time(centre, login)
    client.post(f"/appointments/book/{slot.id}", data=_form(safety="2"))
    warning = open_warning(db.session, student.id)
    clock.advance(timedelta(minutes=10))
    actions.acknowledge(db.session, slot.counsellor, warning, warning.version, clock.now())
    clock.advance(timedelta(minutes=10))
    client = _signed_in_again(client, student, login)

    client.post(
        f"/appointments/book/{slot.id}", data=_form(safety="2", reason="sleep", token="form-2")
    )
    assert len(_safety_signals(student)) == 2


def test_a_refusal_of_another_student_raises_her_own_signal(
    centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    client, slot, student = _student_at_a_free_time(centre, login)
    client.post(f"/appointments/book/{slot.id}", data=_form(safety="2"))
    client.post("/logout")

    # Another student's answer a moment later never adopts a signal that is not hers.
    other = centre.student()
    centre.campus.commit()
    other_client = login(other.user)
    done = other_client.post(
        f"/appointments/book/{slot.id}", data=_form(safety="1", reason="sleep", token="form-2")
    )
    assert "/confirmed" in done.headers["Location"]
    assert len(_safety_signals(other)) == 1
    assert len(_safety_signals(student)) == 1


def test_an_unanswered_pre_check_is_told_once_not_again_for_its_last_question() -> None:
    """ "Answer every question" covers the last one: the two together repeated themselves."""
    blank = booking.PreCheckAnswers(reason="睡不好")
    assert booking.check_precheck(blank) == ["Answer every question of the short check."]
    all_but_last = booking.PreCheckAnswers(reason="睡不好", phq2={1: 0, 2: 0}, gad2={1: 0, 2: 0})
    assert booking.check_precheck(all_but_last) == ["Answer the last question."]
