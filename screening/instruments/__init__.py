"""The instrument library: one ``<code>.yaml`` definition per questionnaire, read into dataclasses.

Instruments are data so that adding a questionnaire or correcting a cut-off is a reviewed change to
a definition file, never to code. The loader is strict (unknown keys, dangling references and
overlapping bands are errors) because a silently ignored typo such as ``reversed:`` for ``reverse:``
would mis-score every response. Licensed instruments ship without item text; an institution that
holds the licence loads its text into an override directory (``load_licensed_text``).
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

DEFINITIONS_DIR = Path(__file__).parent
LOCALES = ("zh_CN", "en")
TOTAL_RULES = frozenset({"sum", "sum_times_2", "mean", "count", "correct_count", "none"})
SUBSCALE_RULES = frozenset({"sum", "sum_times_2", "mean", "count"})
MISSING_RULES = frozenset({"all_required"})
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


class DefinitionError(ValueError):
    """A definition or licensed-text file is malformed; the message names the file and problem."""


class UnknownInstrument(LookupError):
    """No definition file exists for the requested code."""


@dataclass(frozen=True)
class Text:
    """A text in every supported locale."""

    zh_CN: str
    en: str

    def get(self, locale: str) -> str:
        """The text in ``locale``; English for any other locale, so a page never goes blank."""
        return self.zh_CN if locale.lower().startswith("zh") else self.en


@dataclass(frozen=True)
class Range:
    """Inclusive bounds; a missing bound is open, so "28 and above" is ``Range(28, None)``."""

    min: float | None = None
    max: float | None = None

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies within the bounds, both ends included."""
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


AT_LEAST_ONE = Range(1, None)


@dataclass(frozen=True)
class Option:
    """One answer choice: the stored value and what the respondent sees."""

    value: int
    label: Text


@dataclass(frozen=True)
class OptionSet:
    """Answer choices shared by a run of items; reverse keys use its lowest and highest value."""

    code: str
    options: tuple[Option, ...]

    @property
    def values(self) -> frozenset[int]:
        return frozenset(o.value for o in self.options)

    @property
    def low(self) -> int:
        return min(self.values)

    @property
    def high(self) -> int:
        return max(self.values)


@dataclass(frozen=True)
class ItemCount:
    """Holds when the number of listed items answered within ``value`` lies within ``count``."""

    items: tuple[int, ...]
    value: Range
    count: Range = AT_LEAST_ONE


@dataclass(frozen=True)
class TotalIn:
    """Holds when the total was computed and lies within ``value``."""

    value: Range


@dataclass(frozen=True)
class SubscaleCount:
    """Holds when the number of listed subscales scored within ``value`` lies within ``count``."""

    subscales: tuple[str, ...]
    value: Range
    count: Range = AT_LEAST_ONE


@dataclass(frozen=True)
class FlagRaised:
    """Holds when an earlier flag rule of the same instrument fired."""

    name: str


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class AllOf:
    conditions: tuple[Condition, ...]


Condition = ItemCount | TotalIn | SubscaleCount | FlagRaised | AnyOf | AllOf


@dataclass(frozen=True)
class Item:
    """One question. ``scored`` items enter the total; ``required`` ones must be answered."""

    number: int
    text: Text
    options: OptionSet
    reverse: bool
    scored: bool
    required: bool
    subscales: tuple[str, ...]
    asked_if: Condition | None
    correct: int | None
    explanation: Text | None


@dataclass(frozen=True)
class Rule:
    """How a score is computed from its items; ``count`` counts answers within ``counted``."""

    name: str
    items: tuple[int, ...]
    counted: Range | None = None


@dataclass(frozen=True)
class Band:
    """A result category: by score range, by condition, or (neither) whatever is left."""

    code: str
    label: Text
    value: Range | None
    when: Condition | None
    flags: tuple[str, ...]


@dataclass(frozen=True)
class Subscale:
    code: str
    name: Text
    rule: Rule
    bands: tuple[Band, ...]


@dataclass(frozen=True)
class FlagRule:
    """A named finding; safety flags also raise the generic ``safety`` flag."""

    name: str
    safety: bool
    when: Condition


