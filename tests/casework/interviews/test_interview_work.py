"""Working the interview list: who sees it, assignment, the invitation, the outcome and its level
decision, reminders and escalation, and the coverage figures."""

from __future__ import annotations

import html
import re
from datetime import date
from datetime import datetime
from datetime import timedelta

import lxml.html
import pytest
from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from campus import clock
from campus import notifications
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Caseload
from campus.models import Role
from campus.notifications import Notification
from casework import interviews
from casework.models import InterviewEntry
from casework.models import InterviewState
from tests.casework import interview_world as w
from tests.conftest import sign_in
from tests.pages import without_tokens
from tests.pdf import needs_poppler
from tests.pdf import pdf_text
from warning import actions
from warning import handover
from warning import services as warnings
from warning.models import EarlyWarning
from warning.models import WarningEvent
from warning.policy import Level


def _notes(user) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)))


def _assign(client, made, entry_ids, interviewer, department=""):
    return client.post(
        "/interviews/assign",
        data={
            "campaign": made.id,
            "entries": entry_ids,
            "department": department,
            "interviewer": interviewer.id,
        },
    )


def test_the_director_sees_the_whole_list_and_the_read_is_audited(client, world, listed):
    made, yellow, red = listed
    sign_in(client, world.director)
    page = client.get(f"/interviews?campaign={made.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Wang Fang" in html
    assert "Zhao Min" in html
    assert "PHQ-9 result at yellow level" in html
    audited = set(
        db.session.scalars(
            select(AuditEvent.student_id).where(AuditEvent.action == "interview_list_read")
        )
    )
    assert audited == {world.student.id, world.mathematician.id}


def test_the_list_says_each_deadline_as_a_day_to_plan_by_then_as_today(client, world, listed):
    """Before, the deadline column read "2026-10-05 10:00"."""
    made, yellow, red = listed  # three weeks from Monday 14 September, 10:00 in Shanghai
    world.director.locale = "zh_CN"
    db.session.commit()
    sign_in(client, world.director)
    assert "<td>10月5日 周一 10:00" in client.get(f"/interviews?campaign={made.id}").text
    clock.advance(timedelta(days=21, hours=-3))  # 07:00 on the day
    sign_in(client, world.director)
    assert "<td>今天 10:00" in client.get(f"/interviews?campaign={made.id}").text
    assert "<dd>今天 10:00" in client.get(f"/interviews/{yellow.id}").text


def test_on_a_phone_each_interview_reads_as_a_card_with_every_part_named(client, world, listed):
    """At 390 px the list scrolled sideways past its deadline and state columns. A phone shows
    `table.stacked` rows as cards (static/app.css): the tick-box and the student head each, then
    every cell on its own line after its column's name; the deadline says whose it is."""
    made, yellow, red = listed
    interviews.assign(db.session, world.director, [yellow], world.computing_counsellor, clock.now())
    for reader, head in ((world.director, ["entries"]), (world.computing_counsellor, [])):
        sign_in(client, reader)
        page = lxml.html.fromstring(client.get(f"/interviews?campaign={made.id}").data)
        (table,) = page.xpath("//table[contains(@class, 'interview-list')]")
        assert "stacked" in table.classes
        # Nothing to tick: the student alone heads the card.
        assert ("one-head" in table.classes) is (not head)
        row = next(r for r in table.xpath("./tbody/tr") if "Wang Fang" in r.text_content())
        cells = row.xpath("./td")
        assert [c.get("name") for c in cells[0].xpath(".//input")] == head
        named = cells[len(head) + 1 :]
        labels = [c.get("data-label") for c in named]
        assert labels == ["Reasons", "Tier", None, "Interviewer", "State"]
        assert "within 14 days of the screening" in named[2].text_content()


@needs_poppler
def test_the_printed_file_writes_the_interviews_deadline_as_a_document_does(client, world, listed):
    """It read 2026-10-05 in the PDF while every other date of a document reads 2026年10月5日."""
    made, yellow, red = listed  # due three weeks from Monday 14 September, 10:00 in Shanghai
    world.director.locale = "zh_CN"
    db.session.commit()
    sign_in(client, world.director)
    printed = pdf_text(client.get(f"/casework/students/{world.student.id}/file.pdf").data)
    assert "2026年10月5日" in printed
    assert "2026-10-05" not in printed


def _row(html: str, name: str) -> str:
    (row,) = [r.split("</tr>")[0] for r in html.split("<tr")[1:] if name in r]
    return row


def test_a_campaigns_deadline_says_whose_it_is_as_a_red_deadline_does(client, world, listed):
    """The yellow's interview, due two weeks after the screening closes, read as a bare date
    beside the red's 红色预警时限: later than the yellow warning's own 72-hour contact, with
    nothing to say why."""
    made, yellow, red = listed
    sign_in(client, world.director)
    html = client.get(f"/interviews?campaign={made.id}").text
    campaigns = "within 14 days of the screening"
    assert campaigns in _row(html, "Wang Fang")
    assert "red deadline" not in _row(html, "Wang Fang")
    assert "red deadline" in _row(html, "Zhao Min")
    assert campaigns not in _row(html, "Zhao Min")
    assert campaigns in client.get(f"/interviews/{yellow.id}").text


def test_a_campaigns_deadline_is_said_from_the_rule_set_it_was_judged_by(
    client, world, tmp_path, app, monkeypatch
):
    (tmp_path / "XJU.yaml").write_text(
        'version: "xju-2026"\ndeadline_days: 10\nrules:\n'
        "  - {name: any_yellow, when: {level: yellow}, tier: department}\n",
        encoding="utf-8",
    )
    monkeypatch.setitem(app.config, "INTERVIEW_RULES_DIR", str(tmp_path))
    made = w.campaign(world, "phq9")
    w.submit(made, world.student, "phq9", w.phq9_total(12))
    (entry,) = w.entries(made)
    sign_in(client, world.director)
    html = client.get(f"/interviews?campaign={made.id}").text
    assert "within 10 days of the screening" in _row(html, "Wang Fang")
    assert "within 10 days" in client.get(f"/interviews/{entry.id}").text


def test_a_department_counsellor_sees_only_entries_assigned_to_them(client, world, listed):
    made, yellow, red = listed
    sign_in(client, world.computing_counsellor)
    assert "Wang Fang" not in client.get("/interviews").get_data(as_text=True)
    interviews.assign(db.session, world.director, [yellow], world.computing_counsellor, clock.now())
    html = client.get("/interviews").get_data(as_text=True)
    assert "Wang Fang" in html
    assert "Zhao Min" not in html


def test_a_forged_entry_id_is_a_404_and_leaves_an_audit_row(client, world, listed):
    made, yellow, red = listed
    interviews.assign(db.session, world.director, [yellow], world.computing_counsellor, clock.now())
    sign_in(client, world.maths_counsellor)
    assert client.get(f"/interviews/{yellow.id}").status_code == 404
    assert client.get("/interviews/99999").status_code == 404
    denied = db.session.scalars(
        select(AuditEvent.record_id).where(
            AuditEvent.action == "interview_read", AuditEvent.outcome == "denied"
        )
    ).all()
    assert sorted(denied) == sorted([str(yellow.id), "99999"])


@pytest.mark.parametrize("role", ["student", "admin"])
def test_students_and_administrators_cannot_open_the_list(client, world, listed, role):
    sign_in(client, world.student.user if role == "student" else world.admin)
    assert client.get("/interviews").status_code == 403


def test_the_director_assigns_a_department_in_bulk_and_the_interviewer_is_told(
    client, world, listed
):
    made, yellow, red = listed
    sign_in(client, world.director)
    response = _assign(client, made, [], world.counsellor, department=str(world.maths.id))
    assert response.status_code == 302
    db.session.expire_all()
    assert red.interviewer_id == world.counsellor.id
    assert red.state == InterviewState.ASSIGNED
    assert yellow.interviewer_id is None  # another department
    assert [n.text for n in _notes(world.counsellor) if "interview" in n.text] == [
        "You have post-screening interviews to hold: see the interview list."
    ]


def test_the_school_counsellor_given_an_interview_opens_the_students_file_until_her_role_ends(
    client, campus, world, listed
):
    """Before: the counsellor who held Zhao Min's interview read "not on your caseload" on her
    file, its screening results hidden, and needed a break-glass to see the scores behind it."""
    made, yellow, red = listed
    sc02 = campus.staff(world.institution, Role.SCHOOL_COUNSELLOR, login="sc02")
    campus.commit()
    sign_in(client, sc02)
    file_page = f"/casework/students/{world.mathematician.id}"
    assert "Open the full record with a logged reason" in client.get(file_page).text
    sign_in(client, world.director)
    assert _assign(client, made, [red.id], sc02).status_code == 302
    assert _assign(client, made, [yellow.id], world.computing_counsellor).status_code == 302
    sign_in(client, sc02)
    page = client.get(file_page).text
    assert "Not shown to you" not in page
    screening = page.split('id="screening"', 1)[1].split("</section>", 1)[0]
    assert "PHQ-9" in screening
    (joined,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "caseload_joined")
    ).all()
    assert (joined.actor_id, joined.student_id, joined.record_type) == (
        world.director.id,
        world.mathematician.id,
        "interview",
    )
    # A department counsellor has no caseload: nothing more opens to her.
    assert set(db.session.execute(select(Caseload.counsellor_id, Caseload.student_id))) == {
        (sc02.id, world.mathematician.id)
    }
    (role,) = [a for a in sc02.roles if a.role == Role.SCHOOL_COUNSELLOR]
    role.ends_at = clock.now()
    db.session.commit()
    assert handover.end_caseloads_sweep(db.session, clock.now() + timedelta(minutes=1)) == 1


