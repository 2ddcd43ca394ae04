"""Why a roster file or row is refused reads in the viewer's language; the file's values as typed.

The reasons are built outside any request (the command line imports too), so they keep their
message id and values and are translated when the import page shows them.
"""

from __future__ import annotations

import html
import io

import pytest

from campus.models import Role

HEADER = "student_number,name,gender,birth_date,department,class,grade,dorm_building,room\n"
BAD_ROWS = (
    "2026003,王五,男,2007-13-45,计算机学院,不存在班,2026,,\n"
    "2026004,赵六,女,2007-01-01,计算机学院,计科2601班,2026,,\n"
    "2026004,钱七,女,2007-02-01,计算机学院,计科2601班,2026,,\n"
)
MISSING_GENDER = (
    "student_number,name,birth_date,department,class,grade\n2026003,王五,2007-01-01,a,b,2026\n"
)


@pytest.fixture
def admin(campus):
    inst = campus.institution("XJU")
    campus.class_group(campus.department(inst, "计算机学院"), "计科2601班")
    user = campus.staff(inst, Role.ADMIN)
    campus.commit()
    return user


def _upload(client, text: str) -> tuple[int, str]:
    response = client.post(
        "/admin/roster",
        data={"file": (io.BytesIO(text.encode()), "roster.csv")},
        content_type="multipart/form-data",
    )
    return response.status_code, html.unescape(response.get_data(as_text=True))


def _as(login, admin, locale: str):
    admin.locale = locale
    return login(admin)


@pytest.mark.parametrize(
    ("locale", "shown", "hidden"),
    [
        (
            "zh_CN",
            (
                "“2007-13-45”不是实际存在的日期",
                "计算机学院没有班级“不存在班”",
                "学号 2026004 与第 4 行重复",
            ),
            ("is not a day", "unknown class", "also on row"),
        ),
        (
            "en",
            (
                "'2007-13-45' is not a day of the calendar",
                "unknown class '不存在班' in 计算机学院",
                "student number 2026004 is also on row(s) 4",
            ),
            ("实际存在", "没有班级", "重复"),
        ),
    ],
)
def test_bad_roster_rows_read_in_the_viewers_language(login, admin, locale, shown, hidden):
    status, page = _upload(_as(login, admin, locale), HEADER + BAD_ROWS)
    assert status == 422
    for phrase in shown:
        assert phrase in page
    for phrase in hidden:
        assert phrase not in page


@pytest.mark.parametrize(
    ("locale", "shown", "hidden"),
    [
        ("zh_CN", "缺少列：性别 (gender)。", "Missing columns"),
        ("en", "Missing columns: 性别 (gender).", "缺少列"),
    ],
)
def test_a_file_without_a_required_column_is_refused_in_the_viewers_language(
    login, admin, locale, shown, hidden
):
    status, page = _upload(_as(login, admin, locale), MISSING_GENDER)
    assert status == 422
    assert shown in page
    assert hidden not in page


def test_values_from_the_file_are_shown_as_typed_never_translated_and_escaped(login, admin):
    # "Red" is also a catalog entry (红色): as a class name it must stay "Red".
    rows = (
        "2026003,王五,男,2007-01-01,计算机学院,Red,2026,,\n"
        "2026004,赵六,女,2007-01-01,计算机学院,<b>CS</b>,2026,,\n"
    )
    response = _as(login, admin, "zh_CN").post(
        "/admin/roster",
        data={"file": (io.BytesIO((HEADER + rows).encode()), "roster.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert "计算机学院没有班级“Red”" in page
    assert "计算机学院没有班级“&lt;b&gt;CS&lt;/b&gt;”" in page
    assert "<b>CS</b>" not in page


def test_the_command_line_reports_in_english_whatever_the_default_language(app, admin, tmp_path):
    """Operators read the CLI; the institution's Chinese default is for the pages."""
    rows, columns = tmp_path / "rows.csv", tmp_path / "columns.csv"
    rows.write_text(HEADER + BAD_ROWS, encoding="utf-8")
    columns.write_text(MISSING_GENDER, encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["campus", "import-roster", "XJU", str(rows)])
    assert "line 2, column class (2026003): unknown class '不存在班' in 计算机学院" in result.output
    result = runner.invoke(args=["campus", "import-roster", "XJU", str(columns)])
    assert result.exit_code != 0
    assert "Missing columns: 性别 (gender)." in result.output


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        (
            "zh_CN",
            "宿舍 桃园1栋-305 不存在：勾选「自动创建尚不存在的院系、班级和宿舍」后重新导入，"
            "或先在「组织结构」页添加该宿舍",
        ),
        (
            "en",
            "unknown dorm room 桃园1栋-305: tick “Create departments, classes and dorm rooms that "
            "do not exist yet” and import again, or add the room on the Structure page",
        ),
    ],
)
def test_an_unknown_dorm_names_the_two_ways_out(login, admin, locale, said):
    """Found by an administrator: 「宿舍 桃园1栋-305 不存在」 said nothing of the box that creates
    it, and the structure page had no dorms at all."""
    row = "2026003,王五,男,2007-01-01,计算机学院,计科2601班,2026,桃园1栋,305\n"
    status, page = _upload(_as(login, admin, locale), HEADER + row)
    assert status == 422
    assert said in page


def test_the_command_line_names_its_create_units_option_for_a_unit_the_campus_lacks(
    app, admin, tmp_path
):
    """The command printed the page's "tick “Create departments…”", a box it does not have."""
    path = tmp_path / "rows.csv"
    path.write_text(
        HEADER
        + "2026003,王五,男,2007-01-01,数学学院,数学2601班,2026,,\n"
        + "2026004,赵六,女,2007-01-01,计算机学院,计科2601班,2026,桃园1栋,305\n",
        encoding="utf-8",
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["campus", "import-roster", "XJU", str(path)])
    assert result.exit_code != 0
    assert (
        "unknown department '数学学院': import again with --create-units, or add it on the "
        "Structure page" in result.output
    )
    assert (
        "unknown dorm room 桃园1栋-305: import again with --create-units, or add the room on the "
        "Structure page" in result.output
    )
    assert "tick" not in result.output
    result = runner.invoke(args=["campus", "import-roster", "XJU", str(path), "--create-units"])
    assert result.exit_code == 0
    assert "imported: 2 created" in result.output
