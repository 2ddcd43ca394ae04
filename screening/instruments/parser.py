"""The strict parser of instrument definitions: a YAML document in, an ``Instrument`` out.

Unknown keys, dangling references and overlapping bands are errors naming the file and the key,
because a silently ignored typo such as ``reversed:`` for ``reverse:`` would mis-score every
response.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

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


def parse(path: Path, document: Any) -> Instrument:
    """The instrument `document` (read from `path`, which errors name) defines."""
    return _Parser(path).instrument(document)


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
                "student_title",
                "instructions",
                "source",
                "licensed",
                "option_sets",
                "scoring",
                "missing",
                "items",
            ),
            ("subscales", "bands", "flags", "short_name"),
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
            short_name=self.text(raw["short_name"], "short_name") if "short_name" in raw else None,
            name=self.text(raw["name"], "name"),
            student_title=self.text(raw["student_title"], "student_title"),
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
        ranges = [(b, b.value) for b in bands if b.value is not None]  # the caller's: all ranged
        ordered = sorted(ranges, key=lambda p: p[1].min if p[1].min is not None else float("-inf"))
        for (lower, low), (upper, high) in zip(ordered, ordered[1:], strict=False):
            if low.max is None or (high.min is not None and high.min <= low.max):
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
            if entry["name"] == "safety" or not CODE_PATTERN.match(str(entry["name"])):
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
                if unknown := sorted(set(subscales) - self.subscales):
                    raise self.parser.fail(where, f"unknown subscales {unknown}")
            case FlagRaised(name) if name not in flags:
                raise self.parser.fail(where, f"flag {name!r} is not defined earlier")


def _placeholder(abbreviation: str, number: int) -> Text:
    """Stands in for licensed wording, which never ships in this repository."""
    return Text(
        f"{abbreviation} 第 {number} 题（授权文本未加载）",
        f"{abbreviation} item {number} (licensed text not loaded)",
    )
