"""A student's own copy: the student downloads what they gave and were told (answers with their
questions, consents, results in the report's words, their own concern reports, invitations,
appointments) as a PDF and a JSON file — never a level, a score, a note or what others reported —
and staff produce the same for a request received on paper, with its reference audited."""

from __future__ import annotations

import json
from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import select

from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import PreCheck
from appointments.models import SessionKind
from appointments.models import Slot
from appointments.models import WaitlistEntry
from appointments.models import WaitlistState
from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from campus.notifications import Notification
from casework.models import FamilyContact
from casework.models import InterviewEntry
from casework.models import InterviewState
from privacy.models import ConsentScope
from privacy.models import ConsentWithdrawal
from privacy.retention_models import ErasureRequest
from screening.models import Campaign
from screening.models import CampaignAssignment
from screening.models import Consent
from screening.models import InstrumentResponse
from screening.models import ScreeningResult
from screening.scoring import load_instrument
from tests.factories import open_warning
from tests.pdf import needs_poppler
from tests.pdf import pdf_text
from warning import labels
from warning.models import ConcernCategory
from warning.models import ConcernReport
from warning.models import Signal
from warning.models import SignalSource
from warning.models import WarningEvent

CONSENT_TEXT = "本次普查仅用于心理健康服务，你的回答只有心理中心可以查看。"
# Texts only staff may read: none of them may appear in the student's copy.
STAFF_ONLY = {
    "warning note": "辅导员记录：宿舍矛盾，需持续关注",
    "peer report": "室友说他最近常常整夜不睡",
    "interview reason": "约谈结论：建议转介医院",
    "family contact": "家长说家里最近有变故",
    "warning reason": "PHQ-9 = 21",
    "band": "中度抑郁",
    "clinical name": "患者健康问卷",
}
# The student's answers to PHQ-9, item by item: a total of 11 (moderate), no safety answer.
ANSWERS = {"1": 2, "2": 1, "3": 1, "4": 2, "5": 1, "6": 1, "7": 1, "8": 2, "9": 0}


