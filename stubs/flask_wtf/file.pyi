from collections.abc import Iterable

from wtforms import Field
from wtforms.fields import FileField as _FileField
from wtforms.form import BaseForm
from wtforms.validators import DataRequired

class FileField(_FileField): ...

class FileRequired(DataRequired):
    def __call__(self, form: BaseForm, field: Field) -> None: ...

class FileAllowed:
    def __init__(self, upload_set: Iterable[str], message: str | None = None) -> None: ...
    def __call__(self, form: BaseForm, field: Field) -> None: ...
