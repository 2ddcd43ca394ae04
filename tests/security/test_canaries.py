"""Scores, counsellor notes, referral fields and hospital statements never reach the class, dorm,
other-hospital liaison or province roles, in any page or export they can open."""

from __future__ import annotations

import pytest

from campus.extensions import db
from campus.models import Role
from tests.conftest import sign_in
from tests.security.conftest import CANARIES
from tests.security.crawl import crawl
from tests.security.crawl import start_urls
from warning.models import WarningEvent

NON_CLINICAL_ROLES = [
    Role.CLASS_COMMITTEE,
    Role.DORM_INFORMANT,
    Role.HOSPITAL_LIAISON,
    Role.PROVINCE_AUDITOR,
]


@pytest.mark.parametrize("role", NON_CLINICAL_ROLES, ids=lambda r: r.value)
def test_no_sensitive_canary_reaches_a_non_clinical_role(app, client, world, role):
    sign_in(client, world.users[role])
    pages = list(crawl(client, start_urls(app, role, world.ids)))
    assert any(p.status == 200 for p in pages), "the crawl reached no page"
    leaks = [
        (page.url, field)
        for page in pages
        for field, canary in CANARIES.items()
        if canary in page.text
    ]
    assert not leaks, f"{role.value} saw: {leaks}"


def test_the_crawl_finds_the_canaries_where_they_belong(app, client, world):
    """The school counsellor with the student on their caseload does see the clinical record, so
    the crawl above reaches the pages that hold the canaries."""
    role = Role.SCHOOL_COUNSELLOR
    sign_in(client, world.users[role])
    text = "".join(p.text for p in crawl(client, start_urls(app, role, world.ids)))
    seen = {field for field, canary in CANARIES.items() if canary in text}
    assert {"counsellor_note", "referral_reason", "hospital_statement", "crisis_narrative"} <= seen


# A school counsellor's assessment note is a counselling note: school centre only.
ASSESSMENT_NOTE = "CANARY-ASSESSMENT-NOTE-6d2f"
DEPARTMENT_AND_ADMIN_ROLES = [Role.DEPT_COUNSELLOR, Role.DEPT_LEADER, Role.ADMIN]


@pytest.fixture
def assessed_world(world):
    """The world's red warning with a professional assessment carrying a clinical note."""
    db.session.add(
        WarningEvent(
            warning_id=world.ids["warning_id"],
            actor_id=world.users[Role.SCHOOL_COUNSELLOR].id,
            kind="assessment",
            outcome="Assessed in person",
            note=ASSESSMENT_NOTE,
        )
    )
    db.session.commit()
    return world


def _crawled_text(app, client, world, role) -> str:
    sign_in(client, world.users[role])
    pages = list(crawl(client, start_urls(app, role, world.ids)))
    assert any(p.status == 200 for p in pages), "the crawl reached no page"
    return "".join(p.text for p in pages)


@pytest.mark.parametrize("role", DEPARTMENT_AND_ADMIN_ROLES, ids=lambda r: r.value)
def test_assessment_notes_never_reach_department_staff_or_administrators(
    app, client, assessed_world, role
):
    text = _crawled_text(app, client, assessed_world, role)
    assert ASSESSMENT_NOTE not in text
    assert CANARIES["score"] not in text


@pytest.mark.parametrize("role", [Role.DEPT_COUNSELLOR, Role.DEPT_LEADER], ids=lambda r: r.value)
def test_department_staff_read_the_contact_log_on_the_student_page(
    app, client, assessed_world, role
):
    """The crawl above does reach the timeline: the (non-clinical) contact note is on it."""
    assert CANARIES["counsellor_note"] in _crawled_text(app, client, assessed_world, role)


def test_the_caseload_counsellor_reads_the_assessment_note(app, client, assessed_world):
    text = _crawled_text(app, client, assessed_world, Role.SCHOOL_COUNSELLOR)
    assert ASSESSMENT_NOTE in text
