"""Rosters as a Chinese registry writes them: Chinese headers, GBK or UTF-8 with a BOM, combined
dorm columns, grades read off class names, formula cells, and every bad cell named by the row and
column Excel shows. The registrar and paper-result imports read files the same way."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook
from openpyxl import load_workbook
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus import roster
from campus.extensions import db
from campus.models import ClassGroup
from campus.models import EnrolmentStatus
from campus.models import Role
from campus.models import Student
from campus.spreadsheets import read_table
from screening import results_import
from screening.instruments import load_instrument
from warning import academic
from warning.models import AcademicRecord

TODAY = date(2026, 9, 14)
HEADER = "学号,姓名,性别,出生日期,学院,专业班级,年级,宿舍,家长姓名,联系电话,学籍状态,籍贯\n"
ROWS = (
    "2026001,张三,男,2008-03-15,计算机学院,计科2601班,2026,东2栋-410,张建国,13800138000,在读,湖南长沙\n"
    "2026002,李四,女,2008/4/2,计算机学院,计科2601班,2026,东2栋410室,李红,0731-88881234,休学,湖南岳阳\n"
)


@pytest.fixture
def school(campus):
    inst = campus.institution("XJU")
    admin = campus.staff(inst, Role.ADMIN, login="admin")
    campus.commit()
    return inst, admin


def _students() -> int:
    return db.session.scalar(select(func.count()).select_from(Student))


def _import(school, payload: bytes, name: str = "名单.csv", **options):
    inst, admin = school
    table = roster.read_table(name, payload)
    options.setdefault("create_units", True)
    return roster.import_roster(db.session, inst, admin, table, today=TODAY, **options)


def _problems(report) -> dict[tuple[int, str], str]:
    return {(e.line, e.column): str(e.reason) for e in report.errors}


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_gbk_roster_with_chinese_headers_imports_with_dorms_split_and_statuses_read(school):
    report = _import(school, (HEADER + ROWS).encode("gbk"))
    assert report.imported, _problems(report)
    assert report.created == 2
    assert [str(n) for n in report.unused] == ["Column 「籍贯」 was not used."]
    zhang, li = db.session.scalars(select(Student).order_by(Student.student_number))
    assert (zhang.room.building.name, zhang.room.number) == ("东2栋", "410")
    assert li.room is zhang.room
    assert li.birth_date == date(2008, 4, 2)
    assert (li.guardian_name, li.guardian_phone) == ("李红", "0731-88881234")
    assert li.enrolment_status is EnrolmentStatus.ON_LEAVE
    assert zhang.class_group.name == "计科2601班"


def test_a_utf8_roster_with_a_byte_order_mark_reads_its_first_header(school):
    report = _import(school, "\ufeff".encode() + (HEADER + ROWS).encode())
    assert report.imported, _problems(report)
    assert report.created == 2


def test_an_impossible_date_and_duplicates_are_named_by_row_and_column(school):
    text = (
        HEADER
        + ROWS
        + ("2026001,王五,男,2005-02-30,计算机学院,计科2601班,2026,东2栋-411,,,在读,\n")
    )
    report = _import(school, text.encode("gbk"))
    problems = _problems(report)
    assert not report.imported
    assert problems[(4, "出生日期")] == "'2005-02-30' is not a day of the calendar"
    assert problems[(2, "学号")] == "student number 2026001 is also on row(s) 4"
    assert problems[(4, "学号")] == "student number 2026001 is also on row(s) 2"
    assert _students() == 0


def test_empty_cells_unknown_genders_bad_phones_and_roomless_dorms_are_reported(school):
    text = HEADER + ("2026003,,未知,2008-01-01,计算机学院,计科2601班,2026,东2栋,王父,12345,在读,\n")
    problems = _problems(_import(school, text.encode("gbk")))
    assert set(problems) == {(2, "姓名"), (2, "性别"), (2, "联系电话"), (2, "宿舍")}
    assert problems[(2, "性别")] == "'未知' is not 男 or 女 (or M/F)"
    assert "not a phone number" in problems[(2, "联系电话")]
    assert _students() == 0


def test_an_xlsx_formula_cell_is_reported_never_read_as_empty_or_as_its_value(school):
    header = HEADER.strip().split(",")
    good = ROWS.splitlines()[0].split(",")
    formula = ["2026002", '=CONCATENATE("李","四")', *good[2:]]
    report = _import(school, _xlsx([header, good, formula]), name="名单.xlsx")
    problems = _problems(report)
    assert not report.imported
    assert list(problems) == [(3, "姓名")]
    assert "formula" in problems[(3, "姓名")]
    assert _students() == 0


def test_a_csv_text_cell_starting_like_a_formula_is_reported_but_a_phone_may_start_with_plus(
    school,
):
    text = HEADER + ROWS.replace("张三", "=HYPERLINK(1)").replace("13800138000", "+8613800138000")
    problems = _problems(_import(school, text.encode("gbk")))
    assert list(problems) == [(2, "姓名")]
    assert _students() == 0


def test_xlsx_dates_and_numbers_are_read_as_a_person_sees_them(school):
    header = HEADER.strip().split(",")
    row = ROWS.splitlines()[0].split(",")
    typed = [2026001, "张三", "男", date(2008, 3, 15), *row[4:6], 2026, *row[7:]]
    report = _import(school, _xlsx([header, typed, [None] * len(header)]), name="名单.xlsx")
    assert report.imported, _problems(report)
    student = db.session.scalar(select(Student))
    assert (student.student_number, student.birth_date) == ("2026001", date(2008, 3, 15))


def test_a_missing_grade_is_read_off_the_class_name_or_the_student_number(school):
    text = HEADER + ROWS.replace(",2026,", ",,").replace("计科2601班", "计科1班")
    report = _import(school, text.encode("gbk"))
    assert report.imported, _problems(report)
    assert db.session.scalar(select(ClassGroup.grade)) == 2026
    assert roster.derive_grade("计科2501班", "X01", TODAY) == 2025
    assert roster.derive_grade("2024级心理学1班", "X01", TODAY) == 2024


def test_a_grade_the_file_does_not_show_is_asked_once_for_the_import_never_guessed(school):
    # Class 计科2501班 says 2025, the student numbers say 2026: ambiguous, so nothing is guessed.
    text = HEADER + ROWS.replace(",2026,", ",,").replace("计科2601班", "计科2501班")
    report = _import(school, text.encode("gbk"))
    assert not report.imported
    assert report.grade_missing == [2, 3]
    assert report.errors == []
    assert _students() == 0
    report = _import(school, text.encode("gbk"), grade=2025)
    assert report.imported
    assert db.session.scalar(select(ClassGroup.grade)) == 2025


def test_the_import_page_asks_for_the_grade_then_imports_with_it(school, login):
    _inst, admin = school
    admin.locale = "zh_CN"
    client = login(admin)
    text = HEADER + ROWS.replace(",2026,", ",,").replace("计科2601班", "计科2501班")

    def post(**fields):
        data = {"file": (io.BytesIO(text.encode("gbk")), "名单.csv"), "create_units": "y"}
        return client.post("/admin/roster", data=data | fields, content_type="multipart/form-data")

    asked = post()
    assert asked.status_code == 422
    assert "第 2, 3 行没有年级" in asked.get_data(as_text=True)
    assert _students() == 0
    assert post(grade="2025").status_code == 200
    assert _students() == 2


def test_the_page_names_row_column_and_unused_columns_in_chinese(school, login):
    _inst, admin = school
    admin.locale = "zh_CN"
    text = HEADER + ROWS.replace("2008-03-15", "2005-02-30")
    response = login(admin).post(
        "/admin/roster",
        data={"file": (io.BytesIO(text.encode("gbk")), "名单.csv"), "create_units": "y"},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        "<td>2</td><td>出生日期</td><td>2026001</td><td>“2005-02-30”不是实际存在的日期</td>" in page
    )
    assert "列「籍贯」未使用。" in page


def test_the_roster_templates_have_chinese_headers_and_drop_downs_and_no_row_to_import(
    school, login
):
    """Found by an administrator setting up a campus: the template's example row, imported as
    downloaded with 自动创建 ticked, made a student 张三, a department and a committee member
    that no page could take back. The sheet to fill in now holds the headers only; the example
    and the rules stand on the 填写说明 sheet, which the import does not read."""
    school[1].locale = "zh_CN"
    client = login(school[1])
    xlsx = client.get("/admin/roster/template.xlsx")
    assert xlsx.status_code == 200
    workbook = load_workbook(io.BytesIO(xlsx.data))
    assert workbook.sheetnames == ["学生名单", "填写说明"]
    sheet = workbook["学生名单"]
    headers = [c.value for c in sheet[1]]
    assert headers[:6] == ["学号", "姓名", "性别", "出生日期", "院系", "班级"]
    assert sheet.max_row == 1  # no example to import by accident
    lists = {
        headers[next(iter(rule.sqref.ranges)).min_col - 1]: rule.formula1
        for rule in sheet.data_validations.dataValidation
    }
    assert lists == {
        "性别": '"男,女"',
        "学籍状态": '"在读,休学,毕业,退学"',
        "职务": '"心理委员,宿舍长"',
    }
    notes = [[c.value for c in row] for row in workbook["填写说明"].iter_rows()]
    assert ["学号", "必填。按文本填写，开头的 0 会保留。"] in [n[:2] for n in notes]
    assert list(roster.TEMPLATE.example) in notes
    csv = client.get("/admin/roster/template.csv")
    assert csv.data.startswith(b"\xef\xbb\xbf\xe5\xad\xa6\xe5\x8f\xb7")  # BOM, then 学号
    assert csv.data.decode("utf-8-sig").strip() == ",".join(roster.TEMPLATE.headers)
    assert "filename*=UTF-8''%E5%AD%A6%E7%94%9F" in csv.headers["Content-Disposition"]  # 学生…
    # and a plain name that still says what it is (stripped to ASCII, the Chinese one left ".csv")
    assert "filename=xinqiao-roster-template.csv;" in csv.headers["Content-Disposition"]
    client.post("/language/en", data={"next": "/"})
    for name, payload in (("模板.xlsx", xlsx.data), ("模板.csv", csv.data)):
        response = client.post(
            "/admin/roster",
            data={"file": (io.BytesIO(payload), name), "create_units": "y"},
            content_type="multipart/form-data",
        )
        assert response.status_code == 422
        assert "has no rows below its header" in response.get_data(as_text=True)
    assert _students() == 0
    assert db.session.scalar(select(func.count()).select_from(ClassGroup)) == 0


def test_a_file_still_holding_the_templates_example_row_is_refused_whole(school, login):
    """A template downloaded before, with its example row left in above the real students: the
    example is named and nothing is imported, whatever is ticked."""
    client = login(school[1])
    example = list(roster.TEMPLATE.example)
    real = [
        "2026101",
        "王五",
        "女",
        "2008-01-09",
        "计算机学院",
        "计科2601班",
        "2026",
        "",
        "",
        "",
        "在读",
        "",
    ]
    payload = _xlsx([list(roster.TEMPLATE.headers), example, real])
    response = client.post(
        "/admin/roster",
        data={"file": (io.BytesIO(payload), "名单.xlsx"), "create_units": "y"},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "this is the template&#39;s example row: delete it, then import again" in page
    assert _students() == 0
    report = _import(school, payload, name="名单.xlsx", clean_rows_only=True)
    assert report.imported
    assert [s.student_number for s in db.session.scalars(select(Student))] == ["2026101"]


@pytest.fixture
def enrolled(campus) -> Student:
    inst = campus.institution("XJU")
    student = campus.student(campus.class_group(campus.department(inst)), campus.room(inst))
    campus.commit()
    return student


def _import_academic(campus, student: Student, text: str, encoding: str):
    admin = campus.staff(student.institution, Role.ADMIN)
    campus.commit()
    table = academic.read_academic_table("学业.csv", text.encode(encoding))
    return academic.import_academic(
        db.session,
        student.institution,
        admin,
        table,
        thresholds=academic.AcademicThresholds(),
        now=clock.now(),
    )


def test_registrar_files_with_chinese_headers_in_gbk_are_imported(campus, enrolled):
    text = (
        "学号,学期,不及格学分,学业预警,缺勤率,备注\n"
        f"{enrolled.student_number},2025-2026-2,12,是,10%,补考\n"
    )
    result = _import_academic(campus, enrolled, text, "gbk")
    assert result.imported, [(e.line, e.column, str(e.reason)) for e in result.errors]
    assert [str(n) for n in result.unused] == ["Column 「备注」 was not used."]
    assert db.session.scalar(select(AcademicRecord.academic_warning)) is True


def test_registrar_duplicates_and_formulas_are_named_by_row_and_column(campus, enrolled):
    number = enrolled.student_number
    text = (
        "学号,学期,不及格学分,学业预警,缺勤率\n"
        f"{number},2025-2026-2,12,是,10%\n"
        f"{number},2025-2026-2,3,否,1%\n"
        f"{number},@SUM(1),3,否,1%\n"
    )
    result = _import_academic(campus, enrolled, text, "utf-8-sig")
    where = {(e.line, e.column) for e in result.errors}
    assert {(2, "学期"), (3, "学期"), (4, "学期")} <= where
    assert "also on row(s) 3" in next(str(e.reason) for e in result.errors if e.line == 2)
    assert db.session.scalar(select(func.count()).select_from(AcademicRecord)) == 0


def test_paper_results_read_chinese_headers_in_gbk(app):
    text = "学号,1,2,3,4,5,6,7,8,9,10\n2026001,0,1,2,3,0,1,2,3,0,1\n"
    table = results_import.read_table("结果.csv", text.encode("gbk"))
    assert list(table.frame.columns) == ["student_number", *map(str, range(1, 11))]
    template = results_import.template(load_instrument("phq9"))
    assert template.headers == ("学号", *map(str, range(1, 11)))


def test_a_header_is_matched_once_and_a_weaker_synonym_is_named_unused(app):
    text = "学号,姓名,专业,班级\n1,张三,计算机,计科1班\n"
    table = read_table(
        "x.csv",
        text.encode("gbk"),
        required=("student_number", "name", "class"),
        kind="roster",
    )
    assert table.frame.loc[0, "class"] == "计科1班"
    assert table.unused == ["专业"]


def test_the_command_line_takes_the_grade_once_for_the_import(app, school, tmp_path):
    path = tmp_path / "名单.csv"
    text = HEADER + ROWS.replace(",2026,", ",,").replace("计科2601班", "计科2501班")
    path.write_bytes(text.encode("gbk"))
    runner = app.test_cli_runner()
    asked = runner.invoke(args=["campus", "import-roster", "XJU", str(path), "--create-units"])
    assert asked.exit_code == 2
    assert "rows 2, 3 have no grade and none can be derived; give --grade." in asked.output
    done = runner.invoke(
        args=["campus", "import-roster", "XJU", str(path), "--create-units", "--grade", "2025"]
    )
    assert done.exit_code == 0, done.output
    assert "Column 「籍贯」 was not used." in done.output
    assert _students() == 2


def test_registrar_and_paper_result_templates_are_offered_to_fill_in(school, login):
    client = login(school[1])
    sheet = load_workbook(io.BytesIO(client.get("/warnings/academic-import/template.xlsx").data))
    headers = [c.value for c in sheet.active[1]]
    assert headers == ["学号", "学期", "不及格学分", "学业预警", "缺勤率"]
    (rule,) = sheet.active.data_validations.dataValidation
    assert rule.formula1 == '"是,否"'
    assert client.get("/warnings/academic-import/template.pdf").status_code == 404
    paper = load_workbook(io.BytesIO(results_import.template(load_instrument("phq9")).xlsx()))
    first, instructions = paper.worksheets
    assert [c.value for c in first[1]] == ["学号", *map(str, range(1, 11))]
    assert first.max_row == 1
    assert ["2026001", *["0"] * 10] in [[c.value for c in row] for row in instructions.iter_rows()]
