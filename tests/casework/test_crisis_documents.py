"""Hand-over documents of a crisis record: 家长知情告知书 and 安全承诺书, generated as A4 PDFs
from the record, tracked from unsigned to signed, with a signed scan kept outside the web root
and given only to the record's readers."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func
from sqlalchemy import select

from campus.audit import AuditEvent
from campus.extensions import db
from casework.models import CrisisDocument
from casework.models import CrisisRecord
from tests.casework.crisis_world import ENTRY
from tests.casework.crisis_world import CrisisWorld
from tests.casework.crisis_world import crisis_world
from tests.casework.test_crisis_records import as_
from tests.pdf import needs_poppler
from tests.pdf import pdf_info
from tests.pdf import pdf_pages
from tests.pdf import pdf_text


@pytest.fixture
def world(campus) -> CrisisWorld:
    return crisis_world(campus)


@pytest.fixture
def scans(app):
    folder = Path(app.config["CRISIS_SCAN_DIR"])
    shutil.rmtree(folder, ignore_errors=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _record_with_copy(app, world: CrisisWorld, kind: str = "guardian_notice", who=None):
    client = as_(app, who or world.counsellor)
    client.post(f"/crisis/warnings/{world.warning.id}", data=ENTRY)
    record = db.session.scalars(select(CrisisRecord)).one()
    response = client.post(f"/crisis/{record.id}/documents", data={"kind": kind})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client, record, db.session.scalars(select(CrisisDocument)).one()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(out, format="PNG")
    return out.getvalue()


SIGNED = {"signed_on": "2026-09-14", "signed_by": "李建国"}


@needs_poppler
def test_the_guardian_notice_is_an_a4_pdf_in_chinese_filled_from_the_record(app, world):
    world.counsellor.locale = "zh_CN"
    db.session.commit()
    client, record, copy = _record_with_copy(app, world)
    response = client.get(f"/crisis/documents/{copy.id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    assert "(A4)" in pdf_info(response.data)
    for expected in (
        "湘江大学",
        "家长知情告知书",
        "李晓雨",
        "2026001",
        "李建国",
        "宿舍 305",
        "陪同就医",
        "湖南省脑科医院",
        "监护人签名",
        "0731-8888-0000",
        # When, as a parent writes it (it printed "2026-09-14 08:30，学校在…").
        "2026年9月14日 8:30，学校在宿舍 305",
    ):
        assert expected in text, expected
    assert "2026-09-14" not in text
    # Neutral words only: the narrative stays in the record.
    assert "balcony" not in text
    row = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "print")).one()
    assert (row.record_type, row.student_id) == ("crisis_guardian_notice", world.student.id)


@needs_poppler
def test_the_safety_pledge_in_chinese_and_the_notice_in_english(app, world, campus):
    """The English notice says the day in English, names the partner hospital by its English
    name as the referral form does, and keeps its signature lines on its one page (they printed
    alone on a second)."""
    world.counsellor.locale = "zh_CN"
    campus.hospital(world.student.institution, "湖南省脑科医院").name_en = "Hunan Brain Hospital"
    db.session.commit()
    client, record, copy = _record_with_copy(app, world, "safety_pledge")
    text = pdf_text(client.get(f"/crisis/documents/{copy.id}.pdf").data)
    assert "安全承诺书" in text
    assert "学生签名" in text
    client.post(
        f"/crisis/{record.id}/documents", data={"kind": "guardian_notice", "language": "en"}
    )
    notice = db.session.scalars(select(CrisisDocument).order_by(CrisisDocument.id.desc())).first()
    assert notice.language == "en"
    pdf = client.get(f"/crisis/documents/{notice.id}.pdf").data
    text = pdf_text(pdf)
    assert "Guardian informed notice" in text
    assert "Guardian's signature" in text
    assert "On 14 September 2026, 08:30, at 宿舍 305" in text
    assert "Hospital: Hunan Brain Hospital" in " ".join(text.split())
    assert "湖南省脑科医院" not in text
    assert pdf_pages(pdf) == 1


@needs_poppler
def test_a_counsellor_reading_english_gives_the_family_a_chinese_notice(app, world):
    """After sc01 switched to English the notice printed "Guardian informed notice … Dear 曾博,"
    for a Chinese family: the copy is in the institution's language unless chosen otherwise, and
    prints in it whoever downloads it."""
    world.counsellor.locale = "en"
    db.session.commit()
    client, record, copy = _record_with_copy(app, world)
    assert copy.language == "zh_CN"
    page = client.get(f"/crisis/{record.id}").get_data(as_text=True)
    assert '<option selected value="zh_CN">中文</option>' in page
    text = pdf_text(client.get(f"/crisis/documents/{copy.id}.pdf").data)
    for words in ("家长知情告知书", "监护人签名", "李建国"):
        assert words in text, words
    assert "Guardian" not in text
    # Chosen in English, it stays English for a reader of Chinese.
    client.post(
        f"/crisis/{record.id}/documents", data={"kind": "guardian_notice", "language": "en"}
    )
    english = db.session.scalars(select(CrisisDocument).order_by(CrisisDocument.id.desc())).first()
    world.director.locale = "zh_CN"
    db.session.commit()
    text = pdf_text(as_(app, world.director).get(f"/crisis/documents/{english.id}.pdf").data)
    assert "Guardian informed notice" in text
    assert "家长知情告知书" not in text
    generated = db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "generate").order_by(AuditEvent.id)
    ).all()
    assert generated == ["language=zh_CN", "language=en"]


def test_a_copy_in_a_language_the_app_does_not_print_is_refused(app, world):
    client = as_(app, world.counsellor)
    client.post(f"/crisis/warnings/{world.warning.id}", data=ENTRY)
    record = db.session.scalars(select(CrisisRecord)).one()
    response = client.post(
        f"/crisis/{record.id}/documents", data={"kind": "guardian_notice", "language": "fr"}
    )
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(CrisisDocument.id))) == 0


def test_a_centre_that_does_not_use_the_safety_pledge_cannot_generate_one(app, world):
    admin = as_(app, world.director)
    assert admin.post("/crisis/settings", data={}).status_code == 302  # box unticked: off
    client = as_(app, world.counsellor)
    client.post(f"/crisis/warnings/{world.warning.id}", data=ENTRY)
    record = db.session.scalars(select(CrisisRecord)).one()
    response = client.post(f"/crisis/{record.id}/documents", data={"kind": "safety_pledge"})
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CrisisDocument.id))) == 0
    assert 'value="safety_pledge"' not in client.get(f"/crisis/{record.id}").get_data(as_text=True)


def test_a_copy_is_marked_signed_with_its_scan_and_the_scan_goes_only_to_readers(app, world, scans):
    client, record, copy = _record_with_copy(app, world)
    response = client.post(
        f"/crisis/documents/{copy.id}/signature",
        data=SIGNED | {"scan": (io.BytesIO(_png()), "signed.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    db.session.expire_all()
    signed = db.session.get(CrisisDocument, copy.id)
    assert (str(signed.signed_on), signed.signed_by_name) == ("2026-09-14", "李建国")
    assert signed.signed_recorded_by_id == world.counsellor.id
    assert signed.scan_type == "image/png"
    stored = list(scans.iterdir())
    assert [p.name for p in stored] == [signed.scan_file]
    assert "static" not in str(stored[0])

    director = as_(app, world.director)
    download = director.get(f"/crisis/documents/{copy.id}/scan")
    assert download.status_code == 200
    assert download.mimetype == "image/png"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.data == _png()
    download.close()
    assert (
        db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "read_scan"))
        == 1
    )
    assert (
        as_(app, world.other_dept_counsellor).get(f"/crisis/documents/{copy.id}/scan").status_code
        == 404
    )
    assert as_(app, world.committee).get(f"/crisis/documents/{copy.id}/scan").status_code == 403
    page = client.get(f"/crisis/{record.id}").get_data(as_text=True)
    assert "Signed" in page
    assert "李建国" in page


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        ((b"just some text, not a scan", "scan.pdf"), "Upload the scan as a PDF, JPEG or PNG"),
        ((b"%PDF-1.7 truncated", "scan.pdf"), "Upload the scan as a PDF, JPEG or PNG"),
        ((b"\x89PNG\r\n\x1a\nbroken", "scan.png"), "Upload the scan as a PDF, JPEG or PNG"),
        # Kept under the test client's 500 KB spooling, whose temporary file it never closes.
        ((b"%PDF-1.4\n" + b"0" * 110_000 + b"\n%%EOF", "big.pdf"), "larger than 0.1 MB"),
        ((b"", "empty.pdf"), "The file is empty."),
    ],
)
def test_a_bad_scan_is_refused_and_nothing_is_kept(app, world, scans, upload, message):
    app.config["CRISIS_SCAN_MAX_MB"] = 0.1
    try:
        client, record, copy = _record_with_copy(app, world)
        content, name = upload
        response = client.post(
            f"/crisis/documents/{copy.id}/signature",
            data=SIGNED | {"scan": (io.BytesIO(content), name)},
            content_type="multipart/form-data",
        )
    finally:
        app.config["CRISIS_SCAN_MAX_MB"] = 5.0
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CrisisDocument, copy.id).signed_on is None
    assert not scans.exists() or not list(scans.iterdir())


def test_a_signature_dated_in_the_future_or_twice_is_refused(app, world, scans):
    client, record, copy = _record_with_copy(app, world)
    response = client.post(
        f"/crisis/documents/{copy.id}/signature", data=SIGNED | {"signed_on": "2026-09-15"}
    )
    assert response.status_code == 400
    assert "The date of signing cannot be in the future." in response.get_data(as_text=True)
    assert client.post(f"/crisis/documents/{copy.id}/signature", data=SIGNED).status_code == 302
    again = client.post(
        f"/crisis/documents/{copy.id}/signature",
        data=SIGNED | {"scan": (io.BytesIO(_png()), "late.png")},
        content_type="multipart/form-data",
    )
    assert again.status_code == 400
    assert "already recorded as signed" in again.get_data(as_text=True)
    assert not list(scans.iterdir())  # the refused scan was not kept
    # The scan of a copy signed without one is attached afterwards.
    attached = client.post(
        f"/crisis/documents/{copy.id}/scan",
        data={"scan": (io.BytesIO(_png()), "late.png")},
        content_type="multipart/form-data",
    )
    assert attached.status_code == 302
    assert len(list(scans.iterdir())) == 1


def test_a_forged_document_id_is_a_404_and_audited(app, world):
    client, record, copy = _record_with_copy(app, world)
    forged = copy.id + 100
    assert client.get(f"/crisis/documents/{forged}.pdf").status_code == 404
    assert client.post(f"/crisis/documents/{forged}/signature", data=SIGNED).status_code == 404
    assert client.get(f"/crisis/documents/{forged}/scan").status_code == 404
    outsider = as_(app, world.other_counsellor)
    assert outsider.get(f"/crisis/documents/{copy.id}.pdf").status_code == 404
    denied = db.session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.outcome == "denied")
    )
    assert denied == 4


@needs_poppler
@pytest.mark.parametrize("kind", ["guardian_notice", "safety_pledge"])
def test_a_document_printed_where_the_centre_has_no_number_gives_the_hotline_and_no_blank(
    app, world, kind
):
    """Before, the notice read 「心理中心值班电话：；」: a blank where a guardian looks for the
    number to call. Without the centre's number it gives 120/110 and the hotline alone."""
    world.student.institution.on_duty_phone = None
    world.counsellor.locale = "zh_CN"
    db.session.commit()
    client, record, copy = _record_with_copy(app, world, kind)
    text = "".join(pdf_text(client.get(f"/crisis/documents/{copy.id}.pdf").data).split())
    assert "24小时心理援助热线" in text
    assert app.config["CRISIS_HOTLINE"] in text
    assert "值班电话" not in text
    assert "：；" not in text
    assert "：）" not in text
    if kind == "guardian_notice":
        assert "紧急情况请拨打120或110" in text
