"""Deny by default: every route, as anonymous and as each single role, against the table."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.routing import Rule

from campus.models import Role
from tests.conftest import sign_in
from tests.security.routes import ACCESS
from tests.security.routes import PUBLIC
from tests.security.routes import method_for
from tests.security.routes import url_for_rule


def _rules(app: Flask) -> list[Rule]:
    """Every rule but static files; reads first, then writes, signing out last."""
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    return sorted(
        rules, key=lambda r: (r.endpoint == "campus.logout", method_for(r) != "GET", r.endpoint)
    )


def _request(client, rule: Rule, ids: dict[str, int]):
    url = url_for_rule(rule, ids)
    return url, client.open(url, method=method_for(rule), data={})


def test_every_route_has_an_entry_in_the_access_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - ACCESS.keys())
    assert not missing, f"new route without an entry in tests/security/routes.py: {missing}"
    stale = sorted(ACCESS.keys() - endpoints)
    assert not stale, f"entries for routes that no longer exist: {stale}"


def test_anonymous_visitors_are_sent_to_sign_in_except_on_public_pages(app, client, world):
    wrong = []
    for rule in _rules(app):
        url, response = _request(client, rule, world.ids)
        if ACCESS.get(rule.endpoint) == PUBLIC:
            if response.status_code >= 500:
                wrong.append((url, response.status_code))
            continue
        to_login = response.status_code == 302 and "/login" in response.location
        if not (to_login or response.status_code == 401):
            wrong.append((url, response.status_code))
    assert not wrong, f"anonymous reached these routes: {wrong}"


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_reaches_exactly_the_routes_the_table_allows(app, client, world, role):
    assert sign_in(client, world.users[role]).status_code == 302
    wrong = []
    for rule in _rules(app):
        allowed = ACCESS.get(rule.endpoint, frozenset())  # no entry: nobody
        if allowed == PUBLIC:
            continue
        url, response = _request(client, rule, world.ids)
        status = response.status_code
        signed_out = rule.endpoint == "campus.logout"  # its success is a redirect to sign-in
        if status == 302 and "/login" in (response.location or "") and not signed_out:
            wrong.append((method_for(rule), url, "sent to sign-in"))
        elif status >= 500:
            wrong.append((method_for(rule), url, status))
        elif role in allowed and status == 403:
            wrong.append((method_for(rule), url, "denied but allowed"))
        elif role not in allowed and status not in (403, 404):
            wrong.append((method_for(rule), url, f"{status} but not allowed"))
    assert not wrong, f"{role.value}: {wrong}"
