"""The real app in a real browser: a live server on a free port, Debian's chromium, seeded people.

The server runs in a thread of the test process against the test database (SQLite by default,
PostgreSQL with TEST_DATABASE_URL), with CSRF on, so every form the journeys submit carries a real
token. The clock is frozen (and moved by the journeys) in this process, so the server sees it too.
Each locale gets its own freshly seeded university; the journeys of one locale share it, in order.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import BrowserContext
from playwright.sync_api import Page
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from campus import clock
from campus import create_app
from campus.extensions import db
from campus.extensions import limiter
from campus.models import Caseload
from campus.models import Role
from screening import campaigns
from tests.conftest import PASSWORD
from tests.conftest import Campus
from tests.conftest import _empty_tables
from tests.conftest import _fresh_schema
from tests.conftest import commits_without_disk_waits

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# `make screenshots` refreshes the README's pictures in docs/screenshots (XINQIAO_SCREENSHOTS
# names another folder); an ordinary test run takes no pictures (some 240 full pages a run, which
# nobody looks at), and writes the documents it downloads to a scratch folder, so running the
# suite never dirties the work tree.
TAKE_SCREENSHOTS = bool(os.environ.get("XINQIAO_SCREENSHOTS"))
SCREENSHOTS = Path(
    os.environ.get("XINQIAO_SCREENSHOTS") or Path(tempfile.gettempdir()) / "xinqiao-screenshots"
)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# A download is made on request (a PDF rendered, a workbook written): on a loaded CI machine one
# took longer than the 15 s a page is given, and the journey failed with nothing wrong.
DOWNLOAD_WAIT = 60_000
START = datetime(2026, 9, 14, 2, 0, 0)  # 10:00 in Changsha, the second week of term
# Sent in September, the referral is due to close (sent + 90 days) in December.
KPI_MONTHS = ("2026-09", "2027-04")


STAFF_NAMES = {
    "counsellor": ("林晓雯", "Lin Xiaowen"),
    "dept_counsellor": ("张磊", "Zhang Lei"),
    "dorm": ("周阿姨", "Auntie Zhou"),
    "liaison": ("刘医生", "Dr Liu"),
    "admin": ("赵管理员", "Administrator Zhao"),
    "director": ("孙主任", "Director Sun"),
    "province": ("省厅督导", "Provincial auditor"),
}


@pytest.fixture(scope="session")
def live_app() -> Iterator[Flask]:
    """A second app on the test database with CSRF on, as in production."""
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp}/e2e.sqlite3"
        app = create_app("test", SQLALCHEMY_DATABASE_URI=url, WTF_CSRF_ENABLED=True)
        # The journeys sign the same people in many times a minute; the login throttle has its
        # own tests (tests/campus/test_sign_in.py).
        app.config["RATELIMIT_ENABLED"] = False
        with app.app_context():
            commits_without_disk_waits(db.engine)
            # On PostgreSQL the database outlives the run: `create_all` alone would keep a table
            # of an earlier run without the columns added since.
            _fresh_schema()
            db.create_all()
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def base_url(live_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("XINQIAO_E2E_REQUIRED"):
            pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium to run the journeys")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class World:
    """The people of one seeded university and what the journeys leave behind for the next."""

    locale: str
    base_url: str
    browser: Browser
    institution: str = "XJU"
    student_name: str = ""
    student_number: str = ""
    logins: dict[str, str] = field(default_factory=dict)
    # Who signs in at another institution than the university (the province auditor).
    institution_of: dict[str, str] = field(default_factory=dict)
    hospital: str = ""
    campaign_id: int = 0
    assignment_id: int = 0
    warning_id: int = 0
    referral_id: int = 0
    leave_id: int = 0
    contexts: list[BrowserContext] = field(default_factory=list)

    def page_for(self, who: str, viewport: dict | None = None) -> Page:
        """A fresh browser (own cookies) signed in as `who`, in this world's locale."""
        context = self.browser.new_context(
            base_url=self.base_url,
            viewport=viewport or DESKTOP,
            locale="zh-CN" if self.locale == "zh_CN" else "en-US",
            accept_downloads=True,
        )
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        institution = self.institution_of.get(who, self.institution)
        sign_in(page, institution, self.logins[who], self.locale)
        return page

    def shot(self, page: Page, name: str) -> None:
        """Save the page as <SCREENSHOTS>/<name>.<locale>.png (same names every run), when asked."""
        if not TAKE_SCREENSHOTS:
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.{self.locale}.png"), full_page=True)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def sign_in(page: Page, institution: str, login: str, locale: str) -> None:
    page.goto("/login")
    wanted = "zh-CN" if locale == "zh_CN" else "en"
    if page.locator("html").get_attribute("lang") != wanted:
        page.locator("header .tools form").first.locator("button").click()
        page.wait_for_selector(f"html[lang='{wanted}']")
    page.fill("#institution", institution)
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def follow_menu(page: Page, name: str) -> None:
    """Follow the header's link named `name` as a person does: a page of a section with several
    folds into that section's menu, opened first."""
    named = re.compile(rf"^\s*{re.escape(name)}\s*$")
    link = page.locator("header nav a").filter(has_text=named).first
    if not link.is_visible():
        menu = page.locator("header nav details.nav-menu").filter(
            has=page.locator("a").filter(has_text=named)
        )
        menu.first.locator("summary").click()
    link.click()


