"""Every role's Chinese interface reads Chinese: no English text and no raw codes on any page.

Signs in to the demo university as each demo role (no language of their own, so the Chinese
default applies), follows every same-origin link from the home page and the navigation, and
collects the visible text of each page. A Latin word that is not on the short allowlist below is
either an untranslated string, a code shown instead of its label (`in_person`, `phq9`, `red`), or a
name stored only in English; each such page and text is reported. A student (and her peer roles)
is addressed as 你: a text that says 您 to her is reported too.
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from campus import clock
from campus import demo
from campus import roster
from campus.extensions import db
from campus.models import Institution
from campus.models import Role
from campus.models import User
from warning import academic

# Latin text a Chinese page may show, each for a reason:
ALLOWED = {
    # instrument and scale names are written this way in Chinese publications too
    "PHQ-9", "PHQ-2", "GAD-7", "GAD-2", "SCL-90", "UPI", "K10", "K6", "ASQ", "DASS-21", "C-SSRS",
    "MHLS",
    # an author name kept in the Chinese title of the scale ("Kessler 心理困扰量表")
    "Kessler",
    # file formats and the KPI abbreviation, as Chinese offices write them
    "CSV", "XLSX", "Excel", "PDF", "KPI", "YAML", "JSON",
    # text encodings, as Excel's and WPS's Save As dialogs name them
    "UTF-8", "GBK", "GB18030",
    # the product's own name next to 心桥, and the chat tools named by their brands
    "Xinqiao", "WeCom", "DingTalk", "SMS",
    # the demo institutions' codes, which people type to sign in
    "XJU", "LSU", "HUNAN",
    # the language switch names the other language in that language
    "English",
    # the time standard and the chat robots' address, as Chinese admin pages write them
    "UTC", "Webhook",
    # the sign-on protocols and their terms, as campus IT offices and their vendors write them
    "CAS", "OpenID", "Connect", "ID", "preferred_username",
}  # fmt: skip
# The importers read English column headers and these values exactly as written, so the pages
# that explain a file's layout must show them as they are.
FILE_FORMAT = {
    *roster.REQUIRED_COLUMNS, *roster.OPTIONAL_COLUMNS, *academic.COLUMNS,
    "q1", "q2",
}  # fmt: skip
# Text that is data, not language: email addresses, student numbers, logins, phone numbers.
DATA = re.compile(
    r"[\w.+-]+@[\w.-]+"  # email addresses
    r"|https?://\S*"  # web addresses (the sign-on's addresses for the IT office)
    r"|\bL?\d{4,}\b"  # student numbers (the second school's start with L), years
    r"|\b(?:admin|director|sc0\d|dc0\d|dl0\d|liaison|auditor)\b"  # demo logins, shown as data
    r"|\b(?:[A-Z2-7]{4} ){7}[A-Z2-7]{4}\b"  # an authenticator app's key, to type in groups of four
)
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")
# Links that change state or send a file rather than show a page.
SKIP = re.compile(r"logout|export|download|\.csv|\.xlsx|\.pdf|/language/|/static/", re.IGNORECASE)
# Not read as text: code, and a text area's content, which is what a person typed (a policy's YAML);
# `<code>` holds identifiers shown as such (the records of processing name encrypted table columns).
HIDDEN = ("script", "style", "template", "textarea", "code")
MAX_PAGES = 120  # per role: enough for every kind of page, bounded so the test stays quick


class _VisibleText(HTMLParser):
    """The text a reader sees: element text, titles, placeholders, labels and button values."""

    SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in HIDDEN:
            self._hidden += 1
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        self.texts.extend(v for k, v in attrs if k in self.SHOWN_ATTRIBUTES and v)
        if tag in ("button", "input") and values.get("type") in ("submit", "button"):
            self.texts.append(values.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(data.strip())


def _foreign_words(text: str) -> list[str]:
    words = (w.strip(".-") for w in LATIN_WORD.findall(DATA.sub(" ", text)))
    return [w for w in words if w not in ALLOWED and w not in FILE_FORMAT]


def _crawl(client: FlaskClient, *, student: bool = False) -> dict[str, list[str]]:
    """Visit every page reachable from the home page; each page's offending texts by URL. For a
    `student` (her peer roles included), a text that addresses the reader as 您 offends too:
    students are addressed as 你 (docs/architecture.md, "Chinese text")."""
    seen, queue, offences = {"/"}, deque(["/"]), {}
    while queue and len(seen) <= MAX_PAGES:
        url = queue.popleft()
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        parser = _VisibleText()
        parser.feed(response.get_data(as_text=True))
        bad = [t for t in parser.texts if _foreign_words(t) or (student and "您" in t)]
        if bad:
            offences[url] = bad
        for href in parser.links:
            link = urldefrag(href).url
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not link.startswith("/") or SKIP.search(link):
                continue
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return offences


@pytest.fixture
def demo_university(app):
    """The demo university, small: every role and every kind of record, few students."""
    logins = demo.seed(db.session, students=480, today=clock.now().date())
    db.session.commit()
    return logins


def test_every_role_sees_only_chinese_on_every_page_it_can_reach(demo_university, client):
    report = []
    for entry in demo_university:
        institution = db.session.scalar(
            select(Institution).where(Institution.code == entry.institution)
        )
        user = db.session.scalar(
            select(User).where(User.institution_id == institution.id, User.login == entry.login)
        )
        assert user is not None, entry
        assert user.locale is None, "demo users read the institution's default language"
        response = client.post(
            "/login",
            data={
                "institution": entry.institution,
                "login": entry.login,
                "password": demo.DEMO_PASSWORD,
            },
        )
        assert response.status_code == 302, (entry, response.data[:300])
        student = any(r.role == Role.STUDENT for r in user.roles)
        for url, texts in _crawl(client, student=student).items():
            report.append(f"{entry.role} {url}: " + " | ".join(texts[:8]))
        client.post("/logout")
    assert report == [], "English, codes or 您 to a student on Chinese pages:\n" + "\n".join(report)


def test_the_demo_records_an_outcome_for_every_session_it_marks_held_or_missed(demo_university):
    """A walk found a demo session marked 已到访 whose page said 尚未记录咨询结果 and offered no
    form: the real flow records the outcome that sets those states."""
    from appointments.models import Appointment
    from appointments.models import AppointmentState
    from appointments.models import SessionOutcome

    held = select(Appointment.id).where(
        Appointment.state.in_([AppointmentState.ATTENDED, AppointmentState.NO_SHOW])
    )
    recorded = select(SessionOutcome.appointment_id)
    assert db.session.scalars(held).all()
    assert set(db.session.scalars(held)) <= set(db.session.scalars(recorded))
