"""Campaign reminders are stored as one catalog message and shown in the reader's language."""

from __future__ import annotations

from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.notifications import Notification
from screening import campaigns
from tests.conftest import sign_in

REMINDER = "Please complete your mental health screening: it is waiting in My screenings."


def test_a_reminder_is_stored_as_a_message_id_without_the_campaign_name(school, make_campaign):
    campaign = make_campaign(name="100% freshman intake %(x)s")
    campaigns.send_reminders(db.session, campaign, clock.now())
    db.session.commit()
    texts = set(db.session.scalars(select(Notification.text)))
    assert texts == {REMINDER}


def test_a_student_reads_the_reminder_of_a_campaign_named_with_percent_signs(
    client, school, make_campaign
):
    campaign = make_campaign(name="100% freshman intake %(x)s")
    campaigns.send_reminders(db.session, campaign, clock.now())
    db.session.commit()
    sign_in(client, school.student.user)
    client.post("/language/en", data={"next": "/"})
    inbox = client.get("/inbox/")
    assert inbox.status_code == 200
    assert REMINDER in inbox.get_data(as_text=True)
