"""A NUL or another control character in any text a person sends never gives a 500.

PostgreSQL refuses NUL in text, so before the request-level rule a NUL typed into the sign-in
form, an admin form, an assessment note or a query string ended in a server error there.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from werkzeug.routing import Rule

from campus.extensions import db
from campus.models import Institution
from campus.models import Role
from campus.models import User
from tests.conftest import PASSWORD
from tests.conftest import sign_in
from tests.security.routes import ACCESS
from tests.security.routes import PUBLIC
from tests.security.routes import url_for_rule

NUL_TEXT = "Wang\x00 Fang\x01\x1f"
_FIELD = re.compile(r'name="([^"]+)"')
# Names read outside WTForms (query filters, intake items, `next`), posted with every form too.
RAW_NAMES = ("q", "page", "status", "sort", "month", "which", "target", "next", "action", "item_1")


def _query() -> str:
    return "?" + "&".join(f"{name}=a%00b" for name in RAW_NAMES)


def _form_names(client, url: str) -> set[str]:
    """The fields of the page's forms (when it has a page), plus the names read raw."""
    page = client.get(url)
    found = set(_FIELD.findall(page.get_data(as_text=True))) if page.status_code == 200 else set()
    return (found - {"csrf_token"}) | set(RAW_NAMES)


def _rules_for(app: Flask, role: Role | None) -> list[Rule]:
    """Every route `role` may use (anonymous: the public ones), signing out last."""
    rules = [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint != "static"
        and (ACCESS[r.endpoint] == PUBLIC if role is None else role in ACCESS[r.endpoint])
    ]
    return sorted(rules, key=lambda r: (r.endpoint == "campus.logout", r.endpoint))


def _server_errors(client, rules: list[Rule], ids: dict[str, int]) -> list[tuple[str, int]]:
    errors = []
    for rule in rules:
        url = url_for_rule(rule, ids)
        if "GET" in rule.methods:
            response = client.get(url + _query())
            if response.status_code >= 500:
                errors.append((f"GET {url}", response.status_code))
        if "POST" in rule.methods:
            data = dict.fromkeys(_form_names(client, url), NUL_TEXT)
            response = client.open(url + _query(), method="POST", data=data)
            if response.status_code >= 500:
                errors.append((f"POST {url}", response.status_code))
    return errors


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "anonymous")
def test_a_nul_in_every_form_and_query_of_every_route_is_never_a_server_error(
    app, client, world, role
):
    if role is not None:
        assert sign_in(client, world.users[role]).status_code == 302
    errors = _server_errors(client, _rules_for(app, role), world.ids)
    assert not errors, errors


def test_a_nul_in_the_sign_in_form_is_removed_and_the_person_signs_in(app, client, world):
    user = world.users[Role.ADMIN]
    code = db.session.get(Institution, user.institution_id).code
    response = client.post(
        "/login", data={"institution": code + "\x00", "login": user.login, "password": PASSWORD}
    )
    assert response.status_code == 302


def test_control_characters_pasted_into_a_name_are_not_stored(app, client, world):
    assert sign_in(client, world.users[Role.ADMIN]).status_code == 302
    response = client.post(
        "/admin/users",
        data={"login": "T9001", "name": "Li\x00 Lei\x0b", "email": ""},
        follow_redirects=True,
    )
    assert response.status_code == 200
    user = db.session.scalars(db.select(User).filter_by(login="T9001")).one()
    assert user.name == "Li Lei"


def test_a_nul_in_a_url_path_names_no_page(app, client, world):
    assert sign_in(client, world.users[Role.STUDENT]).status_code == 302
    assignment = world.ids["screening_assignment_id"]
    assert client.get(f"/screening/a/{assignment}/i/phq9/done").status_code == 200
    assert client.get(f"/screening/a/{assignment}/i/ph%00q9/done").status_code == 404
