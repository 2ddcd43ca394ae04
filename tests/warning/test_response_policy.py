"""The response policy: a versioned YAML per institution that sets owners and deadline windows.

A campus with other windows or owners changes a file: saved as a draft, simulated, activated; every
deadline names the version that set it.
"""

from __future__ import annotations

import html
from dataclasses import fields
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from campus.notifications import OutboxMail
from tests.factories import open_warning
from tests.factories import phq9_signal
from warning import response
from warning import retriage
from warning.escalation import sweep_deadlines
from warning.escalation import sweep_follow_ups
from warning.models import Deadline
from warning.models import EarlyWarning
from warning.models import OwnerTier
from warning.models import PolicyKind
from warning.models import PolicyStatus
from warning.models import PolicyVersion
from warning.policy import Level
from warning.policy_words import SETTING_NAMES
from warning.response_policy import LevelResponse
from warning.response_policy import ResponsePolicy
from warning.response_policy import default_response_policy
from warning.response_policy import response_policy_from_yaml_text

from .response_helpers import open_deadlines
from .response_helpers import sweep_after

DEFAULT = retriage.default_yaml(PolicyKind.RESPONSE)
DEFAULT_VERSION = 'version: "response-default-2026.2"'
YELLOW_CONTACT = "{kind: contact, within_hours: 72, tier: department}"


def _campus_scheme(version: str, yellow_contact: str, yellow_owner: str = "department") -> str:
    """The default text with another version and yellow row, as a campus would edit it."""
    assert DEFAULT_VERSION in DEFAULT
    assert YELLOW_CONTACT in DEFAULT
    text = DEFAULT.replace(DEFAULT_VERSION, f'version: "{version}"')
    text = text.replace(YELLOW_CONTACT, yellow_contact)
    return text.replace("  yellow:\n    owner: department", f"  yellow:\n    owner: {yellow_owner}")


def _activate(client, text: str) -> PolicyVersion:
    saved = client.post("/warnings/response-policy", data={"yaml_text": text})
    assert saved.status_code == 302
    draft = db.session.scalar(
        select(PolicyVersion).where(PolicyVersion.kind == PolicyKind.RESPONSE)
    )
    client.post(f"/warnings/policy/{draft.id}/activate", follow_redirects=True)
    db.session.expire_all()
    return draft


def test_the_default_response_policy_is_the_brief_table():
    policy = default_response_policy()
    red, yellow, blue = (policy.for_level(level) for level in (Level.RED, Level.YELLOW, Level.BLUE))
    assert red.owner == OwnerTier.SCHOOL
    assert red.notify_department_leader
    assert [(r.kind, r.within, r.tier) for r in red.deadlines] == [
        ("acknowledge", timedelta(hours=1), OwnerTier.SCHOOL),
        ("assessment", timedelta(hours=24), OwnerTier.SCHOOL),
        ("guardian_notified", timedelta(hours=24), OwnerTier.DEPARTMENT),
        ("peer_watch", timedelta(hours=24), OwnerTier.DEPARTMENT),
    ]
    assert yellow.window("contact") == timedelta(hours=72)
    assert yellow.owner == OwnerTier.DEPARTMENT
    assert blue.window("check_in") == timedelta(days=7)
    assert blue.owner == OwnerTier.CLASS
    cadences = [r.follow_up_every for r in (red, yellow, blue)]
    assert cadences == [timedelta(days=7), timedelta(days=14), timedelta(days=30)]


def test_every_deadline_names_the_response_policy_version_that_set_it(network):
    warning = open_warning(network.student, Level.RED)
    versions = {d.response_policy_version for d in open_deadlines(warning).values()}
    assert versions == {"response-default-2026.2"}


