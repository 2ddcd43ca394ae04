"""Where a user-supplied `next` (or a stored link) may send the browser: only to this site.

Browsers drop tabs and newlines anywhere in a URL and read `\\` as `/`, so `/<tab>/evil` and
`/\\evil` are `//evil`, another site. A check on the raw text alone lets those through; here the
text is judged as it is and once percent-decoded, and anything that is not plainly a path on this
site is refused rather than repaired.
"""

from __future__ import annotations

from urllib.parse import unquote
from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """`target` if it is a relative path on this site (`/…`, never `//…`), else None."""
    if not target or not target.startswith("/"):
        return None
    decoded = unquote(target)
    if decoded.startswith("//") or "\\" in decoded or any(_is_control(c) for c in decoded):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _is_control(char: str) -> bool:
    return ord(char) < 0x20 or ord(char) == 0x7F
