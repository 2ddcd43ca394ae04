"""Reading a generated PDF as a person would: its text (poppler's pdftotext) and its page size."""

from __future__ import annotations

import shutil
import subprocess

import pytest

PDFTOTEXT = shutil.which("pdftotext")
PDFINFO = shutil.which("pdfinfo")

# Tests that read PDFs skip where poppler-utils is missing; `.ci/run` installs it.
needs_poppler = pytest.mark.skipif(
    PDFTOTEXT is None or PDFINFO is None, reason="needs poppler-utils (pdftotext, pdfinfo)"
)


def pdf_text(pdf: bytes) -> str:
    """The text a reader copies out of the PDF, laid out as on the page."""
    assert pdf.startswith(b"%PDF-"), pdf[:40]
    done = subprocess.run(  # noqa: S603 - our own PDF bytes into poppler
        [str(PDFTOTEXT), "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


def pdf_pages(pdf: bytes) -> int:
    """How many pages the PDF prints on (pdfinfo's "Pages:")."""
    line = next(n for n in pdf_info(pdf).splitlines() if n.startswith("Pages:"))
    return int(line.split(":")[1])


def pdf_info(pdf: bytes) -> str:
    """pdfinfo's report: pages, page size (e.g. '595.276 x 841.89 pts (A4)')."""
    done = subprocess.run(  # noqa: S603 - our own PDF bytes into poppler
        [str(PDFINFO), "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")
