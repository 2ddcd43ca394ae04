"""Roster import validates the whole file, reports every bad row, and never half-imports."""

from __future__ import annotations

import io
from datetime import date
from datetime import datetime

import pandas as pd
import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import roster
from campus.extensions import db
from campus.models import ClassGroup
from campus.models import DormBuilding
from campus.models import DormRoom
from campus.models import EnrolmentStatus
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import RoleEnd
from campus.models import Student
from campus.models import User
from campus.notifications import Notification
from campus.spreadsheets import ImportFileError
from casework import guardian_corrections

HEADER = "student_number,name,gender,birth_date,department,class,grade,dorm_building,room\n"
GOOD = (
    "2026001,张三,男,2007-05-01,计算机学院,计科2601班,2026,1栋,101\n"
    "2026002,李四,女,2007-06-02,计算机学院,计科2601班,2026,1栋,102\n"
)
TODAY = date(2026, 9, 14)


@pytest.fixture
def school(campus):
    inst = campus.institution("XJU")
    dept = campus.department(inst, "计算机学院")
    campus.class_group(dept, "计科2601班")
    building = DormBuilding(institution_id=inst.id, name="1栋")
    db.session.add_all([DormRoom(building=building, number=n) for n in ("101", "102")])
    admin = campus.staff(inst, Role.ADMIN, login="admin")
    campus.commit()
    return inst, admin


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _frame(text: str) -> pd.DataFrame:
    return roster.read_table("roster.csv", text.encode("utf-8"))


def test_clean_file_imports_students_with_accounts_and_units(school):
    inst, admin = school
    report = roster.import_roster(
        db.session, inst, admin, _frame(HEADER + GOOD), create_units=True, today=TODAY
    )
    assert report.imported
    assert report.created == 2
    assert not report.errors
    student = db.session.scalar(select(Student).where(Student.student_number == "2026001"))
    assert student.room.label == "1栋-101"
    assert student.gender == "M"
    assert student.user.has_role(Role.STUDENT)
    assert student.user.password_hash is None


def test_reimport_updates_instead_of_duplicating(school):
    inst, admin = school
    roster.import_roster(
        db.session, inst, admin, _frame(HEADER + GOOD), create_units=True, today=TODAY
    )
    changed = GOOD.replace("张三", "张三丰")
    report = roster.import_roster(
        db.session, inst, admin, _frame(HEADER + changed), create_units=True, today=TODAY
    )
    assert report.updated == 2
    assert report.created == 0
    assert _count(Student) == 2
    assert (
        db.session.scalar(select(Student.name).where(Student.student_number == "2026001"))
        == "张三丰"
    )


def test_broken_file_reports_every_bad_row_and_imports_nothing(school):
    inst, admin = school
    broken = (
        HEADER
        + GOOD
        + (
            "2026003,王五,男,2007-13-45,计算机学院,计科2601班,2026,,\n"  # bad date
            "2026004,赵六,女,2007-01-01,计算机学院,不存在班,2026,,\n"  # unknown class
            "2026001,重复,女,2007-01-01,计算机学院,计科2601班,2026,,\n"  # duplicate number
            "2026005,钱七,X,2007-01-01,计算机学院,计科2601班,twenty,,\n"  # gender and grade
            " 2026 006 ,孙八,男,2007-01-01,计算机学院,计科2601班,2026,,\n"  # a space inside
            "abc123,周九,女,2007-01-01,计算机学院,计科2601班,2026,,\n"  # not a student number
        )
    )
    users_before = _count(User)
    report = roster.import_roster(
        db.session, inst, admin, _frame(broken), create_units=False, today=TODAY
    )
    assert not report.imported
    by_line: dict[int, dict[str, str]] = {}
    for error in report.errors:
        by_line.setdefault(error.line, {})[error.column] = error.reason
    assert set(by_line) == {2, 4, 5, 6, 7, 8, 9}
    assert "not a day of the calendar" in by_line[4]["birth_date"]
    assert "unknown class" in by_line[5]["class"]
    assert "also on row(s) 6" in by_line[2]["student_number"]
    assert "also on row(s) 2" in by_line[6]["student_number"]
    assert set(by_line[7]) == {"gender", "grade"}
    assert "'2026 006' is not a student number" in by_line[8]["student_number"]
    assert "'abc123' is not a student number" in by_line[9]["student_number"]
    assert _count(Student) == 0
    assert _count(User) == users_before


