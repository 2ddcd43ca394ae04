"""Reading a served page for what it tells a person, without the random values each request adds."""

from __future__ import annotations

import re
from html import unescape

# A CSRF token is base64 and a send-once token hex, both new on each page: a short word such as
# "PHQ" or "red" turns up inside one by chance, once in a few thousand pages.
_TOKEN = re.compile(r'(name="(?:csrf_token|submission)"[^>]*?\bvalue=")[^"]*(")')


def without_tokens(html: str) -> str:
    """The page with its per-request tokens blanked, for checks that a word is *not* on it."""
    return _TOKEN.sub(r"\1\2", html)


def errors_under(html: str, field: str) -> list[str]:
    """What the page says under the form field named `field` (the `field` macro's refusals)."""
    found = re.findall(rf'<p class="error" id="{re.escape(field)}-err"[^>]*>([^<]*)</p>', html)
    return [unescape(text) for text in found]


def visible_text(html: str) -> str:
    """What a reader sees of the page: its text without tags (and so without the attributes a
    program reads, such as `<time datetime>`), white space collapsed, entities read."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))
