"""The names downloads are saved under: in the reader's language, with an ASCII fallback.

A file is named for the person who saves it: a Chinese reader's KPI export is
心桥-筛查覆盖率-按院系-2026-09_2027-04.csv, as the roster template is 学生名单导入模板.xlsx. The
name goes in the `filename*` parameter of Content-Disposition (RFC 6266, UTF-8 as RFC 5987
encodes it); the plain `filename`, which a client that cannot read `filename*` uses, is an ASCII
name that still says what the file is (xinqiao-kpi-screening-by-department-2026-09_2027-04.csv),
never the empty or mangled one left when a Chinese name is stripped to ASCII.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from urllib.parse import quote

from flask import Response
from flask import send_file

from campus.i18n import viewer_locale

# What a file name cannot hold on Windows, macOS or Linux, and the spaces around words.
UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def for_reader(fallback: str, words: Iterable[str]) -> str:
    """The name an English reader gets as `fallback` and any other reader as `words` joined
    with hyphens (each made safe for a file name)."""
    if viewer_locale().startswith("en"):
        return fallback
    parts = (UNSAFE.sub(" ", str(word)).strip() for word in words)
    return "-".join(re.sub(r"\s+", " ", part) for part in parts if part)


def send_download(body: bytes, mimetype: str, *, name: str, fallback: str) -> Response:
    """`body` as an attachment saved as `name`, with the ASCII `fallback` for a client that reads
    only the plain `filename` (a `name` that is ASCII itself is sent alone)."""
    plain = name if name.isascii() else fallback
    response = send_file(
        io.BytesIO(body), mimetype=mimetype, as_attachment=True, download_name=plain
    )
    if plain != name:
        encoded = quote(name, safe="!#$&+^`|~")
        response.headers.set(
            "Content-Disposition",
            "attachment",
            filename=plain,
            **{"filename*": f"UTF-8''{encoded}"},
        )
    return response
