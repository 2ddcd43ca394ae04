"""Class and dorm tiers: roster, zero reports, concern reports, forged ids."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus.extensions import db
from campus.models import Role
from campus.outcomes import Refused
from tests.pages import without_tokens
from warning.models import ConcernReport
from warning.models import EarlyWarning
from warning.models import Signal
from warning.models import WeeklyReport
from warning.policy import Level
from warning.reports import week_start
from warning.reports import weekly_report_status

# What the reporter is told, whatever the level: a blue concern stays with the class and dorm
# tiers and no department counsellor is told of it, so "passed on to the department" was false.
RECEIPT = "Your concern was received, and the teachers responsible will follow it up."


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_suicidal_talk_concern_report_creates_red_warning_at_once(campus, unit, login):
    committee = campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=unit.group)
    campus.commit()
    client = login(committee)
    response = client.post(
        f"/warnings/units/class/{unit.group.id}/concern",
        data={
            "submission": uuid.uuid4().hex,
            "student_id": unit.student.id,
            "category": "suicidal_talk",
            "text": "Said goodbye",
        },
    )
    assert response.status_code == 302
    warning = db.session.scalar(select(EarlyWarning))
    assert warning.level == Level.RED
    assert warning.student_id == unit.student.id
    assert "concern report: suicidal talk" in warning.reason
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    # The receipt of a crisis is what to do now (tests/warning/test_concern_receipt.py).
    assert "The mental health centre has been told at once." in page
    assert "passed on to the department" not in page  # a promise the tiers did not keep
    assert 'class="level' not in page
    assert "Red" not in without_tokens(page)


def test_zero_report_creates_no_warning_but_counts_as_the_weeks_report(campus, unit, login):
    informant = campus.staff(unit.institution, Role.DORM_INFORMANT, room=unit.room)
    other = campus.room(unit.institution, "102")
    campus.staff(unit.institution, Role.DORM_INFORMANT, room=other)
    campus.commit()
    client = login(informant)
    assert client.post(f"/warnings/units/room/{unit.room.id}/zero-report").status_code == 302
    assert _count(EarlyWarning) == 0
    assert _count(Signal) == 0
    status = weekly_report_status(db.session, unit.institution.id, week_start(_today()))
    assert status.rooms_reported == [unit.room.id]
    assert status.rooms_missing == [other.id]


def test_all_is_well_with_a_note_typed_asks_which_was_meant_and_keeps_the_note(campus, unit, login):
    """The note was dropped and a zero report filed, which cannot be amended."""
    committee = campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=unit.group)
    campus.commit()
    client = login(committee)
    url = f"/warnings/units/class/{unit.group.id}"
    page = client.get(url).get_data(as_text=True)
    assert f'formaction="{url}/zero-report"' in page  # one form: the note travels with it
    asked = client.post(f"{url}/zero-report", data={"note": "He skips meals lately"})
    assert asked.status_code == 400
    body = asked.get_data(as_text=True)
    assert "You wrote a note" in body
    assert "He skips meals lately</textarea>" in body
    assert _count(WeeklyReport) == 0
    assert client.post(f"{url}/zero-report", data={"note": "  "}).status_code == 302
    assert _count(WeeklyReport) == 1


def test_double_zero_report_is_refused_and_counted_once(campus, unit, login):
    committee = campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=unit.group)
    campus.commit()
    client = login(committee)
    client.post(f"/warnings/units/class/{unit.group.id}/zero-report")
    second = client.post(
        f"/warnings/units/class/{unit.group.id}/zero-report", follow_redirects=True
    )
    assert "already been filed" in second.get_data(as_text=True)
    assert _count(WeeklyReport) == 1


def test_concern_report_about_a_student_outside_the_unit_is_refused_and_writes_nothing(
    campus, unit, login
):
    committee = campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=unit.group)
    other_class = campus.class_group(unit.department, "CS-2026-2")
    outsider = campus.student(other_class, name="Outsider")
    campus.commit()
    client = login(committee)
    response = client.post(
        f"/warnings/units/class/{unit.group.id}/concern",
        data={
            "submission": uuid.uuid4().hex,
            "student_id": outsider.id,
            "category": "self_harm",
            "text": "x",
        },
    )
    assert response.status_code == 400
    assert "Choose a student from your list." in response.get_data(as_text=True)
    assert "Outsider" not in response.get_data(as_text=True)
    forged_unit = client.post(f"/warnings/units/class/{other_class.id}/zero-report")
    assert forged_unit.status_code == 404
    assert (_count(ConcernReport), _count(Signal), _count(EarlyWarning), _count(WeeklyReport)) == (
        0,
        0,
        0,
        0,
    )


def test_unit_page_shows_only_own_roster_and_never_levels(campus, unit, login):
    informant = campus.staff(unit.institution, Role.DORM_INFORMANT, room=unit.room)
    elsewhere = campus.student(unit.group, campus.room(unit.institution, "202"), name="Zhang Wei")
    campus.commit()
    client = login(informant)
    page = client.get("/warnings/my-dorm", follow_redirects=True).get_data(as_text=True)
    assert "Li Hua" in page
    assert "Zhang Wei" not in page
    assert client.get("/warnings/").status_code == 403
    assert client.get(f"/warnings/students/{unit.student.id}").status_code == 403
    assert elsewhere.id


def test_malformed_concern_report_gets_an_error_and_writes_nothing(campus, unit, login):
    committee = campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=unit.group)
    campus.commit()
    response = login(committee).post(
        f"/warnings/units/class/{unit.group.id}/concern",
        data={
            "submission": uuid.uuid4().hex,
            "student_id": unit.student.id,
            "category": "not-a-category",
            "text": "",
        },
    )
    assert response.status_code == 400
    assert _count(ConcernReport) == 0
    assert _count(Signal) == 0


def _today():
    from campus import clock

    return clock.now().date()


def test_a_concern_report_sent_twice_is_one_report_and_does_not_raise_the_level(
    campus, unit, login
):
    """Two reports in 30 days raise a student to yellow: a double tap on a slow phone must not."""
    committee = campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=unit.group)
    campus.commit()
    client = login(committee)
    page = client.get(f"/warnings/units/class/{unit.group.id}").get_data(as_text=True)
    token = page.split('name="submission" type="hidden" value="', 1)[1][:32]
    sent = {"student_id": unit.student.id, "category": "low_mood", "text": "Skips meals"}
    first = client.post(
        f"/warnings/units/class/{unit.group.id}/concern", data={**sent, "submission": token}
    )
    again = client.post(
        f"/warnings/units/class/{unit.group.id}/concern",
        data={**sent, "submission": token},
        follow_redirects=True,
    )
    assert first.status_code == 302
    assert RECEIPT in again.get_data(as_text=True)
    assert "If you are asked to help, it will appear under Tasks." in again.get_data(as_text=True)
    assert "Blue" not in without_tokens(again.get_data(as_text=True))
    assert (_count(ConcernReport), _count(Signal)) == (1, 1)
    assert db.session.scalar(select(EarlyWarning)).level == Level.BLUE


def test_two_concern_reports_sent_from_two_forms_are_two_and_raise_to_yellow(campus, unit, login):
    committee = campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=unit.group)
    campus.commit()
    client = login(committee)
    for text in ("Skips meals", "Cried in class"):
        client.post(
            f"/warnings/units/class/{unit.group.id}/concern",
            data={
                "student_id": unit.student.id,
                "category": "low_mood",
                "text": text,
                "submission": uuid.uuid4().hex,
            },
        )
    assert _count(ConcernReport) == 2
    assert db.session.scalar(select(EarlyWarning)).level == Level.YELLOW


def test_a_concern_form_without_its_token_is_refused_and_writes_nothing(campus, unit, login):
    committee = campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=unit.group)
    campus.commit()
    response = login(committee).post(
        f"/warnings/units/class/{unit.group.id}/concern",
        data={"student_id": unit.student.id, "category": "low_mood", "text": "Skips meals"},
    )
    assert response.status_code == 400
    assert "Reload the form." in response.get_data(as_text=True)
    assert _count(ConcernReport) == 0


def test_another_persons_concern_token_is_refused_without_showing_their_report(campus, unit):
    from campus import clock
    from warning import reports

    first = campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=unit.group)
    second = campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=unit.group)
    campus.commit()
    found = reports.units_of(db.session, first)[0]
    token = uuid.uuid4().hex
    mine = reports.file_concern_report(
        db.session,
        user=first,
        unit=found,
        student=unit.student,
        category="low_mood",
        text="CANARY-FIRST",
        now=clock.now(),
        submission=token,
    )
    theirs = reports.units_of(db.session, second)[0]
    with pytest.raises(Refused, match="already used"):
        reports.file_concern_report(
            db.session,
            user=second,
            unit=theirs,
            student=unit.student,
            category="low_mood",
            text="Second",
            now=clock.now(),
            submission=token,
        )
    assert _count(ConcernReport) == 1
    assert mine.id


def test_a_report_of_danger_now_goes_through_without_words_and_raises_red_at_once(
    campus, unit, login
):
    """Before: a crisis report was refused until the informant typed what happened. Any other
    concern still needs its words."""
    informant = campus.staff(unit.institution, Role.DORM_INFORMANT, room=unit.room)
    campus.commit()
    client = login(informant)
    url = f"/warnings/units/room/{unit.room.id}/concern"
    data = {"student_id": unit.student.id, "text": "  "}
    low = client.post(url, data=data | {"submission": uuid.uuid4().hex, "category": "low_mood"})
    assert low.status_code == 400
    assert "Say what happened, in your words." in low.get_data(as_text=True)
    assert (_count(ConcernReport), _count(Signal)) == (0, 0)
    crisis = {"submission": uuid.uuid4().hex, "category": "crisis_behaviour"}
    assert client.post(url, data=data | crisis).status_code == 302
    report = db.session.scalar(select(ConcernReport))
    assert (report.category, report.text) == ("crisis_behaviour", "")
    warning = db.session.scalar(select(EarlyWarning))
    assert (warning.student_id, warning.level) == (unit.student.id, Level.RED)


def test_a_concern_sent_without_choosing_what_worries_them_is_refused_and_keeps_the_text(
    campus, unit, login
):
    """Before: the list opened on "Low mood", so a report of suicidal talk sent without touching
    it was filed as low mood (blue) instead of suicidal talk (red)."""
    committee = campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=unit.group)
    campus.commit()
    client = login(committee)
    page = client.get(f"/warnings/units/class/{unit.group.id}").get_data(as_text=True)
    assert 'required><option value="">Choose…</option>' in page
    token = page.split('name="submission" type="hidden" value="', 1)[1][:32]
    response = client.post(
        f"/warnings/units/class/{unit.group.id}/concern",
        data={
            "submission": token,
            "student_id": unit.student.id,
            "category": "",
            "text": "Said she does not want to wake up tomorrow",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose what worries you about the student." in page
    assert "Said she does not want to wake up tomorrow</textarea>" in page
    assert (_count(ConcernReport), _count(Signal)) == (0, 0)


def test_the_concern_form_gives_the_numbers_to_call_before_the_names_to_pick(
    campus, unit, login, app
):
    """Before: it said "call the hotline below", and on a phone the only number was the footer,
    past the picker and the whole class roster."""
    committee = campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=unit.group)
    campus.commit()
    page = login(committee).get(f"/warnings/units/class/{unit.group.id}").get_data(as_text=True)
    hotline = app.config["CRISIS_HOTLINE"]
    before_the_picker = page[page.index('id="concern-h"') : page.index('name="student_id"')]
    for number in ("120", "110", hotline):
        assert f'href="tel:{number}"' in before_the_picker
