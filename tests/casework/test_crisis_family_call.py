"""The call to the family a crisis entry records is the student's one family contact: before, the
entry's "已通知监护人" tick met no warning step and wrote no family contact, so the counsellor
logged the same call two or three times."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from campus.audit import AuditEvent
from campus.extensions import db
from casework.models import ContactChannel
from casework.models import ContactDirection
from casework.models import ContactOutcome
from casework.models import CrisisEntry
from casework.models import CrisisRecord
from casework.models import FamilyContact
from tests.casework.crisis_world import ENTRY
from tests.casework.crisis_world import CrisisWorld
from tests.casework.crisis_world import crisis_world
from tests.conftest import sign_in
from warning.models import Deadline
from warning.models import WarningEvent


@pytest.fixture
def world(campus) -> CrisisWorld:
    return crisis_world(campus)


def _client(app: Flask, user):
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client


def _open(client, world: CrisisWorld, **changes):
    return client.post(f"/crisis/warnings/{world.warning.id}", data=ENTRY | changes)


def _contacts() -> list[FamilyContact]:
    return list(db.session.scalars(select(FamilyContact)))


def _guardian_owed(world: CrisisWorld) -> bool:
    db.session.expire_all()
    return bool(
        db.session.scalar(
            select(func.count(Deadline.id)).where(
                Deadline.warning_id == world.warning.id,
                Deadline.kind == "guardian_notified",
                Deadline.met_at.is_(None),
                Deadline.superseded_at.is_(None),
            )
        )
    )


def _entry_item(page: str, number: int) -> str:
    return page.split(f"<strong>Entry {number}</strong>", 1)[1].split("</li>", 1)[0]


def test_one_call_that_reached_the_guardian_is_one_family_contact_and_the_step_met(app, world):
    assert _guardian_owed(world)
    client = _client(app, world.counsellor)
    assert _open(client, world).status_code == 302

    contact = _contacts()
    assert len(contact) == 1
    assert (contact[0].guardian_name, contact[0].guardian_relation) == ("李建国", "父亲")
    assert (contact[0].channel, contact[0].outcome) == (
        ContactChannel.PHONE,
        ContactOutcome.REACHED,
    )
    assert contact[0].author_id == world.counsellor.id
    assert not _guardian_owed(world)
    notices = select(func.count(WarningEvent.id)).where(WarningEvent.kind == "guardian_notified")
    assert db.session.scalar(notices) == 1
    audited = db.session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.action.in_(("create", "warning.guardian")),
            AuditEvent.student_id == world.student.id,
        )
    ).all()
    assert sorted(audited) == ["create", "warning.guardian"]  # the one call, audited once

    record = db.session.scalars(select(CrisisRecord)).one()
    entry = _entry_item(client.get(f"/crisis/{record.id}").get_data(as_text=True), 1)
    assert "Guardian informed" in entry  # what the entry said before, still said
    assert "李建国（父亲） · Phone · Reached" in entry
    # The family log shows the same call, saying where its account is.
    file = client.get(f"/casework/students/{world.student.id}").get_data(as_text=True)
    assert "Logged with an entry of the crisis record, which holds the account." in file


def test_a_call_that_did_not_reach_the_guardian_is_logged_and_the_step_stays_owed(app, world):
    client = _client(app, world.counsellor)
    assert _open(client, world, family_outcome="not_reached").status_code == 302

    assert [c.outcome for c in _contacts()] == [ContactOutcome.NOT_REACHED]
    assert _guardian_owed(world)
    entry = db.session.scalars(select(CrisisEntry)).one()
    assert "guardian_informed" not in entry.actions
    page = client.get(f"/crisis/{entry.record_id}").get_data(as_text=True)
    shown = _entry_item(page, 1)
    assert "Guardian informed" not in shown
    assert "Not reached" in shown


def test_a_later_entry_logs_the_call_and_the_department_counsellor_meets_the_step(app, world):
    client = _client(app, world.dept_counsellor)
    _open(client, world, family_outcome="")  # the first entry: no call yet
    assert _contacts() == []
    assert _guardian_owed(world)
    record = db.session.scalars(select(CrisisRecord)).one()
    later = ENTRY | {"submission": "later", "family_said": "父亲正赶来学校。"}
    assert client.post(f"/crisis/{record.id}/entries", data=later).status_code == 302
    (contact,) = _contacts()
    assert contact.summary == "父亲正赶来学校。"
    assert contact.author_id == world.dept_counsellor.id
    assert not _guardian_owed(world)


def test_the_same_entry_sent_twice_is_one_entry_and_one_family_contact(app, world):
    client = _client(app, world.counsellor)
    _open(client, world)
    record = db.session.scalars(select(CrisisRecord)).one()
    data = ENTRY | {"submission": "twice"}
    assert client.post(f"/crisis/{record.id}/entries", data=data).status_code == 302
    response = client.post(f"/crisis/{record.id}/entries", data=data, follow_redirects=True)
    assert "This was already saved." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CrisisEntry.id))) == 2
    assert len(_contacts()) == 2  # the first entry's call and this one's: one each


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"family_name": ""}, "Say whom you spoke with and what was said."),
        ({"family_at": "2099-01-01T08:00"}, "A contact cannot be logged before it has happened."),
        # "Guardian informed" is said by the call, no longer ticked apart from it.
        ({"family_outcome": "", "actions": ["guardian_informed"]}, "is not a valid choice"),
    ],
)
def test_a_bad_call_says_what_is_wrong_and_writes_neither_entry_nor_contact(
    app, world, changes, message
):
    response = _open(_client(app, world.counsellor), world, **changes)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CrisisRecord.id))) == 0
    assert _contacts() == []
    assert _guardian_owed(world)


def test_the_form_names_the_guardian_on_file(app, world):
    page = _client(app, world.counsellor).get(f"/crisis/warnings/{world.warning.id}")
    assert 'name="family_name" type="text" value="李建国"' in page.get_data(as_text=True)


def test_the_form_gives_the_relation_the_department_counsellor_just_logged(app, world):
    page = _client(app, world.counsellor).get(f"/crisis/warnings/{world.warning.id}")
    assert 'name="family_relation" type="text" value=""' in page.get_data(as_text=True)
    logged = _client(app, world.dept_counsellor).post(
        f"/casework/students/{world.student.id}/family-contacts/new",
        data={
            "submission": "family-log-token",
            "at": "2026-09-14T09:30",
            "direction": "we_called",
            "guardian_name": "李建国",
            "guardian_relation": "父亲",
            "channel": "phone",
            "summary": "告知预警情况。",
            "outcome": "reached",
        },
    )
    assert logged.status_code == 302
    page = _client(app, world.counsellor).get(f"/crisis/warnings/{world.warning.id}")
    assert 'name="family_relation" type="text" value="父亲"' in page.get_data(as_text=True)


# --------------------------------------------------------------------------------------------------
# Corrections: one call stays one record
# --------------------------------------------------------------------------------------------------


def _record_id() -> int:
    return db.session.scalars(select(CrisisRecord.id)).one()


def _entry_ids() -> list[int]:
    return list(db.session.scalars(select(CrisisEntry.id).order_by(CrisisEntry.id)))


def _add(client, correcting: int | None = None, **changes):
    data = ENTRY | {"place": "湖南省脑科医院急诊"} | changes
    if correcting is not None:
        data["corrects"] = str(correcting)
    return client.post(f"/crisis/{_record_id()}/entries", data=data)


def _family_log(client, world: CrisisWorld) -> tuple[list[str], list[str]]:
    """The family log on the student's file: its rows as the counsellor reads them, those that
    stand and those marked corrected."""
    page = client.get(f"/casework/students/{world.student.id}").get_data(as_text=True)
    table = page.split('class="doc-list family-log stacked one-head"', 1)[1].split("</table>", 1)[0]
    rows = table.split("<tbody>", 1)[1].split("</tr>")[:-1]
    standing = [r for r in rows if 'class="corrected"' not in r]
    return standing, [r for r in rows if 'class="corrected"' in r]


def _guardian_notices() -> int:
    return db.session.scalar(
        select(func.count(WarningEvent.id)).where(WarningEvent.kind == "guardian_notified")
    )


def test_a_correction_that_logs_the_call_again_corrects_its_family_contact(app, world):
    """Before, the correction's call was a second contact: the family log showed the one call
    twice, both standing."""
    client = _client(app, world.counsellor)
    _open(client, world)
    (first,) = _entry_ids()
    said = "更正：父亲当时在外地出差，次日上午赶到。"
    assert _add(client, first, submission="fix-1", family_said=said).status_code == 302

    original, correction = sorted(_contacts(), key=lambda c: c.id)
    assert correction.corrects_id == original.id
    standing, corrected = _family_log(client, world)
    assert len(standing) == 1
    assert said in standing[0]
    assert len(corrected) == 1
    assert "Corrected by a later entry" in corrected[0]
    assert _guardian_notices() == 1  # the guardian was told once, by the first call
    later = _entry_item(client.get(f"/crisis/{_record_id()}").get_data(as_text=True), 2)
    assert "Guardian informed" in later  # the corrected account still says so


def test_correcting_an_entry_again_corrects_the_call_as_the_family_log_reads_it_now(app, world):
    client = _client(app, world.counsellor)
    _open(client, world)
    (first,) = _entry_ids()
    _add(client, first, submission="fix-1", family_said="第一次更正。")
    # An entry without a call leaves the call standing; correcting it later reaches past it.
    _add(client, first, submission="fix-2", family_outcome="")
    assert len(_contacts()) == 2
    _add(client, _entry_ids()[-1], submission="fix-3", family_said="第二次更正。")
    _add(client, first, submission="fix-4", family_said="第三次更正。")

    contacts = sorted(_contacts(), key=lambda c: c.id)
    assert [c.corrects_id for c in contacts] == [None, *[c.id for c in contacts[:-1]]]
    standing, corrected = _family_log(client, world)
    assert len(standing) == 1
    assert "第三次更正。" in standing[0]
    assert len(corrected) == 3


def test_a_correction_saying_the_unanswered_call_reached_the_guardian_meets_the_step(app, world):
    client = _client(app, world.counsellor)
    _open(client, world, family_outcome="not_reached")
    assert _guardian_owed(world)
    _add(client, _entry_ids()[0], submission="fix-1")

    assert not _guardian_owed(world)
    assert _guardian_notices() == 1
    assert [c.outcome for c in sorted(_contacts(), key=lambda c: c.id)] == [
        ContactOutcome.NOT_REACHED,
        ContactOutcome.REACHED,
    ]


# --------------------------------------------------------------------------------------------------
# A hand-over to the family: the strongest family contact there is
# --------------------------------------------------------------------------------------------------

HANDOVER = {
    "actions": ["accompanied", "hospital", "guardian_arrived", "handed_over"],
    "handed_over_at": "2026-09-14T09:50",
    "handed_over_to": "李建国（父亲）",
}


def _month(app, world: CrisisWorld) -> str:
    """The department counsellor's month figure, as her home page gives it."""
    home = _client(app, world.dept_counsellor).get("/").get_data(as_text=True)
    return home.split("Families contacted this month: ", 1)[1].split(" key students", 1)[0]