@pytest.fixture
def world(campus):
    """A student who consented and answered PHQ-9 in the intake, booked an appointment, was
    invited to a conversation and — as class committee member — reported a classmate; plus
    everything staff hold about them."""
    inst = campus.institution("XJU", "湘江大学")
    dept = campus.department(inst, "计算机学院")
    group = campus.class_group(dept, "CS2601")
    room = campus.room(inst, "305")
    student = campus.student(group, room, name="李晓雨", number="2026001")
    classmate = campus.student(group, name="王明", number="2026002")
    other_school = campus.institution("OTH", "别的大学")
    stranger = campus.student(
        campus.class_group(campus.department(other_school, "数学"), "M1"), name="赵外校"
    )
    committee = campus.staff(inst, Role.CLASS_COMMITTEE, group=group, user=student.user)
    peer = campus.staff(inst, Role.DORM_INFORMANT, room=room)
    counsellor = campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    director = campus.staff(inst, Role.DIRECTOR)
    counsellor.name, director.name = "周老师", "刘主任"
    campus.commit()
    student.user.locale = "zh_CN"
    director.locale = "zh_CN"

    intake = Campaign(
        institution_id=inst.id,
        name="2026级新生心理普查",
        instruments=["phq9"],
        opens_at=datetime(2026, 9, 1),
        closes_at=datetime(2026, 9, 20),
    )
    db.session.add(intake)
    db.session.flush()
    assignment = CampaignAssignment(
        campaign_id=intake.id,
        student_id=student.id,
        started_at=datetime(2026, 9, 2, 1),
        completed_at=datetime(2026, 9, 2, 2),
    )
    db.session.add(assignment)
    db.session.flush()
    db.session.add_all(
        [
            Consent(
                assignment_id=assignment.id,
                student_id=student.id,
                informed=True,
                sensitive_data=True,
                consent_text=CONSENT_TEXT,
                locale="zh_CN",
                agreed_at=datetime(2026, 9, 2, 1),
            ),
            ScreeningResult(
                assignment_id=assignment.id,
                campaign_id=intake.id,
                student_id=student.id,
                institution_id=inst.id,
                instrument="phq9",
                instrument_version=load_instrument("phq9").version,
                answers=ANSWERS,
                total=11,
                band="moderate",
                completed_at=datetime(2026, 9, 2, 2),
            ),
        ]
    )
    warning = open_warning(student)
    db.session.add(
        WarningEvent.of(
            warning, counsellor, "contact", datetime(2026, 9, 10), note=STAFF_ONLY["warning note"]
        )
    )
    db.session.add_all(
        [
            ConcernReport(
                institution_id=inst.id,
                student_id=student.id,
                category=ConcernCategory.SLEEP,
                text=STAFF_ONLY["peer report"],
                filed_by_id=peer.id,
                via="room",
            ),
            ConcernReport(
                institution_id=inst.id,
                student_id=classmate.id,
                category=ConcernCategory.LOW_MOOD,
                text="王明这周一直不来上课，我有点担心。",
                filed_by_id=student.user.id,
                via="class",
                filed_at=datetime(2026, 9, 8, 3),
            ),
            InterviewEntry(
                campaign_id=intake.id,
                student_id=student.id,
                institution_id=inst.id,
                department_id=dept.id,
                rule_set_version="default-1",
                reasons=[{"key": "yellow result"}],
                tier="school",
                state=InterviewState.DONE,
                due_at=datetime(2026, 9, 30),
                interviewer_id=counsellor.id,
                scheduled_for=datetime(2026, 9, 12, 6),
                place="心理中心302室",
                invited_at=datetime(2026, 9, 10),
                held_at=datetime(2026, 9, 12, 6),
                conclusion="refer",
                level_reason=STAFF_ONLY["interview reason"],
            ),
            FamilyContact(
                institution_id=inst.id,
                student_id=student.id,
                at=datetime(2026, 9, 11),
                author_id=counsellor.id,
                direction="we_called",
                guardian_name="李父",
                channel="phone",
                summary=STAFF_ONLY["family contact"],
                outcome="reached",
                submission="t" * 32,
            ),
        ]
    )
    slot = Slot(
        institution_id=inst.id,
        counsellor_id=counsellor.id,
        starts_at=datetime(2026, 9, 16, 6),
        ends_at=datetime(2026, 9, 16, 7),
        room="咨询室1",
        kind=SessionKind.FIRST_VISIT,
    )
    db.session.add(slot)
    db.session.flush()
    db.session.add(
        Appointment(
            institution_id=inst.id,
            slot_id=slot.id,
            student_id=student.id,
            counsellor_id=counsellor.id,
            starts_at=slot.starts_at,
            kind=SessionKind.FIRST_VISIT,
            state=AppointmentState.BOOKED,
            booked_by_id=student.user.id,
        )
    )
    db.session.commit()

    class World:
        pass

    w = World()
    w.institution, w.student, w.classmate, w.stranger = inst, student, classmate, stranger
    w.committee, w.counsellor, w.director = committee, counsellor, director
    return w


