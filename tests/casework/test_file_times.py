"""The student file says its times in words on the page (the warning's timeline, the day in a
signal's label: 9月12日 周六 10:00), and the printed file keeps them ISO (2026-09-12 10:00), as
every printed document and export does."""

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
def test_the_printed_file_keeps_iso_times(world, login):
    _red_safety_answer(world)
    client = login(_in_chinese(world.school_counsellor))
    printed = pdf_text(client.get(f"/casework/students/{world.student.id}/file.pdf").data)
    assert "2026-09-14 10:00" in printed
    assert "2026-09-12 10:00" in printed
    assert "2026 freshman intake，2026-09-12" in printed
    assert "周一" not in printed
    assert "周六" not in printed
