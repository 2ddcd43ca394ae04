"""The demo seeded in December tells the term's story in order: a contact after a raise knows of
it, and a guardian is the same relation in every call."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from campus import clock
from campus import demo
from campus.extensions import db
from warning.models import Signal
from warning.models import SignalSource


@pytest.fixture
def december_demo(app):
    """The demo seeded in December, the term under way, where more of its story has happened
    than on the first morning of term: its blues have been called for weeks when the referral
    demo's report of ten days ago lands among them, and its reds' guardians told twice."""
    clock.set_now(datetime(2026, 12, 7, 9, 12))
    logins = demo.seed(db.session, students=400, today=clock.now().date())
    db.session.commit()
    return logins


def test_no_contact_is_dated_after_a_raise_it_did_not_know_of(december_demo):
    """The seeders run one after another: the warning demo kept in touch with its blues up to
    today at a blue's pace, then the referral demo's hospital report raised one to red days
    before the last of those calls, so her timeline read "电话联系：近况平稳" three days after
    the hospital admitted her. Every contact after a raise is one written knowing of it."""
    from warning.models import WarningEvent

    events = db.session.scalars(select(WarningEvent).order_by(WarningEvent.id)).all()
    raises = [e for e in events if e.kind == "level_changed" and e.to_level > e.from_level]
    hospital = select(Signal.id).where(Signal.source == SignalSource.HOSPITAL)
    assert {e.signal_id for e in raises} & set(db.session.scalars(hospital))
    for raised in raises:
        unaware = [
            e
            for e in events
            if e.warning_id == raised.warning_id
            and e.kind == "contact"
            and e.at > raised.at
            and e.id < raised.id
        ]
        assert not unaware, (raised.warning_id, raised.at, [e.at for e in unaware])


def test_a_students_guardian_is_the_same_relation_in_every_family_contact(december_demo):
    """The crisis record's call named the guardian her father where the warning's call to the
    same person had named her mother."""
    from casework.models import FamilyContact

    relations: dict[tuple[int, str], set[str]] = {}
    for contact in db.session.scalars(select(FamilyContact)):
        relations.setdefault((contact.student_id, contact.guardian_name), set()).add(
            contact.guardian_relation
        )
    assert relations
    assert all(len(names) == 1 for names in relations.values()), relations