def _audit(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def _notices_to(student) -> list[Notification]:
    return list(
        db.session.scalars(select(Notification).where(Notification.user_id == student.user_id))
    )


def _json(response) -> dict:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/json"
    return json.loads(response.data.decode("utf-8"))


@needs_poppler
def test_the_students_pdf_holds_their_answers_with_the_questions_and_nothing_staff_only(
    world, login
):
    client = login(world.student.user)
    page = client.get("/privacy/my-copy").get_data(as_text=True)
    assert "/privacy/my-copy.pdf" in page
    assert "/privacy/my-copy.json" in page
    assert "可以向心理中心了解" in page  # says what is left out and whom to ask

    response = client.get("/privacy/my-copy.pdf")
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    flat = "".join(text.split())  # table cells wrap their lines
    phq9 = load_instrument("phq9")
    first_question = phq9.item(1).text.zh_CN
    for words in (
        "李晓雨",
        "2026001",
        "CS2601",
        "305",
        "心情问卷",
        CONSENT_TEXT[:12],
        first_question[:10],
        phq9.item(1).options.options[2].label.zh_CN,  # the answer chosen: value 2
        "王明这周一直不来上课",
        "心理中心302室",
        "周老师",
        "已预约",
        "2026年9月2日",  # dates as a document writes them, not 2026-09-02
    ):
        assert words in flat, words
    assert "2026-09-02" not in flat
    assert "心理咨询档案" not in flat  # the footer speaks to her, not to a records office
    for what, words in STAFF_ONLY.items():
        assert words not in flat, what
    (row,) = _audit("download_own_copy")
    assert (row.student_id, row.actor_id, row.detail) == (
        world.student.id,
        world.student.user.id,
        "format=pdf",
    )


def test_the_students_json_is_machine_readable_and_leaves_out_staff_only_content(world, login):
    response = login(world.student.user).get("/privacy/my-copy.json")
    raw = response.data.decode("utf-8")
    assert "李晓雨" in raw  # UTF-8 as written, not \\u escapes
    copy = _json(response)
    assert copy["schema"] == "xinqiao.own-copy/1"
    assert copy["time_zone"] == "Asia/Shanghai"
    assert copy["language"].startswith("zh-")  # a BCP 47 tag
    assert copy["generated_at"] == "2026-09-14T10:00:00+08:00"
    assert copy["profile"]["student_number"] == "2026001"
    (answered,) = copy["parts"]["questionnaires"]["records"]
    assert answered["questionnaire"] == "心情问卷"
    assert answered["completed_at"] == "2026-09-02T10:00:00+08:00"
    assert [a["number"] for a in answered["answers"]] == list(range(1, 10))
    assert answered["answers"][0]["question"] == load_instrument("phq9").item(1).text.zh_CN
    (result,) = copy["parts"]["results"]["records"]
    assert "心理中心" in result["meaning"]
    (consent,) = copy["parts"]["consents"]["records"]
    assert consent["text"] == CONSENT_TEXT
    (appointment,) = copy["parts"]["appointments"]["records"]
    assert (appointment["counsellor"], appointment["starts_at"]) == (
        "周老师",
        "2026-09-16T14:00:00+08:00",
    )
    (written,) = copy["parts"]["concern_reports"]["records"]
    assert written["about"] == "王明"
    (invited,) = copy["parts"]["interviews"]["records"]
    assert set(invited) == {"heading", "scheduled_for", "place", "with", "held"}
    for what, words in STAFF_ONLY.items():
        assert words not in raw, what
    for key in ("total", "band", "level", "flags", "score", "conclusion"):
        assert f'"{key}"' not in raw, key
    assert list(copy) == sorted(copy)  # stable keys
    (row,) = _audit("download_own_copy")
    assert row.detail == "format=json"


def test_a_student_gets_only_their_own_copy(world, login):
    client = login(world.student.user)
    copy = _json(client.get("/privacy/my-copy.json"))
    assert copy["profile"]["name"] == "李晓雨"
    # No address names another student: the staff route is refused to a student outright.
    assert client.get(f"/privacy/copy-requests/{world.classmate.id}").status_code == 403
    assert client.get("/privacy/my-copy.csv").status_code == 404
    assert _audit("produce_own_copy") == []


def test_a_classmates_copy_holds_nothing_of_the_student(world, login):
    copy = _json(login(world.classmate.user).get("/privacy/my-copy.json"))
    raw = json.dumps(copy, ensure_ascii=False)
    assert copy["profile"]["name"] == "王明"
    assert "李晓雨" not in raw
    assert CONSENT_TEXT not in raw
    assert all(not part["records"] for part in copy["parts"].values())


def _request(**changes: str) -> dict[str, str]:
    return {
        "received_on": "2026-09-11",
        "verified_by": "in_person",
        "reference": "心理中心〔2026〕第17号",
        "fmt": "json",
        "language": "zh_CN",
    } | changes


def test_the_director_answers_a_paper_request_with_its_reference_and_the_student_is_told(
    world, login
):
    client = login(world.director)
    file_page = client.get(f"/casework/students/{world.student.id}").get_data(as_text=True)
    assert f"/privacy/copy-requests/{world.student.id}" in file_page
    form = client.get(f"/privacy/copy-requests/{world.student.id}")
    assert "李晓雨" in form.get_data(as_text=True)

    assert 'value="2026-09-14"' in form.get_data(as_text=True)  # received today, by default

    copy = _json(client.post(f"/privacy/copy-requests/{world.student.id}", data=_request()))
    assert copy["profile"]["name"] == "李晓雨"
    assert copy["parts"]["questionnaires"]["title"] == "你的作答"  # the language chosen
    assert STAFF_ONLY["warning note"] not in json.dumps(copy, ensure_ascii=False)
    (row,) = _audit("produce_own_copy")
    assert (row.student_id, row.actor_id) == (world.student.id, world.director.id)
    assert row.reason == "received=2026-09-11 verified=in_person reference=心理中心〔2026〕第17号"
    (notice,) = _notices_to(world.student)
    assert notice.link == "/privacy/my-copy"
    assert "李晓雨" not in notice.text


@needs_poppler
def test_the_paper_request_copy_prints_in_the_language_chosen(world, login):
    response = login(world.director).post(
        f"/privacy/copy-requests/{world.student.id}", data=_request(fmt="pdf", language="en")
    )
    text = pdf_text(response.data)
    assert "Your mood lately" in text
    assert load_instrument("phq9").item(1).text.en[:20] in text
    assert STAFF_ONLY["warning note"] not in text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"received_on": "2026-09-20"}, "不能是将来"),
        ({"received_on": "9月11日"}, "请按“年-月-日”填写日期，例如 2026-09-01。"),
        ({"reference": "   "}, "请填写申请表编号或来函文号。"),
        ({"verified_by": "phoned"}, "不是有效的选择"),
        ({"fmt": "xlsx"}, "不是有效的选择"),
    ],
)
def test_a_bad_paper_request_is_refused_with_a_message_and_writes_nothing(
    world, login, changes, message
):
    response = login(world.director).post(
        f"/privacy/copy-requests/{world.student.id}", data=_request(**changes)
    )
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert message in response.get_data(as_text=True)
    assert _audit("produce_own_copy") == []
    assert _notices_to(world.student) == []


