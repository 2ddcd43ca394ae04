"""Text as the app accepts it: no control characters except tab, line feed and carriage return.

One rule for everything a person sends, applied where it arrives: every query-string and form
value of every request (so WTForms forms, the intake's item fields and `request.args` filters all
get clean text), and every cell of an imported CSV or XLSX file (campus.spreadsheets). A URL whose
path carries one names no page: 404.

The characters are removed, not refused: NUL and the other C0 controls are invisible, nobody types
them, and they come from pasting out of a word processor or PDF (a vertical tab for a line break)
or from a probe. A person who pasted them expects the text they can see to be kept; refusing it with
an error about characters they cannot find would only stop them. PostgreSQL cannot store NUL and
XLSX cannot hold the others, so letting them in would fail later, on save or on export.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Mapping

from flask import Flask
from flask import Request
from flask import abort
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.datastructures import MultiDict

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def without_controls(text: str) -> str:
    """`text` with NUL and the other control characters removed; tab and line breaks kept."""
    return CONTROL_CHARACTERS.sub("", text)


def _clean(value: object) -> object:
    return without_controls(value) if isinstance(value, str) else value


class CleanParameters(ImmutableMultiDict[str, object]):
    """Query-string and form values without control characters (uploaded files untouched)."""

    def __init__(
        self,
        mapping: MultiDict[str, object]
        | Mapping[str, object]
        | Iterable[tuple[str, object]]
        | None = None,
    ) -> None:
        pairs = MultiDict(mapping).items(multi=True) if mapping is not None else ()
        super().__init__([(without_controls(key), _clean(value)) for key, value in pairs])


class CleanRequest(Request):
    """The app's request: `args` and `form` are parsed into `CleanParameters`."""

    parameter_storage_class = CleanParameters


def init_app(app: Flask) -> None:
    """Every request of `app` is a `CleanRequest`; a control character in its path is a 404."""
    app.request_class = CleanRequest

    @app.url_value_preprocessor
    def refuse_controls_in_path(endpoint: str | None, values: dict[str, object] | None) -> None:
        texts = [v for v in (values or {}).values() if isinstance(v, str)]
        if any(CONTROL_CHARACTERS.search(v) for v in texts):
            abort(404)
