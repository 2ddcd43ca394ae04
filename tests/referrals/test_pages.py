"""What people see: the liaison only ever sees their hospital's referrals and the ticked fields;
counsellors refer from a warning; every disclosure and drill-down is audited."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import datetime
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import select
from werkzeug.http import parse_options_header

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Caseload
from referrals.models import Referral
from referrals.models import ReferralStatus
from referrals.models import Urgency
from tests import factories
from tests.pages import without_tokens
from tests.referrals.conftest import new_referral
from tests.referrals.conftest import referral_in
from tests.referrals.conftest import step
from tests.referrals.conftest import walk
from warning.policy import Level

S = ReferralStatus
CANARIES = {
    "internal_note": "CANARY-INTERNAL-NOTE",
    "screening_summary": "CANARY-SCREENING",
}


def _canary_referral(world):
    world.student.guardian_phone = "CANARY-GUARDIAN-PHONE"
    world.student.student_number = "CANARY-NUMBER"
    db.session.commit()
    referral = new_referral(
        world,
        internal_note=CANARIES["internal_note"],
        screening_summary=CANARIES["screening_summary"],
        disclosed_fields=["name", "gender", "referral_reason"],
    )
    return walk(world, referral, [S.SENT])


def test_liaison_sees_only_disclosed_fields_never_canaries(world, login):
    referral = _canary_referral(world)
    client = login(world.liaison)
    listing = client.get("/hospital/referrals/").get_data(as_text=True)
    page = client.get(f"/hospital/referrals/{referral.id}").get_data(as_text=True)
    for html in (listing, page):
        assert "Li Lei" in html
        for canary in (*CANARIES.values(), "CANARY-GUARDIAN-PHONE", "CANARY-NUMBER"):
            assert canary not in html
        assert "PHQ-9" not in html  # the warning's reason and level never reach the hospital
    assert "Persistent low mood" in page


def test_the_liaison_reads_back_the_hospitals_notes_but_not_the_centres(world, login):
    """Before: the liaison's history listed only "booked" and "assessed", without the notes the
    hospital had just written; the referring counsellor saw them."""
    referral = referral_in(world, S.SENT)
    factories.step(
        referral,
        S.APPOINTMENT_BOOKED,
        world.liaison,
        appointment_at=factories.APPOINTMENT_AT,
        note="门诊三楼精神科，请带身份证。",
    )
    factories.step(referral, S.WITHDRAWN, world.counsellor, note="CANARY-WITHDRAWAL-REASON")
    page = login(world.liaison).get(f"/hospital/referrals/{referral.id}").get_data(as_text=True)
    history = page.split("History")[1]
    assert "门诊三楼精神科，请带身份证。" in history
    assert "CANARY-WITHDRAWAL-REASON" not in page


@pytest.mark.parametrize(
    ("reader", "path", "action"),
    [
        ("counsellor", "/referrals/", "referral_list"),
        ("liaison", "/hospital/referrals/", "referral_disclosed_list"),
    ],
)
def test_a_referral_list_audit_names_the_student_shown(world, login, reader, path, action):
    referral_in(world, S.SENT)
    assert "Li Lei" in login(getattr(world, reader)).get(path).get_data(as_text=True)
    (row,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
    assert row.student_id == world.student.id
    assert row.detail == "rows=1"


def test_liaison_cannot_list_or_open_another_hospitals_referral(world, login):
    referral = _canary_referral(world)
    client = login(world.other_liaison)
    assert "Li Lei" not in client.get("/hospital/referrals/").get_data(as_text=True)
    assert client.get(f"/hospital/referrals/{referral.id}").status_code == 404
    response = client.post(
        f"/hospital/referrals/{referral.id}/move?target=appointment_booked",
        data={"appointment_booked-version": referral.version},
    )
    assert response.status_code == 404
    denied = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.outcome == "denied", AuditEvent.actor_id == world.other_liaison.id
        )
    ).all()
    assert {d.record_id for d in denied} == {str(referral.id)}
    assert db.session.get(Referral, referral.id).status is S.SENT


def test_liaison_never_sees_a_draft(world, login):
    referral = new_referral(world)
    client = login(world.liaison)
    assert client.get(f"/hospital/referrals/{referral.id}").status_code == 404


def test_each_liaison_view_is_an_audited_disclosure(world, login):
    referral = _canary_referral(world)
    client = login(world.liaison)
    client.get(f"/hospital/referrals/{referral.id}")
    client.get(f"/hospital/referrals/{referral.id}")
    rows = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "referral_disclosed")
    ).all()
    assert len(rows) == 2
    assert rows[0].detail == "gender;name;referral_reason"
    assert rows[0].student_id == world.student.id


def test_liaison_books_an_appointment_through_the_page(world, login):
    referral = _canary_referral(world)
    client = login(world.liaison)
    response = client.post(
        f"/hospital/referrals/{referral.id}/move?target=appointment_booked",
        data={
            "appointment_booked-version": referral.version,
            "appointment_booked-appointment_at": "2026-09-15T09:30",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status is S.APPOINTMENT_BOOKED


def test_liaison_cannot_close_a_referral_it_may_not(world, login):
    referral = _canary_referral(world)
    client = login(world.liaison)
    response = client.post(
        f"/hospital/referrals/{referral.id}/move?target=withdrawn",
        data={"withdrawn-version": referral.version, "withdrawn-note": "x"},
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status is S.SENT


def test_stale_version_on_the_page_gets_409(world, login):
    referral = _canary_referral(world)
    client = login(world.counsellor)
    response = client.post(
        f"/referrals/{referral.id}/move?target=withdrawn",
        data={
            "withdrawn-version": referral.version - 1,
            "withdrawn-note": "x",
            "withdrawn-confirm": "y",
        },
    )
    assert response.status_code == 409


def test_counsellor_refers_from_a_warning_through_the_form(world, login):
    client = login(world.counsellor)
    form = client.get(f"/referrals/new/{world.warning.id}").get_data(as_text=True)
    # Back to the warning it came from; consent taken now, as the family-contact form's time.
    assert f'href="/warnings/students/{world.student.id}"' in form
    assert re.search(r'<input [^>]*name="consent_at"[^>]*value="2026-09-14T10:00"', form)
    response = client.post(
        f"/referrals/new/{world.warning.id}",
        data={
            "submission": uuid.uuid4().hex,
            "hospital_id": world.hospital.id,
            "reason": "Needs psychiatric assessment",
            "urgency": "urgent",
            "green_channel": "y",
            "disclosed_fields": ["name", "gender"],
            "consent_by": "guardian",
            "consent_name": "Li Dad",
            "consent_method": "phone",
            "consent_at": "2026-09-13T10:00",
        },
    )
    assert response.status_code == 302
    referral = db.session.scalar(select(Referral))
    assert referral.green_channel
    assert referral.disclosed == {"name", "gender"}
    assert referral.status is S.DRAFT


def test_the_new_referral_form_sent_twice_makes_one_draft(world, login):
    """A double submit must not put two drafts (and, once sent, two green-channel alerts) in."""
    client = login(world.counsellor)
    page = client.get(f"/referrals/new/{world.warning.id}").get_data(as_text=True)
    token = page.split('name="submission" type="hidden" value="', 1)[1][:32]
    sent = {
        "submission": token,
        "hospital_id": world.hospital.id,
        "reason": "Needs psychiatric assessment",
        "urgency": "urgent",
        "green_channel": "y",
        "disclosed_fields": ["name"],
        "consent_by": "guardian",
        "consent_name": "Li Dad",
        "consent_method": "phone",
        "consent_at": "2026-09-13T10:00",
    }
    first = client.post(f"/referrals/new/{world.warning.id}", data=sent)
    again = client.post(f"/referrals/new/{world.warning.id}", data=sent)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert len(db.session.scalars(select(Referral)).all()) == 1


def _draft_form(world, referral, **changes) -> dict:
    return {
        "version": referral.version,
        "hospital_id": world.hospital.id,
        "reason": "Needs psychiatric assessment",
        "urgency": "routine",
        "disclosed_fields": ["name", "gender"],
        "consent_by": "student",
        "consent_name": "Li Lei",
        "consent_method": "in_person",
        "consent_at": "2026-09-13T10:00",
        **changes,
    }


def test_a_draft_is_corrected_before_it_is_sent(world, login):
    """Before: a wrong hospital or disclosure in a draft could only be withdrawn and made again,
    leaving a withdrawn referral on the student's record."""
    referral = new_referral(world, disclosed_fields=["name", "gender", "birth_date"])
    client = login(world.counsellor)
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert f'href="/referrals/{referral.id}/edit"' in page
    form = client.get(f"/referrals/{referral.id}/edit").get_data(as_text=True)
    assert re.search(r'<input [^>]*checked[^>]*value="birth_date"', form)  # as it was drafted
    changed = client.post(
        f"/referrals/{referral.id}/edit",
        data=_draft_form(world, referral, hospital_id=world.other_hospital.id),
    )
    assert changed.status_code == 302
    db.session.expire_all()
    referral = db.session.get(Referral, referral.id)
    assert referral.hospital_id == world.other_hospital.id
    assert referral.disclosed == {"name", "gender"}
    assert referral.status is S.DRAFT
    assert len(db.session.scalars(select(Referral)).all()) == 1
    audited = select(AuditEvent).where(AuditEvent.action == "referral_draft_edited")
    assert db.session.scalar(audited).actor_id == world.counsellor.id


