"""Campus sign-on against a real CAS server (django-mama-cas, tests/idp): tickets validated with
python-cas, every failure a clear page with an audit row and no session, accounts never created."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import func
from sqlalchemy import select

from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from campus.models import SignOn
from campus.models import SignOnProtocol
from campus.models import User
from campus.models import UserSession
from tests.conftest import PASSWORD
from tests.conftest import sign_in

SERVICE = "http://localhost/login/campus/XJU/cas"
CAS_PASSWORD = "campus-pass-1"


@pytest.fixture
def university(campus):
    inst = campus.institution("XJU")
    group = campus.class_group(campus.department(inst))
    student = campus.student(group, name="Li Xiaoyu", number="2026001")
    counsellor = campus.staff(inst, Role.SCHOOL_COUNSELLOR, login="sc01")
    campus.commit()
    return inst, student, counsellor


def _configure(inst, url, version=3, attribute=None, local_passwords=True):
    db.session.add(
        SignOn(
            institution_id=inst.id,
            protocol=SignOnProtocol.CAS,
            server_url=url,
            cas_version=version,
            identity_attribute=attribute,
        )
    )
    inst.local_passwords = local_passwords
    db.session.commit()


def _ticket_url(cas, username, password=CAS_PASSWORD) -> str:
    """The address the CAS server sends the browser back to: our callback with a fresh ticket."""
    with requests.Session() as browser:
        sent_to = cas.login(browser, SERVICE, username, password)
    parts = urlsplit(sent_to)
    return f"{parts.path}?{parts.query}"


def _sign_on_rows(outcome):
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "sign_on", AuditEvent.outcome == outcome)
    ).all()


def _in_english(client):
    client.post("/language/en")


def test_student_signs_in_through_cas_3_by_the_student_number_it_releases(
    client, university, cas_server
):
    inst, student, _ = university
    _configure(inst, cas_server.url, version=3, attribute="student_number")
    cas_server.add_user("lixiaoyu", CAS_PASSWORD, student_number="2026001")

    response = client.get(_ticket_url(cas_server, "lixiaoyu"))

    assert response.status_code == 302
    assert urlsplit(response.location).path == "/"
    assert "Li Xiaoyu" in client.get("/").get_data(as_text=True)
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == student.user_id))
    assert row.signed_in_with == "cas"
    assert row.sign_on_ticket.startswith("ST-")
    signed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sign_in"))
    assert (signed.actor_id, signed.outcome) == (student.user_id, "ok")


def test_staff_member_signs_in_through_cas_2_by_the_cas_user_name(client, university, cas_server):
    inst, _, counsellor = university
    _configure(inst, cas_server.url, version=2)
    cas_server.add_user("sc01", CAS_PASSWORD)

    assert client.get(_ticket_url(cas_server, "sc01")).status_code == 302

    assert counsellor.name in client.get("/").get_data(as_text=True)


def test_the_page_that_asked_for_sign_in_opens_after_the_campus_sign_on(
    client, university, cas_server
):
    inst, _, _ = university
    _configure(inst, cas_server.url, version=2)
    cas_server.add_user("sc01", CAS_PASSWORD)
    client.get("/login?institution=XJU&next=/students")

    assert client.get(_ticket_url(cas_server, "sc01")).location == "/students"


def test_a_ticket_used_once_is_refused_the_second_time(app, university, cas_server):
    inst, student, _ = university
    _configure(inst, cas_server.url, attribute="student_number")
    cas_server.add_user("lixiaoyu", CAS_PASSWORD, student_number="2026001")
    url = _ticket_url(cas_server, "lixiaoyu")
    assert app.test_client().get(url).status_code == 302

    replayer = app.test_client()
    _in_english(replayer)
    response = replayer.get(url)

    assert response.status_code == 400
    assert "has been used already or has expired" in response.get_data(as_text=True)
    assert replayer.get("/").status_code == 302  # not signed in
    assert [r.detail for r in _sign_on_rows("denied")] == ["cas: replayed"]


def test_a_ticket_the_cas_server_never_issued_is_refused(client, university, cas_server):
    inst, _, _ = university
    _configure(inst, cas_server.url)

    response = client.get("/login/campus/XJU/cas?ticket=ST-1-forgedforgedforged")

    assert response.status_code == 400
    assert "链接已使用过或已过期" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0
    assert [r.detail for r in _sign_on_rows("denied")] == ["cas: invalid_ticket"]


def test_a_callback_without_a_ticket_is_refused(client, university, cas_server):
    _configure(university[0], cas_server.url)

    assert client.get("/login/campus/XJU/cas").status_code == 400
    assert client.get("/login/campus/XJU/cas?ticket=" + "x" * 300).status_code == 400


def test_a_person_the_campus_knows_but_xinqiao_does_not_is_refused_and_not_created(
    client, university, cas_server
):
    inst, _, _ = university
    _configure(inst, cas_server.url)
    cas_server.add_user("newcomer", CAS_PASSWORD)
    users_before = db.session.scalar(select(func.count()).select_from(User))

    response = client.get(_ticket_url(cas_server, "newcomer"))

    assert response.status_code == 403
    assert "账号不会在登录时自动创建" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == users_before
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0
    [row] = _sign_on_rows("denied")
    assert row.detail == "cas: unknown_user no active account newcomer"
    assert row.institution_id == inst.id


def test_an_account_of_another_institution_or_a_deactivated_one_is_not_signed_in(
    client, campus, university, cas_server
):
    inst, student, _ = university
    other = campus.institution("LSU")
    campus.staff(other, Role.ADMIN, login="lsu-admin")
    student.user.active = False
    campus.commit()
    _configure(inst, cas_server.url)
    cas_server.add_user("lsu-admin", CAS_PASSWORD)
    cas_server.add_user("2026001", CAS_PASSWORD)

    assert client.get(_ticket_url(cas_server, "lsu-admin")).status_code == 403
    assert client.get(_ticket_url(cas_server, "2026001")).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_a_cas_server_that_is_down_gives_a_clear_page(client, university, idp_down_url):
    _configure(university[0], idp_down_url + "cas/")

    response = client.get("/login/campus/XJU/cas?ticket=ST-1-abcdefabcdef")

    assert response.status_code == 502
    assert "统一身份认证服务没有响应" in response.get_data(as_text=True)
    [row] = _sign_on_rows("denied")
    assert row.detail == "cas: unreachable ConnectionError"
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_a_cas_server_that_hangs_is_given_up_on(app, client, university, idp_silent_url):
    app.config["SIGN_ON_TIMEOUT_SECONDS"] = 1
    try:
        _configure(university[0], idp_silent_url + "cas/")
        response = client.get("/login/campus/XJU/cas?ticket=ST-1-abcdefabcdef")
    finally:
        app.config["SIGN_ON_TIMEOUT_SECONDS"] = 5
    assert response.status_code == 502
    assert [r.detail for r in _sign_on_rows("denied")] == ["cas: unreachable ReadTimeout"]


def test_a_cas_server_whose_certificate_does_not_verify_is_not_trusted(
    client, university, cas_server_tls
):
    inst, _, _ = university
    _configure(inst, cas_server_tls.url, attribute="student_number")
    cas_server_tls.add_user("lixiaoyu", CAS_PASSWORD, student_number="2026001")
    with requests.Session() as browser:
        browser.verify = str(cas_server_tls.ca_file)
        sent_to = cas_server_tls.login(browser, SERVICE, "lixiaoyu", CAS_PASSWORD)
    parts = urlsplit(sent_to)

    response = client.get(f"{parts.path}?{parts.query}")

    assert response.status_code == 502
    assert "安全证书无法验证" in response.get_data(as_text=True)
    assert [r.detail for r in _sign_on_rows("denied")] == ["cas: certificate SSLError"]
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def _logout_request(ticket: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="LR-1" Version="2.0" '
        'IssueInstant="2026-09-14T02:00:00Z"><saml:NameID>@NOT_USED@</saml:NameID>'
        f"<samlp:SessionIndex>{ticket}</samlp:SessionIndex></samlp:LogoutRequest>"
    )


def test_the_cas_servers_single_logout_ends_the_session_of_its_ticket(
    app, client, university, cas_server
):
    inst, student, counsellor = university
    _configure(inst, cas_server.url, attribute="student_number")
    cas_server.add_user("lixiaoyu", CAS_PASSWORD, student_number="2026001")
    assert client.get(_ticket_url(cas_server, "lixiaoyu")).status_code == 302
    bystander = app.test_client()
    assert sign_in(bystander, counsellor).status_code == 302
    ticket = db.session.scalar(
        select(UserSession.sign_on_ticket).where(UserSession.user_id == student.user_id)
    )

    cas = app.test_client()  # the CAS server: no cookie, no CSRF token
    response = cas.post("/login/campus/XJU/cas", data={"logoutRequest": _logout_request(ticket)})

    assert response.status_code == 200
    assert client.get("/").status_code == 302  # signed out
    assert bystander.get("/").status_code == 200  # another session is untouched
    assert db.session.scalar(
        select(AuditEvent.record_id).where(AuditEvent.action == "single_logout")
    ) == str(student.user_id)


def test_a_single_logout_request_that_names_no_ticket_is_refused(client, university):
    response = client.post("/login/campus/XJU/cas", data={"logoutRequest": "<not-xml"})
    assert response.status_code == 400


def test_signing_out_after_a_cas_sign_in_ends_the_cas_session_too(client, university, cas_server):
    inst, _, _ = university
    _configure(inst, cas_server.url, attribute="student_number")
    cas_server.add_user("lixiaoyu", CAS_PASSWORD, student_number="2026001")
    client.get(_ticket_url(cas_server, "lixiaoyu"))

    response = client.post("/logout")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    expected = f"{cas_server.url}logout?service=http%3A%2F%2Flocalhost%2Flogin%3Finstitution%3DXJU"
    assert f'content="0; url={expected}"' in page
    assert client.get("/").status_code == 302


def test_signing_out_after_a_password_sign_in_stays_with_xinqiao(client, university, cas_server):
    inst, _, counsellor = university
    _configure(inst, cas_server.url)
    sign_in(client, counsellor)

    response = client.post("/logout")

    assert response.status_code == 302
    assert urlsplit(response.location).path == "/login"


# --- the sign-in page and local passwords ------------------------------------------------------


def test_sign_in_page_offers_the_campus_sign_on_once_the_institution_is_known(
    client, university, cas_server
):
    _configure(university[0], cas_server.url)

    page = client.get("/login?institution=xju").get_data(as_text=True)

    assert "通过统一身份认证登录" in page
    assert 'href="/login/campus/XJU"' in page
    assert 'name="password"' in page
    start = client.get("/login/campus/XJU")
    assert (
        start.location
        == f"{cas_server.url}login?service=http%3A%2F%2Flocalhost%2Flogin%2Fcampus%2FXJU%2Fcas"
    )


def test_sign_in_page_without_sign_on_is_the_password_form(client, university):
    page = client.get("/login").get_data(as_text=True)

    assert "通过统一身份认证登录" not in page
    assert 'name="password"' in page
    assert client.get("/login/campus/XJU").status_code == 404
    assert client.get("/login/campus/NOPE").status_code == 404


def test_with_local_passwords_off_the_password_form_goes_and_a_right_password_is_refused(
    client, university, cas_server
):
    inst, _, counsellor = university
    _configure(inst, cas_server.url, local_passwords=False)

    page = client.get("/login?institution=XJU").get_data(as_text=True)
    response = sign_in(client, counsellor, PASSWORD)

    assert 'name="password"' not in page
    assert "通过统一身份认证登录" in page
    assert response.status_code == 401
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sign_in"))
    assert (row.outcome, row.detail) == ("denied", "local passwords are off")


# --- the administrator's page ------------------------------------------------------------------

CAS_FORM = {
    "protocol": "cas",
    "enabled": "y",
    "server_url": "https://cas.xju.edu.cn/cas",
    "cas_version": "3",
    "identity_attribute": "",
    "local_passwords": "y",
}


@pytest.fixture
def admin(campus, university):
    user = campus.staff(university[0], Role.ADMIN, login="admin")
    user.locale = None  # the institution's default: Chinese
    campus.commit()
    return user


def test_administrator_sets_up_cas_and_it_is_audited(client, login, admin, university):
    login(admin)

    response = client.post("/admin/sign-on", data=CAS_FORM)

    assert response.status_code == 302
    config = db.session.scalar(select(SignOn))
    assert (config.protocol, config.server_url, config.cas_version) == (
        SignOnProtocol.CAS,
        "https://cas.xju.edu.cn/cas/",
        3,
    )
    assert config.institution_id == university[0].id
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "configure_sign_on"))
    assert (row.actor_id, row.institution_id) == (admin.id, university[0].id)
    page = client.get("/admin/sign-on").get_data(as_text=True)
    assert "统一身份认证已开启" in page
    assert "http://localhost/login/campus/XJU/cas" in page


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"server_url": "cas.xju.edu.cn"}, "以 https:// 开头"),
        ({"server_url": "javascript:alert(1)"}, "以 https:// 开头"),
        ({"protocol": "oidc"}, "需要填写客户端 ID"),
        (
            {"protocol": "oidc", "client_id": "xinqiao", "client_secret_env": "my secret"},
            "只能由字母、数字和下划线组成",
        ),
        ({"enabled": "", "local_passwords": ""}, "否则将无人能够登录"),
        ({"protocol": "saml"}, "请选择认证协议。"),  # a forged choice reads as none made
    ],
)
def test_settings_that_could_sign_nobody_in_are_refused_and_nothing_is_saved(
    client, login, admin, change, says
):
    login(admin)
    form = {k: v for k, v in {**CAS_FORM, **change}.items() if v}

    response = client.post("/admin/sign-on", data=form)

    assert response.status_code == 422
    assert says in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SignOn)) == 0


def test_the_secret_is_named_not_stored(client, login, admin):
    login(admin)
    form = {
        **CAS_FORM,
        "protocol": "oidc",
        "client_id": "xinqiao",
        "client_secret_env": "XJU_OIDC_SECRET",
    }

    assert client.post("/admin/sign-on", data=form).status_code == 302
    config = db.session.scalar(select(SignOn))
    assert (config.client_id, config.client_secret_env) == ("xinqiao", "XJU_OIDC_SECRET")
    assert config.server_url == "https://cas.xju.edu.cn/cas"  # an issuer is kept as entered


def test_only_an_administrator_configures_sign_on(client, login, university):
    login(university[2])
    assert client.get("/admin/sign-on").status_code == 403
    assert client.post("/admin/sign-on", data=CAS_FORM).status_code == 403


def test_an_administrator_configures_only_their_own_institution(client, login, campus, university):
    other = campus.institution("LSU")
    lsu_admin = campus.staff(other, Role.ADMIN, login="lsu-admin")
    campus.commit()
    login(lsu_admin)

    client.post("/admin/sign-on", data=CAS_FORM)

    assert db.session.scalar(select(SignOn.institution_id)) == other.id


def test_testing_the_connection_says_whether_the_cas_server_answered(
    client, login, admin, university, cas_server, idp_down_url
):
    login(admin)
    _configure(university[0], cas_server.url)

    answered = client.post("/admin/sign-on/test", follow_redirects=True)

    assert "CAS 服务器响应正常" in answered.get_data(as_text=True)
    db.session.scalar(select(SignOn)).server_url = idp_down_url + "cas/"
    db.session.commit()
    silent = client.post("/admin/sign-on/test", follow_redirects=True)
    assert "统一身份认证服务没有响应" in silent.get_data(as_text=True)
    outcomes = db.session.scalars(
        select(AuditEvent.outcome)
        .where(AuditEvent.action == "test_sign_on")
        .order_by(AuditEvent.id)
    ).all()
    assert outcomes == ["ok", "failed"]


def test_testing_the_connection_before_saving_says_save_first(client, login, admin):
    login(admin)
    response = client.post("/admin/sign-on/test", follow_redirects=True)
    assert "请先保存设置" in response.get_data(as_text=True)


# --- OpenID Connect failures that need no provider ---------------------------------------------


def _configure_oidc(inst, issuer):
    db.session.add(
        SignOn(
            institution_id=inst.id,
            protocol=SignOnProtocol.OIDC,
            server_url=issuer,
            client_id="xinqiao",
            client_secret_env="XJU_OIDC_SECRET",
        )
    )
    db.session.commit()


def test_an_openid_provider_that_is_down_gives_a_clear_page(client, university, idp_down_url):
    _configure_oidc(university[0], idp_down_url.rstrip("/"))

    response = client.get("/login/campus/XJU")

    assert response.status_code == 502
    assert "统一身份认证服务没有响应" in response.get_data(as_text=True)
    assert [r.detail for r in _sign_on_rows("denied")] == ["oidc: unreachable ConnectionError"]


def test_a_callback_with_a_state_this_browser_never_sent_is_refused(
    client, university, idp_down_url
):
    _configure_oidc(university[0], idp_down_url.rstrip("/"))

    response = client.get("/login/campus/XJU/oidc?code=abc&state=forged")

    assert response.status_code == 400
    assert "本次登录不是从本页面发起的" in response.get_data(as_text=True)
    assert [r.detail for r in _sign_on_rows("denied")] == ["oidc: state MismatchingStateError"]
    assert client.get("/").status_code == 302


def test_a_provider_that_refuses_says_so(client, university, idp_down_url):
    _configure_oidc(university[0], idp_down_url.rstrip("/"))

    response = client.get("/login/campus/XJU/oidc?error=access_denied&state=x")

    assert response.status_code == 400
    assert "统一身份认证未完成登录" in response.get_data(as_text=True)
    assert [r.detail for r in _sign_on_rows("denied")] == ["oidc: refused access_denied"]


@pytest.mark.usefixtures("throttled")
def test_sign_on_callbacks_are_throttled_per_address_like_the_password_form(
    app, client, university, cas_server
):
    _configure(university[0], cas_server.url)
    answers = [
        client.get(f"/login/campus/XJU/cas?ticket=ST-{n}-forged").status_code for n in range(31)
    ]
    assert answers[:30] == [400] * 30
    assert answers[30] == 429
