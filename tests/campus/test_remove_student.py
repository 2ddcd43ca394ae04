"""A student added by mistake: removed with her account while nothing is recorded about her
(that staff looked at her is not a record: she stays in the audit trail, marked removed), kept
(and the page says what keeps her) once anything is; and a mistyped number or name corrected."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from campus import clock
from campus import roster_corrections
from campus import structure
from campus.audit import AuditEvent
from campus.extensions import Model
from campus.extensions import db
from campus.models import WITH_ENDED_ROLES
from campus.models import WITH_REMOVED_STUDENTS
from campus.models import ActivationBatch
from campus.models import ActivationCode
from campus.models import EnrolmentStatus
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from campus.notifications import notify
from screening.models import Campaign
from screening.models import CampaignAssignment
from screening.models import ScreeningResult
from tests.factories import phq9_signal


@pytest.fixture
def school(campus):
    inst = campus.institution("XJU")
    boss = campus.staff(inst, Role.ADMIN)
    dept = campus.department(inst, "计算机学院")
    group = campus.class_group(dept, "计科2601班")
    mistaken = campus.student(group, name="王小红", number="2026099")
    campus.commit()
    return inst, boss, group, mistaken


def _removal_rows() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "remove_student")))


def _tombstone(student_id: int) -> Student | None:
    """What is left of a removed student: her row, seen only by a read that asks for it."""
    assert db.session.scalar(select(Student).where(Student.id == student_id)) is None
    return db.session.scalar(
        select(Student)
        .where(Student.id == student_id)
        .execution_options(**{WITH_REMOVED_STUDENTS: True})
    )


def _campaign(inst) -> Campaign:
    campaign = Campaign(
        institution_id=inst.id,
        name="2026 新生筛查",
        instruments=["phq9"],
        opens_at=clock.now(),
        closes_at=clock.now() + timedelta(days=14),
    )
    db.session.add(campaign)
    db.session.flush()
    return campaign


def test_a_student_with_nothing_recorded_is_removed_with_her_account_and_audited(school, login):
    inst, boss, _group, mistaken = school
    student_id, user_id = mistaken.id, mistaken.user_id
    # What only set her up goes with her: a screening she is due to take, an unused activation
    # code, a note to her account.
    campaign = _campaign(inst)
    db.session.add(CampaignAssignment(campaign_id=campaign.id, student_id=student_id))
    notify(db.session, [user_id], "You are now your class's psychology committee member", "/")
    db.session.commit()
    client = login(boss)
    page = client.get(f"/admin/students/{student_id}/remove").get_data(as_text=True)
    assert "王小红" in page
    assert "2026099" in page
    assert "Nothing is recorded about this student" in page

    response = client.post(
        f"/admin/students/{student_id}/remove",
        data={"reason": "A duplicate of 2026009 in the roster import"},
        follow_redirects=True,
    )

    assert "王小红 (2026099) and their account were removed." in response.get_data(as_text=True)
    left = _tombstone(student_id)
    assert left is not None
    assert (left.enrolment_status, left.user_id) == (EnrolmentStatus.REMOVED, None)
    assert db.session.get(User, user_id) is None
    roles = select(RoleAssignment).where(RoleAssignment.user_id == user_id)
    assert db.session.scalars(roles.execution_options(**{WITH_ENDED_ROLES: True})).all() == []
    assert db.session.scalars(select(CampaignAssignment)).all() == []
    [row] = _removal_rows()
    assert (row.actor_id, row.record_type, row.record_id) == (boss.id, "student", str(student_id))
    assert row.student_id == student_id
    assert row.institution_id == inst.id
    assert row.reason == "A duplicate of 2026009 in the roster import"
    assert row.detail == "2026099 王小红"
    trail = client.get("/admin/audit").get_data(as_text=True)
    assert (
        '王小红 <span class="muted">2026099</span> <span class="muted">(removed: entered' in trail
    )


def test_a_second_click_removes_once_and_says_so(school, login):
    _inst, boss, _group, mistaken = school
    client = login(boss)
    url = f"/admin/students/{mistaken.id}/remove"
    client.post(url, data={"reason": "Typed twice"})

    again = client.post(url, data={"reason": "Typed twice"}, follow_redirects=True)

    assert again.status_code == 200
    assert "This student was removed already." in again.get_data(as_text=True)
    assert len(_removal_rows()) == 1


def test_a_removal_without_a_reason_is_refused_and_nothing_is_removed(school, login):
    _inst, boss, _group, mistaken = school

    response = login(boss).post(f"/admin/students/{mistaken.id}/remove", data={"reason": " "})

    assert response.status_code == 422
    assert "Say why this student is removed." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Student, mistaken.id) is not None
    assert _removal_rows() == []


def test_a_student_with_a_screening_result_is_kept_and_the_page_counts_what_keeps_her(
    school, login
):
    inst, boss, _group, student = school
    campaign = _campaign(inst)
    assignment = CampaignAssignment(
        campaign_id=campaign.id,
        student_id=student.id,
        started_at=clock.now(),
        completed_at=clock.now(),
    )
    db.session.add(assignment)
    db.session.flush()
    db.session.add(
        ScreeningResult(
            assignment_id=assignment.id,
            campaign_id=campaign.id,
            student_id=student.id,
            institution_id=inst.id,
            instrument="phq9",
            instrument_version="1",
            answers={str(i): 1 for i in range(1, 10)},
            total=9,
            band="mild",
        )
    )
    db.session.commit()
    client = login(boss)

    page = client.get(f"/admin/students/{student.id}/remove").get_data(as_text=True)

    assert "Why this student cannot be removed" in page
    assert "<td>Screening results</td><td>1</td>" in page
    assert "<td>Screenings started</td><td>1</td>" in page
    assert "band" not in page
    assert "mild" not in page
    assert "End the enrolment instead" in page
    assert "/admin/roster" in page
    assert 'name="reason"' not in page
    refused = client.post(
        f"/admin/students/{student.id}/remove",
        data={"reason": "Wrong person"},
        follow_redirects=True,
    )
    assert "records about this student are kept" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Student, student.id) is not None
    assert _removal_rows() == []


def test_a_student_with_a_warning_is_kept_and_the_page_counts_it(school, login):
    _inst, boss, _group, student = school
    phq9_signal(student, 12)

    page = login(boss).get(f"/admin/students/{student.id}/remove").get_data(as_text=True)

    assert "<td>Warnings</td><td>1</td>" in page
    assert "<td>Risk signals</td><td>1</td>" in page
    assert "PHQ-9" not in page
    assert roster_corrections.what_keeps(db.session, student)


def test_a_student_whose_activation_code_was_used_is_kept(school, login):
    _inst, boss, _group, student = school
    db.session.add(
        ActivationCode(
            batch_id=_batch(student, boss),
            user_id=student.user_id,
            code_hash="x",
            expires_at=clock.now() + timedelta(days=7),
            used_at=clock.now(),
        )
    )
    db.session.commit()

    page = login(boss).get(f"/admin/students/{student.id}/remove").get_data(as_text=True)

    assert "<td>Activation codes used</td><td>1</td>" in page


def _batch(student: Student, issuer: User) -> int:
    batch = ActivationBatch(
        institution_id=student.institution_id,
        issued_by_id=issuer.id,
        class_id=student.class_id,
        grade=2026,
        valid_days=7,
        expires_at=clock.now() + timedelta(days=7),
    )
    db.session.add(batch)
    db.session.flush()
    return batch.id


def test_another_institutions_student_or_a_forged_id_is_not_found(school, campus, login):
    _inst, boss, _group, _mistaken = school
    other = campus.institution("HNU")
    elsewhere = campus.student(
        campus.class_group(campus.department(other, "数学学院"), "数学2601班")
    )
    campus.commit()
    client = login(boss)

    for student_id in (elsewhere.id, 999_999):
        assert client.get(f"/admin/students/{student_id}/remove").status_code == 404
        posted = client.post(f"/admin/students/{student_id}/remove", data={"reason": "x"})
        assert posted.status_code == 404
        assert client.get(f"/admin/students/{student_id}/correct").status_code == 404
        corrected = client.post(
            f"/admin/students/{student_id}/correct", data={"student_number": "1", "name": "x"}
        )
        assert corrected.status_code == 404
    assert db.session.get(Student, elsewhere.id) is not None


def test_every_table_about_a_student_has_words_on_the_removal_page():
    about_a_student = {
        table.name
        for table in Model.metadata.sorted_tables
        for key in table.foreign_keys
        if key.column.table.name == "student" and table.name != "activation_batch"
    }
    assert about_a_student - set(roster_corrections.RECORD_WORDS) == set()


def test_a_mistyped_number_and_name_are_corrected_with_the_sign_in_and_audited(school, login):
    _inst, boss, _group, student = school
    client = login(boss)
    assert "Correct the number or name" in client.get(f"/admin/users/{student.user_id}").get_data(
        as_text=True
    )

    response = client.post(
        f"/admin/students/{student.id}/correct",
        data={"student_number": " 2026009 ", "name": "王晓红"},
        follow_redirects=True,
    )

    assert "Corrected." in response.get_data(as_text=True)
    db.session.refresh(student)
    assert (student.student_number, student.name) == ("2026009", "王晓红")
    assert (student.user.login, student.user.name) == ("2026009", "王晓红")
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "correct_student"))
    assert row.student_id == student.id
    assert row.detail == "number 2026099 -> 2026009; name 王小红 -> 王晓红"


def test_a_number_already_someones_is_refused_and_nothing_changes(school, campus, login):
    _inst, boss, group, student = school
    campus.student(group, number="2026001")
    campus.commit()
    client = login(boss)

    taken = client.post(
        f"/admin/students/{student.id}/correct",
        data={"student_number": "2026001", "name": "王小红"},
    )
    formula = client.post(
        f"/admin/students/{student.id}/correct",
        data={"student_number": "=1+1", "name": "王小红"},
    )
    not_numbers = [
        client.post(
            f"/admin/students/{student.id}/correct",
            data={"student_number": number, "name": "王小红"},
        )
        for number in ("abc123", " 2026 01718 ", "2026-01718")
    ]

    assert taken.status_code == 422
    assert "Student number 2026001 is already someone else&#39;s." in taken.get_data(as_text=True)
    assert formula.status_code == 422
    assert "cannot start with =, +, - or @" in formula.get_data(as_text=True)
    for refused, number in zip(not_numbers, ("abc123", "2026 01718", "2026-01718"), strict=True):
        assert refused.status_code == 422
        assert (
            f"&#39;{number}&#39; is not a student number: use digits and capital letters only"
            in refused.get_data(as_text=True)
        )
    db.session.refresh(student)
    assert student.student_number == "2026099"
    assert student.user.login == "2026099"
    assert (
        db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "correct_student"))
        is None
    )


def test_a_student_only_looked_at_is_removed_out_of_every_list_and_stays_named_in_the_trail(
    school, campus, login
):
    inst, boss, group, student = school
    # She is due to take a screening she never started, so her department's counsellor sees her
    # on the list of those yet to complete it; the administrator opens her file and corrects her
    # number: each read or change names her in the audit trail, which is never rewritten.
    campaign = _campaign(inst)
    db.session.add(CampaignAssignment(campaign_id=campaign.id, student_id=student.id))
    counsellor = campus.staff(inst, Role.DEPT_COUNSELLOR, department=group.department)
    campus.commit()
    chaser = login(counsellor)
    progress = f"/screening/campaigns/{campaign.id}/departments/{group.department_id}"
    assert "王小红" in chaser.get(progress).get_data(as_text=True)
    client = login(boss)
    assert client.get(f"/casework/students/{student.id}").status_code == 200
    client.post(
        f"/admin/students/{student.id}/correct",
        data={"student_number": "2026098", "name": "王小红"},
    )
    page = client.get(f"/admin/students/{student.id}/remove").get_data(as_text=True)
    assert "Nothing is recorded about this student" in page
    assert "Staff opened pages naming this student 3 times." in page

    removal = client.post(
        f"/admin/students/{student.id}/remove",
        data={"reason": "Not our student"},
        follow_redirects=True,
    )
    assert "王小红 (2026098) and their account were removed." in removal.get_data(as_text=True)

    assert _tombstone(student.id).enrolment_status is EnrolmentStatus.REMOVED
    assert "王小红" not in login(counsellor).get(progress).get_data(as_text=True)
    client = login(boss)
    assert "王小红" not in client.get("/students?q=2026098").get_data(as_text=True)
    assert client.get(f"/casework/students/{student.id}").status_code == 404
    old_link = client.get(f"/admin/students/{student.id}/remove", follow_redirects=True)
    assert "王小红 (2026098) was removed as entered in error." in old_link.get_data(as_text=True)
    trail = client.get("/admin/audit?student_number=2026098").get_data(as_text=True)
    named = '王小红 <span class="muted">2026098</span> <span class="muted">(removed: entered'
    assert trail.count(named) == 4  # the list, the file, the correction, the removal
    # The class she alone was in may go, and her number, a mistake, is free for the student it
    # really is.
    assert structure.removable(db.session, group) is None
    campus.student(group, number="2026098")
    campus.commit()


def test_a_student_looked_at_with_a_warning_is_kept(school, login):
    _inst, boss, _group, student = school
    phq9_signal(student, 12)
    client = login(boss)
    assert client.get(f"/casework/students/{student.id}").status_code == 200

    refused = client.post(f"/admin/students/{student.id}/remove", data={"reason": "Mistake"})

    assert refused.status_code == 302
    db.session.expire_all()
    assert db.session.get(Student, student.id).enrolment_status is EnrolmentStatus.ENROLLED
    assert _removal_rows() == []
