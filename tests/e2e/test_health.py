"""The load balancer's probe answers without a sign-in once the database answers."""

from __future__ import annotations


def test_healthz_reports_ok_without_sign_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
