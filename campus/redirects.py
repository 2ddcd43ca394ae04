"""Where a user-supplied `next` (or a stored link) may send the browser: only to this site.

Browsers drop tabs and newlines anywhere in a URL and read `\\` as `/`, so `/<tab>/evil` and
`/\\evil` are `//evil`, another site. A check on the raw text alone lets those through; here the
text is judged as it is and once percent-decoded, and anything that is not plainly a path on this
site is refused rather than repaired.
"""

from __future__ import annotations

from urllib.parse import unquote
from urllib.parse import urlsplit

from flask import current_app
from flask import request
from werkzeug.exceptions import HTTPException


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


def page_of_refused_form() -> str | None:
    """The address a page answering a POST stands for in the browser's history: the address
    itself when it opens the page, else (an action's address, `/warnings/7/actions/close`) the
    page whose form was sent. A form sent back with its errors then reads, on Back or reload, as
    that page instead of Chromium's 确认重新提交表单 (static/history.js replaces the entry).
    None for a GET, or where neither address can be opened here."""
    if request.method != "POST":
        return None
    query = request.query_string.decode("latin-1")
    candidates = [f"{request.path}?{query}" if query else request.path]
    if request.referrer:
        referrer = urlsplit(request.referrer)
        if referrer.netloc == request.host:
            candidates.append(referrer.path + (f"?{referrer.query}" if referrer.query else ""))
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for candidate in candidates:
        address = safe_next(candidate)
        if address is None:
            continue
        try:
            adapter.match(urlsplit(address).path, method="GET")
        except HTTPException:
            continue
        return address
    return None