def test_clean_rows_only_imports_the_good_rows_when_asked(school):
    inst, admin = school
    text = HEADER + GOOD + "2026003,王五,男,not-a-date,计算机学院,计科2601班,2026,,\n"
    report = roster.import_roster(
        db.session, inst, admin, _frame(text), create_units=True, clean_rows_only=True, today=TODAY
    )
    assert report.imported
    assert report.created == 2
    assert len(report.errors) == 1
    assert _count(Student) == 2


def test_class_of_another_department_is_refused_even_when_creating_units(school):
    inst, admin = school
    text = HEADER + "2026009,孙八,男,2007-01-01,数学学院,计科2601班,2026,,\n"
    report = roster.import_roster(
        db.session, inst, admin, _frame(text), create_units=True, today=TODAY
    )
    assert not report.imported
    assert "belongs to 计算机学院" in report.errors[0].reason
    assert _count(ClassGroup) == 1


def test_wrong_file_type_and_missing_columns_are_clear_errors(app):
    with pytest.raises(ImportFileError, match="CSV or XLSX"):
        roster.read_table("roster.pdf", b"%PDF-1.4")
    with pytest.raises(ImportFileError, match="Missing columns: 性别 \\(gender\\)"):
        roster.read_table("roster.csv", b"student_number,name,birth_date,department,class,grade\n")


def test_xlsx_roster_is_read_like_csv(school):
    inst, admin = school
    buffer = io.BytesIO()
    pd.read_csv(io.StringIO(HEADER + GOOD), dtype=str).to_excel(buffer, index=False)
    frame = roster.read_table("roster.xlsx", buffer.getvalue())
    report = roster.import_roster(db.session, inst, admin, frame, create_units=True, today=TODAY)
    assert report.created == 2


