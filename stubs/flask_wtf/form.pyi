from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup
from wtforms import Form
from wtforms.meta import _MultiDictLike

class FlaskForm(Form):
    def __init__(self, formdata: _MultiDictLike | None = ..., **kwargs: object) -> None: ...
    def is_submitted(self) -> bool: ...
    def validate_on_submit(
        self, extra_validators: Mapping[str, Sequence[Any]] | None = None
    ) -> bool: ...
    def hidden_tag(self, *fields: object) -> Markup: ...
