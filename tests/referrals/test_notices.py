"""Hospital and counsellor hear from each other: the liaison is told when a referral arrives
(urgently for the green channel), the referring counsellor when the hospital books or assesses,
and the liaison's page says who referred the student and how to call the centre back."""

from __future__ import annotations

from sqlalchemy import select

from campus.extensions import db
from campus.notifications import Notification
from campus.notifications import OutboxMail
from referrals.models import AssessmentOutcome
from referrals.models import ReferralStatus
from tests import factories
from tests.referrals.conftest import referral_in

S = ReferralStatus


def _notes(user) -> list[tuple[str, str]]:
    return db.session.execute(
        select(Notification.text, Notification.link)
        .where(Notification.user_id == user.id)
        .order_by(Notification.id)
    ).all()


def test_liaison_is_told_when_a_referral_arrives_and_no_other_hospital_is(world):
    referral = referral_in(world, S.SENT)
    assert _notes(world.liaison) == [
        ("A new referral has arrived for your hospital.", f"/hospital/referrals/{referral.id}")
    ]
    assert _notes(world.other_liaison) == []


def test_the_liaisons_inbox_names_the_arriving_student_and_the_mail_does_not(world, login):
    """As the counsellor's notices do: the student the hospital's page already shows is named
    in the inbox, linked to that page; the mail (and any channel) carries the text alone."""
    world.liaison.email = "liaison@hospital.test"
    db.session.commit()
    referral = referral_in(world, S.SENT, green_channel=True)

    inbox = login(world.liaison).get("/inbox/").get_data(as_text=True)
    named = inbox.split("green-channel referral has arrived")[1]
    assert (
        f'<a href="/hospital/referrals/{referral.id}"><strong>{world.student.name}</strong></a>'
        in named
    )
    mails = db.session.scalars(
        select(OutboxMail).where(OutboxMail.recipient == "liaison@hospital.test")
    ).all()
    assert len(mails) == 1
    assert world.student.name not in mails[0].subject + mails[0].body


def test_a_green_channel_referral_reaches_the_liaison_as_urgent(world):
    referral_in(world, S.SENT, green_channel=True)
    [(text, _link)] = _notes(world.liaison)
    assert text.startswith("Urgent: a green-channel referral has arrived")


def test_a_draft_tells_the_hospital_nothing(world):
    referral_in(world, S.DRAFT)
    assert _notes(world.liaison) == []


def test_referring_counsellor_hears_when_the_hospital_books_and_assesses(world):
    referral = referral_in(world, S.ASSESSED)
    link = f"/referrals/{referral.id}"
    assert _notes(world.counsellor) == [
        ("The hospital has booked an appointment for your referral.", link),
        ("The hospital has recorded its assessment for your referral.", link),
    ]


def test_referring_counsellor_hears_when_treatment_begins_and_of_the_discharge(world):
    """The discharge is when the follow-up and the return start: the counsellor must not learn
    of it only from a line on the warning's timeline."""
    referral = referral_in(world, S.DISCHARGED)
    link = f"/referrals/{referral.id}"
    from_the_hospital = [note for note in _notes(world.counsellor) if note[1] == link]
    assert from_the_hospital[2:] == [
        ("The hospital reports that treatment has begun for your referral.", link),
        (
            "The hospital has recorded a discharge for your referral: plan the follow-up and, "
            "if the student is on leave, the return.",
            link,
        ),
    ]


def test_the_liaison_records_the_end_of_outpatient_treatment_and_the_inbox_names_the_student(
    world, login
):
    """Before: in outpatient treatment the liaison's only move was the red "lost to follow-up",
    which breaks the loop; and the counsellor's notices never said which student they were
    about. The name is in-app detail only: the text, which also goes by mail, names nobody."""
    referral = referral_in(world, S.IN_TREATMENT, AssessmentOutcome.OUTPATIENT)
    page = login(world.liaison).get(f"/hospital/referrals/{referral.id}").get_data(as_text=True)
    assert "Record the end of treatment" in page
    # said by lost to follow-up, naming the button she has
    assert "If the treatment has ended, press “Record the end of treatment” instead." in page
    factories.step(referral, S.DISCHARGED, world.liaison)
    page = login(world.liaison).get(f"/hospital/referrals/{referral.id}").get_data(as_text=True)
    assert 'id="school-closes"' in page
    assert _notes(world.counsellor)[-1] == (
        "The hospital reports that outpatient treatment has ended for your referral: check in "
        "with the student, plan the follow-up and close the referral.",
        f"/referrals/{referral.id}",
    )
    inbox = login(world.counsellor).get("/inbox/").get_data(as_text=True)
    assert (
        f"<strong>{world.student.name}</strong>" in inbox.split("outpatient treatment has ended")[1]
    )


def test_a_referral_to_a_hospital_nobody_receives_in_xinqiao_says_so(world, login, campus):
    unreached = campus.hospital(world.institution, "No Liaison Hospital")
    campus.commit()
    client = login(world.counsellor)
    draft = factories.new_referral(world.warning, world.counsellor, unreached)
    page = client.get(f"/referrals/{draft.id}").get_data(as_text=True)
    assert 'id="no-liaison"' in page
    assert "Nobody at No Liaison Hospital receives referrals in Xinqiao" in page
    reached = referral_in(world, S.DRAFT)
    assert 'id="no-liaison"' not in client.get(f"/referrals/{reached.id}").get_data(as_text=True)

    hospitals = login(world.admin).get("/admin/hospitals").get_data(as_text=True)
    assert hospitals.count("None: a referral sent here reaches nobody") == 1


def test_a_liaison_whose_account_is_switched_off_reaches_nobody(world, login):
    world.liaison.active = False
    db.session.commit()
    draft = referral_in(world, S.DRAFT)
    page = login(world.counsellor).get(f"/referrals/{draft.id}").get_data(as_text=True)
    assert 'id="no-liaison"' in page


def test_notices_name_no_student(world):
    referral_in(world, S.ASSESSED, green_channel=True)
    texts = db.session.scalars(select(Notification.text)).all()
    assert texts
    assert all(world.student.name not in text for text in texts)


def test_liaison_sees_the_referring_counsellor_and_the_centres_phone(world, login):
    world.institution.on_duty_phone = "0731-8888-0000"
    referral = referral_in(world, S.SENT, disclosed_fields=["name", "referral_reason"])
    page = login(world.liaison).get(f"/hospital/referrals/{referral.id}").get_data(as_text=True)
    assert "Referring counsellor" in page
    assert world.counsellor.name in page
    assert "0731-8888-0000" in page


def test_liaison_reads_the_arrival_notice_in_chinese(world, login):
    world.liaison.locale = "zh_CN"
    referral_in(world, S.SENT, green_channel=True)
    page = login(world.liaison).get("/inbox/").get_data(as_text=True)
    assert "绿色通道" in page
    assert "Urgent" not in page


def test_the_liaisons_lost_to_follow_up_names_the_discharge_button_for_an_inpatient(world, login):
    """Before: "if treatment has ended, record the end of treatment instead" beside a button
    called "Record the discharge"."""
    referral = referral_in(world, S.IN_TREATMENT, AssessmentOutcome.INPATIENT)
    page = login(world.liaison).get(f"/hospital/referrals/{referral.id}").get_data(as_text=True)
    assert "Record the discharge" in page
    assert "Record the end of treatment" not in page
    assert "If the student has left hospital, press “Record the discharge” instead." in page