def test_a_campus_with_a_48_hour_yellow_contact_is_a_yaml_change_only(network, campus, login):
    admin = campus.staff(network.institution, Role.ADMIN)
    other = campus.institution("HZU")
    other_student = campus.student(campus.class_group(campus.department(other)), campus.room(other))
    campus.commit()
    text = _campus_scheme("campus-48h", "{kind: contact, within_hours: 48, tier: department}")
    _activate(login(admin), text)

    warning = open_warning(network.student, Level.YELLOW)
    contact = open_deadlines(warning)["contact"]
    assert contact.due_at == clock.now() + timedelta(hours=48)
    assert contact.response_policy_version == "campus-48h"
    elsewhere = open_deadlines(open_warning(other_student, Level.YELLOW))["contact"]
    assert elsewhere.due_at == clock.now() + timedelta(hours=72)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "activate_policy"))


def test_a_missed_deadline_escalates_with_the_campus_window_and_version(network, campus, login):
    admin = campus.staff(network.institution, Role.ADMIN)
    campus.commit()
    text = _campus_scheme("campus-48h", "{kind: contact, within_hours: 48, tier: department}")
    _activate(login(admin), text)
    start = clock.now()
    warning = open_warning(network.student, Level.YELLOW)
    clock.set_now(start + timedelta(hours=48))
    assert sweep_deadlines(db.session, clock.now()) == 1
    db.session.commit()
    escalated = open_deadlines(warning)["contact"]
    assert escalated.tier == OwnerTier.SCHOOL
    assert escalated.due_at == start + timedelta(hours=96)
    assert escalated.response_policy_version == "campus-48h"


def test_activating_a_response_policy_leaves_the_triage_policy_active(network, campus, login):
    admin = campus.staff(network.institution, Role.ADMIN)
    campus.commit()
    client = login(admin)
    triage = retriage.default_yaml().replace('"default-2026.1"', '"triage-1"')
    assert client.post("/warnings/policy", data={"yaml_text": triage}).status_code == 302
    triage_draft = db.session.scalar(select(PolicyVersion))
    client.post(f"/warnings/policy/{triage_draft.id}/activate", follow_redirects=True)
    response_draft = _activate(client, _campus_scheme("response-1", YELLOW_CONTACT))
    assert triage_draft.status == PolicyStatus.ACTIVE
    assert response_draft.status == PolicyStatus.ACTIVE
    triage_page = client.get("/warnings/policy").get_data(as_text=True)
    assert "triage-1" in triage_page
    assert "response-1" not in triage_page
    response_page = client.get("/warnings/response-policy").get_data(as_text=True)
    assert "response-1" in response_page
    assert "triage-1" not in response_page


def test_an_invalid_response_draft_shows_every_problem_and_saves_nothing(network, campus, login):
    admin = campus.staff(network.institution, Role.ADMIN)
    campus.commit()
    text = DEFAULT.replace("tier: school}", "tier: headmaster}").replace(
        "kind: contact,", "kind: phone_call,"
    )
    response = login(admin).post("/warnings/response-policy", data={"yaml_text": text})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "headmaster" in page
    assert "phone_call" in page
    assert db.session.scalar(select(func.count()).select_from(PolicyVersion)) == 0


def test_a_draft_acknowledging_after_the_assessment_is_refused(network, campus, login):
    """Acknowledge in 48 hours and assess in 24 cannot be met as written; accepted, it would
    escalate warnings whose assessment was done."""
    admin = campus.staff(network.institution, Role.ADMIN)
    campus.commit()
    text = DEFAULT.replace(
        "{kind: acknowledge, within_hours: 1,", "{kind: acknowledge, within_hours: 48,"
    )
    response = login(admin).post("/warnings/response-policy", data={"yaml_text": text})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert (
        "Acknowledge (acknowledge) is due within 48 hours, after Professional assessment "
        "(assessment, 24 hours)"
    ) in page
    assert "after Notify the guardian (guardian_notified, 24 hours)" in page
    assert db.session.scalar(select(func.count()).select_from(PolicyVersion)) == 0


