"""Printed documents: a Jinja template laid out for A4, turned into a PDF by WeasyPrint.

A document leaves the building — a guardian takes it home, a hospital files it — so it is generated
on the server in one layout, not left to each browser's print dialog. The renderer fetches nothing:
its one stylesheet is read from `static/documents.css`, its fonts are the machine's (the CJK fonts
`.ci/run` and the README install), and only `data:` URIs may appear in a document (an inline chart),
so a name typed into a record can never make the server fetch a URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response
from flask import current_app
from flask import render_template
from jinja2 import Template
from sqlalchemy.orm import Session

from campus import audit
from campus.downloads import send_download
from campus.models import User

PDF_TYPE = "application/pdf"


def render_pdf(template: str | Template, **context: Any) -> bytes:
    """The PDF of `template` (which extends `documents/base.html`) rendered with `context`.

    WeasyPrint is imported here, not at start-up: it needs the system's Pango, and a machine
    without it should still run everything but the printing (README, "Printed documents").
    """
    import weasyprint
    from weasyprint.urls import URLFetcher

    html = render_template(template, **context)
    static = Path(current_app.static_folder or "static")
    stylesheet = weasyprint.CSS(string=(static / "documents.css").read_text(encoding="utf-8"))
    fetcher = URLFetcher(allowed_protocols={"data"})
    document = weasyprint.HTML(string=html, url_fetcher=fetcher)
    pdf: bytes = document.write_pdf(stylesheets=[stylesheet])
    return pdf


def pdf_download(
    session: Session,
    target: Any,
    *,
    actor: User,
    document: str,
    filename: str,
    template: str,
    **context: Any,
) -> Response:
    """Audit that `actor` generated `document` from `target` (committed first, like every sensitive
    read), then send the PDF as a download named `filename`."""
    audit.record_read_on(session, target, actor=actor, action="print", record_type=document)
    body = render_pdf(template, **context)
    # The Chinese name as RFC 6266 `filename*`, and an ASCII one that says which document it is
    # (stripping the Chinese to ASCII left "-.pdf").
    fallback = f"xinqiao-{document.replace('_', '-')}-{target.id}.pdf"
    return send_download(body, PDF_TYPE, name=filename, fallback=fallback)
