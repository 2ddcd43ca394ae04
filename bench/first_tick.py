"""How many notices the demo's scheduler ticks send, and to whom (issue #15, finding 3).

    .venv/bin/python -m bench.first_tick [--students 2000]

Seeds the demo university (`flask campus seed-demo`) into a scratch SQLite database, runs every
sweep once now (the first tick after installing), then once at 13:00 (Changsha) on each of the
next two Mondays, after the weekly reports fell due. Per tick it prints the notices written by
text, and how many notes about missing weekly reports each recipient got.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from datetime import datetime
from datetime import time
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus import create_app
from campus import demo
from campus import scheduler
from campus.extensions import db
from campus.notifications import Notification
from warning.escalation import REPORT_DIGEST_TEXT

# The per-unit notice that the digest replaced; counted too, so the code before it measures alike.
REPORT_NOTICE_BEFORE = "A weekly report in your department is missing"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app("development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp}/demo.sqlite3")
        with app.app_context():
            db.create_all()
            demo.seed(db.session, students=args.students, today=clock.now().date())
            _tick(app, "first tick, right after seed-demo", clock.now())
            zone = clock.institution_zone(None)
            today = clock.local_date(clock.now(), zone)
            monday = today + timedelta(days=7 - today.weekday())
            for week in (0, 1):
                day = monday + timedelta(days=7 * week)
                moment = clock.to_utc(datetime.combine(day, time(13)), zone)
                _tick(app, f"tick on Monday {day} 13:00", moment)
            db.session.remove()


def _tick(app, title: str, moment: datetime) -> None:
    clock.set_now(moment)
    since = db.session.scalar(select(func.max(Notification.id))) or 0
    scheduler.run_sweeps(app, db.session)
    rows = db.session.execute(
        select(Notification.user_id, Notification.text).where(Notification.id > since)
    ).all()
    print(f"{title}: {len(rows)} notices")
    for text, count in Counter(text for _user, text in rows).most_common():
        print(f"  {count:>5}  {text}")
    reports = Counter(u for u, t in rows if t in (REPORT_DIGEST_TEXT, REPORT_NOTICE_BEFORE))
    per_person = sorted(set(reports.values()))
    print(f"  missing-report notes: {len(reports)} recipients, {per_person} each")


if __name__ == "__main__":
    main()
