"""``flask screening ...``: score from the command line and install licensed item text.

Bad input exits with status 2 and a message on stderr, and ``score-file`` writes nothing unless
every row is clean, so a paper-screening import is never half done. The commands need no database.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, NoReturn

import click
import pandas as pd
from flask import current_app
from flask.cli import AppGroup

from screening.bulk_scoring import score_frame
from screening.instruments import DefinitionError
from screening.instruments import Instrument
from screening.instruments import UnknownInstrument
from screening.instruments import write_atomically
from screening.scoring import AnswerError
from screening.scoring import load_instrument
from screening.scoring import load_licensed_text
from screening.scoring import score

BAD_INPUT = 2
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")

screening_cli = AppGroup("screening", help="Score screening instruments; load licensed item text.")


@screening_cli.command("score", context_settings={"ignore_unknown_options": True})
@click.argument("instrument")
@click.argument("answers", nargs=-1)
def score_command(instrument: str, answers: tuple[str, ...]) -> None:
    """Score one response and print it as JSON.

    ANSWERS are the option values in item order, one per item; "-" marks an unanswered item.
    """
    inst = _instrument_or_exit(instrument)
    if len(answers) != len(inst.items):
        _fail(f"{inst.abbreviation} has {len(inst.items)} items; got {len(answers)} answers")
    try:
        result = score(
            inst, {n: _cli_value(a) for n, a in zip(inst.item_numbers, answers, strict=True)}
        )
    except AnswerError as exc:
        _fail(str(exc))
    shown = result.to_dict()
    keys: tuple[str, ...]
    keys = ("instrument", "version", "total", "subscales", "band", "subscale_bands", "flags")
    keys += ("flag_items", "safety_items", "complete", "missing_items")
    click.echo(json.dumps({k: shown[k] for k in keys}, ensure_ascii=False, indent=2))


@screening_cli.command("score-file")
@click.argument("instrument")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def score_file_command(instrument: str, source: Path, target: Path) -> None:
    """Score every row of SOURCE (CSV, one column per item: q1..qN) into TARGET.

    Other columns, such as a student number, are copied through. If any row has a problem, every
    bad row is reported with its line number (one record per line assumed) and nothing is written.
    """
    inst = _instrument_or_exit(instrument)
    if not target.parent.is_dir():
        _fail(f"{target.parent} is not a directory")
    frame = _read_csv(source)
    try:
        scored = score_frame(inst, frame)
    except AnswerError as exc:
        _fail(f"{source}: {exc}")
    bad = scored.index[scored["error"] != ""]
    if len(bad):
        for position in bad:
            click.echo(f"{source}, line {position + 2}: {scored.at[position, 'error']}", err=True)
        _fail(f"{len(bad)} of {len(frame)} rows have problems; nothing was written")
    if clash := sorted(set(map(str, frame.columns)) & set(scored.columns)):
        _fail(f"{source}: input columns {clash} would be overwritten by the scores; rename them")
    write_atomically(target, pd.concat([frame, scored], axis=1).to_csv(index=False))
    click.echo(f"scored {len(frame)} rows of {inst.abbreviation} into {target}")


@screening_cli.command("load-licensed-text")
@click.argument("instrument")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load_licensed_text_command(instrument: str, file: Path) -> None:
    """Install the licensed item text in FILE (CSV or YAML: number, zh_CN, en) for INSTRUMENT."""
    target = Path(current_app.instance_path) / "instruments"
    try:
        written = load_licensed_text(instrument, file, target)
    except (DefinitionError, UnknownInstrument) as exc:
        _fail(str(exc))
    click.echo(f"loaded {instrument} item text into {written}")


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    raise click.exceptions.Exit(BAD_INPUT)


def _instrument_or_exit(code: str) -> Instrument:
    try:
        return load_instrument(code)
    except UnknownInstrument as exc:
        _fail(str(exc))


def _cli_value(raw: str) -> Any:
    """'-' or blank is unanswered; numbers become numbers; anything else is left for the scorer
    to reject with its usual message."""
    text = raw.strip()
    if text in {"", "-"}:
        return None
    return float(text) if _NUMBER.match(text) else text


def _read_csv(source: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(
            source, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="utf-8-sig"
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        _fail(f"{source}: not a readable CSV file ({exc})")