def test_a_forged_student_id_is_a_404_with_an_audited_denial(world, login):
    client = login(world.director)
    for student_id in (world.stranger.id, 999_999):
        response = client.post(f"/privacy/copy-requests/{student_id}", data=_request())
        assert response.status_code == 404
    denied = _audit("produce_own_copy")
    assert [(r.outcome, r.record_id) for r in denied] == [
        ("denied", str(world.stranger.id)),
        ("denied", "999999"),
    ]
    assert _notices_to(world.student) == []


def test_only_the_director_answers_paper_requests(world, login):
    client = login(world.counsellor)
    assert client.get(f"/privacy/copy-requests/{world.student.id}").status_code == 403
    page = client.get(f"/casework/students/{world.student.id}").get_data(as_text=True)
    assert "/privacy/copy-requests/" not in page


def test_the_students_menu_leads_to_my_data(world, login):
    client = login(world.student.user)
    home = client.get("/").get_data(as_text=True)
    assert "/privacy/my-data" in home
    assert "我的数据与同意" in home
    hub = client.get("/privacy/my-data").get_data(as_text=True)
    assert "/privacy/my-copy.pdf" in hub
    assert "/privacy/my-copy.json" in hub
    assert "/privacy/erasure/mine" in hub


def test_the_copy_is_dated_now_in_the_institutions_zone(world, login):
    clock.advance(timedelta(hours=15))  # past midnight in Changsha
    copy = _json(login(world.student.user).get("/privacy/my-copy.json"))
    assert copy["generated_at"] == "2026-09-15T01:00:00+08:00"


