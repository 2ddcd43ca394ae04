"""Every form says, in the reader's language, what a refused field needs.

WTForms' own words are generic ("This field is required.", "Not a valid date value.", in Chinese
"该字段是必填字段。"): under a date a counsellor does not learn what to write. So every required
validator of every form carries a message of its own, every typed date, time or number is refused
in our words when it cannot be read, and each of those messages has its Chinese translation.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

from babel.messages.catalog import Catalog
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from flask_wtf.file import FileRequired
from wtforms import DateTimeField
from wtforms import DecimalField
from wtforms import FloatField
from wtforms import IntegerField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired

from campus import DOMAINS
from tests.test_translations import ZH_PO
from tests.test_translations import _read

PACKAGES = DOMAINS
REQUIRED = (DataRequired, InputRequired, FileRequired)
# Fields whose text is parsed, each refused by WTForms with its own "Not a valid … value."
# (DateField, TimeField and DateTimeLocalField are DateTimeFields).
PARSED = (DateTimeField, IntegerField, FloatField, DecimalField)


def _form_classes() -> list[type[FlaskForm]]:
    """Every form class declared in the domain packages (their modules imported first)."""
    for package in PACKAGES:
        root = importlib.import_module(package)
        for module in pkgutil.walk_packages(root.__path__, f"{package}."):
            importlib.import_module(module.name)
    found: set[type[FlaskForm]] = set()
    pending = [FlaskForm]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            if sub.__module__.split(".")[0] in PACKAGES:
                found.add(sub)
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def _fields(form: type[FlaskForm]) -> Iterator[tuple[str, UnboundField]]:
    """The fields `form` declares itself (those it inherits are its base's, checked there)."""
    for name, value in vars(form).items():
        if isinstance(value, UnboundField):
            yield name, value


def _validators(field: UnboundField) -> list:
    if "validators" in field.kwargs:
        return list(field.kwargs["validators"] or [])
    return list(field.args[1]) if len(field.args) > 1 and field.args[1] else []


def _untranslated(message: object, zh: Catalog) -> str | None:
    """Why `message` would not reach a Chinese reader in Chinese (None: it would)."""
    if not isinstance(message, LazyString):
        return "is not marked for translation (lazy_gettext)"
    *context, msgid = message._args
    entry = zh.get(msgid, context[0] if context else None)
    if entry is None or not entry.string or entry.fuzzy:
        return f"has no Chinese translation ({msgid!r})"
    return None


def test_the_walk_finds_the_forms_of_every_package():
    """The check below is only as good as its list: a package whose forms it missed passes."""
    modules = {form.__module__.split(".")[0] for form in _form_classes()}
    assert modules == set(PACKAGES)
    names = {form.__qualname__ for form in _form_classes()}
    assert {"ReferralForm", "EntryForm", "WeeklyReportForm", "VersionedForm"} <= names


def test_every_required_field_and_every_typed_value_is_refused_in_words_of_its_own():
    zh = _read(ZH_PO)
    wrong: list[str] = []
    for form in _form_classes():
        for name, field in _fields(form):
            where = f"{form.__module__}.{form.__qualname__}.{name}"
            for validator in _validators(field):
                message = getattr(validator, "message", None)
                if isinstance(validator, REQUIRED) and message is None:
                    wrong.append(f"{where}: {type(validator).__name__} says only WTForms' words")
                elif message is not None and (why := _untranslated(message, zh)):
                    wrong.append(f"{where}: {type(validator).__name__}'s message {why}")
            if issubclass(field.field_class, PARSED):
                invalid = field.kwargs.get("invalid", getattr(field.field_class, "invalid", None))
                if invalid is None:
                    wrong.append(f"{where}: a value it cannot read gets WTForms' 'Not a valid …'")
                elif why := _untranslated(invalid, zh):
                    wrong.append(f"{where}: its message for a value it cannot read {why}")
    assert wrong == [], "\n".join(wrong)
