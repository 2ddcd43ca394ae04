"""The per-account sign-in limit, sessions that end with a password change, a reset or a new
sign-in on the same browser, and pages that no cache keeps."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from campus.models import Role
from tests.conftest import PASSWORD
from tests.conftest import sign_in

NEW_PASSWORD = "a-new-long-password"


@pytest.fixture
def counsellor(campus):
    inst = campus.institution("XJU")
    user = campus.staff(
        inst, Role.DEPT_COUNSELLOR, login="dc01", department=campus.department(inst)
    )
    campus.commit()
    return user


def _try(client: FlaskClient, institution: str, login: str, password: str) -> int:
    data = {"institution": institution, "login": login, "password": password}
    return client.post("/login", data=data).status_code


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/students").status_code == 200


def _sent_to_sign_in(client: FlaskClient) -> bool:
    response = client.get("/students")
    return response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.usefixtures("throttled")
def test_padded_or_recased_spellings_of_an_account_share_one_sign_in_limit(app, counsellor):
    client = app.test_client()
    spellings = [("XJU", " dc01"), ("xju", "dc01 "), (" XJU", "dc01"), ("XJU\t", "\tdc01 ")]
    spellings.append(("Xju", "dc01"))
    assert [_try(client, code, login, "guess") for code, login in spellings] == [401] * 5
    assert _try(client, " xju ", "  dc01  ", PASSWORD) == 429
    assert _try(client, "XJU", "dc01", PASSWORD) == 429
    assert _sent_to_sign_in(client)
    refused = client.post("/login", data={"institution": "XJU", "login": "dc01", "password": "x"})
    # The refusal says what to do, in the visitor's Chinese.
    assert "尝试次数过多，请稍等一分钟再试。" in refused.get_data(as_text=True)


def test_changing_the_password_signs_out_every_other_session(app, counsellor):
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here, counsellor)
    sign_in(elsewhere, counsellor)
    copied = here.get_cookie("session").value
    data = {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert here.post("/password", data=data).status_code == 302
    assert _signed_in(here)
    assert _sent_to_sign_in(elsewhere)
    replay = app.test_client()
    replay.set_cookie("session", copied)
    assert _sent_to_sign_in(replay)  # the current session was rotated, not kept


def test_a_one_time_password_from_the_administrator_ends_every_session_of_the_user(
    app, campus, counsellor
):
    admin = campus.staff(counsellor.institution, Role.ADMIN)
    campus.commit()
    laptop, phone, office = app.test_client(), app.test_client(), app.test_client()
    sign_in(laptop, counsellor)
    sign_in(phone, counsellor)
    sign_in(office, admin)
    assert office.post(f"/admin/users/{counsellor.id}/password").status_code == 200
    assert _sent_to_sign_in(laptop)
    assert _sent_to_sign_in(phone)


def test_signing_in_again_ends_the_browsers_earlier_session(app, campus, counsellor):
    other = campus.staff(counsellor.institution, Role.DIRECTOR)
    campus.commit()
    client = app.test_client()
    sign_in(client, counsellor)
    earlier = client.get_cookie("session").value
    assert sign_in(client, other).status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", earlier)
    assert _sent_to_sign_in(replay)


def test_signing_in_again_as_the_same_user_keeps_the_new_session(app, counsellor):
    client = app.test_client()
    sign_in(client, counsellor)
    earlier = client.get_cookie("session").value
    assert sign_in(client, counsellor).status_code == 302
    assert _signed_in(client)
    replay = app.test_client()
    replay.set_cookie("session", earlier)
    assert _sent_to_sign_in(replay)


def test_signed_in_pages_exports_and_one_time_passwords_are_never_cached(app, campus, counsellor):
    admin = campus.staff(counsellor.institution, Role.ADMIN)
    campus.commit()
    client = app.test_client()
    sign_in(client, counsellor)
    assert client.get("/students").headers["Cache-Control"] == "no-store"
    office = app.test_client()
    sign_in(office, admin)
    export = office.get("/referrals/closure/export.csv?first=2026-01-01&last=2026-12-31")
    assert export.status_code == 200
    assert export.headers["Cache-Control"] == "no-store"
    response = office.post(f"/admin/users/{counsellor.id}/password")
    assert response.headers["Cache-Control"] == "no-store"


def test_static_assets_stay_cacheable(client):
    response = client.get("/static/app.css")
    response.close()  # a static file is streamed from disk
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


@pytest.mark.usefixtures("throttled")
def test_guesses_at_the_current_password_are_limited_like_sign_in(app, counsellor):
    client = app.test_client()
    sign_in(client, counsellor)
    data = {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    codes = [
        client.post("/password", data={**data, "current": f"guess-{i}"}).status_code
        for i in range(5)
    ]
    assert codes == [200] * 5
    assert client.post("/password", data={**data, "current": PASSWORD}).status_code == 429
    assert sign_in(app.test_client(), counsellor).status_code == 302  # the old one still works