def test_a_sent_referral_or_a_stale_draft_is_not_changed(world, login):
    client = login(world.counsellor)
    draft = new_referral(world)
    stale = _draft_form(world, draft, version=draft.version + 5, reason="changed")
    refused = client.post(f"/referrals/{draft.id}/edit", data=stale, follow_redirects=True)
    assert "Someone else updated this referral" in refused.get_data(as_text=True)
    sent = walk(world, new_referral(world, hospital_id=world.other_hospital.id), [S.SENT])
    page = client.post(
        f"/referrals/{sent.id}/edit",
        data=_draft_form(world, sent, hospital_id=world.other_hospital.id, reason="changed"),
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Only a draft can be changed" in page
    db.session.expire_all()
    assert "changed" not in {r.reason for r in db.session.scalars(select(Referral))}


def test_malformed_referral_form_writes_nothing(world, login):
    client = login(world.counsellor)
    response = client.post(
        f"/referrals/new/{world.warning.id}",
        data={"hospital_id": world.hospital.id, "reason": "", "consent_at": "yesterday"},
    )
    assert response.status_code == 200
    assert db.session.scalars(select(Referral)).all() == []


def test_department_counsellor_cannot_open_the_referral_pages(world, login):
    client = login(world.dept_counsellor)
    assert client.get("/referrals/").status_code == 403
    assert client.get(f"/referrals/new/{world.warning.id}").status_code == 403


def test_counsellor_list_marks_stalled_referrals(world, login):
    referral_in(world, S.SENT)
    clock.advance(timedelta(days=14))
    html = login(world.counsellor).get("/referrals/").get_data(as_text=True)
    assert "Stalled" in html


def test_the_list_says_the_stalled_days_in_force(world, login, app, monkeypatch):
    """The list said "14 days" in fixed words, whatever REFERRAL_STALLED_DAYS marked stalled."""
    monkeypatch.setitem(app.config, "REFERRAL_STALLED_DAYS", 21)
    referral_in(world, S.SENT)
    clock.advance(timedelta(days=14))
    html = login(world.counsellor).get("/referrals/").get_data(as_text=True)
    assert "A referral with no update for 21 days is marked stalled." in html
    assert "Stalled</span>" not in html


def test_admin_adds_a_hospital(world, login):
    client = login(world.admin)
    response = client.post(
        "/admin/hospitals", data={"name": "Xiangya Second", "department": "Psychiatry"}
    )
    assert response.status_code == 302
    assert "Xiangya Second" in client.get("/admin/hospitals").get_data(as_text=True)
    duplicate = client.post("/admin/hospitals", data={"name": "Xiangya Second"})
    assert duplicate.status_code == 200
    assert "already exists" in duplicate.get_data(as_text=True)


def test_closure_export_neutralises_formulas_and_is_audited(world, login, names_exported):
    world.student.name = '=HYPERLINK("x")'
    db.session.commit()
    referral_in(world, S.SENT)
    clock.advance(timedelta(days=100))  # past the expected closure: overdue
    client = login(world.admin)
    assert client.get("/referrals/closure").status_code == 200
    args = "which=overdue&first=2026-01-01&last=2027-12-31"
    csv_text = client.get(f"/referrals/closure/export.csv?{args}").get_data(as_text=True)
    assert "'=HYPERLINK" in csv_text
    xlsx = client.get(f"/referrals/closure/export.xlsx?{args}").get_data()
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    assert sheet.cell(row=2, column=3).value.startswith("'=")
    assert "student_id" not in csv_text
    exports = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("closure_export%"))
    ).all()
    assert len(exports) == 2
    assert all(e.detail.startswith("rows=1 ") for e in exports)
    assert {e.student_id for e in exports} == {world.student.id}
    assert client.get(f"/referrals/closure/list?{args}").status_code == 200
    (listed,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "closure_drill_down")
    ).all()
    assert listed.detail.startswith("rows=1 ")
    assert listed.student_id == world.student.id