def test_an_acknowledgement_due_with_the_assessment_is_accepted(network, campus, login):
    admin = campus.staff(network.institution, Role.ADMIN)
    campus.commit()
    text = DEFAULT.replace(DEFAULT_VERSION, 'version: "campus-2027.1"').replace(
        "{kind: acknowledge, within_hours: 1,", "{kind: acknowledge, within_hours: 24,"
    )
    assert (
        login(admin).post("/warnings/response-policy", data={"yaml_text": text}).status_code == 302
    )


def test_a_response_draft_needs_all_three_levels(network, campus, login):
    admin = campus.staff(network.institution, Role.ADMIN)
    campus.commit()
    text = DEFAULT[: DEFAULT.index("  blue:")]
    response = login(admin).post("/warnings/response-policy", data={"yaml_text": text})
    assert response.status_code == 400
    assert "levels.blue" in response.get_data(as_text=True)


def test_simulation_shows_owner_and_window_changes_per_department_and_writes_nothing(
    network, campus, login
):
    admin = campus.staff(network.institution, Role.ADMIN)
    campus.commit()
    open_warning(network.student, Level.YELLOW)
    open_warning(network.other_student, Level.BLUE)
    client = login(admin)
    text = _campus_scheme(
        "centre-48h", "{kind: contact, within_hours: 48, tier: school}", yellow_owner="school"
    )
    client.post("/warnings/response-policy", data={"yaml_text": text})
    draft = db.session.scalar(select(PolicyVersion))
    deadlines = db.session.scalar(select(func.count(Deadline.id)))

    page = client.post(f"/warnings/policy/{draft.id}/simulate").get_data(as_text=True)

    assert "<td>Computing</td>" in page
    assert "<td>History</td>" not in page
    moves = retriage.simulate_response(
        db.session, institution_id=network.institution.id, draft=retriage.policy_of(draft)
    )
    assert moves == [
        retriage.ResponseMove(
            "Computing", Level.YELLOW, 1, OwnerTier.DEPARTMENT, OwnerTier.SCHOOL, 1
        )
    ]
    assert db.session.scalar(select(func.count(Deadline.id))) == deadlines
    assert db.session.scalar(
        select(EarlyWarning).where(EarlyWarning.level == Level.YELLOW)
    ).owner_tier == (OwnerTier.DEPARTMENT)
    assert draft.status == PolicyStatus.DRAFT


def test_a_chinese_administrator_reads_the_response_draft_problems_in_chinese(
    network, campus, login
):
    admin = campus.staff(network.institution, Role.ADMIN)
    admin.locale = "zh_CN"
    campus.commit()
    text = DEFAULT.replace("kind: contact,", "kind: phone_call,").replace(
        "    owner: class\n", "    owner: headmaster\n"
    )
    response = login(admin).post("/warnings/response-policy", data={"yaml_text": text})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "预警响应策略" in page
    assert "levels.yellow.deadlines[0].kind：未知取值 'phone_call'" in page
    assert "levels.blue.owner：未知取值 'headmaster'（应为以下之一：dorm, class," in page
    assert "unknown value" not in page


def test_the_follow_up_sweep_uses_the_campus_cadence(network, campus, login):
    admin = campus.staff(network.institution, Role.ADMIN)
    campus.commit()
    text = _campus_scheme("weekly-yellow", YELLOW_CONTACT).replace(
        "    follow_up_days: 14\n", "    follow_up_days: 10\n"
    )
    _activate(login(admin), text)
    warning = open_warning(network.student, Level.YELLOW)
    response.meet(db.session, warning, ["contact"], clock.now())
    assert sweep_follow_ups(db.session, clock.now()) == 1
    db.session.commit()
    follow_up = open_deadlines(warning)["follow_up"]
    assert follow_up.due_at == warning.owner_since + timedelta(days=10)
    assert follow_up.response_policy_version == "weekly-yellow"


# --- how often school leadership is reminded ----------------------------------------------------

