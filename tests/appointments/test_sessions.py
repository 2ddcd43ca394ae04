"""Counselling sessions: the outcome and its risk assessment, session notes (咨询记录) readable only
by their author, the director and a co-signing supervisor, append-only once signed, every read
audited."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError

from appointments import changes
from appointments import sessions
from appointments.models import AppointmentState
from appointments.models import CounsellorProfile
from appointments.models import NoteState
from appointments.models import SessionNote
from appointments.models import SessionNoteAddendum
from appointments.models import SessionOutcome
from campus import clock
from campus import encryption
from campus.audit import AuditEvent
from campus.extensions import db
from tests.appointments.session_world import Centre
from tests.appointments.session_world import appointment
from tests.appointments.session_world import centre
from tests.conftest import sign_in
from warning import services as warnings
from warning.policy import Level

# The test clock: Monday 2026-09-14 10:00 in Shanghai (02:00 UTC).
THIS_MORNING = datetime(2026, 9, 14, 1, 0)  # 09:00 local
TOMORROW = datetime(2026, 9, 15, 1, 0)


@pytest.fixture
def world(campus) -> Centre:
    return centre(campus)


def _held(
    world: Centre, counsellor=None, *, body: str = "来访者谈到学业压力与睡眠困难。", sign=True
):
    """A session held this morning with its outcome recorded and a note (signed by default)."""
    counsellor = counsellor or world.counsellor
    appt = appointment(world.student, counsellor, THIS_MORNING)
    db.session.commit()
    sessions.record_outcome(
        db.session, counsellor, appt, sessions.Outcome("attended", 0), clock.now()
    )
    note = sessions.save_draft(db.session, counsellor, appt, body, clock.now(), sign=sign)
    return appt, note


def _audit_rows(action: str, outcome: str = "ok") -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action, AuditEvent.outcome == outcome)
        )
    )


# --- the counsellor's day and the outcome ---------------------------------------------------------


def test_counsellor_sees_todays_and_this_weeks_appointments_with_their_state(world, login):
    appointment(world.student, world.counsellor, THIS_MORNING)
    appointment(world.student, world.counsellor, TOMORROW, state=AppointmentState.CANCELLED)
    appointment(world.student, world.colleague, TOMORROW)  # someone else's
    forgotten = appointment(world.student, world.counsellor, datetime(2026, 9, 9, 1, 0))
    db.session.commit()
    page = login(world.counsellor).get("/appointments/sessions").get_data(as_text=True)
    today, _sep, week = page.partition("The rest of this week")
    assert "09:00" in today
    assert "张三" in today
    assert "Booked" in today
    assert "Today, Mon 14 Sep" in today
    assert "tomorrow 09:00" in week
    assert "Cancelled" in week
    _week, _sep, unrecorded = week.partition("Earlier sessions without an outcome")
    assert f"appointment-{forgotten.id}" in unrecorded
    assert "Wed 9 Sep 09:00" in unrecorded
    assert page.count("Open the session") == 3
    assert _audit_rows("list_sessions")


def test_the_counsellors_home_page_counts_todays_sessions_and_says_when_the_next_starts(
    world, login
):
    appointment(world.student, world.counsellor, THIS_MORNING)  # 09:00, already begun
    appointment(world.student, world.counsellor, datetime(2026, 9, 14, 6, 0))  # 14:00
    appointment(world.student, world.counsellor, datetime(2026, 9, 14, 7, 0))  # 15:00
    cancelled = datetime(2026, 9, 14, 3, 0)
    appointment(world.student, world.counsellor, cancelled, state=AppointmentState.CANCELLED)
    appointment(world.student, world.colleague, datetime(2026, 9, 14, 5, 0))  # someone else's
    appointment(world.student, world.counsellor, TOMORROW)
    db.session.commit()
    home = login(world.counsellor).get("/").get_data(as_text=True)
    assert "3 sessions today" in home
    assert "The next starts at 14:00." in home
    assert 'href="/appointments/sessions"' in home
    assert "1 session today" in login(world.colleague).get("/").get_data(as_text=True)


def test_the_home_page_says_nothing_of_sessions_on_a_day_without_any(world, login):
    appointment(world.student, world.counsellor, TOMORROW)
    db.session.commit()
    home = login(world.counsellor).get("/").get_data(as_text=True)
    assert "session today" not in home
    assert "sessions today" not in home
    assert "Nothing to do today." in home


def test_the_home_page_counts_earlier_sessions_without_an_outcome_and_the_day_page_lists_them(
    world, login
):
    forgotten = [
        appointment(world.student, world.counsellor, datetime(2026, 9, day, 1, 0))
        for day in (9, 11)
    ]
    done = appointment(world.student, world.counsellor, datetime(2026, 9, 10, 1, 0))
    db.session.commit()
    sessions.record_outcome(
        db.session, world.counsellor, done, sessions.Outcome("no_show", None), clock.now()
    )
    client = login(world.counsellor)
    home = client.get("/").get_data(as_text=True)
    assert "2 earlier sessions have no outcome recorded" in home
    assert 'href="/appointments/sessions#unrecorded-h"' in home
    page = client.get("/appointments/sessions").get_data(as_text=True)
    listed = page.partition("Earlier sessions without an outcome")[2]
    assert all(f"appointment-{a.id}" in listed for a in forgotten)
    assert f"appointment-{done.id}" not in listed


def test_a_draft_note_is_counted_on_the_home_page_until_it_is_signed(world, login):
    appt, note = _held(world, sign=False)
    client = login(world.counsellor)
    assert "1 session note is still a draft" in client.get("/").get_data(as_text=True)
    page = client.get("/appointments/sessions").get_data(as_text=True)
    drafts = page.partition("Session notes still drafts")[2]
    assert f"appointment-{appt.id}" in drafts
    sessions.save_draft(db.session, world.counsellor, appt, note.body, clock.now(), sign=True)
    assert "still a draft" not in client.get("/").get_data(as_text=True)
    assert "Session notes still drafts" not in client.get("/appointments/sessions").get_data(
        as_text=True
    )


def test_the_supervisors_home_page_counts_trainee_notes_to_co_sign(world, login):
    _held(world, world.trainee)
    home = login(world.supervisor).get("/").get_data(as_text=True)
    assert "1 trainee note awaits your co-sign" in home
    assert 'href="/appointments/sessions/co-sign"' in home
    # The trainee's own home page says nothing of it, nor does a colleague's.
    assert "co-sign" not in login(world.trainee).get("/").get_data(as_text=True)
    assert "co-sign" not in login(world.colleague).get("/").get_data(as_text=True)


def test_department_staff_get_no_session_lines(world, login):
    appointment(world.student, world.counsellor, datetime(2026, 9, 14, 6, 0))
    db.session.commit()
    main = login(world.dept_counsellor).get("/").get_data(as_text=True).partition("<main")[2]
    assert "session" not in main.lower()


def test_attended_with_no_risk_changes_no_warning(world):
    appt = appointment(world.student, world.counsellor, THIS_MORNING)
    db.session.commit()
    sessions.record_outcome(
        db.session, world.counsellor, appt, sessions.Outcome("attended", 0), clock.now()
    )
    assert appt.state == AppointmentState.ATTENDED
    assert warnings.open_warning(db.session, world.student.id) is None


def test_high_risk_raises_the_warning_to_red_with_its_reason(world, login):
    from tests.factories import phq9_signal

    assert phq9_signal(world.student, 12).level == Level.YELLOW
    appt = appointment(world.student, world.counsellor, THIS_MORNING)
    db.session.commit()
    client = login(world.counsellor)
    response = client.post(
        f"/appointments/sessions/{appt.id}/outcome",
        data={
            "attendance": "attended",
            "risk_level": "3",
            "reason": "谈到近两周有自伤念头，已有计划",
        },
    )
    assert response.status_code == 302
    warning = warnings.open_warning(db.session, world.student.id)
    assert warning.level == Level.RED
    assert "谈到近两周有自伤念头" in warning.reason
    outcome = db.session.scalar(select(SessionOutcome))
    assert outcome.risk_level == 3
    assert outcome.signal_id is not None
    # The reason is stored encrypted, like every clinical free text.
    raw = db.session.execute(text("SELECT risk_reason FROM session_outcome")).scalar_one()
    assert "自伤" not in raw


def test_a_risk_without_reason_is_refused_and_writes_nothing(world, login):
    appt = appointment(world.student, world.counsellor, THIS_MORNING)
    db.session.commit()
    response = login(world.counsellor).post(
        f"/appointments/sessions/{appt.id}/outcome",
        data={"attendance": "attended", "risk_level": "2", "reason": "短"},
    )
    assert response.status_code == 400
    assert "Say why you assessed this risk" in response.get_data(as_text=True)
    db.session.expire_all()
    assert appt.state == AppointmentState.BOOKED
    assert db.session.scalar(select(SessionOutcome)) is None
    assert warnings.open_warning(db.session, world.student.id) is None


def test_outcome_recorded_once_and_not_before_the_session(world, login):
    later = appointment(world.student, world.counsellor, TOMORROW)
    appt = appointment(world.student, world.counsellor, THIS_MORNING)
    db.session.commit()
    client = login(world.counsellor)
    early = client.post(
        f"/appointments/sessions/{later.id}/outcome", data={"attendance": "no_show"}
    )
    assert early.status_code == 400
    assert "has not begun yet" in early.get_data(as_text=True)
    assert (
        client.post(
            f"/appointments/sessions/{appt.id}/outcome", data={"attendance": "no_show"}
        ).status_code
        == 302
    )
    again = client.post(
        f"/appointments/sessions/{appt.id}/outcome",
        data={"attendance": "attended", "risk_level": "0"},
    )
    assert "already recorded" in again.get_data(as_text=True)
    db.session.expire_all()
    assert appt.state == AppointmentState.NO_SHOW
    assert len(list(db.session.scalars(select(SessionOutcome)))) == 1


def test_a_future_session_is_cancelled_through_the_change_that_tells_the_student(world, login):
    """The outcome form once offered "cancelled by the centre": one click cancelled the
    appointment with no reason and no word to the student, who still expected to come."""
    later = appointment(world.student, world.counsellor, TOMORROW)
    db.session.commit()
    client = login(world.counsellor)
    page = client.get(f"/appointments/sessions/{later.id}").get_data(as_text=True)
    assert "Record the outcome once the session has begun." in page
    assert f'href="/appointments/changes/{later.id}/cancel"' in page
    refused = client.post(
        f"/appointments/sessions/{later.id}/outcome", data={"attendance": "cancelled"}
    )
    assert refused.status_code == 400
    db.session.expire_all()
    assert later.state == AppointmentState.BOOKED
    assert db.session.scalar(select(func.count(SessionOutcome.id))) == 0


def test_a_session_the_student_cancelled_says_so_not_that_its_outcome_is_missing(world, login):
    later = appointment(world.student, world.counsellor, TOMORROW)
    db.session.commit()
    changes.cancel(db.session, world.student.user, later, clock.now(), late_confirmed=True)
    html = login(world.counsellor).get(f"/appointments/sessions/{later.id}").get_data(as_text=True)
    assert "The appointment was cancelled: there is no outcome to record." in html
    assert "No outcome recorded yet." not in html


def test_only_the_sessions_counsellor_records_its_outcome(world, login):
    appt = appointment(world.student, world.counsellor, THIS_MORNING)
    db.session.commit()
    response = login(world.director).post(
        f"/appointments/sessions/{appt.id}/outcome", data={"attendance": "no_show"}
    )
    assert "counsellor records its outcome" in response.get_data(as_text=True)
    db.session.expire_all()
    assert appt.state == AppointmentState.BOOKED


# --- notes: draft, sign, addendum -----------------------------------------------------------------


def test_counsellor_writes_signs_and_adds_to_a_note(world, login):
    appt = appointment(world.student, world.counsellor, THIS_MORNING)
    db.session.commit()
    client = login(world.counsellor)
    client.post(
        f"/appointments/sessions/{appt.id}/outcome",
        data={"attendance": "attended", "risk_level": "0"},
    )
    client.post(f"/appointments/sessions/{appt.id}/note", data={"body": "初稿", "save": "1"})
    client.post(
        f"/appointments/sessions/{appt.id}/note",
        data={"body": "第一次咨询：学业压力。", "sign": "1"},
    )
    note = db.session.scalar(select(SessionNote))
    assert note.state == NoteState.SIGNED
    assert note.body == "第一次咨询：学业压力。"
    page = client.get(f"/appointments/sessions/{appt.id}").get_data(as_text=True)
    assert "第一次咨询：学业压力。" in page
    assert "Add an addendum" in page
    token = "t-1"
    for _twice in range(2):
        client.post(
            f"/appointments/sessions/{appt.id}/addenda",
            data={"body": "补记：来访者同意下周复诊。", "submission": token},
        )
    addenda = list(db.session.scalars(select(SessionNoteAddendum)))
    assert [a.body for a in addenda] == ["补记：来访者同意下周复诊。"]  # a double submit adds one
    assert "补记：来访者同意下周复诊。" in client.get(f"/appointments/sessions/{appt.id}").get_data(
        as_text=True
    )


def test_the_note_is_encrypted_at_rest(world):
    _held(world, body="来访者提到家庭变故")
    raw = db.session.execute(text("SELECT body FROM session_note")).scalar_one()
    assert "家庭" not in raw
    assert encryption.decrypt(raw) == "来访者提到家庭变故"


def test_a_signed_note_cannot_be_changed_by_the_service_the_orm_or_the_database(world, login):
    appt, note = _held(world)
    with pytest.raises(sessions.SessionError, match="signed"):
        sessions.save_draft(db.session, world.counsellor, appt, "rewritten", clock.now())
    db.session.rollback()
    response = login(world.counsellor).post(
        f"/appointments/sessions/{appt.id}/note", data={"body": "rewritten", "save": "1"}
    )
    assert response.status_code == 400
    note = db.session.scalar(select(SessionNote))
    note.body = "rewritten"
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DBAPIError):
        db.session.execute(update(SessionNote).values(body=encryption.encrypt("rewritten")))
    db.session.rollback()
    with pytest.raises(DBAPIError):
        db.session.execute(text("UPDATE session_note SET state = 'DRAFT'"))
    db.session.rollback()
    assert db.session.scalar(select(SessionNote)).body.startswith("来访者谈到")


def test_an_addendum_can_never_be_changed(world):
    appt, note = _held(world)
    sessions.add_addendum(db.session, world.counsellor, note, "补记", "tok", clock.now())
    with pytest.raises(DBAPIError):
        db.session.execute(text("UPDATE session_note_addendum SET at = at"))
    db.session.rollback()


def test_a_draft_stays_editable_until_signed(world):
    appt, note = _held(world, sign=False)
    sessions.save_draft(db.session, world.counsellor, appt, "改过的草稿", clock.now())
    assert db.session.scalar(select(SessionNote)).body == "改过的草稿"


def test_no_note_for_a_no_show(world):
    appt = appointment(world.student, world.counsellor, THIS_MORNING)
    db.session.commit()
    sessions.record_outcome(
        db.session, world.counsellor, appt, sessions.Outcome("no_show"), clock.now()
    )
    with pytest.raises(sessions.SessionError, match="attended"):
        sessions.save_draft(db.session, world.counsellor, appt, "x", clock.now())


def test_key_rotation_re_encrypts_signed_notes_and_addenda(world, app):
    appt, note = _held(world, body="签名后的记录")
    sessions.add_addendum(db.session, world.counsellor, note, "补记一条", "tok", clock.now())
    before = db.session.execute(text("SELECT body FROM session_note")).scalar_one()
    new = encryption.new_key()
    old = encryption.keys_from_config(app.config)
    encryption.configure([new, *old])
    try:
        counts = encryption.rotate_all(db.session)
        assert counts["session_note.body"] == 1
        assert counts["session_note_addendum.body"] == 1
        after = db.session.execute(text("SELECT body FROM session_note")).scalar_one()
        assert after != before
        encryption.configure([new])  # the old key gone: the rotated notes still read
        db.session.expire_all()
        assert db.session.scalar(select(SessionNote)).body == "签名后的记录"
        assert db.session.scalar(select(SessionNoteAddendum)).body == "补记一条"
        # No marker outlives the rotation: the guard is closed again.
        with pytest.raises(DBAPIError):
            db.session.execute(text("UPDATE session_note SET body = body || 'x'"))
        db.session.rollback()
    finally:
        encryption.configure(old)


# --- who may read a note ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "who", ["dept_counsellor", "dept_leader", "admin", "colleague", "elsewhere", "other_director"]
)
def test_nobody_else_reads_a_note_404_and_audited(world, client, who):
    appt, _note = _held(world, body="只有作者能看的内容")
    reader = getattr(world, who)
    sign_in(client, reader)
    response = client.get(f"/appointments/sessions/{appt.id}")
    assert response.status_code in (403, 404)
    assert "只有作者能看的内容" not in response.get_data(as_text=True)
    if response.status_code == 404:
        denied = _audit_rows("read_session", "denied")
        assert [row.actor_id for row in denied] == [reader.id]
    # Nor through the student file, which department staff and the admin may open.
    file_page = client.get(f"/casework/students/{world.student.id}")
    assert "只有作者能看的内容" not in file_page.get_data(as_text=True)


@pytest.mark.parametrize("who", ["dept_counsellor", "dept_leader", "admin"])
def test_outside_the_centre_the_file_does_not_show_that_she_comes_to_counselling(world, login, who):
    """Her department and the administrator open the file for other reasons; that she comes to
    counselling is the centre's to know (the booking page promises it is confidential)."""
    _held(world, body="只有作者能看的内容")
    page = login(getattr(world, who)).get(f"/casework/students/{world.student.id}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Counselling appointments" not in body
    assert "Attended" not in body
    assert "只有作者能看的内容" not in body


def test_a_colleague_of_the_centre_sees_the_appointments_in_the_file_but_not_the_note(world, login):
    _held(world, body="只有作者能看的内容")
    page = login(world.colleague).get(f"/casework/students/{world.student.id}")
    body = page.get_data(as_text=True)
    assert "Counselling appointments" in body
    assert "Attended" in body
    assert "只有作者能看的内容" not in body


@pytest.mark.parametrize("who", ["counsellor", "director"])
def test_author_and_director_read_the_note_and_each_read_is_audited(world, client, who):
    appt, note = _held(world, body="可读的记录")
    reader = getattr(world, who)
    sign_in(client, reader)
    for _twice in range(2):
        assert "可读的记录" in client.get(f"/appointments/sessions/{appt.id}").get_data(
            as_text=True
        )
    reads = [r for r in _audit_rows("read_session_note") if r.actor_id == reader.id]
    assert len(reads) == 2
    assert reads[0].record_id == str(note.id)
    assert reads[0].student_id == world.student.id
    file_page = client.get(f"/casework/students/{world.student.id}").get_data(as_text=True)
    assert "可读的记录" in file_page
    file_reads = [r for r in _audit_rows("read_session_note") if r.actor_id == reader.id]
    assert len(file_reads) == 3
    assert file_reads[-1].detail == f"student_file notes={note.id}"


def test_supervisor_reads_and_co_signs_a_trainees_note(world, login):
    appt, note = _held(world, world.trainee, body="见习咨询师的记录")
    assert note.state == NoteState.SIGNED
    assert note.supervisor_id == world.supervisor.id
    client = login(world.supervisor)
    listing = client.get("/appointments/sessions/co-sign").get_data(as_text=True)
    assert "张三" in listing
    assert "Read and co-sign" in listing
    page = client.get(f"/appointments/sessions/{appt.id}").get_data(as_text=True)
    assert "见习咨询师的记录" in page
    assert "awaiting the supervisor" in page
    assert client.post(f"/appointments/sessions/{appt.id}/co-sign").status_code == 302
    db.session.expire_all()
    note = db.session.scalar(select(SessionNote))
    assert note.state == NoteState.CO_SIGNED
    assert note.co_signed_by_id == world.supervisor.id
    assert "No trainee notes await" in client.get("/appointments/sessions/co-sign").get_data(
        as_text=True
    )
    # The co-signed note's page no longer offers the co-sign (it was offered, to be refused).
    after = client.get(f"/appointments/sessions/{appt.id}").get_data(as_text=True)
    assert f'action="/appointments/sessions/{appt.id}/co-sign"' not in after


def test_only_the_supervisor_co_signs(world, login):
    appt, _note = _held(world, world.trainee)
    response = login(world.colleague).post(f"/appointments/sessions/{appt.id}/co-sign")
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.scalar(select(SessionNote)).state == NoteState.SIGNED
    appt2, note2 = _held_for_director_check(world)
    with pytest.raises(sessions.SessionError, match="supervisor"):
        sessions.co_sign(db.session, world.director, note2, clock.now())


def _held_for_director_check(world: Centre):
    later = appointment(world.student, world.trainee, datetime(2026, 9, 13, 1, 0))
    db.session.commit()
    sessions.record_outcome(
        db.session, world.trainee, later, sessions.Outcome("attended", 0), clock.now()
    )
    return later, sessions.save_draft(
        db.session, world.trainee, later, "二", clock.now(), sign=True
    )


def test_a_supervisor_does_not_read_a_non_trainees_note(world, login):
    appt, _note = _held(world, body="非见习的记录")
    response = login(world.supervisor).get(f"/appointments/sessions/{appt.id}")
    assert response.status_code == 404


def test_next_appointment_is_shown(world, login):
    appt, _note = _held(world)
    appointment(world.student, world.counsellor, datetime(2026, 9, 21, 1, 0))
    db.session.commit()
    page = login(world.counsellor).get(f"/appointments/sessions/{appt.id}").get_data(as_text=True)
    assert "Mon 21 Sep 09:00" in page


def test_a_draft_is_its_authors_alone(world, login):
    appt, _note = _held(world, world.trainee, body="未签名的草稿", sign=False)
    for reader in (world.director, world.supervisor):
        page = login(reader).get(f"/appointments/sessions/{appt.id}").get_data(as_text=True)
        assert "未签名的草稿" not in page
        assert "No signed note yet." in page
    assert "未签名的草稿" in login(world.trainee).get(f"/appointments/sessions/{appt.id}").get_data(
        as_text=True
    )


def test_demo_sessions_for_sc01(world, login):
    from appointments.session_demo import seed_sessions

    seed_sessions(db.session, world.institution)
    seed_sessions(db.session, world.institution)  # a second seed adds nothing
    notes = list(db.session.scalars(select(SessionNote)))
    assert len(notes) == 3
    assert all(n.state == NoteState.SIGNED for n in notes)
    assert len(list(db.session.scalars(select(SessionNoteAddendum)))) == 1
    page = login(world.counsellor).get("/appointments/sessions").get_data(as_text=True)
    assert "15:00" in page  # today's booking
    assert "Earlier this week" not in page  # the clock's Monday: the past is last week


def test_the_demo_trainees_note_awaits_the_supervisors_co_sign(world, login):
    from appointments.session_demo import seed_sessions

    profile = db.session.scalar(
        select(CounsellorProfile).where(CounsellorProfile.user_id == world.trainee.id)
    )
    profile.supervisor_id = world.counsellor.id
    db.session.commit()
    seed_sessions(db.session, world.institution)
    note = db.session.scalar(select(SessionNote).where(SessionNote.author_id == world.trainee.id))
    assert note.signed
    assert note.supervisor_id == world.counsellor.id
    assert note.co_signed_at is None
    home = login(world.counsellor).get("/").get_data(as_text=True)
    assert "1 trainee note awaits your co-sign" in home


def test_the_files_queries_do_not_grow_with_the_sessions(world, login, count_queries):
    client = login(world.counsellor)
    _held(world)

    def file_queries() -> int:
        with count_queries() as counted:
            assert client.get(f"/casework/students/{world.student.id}").status_code == 200
        return counted.count

    one = file_queries()
    for day in (7, 8, 9):
        earlier = appointment(world.student, world.counsellor, datetime(2026, 9, day, 1, 0))
        db.session.commit()
        sessions.record_outcome(
            db.session, world.counsellor, earlier, sessions.Outcome("attended", 0), clock.now()
        )
        note = sessions.save_draft(
            db.session, world.counsellor, earlier, "记录", clock.now(), sign=True
        )
        sessions.add_addendum(db.session, world.counsellor, note, "补记", f"t{day}", clock.now())
    assert file_queries() == one


@pytest.mark.parametrize(
    "form",
    [
        {"attendance": "attended", "risk_level": "7", "reason": "一个足够长的理由说明"},
        {"attendance": "came_maybe"},
        {},
    ],
)
def test_a_forged_outcome_form_is_refused_and_writes_nothing(world, login, form):
    appt = appointment(world.student, world.counsellor, THIS_MORNING)
    db.session.commit()
    response = login(world.counsellor).post(f"/appointments/sessions/{appt.id}/outcome", data=form)
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert appt.state == AppointmentState.BOOKED
    assert db.session.scalar(select(SessionOutcome)) is None


def test_a_forged_appointment_id_is_a_404(world, login):
    client = login(world.counsellor)
    assert client.get("/appointments/sessions/99999").status_code == 404
    assert client.post("/appointments/sessions/99999/note", data={"body": "x"}).status_code == 404
    assert [r.record_id for r in _audit_rows("read_session", "denied")] == ["99999", "99999"]


def test_the_note_says_who_reads_it_in_words_true_for_each_reader(world, login):
    """Before: the director and the supervisor were told 'only you … can read this note'."""

    def readers_line(user, appt) -> str:
        page = login(user).get(f"/appointments/sessions/{appt.id}").get_data(as_text=True)
        line = page.split('id="note-readers"', 1)[1].split("</p>", 1)[0]
        login(user).get("/logout")
        return line.replace("&#39;", "'")

    draft, _note = _held(world, sign=False)
    line = readers_line(world.counsellor, draft)
    assert "Only you can read this note while it is a draft" in line
    assert "supervisor" not in line
    trainees, _note = _held(world, world.trainee)
    line = readers_line(world.trainee, trainees)
    assert "Only you, the centre director and your supervisor, who co-signs it, can read" in line
    own = draft
    sessions.save_draft(db.session, world.counsellor, own, "签署。", clock.now(), sign=True)
    line = readers_line(world.supervisor, trainees)
    assert "You read this note as the supervisor who co-signs it" in line
    assert "Only you" not in line
    line = readers_line(world.director, own)
    assert "You read this signed note as the centre director" in line
    assert "Only you" not in line
