"""Printed documents: a Jinja template laid out for A4, turned into a PDF by WeasyPrint.

A document leaves the building — a guardian takes it home, a hospital files it — so it is generated
on the server in one layout, not left to each browser's print dialog. The renderer fetches nothing:
its one stylesheet is read from `static/documents.css`, its fonts are the machine's (the CJK fonts
`.ci/run` and the README install), and only `data:` URIs may appear in a document (an inline chart),
so a name typed into a record can never make the server fetch a URL.

A document is in its reader's language, and its reader is not always whoever prints it. What the
centre hands a guardian, a hospital or a student (the guardian notice, the referral form, the
return opinion, a student's screening report) is printed in the institution's language unless the
printer chooses another (`print_language`): a counsellor who reads the pages in English still
gives a Chinese family a Chinese notice. What staff print for their own use (the student file, the
batch report), and what a student prints for herself, is in the reader's own language.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Response
from flask import current_app
from flask import render_template
from flask_babel import force_locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from jinja2 import Template
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import audit
from campus.downloads import send_download
from campus.i18n import shown_name
from campus.models import Hospital
from campus.models import User

PDF_TYPE = "application/pdf"

# The languages a document can be printed in, each named in itself: a choice of language is read
# by someone looking for their own.
PRINT_LANGUAGES = {"zh_CN": "中文", "en": "English"}
# The same, named in the reader's language, where a sentence says which one a document is in.
LANGUAGE_WORDS = {"zh_CN": _l("Chinese"), "en": _l("English")}


def institution_language() -> str:
    """The institution's language (the app's default locale): what it prints for others in."""
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def print_language(chosen: str | None) -> str:
    """The language of a document addressed to a guardian, a hospital or a student: `chosen` when
    it is one of `PRINT_LANGUAGES`, else the institution's; never the printer's own language."""
    return chosen if chosen in PRINT_LANGUAGES else institution_language()


def institution_language_words() -> str:
    """The institution's language, named in the reader's ("Chinese", 中文)."""
    return str(LANGUAGE_WORDS[institution_language()])


def other_print_languages() -> list[tuple[str, str]]:
    """The languages a document can be printed in besides the institution's, each named in
    itself (the template global beside a download link)."""
    default = institution_language()
    return [(code, name) for code, name in PRINT_LANGUAGES.items() if code != default]


@contextmanager
def printed_in(language: str) -> Iterator[None]:
    """Build and render a document in `language`: its words, names and file name, whatever
    language the person printing it reads the pages in."""
    with force_locale(language):
        yield


def hospital_names(session: Session, institution_id: int, typed: Iterable[str]) -> list[str]:
    """Hospitals a record names as typed (a crisis entry's, a leave's statement), as the document
    being printed names them: a partner hospital of the institution, typed in either of its
    names, by its name in the document's language (the English name where it has one, as the
    referral form prints it); any other as typed. Sorted, each once."""
    wanted = {name.strip() for name in typed if name and name.strip()}
    if not wanted:
        return []
    partners = session.scalars(
        select(Hospital).where(
            Hospital.institution_id == institution_id,
            or_(Hospital.name.in_(wanted), Hospital.name_en.in_(wanted)),
        )
    ).all()
    known = {typed_as: h for h in partners for typed_as in (h.name, h.name_en) if typed_as}
    return sorted({shown_name(known[n]) if n in known else n for n in wanted})


def render_pdf(template: str | Template, **context: Any) -> bytes:
    """The PDF of `template` (which extends `documents/base.html`) rendered with `context`.

    WeasyPrint is imported here, not at start-up: it needs the system's Pango, and a machine
    without it should still run everything but the printing (README, "Printed documents").
    """
    import weasyprint
    from weasyprint.urls import URLFetcher

    html = render_template(template, document_language=str(get_locale()), **context)
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
    language: str | None = None,
    **context: Any,
) -> Response:
    """Audit that `actor` generated `document` from `target` (committed first, like every sensitive
    read), then send the PDF as a download named `filename`; in `language` when given (the audit
    row says which, `language=en`), else in the reader's."""
    audit.record_read_on(
        session,
        target,
        actor=actor,
        action="print",
        record_type=document,
        detail=f"language={language}" if language else None,
    )
    if language is None:
        body = render_pdf(template, **context)
    else:
        with printed_in(language):
            body = render_pdf(template, **context)
    # The Chinese name as RFC 6266 `filename*`, and an ASCII one that says which document it is
    # (stripping the Chinese to ASCII left "-.pdf").
    fallback = f"xinqiao-{document.replace('_', '-')}-{target.id}.pdf"
    return send_download(body, PDF_TYPE, name=filename, fallback=fallback)
