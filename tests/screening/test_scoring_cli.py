"""``flask screening score|score-file|load-licensed-text`` on a minimal app without a database."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import Result
from flask import Flask

from screening.cli import screening_cli
from screening.scoring import load_instrument
from screening.scoring import score

DATA = Path(__file__).parent / "data"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.cli.add_command(screening_cli)
    return app


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["screening", *map(str, args)])


def test_score_prints_the_result_as_json(app: Flask) -> None:
    result = run(app, "score", "phq9", 0, 0, 0, 0, 0, 0, 0, 0, 1, "-")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["instrument"] == "phq9"
    assert shown["version"] == load_instrument("phq9").version
    assert shown["total"] == 1
    assert shown["band"]["code"] == "minimal"
    assert shown["flags"] == ["phq9_item9", "safety"]
    assert shown["safety_items"] == [9]
    assert shown["complete"] is True
    assert shown["subscales"] == {}


def test_score_shows_subscales_and_chinese_labels(app: Flask) -> None:
    result = run(app, "score", "dass21", *[1] * 21)
    shown = json.loads(result.stdout)
    assert shown["subscales"] == {"depression": 14, "anxiety": 14, "stress": 14}
    assert shown["subscale_bands"]["stress"]["zh_CN"] == "正常"


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ([0, 0, 0], "PHQ-9 has 10 items; got 3 answers"),
        ([0] * 11, "PHQ-9 has 10 items; got 11 answers"),
        ([0, 0, 4, 0, 0, 0, 0, 0, 0, 0], "Item 3: 4 is not one of the allowed answers"),
        ([0, 0, 0, -1, 0, 0, 0, 0, 0, 0], "Item 4: -1 is not one of the allowed answers"),
        ([0, "two", 0, 0, 0, 0, 0, 0, 0, 0], "Item 2: 'two' is not a whole number"),
    ],
)
def test_score_rejects_wrong_counts_and_values_with_status_2(
    app: Flask, answers: list, message: str
) -> None:
    result = run(app, "score", "phq9", *answers)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_score_names_the_known_instruments_for_an_unknown_one(app: Flask) -> None:
    result = run(app, "score", "phq10", 1)
    assert result.exit_code == 2
    assert "unknown instrument 'phq10'" in result.stderr
    assert "phq9" in result.stderr


def test_score_file_round_trip_matches_the_single_scorer(app: Flask, tmp_path: Path) -> None:
    out = tmp_path / "scored.csv"
    result = run(app, "score-file", "phq9", DATA / "phq9_paper_screening.csv", out)
    assert result.exit_code == 0, result.output
    assert "scored 3 rows" in result.stdout
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert written["student_no"].tolist() == ["2026001", "2026002", "2026003"]
    source = pd.read_csv(DATA / "phq9_paper_screening.csv", dtype=str, keep_default_na=False)
    for (_, given), (_, row) in zip(source.iterrows(), written.iterrows(), strict=True):
        answers = {n: int(given[f"q{n}"]) if given[f"q{n}"] else None for n in range(1, 11)}
        expected = score("phq9", answers)
        assert row["total"] == str(expected.total)
        assert row["band"] == expected.band.code
        assert row["flags"] == ";".join(sorted(expected.flags))
        assert row["safety"] == str("safety" in expected.flags)
        assert row["error"] == ""


def test_score_file_reports_every_bad_row_by_line_and_writes_nothing(
    app: Flask, tmp_path: Path
) -> None:
    out = tmp_path / "scored.csv"
    result = run(app, "score-file", "phq9", DATA / "phq9_paper_screening_bad.csv", out)
    assert result.exit_code == 2
    assert "line 3: Item 2: 4 is not one of the allowed answers" in result.stderr
    assert "line 4: Please answer item 3." in result.stderr
    assert "line 5: Item 2: 'x' is not a whole number." in result.stderr
    assert "line 2" not in result.stderr
    assert "3 of 4 rows have problems; nothing was written" in result.stderr
    assert not out.exists()


def test_score_file_refuses_a_file_without_the_item_columns(app: Flask, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("student_no,a,b\n1,0,0\n", encoding="utf-8")
    result = run(app, "score-file", "gad2", source, tmp_path / "out.csv")
    assert result.exit_code == 2
    assert "GAD-2 needs one column per item in order" in result.stderr


def test_score_file_refuses_an_empty_file(app: Flask, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("", encoding="utf-8")
    result = run(app, "score-file", "gad2", source, tmp_path / "out.csv")
    assert result.exit_code == 2
    assert "not a readable CSV file" in result.stderr


def test_load_licensed_text_installs_into_the_instance_folder(app: Flask) -> None:
    result = run(app, "load-licensed-text", "upi", DATA / "upi_licensed_text_fake.csv")
    assert result.exit_code == 0, result.output
    installed = Path(app.instance_path) / "instruments"
    assert (installed / "upi.yaml").is_file()
    assert load_instrument("upi", installed).item(3).text.en == "Fictitious test item 3"


def test_load_licensed_text_refuses_an_incomplete_file_with_status_2(
    app: Flask, tmp_path: Path
) -> None:
    partial = tmp_path / "partial.csv"
    partial.write_text("number,zh_CN,en\n1,一,One\n", encoding="utf-8")
    result = run(app, "load-licensed-text", "upi", partial)
    assert result.exit_code == 2
    assert "missing items: 2, 3" in result.stderr
    assert not (Path(app.instance_path) / "instruments" / "upi.yaml").exists()