REMINDER = "leadership_reminder_hours: 4"
ARRIVED = "A warning has been escalated to school leadership"
STILL_OUTSTANDING = "A warning escalated to school leadership is still outstanding"


def test_a_stored_policy_without_the_reminder_interval_keeps_four_hours():
    text = DEFAULT.replace(REMINDER + "\n", "")
    assert REMINDER not in text
    assert response_policy_from_yaml_text(text).leadership_reminder_every == timedelta(hours=4)


def test_the_director_is_reminded_at_the_campus_interval(network, campus, login):
    """A campus that wants its leadership reminded every 2 hours says so in its policy: the red
    left at the top is mailed again after 2 hours of passes, not the default 4."""
    admin = campus.staff(network.institution, Role.ADMIN)
    campus.commit()
    text = DEFAULT.replace(DEFAULT_VERSION, 'version: "campus-2h"').replace(
        REMINDER, "leadership_reminder_hours: 2"
    )
    _activate(login(admin), text)
    start = clock.now()
    phq9_signal(network.student, 22)

    def mails() -> list[str]:
        rows = db.session.scalars(
            select(OutboxMail.body)
            .where(OutboxMail.recipient == network.director.email, OutboxMail.channel_id.is_(None))
            .order_by(OutboxMail.id)
        )
        return [body.splitlines()[0] for body in rows]

    before = mails()
    assert sweep_after(timedelta(minutes=61), start) == 1  # 11:01: to leadership
    assert sweep_after(timedelta(minutes=122), start) == 1  # 12:02: passed on, 1 hour on
    assert mails()[len(before) :] == [ARRIVED]
    assert sweep_after(timedelta(minutes=183), start) == 1  # 13:03: 2 hours on: reminded
    assert mails()[len(before) :] == [ARRIVED, STILL_OUTSTANDING]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("0", "leadership_reminder_hours: 0 is out of range; must be between 1 and 24"),
        ("200", "leadership_reminder_hours: 200 is out of range; must be between 1 and 24"),
        ("soon", "leadership_reminder_hours: required, a whole number"),
    ],
)
def test_the_policy_editor_refuses_a_reminder_interval_out_of_bounds(
    network, campus, login, value, problem
):
    admin = campus.staff(network.institution, Role.ADMIN)
    campus.commit()
    text = DEFAULT.replace(REMINDER, f"leadership_reminder_hours: {value}")
    response = login(admin).post("/warnings/response-policy", data={"yaml_text": text})
    assert response.status_code == 400
    assert problem in html.unescape(response.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(PolicyVersion)) == 0


def test_a_chinese_administrator_reads_the_reminder_refusal_in_chinese(network, campus, login):
    admin = campus.staff(network.institution, Role.ADMIN)
    admin.locale = "zh_CN"
    campus.commit()
    text = DEFAULT.replace(REMINDER, "leadership_reminder_hours: 0")
    response = login(admin).post("/warnings/response-policy", data={"yaml_text": text})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "leadership_reminder_hours：0 超出范围；应在 1 到 24 之间" in page


def test_simulation_says_when_a_draft_changes_the_reminder_interval(network, campus, login):
    admin = campus.staff(network.institution, Role.ADMIN)
    campus.commit()
    client = login(admin)
    text = DEFAULT.replace(DEFAULT_VERSION, 'version: "campus-8h"').replace(
        REMINDER, "leadership_reminder_hours: 8"
    )
    client.post("/warnings/response-policy", data={"yaml_text": text})
    draft = db.session.scalar(select(PolicyVersion))

    page = client.post(f"/warnings/policy/{draft.id}/simulate").get_data(as_text=True)

    # Said in the simulation's card, among its findings, not after it between two cards.
    card = page.split('aria-labelledby="sim-h">', 1)[1].split("</section>", 1)[0]
    assert "This draft changes 1 setting:" in card
    assert (
        "<tr><td>Reminders to school leadership of a warning still waiting there</td>"
        "<td>4 hours</td><td>8 hours</td></tr>"
    ) in card
    assert card.index("8 hours") < card.index("Nothing was written.")


