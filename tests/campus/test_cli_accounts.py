"""Institutions and administrators made on the command line are stored as sign-in looks them up."""

from __future__ import annotations

from tests.conftest import PASSWORD


def test_an_administrator_created_with_padded_names_can_sign_in(app, client):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["campus", "create-institution", " xju ", "XJU University"])
    assert made.exit_code == 0, made.output
    admin = ["campus", "create-admin", " xju", " admin01 ", f"--password={PASSWORD}"]
    made = runner.invoke(args=admin)
    assert made.exit_code == 0, made.output
    data = {"institution": "XJU", "login": "admin01", "password": PASSWORD}
    assert client.post("/login", data=data).status_code == 302
