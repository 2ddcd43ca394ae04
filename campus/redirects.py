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


def return_after_sign_in(
    method: str, path: str, query: str, referrer: str | None, host: str
) -> str | None:
    """The page a request that needs signing in should come back to once signed in: the page
    itself when it was opened (GET, HEAD), else the page whose form sent it. A form's address
    (`/inbox/7/read`, a warning's action) cannot be opened: after an idle timeout, "Open" on
    an inbox note led through sign-in to a 405. A referrer from another site gives none."""
    if method in ("GET", "HEAD"):
        return safe_next(f"{path}?{query}" if query else path)
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc != host or parts.scheme not in ("http", "https"):
        return None
    return safe_next(f"{parts.path}?{parts.query}" if parts.query else parts.path)
