# Flask-Babel 4: only the names Xinqiao uses. Its functions are annotated in the source, but the
# package ships no `py.typed`.
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from datetime import datetime
from datetime import timedelta

from babel import Locale
from flask import Flask

class Babel:
    def __init__(self, app: Flask | None = None, configure_jinja: bool = True) -> None: ...
    def init_app(
        self,
        app: Flask,
        default_locale: str = "en",
        default_domain: str = "messages",
        default_translation_directories: str = "translations",
        default_timezone: str = "UTC",
        locale_selector: Callable[[], str | None] | None = None,
        timezone_selector: Callable[[], str | None] | None = None,
    ) -> None: ...

def get_locale() -> Locale | None: ...
def refresh() -> None: ...
@contextmanager
def force_locale(locale: str | Locale | None) -> Iterator[None]: ...
def format_date(
    date: date | None = None,
    format: str | None = None,  # noqa: A002 - the library's own keyword
    rebase: bool = True,
) -> str: ...
def format_datetime(
    datetime: datetime | None = None,
    format: str | None = None,  # noqa: A002 - the library's own keyword
    rebase: bool = True,
) -> str: ...
def gettext(string: str, **variables: object) -> str: ...
def pgettext(context: str, string: str, **variables: object) -> str: ...
def ngettext(singular: str, plural: str, num: int, **variables: object) -> str: ...
def format_timedelta(
    datetime_or_timedelta: datetime | timedelta,
    granularity: str = "second",
    add_direction: bool = False,
    threshold: float = 0.85,
) -> str: ...

# The lazy string is translated when rendered (`str()`), in the reader's language; WTForms labels
# and messages, the places it goes, render it so. Declared `str` because WTForms' stubs ask for
# one: a `LazyString` answers every `str` method by translating first.
def lazy_gettext(string: str, **variables: object) -> str: ...
def lazy_pgettext(context: str, string: str, **variables: object) -> str: ...
