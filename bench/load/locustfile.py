"""Locust users for the screening-day benchmark and the fault tests.

`StudentIntake` behaves like a student's browser: it fetches each page, posts the form with the
page's csrf_token, signs in, gives consent and submits every instrument of the campaign, then
takes the next free student account. Every submission the app acknowledged (302 to the feedback
page) is appended to the event log, so the bench can check afterwards that each is stored exactly
once. `BaselineRow` loads the bare app (`bench/baseline_app.py`) the same way: GET a form, POST it.

Configured by environment (set by bench/screening_day.py and bench/faults.py):
XINQIAO_BENCH_LOG (event log path), XINQIAO_BENCH_FIRST / XINQIAO_BENCH_COUNT (student numbers
to use), XINQIAO_BENCH_INSTITUTION, XINQIAO_BENCH_PASSWORD, XINQIAO_BENCH_WAIT ("lo,hi" seconds
of think time between pages), XINQIAO_BENCH_USER (StudentIntake or BaselineRow).
"""

from __future__ import annotations

import itertools
import os
import random
import re
import time

from locust import HttpUser
from locust import between
from locust import constant
from locust import task
from locust.exception import StopUser

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TOKEN = re.compile(r'name="token"[^>]*value="([^"]*)"')
OPTION = re.compile(r'name="(item_\d+)" value="(-?\d+)"')
ASSIGNMENT = re.compile(r'href="/screening/a/(\d+)"')
INSTRUMENT = re.compile(r"/screening/a/\d+/i/([a-z0-9_]+)$")
SAFETY_SHARE = 0.06  # students answering PHQ-9 item 9 >= 1: the red path is in the mix
SYMPTOM_WEIGHTS = (0.72, 0.19, 0.06, 0.03)

_numbers = itertools.count(int(os.environ.get("XINQIAO_BENCH_FIRST", "1")))
_last = int(os.environ.get("XINQIAO_BENCH_FIRST", "1")) + int(
    os.environ.get("XINQIAO_BENCH_COUNT", "1000000")
)
_log = open(os.environ.get("XINQIAO_BENCH_LOG", os.devnull), "a", buffering=1)  # noqa: SIM115


def _wait():
    lo, hi = (float(x) for x in os.environ.get("XINQIAO_BENCH_WAIT", "0,0").split(","))
    return constant(0) if hi <= 0 else between(lo, hi)


def log_event(event: str, login: str, code: str, status: int) -> None:
    """One CSV line: unix time, event (ack, fail, traceback), student login, instrument, status."""
    _log.write(f"{time.time():.3f},{event},{login},{code},{status}\n")


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    return found.group(1) if found else ""


def random_answers(code: str, html: str, rng: random.Random, safety: bool) -> dict[str, str]:
    """A valid answer for every item on the page: mostly the lowest option, like most students."""
    options: dict[str, list[str]] = {}
    for name, value in OPTION.findall(html):
        options.setdefault(name, []).append(value)
    answers = {}
    for name, values in options.items():
        values = sorted(values, key=int)
        weights = SYMPTOM_WEIGHTS[: len(values)] if len(values) <= 4 else None
        answers[name] = rng.choices(values, weights=weights)[0]
    if code == "phq9" and "item_9" in options:
        low = sorted(options["item_9"], key=int)
        answers["item_9"] = rng.choice(low[1:]) if safety else low[0]
    if code == "asq":  # "no" to every question except for the safety students
        for name, values in options.items():
            answers[name] = max(values, key=int) if safety and name == "item_1" else min(values)
    return answers


