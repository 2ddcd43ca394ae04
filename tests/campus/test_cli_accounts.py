"""Institutions and administrators made on the command line are stored as sign-in looks them up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from campus.audit import AuditEvent
from campus.extensions import db
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


def test_go_live_day_set_on_the_command_line_is_local_midnight_and_audited(app, campus):
    inst = campus.institution("XJU")
    campus.commit()
    runner = app.test_cli_runner()
    done = runner.invoke(args=["campus", "go-live", "xju", "2026-09-01"])
    assert done.exit_code == 0, done.output
    db.session.refresh(inst)
    assert inst.live_since == datetime(2026, 8, 31, 16, 0)  # 00:00 in Changsha
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "institution.go_live"))
    assert event.detail == "2026-09-01"
    refused = runner.invoke(args=["campus", "go-live", "XJU", "1 September"])
    assert refused.exit_code != 0
    assert runner.invoke(args=["campus", "go-live", "NOPE", "2026-09-01"]).exit_code != 0