def test_a_closure_export_keeps_iso_times_where_pages_say_yesterday(world, login):
    """Pages say a deadline in words ("yesterday 10:00"); a spreadsheet keeps the time it can
    sort and filter, headed with the clock it is on, read the day after the referral's expected
    closure date, the first day it is overdue. The expected closure is a day, not a time."""
    referral_in(world, S.SENT)  # 10:00 on 14 September in Shanghai: to close by 13 December
    clock.advance(timedelta(days=91))
    client = login(world.director)
    args = "which=due&first=2026-12-01&last=2026-12-31"
    rows = list(csv.reader(io.StringIO(client.get(f"/referrals/closure/export.csv?{args}").text)))
    shown = dict(zip(*rows[:2], strict=True))
    assert shown["Expected closure"] == "2026-12-13"
    assert shown["Sent (Beijing time)"] == "2026-09-14 10:00"
    assert shown["Overdue"] == "Yes"
    assert not {"today", "yesterday"} & {word for cell in rows[1] for word in cell.split()}


def test_an_administrators_closure_export_names_no_student_and_no_referral(world, login):
    referral_in(world, S.SENT)
    clock.advance(timedelta(days=100))
    client = login(world.admin)
    args = "which=overdue&first=2026-01-01&last=2027-12-31"
    page = client.get(f"/referrals/closure/list?{args}").get_data(as_text=True)
    assert "names and student numbers are replaced by a code" in page
    csv_text = client.get(f"/referrals/closure/export.csv?{args}").get_data(as_text=True)
    header, row = (line.split(",") for line in csv_text.lstrip("\ufeff").splitlines()[:2])
    assert header[:3] == ["Student code", "Department", "Hospital"]  # no referral number either
    assert world.student.name not in row
    assert world.student.student_number not in row
    assert row[0].startswith("P")
    (export,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "closure_export_csv")
    ).all()
    assert "tier=deidentified" in export.detail


