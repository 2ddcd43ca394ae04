"""The instrument library: one ``<code>.yaml`` definition per questionnaire, read into dataclasses.

Instruments are data so that adding a questionnaire or correcting a cut-off is a reviewed change to
a definition file, never to code. The loader is strict (unknown keys, dangling references and
overlapping bands are errors) because a silently ignored typo such as ``reversed:`` for ``reverse:``
would mis-score every response. Licensed instruments ship without item text; an institution that
holds the licence loads its text into an override directory (``load_licensed_text``).

This module is the public API and the loader; the dataclasses are in ``model`` and the strict
parser in ``parser``.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from screening.instruments.model import AT_LEAST_ONE
from screening.instruments.model import CODE_PATTERN
from screening.instruments.model import LOCALES
from screening.instruments.model import MISSING_RULES
from screening.instruments.model import SUBSCALE_RULES
from screening.instruments.model import TOTAL_RULES
from screening.instruments.model import AllOf
from screening.instruments.model import AnyOf
from screening.instruments.model import Band
from screening.instruments.model import Condition
from screening.instruments.model import DefinitionError
from screening.instruments.model import FlagRaised
from screening.instruments.model import FlagRule
from screening.instruments.model import Instrument
from screening.instruments.model import Item
from screening.instruments.model import ItemCount
from screening.instruments.model import Option
from screening.instruments.model import OptionSet
from screening.instruments.model import Range
from screening.instruments.model import Rule
from screening.instruments.model import Subscale
from screening.instruments.model import SubscaleCount
from screening.instruments.model import Text
from screening.instruments.model import TotalIn
from screening.instruments.model import UnknownInstrument
from screening.instruments.parser import parse

# The public API: the definition vocabulary (from `model`) and the loader below.
__all__ = [
    "AT_LEAST_ONE",
    "AllOf",
    "AnyOf",
    "Band",
    "CODE_PATTERN",
    "Condition",
    "DEFINITIONS_DIR",
    "DefinitionError",
    "FlagRaised",
    "FlagRule",
    "Instrument",
    "Item",
    "ItemCount",
    "LOCALES",
    "MISSING_RULES",
    "Option",
    "OptionSet",
    "Range",
    "Rule",
    "SUBSCALE_RULES",
    "Subscale",
    "SubscaleCount",
    "TOTAL_RULES",
    "Text",
    "TotalIn",
    "UnknownInstrument",
    "list_instruments",
    "load_instrument",
    "load_licensed_text",
    "write_atomically",
]

DEFINITIONS_DIR = Path(__file__).parent


def list_instruments() -> tuple[str, ...]:
    """Codes of every shipped instrument, sorted."""
    return tuple(sorted(path.stem for path in DEFINITIONS_DIR.glob("*.yaml")))


def load_instrument(code: str, override_dir: str | Path | None = None) -> Instrument:
    """The instrument ``code``, with licensed item text from ``override_dir/<code>.yaml`` if any.

    Results are cached; the cache key includes each file's identity and modification time so text
    an institution loads while the app runs is picked up without a restart.
    """
    definition = _definition_path(code)
    override = Path(override_dir) / f"{code}.yaml" if override_dir is not None else None
    if override is not None and not override.is_file():
        override = None
    return _load(code, _stamp(definition), _stamp(override) if override else None)


def load_licensed_text(code: str, path: str | Path, target_dir: str | Path) -> Path:
    """Validate an institution's item texts for a licensed instrument and install them.

    ``path`` is a CSV (header ``number,zh_CN,en``) or YAML (a list of such mappings) file; every
    item must appear exactly once with both texts. The validated texts are written atomically to
    ``target_dir/<code>.yaml``, the override file ``load_instrument`` reads. Returns that path.
    """
    instrument = load_instrument(code)
    if not instrument.licensed:
        raise DefinitionError(
            f"{code} is not a licensed instrument: its item text ships with Xinqiao"
        )
    source = Path(path)
    texts = _checked_texts(instrument, _read_text_rows(source), str(source))
    target = Path(target_dir)
    target.mkdir(parents=True, exist_ok=True)
    document = {
        "code": code,
        "items": [{"number": n, "zh_CN": t.zh_CN, "en": t.en} for n, t in sorted(texts.items())],
    }
    out = target / f"{code}.yaml"
    write_atomically(out, yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
    return out


def _definition_path(code: str) -> Path:
    path = DEFINITIONS_DIR / f"{code}.yaml"
    if not isinstance(code, str) or not CODE_PATTERN.match(code) or not path.is_file():
        known = ", ".join(list_instruments())
        raise UnknownInstrument(f"unknown instrument {code!r}; known instruments: {known}")
    return path


def _stamp(path: Path) -> tuple[str, int, int, int]:
    """Identifies one version of a file; an atomic replace always changes the inode."""
    status = path.stat()
    return str(path), status.st_ino, status.st_mtime_ns, status.st_size


@lru_cache(maxsize=128)
def _load(
    code: str, definition: tuple[str, int, int, int], override: tuple[str, int, int, int] | None
) -> Instrument:
    path = Path(definition[0])
    instrument = parse(path, _read_yaml(path))
    if instrument.code != code:
        raise DefinitionError(f"{path}: code {instrument.code!r} does not match the file name")
    if override is None:
        return instrument
    rows = _entries(_read_yaml(Path(override[0])), override[0])
    return _with_texts(instrument, _checked_texts(instrument, rows, override[0]))


def _with_texts(instrument: Instrument, texts: Mapping[int, Text]) -> Instrument:
    items = tuple(replace(item, text=texts[item.number]) for item in instrument.items)
    return replace(instrument, items=items)


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{path}: not valid YAML: {exc}") from None


def _read_text_rows(path: Path) -> list[tuple[str, Any]]:
    """The rows of an institution's text file, each labelled with where to find it."""
    if not path.is_file():
        raise DefinitionError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if set(reader.fieldnames or ()) != {"number", "zh_CN", "en"}:
                raise DefinitionError(f"{path}: the header must be exactly number,zh_CN,en")
            return [(f"line {n}", row) for n, row in enumerate(reader, start=2)]
    if suffix in {".yaml", ".yml"}:
        return _entries(_read_yaml(path), str(path))
    raise DefinitionError(f"{path}: use a .csv or .yaml file")