def test_answers_saved_or_given_again_are_in_the_copy_too(world, login):
    result = db.session.scalar(select(ScreeningResult))
    result.resubmitted_answers = ANSWERS | {"9": 1}
    db.session.add(
        InstrumentResponse(assignment_id=result.assignment_id, instrument="gad7", answers={"1": 3})
    )
    db.session.commit()
    copy = _json(login(world.student.user).get("/privacy/my-copy.json"))
    first, again = copy["parts"]["questionnaires"]["records"]
    assert again["heading"] == "心情问卷（再次作答）"
    assert again["answers"][8]["answer"] != first["answers"][8]["answer"]
    (saved,) = copy["parts"]["saved_answers"]["records"]
    gad7 = load_instrument("gad7")
    assert saved["questionnaire"] == gad7.student_title.zh_CN
    assert saved["answers"] == [
        {"number": 1, "question": gad7.item(1).text.zh_CN, "answer": saved["answers"][0]["answer"]}
    ]
    assert saved["answers"][0]["answer"] == gad7.item(1).options.options[3].label.zh_CN


def test_a_booking_pre_check_is_in_the_copy_as_asked_without_its_scores(world, login):
    appointment = db.session.scalar(select(Appointment))
    db.session.add(
        PreCheck(
            institution_id=world.institution.id,
            student_id=world.student.id,
            appointment_id=appointment.id,
            reason="最近总是睡不着",
            phq2_answers={"1": 2, "2": 1},
            phq2_total=3,
            phq2_band="positive",
            gad2_answers={"1": 0, "2": 1},
            gad2_total=1,
            gad2_band="negative",
            safety_answer=0,
            submitted_by_id=world.student.user.id,
            submitted_at=datetime(2026, 9, 10, 2),
        )
    )
    db.session.commit()
    response = login(world.student.user).get("/privacy/my-copy.json")
    copy = _json(response)
    (check,) = copy["parts"]["pre_checks"]["records"]
    assert check["reason"] == "最近总是睡不着"
    questions = [a["question"] for a in check["answers"]]
    assert questions == [
        load_instrument("phq2").item(1).text.zh_CN,
        load_instrument("phq2").item(2).text.zh_CN,
        load_instrument("gad2").item(1).text.zh_CN,
        load_instrument("gad2").item(2).text.zh_CN,
        load_instrument("phq9").item(9).text.zh_CN,
    ]
    assert (
        check["answers"][0]["answer"]
        == load_instrument("phq2").item(1).options.options[2].label.zh_CN
    )
    raw = response.data.decode("utf-8")
    assert "positive" not in raw
    assert '"total"' not in raw


def test_a_negative_asq_reads_as_the_usual_range_in_the_students_copy(world, login):
    phq9 = db.session.scalar(select(ScreeningResult))
    asq = load_instrument("asq")
    db.session.add(
        ScreeningResult(
            assignment_id=phq9.assignment_id,
            campaign_id=phq9.campaign_id,
            student_id=world.student.id,
            institution_id=world.institution.id,
            instrument="asq",
            instrument_version=asq.version,
            answers={"1": 0, "2": 0, "3": 0, "4": 0},
            band="negative",
            completed_at=datetime(2026, 9, 2, 3),
        )
    )
    db.session.commit()
    copy = _json(login(world.student.user).get("/privacy/my-copy.json"))
    meanings = {r["questionnaire"]: r["meaning"] for r in copy["parts"]["results"]["records"]}
    assert meanings[asq.student_title.zh_CN] == "你的回答在常见范围内。"
    assert "压力" not in meanings[asq.student_title.zh_CN]