def test_a_closure_export_reads_in_the_directors_language_as_the_list_does(world, login):
    """Before, the file kept our column names and codes: student_number, sent, True."""
    referral_in(world, S.SENT)
    clock.advance(timedelta(days=100))
    world.director.locale = "zh_CN"
    db.session.commit()
    client = login(world.director)
    args = "which=overdue&first=2026-01-01&last=2027-12-31"
    response = client.get(f"/referrals/closure/export.xlsx?{args}")
    header, first = openpyxl.load_workbook(io.BytesIO(response.data)).active.values
    shown = dict(zip(header, first, strict=True))
    assert header[:4] == ("#", "学号", "姓名", "院系")
    assert shown["学号"] == world.student.student_number
    assert shown["状态"] == "已转介"
    assert shown["逾期未结案"] == "是"
    # A time Excel sorts and filters, not text, headed with the clock it is on.
    assert isinstance(shown["转介时间（北京时间）"], datetime)
    assert openpyxl.load_workbook(io.BytesIO(response.data)).sheetnames == ["该数据对应的转介"]
    # Named in the director's language (`filename*`, which the parser reads first), with the
    # ASCII name for a client that cannot read it.
    disposition, options = parse_options_header(response.headers["Content-Disposition"])
    assert (disposition, options["filename"]) == (
        "attachment",
        "心桥-该数据对应的转介-2026-01-01-2027-12-31.xlsx",
    )
    assert (
        "filename=referrals-overdue-2026-01-01-2027-12-31.xlsx;"
        in response.headers["Content-Disposition"]
    )
    page = client.get(f"/referrals/closure/list?{args}").get_data(as_text=True)
    assert "<th>转介时间</th>" in page  # the list heads the column as its file does
    (export,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "closure_export_xlsx")
    ).all()
    assert export.student_id == world.student.id


