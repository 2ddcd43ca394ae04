"""Campus sign-on against a real OpenID provider (Authlib's server, tests/idp): the code flow
with PKCE, state and nonce through Authlib's Flask client; every failure a clear page with an
audit row and no session; the provider's session ended at sign-out."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests
from flask import session as flask_session
from sqlalchemy import func
from sqlalchemy import select

from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from campus.models import SignOn
from campus.models import SignOnProtocol
from campus.models import User
from campus.models import UserSession

REDIRECT = "http://localhost/login/campus/XJU/oidc"
AFTER_LOGOUT = "http://localhost/login?institution=XJU"
PROVIDER_PASSWORD = "provider-pass-1"


@pytest.fixture
def university(campus):
    inst = campus.institution("XJU")
    group = campus.class_group(campus.department(inst))
    student = campus.student(group, name="Li Xiaoyu", number="2026001")
    counsellor = campus.staff(inst, Role.SCHOOL_COUNSELLOR, login="sc01")
    campus.commit()
    return inst, student, counsellor


@pytest.fixture
def configured(university, oidc_provider, monkeypatch):
    """XJU signs in through the provider, as a client registered for our addresses."""
    client_id, secret = oidc_provider.register_client([REDIRECT], [AFTER_LOGOUT])
    monkeypatch.setenv("XJU_OIDC_SECRET", secret)
    config = SignOn(
        institution_id=university[0].id,
        protocol=SignOnProtocol.OIDC,
        server_url=oidc_provider.issuer,
        client_id=client_id,
        client_secret_env="XJU_OIDC_SECRET",
    )
    db.session.add(config)
    db.session.commit()
    return config


def _callback(client, provider, username) -> str:
    """Start at our sign-in link, sign in at the provider; the path it sends the browser back to."""
    start = client.get("/login/campus/XJU")
    assert start.status_code == 302
    with requests.Session() as browser:
        back = provider.login(browser, start.location, username, PROVIDER_PASSWORD)
    parts = urlsplit(back)
    return f"{parts.path}?{parts.query}"


def _denied():
    return db.session.scalars(
        select(AuditEvent.detail).where(
            AuditEvent.action == "sign_on", AuditEvent.outcome == "denied"
        )
    ).all()


def test_student_signs_in_through_openid_by_the_student_number_claim(
    client, university, configured, oidc_provider
):
    configured.identity_attribute = "student_number"
    db.session.commit()
    oidc_provider.add_user("u-li", PROVIDER_PASSWORD, student_number="2026001")

    start = client.get("/login/campus/XJU")
    asked = parse_qs(urlsplit(start.location).query)
    assert asked["code_challenge_method"] == ["S256"]
    assert asked["nonce"]
    assert asked["state"]
    with requests.Session() as browser:
        back = urlsplit(oidc_provider.login(browser, start.location, "u-li", PROVIDER_PASSWORD))
    with client:
        response = client.get(f"{back.path}?{back.query}")
        assert flask_session["signed_in_with"] == "oidc"
        assert flask_session["id_token"].count(".") == 2

    assert response.status_code == 302
    assert "Li Xiaoyu" in client.get("/").get_data(as_text=True)
    row = db.session.scalar(select(UserSession))
    assert (row.user_id, row.signed_in_with) == (university[1].user_id, "oidc")


def test_staff_member_signs_in_by_preferred_username(client, university, configured, oidc_provider):
    oidc_provider.add_user("u-sc01", PROVIDER_PASSWORD, preferred_username="sc01")

    assert client.get(_callback(client, oidc_provider, "u-sc01")).status_code == 302
    assert university[2].name in client.get("/").get_data(as_text=True)


def test_a_person_without_a_xinqiao_account_is_refused_and_not_created(
    client, university, configured, oidc_provider
):
    oidc_provider.add_user("u-new", PROVIDER_PASSWORD, preferred_username="newcomer")
    users = db.session.scalar(select(func.count()).select_from(User))

    response = client.get(_callback(client, oidc_provider, "u-new"))

    assert response.status_code == 403
    assert "账号不会在登录时自动创建" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == users
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0
    assert _denied() == ["oidc: unknown_user no active account newcomer"]


def test_a_code_used_once_is_refused_when_sent_again_with_a_fresh_state(
    app, university, configured, oidc_provider
):
    oidc_provider.add_user("u-sc01", PROVIDER_PASSWORD, preferred_username="sc01")
    first = app.test_client()
    used = _callback(first, oidc_provider, "u-sc01")
    assert first.get(used).status_code == 302

    replayer = app.test_client()
    state = parse_qs(urlsplit(replayer.get("/login/campus/XJU").location).query)["state"][0]
    code = parse_qs(urlsplit(used).query)["code"][0]
    response = replayer.get(f"/login/campus/XJU/oidc?code={code}&state={state}")

    assert response.status_code == 400
    assert "统一身份认证返回的结果无法验证" in response.get_data(as_text=True)
    assert replayer.get("/").status_code == 302
    assert _denied() == ["oidc: invalid_token OAuthError"]


def test_the_same_callback_twice_is_refused_for_its_state(
    client, university, configured, oidc_provider
):
    oidc_provider.add_user("u-sc01", PROVIDER_PASSWORD, preferred_username="sc01")
    back = _callback(client, oidc_provider, "u-sc01")
    assert client.get(back).status_code == 302
    client.post("/logout")

    response = client.get(back)

    assert response.status_code == 400
    assert "本次登录不是从本页面发起的" in response.get_data(as_text=True)
    assert _denied() == ["oidc: state MismatchingStateError"]


def test_a_wrong_client_secret_gives_a_clear_page_and_no_session(
    client, university, configured, oidc_provider, monkeypatch
):
    oidc_provider.add_user("u-sc01", PROVIDER_PASSWORD, preferred_username="sc01")
    back = _callback(client, oidc_provider, "u-sc01")
    monkeypatch.setenv("XJU_OIDC_SECRET", "not-the-secret")

    response = client.get(back)

    assert response.status_code == 400
    assert client.get("/").status_code == 302
    assert _denied() == ["oidc: invalid_token OAuthError"]


def test_signing_out_ends_the_providers_session_too(client, university, configured, oidc_provider):
    oidc_provider.add_user("u-sc01", PROVIDER_PASSWORD, preferred_username="sc01")
    with requests.Session() as browser:
        start = client.get("/login/campus/XJU")
        back = urlsplit(oidc_provider.login(browser, start.location, "u-sc01", PROVIDER_PASSWORD))
        client.get(f"{back.path}?{back.query}")

        page = client.post("/logout").get_data(as_text=True)
        leave = html.unescape(re.search(r'content="0; url=([^"]+)"', page).group(1))
        assert leave.startswith(oidc_provider.end_session_endpoint + "?")
        assert "id_token_hint" in parse_qs(urlsplit(leave).query)
        ended = oidc_provider.logout(browser, leave)
        assert ended.status_code == 302
        assert ended.headers["Location"].startswith(AFTER_LOGOUT)
        # Signed out at the provider: the next sign-in asks for the password again.
        again = client.get("/login/campus/XJU")
        form = browser.get(again.location, allow_redirects=False)
    assert form.status_code == 200
    assert client.get("/").status_code == 302


def test_testing_the_connection_reads_the_providers_discovery_document(
    client, login, campus, university, configured, oidc_provider
):
    admin = campus.staff(university[0], Role.ADMIN, login="admin")
    admin.locale = None
    campus.commit()
    login(admin)

    answered = client.post("/admin/sign-on/test", follow_redirects=True)
    assert "OpenID 认证服务响应正常" in answered.get_data(as_text=True)

    configured.server_url = oidc_provider.issuer + "/"
    db.session.commit()
    mismatched = client.post("/admin/sign-on/test", follow_redirects=True)
    assert "请按此地址原样填写" in mismatched.get_data(as_text=True)
