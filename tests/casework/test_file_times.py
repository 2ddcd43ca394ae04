"""The student file says its times in words on the page (the warning's timeline, the day in a
signal's label: 9月12日 周六 10:00), and the printed file writes them as a document does, with the
year and in the language it is printed in (2026年9月12日 10:00, "12 September 2026, 10:00"), as
the other printed documents do; it read them ISO (2026-09-12 10:00)."""

from __future__ import annotations

from datetime import datetime

from campus.extensions import db
from tests.factories import safety_answer
from tests.pages import visible_text
from tests.pdf import needs_poppler
from tests.pdf import pdf_text

SCREENED_AT = datetime(2026, 9, 12, 2, 0)  # 10:00 on Saturday 12 September in Shanghai


def _red_safety_answer(world) -> None:
    safety_answer(world.student, SCREENED_AT)
    db.session.commit()


def _in_chinese(user):
    user.locale = "zh_CN"
    db.session.commit()
    return user


def test_the_file_page_says_the_timeline_and_the_labels_days_in_words(world, login):
    _red_safety_answer(world)
    client = login(_in_chinese(world.school_counsellor))
    page = visible_text(client.get(f"/casework/students/{world.student.id}").get_data(True))
    # The warning opened now (10:00 on Monday 14 September) on the signal screened on Saturday.
    assert "9月14日 周一 10:00 · 预警开启" in page
    assert "9月12日 周六 10:00 · 风险信号" in page
    assert "2026 freshman intake，9月12日 周六" in page  # the signal's label
    assert "2026-09-1" not in page


@needs_poppler
def test_the_printed_file_writes_its_times_as_a_document_does(world, login):
    _red_safety_answer(world)
    client = login(_in_chinese(world.school_counsellor))
    printed = pdf_text(client.get(f"/casework/students/{world.student.id}/file.pdf").data)
    assert "2026年9月14日 10:00 · 预警开启" in printed
    assert "2026年9月12日 10:00 · 风险信号" in printed
    assert "2026 freshman intake，2026年9月12日" in printed  # the signal's label
    assert "2026-09-1" not in printed
    assert "周一" not in printed
    assert "周六" not in printed


@needs_poppler
def test_the_printed_file_in_english_writes_its_times_as_an_english_document_does(world, login):
    _red_safety_answer(world)
    client = login(world.school_counsellor)
    client.post("/language/en", data={"next": "/"})
    printed = pdf_text(client.get(f"/casework/students/{world.student.id}/file.pdf").data)
    assert "14 September 2026, 10:00 · Warning opened" in printed
    assert "12 September 2026, 10:00 · Signal" in printed
    assert "2026 freshman intake, 12 September 2026" in printed
    assert "2026-09-1" not in printed