def test_a_school_tier_entry_cannot_go_to_a_department_counsellor(client, world, listed):
    made, yellow, red = listed
    sign_in(client, world.director)
    response = _assign(client, made, [yellow.id, red.id], world.maths_counsellor)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing was assigned" in page
    db.session.expire_all()
    assert yellow.interviewer_id is None
    assert red.interviewer_id is None


def _flashes(client, response) -> list[str]:
    page = client.get(response.headers["Location"]).text
    return re.findall(r'<p class="flash error"[^>]*>([^<]*)</p>', page)


def test_assign_with_nobody_ticked_says_to_tick_someone_and_assigns_nobody(client, world, listed):
    made, yellow, red = listed
    world.director.locale = "zh_CN"
    db.session.commit()
    sign_in(client, world.director)
    response = _assign(client, made, [], world.counsellor)
    assert _flashes(client, response) == ["未分配任何学生：请至少勾选名单中的一名学生。"]
    response = client.post("/interviews/assign", data={"campaign": made.id, "interviewer": ""})
    assert _flashes(client, response) == ["未分配任何学生：请勾选学生并选择约谈人。"]
    db.session.expire_all()
    assert yellow.interviewer_id is None
    assert red.interviewer_id is None


def test_a_department_with_nobody_left_to_assign_says_so_not_tick_someone(client, world, listed):
    made, yellow, red = listed
    sign_in(client, world.director)
    _assign(client, made, [], world.counsellor, department=str(world.maths.id))
    response = _assign(client, made, [], world.counsellor, department=str(world.maths.id))
    assert _flashes(client, response) == [
        "Nothing was assigned: nobody of that department is still waiting for an interviewer."
    ]


