"""The benchmarks seed PostgreSQL with set-based INSERT ... SELECT (bench/pg.insert_select), each
naming the columns it chooses; the models' defaults fill the rest. A model change that would stop
`make bench` (a required column with no default, a column renamed) fails here, in the suite,
instead of the next time someone runs the benchmarks."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy import text

from bench import bench_dashboard
from bench import booking_rush
from bench import cohort_sweeps
from bench import faults
from bench import pg
from bench import sweeps
from bench.load import harness
from campus.extensions import db
from campus.models import Institution

SEEDS = {
    "bench_dashboard": bench_dashboard.FILL,
    "screening_day": harness.SEED,
    "booking_rush": booking_rush.SEED,
    "sweeps": sweeps.SEED,
    "cohort_sweeps": cohort_sweeps.SEED,
    "faults": faults.SEED,
}


@pytest.mark.parametrize("name", SEEDS)
def test_every_benchmark_seed_fits_the_models(app: Flask, name: str) -> None:
    for table, columns, _select in SEEDS[name]:
        assert pg.seed_faults(table, columns) == [], (name, table)


def test_a_seed_leaving_out_a_required_column_or_naming_a_gone_one_is_told_which(
    app: Flask,
) -> None:
    assert pg.seed_faults("institution", "id, nickname") == [
        "no column nickname",
        "must give code",
        "must give name",
    ]


def test_the_columns_a_seed_leaves_out_get_the_models_defaults(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the benchmarks seed PostgreSQL (ALTER COLUMN SET DEFAULT)")
    pg.insert_select(db.session, "institution", "code, name", "SELECT 'SEED', 'Seeded'", {})
    seeded = db.session.scalar(select(Institution).where(Institution.code == "SEED"))
    assert seeded is not None
    # clock.now is frozen by the app fixture; the other defaults are the model's values.
    assert (seeded.live_since, seeded.local_passwords, seeded.kind, seeded.timezone) == (
        datetime(2026, 9, 14, 2, 0),
        True,
        "university",
        "Asia/Shanghai",
    )
    # The defaults were the statement's alone: the table keeps none of its own.
    kept = db.session.execute(
        text(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'institution' AND column_default IS NOT NULL"
            " AND column_name <> 'id'"
        )
    ).all()
    assert kept == []
