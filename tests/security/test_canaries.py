"""Scores, counsellor notes, referral fields and hospital statements never reach the class, dorm,
other-hospital liaison or province roles, in any page or export they can open."""

from __future__ import annotations

import pytest

from campus.models import Role
from tests.conftest import sign_in
from tests.security.conftest import CANARIES
from tests.security.crawl import crawl, start_urls

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
    assert {"counsellor_note", "referral_reason", "hospital_statement"} <= seen