class StudentIntake(HttpUser):
    """One simulated student at a time: sign in, consent, every instrument, finish."""

    wait_time = _wait()
    institution = os.environ.get("XINQIAO_BENCH_INSTITUTION", "LOAD")
    password = os.environ.get("XINQIAO_BENCH_PASSWORD", "")

    def on_start(self) -> None:
        self.rng = random.Random()

    @task
    def screening_day(self) -> None:
        number = next(_numbers)
        if number >= _last:
            raise StopUser()
        self.client.cookies.clear()
        self.login = f"S{number:06d}"
        if not self._sign_in() or (assignment := self._assignment()) is None:
            return
        location = self._consent(assignment)
        safety = self.rng.random() < SAFETY_SHARE
        while location and (found := INSTRUMENT.search(location)):
            location = self._instrument(found.group(1), location, safety)

    def _get(self, url: str, name: str):
        """Fetch a page, then read it for the think time before acting on it: the pacing is per
        page, as a person's is (locust's own wait_time only runs between whole tasks)."""
        with self.client.get(url, name=name, catch_response=True) as response:
            self._check(response, (200,), "")
        self.wait()
        return response

    def _post(self, url: str, data: dict, name: str, code: str = ""):
        with self.client.post(
            url, data=data, name=name, allow_redirects=False, catch_response=True
        ) as response:
            self._check(response, (302, 303), code)
            return response

    def _check(self, response, expected: tuple[int, ...], code: str) -> None:
        if response.status_code in expected:
            response.success()
            return
        text = response.text or ""
        if "Traceback" in text:
            log_event("traceback", self.login, code, response.status_code)
        if response.status_code >= 500 and "/static/app.css" not in text:
            log_event("bare_error", self.login, code, response.status_code)  # not our page
        log_event("fail", self.login, code, response.status_code)
        response.failure(f"status {response.status_code}")

    def _sign_in(self) -> bool:
        page = self._get("/login", "GET /login")
        if page.status_code != 200:
            return False  # a browser shows the error page; there is no form to post
        data = {
            "csrf_token": _csrf(page.text or ""),
            "institution": self.institution,
            "login": self.login,
            "password": self.password,
        }
        return self._post("/login", data, "POST /login").status_code == 302

    def _assignment(self) -> str | None:
        page = self._get("/screening/mine", "GET /screening/mine")
        found = ASSIGNMENT.search(page.text or "")
        return f"/screening/a/{found.group(1)}" if found else None

    def _consent(self, assignment: str) -> str | None:
        page = self._get(f"{assignment}/consent", "GET consent")
        if page.status_code != 200:
            return None
        data = {"csrf_token": _csrf(page.text or ""), "informed": "y", "sensitive_data": "y"}
        if self._post(f"{assignment}/consent", data, "POST consent").status_code != 302:
            return None
        return self._post_resume(assignment)

    def _post_resume(self, assignment: str) -> str | None:
        with self.client.get(
            assignment, name="GET resume", allow_redirects=False, catch_response=True
        ) as response:
            self._check(response, (200, 302), "")
            return response.headers.get("Location")

    def _instrument(self, code: str, url: str, safety: bool) -> str | None:
        path = url.split("://", 1)[-1]
        path = path[path.index("/") :] if "://" in url else url
        page = self._get(path, "GET instrument")
        if page.status_code != 200:
            return None  # no form came back (e.g. the database was restarting): nothing to post
        html = page.text or ""
        data = {"csrf_token": _csrf(html), "action": "submit"}
        token = TOKEN.search(html)
        data["token"] = token.group(1) if token else ""
        data.update(random_answers(code, html, self.rng, safety))
        response = self._post(path, data, "POST instrument (submission)", code)
        if response.status_code != 302 or "/done" not in response.headers.get("Location", ""):
            return None
        log_event("ack", self.login, code, response.status_code)
        self._get(f"{path}/done", "GET feedback")
        return self._post_resume(path.split("/i/")[0])


class BaselineRow(HttpUser):
    """The bare app's equivalent of a submission: fetch a form, post it, one row inserted."""

    wait_time = _wait()

    @task
    def submit_row(self) -> None:
        page = self.client.get("/form", name="GET /form (baseline)")
        data = {"csrf_token": _csrf(page.text or ""), "value": str(random.randrange(28))}
        with self.client.post(
            "/submit", data=data, name="POST /submit (baseline)", catch_response=True
        ) as response:
            if response.status_code == 200:
                response.success()
            else:
                response.failure(f"status {response.status_code}")


if os.environ.get("XINQIAO_BENCH_USER") == "BaselineRow":
    del StudentIntake
else:
    del BaselineRow