def test_a_forged_entry_in_a_bulk_assignment_is_a_404(client, world, listed):
    made, yellow, red = listed
    sign_in(client, world.director)
    assert _assign(client, made, [yellow.id, 99999], world.counsellor).status_code == 404
    db.session.expire_all()
    assert yellow.interviewer_id is None


def _invite(client, entry, when="2026-09-16T10:00", place="Room 203, Student Centre"):
    return client.post(
        f"/interviews/{entry.id}/schedule",
        data={"version": entry.version, "when": when, "place": place},
    )


def test_the_student_is_invited_in_neutral_words_and_sees_time_and_place(client, world, listed):
    made, yellow, red = listed
    world.student.institution.on_duty_phone = "0731-8888-0000"
    interviews.assign(db.session, world.director, [yellow], world.counsellor, clock.now())
    sign_in(client, world.counsellor)
    assert _invite(client, yellow).status_code == 302
    (note,) = _notes(world.student.user)
    assert note.text == (
        "The mental health centre invites you to a conversation. See the time and place."
    )
    assert note.link == "/interviews/mine"
    client.post("/logout")
    sign_in(client, world.student.user)
    html = client.get("/interviews/mine").get_data(as_text=True)
    assert "Room 203, Student Centre" in html
    # Shown in the institution's zone, as typed, in words as she plans by it.
    assert "Wed 16 Sep 10:00" in html
    # Told to call the centre if the time does not suit, she is given the number to call.
    assert 'href="tel:0731-8888-0000"' in html
    for never in ("yellow", "PHQ", "level", "score"):
        assert never not in without_tokens(html)


def test_an_invitation_on_a_campus_without_a_number_says_whom_to_tell_with_no_blank_number(
    client, world, listed
):
    made, yellow, red = listed
    world.student.institution.on_duty_phone = None
    interviews.assign(db.session, world.director, [yellow], world.counsellor, clock.now())
    sign_in(client, world.counsellor)
    assert _invite(client, yellow).status_code == 302
    client.post("/logout")
    sign_in(client, world.student.user)
    html = client.get("/interviews/mine").get_data(as_text=True)
    assert "tell the mental health centre or your department counsellor" in html
    assert 'href="tel:' not in html.split("<main", 1)[1].split("</main>", 1)[0]


def test_moving_the_invitation_tells_the_student_again(client, world, listed):
    made, yellow, red = listed
    interviews.assign(db.session, world.director, [yellow], world.counsellor, clock.now())
    sign_in(client, world.counsellor)
    _invite(client, yellow)
    db.session.refresh(yellow)
    assert _invite(client, yellow, place="Room 105").status_code == 302
    texts = [n.text for n in _notes(world.student.user)]
    assert texts[-1].startswith("The time or place of your conversation")
    db.session.refresh(yellow)
    assert yellow.place == "Room 105"


@pytest.mark.parametrize(
    ("when", "place"), [("2026-09-13T10:00", "Room 1"), ("2026-09-16T10:00", " "), ("", "Room 1")]
)
def test_a_past_time_or_no_place_is_refused_and_nothing_is_sent(client, world, listed, when, place):
    made, yellow, red = listed
    interviews.assign(db.session, world.director, [yellow], world.counsellor, clock.now())
    sign_in(client, world.counsellor)
    assert _invite(client, yellow, when=when, place=place).status_code == 422
    assert _notes(world.student.user) == []
    db.session.refresh(yellow)
    assert yellow.state == InterviewState.ASSIGNED


def _scheduled(world, entry, interviewer=None):
    interviews.assign(
        db.session, world.director, [entry], interviewer or world.counsellor, clock.now()
    )
    interviews.schedule(
        db.session,
        interviewer or world.counsellor,
        entry,
        entry.version,
        clock.now(),
        when=clock.now() + timedelta(days=1),
        place="Room 203",
    )


def _outcome(client, entry, **fields):
    data = {"version": entry.version, "attendance": "attended"} | fields
    return client.post(f"/interviews/{entry.id}/outcome", data=data)


