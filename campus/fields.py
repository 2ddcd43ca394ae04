"""Form field declarations every domain makes the same way, named once (the kernel's, like
`campus.spreadsheets` whose files the upload field takes)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired
from wtforms import IntegerField
from wtforms import SelectField
from wtforms import TextAreaField
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
        validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Only CSV or XLSX files."))],
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


def required_text(label: str, missing: str, max_length: int) -> TextAreaField:
    """A text a person must write, refused with `missing` (what to write, in the form's own
    words) rather than WTForms' "This field is required."."""
    return TextAreaField(label, validators=[DataRequired(missing), Length(max=max_length)])


class WholeNumberField(IntegerField):
    """A whole number whose text that is none ("abc", "1.5") is refused in the field's own
    words (`invalid`), like its range, rather than WTForms' "Not a valid integer value."."""

    def __init__(self, label: str, validators: list[Any], *, invalid: str, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.invalid = invalid

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(self.invalid) from error


def whole_number(label: str, low: int, high: int, message: str, **kwargs: Any) -> IntegerField:
    """A required whole number from `low` to `high`, where a number out of range and text that is
    no number are both answered with `message` ("From 1 to 60 days."). Required is
    `InputRequired`, so 0 reaches the range check instead of reading as an empty field."""
    return WholeNumberField(
        label,
        [InputRequired(), NumberRange(low, high, message=message)],
        invalid=message,
        **kwargs,
    )
