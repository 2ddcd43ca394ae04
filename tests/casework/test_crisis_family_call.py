"""The call to the family a crisis entry records is the student's one family contact: before, the
entry's "已通知监护人" tick met no warning step and wrote no family contact, so the counsellor
logged the same call two or three times."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from campus.audit import AuditEvent
from campus.extensions import db
from casework.models import ContactChannel
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
