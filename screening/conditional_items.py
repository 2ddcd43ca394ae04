"""What a student reads beside a question asked only after certain answers (an item's `asked_if`).

The hint is worded from the condition itself and the answer choices it counts, so it says exactly
when the question needs an answer: the ASQ's question 5 follows a "yes" or a refusal to answer,
and a hint that named only "yes" sent students who declined to answer into a validation error.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import pgettext

from screening.instruments import Instrument
from screening.instruments.model import AllOf
from screening.instruments.model import AnyOf
from screening.instruments.model import Condition
from screening.instruments.model import Item
from screening.instruments.model import ItemCount


def when_to_answer(inst: Instrument, item: Item, locale: str) -> str | None:
    """The hint for `item`, e.g. 'Answer this if your answer to any question above was "Yes" or
    "Prefer not to answer".'; None for a question every student answers."""
    if item.asked_if is None:
        return None
    condition = _condition(inst, item, item.asked_if, locale)
    return _("Answer this if %(condition)s.", condition=condition)


def _condition(inst: Instrument, item: Item, condition: Condition, locale: str) -> str:
    """`condition` as a clause; the parser lets `asked_if` test only answers to other items."""
    match condition:
        case AnyOf(parts):
            joiner = _(", or ")
        case AllOf(parts):
            joiner = _(", and ")
        case ItemCount():
            return _answers_clause(inst, item, condition, locale)
        case _:
            raise ValueError(f"asked_if of item {item.number} tests more than answers")
    return joiner.join(_condition(inst, item, part, locale) for part in parts)


def _answers_clause(inst: Instrument, item: Item, condition: ItemCount, locale: str) -> str:
    answers = _choices(inst, condition, locale)
    listed = pgettext("list separator", ", ").join(str(n) for n in condition.items)
    low, high = condition.count.min, condition.count.max
    if high is None and (low is None or low <= 1):
        if set(condition.items) == set(range(1, item.number)):
            return _("your answer to any question above was %(answers)s", answers=answers)
        return _(
            "your answer to any of questions %(items)s was %(answers)s",
            items=listed,
            answers=answers,
        )
    return _(
        "%(count)s of your answers to questions %(items)s were %(answers)s",
        count=_count(low, high),
        items=listed,
        answers=answers,
    )


def _count(low: float | None, high: float | None) -> str:
    """How many answers a count range asks for, in words ("at least 2")."""
    if high is None:
        return _("at least %(n)s", n=int(low or 0))
    if not low:
        return _("at most %(n)s", n=int(high))
    if low == high:
        return _("exactly %(n)s", n=int(low))
    return _("%(low)s to %(high)s", low=int(low), high=int(high))


def _choices(inst: Instrument, condition: ItemCount, locale: str) -> str:
    """The answer choices the condition counts, each quoted, in the order the student sees them."""
    labels: list[str] = []
    for number in condition.items:
        for option in inst.item(number).options.options:
            label = option.label.get(locale)
            if condition.value.contains(option.value) and label not in labels:
                labels.append(label)
    quoted = [_('"%(answer)s"', answer=label) for label in labels]
    return pgettext("list separator", " or ").join(quoted)
