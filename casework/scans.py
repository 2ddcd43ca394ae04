"""Signed scans of hand-over documents: checked by their content (not their name), kept in a
folder outside the web root under a random name, read back only through an audited view.

A scan is a PDF, JPEG or PNG. Images are opened and verified by Pillow; a PDF must start with the
`%PDF-` header and end with its `%%EOF` marker. The folder is `CRISIS_SCAN_DIR` (default: the
instance folder's `crisis_scans`), never `static/`; the size limit is `CRISIS_SCAN_MAX_MB`.
"""

from __future__ import annotations

import io
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from PIL import Image
from PIL import UnidentifiedImageError
from werkzeug.datastructures import FileStorage

from campus.i18n import N_
from campus.i18n import Message

# Media type of each kind of scan accepted, and the suffix its stored file takes.
SCAN_TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
_IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
_STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(pdf|jpg|png)$")


class ScanError(ValueError):
    """The upload is not a scan we keep; the message says why (shown to the user)."""


@dataclass(frozen=True)
class StoredScan:
    name: str
    media_type: str
    size: int


def folder(app: Flask) -> Path:
    """Where scans are kept: `CRISIS_SCAN_DIR`, or the instance folder's `crisis_scans`."""
    configured = app.config.get("CRISIS_SCAN_DIR") or ""
    return Path(configured) if configured else Path(app.instance_path) / "crisis_scans"


def media_type(data: bytes) -> str | None:
    """The scan's media type judged from its content, or None when it is no PDF, JPEG or PNG."""
    if data.startswith(b"%PDF-"):
        return "application/pdf" if b"%%EOF" in data[-1024:] else None
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    return _IMAGE_TYPES.get(kind or "")


def store(upload: FileStorage, where: Path, max_bytes: int) -> StoredScan:
    """Check `upload` and keep it in `where` under a new random name; raises `ScanError` and
    keeps nothing when it is empty, too large or not a PDF, JPEG or PNG."""
    data = upload.stream.read(max_bytes + 1)
    if not data:
        raise ScanError(Message(N_("The file is empty.")))
    if len(data) > max_bytes:
        raise ScanError(
            Message(N_("The scan is larger than %(mb)s MB."), mb=f"{round(max_bytes / 2**20, 1):g}")
        )
    kind = media_type(data)
    if kind is None:
        raise ScanError(
            Message(N_("Upload the scan as a PDF, JPEG or PNG file; this file is none of them."))
        )
    where.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16) + SCAN_TYPES[kind]
    with (where / name).open("xb") as out:
        out.write(data)
    return StoredScan(name, kind, len(data))


def path_of(where: Path, name: str) -> Path:
    """The stored scan `name` in `where`; only names `store` makes are accepted."""
    if not _STORED_NAME.match(name):
        raise ScanError(Message(N_("The scan is missing.")))
    return where / name


def discard(where: Path, name: str) -> None:
    """Remove a stored scan whose record was not written (the unit of work failed)."""
    path_of(where, name).unlink(missing_ok=True)
