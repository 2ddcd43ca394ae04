"""Two-factor sign-in: who is asked, the pending step that opens nothing, codes that work once,
recovery codes, first set-up, the administrator's settings and reset, and the shared throttle."""

from __future__ import annotations

import re
from datetime import timedelta

import lxml.html
import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text

from campus import clock
from campus import mfa
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from campus.models import TotpEnrolment
from campus.models import UserSession
from tests.conftest import PASSWORD
from tests.security.routes import ACCESS
from tests.security.routes import PUBLIC
from tests.security.routes import method_for
from tests.security.routes import url_for_rule


@pytest.fixture
def school(campus):
    """An institution on the configured default: school counsellors, the director and
    administrators must use an app; a department counsellor need not."""
    inst = campus.institution("XJU", mfa=True)
    dept = campus.department(inst)
    people = {
        "counsellor": campus.staff(inst, Role.SCHOOL_COUNSELLOR, login="sc01"),
        "dept_counsellor": campus.staff(inst, Role.DEPT_COUNSELLOR, login="dc01", department=dept),
        "admin": campus.staff(inst, Role.ADMIN, login="admin"),
    }
    campus.commit()
    return people


def _password(client, user, password=PASSWORD):
    """The first step; the pages before the session starts in English, as the user reads."""
    with client.session_transaction() as browser:
        browser["lang"] = "en"
    return client.post(
        "/login", data={"institution": "XJU", "login": user.login, "password": password}
    )


def _enrolled(user, secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"):  # noqa: S107 - a test key
    """`user` with an app set up five minutes ago; returns its secret and recovery codes."""
    earlier = clock.now() - timedelta(minutes=5)
    codes = mfa.enrol(db.session, user, secret, mfa.code_at(secret, earlier), earlier)
    return secret, codes


def _signed_in(client, user):
    """`client` signed in as `user` through both steps (their app set up for it)."""
    secret, _ = _enrolled(user)
    _password(client, user)
    assert (
        client.post("/login/code", data={"code": mfa.code_at(secret, clock.now())}).status_code
        == 302
    )
    return client


def _sessions(user) -> int:
    return db.session.scalar(
        select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id)
    )


def _audit(action):
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_password_alone_starts_no_session_for_a_school_counsellor(client, school):
    counsellor = school["counsellor"]
    _enrolled(counsellor)
    response = _password(client, counsellor)
    assert response.status_code == 302
    assert response.location.endswith("/login/code")
    assert _sessions(counsellor) == 0
    assert client.get("/students").status_code == 302
    assert [(r.outcome, r.actor_id) for r in _audit("sign_in")] == [("pending", counsellor.id)]


class _AnyId(dict):
    def __contains__(self, key):
        return True

    def __getitem__(self, key):
        return 1


def test_no_page_opens_while_the_second_step_waits(app, client, school):
    _enrolled(school["admin"])
    _password(client, school["admin"])
    opened = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or ACCESS.get(rule.endpoint) == PUBLIC:
            continue
        url = url_for_rule(rule, _AnyId())
        response = client.open(url, method=method_for(rule), data={})
        if not (response.status_code == 302 and "/login" in response.location):
            opened.append((url, response.status_code))
    assert opened == []
    assert _sessions(school["admin"]) == 0


def test_the_right_code_starts_the_session(client, school):
    counsellor = school["counsellor"]
    secret, _ = _enrolled(counsellor)
    _password(client, counsellor)
    response = client.post("/login/code", data={"code": mfa.code_at(secret, clock.now())})
    assert response.status_code == 302
    assert response.location.endswith("/")
    assert client.get("/students").status_code == 200
    assert _sessions(counsellor) == 1
    last = _audit("sign_in")[-1]
    assert (last.outcome, last.detail) == ("ok", "second factor: app code")