def test_closure_page_names_the_institutions_calendar_not_utc(world, login):
    body = login(world.director).get("/referrals/closure").get_data(as_text=True)
    assert "calendar days in Beijing time" in body
    assert "UTC" not in without_tokens(body)


def test_referral_page_punctuates_consent_and_disclosures_in_chinese(world, login):
    referral = walk(world, new_referral(world, disclosed_fields=["name"]), [S.SENT])
    world.counsellor.locale = "zh_CN"
    world.liaison.locale = "zh_CN"
    db.session.commit()
    page = login(world.counsellor).get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "学生本人：Li Lei，书面签字，" in page
    assert "姓名：Li Lei" in page
    liaison_page = login(world.liaison).get(f"/hospital/referrals/{referral.id}")
    assert "学生本人，" in liaison_page.get_data(as_text=True)


def test_liaison_sees_a_passed_green_channel_booking_deadline_marked_overdue(world, login):
    referral = referral_in(world, S.SENT, green_channel=True)
    client = login(world.liaison)
    assert "overdue" not in client.get(f"/hospital/referrals/{referral.id}").get_data(as_text=True)
    clock.advance(timedelta(days=2))
    page = login(world.liaison).get(f"/hospital/referrals/{referral.id}").get_data(as_text=True)
    assert '<strong class="error">overdue</strong>' in page


def test_the_liaisons_list_says_by_when_to_book_and_marks_a_passed_deadline(world, login):
    referral = referral_in(world, S.SENT, green_channel=True)
    listed = login(world.liaison).get("/hospital/referrals/").get_data(as_text=True)
    assert "Book by tomorrow 10:00" in listed  # sent 10:00 in Changsha: 24 hours to book
    assert '<strong class="error">overdue</strong>' not in listed
    clock.advance(timedelta(days=2))
    listed = login(world.liaison).get("/hospital/referrals/").get_data(as_text=True)
    assert '<strong class="error">overdue</strong>' in listed
    assert referral.id


def test_the_counsellor_sees_a_passed_green_channel_booking_deadline_too(world, login):
    """Before: only the liaison's pages marked it; the school's list said "green channel" and
    its detail gave the deadline with nothing to say it had passed."""
    referral = referral_in(world, S.SENT, green_channel=True)
    client = login(world.counsellor)
    assert "Not booked by its deadline" not in client.get("/referrals/").get_data(as_text=True)
    clock.advance(timedelta(days=2))
    client = login(world.counsellor)
    assert "Not booked by its deadline" in client.get("/referrals/").get_data(as_text=True)
    detail = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert '<strong class="error">overdue</strong>' in detail


GREEN_OVERDUE = "1 green-channel referral has no hospital appointment booked by its deadline"


def test_an_overdue_green_channel_is_on_the_home_of_those_who_chase_it(world, login):
    """Before: the sweep's notice went to the inbox and the home said only "1 referral stalled"
    days later; the referring counsellor and the director now see it first, linked to it."""
    referral = referral_in(world, S.SENT, green_channel=True)
    assert GREEN_OVERDUE not in login(world.counsellor).get("/").get_data(as_text=True)
    clock.advance(timedelta(days=2))
    for reader in (world.counsellor, world.director):
        home = login(reader).get("/").get_data(as_text=True)
        assert GREEN_OVERDUE in home
        assert f'href="/referrals/{referral.id}"' in home
    assert GREEN_OVERDUE not in login(world.dept_counsellor).get("/").get_data(as_text=True)
    walk(world, referral, [S.APPOINTMENT_BOOKED])
    assert GREEN_OVERDUE not in login(world.counsellor).get("/").get_data(as_text=True)


