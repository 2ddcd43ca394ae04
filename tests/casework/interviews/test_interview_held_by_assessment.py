"""The red's professional assessment is the post-screening interview its result asked for.

Found in a walk of the demo: four red results' interviews stood overdue on the interview list and
in the director's overdue notes, though the centre had met each red's professional assessment
within its 24 hours (the oversight page said 100 %). To the counsellor, the assessment was the
interview: she met the student and assessed her, and the list said she had not. Now recording the
assessment holds every interview a result of that warning listed the student for.
"""

from __future__ import annotations

from datetime import date
from datetime import timedelta

from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.notifications import Notification
from casework import interviews
from casework.models import InterviewEntry
from casework.models import InterviewState
from screening import intake
from screening.scoring import load_instrument
from tests.casework import interview_world as w
from tests.conftest import sign_in
from warning import actions
from warning import services as warnings
from warning.models import WarningEvent
from warning.policy import Level

HELD_NOTE = "(held as the professional assessment)"


def _notes(user) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)))


def _kinds(student) -> list[str]:
    warning = warnings.open_warning(db.session, student.id)
    return list(
        db.session.scalars(select(WarningEvent.kind).where(WarningEvent.warning_id == warning.id))
    )


def _held_rows(entry: InterviewEntry) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "interview.held_by_assessment",
                AuditEvent.record_id == str(entry.id),
            )
        )
    )


def test_the_reds_assessment_holds_its_interview_and_nothing_calls_it_missed(client, world, listed):
    made, yellow, red = listed
    interviews.assign(db.session, world.director, [red], world.counsellor, clock.now())
    clock.advance(timedelta(hours=20))
    assessed_at = clock.now()
    w.assess(world.counsellor, world.mathematician)

    assert red.state == InterviewState.DONE
    assert (red.held_at, red.closed_at) == (assessed_at, assessed_at)
    assert (red.interviewer_id, red.closed_by_id) == (world.counsellor.id, world.counsellor.id)
    assert red.conclusion == interviews.HELD_AS_ASSESSMENT
    assert (red.level_decision, red.level_before, red.level_after) == ("confirm", 3, 3)
    assert red.on_time()
    assert yellow.state == InterviewState.TO_ASSIGN  # another student's
    # On the warning's timeline once: the assessment, not an interview beside it.
    kinds = _kinds(world.mathematician)
    assert (kinds.count("assessment"), kinds.count("interview_held")) == (1, 0)
    (row,) = _held_rows(red)
    assert row.actor_id == world.counsellor.id

    # Its reminder, due the day before, and the director's overdue note never come.
    assert interviews.reminder_sweep(db.session, clock.now()) == 0
    clock.set_now(red.due_at + timedelta(hours=1))
    assert interviews.escalation_sweep(db.session, clock.now()) == 0
    assert not [n for n in _notes(world.director) if n.digest_key]
    total, _ = interviews.coverage_by_department(db.session, made, clock.now())
    assert (total.interviewed, total.on_time, total.overdue) == (1, 1, 0)
    assert total.conclusions == {interviews.HELD_AS_ASSESSMENT: 1}

    sign_in(client, world.director)
    overdue = client.get("/interviews?overdue=1").get_data(as_text=True)
    assert "Zhao Min" not in overdue
    listing = client.get("/interviews").get_data(as_text=True)
    assert listing.count(HELD_NOTE) == 1
    row_html = listing.split("Zhao Min", 1)[1].split("</tr>", 1)[0]
    assert HELD_NOTE in row_html
    assert world.counsellor.name in row_html


def test_the_students_file_shows_it_held_once_and_the_timeline_the_assessment_once(
    client, world, listed
):
    _made, _yellow, red = listed
    clock.advance(timedelta(hours=3))
    w.assess(world.counsellor, world.mathematician)
    sign_in(client, world.counsellor)
    page = client.get(f"/casework/students/{world.mathematician.id}").get_data(as_text=True)
    section = page.split("Post-screening interviews", 1)[1]
    assert section.count("Held as the professional assessment") == 1
    assert "Post-screening interview held" not in page  # no second line on the timeline
    detail = client.get(f"/interviews/{red.id}").get_data(as_text=True)
    assert (
        f"{world.counsellor.name} recorded the professional assessment on the student's "
        "warning; what it concluded is on the warning's timeline." in detail
    )