def test_the_page_that_asked_for_sign_in_opens_after_the_code(client, school):
    counsellor = school["counsellor"]
    secret, _ = _enrolled(counsellor)
    client.get("/login?next=/students")
    _password(client, counsellor)
    response = client.post("/login/code", data={"code": mfa.code_at(secret, clock.now())})
    assert response.location == "/students"


def test_a_code_from_the_step_before_or_after_is_accepted(client, school):
    counsellor = school["counsellor"]
    secret, _ = _enrolled(counsellor)
    _password(client, counsellor)
    late = mfa.code_at(secret, clock.now() + timedelta(seconds=30))
    assert client.post("/login/code", data={"code": late}).status_code == 302


def test_a_wrong_code_is_refused_with_an_audit_row_and_no_session(client, school):
    counsellor = school["counsellor"]
    secret, _ = _enrolled(counsellor)
    _password(client, counsellor)
    too_far = mfa.code_at(secret, clock.now() + timedelta(seconds=90))
    response = client.post("/login/code", data={"code": too_far})
    assert response.status_code == 401
    assert "That code is not right" in _text(response)
    assert _sessions(counsellor) == 0
    refused = _audit("sign_in_code")[-1]
    assert (refused.outcome, refused.detail, refused.actor_id) == ("denied", "wrong", counsellor.id)
    assert client.get("/students").status_code == 302


def test_an_expired_code_is_named_as_expired(client, school):
    counsellor = school["counsellor"]
    secret, _ = _enrolled(counsellor)
    _password(client, counsellor)
    old = mfa.code_at(secret, clock.now() - timedelta(minutes=3))
    response = client.post("/login/code", data={"code": old})
    assert response.status_code == 401
    assert "That code has expired" in _text(response)
    assert _audit("sign_in_code")[-1].detail == "expired"
    assert _sessions(counsellor) == 0


def test_a_code_cannot_be_used_twice(app, school):
    counsellor = school["counsellor"]
    secret, _ = _enrolled(counsellor)
    code = mfa.code_at(secret, clock.now())
    first, second = app.test_client(), app.test_client()
    _password(first, counsellor)
    _password(second, counsellor)  # someone who watched the code being typed
    assert first.post("/login/code", data={"code": code}).status_code == 302
    response = second.post("/login/code", data={"code": code})
    assert response.status_code == 401
    assert "already been used" in _text(response)
    assert _audit("sign_in_code")[-1].detail == "replayed"
    assert _sessions(counsellor) == 1
    assert second.get("/students").status_code == 302


def test_the_step_between_password_and_code_expires(client, school, app):
    counsellor = school["counsellor"]
    secret, _ = _enrolled(counsellor)
    _password(client, counsellor)
    clock.advance(timedelta(minutes=app.config["MFA_PENDING_MINUTES"], seconds=1))
    response = client.post("/login/code", data={"code": mfa.code_at(secret, clock.now())})
    assert response.status_code == 401
    assert "Sign-in expired" in _text(response)
    assert _audit("sign_in_code")[-1].outcome == "denied"
    assert _sessions(counsellor) == 0
    # The waiting sign-in is gone: the code page sends back to the password.
    assert client.get("/login/code").location.endswith("/login")


def test_a_recovery_code_works_once(client, school):
    counsellor = school["counsellor"]
    _, codes = _enrolled(counsellor)
    _password(client, counsellor)
    response = client.post("/login/code", data={"code": codes[0].upper()}, follow_redirects=True)
    assert response.status_code == 200
    assert "9 are left" in _text(response)
    assert _audit("sign_in")[-1].detail == "second factor: recovery code, 9 left"
    client.post("/logout")
    _password(client, counsellor)
    response = client.post("/login/code", data={"code": codes[0]})
    assert response.status_code == 401
    assert "already been used" in _text(response)
    assert _sessions(counsellor) == 1