def test_a_hand_over_is_a_family_contact_met_in_person_that_tells_the_guardian(app, world):
    """Before, a hand-over wrote no family contact: the log and the month's figure missed it."""
    client = _client(app, world.counsellor)
    assert _month(app, world) == "0 of 1"
    assert _open(client, world, family_outcome="", **HANDOVER).status_code == 302

    (contact,) = _contacts()
    assert (contact.channel, contact.direction, contact.outcome) == (
        ContactChannel.IN_PERSON,
        ContactDirection.MET,
        ContactOutcome.REACHED,
    )
    assert contact.guardian_name == "李建国（父亲）"
    assert contact.at == datetime(2026, 9, 14, 1, 50)  # 09:50 in Changsha
    assert not _guardian_owed(world)
    (standing,), _ = _family_log(client, world)
    assert "Met in person" in standing
    assert "Handed over to the family in person; the account is in the crisis record." in standing
    assert _month(app, world) == "1 of 1"
    entry = _entry_item(client.get(f"/crisis/{_record_id()}").get_data(as_text=True), 1)
    assert "Guardian informed" in entry


def test_a_phone_call_and_the_hand_over_after_it_are_two_contacts_the_guardian_told_once(
    app, world
):
    client = _client(app, world.counsellor)
    assert _open(client, world, **HANDOVER).status_code == 302

    channels = sorted(c.channel for c in _contacts())
    assert channels == [ContactChannel.IN_PERSON, ContactChannel.PHONE]
    standing, _ = _family_log(client, world)
    assert len(standing) == 2
    assert _guardian_notices() == 1
    assert _month(app, world) == "1 of 1"