def test_a_follow_up_outcome_lowers_yellow_to_blue_with_its_reason(client, world, listed):
    made, yellow, red = listed
    _scheduled(world, yellow)
    clock.advance(timedelta(days=1))
    sign_in(client, world.counsellor)
    response = _outcome(
        client,
        yellow,
        conclusion="follow_up",
        level_decision="lower",
        level="1",
        reason="Low mood after exams; sleeping well again, supportive roommates.",
        next_step="follow_up",
        follow_up_on="2026-09-25",
    )
    assert response.status_code == 302
    db.session.expire_all()
    warning = warnings.open_warning(db.session, world.student.id)
    assert warning.level == Level.BLUE
    event = db.session.scalars(
        select(WarningEvent).where(
            WarningEvent.warning_id == warning.id, WarningEvent.kind == "override"
        )
    ).one()
    assert (event.from_level, event.to_level) == (Level.YELLOW, Level.BLUE)
    assert event.note.startswith("Low mood after exams")
    assert yellow.state == InterviewState.DONE
    assert yellow.on_time()
    assert (yellow.level_before, yellow.level_after) == (Level.YELLOW, Level.BLUE)
    assert yellow.follow_up_on == date(2026, 9, 25)


def test_a_follow_up_too_far_off_is_refused_in_chinese_under_its_date(client, world, listed):
    made, yellow, red = listed
    _scheduled(world, yellow)
    clock.advance(timedelta(days=1))
    world.counsellor.locale = "zh_CN"
    db.session.commit()
    sign_in(client, world.counsellor)
    response = _outcome(
        client, yellow, conclusion="follow_up", next_step="follow_up", follow_up_on="2027-09-25"
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    said = re.search(r'id="follow_up_on-err"[^>]*>([^<]*)<', page)
    assert said
    assert re.fullmatch(r"请选择 \d+ 天内的随访日期（该级别的随访周期）。", said.group(1))
    db.session.expire_all()
    assert yellow.state != InterviewState.DONE


def test_an_interview_held_is_the_students_last_contact_on_her_warnings_timeline(
    client, world, listed
):
    made, yellow, red = listed
    _scheduled(world, yellow)
    clock.advance(timedelta(days=1))
    sign_in(client, world.counsellor)
    assert _outcome(client, yellow, conclusion="watch").status_code == 302
    db.session.expire_all()
    warning = warnings.open_warning(db.session, world.student.id)
    assert warning.last_contact_at == yellow.held_at
    held = db.session.scalars(
        select(WarningEvent).where(
            WarningEvent.warning_id == warning.id, WarningEvent.kind == "interview_held"
        )
    ).one()
    assert held.at == yellow.held_at
    page = client.get(f"/warnings/students/{world.student.id}").get_data(as_text=True)
    assert "Post-screening interview held" in page


def test_lowering_without_a_reason_is_refused_and_writes_nothing(client, world, listed):
    made, yellow, red = listed
    _scheduled(world, yellow)
    clock.advance(timedelta(days=1))
    sign_in(client, world.counsellor)
    response = _outcome(
        client, yellow, conclusion="watch", level_decision="lower", level="1", reason="ok"
    )
    assert response.status_code == 422
    assert "reason of at least 10 characters" in response.get_data(as_text=True)
    db.session.expire_all()
    assert warnings.open_warning(db.session, world.student.id).level == Level.YELLOW
    assert yellow.state == InterviewState.SCHEDULED
    assert yellow.conclusion is None


def test_a_missing_reason_is_said_under_the_reason_and_the_invitation_keeps_its_time_and_place(
    client, world, listed
):
    """Before: the refusal stood under "Did the student come?" and the "Change the time or
    place" boxes came back empty."""
    made, yellow, red = listed
    _scheduled(world, yellow)  # 15 Sep 10:00 (Beijing), Room 203
    clock.advance(timedelta(days=1, hours=1))
    world.counsellor.locale = "zh_CN"
    db.session.commit()
    sign_in(client, world.counsellor)
    response = _outcome(client, yellow, conclusion="watch", level_decision="lower", level="1")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    said = re.search(r'id="reason-err"[^>]*>([^<]*)<', page)
    assert said
    assert said.group(1) == "人工调整需要填写至少 10 个字符的原因。"
    assert 'id="attendance-err"' not in page
    assert re.search(r'<input[^>]*id="when"[^>]*value="2026-09-15T10:00"', page)
    assert re.search(r'<input[^>]*id="place"[^>]*value="Room 203"', page)


def test_a_department_counsellor_may_raise_but_not_lower(client, world, listed):
    made, yellow, red = listed
    _scheduled(world, yellow, world.computing_counsellor)
    clock.advance(timedelta(days=1))
    sign_in(client, world.computing_counsellor)
    reason = "Talked about hopelessness at length; needs the centre now."
    lowered = _outcome(
        client, yellow, conclusion="watch", level_decision="lower", level="1", reason=reason
    )
    assert lowered.status_code == 422
    db.session.refresh(yellow)
    raised = _outcome(
        client,
        yellow,
        conclusion="refer",
        level_decision="raise",
        level="3",
        reason=reason,
        next_step="refer",
    )
    assert raised.status_code == 302  # on to the referral page (a school counsellor's)
    db.session.expire_all()
    assert warnings.open_warning(db.session, world.student.id).level == Level.RED


def test_a_no_show_goes_back_to_be_rescheduled_and_counts(client, world, listed):
    made, yellow, red = listed
    _scheduled(world, yellow)
    clock.advance(timedelta(days=1))
    sign_in(client, world.counsellor)
    assert _outcome(client, yellow, attendance="no_show").status_code == 302
    db.session.expire_all()
    assert yellow.state == InterviewState.ASSIGNED
    assert yellow.no_shows == 1
    total, _departments = interviews.coverage_by_department(db.session, made, clock.now())
    assert total.no_shows == 1
    assert total.interviewed == 0


def test_an_outcome_before_the_invited_time_is_refused_saying_when(client, world, listed):
    """Before: invited for tomorrow 10:00, the student was recorded as come (held "on time" at
    the moment it was typed) or as a no-show at once, and her invitation vanished from her page."""
    made, yellow, red = listed
    _scheduled(world, yellow)  # tomorrow 10:00 (Beijing)
    sign_in(client, world.counsellor)
    came = _outcome(client, yellow, conclusion="watch", level_decision="lower", level="1")
    assert came.status_code == 422
    assert "The interview is set for tomorrow 10:00: its outcome can be recorded from then." in (
        html.unescape(came.get_data(as_text=True))
    )
    missed = _outcome(client, yellow, attendance="no_show")
    assert missed.status_code == 422
    assert "The student is invited for tomorrow 10:00: whether they came can be recorded" in (
        html.unescape(missed.get_data(as_text=True))
    )
    db.session.expire_all()
    assert (yellow.state, yellow.held_at, yellow.no_shows) == (InterviewState.SCHEDULED, None, 0)
    assert warnings.open_warning(db.session, world.student.id).level == Level.YELLOW
    client.post("/logout")
    sign_in(client, world.student.user)
    assert "Room 203" in client.get("/interviews/mine").get_data(as_text=True)


def test_an_interview_written_up_later_is_held_at_its_invited_time_and_on_time(
    client, world, listed
):
    made, yellow, red = listed
    _scheduled(world, yellow)
    invited_for = yellow.scheduled_for
    clock.set_now(yellow.due_at + timedelta(days=2))  # written up after the deadline
    sign_in(client, world.counsellor)
    assert _outcome(client, yellow, conclusion="watch").status_code == 302
    db.session.expire_all()
    assert (yellow.held_at, yellow.closed_at) == (invited_for, clock.now())
    assert yellow.on_time()
    total, _departments = interviews.coverage_by_department(db.session, made, clock.now())
    assert (total.interviewed, total.on_time) == (1, 1)
    warning = warnings.open_warning(db.session, world.student.id)
    assert warning.last_contact_at == invited_for


@pytest.mark.parametrize(
    ("held_at", "said"),
    [
        ("2026-09-14T12:00", "The time it took place cannot be in the future."),
        ("2026-09-14T09:30", "It cannot have taken place before the invitation was sent"),
    ],
)
def test_a_time_she_came_by_in_the_future_or_before_the_invitation_is_refused(
    client, world, listed, held_at, said
):
    made, yellow, red = listed
    _scheduled(world, yellow)  # invited at 10:00 today for tomorrow 10:00 (Beijing)
    clock.advance(timedelta(hours=1))  # 11:00
    sign_in(client, world.counsellor)
    response = _outcome(client, yellow, conclusion="watch", held_at=held_at)
    assert response.status_code == 422
    error = re.search(r'id="held_at-err"[^>]*>([^<]*)<', response.get_data(as_text=True))
    assert error
    assert html.unescape(error.group(1)).startswith(said)
    db.session.expire_all()
    assert yellow.state == InterviewState.SCHEDULED


def test_a_student_who_came_by_early_is_held_at_the_time_given(client, world, listed):
    made, yellow, red = listed
    _scheduled(world, yellow)
    clock.advance(timedelta(hours=1))  # 11:00, the invitation is for tomorrow 10:00
    sign_in(client, world.counsellor)
    assert _outcome(client, yellow, conclusion="watch", held_at="2026-09-14T10:40").status_code == (
        302
    )
    db.session.expire_all()
    assert yellow.state == InterviewState.DONE
    assert yellow.held_at == datetime(2026, 9, 14, 2, 40)
    # The entry says it was held before the invited time, and "on time" means by its deadline.
    page = client.get(f"/interviews/{yellow.id}").get_data(as_text=True)
    assert "earlier than invited:" in page
    assert "within its deadline" in page


def test_a_stale_form_is_refused_with_409(client, world, listed):
    made, yellow, red = listed
    _scheduled(world, yellow)
    sign_in(client, world.counsellor)
    stale = {"version": yellow.version - 1, "attendance": "no_show"}
    assert client.post(f"/interviews/{yellow.id}/outcome", data=stale).status_code == 409


def test_the_interviewer_is_reminded_before_the_deadline_and_the_director_told_when_missed(
    world, listed
):
    made, yellow, red = listed
    interviews.assign(db.session, world.director, [yellow], world.counsellor, clock.now())
    # Zhao Min's red is interviewed with its professional assessment, due tomorrow, and nobody
    # was assigned to it: the director hears of it at once. Wang Fang's has weeks to go.
    assert red.due_from_warning
    assert interviews.reminder_sweep(db.session, clock.now()) == 1
    (director_note,) = [n for n in _notes(world.director) if n.digest_key]
    assert director_note.detail["items"][0]["params"]["student"] == "Zhao Min"
    clock.set_now(yellow.due_at - timedelta(days=2))
    assert interviews.reminder_sweep(db.session, clock.now()) == 1  # Wang Fang's
    assert interviews.reminder_sweep(db.session, clock.now()) == 0  # once
    (reminder,) = [n for n in _notes(world.counsellor) if n.digest_key]
    assert reminder.text == "Post-screening interviews are due soon."
    assert [i["params"]["student"] for i in reminder.detail["items"]] == ["Wang Fang"]
    clock.set_now(yellow.due_at + timedelta(minutes=1))
    assert interviews.escalation_sweep(db.session, clock.now()) == 2
    assert interviews.escalation_sweep(db.session, clock.now()) == 0
    overdue = [n for n in _notes(world.director) if n.text.endswith("missed their deadline.")]
    assert len(overdue) == 1  # one digest for both
    assert len(overdue[0].detail["items"]) == 2


def test_coverage_counts_per_department_and_shows_on_the_campaign_page(client, world, listed):
    made, yellow, red = listed
    _scheduled(world, yellow)
    clock.advance(timedelta(days=1))
    interviews.record_outcome(
        db.session,
        world.counsellor,
        yellow,
        yellow.version,
        clock.now(),
        interviews.Outcome(attendance="attended", conclusion="watch"),
    )
    clock.set_now(red.due_at + timedelta(hours=1))
    total, by_department = interviews.coverage_by_department(db.session, made, clock.now())
    assert (total.to_interview, total.interviewed, total.on_time, total.overdue) == (2, 1, 1, 1)
    assert total.conclusions == {"watch": 1}
    figures = dict(by_department)
    assert figures["Computing"].interviewed == 1
    assert figures["Mathematics"].overdue == 1
    sign_in(client, world.counsellor)
    html = client.get(f"/screening/campaigns/{made.id}").get_data(as_text=True)
    assert "Post-screening interviews" in html
    assert "1 of 2 students on the interview list interviewed (50.0%), 1 on time." in html


def test_the_student_file_gives_an_interviews_deadline_in_words(client, world, listed):
    made, yellow, red = listed
    clock.set_now(yellow.due_at - timedelta(hours=2))
    sign_in(client, world.director)
    html = client.get(f"/casework/students/{yellow.student_id}").get_data(as_text=True)
    section = html.split("Post-screening interviews", 1)[1]
    due = clock.to_local(yellow.due_at, clock.institution_zone(world.institution))
    assert f"today {due:%H:%M}" in section or f"tomorrow {due:%H:%M}" in section


def test_the_entry_page_shows_the_reasons_and_is_audited(client, world, listed):
    made, yellow, red = listed
    sign_in(client, world.counsellor)
    page = client.get(f"/interviews/{yellow.id}")
    assert page.status_code == 200
    assert "PHQ-9 result at yellow level" in page.get_data(as_text=True)
    assert db.session.scalars(
        select(AuditEvent.student_id).where(
            AuditEvent.action == "interview_read", AuditEvent.outcome == "ok"
        )
    ).all() == [world.student.id]


def test_the_counsellor_who_takes_up_the_case_holds_its_interview(world, listed):
    """Before: sc01 took up Zhao Min's red, and the interview list still read "to assign",
    so the same case had to be handed out twice."""
    _made, yellow, red = listed
    warning = db.session.scalar(
        select(EarlyWarning).where(EarlyWarning.student_id == world.mathematician.id)
    )
    assert interviews.case_counsellor_sweep(db.session, clock.now()) == 0  # nobody's case yet
    actions.acknowledge(db.session, world.counsellor, warning, warning.version, clock.now())
    assert interviews.case_counsellor_sweep(db.session, clock.now()) == 1
    db.session.expire_all()
    assert (red.state, red.interviewer_id) == (InterviewState.ASSIGNED, world.counsellor.id)
    assert (yellow.state, yellow.interviewer_id) == (InterviewState.TO_ASSIGN, None)
    assert any("post-screening interviews to hold" in n.text for n in _notes(world.counsellor))
    assert interviews.case_counsellor_sweep(db.session, clock.now()) == 0


def test_an_entry_done_is_not_reassigned(world, listed):
    made, yellow, red = listed
    _scheduled(world, yellow)
    interviews.record_outcome(
        db.session,
        world.counsellor,
        yellow,
        yellow.version,
        clock.now(),
        interviews.Outcome(attendance="unreachable"),
    )
    with pytest.raises(interviews.InterviewError):
        interviews.assign(db.session, world.director, [yellow], world.counsellor, clock.now())
    assert db.session.get(InterviewEntry, yellow.id).state == InterviewState.UNREACHABLE


def test_the_oversight_kpi_counts_interviews_per_department(client, world, listed):
    from datetime import date as day
    from datetime import timedelta as delta

    from oversight import kpis

    made, yellow, red = listed
    _scheduled(world, yellow)
    clock.advance(timedelta(days=1))
    interviews.record_outcome(
        db.session,
        world.counsellor,
        yellow,
        yellow.version,
        clock.now(),
        interviews.Outcome(attendance="attended", conclusion="no_concern"),
    )
    view = kpis.View(
        (world.institution.id,),
        day(2026, 9, 1),
        day(2026, 9, 1),
        "department",
        None,
        delta(hours=8),
    )
    out = kpis.compute(db.session, kpis.BY_KEY["interviews"], view, clock.now())
    figures = {r["department"]: r for r in out.to_dict("records")}
    assert (figures["Computing"]["to_interview"], figures["Computing"]["interviewed"]) == (1, 1)
    assert figures["Computing"]["on_time_rate"] == 1.0
    assert (figures["Mathematics"]["to_interview"], figures["Mathematics"]["interviewed"]) == (1, 0)
    sign_in(client, world.director)
    html = client.get("/oversight/?month_from=2026-09&month_to=2026-09").get_data(as_text=True)
    assert "Post-screening interview coverage" in html


@pytest.mark.parametrize(
    "forged",
    [
        {"department": "abc"},
        {"entries": "abc"},
        {"interviewer": "abc"},
        {"interviewer": "99999"},
    ],
)
def test_a_forged_assignment_form_assigns_nobody_and_says_why(client, world, listed, forged):
    made, yellow, red = listed
    sign_in(client, world.director)
    data = {"campaign": made.id, "interviewer": world.counsellor.id, "department": ""} | forged
    response = client.post("/interviews/assign", data=data)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing was assigned" in page
    db.session.expire_all()
    assert yellow.interviewer_id is None
    assert red.interviewer_id is None


def test_the_home_pages_count_of_interviews_to_hold_opens_on_exactly_those(client, world, listed):
    """The home page said "1 post-screening interview to hold" and its link listed every entry
    the counsellor had held too (interviewed, unreachable)."""
    made, yellow, red = listed
    interviews.assign(db.session, world.director, [yellow, red], world.counsellor, clock.now())
    red.state = InterviewState.DONE
    db.session.commit()
    sign_in(client, world.counsellor)
    home = client.get("/").text
    assert "1 post-screening interview to hold" in home
    link = home.split("1 post-screening interview to hold")[0].rsplit('href="', 1)[1].split('"')[0]
    listed_page = client.get(link.replace("&amp;", "&")).text
    assert "Wang Fang" in listed_page
    assert "Zhao Min" not in listed_page
    assert "Only the interviews you hold." in listed_page
    # The notes that send the interviewer to the list open on the same filter.
    assert {n.link for n in _notes(world.counsellor) if "interview" in n.text} == {
        interviews.MINE_TO_HOLD
    }
    assert link.replace("&amp;", "&") == interviews.MINE_TO_HOLD


def _move_close(client, made, opens_at, closes_at, *, confirm=True, twice=False):
    """The administrator saves the campaign's form with a new window (times in Beijing); a moved
    close is asked about first, and confirmed with the values the confirm step carries (`twice`:
    the confirmation submitted again, as a double click does; the first answer is returned)."""
    url = f"/screening/campaigns/{made.id}/edit"
    data = {"name": made.name, "name_en": made.name_en or "", "instruments": made.instruments}
    data |= {"opens_at": opens_at, "closes_at": closes_at}
    asked = client.post(url, data=data)
    if asked.status_code == 302 or not confirm:
        return asked
    assert asked.status_code == 200
    assert "Nothing is saved yet." in asked.text
    token = re.search(r'name="close_seen" value="([^"]+)"', asked.text)
    assert token is not None
    confirmed = data | {"close_seen": html.unescape(token[1]), "close_action": "confirm"}
    done = client.post(url, data=confirmed, follow_redirects=True)
    if twice:
        again = client.post(url, data=confirmed)
        assert again.status_code == 302
    return done


def test_moving_the_close_moves_the_deadlines_still_owed_and_says_why(client, world, listed):
    """Before, the administrator moved a campaign's close and every interview kept the deadline
    of the old close: 14 days after a date that no longer was the screening's."""
    made, yellow, red = listed  # Wang Fang's due 5 Oct 10:00 (Beijing), Zhao Min's the red's
    w.submit(made, world.classmate, "phq9", w.phq9_total(12))
    (held,) = [e for e in w.entries(made) if e.student_id == world.classmate.id]
    _scheduled(world, held)
    interviews.assign(db.session, world.director, [yellow], world.counsellor, clock.now())
    clock.advance(timedelta(days=1))
    sign_in(client, world.counsellor)
    done = _outcome(client, held, conclusion="no_concern", level_decision="confirm")
    assert done.status_code == 302
    red_due, held_due = red.due_at, held.due_at
    sign_in(client, world.admin)
    # A close stored with seconds (a seeded campaign), its interview due from it, saved as shown.
    made.closes_at += timedelta(seconds=30)
    yellow.due_at += timedelta(seconds=30)
    made.name_en = "Autumn intake"
    db.session.commit()
    # Saved with the close as it was: no question, nothing moves.
    assert _move_close(client, made, "2026-09-13T08:00", "2026-09-21T10:00").status_code == 302
    assert not db.session.scalars(
        select(InterviewEntry).where(InterviewEntry.due_moved_at.is_not(None))
    ).all()
    # A moved close is asked about first, in words, and nothing is written until confirmed.
    asked = _move_close(client, made, "2026-09-13T08:00", "2026-09-28T10:00", confirm=False)
    assert "would close Mon 28 Sep 10:00 instead of Mon 21 Sep 10:00: 7 days later." in asked.text
    assert "The deadline of 1 interview still owed would move to Mon 12 Oct 10:00" in asked.text
    db.session.expire_all()
    assert (made.closes_at, yellow.due_moved_at) == (datetime(2026, 9, 21, 2, 0), None)
    saves = select(AuditEvent).where(AuditEvent.action == "save_campaign")
    saved_before = len(db.session.scalars(saves).all())
    page = _move_close(client, made, "2026-09-13T08:00", "2026-09-28T10:00", twice=True)
    assert len(db.session.scalars(saves).all()) == saved_before + 1  # the double click wrote once
    assert "The deadline of 1 interview still owed moved with the close" in page.text
    db.session.expire_all()
    assert yellow.due_at == datetime(2026, 10, 12, 2, 0)  # 14 days after the new close
    assert (yellow.due_moved_from, yellow.due_moved_at) == (
        datetime(2026, 10, 5, 2, 0, 30),
        clock.now(),
    )
    assert (red.due_at, red.due_moved_from) == (red_due, None)  # the red warning's deadline
    assert (held.state, held.due_at, held.due_moved_from) == (InterviewState.DONE, held_due, None)
    (moved,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "interview.due_moved")
    ).all()
    assert (moved.record_id, moved.student_id, moved.actor_id) == (
        str(yellow.id),
        world.student.id,
        world.admin.id,
    )
    assert "due_from=2026-10-05T02:00:30" in moved.detail
    # The interviewer's note names the screening and the new deadline, and opens its list.
    note = _notes(world.counsellor)[-1]
    assert note.text == interviews.DUE_MOVED_TEXT
    (item,) = note.detail["items"]
    with force_locale("en"):  # the campaign by its name in the reader's language
        assert notifications.digest_line(item) == (
            "Autumn intake: its close was moved, and your interviews from it are now due "
            "Mon 12 Oct 10:00"
        )
    with current_app.test_request_context(), force_locale("zh_CN"):
        assert notifications.digest_line(item).startswith(f"{made.name}：")
    assert item["link"] == f"{interviews.MINE_TO_HOLD}&campaign={made.id}"
    sign_in(client, world.counsellor)
    entry_page = client.get(f"/interviews/{yellow.id}").text
    assert "Was due Mon 5 Oct 10:00; moved on Tue 15 Sep, when the screening" in entry_page

    # Moved back to a close whose 14 days are long past: due at the end of today, not missed
    # the moment it moved (the directors told of a deadline nobody could have met). The entry
    # still names the date first given, and the day's two moves are one note with one line.
    sign_in(client, world.admin)
    notes_before = len(_notes(world.counsellor))
    _move_close(client, made, "2026-08-01T08:00", "2026-08-20T10:00")
    db.session.expire_all()
    assert yellow.due_at == datetime(2026, 9, 15, 15, 59)  # 23:59 in Beijing
    assert yellow.due_moved_from == datetime(2026, 10, 5, 2, 0, 30)
    assert len(_notes(world.counsellor)) == notes_before
    (item,) = _notes(world.counsellor)[-1].detail["items"]  # the latest date, not two lines
    assert item["moments"] == {"date": "2026-09-15T15:59:00"}
    interviews.escalation_sweep(db.session, clock.now())
    assert yellow.escalated_at is None