def test_the_set_up_page_at_sign_in_has_a_sign_out_that_forgets_the_waiting_sign_in(client, school):
    """A walk found no way out of the set-up page at a first sign-in (the header's "Sign out"
    shows only once signed in): someone at a shared computer could not leave it."""
    counsellor = school["counsellor"]
    _password(client, counsellor)
    page = lxml.html.fromstring(_text(client.get("/login/enrol")))
    (sign_out,) = page.xpath("//header//form[button[normalize-space()='Sign out']]")
    assert sign_out.get("action") == "/login/cancel"
    assert sign_out.get("method") == "post"
    left = client.post("/login/cancel")
    assert left.location.endswith("/login")
    assert "You have signed out." in _text(client.get("/login"))
    # Nothing of the sign-in is left: the set-up page sends back to sign-in, no session began.
    assert client.get("/login/enrol").location.endswith("/login")
    assert client.post("/login/enrol", data={"code": "000000"}).location.endswith("/login")
    assert _sessions(counsellor) == 0
    assert db.session.scalar(select(func.count()).select_from(TotpEnrolment)) == 0


def test_the_code_page_at_sign_in_has_the_same_sign_out(client, school):
    _enrolled(school["counsellor"])
    _password(client, school["counsellor"])
    page = lxml.html.fromstring(_text(client.get("/login/code")))
    assert page.xpath("//header//form/@action") == ["/language/zh_CN", "/login/cancel"]
    client.post("/login/cancel")
    assert client.get("/login/code").location.endswith("/login")


def test_first_sign_in_sets_the_app_up_and_shows_recovery_codes_once(client, school):
    counsellor = school["counsellor"]
    response = _password(client, counsellor)
    assert response.location.endswith("/login/enrol")
    page = _text(client.get("/login/enrol"))
    assert 'src="data:image/svg+xml' in page
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    assert len(secret) == 32
    assert secret.replace(" ", "") in _text(client.get("/login/enrol")).replace(" ", "")

    wrong = client.post("/login/enrol", data={"code": "000000"})
    assert wrong.status_code == 401
    assert "That code is not right" in _text(wrong)
    assert db.session.scalar(select(func.count()).select_from(TotpEnrolment)) == 0

    confirmed = client.post("/login/enrol", data={"code": mfa.code_at(secret, clock.now())})
    assert confirmed.location.endswith("/account/two-factor/recovery-codes")
    stored = db.session.scalar(select(TotpEnrolment))
    (raw,) = db.session.execute(text("SELECT secret FROM totp_enrolment")).scalars()
    assert secret not in raw
    assert stored.secret == secret
    # The codes come first: every other page leads back to them until they are saved.
    assert client.get("/students").location.endswith("/account/two-factor/recovery-codes")
    codes_page = _text(client.get("/account/two-factor/recovery-codes"))
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", codes_page)
    assert len(codes) == 10
    not_ticked = client.post("/account/two-factor/recovery-codes", data={})
    assert not_ticked.status_code == 422
    assert "Tick the box" in _text(not_ticked)
    assert client.post("/account/two-factor/recovery-codes", data={"saved": "y"}).status_code == 302
    assert client.get("/students").status_code == 200
    assert "<code>" not in _text(
        client.get("/account/two-factor/recovery-codes", follow_redirects=True)
    )

    client.post("/logout")
    _password(client, counsellor)
    assert client.post("/login/code", data={"code": codes[3]}).status_code == 302


def test_a_role_not_required_signs_in_with_the_password(client, school):
    response = _password(client, school["dept_counsellor"])
    assert response.location.endswith("/")
    assert _sessions(school["dept_counsellor"]) == 1


def test_anyone_may_turn_it_on_from_their_account(client, login, school):
    dept_counsellor = school["dept_counsellor"]
    login(dept_counsellor)
    page = _text(client.get("/account/two-factor"))
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    response = client.post("/account/two-factor", data={"code": mfa.code_at(secret, clock.now())})
    assert response.location.endswith("/account/two-factor/recovery-codes")
    client.post("/account/two-factor/recovery-codes", data={"saved": "y"})
    assert [r.actor_id for r in _audit("mfa_enrol")] == [dept_counsellor.id]
    client.post("/logout")
    assert _password(client, dept_counsellor).location.endswith("/login/code")


