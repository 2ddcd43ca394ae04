"""Form field declarations every domain makes the same way, named once (the kernel's, like
`campus.spreadsheets` whose files the upload field takes).

A refused field says what it needs in the form's own words: WTForms' are generic ("This field is
required.", "Not a valid date value.", in Chinese "该字段是必填字段。"), and under a date a
counsellor does not learn what to write. So every required validator is given a message
(`required_text`, `choose_one`, or `InputRequired(_l("Choose the day of the review."))`), and
a typed date, time or number is one of the fields below, refused in our words when it cannot be
read. `tests/test_form_messages.py` walks every form for both.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired
from wtforms import DateField
from wtforms import DateTimeLocalField
from wtforms import Field
from wtforms import FloatField
from wtforms import IntegerField
from wtforms import SelectField
from wtforms import TextAreaField
from wtforms import TimeField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange

Member = TypeVar("Member", bound=enum.Enum)
Label = TypeVar("Label")


def spreadsheet_file(label: str) -> FileField:
    """A required upload of a CSV or XLSX file, the two kinds `campus.spreadsheets` reads."""
    return FileField(
        label,
        validators=[
            FileRequired(_l("Choose the file to import.")),
            FileAllowed(["csv", "xlsx"], _l("Only CSV or XLSX files.")),
        ],
    )


def labelled_choices(labels: Mapping[Member, Label]) -> list[tuple[str, Label]]:
    """A select's choices from a vocabulary's label map: the stored value, the shown label, in the
    map's order."""
    return [(member.value, label) for member, label in labels.items()]


def choose_one(label: str, choices: Sequence[tuple[str, Any]], missing: str) -> SelectField:
    """A select that opens on a blank "Choose…" and refuses a form sent without a choice, saying
    `missing`. Where the first real option stood selected, a form sent untouched stored an answer
    nobody gave: a concern about suicidal talk filed as low mood, a judgement of blue, a guardian
    "told by phone"."""
    options: list[Any] = [("", _l("Choose…")), *choices]
    return SelectField(label, choices=options, validators=[DataRequired(missing)])


def required_text(label: str, missing: str, max_length: int, min_length: int = -1) -> TextAreaField:
    """A text a person must write, refused with `missing` (what to write, in the form's own
    words) rather than WTForms' "This field is required.", and its length said as a person
    would ("Write at least 10 characters"), not "Field must be between 10 and 500 characters
    long."."""
    if min_length > 0:
        length = Length(
            min=min_length,
            max=max_length,
            message=_l("Write at least %(min)d and at most %(max)d characters."),
        )
    else:
        length = Length(max=max_length, message=_l("Write at most %(max)d characters."))
    return TextAreaField(label, validators=[DataRequired(missing), length])


class _ReadInOurWords(Field):
    """A field whose text is read as a value (a date, a time, a number): what cannot be read is
    refused with `invalid` (the class's words unless the field gives its own), not WTForms'
    "Not a valid date value.". A person meets it: a year typed with five digits in the
    browser's date box, a browser without a date picker, 1.5 in a box of whole minutes.

    A required one takes `InputRequired(…)`, not `DataRequired`: that would answer text that
    cannot be read with its "missing", hiding how the value is written."""

    invalid: str

    def __init__(
        self,
        label: str | None = None,
        validators: list[Any] | None = None,
        *,
        invalid: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(label, validators, **kwargs)
        if invalid is not None:
            self.invalid = invalid

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(self.invalid) from error


class DayField(_ReadInOurWords, DateField):
    """A calendar day (the browser's date box)."""

    invalid = _l("Give the date as year-month-day, e.g. 2026-09-01.")


class DayTimeField(_ReadInOurWords, DateTimeLocalField):
    """A day and a time to the minute (the browser's date-and-time box), in local time."""

    invalid = _l("Give the date and time as year-month-day hour:minute, e.g. 2026-09-01 14:30.")


class TimeOfDayField(_ReadInOurWords, TimeField):
    """A time of day (the browser's time box)."""

    invalid = _l("Give the time as hour:minute, e.g. 14:30.")


class WholeNumberField(_ReadInOurWords, IntegerField):
    """A whole number (the browser's number box)."""

    invalid = _l("Give a whole number, e.g. 7.")


class NumberField(_ReadInOurWords, FloatField):
    """A number that may have decimals, typed in a text box (WTForms draws no number box for it:
    "1,0" or "全职" can be sent)."""

    invalid = _l("Give a number, e.g. 1 or 0.5.")


def whole_number(label: str, low: int, high: int, message: str, **kwargs: Any) -> IntegerField:
    """A required whole number from `low` to `high`, where a number out of range and text that is
    no number are both answered with `message` ("From 1 to 60 days."). Required is
    `InputRequired`, so 0 reaches the range check instead of reading as an empty field."""
    return WholeNumberField(
        label,
        [InputRequired(message), NumberRange(low, high, message=message)],
        invalid=message,
        **kwargs,
    )
