"""Sign-in: sessions that really end, throttling, CSRF, first-login password change, headers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from campus.models import UserSession
from campus.notifications import Notification
from campus.notifications import notify
from tests.conftest import PASSWORD
from tests.conftest import sign_in


@pytest.fixture
def counsellor(campus):
    inst = campus.institution("XJU")
    user = campus.staff(
        inst, Role.DEPT_COUNSELLOR, login="dc01", department=campus.department(inst)
    )
    campus.commit()
    return user


def test_wrong_password_is_refused_and_audited(client, counsellor):
    response = client.post(
        "/login", data={"institution": "XJU", "login": "dc01", "password": "wrong-password"}
    )
    assert response.status_code == 401
    assert "wrong" in response.get_data(as_text=True).lower() or "错误" in response.get_data(
        as_text=True
    )
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sign_in"))
    assert row.outcome == "denied"
    assert row.actor_id == counsellor.id


def test_sign_in_with_institution_code_in_lower_case_works(client, counsellor):
    response = client.post(
        "/login", data={"institution": "xju", "login": "dc01", "password": PASSWORD}
    )
    assert response.status_code == 302


def test_logout_ends_the_session_even_for_a_copied_cookie(app, counsellor):
    client = app.test_client()
    assert sign_in(client, counsellor).status_code == 302
    cookie = client.get_cookie("session")
    assert client.get("/students").status_code == 200
    client.post("/logout")
    replay = app.test_client()
    replay.set_cookie("session", cookie.value, domain=cookie.domain)
    assert replay.get("/students").status_code == 302  # back to sign-in


def test_idle_session_expires(client, counsellor, app):
    sign_in(client, counsellor)
    assert client.get("/students").status_code == 200
    clock.advance(timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1))
    assert client.get("/students").status_code == 302


def test_a_page_that_asked_for_sign_in_opens_once_signed_in(client, counsellor):
    sent = client.get("/students?q=Li")
    assert sent.status_code == 302
    assert "/login" in sent.location
    client.get(sent.location)
    assert sign_in(client, counsellor).location == "/students?q=Li"


def test_after_an_idle_timeout_signing_in_again_goes_back_to_the_page(client, counsellor, app):
    sign_in(client, counsellor)
    clock.advance(timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1))
    sent = client.get("/students?q=Li")
    client.get(sent.location)
    assert sign_in(client, counsellor).location == "/students?q=Li"


def test_a_form_sent_after_an_idle_timeout_signs_in_back_to_the_page_it_was_on(
    client, counsellor, app
):
    """Before: "Open" on an inbox note after the session went idle led to the sign-in page with
    the form's own address to return to; once signed in, the browser opened that address and
    read "405 出现错误，请重试。". Now the counsellor lands back on her inbox."""
    notify(db.session, [counsellor.id], "You have a new task", "/tasks")
    db.session.commit()
    note = db.session.scalar(select(Notification).where(Notification.user_id == counsellor.id))
    sign_in(client, counsellor)
    clock.advance(timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1))
    sent = client.post(f"/inbox/{note.id}/read", headers={"Referer": "http://localhost/inbox/"})
    assert sent.status_code == 302
    client.get(sent.location)
    landed = sign_in(client, counsellor).location
    assert landed == "/inbox/"
    assert client.get(landed).status_code == 200


def test_a_form_sent_signed_out_from_another_site_signs_in_to_the_home_page(client, counsellor):
    sent = client.post("/inbox/1/read", headers={"Referer": "https://evil.example/inbox/"})
    client.get(sent.location)
    assert sign_in(client, counsellor).location == "/"


@pytest.mark.parametrize("elsewhere", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_a_return_address_off_this_site_signs_in_to_the_home_page(client, counsellor, elsewhere):
    client.get("/login", query_string={"next": elsewhere})
    assert sign_in(client, counsellor).location == "/"


def test_the_sign_in_page_opened_plainly_forgets_an_older_return_address(client, counsellor):
    client.get("/login?next=/students")
    client.get("/login")
    assert sign_in(client, counsellor).location == "/"


def test_a_wrong_password_keeps_the_return_address_for_the_next_try(client, counsellor):
    client.get("/login?next=/students")
    assert sign_in(client, counsellor, password="wrong-password").status_code == 401
    assert sign_in(client, counsellor).location == "/students"
    client.post("/logout")
    assert sign_in(client, counsellor).location == "/"  # used once


def test_sign_in_rotates_the_session(client, counsellor):
    client.get("/login")
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
    sign_in(client, counsellor)
    with client.session_transaction() as s:
        assert "planted" not in s


@pytest.mark.usefixtures("throttled")
def test_login_is_throttled_per_account(app, counsellor):
    client = app.test_client()
    codes = [
        client.post(
            "/login", data={"institution": "XJU", "login": "dc01", "password": f"guess-{i}"}
        ).status_code
        for i in range(7)
    ]
    assert codes[:5] == [401] * 5
    assert codes[5] == 429
    # The right password is refused too while the account is throttled, on a page that says
    # why and leads back to the sign-in form.
    refused = sign_in(client, counsellor)
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "<h1>尝试次数过多</h1>" in page  # signed out: the default language
    assert '<a href="/login">返回填写页面</a>' in page


@pytest.mark.usefixtures("throttled")
def test_signing_in_and_out_six_times_in_a_minute_is_not_throttled(app, counsellor):
    """A counsellor at a shared terminal signs in and out between colleagues' sessions. Before,
    every sign-in counted as a guess and the sixth in a minute was refused."""
    client = app.test_client()
    statuses = []
    for _ in range(6):
        statuses.append(sign_in(client, counsellor).status_code)
        client.post("/logout")
    assert statuses == [302] * 6


@pytest.mark.usefixtures("throttled")
def test_a_right_password_between_wrong_ones_neither_counts_nor_forgives_them(app, counsellor):
    client = app.test_client()
    statuses = [sign_in(client, counsellor, password="guess").status_code for _ in range(4)]
    statuses.append(sign_in(client, counsellor).status_code)
    client.post("/logout")
    statuses.append(sign_in(client, counsellor, password="guess").status_code)
    statuses.append(sign_in(client, counsellor).status_code)
    assert statuses == [401] * 4 + [302, 401, 429]


def test_form_without_csrf_token_is_rejected(app, counsellor):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        response = client.post(
            "/login", data={"institution": "XJU", "login": "dc01", "password": PASSWORD}
        )
        assert response.status_code == 400
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sign_in")) is None
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_first_sign_in_requires_a_password_change(client, counsellor):
    counsellor.must_change_password = True
    db.session.commit()
    sign_in(client, counsellor)
    assert client.get("/students").headers["Location"].endswith("/password")
    response = client.post(
        "/password",
        data={"current": PASSWORD, "new": "a-new-long-password", "confirm": "a-new-long-password"},
    )
    assert response.status_code == 302
    assert client.get("/students").status_code == 200


def test_security_headers_and_cookie_flags(client, counsellor):
    response = sign_in(client, counsellor)
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_language_switch_shows_english_then_chinese(client, counsellor):
    assert "登录" in client.get("/login").get_data(as_text=True)
    client.post("/language/en", data={"next": "/login"})
    assert "Sign in" in client.get("/login").get_data(as_text=True)


def test_a_hash_made_with_older_parameters_is_upgraded_at_sign_in(client, counsellor):
    from argon2 import PasswordHasher

    counsellor.password_hash = PasswordHasher(time_cost=3, memory_cost=65536).hash(PASSWORD)
    db.session.commit()
    assert sign_in(client, counsellor).status_code == 302
    db.session.refresh(counsellor)
    cost = client.application.config["PASSWORD_HASH_COST"]
    assert f"m={cost['memory_cost']},t={cost['time_cost']},p=1" in counsellor.password_hash


def test_a_deployment_hashes_passwords_at_owasps_argon2id_cost():
    """19 MiB, 2 passes, 1 lane: the suite hashes more cheaply (config.TestConfig), a deployment
    must not."""
    from config import DevelopmentConfig
    from config import ProductionConfig

    for config in (DevelopmentConfig, ProductionConfig):
        assert config.PASSWORD_HASH_COST == {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}


def test_behind_a_trusted_proxy_the_audit_trail_records_the_students_address(counsellor):
    from campus import create_app

    proxied = create_app("test", SQLALCHEMY_DATABASE_URI=db.engine.url, TRUSTED_PROXIES=1)
    with proxied.test_client() as client:
        client.post(
            "/login",
            data={"institution": "XJU", "login": "dc01", "password": PASSWORD},
            headers={"X-Forwarded-For": "10.1.2.3"},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
    with proxied.app_context():
        db.engine.dispose()  # its pool's connection, closed now rather than by the collector
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sign_in"))
    assert row.ip == "10.1.2.3"


def test_a_session_idle_for_exactly_the_idle_minutes_still_works(client, counsellor, app):
    sign_in(client, counsellor)
    clock.advance(timedelta(minutes=app.config["SESSION_IDLE_MINUTES"]))
    assert client.get("/students").status_code == 200


def test_a_session_idle_one_second_longer_has_ended_for_good(client, counsellor, app):
    sign_in(client, counsellor)
    clock.advance(timedelta(minutes=app.config["SESSION_IDLE_MINUTES"], seconds=1))
    assert client.get("/students").status_code == 302
    assert db.session.scalar(select(UserSession)).ended_at == clock.now()


def test_a_visit_within_the_idle_minutes_keeps_the_session_going(client, counsellor, app):
    sign_in(client, counsellor)
    for _visit in range(4):  # two hours in all, never idle for the whole timeout
        clock.advance(timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 1))
        assert client.get("/students").status_code == 200


def test_a_page_reads_the_session_and_its_user_with_every_role_in_one_statement(
    client, counsellor, campus
):
    campus.staff(counsellor.institution, Role.DIRECTOR, user=counsellor)
    campus.commit()
    sign_in(client, counsellor)
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get("/students").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    tables = ("user_session", "user_account", "role_assignment")
    assert len([s for s in seen if any(table in s for table in tables)]) == 1


def test_every_page_names_an_icon_that_is_served(client):
    """Before: no icon was named, and every page's request for /favicon.ico was a 404."""
    page = client.get("/login").get_data(as_text=True)
    href = page.split('<link rel="icon" href="', 1)[1].split('"', 1)[0]
    with client.get(href) as icon:
        assert icon.status_code == 200
        assert icon.mimetype == "image/svg+xml"


def test_a_page_that_needs_signing_in_says_so_in_the_readers_language(client):
    """Before: Flask-Login's own "Please log in to access this page." showed on Chinese pages."""
    client.post("/language/zh_CN", data={"next": "/"})
    page = client.get("/warnings/", follow_redirects=True).get_data(as_text=True)
    assert "请先登录再查看此页面。" in page
    assert "Please log in" not in page