def test_the_administrator_chooses_the_roles_per_institution(client, school):
    _signed_in(client, school["admin"])
    forged = client.post("/admin/two-factor", data={"roles": ["superuser"], "submit": "1"})
    assert forged.status_code == 422
    assert _audit("mfa_policy") == []
    response = client.post("/admin/two-factor", data={"roles": ["dept_counsellor"], "submit": "1"})
    assert response.status_code == 302
    row = _audit("mfa_policy")[-1]
    assert (row.actor_id, row.detail) == (school["admin"].id, "dept_counsellor")
    client.post("/logout")
    assert _password(client, school["dept_counsellor"]).location.endswith("/login/enrol")
    client.get("/login")
    assert _password(client, school["counsellor"]).location.endswith("/")


def test_the_settings_page_warns_when_no_role_must_use_an_app(client, school):
    _signed_in(client, school["admin"])
    client.post("/admin/two-factor", data={"submit": "1"})
    page = _text(client.get("/admin/two-factor"))
    assert "Two-factor sign-in is off for every role" in page


def test_an_administrator_reset_is_audited_and_ends_the_sessions(app, client, school):
    counsellor = school["counsellor"]
    secret, _ = _enrolled(counsellor)
    theirs = app.test_client()
    _password(theirs, counsellor)
    theirs.post("/login/code", data={"code": mfa.code_at(secret, clock.now())})
    assert theirs.get("/students").status_code == 200

    _signed_in(client, school["admin"])
    confirm = client.get(f"/admin/two-factor/users/{counsellor.id}/reset")
    assert confirm.status_code == 200
    assert _audit("mfa_reset") == []
    assert client.post(f"/admin/two-factor/users/{counsellor.id}/reset").status_code == 302
    row = _audit("mfa_reset")[-1]
    assert (row.actor_id, row.record_id) == (school["admin"].id, str(counsellor.id))
    assert theirs.get("/students").status_code == 302
    assert mfa.enrolment_of(db.session, counsellor) is None
    assert _password(theirs, counsellor).location.endswith("/login/enrol")
    # Sent twice (a double click): the second finds nothing to reset and says so.
    again = client.post(f"/admin/two-factor/users/{counsellor.id}/reset", follow_redirects=True)
    assert again.status_code == 200
    assert "nothing to reset" in _text(again)
    assert len(_audit("mfa_reset")) == 1


def test_an_administrator_cannot_reset_another_institutions_user(client, campus, school):
    other = campus.institution("LSU", mfa=True)
    stranger = campus.staff(other, Role.SCHOOL_COUNSELLOR, login="sc01")
    campus.commit()
    _enrolled(stranger)
    _signed_in(client, school["admin"])
    assert client.post(f"/admin/two-factor/users/{stranger.id}/reset").status_code == 404
    assert mfa.enrolment_of(db.session, stranger) is not None


def test_new_recovery_codes_need_a_current_code_and_void_the_old(client, school):
    counsellor = school["counsellor"]
    secret, old_codes = _enrolled(counsellor)
    _password(client, counsellor)
    client.post("/login/code", data={"code": old_codes[0]})
    refused = client.post(
        "/account/two-factor/recovery-codes/new", data={"code": "123456"}, follow_redirects=True
    )
    assert "That code is not right" in _text(refused)
    assert _audit("mfa_recovery_codes")[-1].outcome == "denied"
    made = client.post(
        "/account/two-factor/recovery-codes/new", data={"code": mfa.code_at(secret, clock.now())}
    )
    assert made.location.endswith("/account/two-factor/recovery-codes")
    new_codes = re.findall(
        r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>",
        _text(client.get("/account/two-factor/recovery-codes")),
    )
    assert len(new_codes) == 10
    assert not set(new_codes) & set(old_codes)
    client.post("/account/two-factor/recovery-codes", data={"saved": "y"})
    client.post("/logout")
    _password(client, counsellor)
    assert client.post("/login/code", data={"code": old_codes[1]}).status_code == 401
    assert client.post("/login/code", data={"code": new_codes[0]}).status_code == 302


