"""Uploads: a request body over MAX_CONTENT_LENGTH is a 413 page, and every import refuses a file
it cannot use (too many rows, a zip bomb, a damaged workbook) with a clear reason, importing
nothing; control characters in cells are removed as they are from forms."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import func
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from campus import roster
from campus.extensions import db
from campus.models import DormBuilding
from campus.models import DormRoom
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.models import User

HEADER = "student_number,name,gender,birth_date,department,class,grade,dorm_building,room\n"
ROWS = (
    "2026001,张三,男,2007-05-01,计算机学院,计科2601班,2026,1栋,101\n"
    "2026002,李四,女,2007-06-02,计算机学院,计科2601班,2026,1栋,102\n"
    "2026003,王五,男,2007-07-03,计算机学院,计科2601班,2026,1栋,101\n"
)


@pytest.fixture
def admin(campus) -> User:
    inst = campus.institution("XJU")
    campus.class_group(campus.department(inst, "计算机学院"), "计科2601班")
    building = DormBuilding(institution_id=inst.id, name="1栋")
    db.session.add_all([DormRoom(building=building, number=n) for n in ("101", "102")])
    user = campus.staff(inst, Role.ADMIN, login="admin")
    campus.commit()
    return user


def _students() -> int:
    return db.session.scalar(select(func.count()).select_from(Student))


def _xlsx(text: str) -> bytes:
    buffer = io.BytesIO()
    pd.read_csv(io.StringIO(text), dtype=str).to_excel(buffer, index=False)
    return buffer.getvalue()


def _post_roster(client, name: str, payload: bytes):
    # Encoded in memory: the test client would spool a large body to a temporary file it
    # never closes when the app refuses the body unread.
    boundary, body = encode_multipart(
        {"file": FileStorage(io.BytesIO(payload), name), "create_units": "y"}
    )
    return client.post(
        "/admin/roster", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def test_a_body_over_the_upload_limit_is_a_413_page_that_names_the_limit(
    app, admin, login, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    response = _post_roster(login(admin), "roster.csv", b"x" * (2 * 1024 * 1024))
    assert response.status_code == 413
    assert "at most 1 MB can be sent at once" in response.get_data(as_text=True)
    assert _students() == 0


def test_the_413_page_is_in_chinese_for_a_reader_of_chinese(app, admin, login, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    admin.locale = "zh_CN"
    db.session.commit()
    response = _post_roster(login(admin), "roster.csv", b"x" * (2 * 1024 * 1024))
    assert response.status_code == 413
    assert "每次最多只能上传 1 MB" in response.get_data(as_text=True)


def test_a_file_with_more_rows_than_the_import_allows_is_refused_whole(
    app, admin, login, monkeypatch
):
    monkeypatch.setitem(
        app.config, "IMPORT_MAX_ROWS", {**app.config["IMPORT_MAX_ROWS"], "roster": 2}
    )
    response = _post_roster(login(admin), "roster.csv", (HEADER + ROWS).encode())
    assert response.status_code == 422
    assert "At most 2 rows can be imported at once." in response.get_data(as_text=True)
    assert _students() == 0


def test_an_xlsx_zip_bomb_is_refused_before_it_is_opened(app, admin, login):
    buffer = io.BytesIO(_xlsx(HEADER + ROWS))
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * (64 * 1024 * 1024))
    assert len(buffer.getvalue()) < 1024 * 1024
    response = _post_roster(login(admin), "roster.xlsx", buffer.getvalue())
    assert response.status_code == 422
    assert "expands to far more data than a spreadsheet holds" in response.get_data(as_text=True)
    assert _students() == 0


@pytest.mark.parametrize(
    "payload",
    [_xlsx(HEADER + ROWS)[:2000], b"PK\x03\x04 not really a zip", b"plain text, renamed"],
    ids=["truncated", "broken-zip", "not-a-zip"],
)
def test_a_damaged_xlsx_is_a_clear_message(app, admin, login, payload):
    response = _post_roster(login(admin), "roster.xlsx", payload)
    assert response.status_code == 422
    assert "not a readable XLSX workbook" in response.get_data(as_text=True)
    assert _students() == 0


def test_a_workbook_without_a_sheet_is_a_clear_message(app, admin, login):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    response = _post_roster(login(admin), "roster.xlsx", buffer.getvalue())
    assert response.status_code == 422
    assert "not a readable XLSX workbook" in response.get_data(as_text=True)


def test_a_csv_in_neither_utf8_nor_gbk_names_both_and_says_how_to_save_it(app, admin, login):
    # Bytes 0x80 and 0xFF stand alone in no UTF-8 or GB18030 text (a UTF-16 or binary file).
    response = _post_roster(login(admin), "roster.csv", (HEADER + ROWS).encode() + b"\x80\xff\n")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "UTF-8 / GB18030" in page
    assert "CSV UTF-8 (Comma delimited)" in page
    assert _students() == 0


def test_control_characters_in_csv_cells_are_removed_before_import(app, admin):
    text = HEADER + ROWS.replace("张三", "张\x00三\x0b").replace("2026002", "2026\x00002")
    frame = roster.read_table("roster.csv", text.encode())
    institution = db.session.get(Institution, admin.institution_id)
    report = roster.import_roster(
        db.session, institution, admin, frame, create_units=True, today=date(2026, 9, 14)
    )
    assert report.imported, [e.reason for e in report.errors]
    assert set(db.session.scalars(select(Student.name))) == {"张三", "李四", "王五"}
    assert "2026002" in set(db.session.scalars(select(Student.student_number)))
