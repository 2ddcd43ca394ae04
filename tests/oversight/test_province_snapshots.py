"""The province view is served from snapshots the scheduler keeps fresh, with their age shown."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from oversight import disclosure
from oversight import kpis
from oversight import snapshots
from oversight import tables
from oversight.models import ProvinceSnapshot
from tests.oversight.conftest import add_warning
from tests.oversight.test_views import SEPT
from tests.oversight.test_views import audit_rows
from warning.models import WarningStatus

NOW = datetime(2026, 9, 14, 2, 0)


def crisis_row(client, name: str) -> list[str]:
    response = client.get("/oversight/province/export/crisis.csv", query_string=SEPT)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    return {r[0]: r[1:] for r in rows[1:]}[name]


def red_warnings(client) -> int:
    """Xiangjiang's red warnings as published: one is shown as 0 or 5, eleven as 10 or 15."""
    return int(crisis_row(client, "Xiangjiang University")[0])


def add_reds(student, count: int, opened_at: datetime) -> None:
    """`count` red warnings for `student`, opened (and since closed) at `opened_at`."""
    for _ in range(count):
        add_warning(student, 3, opened_at, status=WarningStatus.CLOSED)
    db.session.commit()


def add_ten_reds(world) -> None:
    add_reds(world.xju.students[3], 10, datetime(2026, 9, 10))


@pytest.fixture
def small_threshold(app):
    app.config["SMALL_GROUP_THRESHOLD"] = 1
    yield
    app.config["SMALL_GROUP_THRESHOLD"] = 10


def sweep(app) -> int:
    settings = snapshots.SnapshotSettings.from_config(app.config)
    done = snapshots.refresh_sweep(db.session, clock.now(), settings)
    db.session.commit()
    return done


def stored_periods() -> set[tuple[str, str, str]]:
    return {
        (s.by, s.first_month.isoformat(), s.last_month.isoformat())
        for s in db.session.scalars(select(ProvinceSnapshot))
    }


def as_of(page: str) -> str:
    """When the page's figures were taken, as it says it."""
    return re.search(r"Figures as of <time[^>]*>([^<]+)</time>", page).group(1)


def test_page_says_how_old_its_figures_are(world, login):
    body = login(world.province).get("/oversight/province", query_string=SEPT).get_data(True)
    # 02:00 UTC is 10:00 in Shanghai, the display zone; today there, in words.
    assert 'Figures as of <time datetime="2026-09-14T10:00+08:00">today 10:00</time>.' in body
    assert "recomputed every 15 minutes" in body


def test_new_warnings_appear_after_the_next_refresh_not_before(world, login, app, small_threshold):
    client = login(world.province)
    assert red_warnings(client) < 10

    add_ten_reds(world)
    clock.advance(timedelta(minutes=10))
    # The default six months are computed for the first time; September's is 10 minutes old.
    assert sweep(app) == 2
    assert red_warnings(client) < 10
    page = client.get("/oversight/province", query_string=SEPT).get_data(as_text=True)
    assert as_of(page) == "today 10:00"

    clock.advance(timedelta(minutes=5))
    assert sweep(app) == 1  # September's, now 15 minutes old
    assert red_warnings(client) >= 10
    page = client.get("/oversight/province", query_string=SEPT).get_data(as_text=True)
    assert as_of(page) == "today 10:15"


def test_a_snapshot_past_its_maximum_age_is_recomputed_when_asked(
    world, login, app, small_threshold
):
    """The scheduler stopped: the page does not show hour-old figures, it computes new ones."""
    client = login(world.province)
    assert red_warnings(client) < 10
    add_ten_reds(world)
    clock.advance(timedelta(minutes=59))
    client = login(world.province)  # signed in again: the idle timeout is shorter than an hour
    assert red_warnings(client) < 10
    clock.advance(timedelta(minutes=2))
    assert red_warnings(client) >= 10
    page = client.get("/oversight/province", query_string=SEPT).get_data(as_text=True)
    assert as_of(page) == "today 11:01"


def test_snapshot_tables_equal_the_live_computation(world, app):
    """Stored and read back, every table shows exactly what computing it live shows."""
    settings = snapshots.SnapshotSettings.from_config(app.config)
    for by in snapshots.PROVINCE_GROUPINGS:
        first = last = kpis.month_of("2026-09")
        protections = (None, disclosure.Protection(3, "key"))
        with app.test_request_context():
            snapshot = snapshots.snapshot_for(db.session, first, last, by, NOW, settings)
            view = snapshots.province_view(db.session, first, last, by)
            for kpi in kpis.KPIS:
                live = kpis.compute(db.session, kpi, view, NOW, settings.referrals)
                stored = snapshot.frames[kpi.key]
                for protection in protections:
                    assert (
                        tables.build(kpi, stored, by, protection=protection).rows
                        == tables.build(kpi, live, by, protection=protection).rows
                    ), (by, kpi.key, protection)


def test_the_sweep_keeps_the_default_period_and_forgets_unviewed_ones(world, login, app):
    client = login(world.province)
    client.get("/oversight/province", query_string={"month_from": "2026-01", "month_to": "2026-03"})
    db.session.expire_all()
    assert sweep(app) == 2  # the default six months, by institution and by month
    assert stored_periods() == {
        ("institution", "2026-01-01", "2026-03-01"),
        ("institution", "2025-10-01", "2025-12-01"),  # the period before, for the cards
        ("institution", "2026-04-01", "2026-09-01"),
        ("month", "2026-04-01", "2026-09-01"),
    }
    clock.advance(timedelta(days=31))  # October now: a new default period, nobody looked since
    sweep(app)
    assert stored_periods() == {
        ("institution", "2026-05-01", "2026-10-01"),
        ("month", "2026-05-01", "2026-10-01"),
    }


def test_asking_twice_keeps_one_snapshot_per_period(world, login):
    client = login(world.province)
    for _ in range(3):
        assert client.get("/oversight/province", query_string=SEPT).status_code == 200
        assert client.get("/oversight/province/export/levels.xlsx", query_string=SEPT)
    count = db.session.scalar(select(func.count()).select_from(ProvinceSnapshot))
    assert count == 2  # the period and the one before it, which the headline cards compare with


def test_an_export_is_audited_with_the_snapshot_it_came_from(world, login):
    client = login(world.province)
    client.get("/oversight/province/export/levels.csv", query_string=SEPT)
    (row,) = audit_rows("export")
    assert "as_of=2026-09-14T02:00" in row.detail
    assert row.detail.startswith("tier=aggregates rows=2 ")


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ({"month_from": "2026-13"}, "Use the form YYYY-MM"),
        ({"month_from": "2026-09", "month_to": "2026-01"}, "cannot be before the first"),
        ({"month_from": "2023-01", "month_to": "2026-09"}, "at most 36 months"),
    ],
)
def test_a_bad_period_is_a_clear_400_and_computes_nothing(world, login, query, said):
    client = login(world.province)
    page = client.get("/oversight/province", query_string=query)
    assert page.status_code == 400
    assert said in page.get_data(as_text=True)
    export = client.get("/oversight/province/export/crisis.csv", query_string=query)
    assert export.status_code == 400
    assert stored_periods() == set()
