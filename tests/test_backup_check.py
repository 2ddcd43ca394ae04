"""deploy/backup_check.sh on the test database: the dump restores; only its owner reads it."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import make_url

from campus import audit
from campus.encryption import derived_key
from campus.extensions import db
from campus.models import Role

URL = os.environ.get("TEST_DATABASE_URL", "")
SCRIPT = Path(__file__).resolve().parent.parent / "deploy" / "backup_check.sh"

pytestmark = pytest.mark.skipif(
    not URL.startswith("postgresql") or shutil.which("pg_dump") is None,
    reason="needs TEST_DATABASE_URL on PostgreSQL and pg_dump",
)


def test_backup_check_restores_the_database_and_keeps_a_private_dump(app, campus, tmp_path):
    admin = campus.staff(campus.institution("XJU"), Role.ADMIN)
    campus.commit()
    audit.record_read(db.session, actor=admin, action="read", record_type="note")
    db.session.close()  # no transaction of ours held open while the script dumps
    url = make_url(URL).render_as_string(hide_password=False)
    done = subprocess.run(  # noqa: S603 - our own script at a fixed path
        [str(SCRIPT)],
        env={
            **os.environ,
            "DATABASE_URL": url,
            "BACKUP_DIR": str(tmp_path),
            "FIELD_ENCRYPTION_KEYS": derived_key(app.config["SECRET_KEY"]),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "identical" in done.stdout
    assert "backup restores: OK" in done.stdout
    (dump,) = tmp_path.glob("xinqiao-backup.*/*.dump")
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    assert stat.S_IMODE(dump.parent.stat().st_mode) == 0o700