@pytest.mark.usefixtures("throttled")
def test_code_guesses_count_against_the_password_throttle(app, school):
    counsellor = school["counsellor"]
    _enrolled(counsellor)
    client = app.test_client()
    _password(client, counsellor)
    statuses = [client.post("/login/code", data={"code": "000000"}).status_code for _ in range(4)]
    statuses.append(_password(client, counsellor, password="guess").status_code)
    statuses.append(_password(client, counsellor).status_code)
    assert statuses == [401] * 5 + [429]


@pytest.mark.usefixtures("throttled")
def test_six_sign_ins_through_both_steps_in_a_minute_are_not_throttled(app, school):
    """Only wrong passwords and codes use up the account's tries, not a finished sign-in."""
    counsellor = school["counsellor"]
    secret, _ = _enrolled(counsellor)
    client = app.test_client()
    statuses = []
    for _ in range(6):
        clock.advance(timedelta(seconds=30))  # a fresh code; the throttle keeps real time
        statuses.append(_password(client, counsellor).status_code)
        code = mfa.code_at(secret, clock.now())
        statuses.append(client.post("/login/code", data={"code": code}).status_code)
        client.post("/logout")
    assert statuses == [302] * 12


@pytest.mark.parametrize(("enrolled", "page"), [(True, "/login/code"), (False, "/login/enrol")])
@pytest.mark.usefixtures("throttled")
def test_a_second_step_page_takes_thirty_codes_a_minute_from_one_address(
    app, school, monkeypatch, enrolled, page
):
    """However generous the per-account throttle, one address sends at most `PER_ADDRESS` codes a
    minute; the page itself still opens."""
    counsellor = school["counsellor"]
    if enrolled:
        _enrolled(counsellor)
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "1000 per minute")
    client = app.test_client()
    _password(client, counsellor)
    statuses = [client.post(page, data={"code": "000000"}).status_code for _ in range(31)]
    shown = client.get(page).status_code
    assert statuses == [401] * 30 + [429]
    assert shown == 200


def test_an_identity_provider_that_enforces_mfa_replaces_the_second_step(school):
    counsellor = school["counsellor"]
    _enrolled(counsellor)
    assert mfa.required_for(db.session, counsellor, idp_enforces_mfa=False)
    assert not mfa.required_for(db.session, counsellor, idp_enforces_mfa=True)
    assert mfa.second_step(db.session, counsellor, idp_enforces_mfa=True) is None
    assert mfa.second_step(db.session, counsellor, idp_enforces_mfa=False) is mfa.SecondStep.VERIFY


def test_a_code_typed_in_full_width_digits_by_a_chinese_input_method_works(client, school):
    counsellor = school["counsellor"]
    secret, _ = _enrolled(counsellor)
    _password(client, counsellor)
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in mfa.code_at(secret, clock.now()))
    code = f"{full_width[:3]}\u3000{full_width[3:]}"  # with the ideographic space such IMEs type
    assert client.post("/login/code", data={"code": code}).status_code == 302


def test_a_malformed_code_gets_a_clear_error_and_no_session(client, school):
    counsellor = school["counsellor"]
    _enrolled(counsellor)
    _password(client, counsellor)
    for typed in ("", "x" * 41, "١٢٣٤٥٦", "<script>", "12345678901"):
        response = client.post("/login/code", data={"code": typed})
        assert response.status_code in (200, 401), typed
        assert 'class="error"' in _text(response), typed
    assert _sessions(counsellor) == 0