def test_the_list_filters_green_channels_not_booked_by_their_deadline(world, login):
    overdue = referral_in(world, S.SENT, green_channel=True)
    clock.advance(timedelta(days=2))
    client = login(world.director)
    page = client.get("/referrals/", query_string={"overdue": "1"}).get_data(as_text=True)
    assert "Showing green-channel referrals not booked by their deadline only: 1." in page
    assert f'href="/referrals/{overdue.id}"' in page


def test_a_second_referral_to_the_same_hospital_is_refused_while_one_is_under_way(world, login):
    """Before: a second form made a second referral; once both were sent the hospital had two
    referrals of one student, and the warning page showed the new draft instead of the sent one."""
    client = login(world.counsellor)

    def refer(hospital) -> object:
        page = client.get(f"/referrals/new/{world.warning.id}").get_data(as_text=True)
        token = page.split('name="submission" type="hidden" value="', 1)[1][:32]
        return client.post(
            f"/referrals/new/{world.warning.id}",
            data={
                "submission": token,
                "hospital_id": hospital.id,
                "reason": "Needs psychiatric assessment",
                "urgency": "urgent",
                "disclosed_fields": ["name"],
                "consent_by": "guardian",
                "consent_name": "Li Dad",
                "consent_method": "phone",
                "consent_at": "2026-09-13T10:00",
            },
        )

    assert refer(world.hospital).status_code == 302
    again = refer(world.hospital)
    assert "already has a referral to this hospital under way" in again.get_data(as_text=True)
    assert len(db.session.scalars(select(Referral)).all()) == 1
    assert refer(world.other_hospital).status_code == 302  # another hospital is another case
    assert len(db.session.scalars(select(Referral)).all()) == 2


def test_the_liaisons_list_gives_a_booked_appointment_its_weekday(world, login):
    referral_in(world, S.APPOINTMENT_BOOKED)
    listed = login(world.liaison).get("/hospital/referrals/").get_data(as_text=True)
    row = listed.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert re.search(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2} \d\d:\d\d", row)


def test_the_liaisons_list_puts_an_overdue_emergency_above_a_newer_case(world, login, campus):
    """Before: newest first, so a 危急 green channel whose booking deadline had passed sat under
    a 紧急 one sent after it; and only the "#" column linked to the referral."""
    overdue = referral_in(world, S.SENT, green_channel=True, urgency=Urgency.EMERGENCY)
    clock.advance(timedelta(days=2))
    other = campus.student(campus.class_group(world.department), campus.room(world.institution))
    db.session.add(Caseload(counsellor_id=world.counsellor.id, student_id=other.id))
    warning = factories.open_warning(other, Level.RED, planned=False, reason="red")
    newer = factories.referral_in(
        S.SENT, warning, world.counsellor, world.hospital, green_channel=True
    )
    listed = login(world.liaison).get("/hospital/referrals/?status=sent").get_data(as_text=True)
    links = re.findall(r'<td><a href="/hospital/referrals/(\d+)">([^<]+)</a></td>', listed)
    names = [(i, text) for i, text in links if text != i]  # not the "#" column's
    assert names == [(str(overdue.id), world.student.name), (str(newer.id), other.name)]


def test_the_counsellors_page_says_what_was_sent_where_and_each_booked_time(world, login):
    """Before: a draft's fields were headed "disclosed to the hospital"; sending said only
    "referral updated"; the booking deadline stayed on the page once booked; and a rebooking
    read as a second "appointment booked" with no time."""
    referral = referral_in(world, S.DRAFT, green_channel=True)
    client = login(world.counsellor)
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "To be disclosed to the hospital when sent" in page
    sent = client.post(
        f"/referrals/{referral.id}/move?target=sent",
        data={"sent-version": referral.version, "sent-confirm": "y"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Referral sent to Brain Hospital." in sent
    assert "Appointment to be booked by" in sent
    first = clock.now() + timedelta(hours=2)
    step(world, referral, S.APPOINTMENT_BOOKED, appointment_at=first)
    step(world, referral, S.APPOINTMENT_BOOKED, appointment_at=first + timedelta(days=1))
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Appointment to be booked by" not in page
    history = re.sub(r"<[^>]+>", "", page.split("<h2>History</h2>")[1])
    assert "Appointment booked: Mon 14 Sep 12:00 ·" in history
    assert "Appointment changed: Mon 14 Sep 12:00 → Tue 15 Sep 12:00 ·" in history