def test_an_interview_another_counsellor_was_to_hold_is_held_and_shows_the_assessor(
    client, campus, world, listed
):
    """sc02 had invited Zhao Min for tomorrow; sc01 assessed her red today. The interview is
    held, sc01 is shown as its interviewer (she met the student), sc02 is told, and the student
    is told the time she was given no longer stands."""
    _made, _yellow, red = listed
    sc02 = w.invited_by_sc02(campus, world, red, clock.now() + timedelta(days=1))
    clock.advance(timedelta(hours=2))
    w.assess(world.counsellor, world.mathematician)

    assert (red.state, red.interviewer_id) == (InterviewState.DONE, world.counsellor.id)
    assert (red.scheduled_for, red.place) == (None, None)
    assert red.invited_at is not None  # she was invited: that stays on record
    (told,) = [n for n in _notes(sc02) if n.text == interviews.HELD_ELSEWHERE_TEXT]
    assert told.link == f"/warnings/students/{world.mathematician.id}"
    student_notes = [n.text for n in _notes(world.mathematician.user)]
    assert interviews.INVITATION_WITHDRAWN_TEXT in student_notes
    (row,) = _held_rows(red)
    assert row.detail == f"warning={row.detail.split()[0][8:]} interviewer={sc02.id}"

    sign_in(client, world.mathematician.user)
    mine = client.get("/interviews/mine").get_data(as_text=True)
    assert "Room 203" not in mine
    sign_in(client, sc02)
    assert "Zhao Min" not in client.get("/interviews?mine=1&state=open").get_data(as_text=True)


def test_an_interview_already_held_is_left_as_it_was(world, listed):
    _made, _yellow, red = listed
    interviews.assign(db.session, world.director, [red], world.counsellor, clock.now())
    interviews.schedule(
        db.session,
        world.counsellor,
        red,
        red.version,
        clock.now(),
        when=clock.now() + timedelta(hours=2),
        place="Room 203",
    )
    clock.advance(timedelta(hours=3))
    interviews.record_outcome(
        db.session,
        world.counsellor,
        red,
        red.version,
        clock.now(),
        interviews.Outcome(attendance="attended", conclusion="watch"),
    )
    held = (red.held_at, red.conclusion, red.version, red.place)
    clock.advance(timedelta(hours=1))
    w.assess(world.counsellor, world.mathematician)
    assert (red.held_at, red.conclusion, red.version, red.place) == held
    assert _held_rows(red) == []


def test_a_yellow_results_interview_is_held_when_the_centre_assesses_that_warning(
    client, world, listed
):
    """The rule is the warning's, not the colour: the centre's assessment of the yellow her
    result raised met and assessed her too. The department counsellor who had the interview
    is told, and her note opens the student's warning page, where the assessment is (the
    interview, now the assessor's, is no longer among the entries she may open)."""
    _made, yellow, _red = listed
    interviews.assign(db.session, world.director, [yellow], world.computing_counsellor, clock.now())
    clock.advance(timedelta(days=2))
    w.assess(world.counsellor, world.student)
    assert (yellow.state, yellow.conclusion) == (
        InterviewState.DONE,
        interviews.HELD_AS_ASSESSMENT,
    )
    assert yellow.level_after == Level.YELLOW
    (told,) = [
        n for n in _notes(world.computing_counsellor) if n.text == interviews.HELD_ELSEWHERE_TEXT
    ]
    sign_in(client, world.computing_counsellor)
    assert client.get(told.link).status_code == 200


def test_the_assessment_of_a_later_warning_leaves_an_interview_it_did_not_list(world, listed):
    """Wang Fang's yellow, which her result raised, was closed; a counsellor's judgement opened a
    red a month later. Its assessment is about that red, not about the screening: the interview
    stays on the list."""
    _made, yellow, _red = listed
    first = warnings.open_warning(db.session, world.student.id)
    actions.close(
        db.session,
        world.counsellor,
        first,
        first.version,
        clock.now(),
        outcome="Doing well after two contacts, closed.",
        review_date=date(2026, 12, 1),
    )
    clock.advance(timedelta(days=30))
    w.judged_red(world, world.student)
    w.assess(world.counsellor, world.student)
    assert yellow.state == InterviewState.TO_ASSIGN
    assert _held_rows(yellow) == []


def test_a_safety_answer_kept_in_a_draft_is_held_by_the_assessment(world):
    made = w.campaign(world, "phq9")
    intake.save_draft(
        db.session,
        w.assignment(made, world.student),
        load_instrument("phq9"),
        {9: 2},
        locale="en",
        now=clock.now(),
    )
    db.session.commit()
    (entry,) = w.entries(made)
    assert entry.due_from_warning
    clock.advance(timedelta(hours=5))
    w.assess(world.counsellor, world.student)
    assert entry.state == InterviewState.DONE
    assert entry.held_at == clock.now()


def test_a_red_result_after_the_assessment_is_due_as_the_campaigns_interviews_are(world):
    """Before, a red result arriving after the centre had assessed the red was listed as due at
    that assessment's deadline, already past: overdue from its first minute. It is due when the
    campaign's other interviews are, and the next assessment of the warning holds it."""
    w.judged_red(world, world.student)
    clock.advance(timedelta(hours=2))
    w.assess(world.counsellor, world.student)
    clock.advance(timedelta(days=3))
    made = w.campaign(world, "phq9")
    w.submit(made, world.student, "phq9", w.phq9_total(22))
    (entry,) = w.entries(made)
    assert not entry.due_from_warning
    assert entry.due_at == made.closes_at + timedelta(days=14)
    assert entry.state == InterviewState.TO_ASSIGN  # the assessment came before the result
    clock.advance(timedelta(days=1))
    w.assess(world.counsellor, world.student)
    assert entry.state == InterviewState.DONE