@pytest.fixture(scope="module", params=["zh_CN", "en"])
def world(request, live_app: Flask, base_url: str, browser: Browser) -> Iterator[World]:
    """A freshly seeded university for one locale; emptied again afterwards."""
    previous_limiter = limiter.enabled
    limiter.enabled = False
    clock.set_now(START)
    with live_app.app_context():
        _empty_tables()
        world = _seed(World(locale=request.param, base_url=base_url, browser=browser))
        db.session.remove()
    yield world
    world.close()
    with live_app.app_context():
        db.session.remove()
        _empty_tables()
    clock.set_now(None)
    limiter.enabled = previous_limiter


def kpi_rows(page: Page) -> dict[str, list[str]]:
    """The administrator's dashboard for the journeys' months: each KPI's first row, as text."""
    page.goto(f"/oversight/?month_from={KPI_MONTHS[0]}&month_to={KPI_MONTHS[1]}")
    rows = {}
    for key in ("screening", "service", "crisis", "referrals"):
        page.locator(f"#kpi-{key} summary").click()  # the tables are folded under the cards
        rows[key] = page.locator(f"#kpi-{key} tbody tr").first.locator("td").all_inner_texts()
    return rows


def _seed(world: World) -> World:
    """The university of the journeys, built with the campus fixtures and the campaign service."""
    campus = Campus()
    inst = campus.institution("XJU", "湘江大学")
    inst.on_duty_phone = "0731-8888-0000"
    computing = campus.department(inst, "计算机学院" if world.locale == "zh_CN" else "Computing")
    freshmen = campus.class_group(computing, "CS2601", grade=2026)
    room = campus.room(inst, "305")
    hospital = campus.hospital(
        inst, "湖南省脑科医院" if world.locale == "zh_CN" else "Brain Hospital"
    )
    name = "李晓雨" if world.locale == "zh_CN" else "Li Xiaoyu"
    student = campus.student(
        freshmen, room, name=name, birth_date=date(2007, 3, 1), number="2026001"
    )
    campus.student(freshmen, room, name="王明" if world.locale == "zh_CN" else "Wang Ming")
    committee_student = campus.student(
        freshmen, name="陈静" if world.locale == "zh_CN" else "Chen Jing"
    )
    committee = campus.staff(
        inst, Role.CLASS_COMMITTEE, group=freshmen, user=committee_student.user
    )
    counsellor = campus.staff(inst, Role.SCHOOL_COUNSELLOR, login="sc01")
    people = {
        "student": student.user,
        "committee": committee,
        "counsellor": counsellor,
        "dept_counsellor": campus.staff(
            inst, Role.DEPT_COUNSELLOR, login="dc01", department=computing
        ),
        "dorm": campus.staff(inst, Role.DORM_INFORMANT, login="dorm01", room=room),
        "liaison": campus.staff(inst, Role.HOSPITAL_LIAISON, login="hl01", hospital=hospital),
        "admin": campus.staff(inst, Role.ADMIN, login="admin"),
        "director": campus.staff(inst, Role.DIRECTOR, login="dir01"),
        "province": campus.staff(
            campus.institution("HNPRO", "湖南省教育厅", kind="province"),
            Role.PROVINCE_AUDITOR,
            login="auditor",
        ),
    }
    for user in {*people.values(), *(s.user for s in (student, committee_student))}:
        user.locale = world.locale  # each person's saved language preference
    for key, (zh, en) in STAFF_NAMES.items():  # names as a campus has them, in the screenshots
        people[key].name = zh if world.locale == "zh_CN" else en
    campus.session.add(Caseload(counsellor_id=counsellor.id, student_id=student.id))
    campus.commit()
    campaign = campaigns.save_campaign(
        db.session,
        inst,
        people["admin"],
        campaigns.CampaignSpec(
            name="2026级新生心理普查" if world.locale == "zh_CN" else "2026 freshman intake",
            instruments=["phq9", "gad7"],
            opens_at=START - timedelta(days=1),
            closes_at=START + timedelta(days=14),
            grades=[2026],
            department_ids=[],
            reminder_every_days=3,
        ),
    )
    world.student_name, world.student_number = name, student.student_number
    world.logins = {role: user.login for role, user in people.items()}
    world.institution_of = {"province": "HNPRO"}
    world.hospital = hospital.name
    world.campaign_id = campaign.id
    return world