def test_simulation_lists_every_setting_a_draft_changes_with_no_open_warning(
    network, campus, login
):
    """A change no open warning would show (the follow-up after a hospital discharge, who is
    told of a level) is still listed: the two parsed policies are compared field by field."""
    admin = campus.staff(network.institution, Role.ADMIN)
    campus.commit()
    client = login(admin)
    text = DEFAULT.replace(DEFAULT_VERSION, 'version: "campus-24h-discharge"').replace(
        "discharge_follow_up_hours: 48", "discharge_follow_up_hours: 24"
    )
    text = text.replace("    notify_department_leader: true\n", "")
    client.post("/warnings/response-policy", data={"yaml_text": text})
    draft = db.session.scalar(select(PolicyVersion))

    page = client.post(f"/warnings/policy/{draft.id}/simulate").get_data(as_text=True)

    card = page.split('aria-labelledby="sim-h">', 1)[1].split("</section>", 1)[0]
    assert "No open warning would change owner" in card
    assert "This draft changes 2 settings:" in card
    assert (
        "<tr><td>Follow-up contact after a hospital discharge, within</td>"
        "<td>2 days</td><td>24 hours</td></tr>"
    ) in card
    assert (
        "<tr><td>Red: Department leader told when the level is set</td><td>Yes</td><td>No</td>"
    ) in card


# --- windows shorter than an hour ---------------------------------------------------------------

ACKNOWLEDGE_HOUR = "{kind: acknowledge, within_hours: 1,"


def test_a_campus_can_ask_for_acknowledgement_within_30_minutes(network, campus, login):
    """Before, within_hours: 0.5 was refused as "a whole number": a campus could not say
    "acknowledge a red within 30 minutes"."""
    admin = campus.staff(network.institution, Role.ADMIN)
    campus.commit()
    text = DEFAULT.replace(DEFAULT_VERSION, 'version: "campus-30min"').replace(
        ACKNOWLEDGE_HOUR, "{kind: acknowledge, within_hours: 0.5,"
    )
    _activate(login(admin), text)
    start = clock.now()
    warning = phq9_signal(network.student, 22)
    assert open_deadlines(warning)["acknowledge"].due_at == start + timedelta(minutes=30)

    assert sweep_after(timedelta(minutes=29), start) == 0
    assert sweep_after(timedelta(minutes=31), start) == 1  # the centre's half hour passed
    db.session.expire_all()
    # School leadership gets the same half hour.
    owed = open_deadlines(warning)["acknowledge"]
    assert owed.tier == OwnerTier.LEADERSHIP
    assert owed.due_at == start + timedelta(minutes=61)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("0.1", "within_hours: 0.1 is out of range; must be between 0.25 and 2160"),
        ("0.51", "within_hours: 0.51 hours is not a whole number of minutes"),
        ("half", "within_hours: required, a number of hours (0.5 is 30 minutes)"),
    ],
)
def test_a_window_too_short_or_not_in_minutes_is_refused(network, campus, login, value, problem):
    admin = campus.staff(network.institution, Role.ADMIN)
    campus.commit()
    text = DEFAULT.replace(ACKNOWLEDGE_HOUR, f"{{kind: acknowledge, within_hours: {value},")
    response = login(admin).post("/warnings/response-policy", data={"yaml_text": text})
    assert response.status_code == 400
    assert problem in html.unescape(response.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(PolicyVersion)) == 0


def test_every_setting_of_the_response_policy_has_words_for_the_draft_comparison():
    """A setting added to the policy is compared by itself; this asks for its name in words."""
    settings = {f.name for f in fields(ResponsePolicy)} - {"version", "levels"}
    settings |= {f.name for f in fields(LevelResponse)}
    assert settings <= set(SETTING_NAMES)