def _caseloads() -> set[tuple[int, int]]:
    return set(db.session.execute(select(Caseload.counsellor_id, Caseload.student_id)).tuples())


def test_an_interview_handed_to_another_counsellor_takes_its_caseload_with_it(
    campus, world, listed
):
    """Before, the first counsellor kept the student on her caseload (her full record open
    without break-glass) after the interview went to someone else."""
    made, yellow, red = listed
    sc02 = campus.staff(world.institution, Role.SCHOOL_COUNSELLOR, login="sc02")
    sc03 = campus.staff(world.institution, Role.SCHOOL_COUNSELLOR, login="sc03")
    campus.commit()
    student = world.mathematician.id
    interviews.assign(db.session, world.director, [red], sc02, clock.now())
    assert _caseloads() == {(sc02.id, student)}
    interviews.assign(db.session, world.director, [red], sc03, clock.now())
    db.session.expire_all()
    assert _caseloads() == {(sc03.id, student)}
    ended = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "interview.caseload_ended")
    ).all()
    assert [(e.actor_id, e.student_id, e.record_id, e.detail) for e in ended] == [
        (world.director.id, student, str(red.id), f"counsellor={sc02.id}")
    ]


def test_a_caseload_held_for_another_reason_stays_when_the_interview_moves_on(
    campus, world, listed
):
    made, yellow, red = listed
    had_it = campus.staff(world.institution, Role.SCHOOL_COUNSELLOR, login="sc02")
    took_up = campus.staff(world.institution, Role.SCHOOL_COUNSELLOR, login="sc03")
    after = campus.staff(world.institution, Role.SCHOOL_COUNSELLOR, login="sc04")
    campus.commit()
    student = world.mathematician
    # Already on her caseload before the interview: the interview gave her nothing to take back.
    db.session.add(Caseload(counsellor_id=had_it.id, student_id=student.id))
    db.session.commit()
    interviews.assign(db.session, world.director, [red], had_it, clock.now())
    interviews.assign(db.session, world.director, [red], took_up, clock.now())
    # The interview gave it to her, but she has since taken up the student's warning.
    warning = db.session.scalars(
        select(EarlyWarning).where(EarlyWarning.student_id == student.id)
    ).one()
    db.session.add(WarningEvent.of(warning, took_up, "acknowledged", clock.now()))
    db.session.commit()
    interviews.assign(db.session, world.director, [red], after, clock.now())
    db.session.expire_all()
    assert _caseloads() == {
        (had_it.id, student.id),
        (took_up.id, student.id),
        (after.id, student.id),
    }