def test_a_call_in_person_at_the_hand_over_is_that_meeting_one_contact(app, world):
    client = _client(app, world.counsellor)
    response = _open(client, world, family_channel="in_person", family_at="", **HANDOVER)
    assert response.status_code == 302

    (contact,) = _contacts()
    assert (contact.guardian_name, contact.guardian_relation) == ("李建国", "父亲")
    assert contact.channel is ContactChannel.IN_PERSON
    assert contact.at == datetime(2026, 9, 14, 1, 50)  # the hand-over's time
    assert len(_family_log(client, world)[0]) == 1
    assert _month(app, world) == "1 of 1"


def test_a_call_in_person_at_the_hand_over_that_reached_no_one_is_refused(app, world):
    client = _client(app, world.counsellor)
    response = _open(
        client, world, family_channel="in_person", family_outcome="not_reached", **HANDOVER
    )
    assert response.status_code == 400
    assert "A hand-over in person reached the family" in response.get_data(as_text=True)
    assert _contacts() == []
    assert db.session.scalar(select(func.count(CrisisRecord.id))) == 0


def test_a_hand_over_given_without_its_tick_is_still_a_hand_over(app, world):
    client = _client(app, world.counsellor)
    changes = HANDOVER | {"actions": ["accompanied", "hospital"]}
    assert _open(client, world, family_outcome="", **changes).status_code == 302
    assert "handed_over" in db.session.scalars(select(CrisisEntry)).one().actions
    assert [c.channel for c in _contacts()] == [ContactChannel.IN_PERSON]


def test_a_corrected_hand_over_corrects_its_contact_and_leaves_the_earlier_call(app, world):
    """The first entry logged a phone call and the hand-over; its correction gives the hand-over
    as a meeting in person with the father's words: the meeting's contact is corrected, the
    phone call before it still stands."""
    client = _client(app, world.counsellor)
    _open(client, world, **HANDOVER)
    phone, handover = sorted(_contacts(), key=lambda c: c.channel is ContactChannel.IN_PERSON)
    correction = HANDOVER | {
        "handed_over_at": "2026-09-14T09:55",
        "family_channel": "in_person",
        "family_at": "",
        "family_said": "父亲到院接回，同意陪同门诊复诊。",
    }
    assert _add(client, _entry_ids()[0], submission="fix-1", **correction).status_code == 302

    new = db.session.scalars(select(FamilyContact).where(FamilyContact.id > handover.id)).one()
    assert new.corrects_id == handover.id
    assert new.at == datetime(2026, 9, 14, 1, 55)
    standing, corrected = _family_log(client, world)
    assert len(standing) == 2  # the phone call and the meeting, once each
    assert any("父亲到院接回" in row for row in standing)
    assert len(corrected) == 1
    assert phone.id not in {c.corrects_id for c in _contacts()}