def _entries(document: Any, where: str) -> list[tuple[str, Any]]:
    rows = document.get("items") if isinstance(document, dict) else document
    if not isinstance(rows, list):
        raise DefinitionError(f"{where}: expected a list of items with number, zh_CN and en")
    return [(f"entry {n}", row) for n, row in enumerate(rows, start=1)]


def _checked_texts(
    instrument: Instrument, rows: list[tuple[str, Any]], where: str
) -> dict[int, Text]:
    """Every item exactly once, both texts non-empty; reports every problem at once."""
    problems: list[str] = []
    texts: dict[int, Text] = {}
    expected = set(instrument.item_numbers)
    for label, row in rows:
        number = _as_item_number(row.get("number") if isinstance(row, dict) else None)
        if number is None:
            problems.append(f"{label}: 'number' must be a whole number")
        elif number not in expected:
            problems.append(f"{label}: {instrument.abbreviation} has no item {number}")
        elif number in texts:
            problems.append(f"{label}: item {number} appears more than once")
        else:
            zh, en = (str(row.get(key) or "").strip() for key in LOCALES)
            if not zh or not en:
                problems.append(f"{label}: item {number} needs both zh_CN and en text")
            texts[number] = Text(zh, en)
    absent = sorted(expected - set(texts))
    if absent:
        problems.append("missing items: " + ", ".join(map(str, absent)))
    if problems:
        raise DefinitionError(f"{where}:\n  " + "\n  ".join(problems))
    return texts


def _as_item_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isdigit() else None


def write_atomically(path: Path, content: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
