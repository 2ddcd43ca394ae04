"""The header's navigation: an administrator's many pages fold into a few named menus, while a
counsellor's daily pages stay one click away."""

from __future__ import annotations

import re

from campus.models import Role


def _nav(body: str) -> str:
    found = re.search(r'<nav class="main-nav".*?</nav>', body, re.S)
    assert found is not None
    return found.group(0)


def test_an_administrators_pages_fold_into_named_menus_and_a_counsellors_stay_plain(campus, login):
    xju = campus.institution("XJU")
    department = campus.department(xju)
    admin = campus.staff(xju, Role.ADMIN, login="boss")
    counsellor = campus.staff(xju, Role.DEPT_COUNSELLOR, login="t01", department=department)
    campus.commit()

    nav = _nav(login(admin).get("/admin/audit").get_data(as_text=True))
    menus = dict(re.findall(r"<summary[^>]*>([^<]+)</summary>\s*<ul>(.*?)</ul>", nav, re.S))
    assert list(menus) == [
        "People and structure",
        "Warnings and response",
        "Oversight and audit",
        "Settings",
    ]
    assert ">Staff accounts</a>" in menus["People and structure"]
    assert ">Triage policy</a>" in menus["Warnings and response"]
    # The page open is marked in its menu, and the menu is marked as holding it.
    assert 'aria-current="page">Audit trail</a>' in menus["Oversight and audit"]
    assert '<summary class="current">Oversight and audit</summary>' in nav
    # A page under an entry's address (one account of the list) is marked as within it.
    nav_user = _nav(login(admin).get(f"/admin/users/{counsellor.id}").get_data(as_text=True))
    assert '<summary class="current">People and structure</summary>' in nav_user
    assert 'aria-current="true">Staff accounts</a>' in nav_user
    assert nav_user.count("aria-current") == 1
    outside = re.sub(r"<details.*?</details>", "", nav, flags=re.S)
    assert re.findall(r">([^<>]+)</a>", outside) == ["Warnings", "Students", "Campaigns", "Inbox"]

    nav = _nav(login(counsellor).get("/").get_data(as_text=True))
    assert "<details" not in nav
    assert ">Response network</a>" in nav  # the one page of its menu they have is a plain link
