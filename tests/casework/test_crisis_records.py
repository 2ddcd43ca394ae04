"""Crisis records (危机事件记录): opened on a red warning with a first entry, appended to and never
changed, read only by the warning's clinical readers and the department counsellor on the scene."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError

from campus.audit import AuditEvent
from campus.extensions import db
from casework.models import CrisisEntry
from casework.models import CrisisRecord
from tests.casework.crisis_world import ENTRY
from tests.casework.crisis_world import CrisisWorld
from tests.casework.crisis_world import crisis_world
from tests.conftest import sign_in
from tests.pages import errors_under
from warning.policy import Level


def as_(app: Flask, user):
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client


@pytest.fixture
def world(campus) -> CrisisWorld:
    return crisis_world(campus)


def _open(app: Flask, world: CrisisWorld, who=None, **changes):
    client = as_(app, who or world.counsellor)
    return client, client.post(f"/crisis/warnings/{world.warning.id}", data=ENTRY | changes)


def _record() -> CrisisRecord:
    return db.session.scalars(select(CrisisRecord)).one()


def _entries() -> int:
    return db.session.scalar(select(func.count(CrisisEntry.id)))


def test_a_counsellor_opens_the_record_of_a_red_warning_with_its_first_entry(app, world):
    client, response = _open(app, world)
    assert response.status_code == 302
    record = _record()
    assert response.headers["Location"].endswith(f"/crisis/{record.id}")
    page = client.get(f"/crisis/{record.id}").get_data(as_text=True)
    assert "Entry 1" in page
    assert "Found by roommates at 08:20" in page
    assert "Taken to hospital (湖南省脑科医院)" in page  # the hospital named with its action
    assert "Written by" in page
    assert world.counsellor.name in page
    # 08:30 in Changsha is 00:30 UTC.
    assert record.entries[0].occurred_at.hour == 0
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "crisis.open")).student_id
        == world.student.id
    )


def test_the_warning_page_links_to_the_crisis_record_for_its_readers_only(app, world):
    page = as_(app, world.counsellor).get(f"/warnings/students/{world.student.id}")
    assert f"/crisis/warnings/{world.warning.id}" in page.get_data(as_text=True)
    page = as_(app, world.dept_leader).get(f"/warnings/students/{world.student.id}")
    assert page.status_code == 200
    assert "/crisis/" not in page.get_data(as_text=True)


def test_a_crisis_record_on_a_yellow_warning_is_refused_with_what_to_do(app, campus):
    world = crisis_world(campus, level=Level.YELLOW)
    client, response = _open(app, world)
    assert response.status_code == 400
    assert "A crisis record belongs to a red warning" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CrisisRecord.id))) == 0


def test_entries_are_appended_and_a_correction_names_the_entry_it_corrects(app, world):
    client, _ = _open(app, world)
    record = _record()
    first = record.entries[0].id
    response = client.post(
        f"/crisis/{record.id}/entries",
        data=ENTRY
        | {
            "submission": "second",
            "occurred_at": "2026-09-14T09:40",
            "place": "湖南省脑科医院急诊",
            "narrative": "The hospital was 湘雅二医院, not the one first written.",
            "actions": ["guardian_arrived", "handed_over"],
            "handed_over_at": "2026-09-14T09:50",
            "handed_over_to": "李建国 (father)",
            "corrects": str(first),
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    entries = _record().entries
    assert [e.corrects_id for e in entries] == [None, first]
    assert entries[0].hospital == "湖南省脑科医院"  # the first entry stands as written
    page = client.get(f"/crisis/{record.id}").get_data(as_text=True)
    assert "Correction of entry 1" in page
    assert "李建国 (father)" in page


def test_an_entry_can_never_be_changed(app, world):
    _open(app, world)
    entry = _record().entries[0]
    entry.narrative = "rewritten"
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    # Below the ORM, the database itself refuses (a trigger on both databases).
    with pytest.raises(DBAPIError):
        db.session.execute(update(CrisisEntry).values(narrative="rewritten"))
    db.session.rollback()
    with pytest.raises(DBAPIError):
        db.session.execute(text("UPDATE crisis_entry SET place = 'x'"))
    db.session.rollback()
    assert db.session.scalars(select(CrisisEntry.narrative)).one().startswith("Found by")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"occurred_at": "2026-09-14T11:00"}, "When it happened cannot be in the future."),
        ({"hospital": ""}, "Name the hospital the student was taken to."),
        (
            {"actions": ["handed_over"], "handed_over_to": "father"},
            "Give the time of the hand-over and who took the student.",
        ),
        (
            {
                "actions": ["handed_over"],
                "handed_over_at": "2026-09-14T07:00",
                "handed_over_to": "f",
            },
            "The hand-over cannot come before what happened.",
        ),
        ({"narrative": ""}, "Write what happened."),
        ({"place": ""}, "Say where it happened."),
        ({"occurred_at": ""}, "Choose when it happened."),
        (
            {"occurred_at": "yesterday"},
            "Give the date and time as year-month-day hour:minute, e.g. 2026-09-01 14:30.",
        ),
        ({"actions": ["accompanied", "teleported"]}, "is not a valid choice"),
    ],
)
def test_a_bad_entry_says_what_is_wrong_and_writes_nothing(app, world, changes, message):
    _client, response = _open(app, world, **changes)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CrisisRecord.id))) == 0
    assert _entries() == 0


def _error_of(page: str, field: str) -> str:
    """The refusal shown under `field` of the entry form ("" when none)."""
    found = re.search(rf'<p class="error" id="{field}-err"[^>]*>([^<]*)</p>', page)
    return found.group(1) if found else ""


def test_a_future_time_is_refused_in_chinese_under_when_it_happened(app, world):
    world.counsellor.locale = "zh_CN"
    db.session.commit()
    future = {"occurred_at": "2026-09-14T11:00"}
    client, response = _open(app, world, **future)
    assert response.status_code == 400
    assert _error_of(response.get_data(as_text=True), "occurred_at") == "发生时间不能晚于当前时间。"
    assert client.post(f"/crisis/warnings/{world.warning.id}", data=ENTRY).status_code == 302
    response = client.post(
        f"/crisis/{_record().id}/entries", data=ENTRY | future | {"submission": "second"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert _error_of(page, "occurred_at") == "发生时间不能晚于当前时间。"
    assert _error_of(page, "narrative") == ""
    assert _entries() == 1


def test_the_same_form_sent_twice_is_one_entry(app, world):
    client, _ = _open(app, world)
    record = _record()
    data = ENTRY | {"submission": "again", "place": "Library"}
    assert client.post(f"/crisis/{record.id}/entries", data=data).status_code == 302
    response = client.post(f"/crisis/{record.id}/entries", data=data, follow_redirects=True)
    assert "This was already saved." in response.get_data(as_text=True)
    assert _entries() == 2
    # Opening the record twice (two tabs) keeps the first record.
    response = client.post(f"/crisis/warnings/{world.warning.id}", data=ENTRY | {"submission": "x"})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(CrisisRecord.id))) == 1


def test_a_correction_of_another_records_entry_is_refused(app, campus, world):
    client, _ = _open(app, world)
    record = _record()
    forged = _entries() + 50
    response = client.post(
        f"/crisis/{record.id}/entries",
        data=ENTRY | {"submission": "forged", "corrects": str(forged)},
    )
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert _entries() == 1


@pytest.mark.parametrize("who", ["director", "dept_counsellor"])
def test_the_director_and_the_department_counsellor_read_and_write_the_record(app, world, who):
    _open(app, world)
    record = _record()
    client = as_(app, getattr(world, who))
    assert client.get(f"/crisis/{record.id}").status_code == 200
    response = client.post(f"/crisis/{record.id}/entries", data=ENTRY | {"submission": f"by-{who}"})
    assert response.status_code == 302
    assert _entries() == 2


@pytest.mark.parametrize("who", ["other_counsellor", "other_dept_counsellor"])
def test_staff_outside_the_case_get_a_404_and_the_attempt_is_audited(app, world, who):
    _open(app, world)
    record = _record()
    user = getattr(world, who)
    client = as_(app, user)
    assert client.get(f"/crisis/{record.id}").status_code == 404
    assert client.get(f"/crisis/warnings/{world.warning.id}").status_code == 404
    response = client.post(f"/crisis/{record.id}/entries", data=ENTRY | {"submission": "n"})
    assert response.status_code == 404
    denied = db.session.scalars(
        select(AuditEvent).where(AuditEvent.actor_id == user.id, AuditEvent.outcome == "denied")
    ).all()
    assert len(denied) == 3
    assert _entries() == 1


@pytest.mark.parametrize("who", ["dept_leader", "committee", "dorm"])
def test_the_department_leader_and_the_peer_tiers_are_refused(app, world, who):
    _open(app, world)
    record = _record()
    client = as_(app, getattr(world, who))
    assert client.get(f"/crisis/{record.id}").status_code == 403
    assert client.get("/crisis/follow-ups").status_code == 403


def test_every_read_of_the_record_is_audited(app, world):
    client, _ = _open(app, world)
    record = _record()
    client.get(f"/crisis/{record.id}")
    reads = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "read", AuditEvent.record_type == "crisis")
    ).all()
    assert [(r.student_id, r.actor_id) for r in reads] == [(world.student.id, world.counsellor.id)]


# What the entry form sends when nothing is typed: the token, and the choices as they stand.
UNTOUCHED_ENTRY = {
    "submission": "t",
    "family_outcome": "",
    "family_channel": "phone",
    "corrects": 0,
}


@pytest.mark.parametrize(
    ("locale", "wanted"),
    [
        (
            "en",
            {
                "occurred_at": "Choose when it happened.",
                "place": "Say where it happened.",
                "narrative": "Write what happened.",
            },
        ),
        (
            "zh_CN",
            {
                "occurred_at": "请选择事件发生的时间。",
                "place": "请填写事件发生的地点。",
                "narrative": "请写下事件经过。",
            },
        ),
    ],
)
def test_an_entry_sent_empty_says_under_each_field_what_to_write(app, world, locale, wanted):
    """Before: 该字段是必填字段。("This field is required.") under 发生时间, 地点 and 事件经过."""
    world.counsellor.locale = locale
    db.session.commit()
    client = as_(app, world.counsellor)
    response = client.post(f"/crisis/warnings/{world.warning.id}", data=UNTOUCHED_ENTRY)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert {field: errors_under(page, field) for field in wanted} == {
        field: [message] for field, message in wanted.items()
    }
    assert "该字段是必填字段。" not in page
    assert _entries() == 0