@dataclass(frozen=True)
class Instrument:
    code: str
    version: str
    abbreviation: str
    name: Text
    instructions: Text
    source: Mapping[str, str]
    licensed: bool
    option_sets: tuple[OptionSet, ...]
    items: tuple[Item, ...]
    total: Rule
    missing_rule: str
    subscales: tuple[Subscale, ...]
    bands: tuple[Band, ...]
    flags: tuple[FlagRule, ...]

    @property
    def item_numbers(self) -> tuple[int, ...]:
        return tuple(item.number for item in self.items)

    def item(self, number: int) -> Item:
        """The item numbered ``number`` (items are numbered 1..N in definition order)."""
        return self.items[number - 1]


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
    if not isinstance(code, str) or not _CODE.match(code) or not path.is_file():
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
    instrument = _Parser(path).instrument(_read_yaml(path))
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


class _Parser:
    """Turns one definition document into an ``Instrument``, naming file and key on any error."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> DefinitionError:
        return DefinitionError(f"{self.path.name}: {where}: {problem}")

    def mapping(
        self, raw: Any, where: str, required: Iterable[str], optional: Iterable[str] = ()
    ) -> dict[str, Any]:
        required, allowed = set(required), set(required) | set(optional)
        if not isinstance(raw, dict):
            raise self.fail(where, "expected a mapping")
        if unknown := sorted(set(raw) - allowed):
            raise self.fail(where, f"unknown keys {unknown}; allowed: {sorted(allowed)}")
        if absent := sorted(required - set(raw)):
            raise self.fail(where, f"missing keys {absent}")
        return raw

    def text(self, raw: Any, where: str) -> Text:
        raw = self.mapping(raw, where, LOCALES)
        if not all(isinstance(raw[k], str) and raw[k].strip() for k in LOCALES):
            raise self.fail(where, "zh_CN and en must be non-empty strings")
        return Text(raw["zh_CN"].strip(), raw["en"].strip())

    def range(self, raw: Any, where: str) -> Range:
        raw = self.mapping(raw, where, (), ("min", "max"))
        low, high = raw.get("min"), raw.get("max")
        for bound in (low, high):
            if bound is not None and (
                isinstance(bound, bool) or not isinstance(bound, int | float)
            ):
                raise self.fail(where, "min and max must be numbers")
        if (low is None and high is None) or (None not in (low, high) and low > high):
            raise self.fail(where, "give min and/or max, with min <= max")
        return Range(low, high)

    def instrument(self, raw: Any) -> Instrument:
        raw = self.mapping(
            raw,
            "top level",
            (
                "code",
                "version",
                "abbreviation",
                "name",
                "instructions",
                "source",
                "licensed",
                "option_sets",
                "scoring",
                "missing",
                "items",
            ),
            ("subscales", "bands", "flags"),
        )
        licensed = raw["licensed"]
        if not isinstance(licensed, bool):
            raise self.fail("licensed", "must be true or false")
        option_sets = self.option_sets(raw["option_sets"])
        items = self.items(raw["items"], option_sets, licensed, raw["abbreviation"])
        scoring = self.mapping(raw["scoring"], "scoring", ("total",))
        total = self.rule(scoring["total"], "scoring.total", items, TOTAL_RULES)
        total = replace(total, items=tuple(i.number for i in items if i.scored))
        subscales = tuple(
            self.subscale(entry, f"subscales[{n}]", items)
            for n, entry in enumerate(raw.get("subscales") or [])
        )
        flags = self.flags(raw.get("flags") or [])
        instrument = Instrument(
            code=str(raw["code"]),
            version=str(raw["version"]),
            abbreviation=str(raw["abbreviation"]),
            name=self.text(raw["name"], "name"),
            instructions=self.text(raw["instructions"], "instructions"),
            source=self.source(raw["source"]),
            licensed=licensed,
            option_sets=tuple(option_sets.values()),
            items=items,
            total=total,
            missing_rule=self.missing(raw["missing"]),
            subscales=subscales,
            bands=self.bands(raw.get("bands") or [], "bands"),
            flags=flags,
        )
        _References(self, instrument).check()
        return instrument

    def source(self, raw: Any) -> Mapping[str, str]:
        raw = self.mapping(raw, "source", ("citation",), ("cutoffs", "text", "notes"))
        if not all(isinstance(v, str) and v.strip() for v in raw.values()):
            raise self.fail("source", "every entry must be non-empty text")
        return MappingProxyType({k: " ".join(v.split()) for k, v in raw.items()})

    def missing(self, raw: Any) -> str:
        raw = self.mapping(raw, "missing", ("rule", "source"))
        if raw["rule"] not in MISSING_RULES:
            raise self.fail("missing.rule", f"unknown rule; known: {sorted(MISSING_RULES)}")
        return raw["rule"]

    def option_sets(self, raw: Any) -> dict[str, OptionSet]:
        if not isinstance(raw, dict) or not raw:
            raise self.fail("option_sets", "expected a non-empty mapping of code to options")
        sets = {}
        for code, options in raw.items():
            where = f"option_sets.{code}"
            if not isinstance(options, list) or len(options) < 2:
                raise self.fail(where, "expected a list of at least two options")
            parsed = tuple(self.option(o, f"{where}[{n}]") for n, o in enumerate(options))
            if len({o.value for o in parsed}) != len(parsed):
                raise self.fail(where, "option values must be distinct")
            sets[code] = OptionSet(code, parsed)
        return sets

    def option(self, raw: Any, where: str) -> Option:
        raw = self.mapping(raw, where, ("value", *LOCALES))
        if isinstance(raw["value"], bool) or not isinstance(raw["value"], int):
            raise self.fail(where, "value must be a whole number")
        return Option(raw["value"], self.text({k: raw[k] for k in LOCALES}, where))

    def items(
        self, raw: Any, option_sets: dict[str, OptionSet], licensed: bool, abbreviation: str
    ) -> tuple[Item, ...]:
        if not isinstance(raw, list) or not raw:
            raise self.fail("items", "expected a non-empty list")
        items = tuple(
            self.item(entry, f"items[{n}]", option_sets, licensed, abbreviation)
            for n, entry in enumerate(raw)
        )
        if [i.number for i in items] != list(range(1, len(items) + 1)):
            raise self.fail("items", "items must be numbered 1..N in order")
        return items

    def item(
        self,
        raw: Any,
        where: str,
        option_sets: dict[str, OptionSet],
        licensed: bool,
        abbreviation: str,
    ) -> Item:
        optional = ["options", "reverse", "scored", "required", "subscales", "asked_if"]
        optional += ["correct", "explanation"] + ([] if licensed else ["text"])
        raw = self.mapping(raw, where, ["number"] + (["text"] if not licensed else []), optional)
        number = raw["number"]
        options = self.item_options(raw.get("options"), where, option_sets)
        scored = raw.get("scored", True)
        switches = {"reverse": False, "scored": True, "required": scored}
        switches = {key: raw.get(key, default) for key, default in switches.items()}
        if not all(isinstance(v, bool) for v in switches.values()):
            raise self.fail(where, "reverse, scored and required must be true or false")
        correct = raw.get("correct")
        if correct is not None and correct not in options.values:
            raise self.fail(where, f"correct answer {correct!r} is not an option value")
        subscales = raw.get("subscales") or []
        if not isinstance(subscales, list) or not all(isinstance(s, str) for s in subscales):
            raise self.fail(where, "subscales must be a list of subscale codes")
        return Item(
            number=number,
            text=(
                _placeholder(abbreviation, number)
                if licensed
                else self.text(raw["text"], f"{where}.text")
            ),
            options=options,
            reverse=switches["reverse"],
            scored=switches["scored"],
            required=switches["required"],
            subscales=tuple(subscales),
            asked_if=self.condition(raw["asked_if"], f"{where}.asked_if")
            if "asked_if" in raw
            else None,
            correct=correct,
            explanation=(
                self.text(raw["explanation"], f"{where}.explanation")
                if "explanation" in raw
                else None
            ),
        )

    def item_options(self, code: Any, where: str, option_sets: dict[str, OptionSet]) -> OptionSet:
        if code is None and len(option_sets) == 1:
            return next(iter(option_sets.values()))
        if code not in option_sets:
            raise self.fail(where, f"options must name one of {sorted(option_sets)}")
        return option_sets[code]

    def rule(self, raw: Any, where: str, items: tuple[Item, ...], known: frozenset[str]) -> Rule:
        raw = {"rule": raw} if isinstance(raw, str) else raw
        raw = self.mapping(raw, where, ("rule",), ("counted",))
        if raw["rule"] not in known:
            raise self.fail(where, f"unknown rule {raw['rule']!r}; known: {sorted(known)}")
        if (raw["rule"] == "count") != ("counted" in raw):
            raise self.fail(where, "the count rule, and only it, needs 'counted'")
        if raw["rule"] == "correct_count" and any(i.scored and i.correct is None for i in items):
            raise self.fail(where, "correct_count needs a 'correct' answer on every scored item")
        counted = self.range(raw["counted"], f"{where}.counted") if "counted" in raw else None
        return Rule(raw["rule"], (), counted)

    def subscale(self, raw: Any, where: str, items: tuple[Item, ...]) -> Subscale:
        raw = self.mapping(raw, where, ("code", "name", "rule"), ("items", "bands"))
        code = raw["code"]
        if raw.get("items", "all") != "all":
            raise self.fail(
                where, "items may only be 'all'; otherwise list the subscale on its items"
            )
        members = tuple(
            i.number for i in items if i.scored and ("items" in raw or code in i.subscales)
        )
        if not members:
            raise self.fail(where, f"no scored item belongs to subscale {code!r}")
        rule = self.rule(raw["rule"], f"{where}.rule", items, SUBSCALE_RULES)
        return Subscale(
            code=code,
            name=self.text(raw["name"], f"{where}.name"),
            rule=replace(rule, items=members),
            bands=self.bands(raw.get("bands") or [], f"{where}.bands"),
        )

    def bands(self, raw: Any, where: str) -> tuple[Band, ...]:
        if not isinstance(raw, list):
            raise self.fail(where, "expected a list")
        bands = tuple(self.band(entry, f"{where}[{n}]") for n, entry in enumerate(raw))
        if len({b.code for b in bands}) != len(bands):
            raise self.fail(where, "band codes must be distinct")
        ranged = [b for b in bands if b.value is not None]
        if ranged and len(ranged) != len(bands):
            raise self.fail(where, "use either score ranges or conditions, not both")
        if any(b.value is None and b.when is None for b in bands[:-1]):
            raise self.fail(where, "only the last band may be the catch-all (no range, no 'when')")
        self.check_no_overlap(ranged, where)
        return bands

    def check_no_overlap(self, bands: list[Band], where: str) -> None:
        ordered = sorted(
            bands, key=lambda b: b.value.min if b.value.min is not None else float("-inf")
        )
        for lower, upper in zip(ordered, ordered[1:], strict=False):
            if lower.value.max is None or (
                upper.value.min is not None and upper.value.min <= lower.value.max
            ):
                raise self.fail(where, f"bands {lower.code!r} and {upper.code!r} overlap")

    def band(self, raw: Any, where: str) -> Band:
        raw = self.mapping(raw, where, ("code", "label"), ("min", "max", "when", "flags"))
        bounds = {k: raw[k] for k in ("min", "max") if k in raw}
        if bounds and "when" in raw:
            raise self.fail(where, "a band has a score range or a condition, not both")
        flags = raw.get("flags") or []
        if not isinstance(flags, list) or not all(isinstance(f, str) and f for f in flags):
            raise self.fail(where, "flags must be a list of names")
        return Band(
            code=str(raw["code"]),
            label=self.text(raw["label"], f"{where}.label"),
            value=self.range(bounds, where) if bounds else None,
            when=self.condition(raw["when"], f"{where}.when") if "when" in raw else None,
            flags=tuple(flags),
        )

    def flags(self, raw: Any) -> tuple[FlagRule, ...]:
        if not isinstance(raw, list):
            raise self.fail("flags", "expected a list")
        rules = []
        for n, entry in enumerate(raw):
            where = f"flags[{n}]"
            entry = self.mapping(entry, where, ("name", "when"), ("safety",))
            if entry["name"] == "safety" or not _CODE.match(str(entry["name"])):
                raise self.fail(where, "name must be a lower-case identifier other than 'safety'")
            if not isinstance(entry.get("safety", False), bool):
                raise self.fail(where, "safety must be true or false")
            when = self.condition(entry["when"], f"{where}.when")
            rules.append(FlagRule(entry["name"], entry.get("safety", False), when))
        return tuple(rules)

    def condition(self, raw: Any, where: str) -> Condition:
        if not isinstance(raw, dict):
            raise self.fail(where, "a condition is a mapping")
        if "any" in raw or "all" in raw:
            key = "any" if "any" in raw else "all"
            parts = self.mapping(raw, where, (key,))[key]
            if not isinstance(parts, list) or not parts:
                raise self.fail(where, f"'{key}' needs a non-empty list of conditions")
            inner = tuple(self.condition(p, f"{where}.{key}[{n}]") for n, p in enumerate(parts))
            return AnyOf(inner) if key == "any" else AllOf(inner)
        if "total" in raw:
            return TotalIn(self.range(self.mapping(raw, where, ("total",))["total"], where))
        if "flag" in raw:
            return FlagRaised(str(self.mapping(raw, where, ("flag",))["flag"]))
        key = "items" if "items" in raw else "subscales"
        raw = self.mapping(raw, where, (key, "value"), ("count",))
        if not isinstance(raw[key], list) or not raw[key]:
            raise self.fail(where, f"'{key}' must be a non-empty list")
        value = self.range(raw["value"], f"{where}.value")
        count = self.range(raw["count"], f"{where}.count") if "count" in raw else AT_LEAST_ONE
        if key == "items":
            return ItemCount(tuple(raw["items"]), value, count)
        return SubscaleCount(tuple(raw["subscales"]), value, count)


class _References:
    """Cross-checks names a definition uses: items, subscales and flags must exist where used."""

    def __init__(self, parser: _Parser, instrument: Instrument) -> None:
        self.parser = parser
        self.instrument = instrument
        self.subscales = {s.code for s in instrument.subscales}

    def check(self) -> None:
        inst = self.instrument
        for item in inst.items:
            if unknown := set(item.subscales) - self.subscales:
                raise self.parser.fail(
                    f"item {item.number}", f"unknown subscales {sorted(unknown)}"
                )
            if item.asked_if is not None:
                self.walk(item.asked_if, f"item {item.number}.asked_if", set(), items_only=True)
        earlier: set[str] = set()
        for rule in inst.flags:
            if rule.name in earlier:
                raise self.parser.fail(f"flag {rule.name}", "defined twice")
            self.walk(rule.when, f"flag {rule.name}", earlier)
            earlier.add(rule.name)
        bands = [("bands", b) for b in inst.bands]
        bands += [(f"subscale {s.code} bands", b) for s in inst.subscales for b in s.bands]
        for where, band in bands:
            if band.when is not None:
                self.walk(band.when, f"{where}.{band.code}", earlier)
            if clash := set(band.flags) & (earlier | {"safety"}):
                raise self.parser.fail(
                    f"{where}.{band.code}", f"flags {sorted(clash)} already used"
                )

    def walk(
        self, condition: Condition, where: str, flags: set[str], items_only: bool = False
    ) -> None:
        match condition:
            case AnyOf(parts) | AllOf(parts):
                for part in parts:
                    self.walk(part, where, flags, items_only)
            case ItemCount(items):
                if bad := [n for n in items if n not in self.instrument.item_numbers]:
                    raise self.parser.fail(where, f"unknown items {bad}")
            case _ if items_only:
                raise self.parser.fail(where, "may only test answers to other items")
            case SubscaleCount(subscales):
                if bad := sorted(set(subscales) - self.subscales):
                    raise self.parser.fail(where, f"unknown subscales {bad}")
            case FlagRaised(name) if name not in flags:
                raise self.parser.fail(where, f"flag {name!r} is not defined earlier")


def _placeholder(abbreviation: str, number: int) -> Text:
    """Stands in for licensed wording, which never ships in this repository."""
    return Text(
        f"{abbreviation} 第 {number} 题（授权文本未加载）",
        f"{abbreviation} item {number} (licensed text not loaded)",
    )