def test_upload_page_shows_every_problem_and_imports_nothing(login, school):
    _inst, admin = school
    client = login(admin)
    bad = HEADER + "2026003,王五,男,2007-13-45,计算机学院,不存在班,2026,,\n"
    response = client.post(
        "/admin/roster",
        data={"file": (io.BytesIO(bad.encode()), "roster.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "2007-13-45" in page
    assert "不存在班" in page
    assert _count(Student) == 0


def test_cli_import_exits_non_zero_on_a_broken_file(app, school, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(
        HEADER + "2026003,王五,男,2007-13-45,计算机学院,计科2601班,2026,,\n", encoding="utf-8"
    )
    result = app.test_cli_runner().invoke(args=["campus", "import-roster", "XJU", str(path)])
    assert result.exit_code == 2
    assert "line 2" in result.output
    assert "nothing imported" in result.output


def _peers(role: Role) -> list[tuple[str, int | None, int | None]]:
    rows = db.session.execute(
        select(User.login, RoleAssignment.class_id, RoleAssignment.room_id)
        .join(User, User.id == RoleAssignment.user_id)
        .where(RoleAssignment.role == role)
        .order_by(User.login)
    )
    return [tuple(row) for row in rows]


PEERS = (
    "学号,姓名,性别,出生日期,院系,班级,年级,楼栋,房间号,职务\n"
    "2026001,张三,男,2007-05-01,计算机学院,计科2601班,2026,1栋,101,心理委员\n"
    "2026002,李四,女,2007-06-02,计算机学院,计科2601班,2026,1栋,102,宿舍长、班长\n"
    "2026003,王五,男,2007-07-03,计算机学院,计科2601班,2026,1栋,102,班长\n"
)


def test_the_position_column_appoints_committee_members_and_informants_once(school):
    inst, admin = school
    report = roster.import_roster(db.session, inst, admin, _frame(PEERS), today=TODAY)
    assert report.imported
    assert report.peers_appointed == 2
    group = db.session.scalar(select(ClassGroup))
    room_102 = db.session.scalar(select(DormRoom).where(DormRoom.number == "102"))
    assert _peers(Role.CLASS_COMMITTEE) == [("2026001", group.id, None)]
    assert _peers(Role.DORM_INFORMANT) == [("2026002", None, room_102.id)]
    told = db.session.execute(
        select(User.login, Notification.text).join(User, User.id == Notification.user_id)
    )
    assert sorted((login, text.split(".")[0]) for login, text in told) == [
        ("2026001", "You are now your class's psychology committee member"),
        ("2026002", "You are now your dorm room's informant"),
    ]

    again = roster.import_roster(db.session, inst, admin, _frame(PEERS), today=TODAY)
    assert again.imported
    assert again.peers_appointed == 0
    assert len(_peers(Role.CLASS_COMMITTEE)) == 1
    assert len(_peers(Role.DORM_INFORMANT)) == 1


def test_an_informant_without_a_room_or_a_peer_on_leave_stops_the_whole_file(school):
    inst, admin = school
    text = (
        "学号,姓名,性别,出生日期,院系,班级,年级,职务,学籍状态\n"
        "2026001,张三,男,2007-05-01,计算机学院,计科2601班,2026,宿舍长,在读\n"
        "2026002,李四,女,2007-06-02,计算机学院,计科2601班,2026,心理委员,休学\n"
        "2026003,王五,男,2007-07-03,计算机学院,计科2601班,2026,心理委员,在读\n"
    )
    report = roster.import_roster(db.session, inst, admin, _frame(text), today=TODAY)
    assert not report.imported
    assert sorted((e.line, e.column) for e in report.errors) == [(2, "职务"), (3, "职务")]
    reasons = [e.shown_reason() for e in report.errors]
    assert reasons == [
        "a dorm informant needs the room they live in (宿舍)",
        "only an enrolled student can be a committee member or informant",
    ]
    assert _count(Student) == 0
    assert _peers(Role.CLASS_COMMITTEE) == []


def test_a_peer_who_moves_out_of_the_room_or_goes_on_leave_loses_the_role(school, login):
    inst, admin = school
    roster.import_roster(db.session, inst, admin, _frame(PEERS), today=TODAY)
    later = (
        "学号,姓名,性别,出生日期,院系,班级,年级,楼栋,房间号,学籍状态\n"
        "2026001,张三,男,2007-05-01,计算机学院,计科2601班,2026,1栋,101,休学\n"
        "2026002,李四,女,2007-06-02,计算机学院,计科2601班,2026,1栋,101,在读\n"
    )
    report = roster.import_roster(db.session, inst, admin, _frame(later), today=TODAY)
    assert report.imported, [e.shown_reason() for e in report.errors]
    assert report.peers_ended == 2
    assert _peers(Role.CLASS_COMMITTEE) == []
    assert _peers(Role.DORM_INFORMANT) == []
    ended = db.session.scalars(
        select(RoleAssignment)
        .where(RoleAssignment.role.in_([Role.CLASS_COMMITTEE, Role.DORM_INFORMANT]))
        .execution_options(with_ended_roles=True)
    ).all()
    assert [(a.end_reason, a.ended_by_id) for a in ended] == [(RoleEnd.LEFT_UNIT, admin.id)] * 2
    page = login(admin).get(f"/admin/users/{ended[0].user_id}").get_data(as_text=True)
    assert "Ended when a roster import moved the student out of this class or room" in page


def test_a_mistyped_unit_name_suggests_the_existing_one_instead_of_creating_it(school):
    inst, admin = school
    text = HEADER + (
        "2026001,张三,男,2007-05-01,计算机学院,计算机2601班,2026,1栋,101\n"  # 计科2601班
        "2026002,李四,女,2007-06-02,计算机学员,计科2601班,2026,1栋,102\n"  # 计算机学院
        "2026003,王五,男,2007-06-02,计算机学院,计科2601班,2026,1幢,101\n"  # 1栋
        "2026004,赵六,女,2007-06-02,计算机学院,计科2602班,2026,1栋,103\n"  # really new
    )
    report = roster.import_roster(
        db.session, inst, admin, _frame(text), create_units=False, today=TODAY
    )
    reasons: dict[int, str] = {}
    for error in report.errors:
        reasons[error.line] = reasons.get(error.line, "") + error.reason + "\n"
    assert "did you mean '计科2601班'? Correct the file and import again" in reasons[2]
    assert "unknown department '计算机学员': did you mean '计算机学院'?" in reasons[3]
    assert "unknown dorm building '1幢': did you mean '1栋'?" in reasons[4]
    assert "tick" not in reasons[2] + reasons[3] + reasons[4]
    # A class with another number is a new class: creating it is the remedy, and a new room of
    # a known building too.
    assert "unknown class '计科2602班' in 计算机学院: tick" in reasons[5]
    assert "unknown dorm room 1栋-103: tick" in reasons[5]
    assert _count(Student) == 0


def test_a_file_without_the_guardian_columns_keeps_the_guardians_on_record(school):
    """A second file (a dorm update) without 监护人/监护人电话 erased every guardian's number, the
    one a counsellor must call within 24 hours of a red warning."""
    inst, admin = school
    with_guardians = (
        HEADER.rstrip("\n")
        + ",监护人,监护人电话\n"
        + GOOD.replace("101\n", "101,张父,13912345678\n")
    )
    roster.import_roster(db.session, inst, admin, _frame(with_guardians), today=TODAY)
    moved = GOOD.replace("1栋,101", "1栋,102")
    roster.import_roster(db.session, inst, admin, _frame(HEADER + moved), today=TODAY)
    student = db.session.scalar(select(Student).where(Student.student_number == "2026001"))
    assert student.room.label == "1栋-102"  # the file's word on what it gives
    assert (student.guardian_name, student.guardian_phone) == ("张父", "13912345678")
    corrected = with_guardians.replace("张父,13912345678", "张母,13800000000")
    roster.import_roster(db.session, inst, admin, _frame(corrected), today=TODAY)
    db.session.refresh(student)
    assert (student.guardian_name, student.guardian_phone) == ("张母", "13800000000")


def test_a_counsellors_correction_of_the_guardian_outlives_a_file_that_still_has_the_old_one(
    school, campus
):
    """The registry's file, exported again each term, carries the number a counsellor found
    wrong: the import keeps her correction and names the student, until a file agrees with it."""
    inst, admin = school
    with_guardians = (
        HEADER.rstrip("\n")
        + ",监护人,监护人电话\n"
        + GOOD.replace("101\n", "101,张父,13912345678\n")
    )
    roster.import_roster(db.session, inst, admin, _frame(with_guardians), today=TODAY)
    student = db.session.scalar(select(Student).where(Student.student_number == "2026001"))
    counsellor = campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    guardian_corrections.correct_guardian(
        db.session,
        counsellor,
        student,
        guardian_corrections.GuardianChange("张父", "13912345678", "张母", "13800000000"),
        datetime(2026, 9, 20, 8, 0),
    )

    report = roster.import_roster(db.session, inst, admin, _frame(with_guardians), today=TODAY)
    db.session.refresh(student)
    assert report.guardians_kept == ["2026001"]
    assert (student.guardian_name, student.guardian_phone) == ("张母", "13800000000")
    assert student.guardian_corrected_by_id == counsellor.id

    # The registry caught up: the roster is the source again, and its next number is taken.
    caught_up = with_guardians.replace("张父,13912345678", "张母,138 0000 0000")
    report = roster.import_roster(db.session, inst, admin, _frame(caught_up), today=TODAY)
    db.session.refresh(student)
    assert report.guardians_kept == []
    assert student.guardian_corrected_at is None
    moved_on = with_guardians.replace("张父,13912345678", "张母,13811112222")
    roster.import_roster(db.session, inst, admin, _frame(moved_on), today=TODAY)
    db.session.refresh(student)
    assert student.guardian_phone == "13811112222"


def test_a_class_list_without_status_or_dorm_columns_keeps_a_leave_and_the_rooms(school):
    """A file of names and classes alone put every student on leave back to enrolled (back into
    screenings and peer roles) and emptied every room."""
    inst, admin = school
    roster.import_roster(db.session, inst, admin, _frame(HEADER + GOOD), today=TODAY)
    on_leave = db.session.scalar(select(Student).where(Student.student_number == "2026002"))
    on_leave.enrolment_status = EnrolmentStatus.ON_LEAVE
    db.session.commit()
    class_list = "student_number,name,gender,birth_date,department,class\n" + "".join(
        line.rsplit(",", 3)[0] + "\n" for line in GOOD.splitlines()
    )
    roster.import_roster(db.session, inst, admin, _frame(class_list), today=TODAY)
    students = {s.student_number: s for s in db.session.scalars(select(Student)).all()}
    assert students["2026002"].enrolment_status is EnrolmentStatus.ON_LEAVE
    assert students["2026001"].enrolment_status is EnrolmentStatus.ENROLLED
    assert [students[n].room.label for n in ("2026001", "2026002")] == ["1栋-101", "1栋-102"]


def test_a_student_number_with_two_adjacent_digits_swapped_suggests_the_one_on_record(school):
    """张三 on record as 2024010123, typed 2024010132 in a later file: the import added her a
    second time, with no word of the number she has."""
    inst, admin = school
    first = HEADER + (
        "2024010123,张三,男,2007-05-01,计算机学院,计科2601班,2026,1栋,101\n"
        "2024010124,李四,女,2007-06-02,计算机学院,计科2601班,2026,1栋,102\n"
    )
    roster.import_roster(db.session, inst, admin, _frame(first), today=TODAY)
    later = HEADER + (
        "2024010132,张三,男,2007-05-01,计算机学院,计科2601班,2026,1栋,101\n"  # 2024010123
        "2024010134,李四,女,2007-06-02,计算机学院,计科2601班,2026,1栋,102\n"  # one digit off
        "2024010125,王五,男,2007-06-02,计算机学院,计科2601班,2026,1栋,101\n"  # new, no one's
    )
    report = roster.import_roster(db.session, inst, admin, _frame(later), today=TODAY)
    by_line = {e.line: e for e in report.errors}
    assert set(by_line) == {2}
    assert by_line[2].reason == (
        "student number 2024010132 is not on record, but 张三 is, as 2024010123: did you mean "
        "'2024010123'? Correct the file and import again"
    )
    assert by_line[2].column == "student_number"
    assert not report.imported
    assert _count(Student) == 2


def test_a_new_number_next_to_another_students_is_no_typo(school):
    """Numbers run in sequence: 2024010132 beside 王五's 2024010123 is another student."""
    inst, admin = school
    first = HEADER + "2024010123,王五,男,2007-05-01,计算机学院,计科2601班,2026,1栋,101\n"
    roster.import_roster(db.session, inst, admin, _frame(first), today=TODAY)
    later = HEADER + "2024010132,张三,男,2007-05-01,计算机学院,计科2601班,2026,1栋,101\n"
    report = roster.import_roster(db.session, inst, admin, _frame(later), today=TODAY)
    assert report.imported, [e.shown_reason() for e in report.errors]
    assert _count(Student) == 2


def test_swapped_neighbours_are_each_adjacent_pair_the_other_way_round():
    assert roster.swapped_neighbours("1123") == ["1213", "1132"]
    assert "2024010123" in roster.swapped_neighbours("2024010132")