def test_her_help_requests_withdrawals_and_erasure_requests_are_in_the_copy(world, login):
    student = world.student
    asked = labels.self_referral("phone", "18:00以后")
    db.session.add_all(
        [
            Signal(
                institution_id=world.institution.id,
                student_id=student.id,
                source=SignalSource.SELF_REFERRAL,
                implied_level=2,
                policy_version="default-1",
                label=asked.english(),
                label_key=asked.key,
                label_params=asked.params,
                observed_at=datetime(2026, 9, 13, 2),
                recorded_by_id=student.user.id,
            ),
            ConsentWithdrawal(
                student_id=student.id,
                institution_id=world.institution.id,
                scope=ConsentScope.SCREENING,
                withdrawn_at=datetime(2026, 9, 13, 3),
                withdrawn_by_id=student.user.id,
                explanation="撤回后你将不再收到普查邀请。",
                locale="zh_CN",
            ),
            ErasureRequest(
                institution_id=world.institution.id,
                student_id=student.id,
                requested_at=datetime(2026, 9, 13, 4),
                student_note="请删除我的问卷",
            ),
        ]
    )
    db.session.commit()
    response = login(student.user).get("/privacy/my-copy.json")
    copy = _json(response)
    (request,) = copy["parts"]["help_requests"]["records"]
    assert set(request) == {"heading", "asked_at", "contact_by", "good_time", "status"}
    assert (request["asked_at"], request["contact_by"], request["good_time"]) == (
        "2026-09-13T10:00:00+08:00",
        "打电话",  # the words she chose from, not the staff's "by phone"
        "18:00以后",
    )
    (withdrawn,) = copy["parts"]["consent_withdrawals"]["records"]
    assert withdrawn["explanation"] == "撤回后你将不再收到普查邀请。"
    assert "given_again_at" not in withdrawn
    (erasure,) = copy["parts"]["erasure_requests"]["records"]
    assert (erasure["note"], erasure["requested_at"]) == (
        "请删除我的问卷",
        "2026-09-13T12:00:00+08:00",
    )
    raw = response.data.decode("utf-8")
    assert asked.english() not in raw  # the staff's line about her request, and its level
    assert "implied_level" not in raw


def test_her_places_on_the_waitlist_are_in_the_copy_with_her_wishes(world, login):
    """She joined the waitlist twice: once asking for 周老师 on some days, then left it; now
    waiting for any first visit with a woman counsellor. Both are hers, in her words."""
    db.session.add_all(
        [
            WaitlistEntry(
                institution_id=world.institution.id,
                student_id=world.student.id,
                counsellor_id=world.counsellor.id,
                earliest_on=date(2026, 9, 21),
                latest_on=date(2026, 9, 25),
                state=WaitlistState.WITHDRAWN,
                joined_at=datetime(2026, 9, 14, 2),
                queued_at=datetime(2026, 9, 14, 2),
                closed_at=datetime(2026, 9, 15, 2),
            ),
            WaitlistEntry(
                institution_id=world.institution.id,
                student_id=world.student.id,
                kind=SessionKind.FIRST_VISIT,
                counsellor_gender="F",
                joined_at=datetime(2026, 9, 16, 2),
                queued_at=datetime(2026, 9, 16, 2),
            ),
        ]
    )
    db.session.commit()

    copy = _json(login(world.student.user).get("/privacy/my-copy.json"))

    left, waiting = copy["parts"]["waitlist"]["records"]
    assert (left["counsellor"], left["earliest_on"], left["latest_on"]) == (
        "周老师",
        "2026-09-21",
        "2026-09-25",
    )
    assert left["closed_at"] == "2026-09-15T10:00:00+08:00"
    assert left["state"] != waiting["state"]
    assert waiting["joined_at"] == "2026-09-16T10:00:00+08:00"
    assert waiting["counsellor"] is None
    assert waiting["counsellor_gender"] not in ("F", "")
    assert waiting["kind"] not in ("first_visit", "")
    assert set(waiting) >= {"heading", "joined_at", "kind", "counsellor_gender", "state"}
    # Another student's entry is not hers.
    db.session.add(
        WaitlistEntry(
            institution_id=world.institution.id,
            student_id=world.classmate.id,
            joined_at=datetime(2026, 9, 17, 2),
            queued_at=datetime(2026, 9, 17, 2),
        )
    )
    db.session.commit()
    again = _json(login(world.student.user).get("/privacy/my-copy.json"))
    assert len(again["parts"]["waitlist"]["records"]) == 2
