"""The institution settings page: the administrator gives the centre's on-duty phone (and the
institution's names), the director the phone; a number that cannot be dialled is refused in
words and nothing is written. Until a number is set, the administrator's home asks for it first,
and the director's too."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus.audit import AuditEvent
from campus.centre_phone import PhoneError
from campus.centre_phone import normal_phone
from campus.extensions import db
from campus.models import Institution
from campus.models import Role

SETTINGS = "/admin/settings/"
GAP = "on-duty phone is not set"


def _english(client):
    client.post("/language/en", data={"next": "/"})
    return client


def _settings_rows() -> int:
    return db.session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.action == "institution.settings")
    )


@pytest.fixture
def school(campus):
    inst = campus.institution("XJU", "湘江大学")
    admin = campus.staff(inst, Role.ADMIN)
    director = campus.staff(inst, Role.DIRECTOR)
    counsellor = campus.staff(inst, Role.DEPT_COUNSELLOR, department=campus.department(inst))
    campus.commit()
    return inst, admin, director, counsellor


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0731-88880000", "0731-88880000"),
        (" 0731 8888 0000 ", "0731-8888-0000"),
        ("０７３１－８８８８００００", "0731-88880000"),  # as a Chinese input method types it
        ("(0731) 8888-0000", "(0731)-8888-0000"),
        ("13800000000", "13800000000"),
        ("+86 731 8888 0000", "+86-731-8888-0000"),
        ("12356", "12356"),
        ("", None),
        ("   ", None),
    ],
)
def test_a_number_is_stored_as_it_is_dialled(typed, stored):
    assert normal_phone(typed) == stored


@pytest.mark.parametrize(
    "typed", ["值班室", "0731-8888 转 801", "1234", "0731-8888-0000-1234-5678", "call 110", "--"]
)
def test_a_number_that_cannot_be_dialled_as_written_is_refused(typed):
    with pytest.raises(PhoneError):
        normal_phone(typed)


def test_the_administrator_sets_the_on_duty_phone_and_the_change_is_audited(client, login, school):
    inst, admin, _, _ = school
    page = _english(login(admin)).get(SETTINGS).get_data(as_text=True)
    assert "Not set: students are given only the 24-hour hotline and 120/110." in page
    saved = client.post(
        SETTINGS, data={"name": "湘江大学", "name_en": "", "on_duty_phone": "0731 8888 6666"}
    )
    assert saved.status_code == 302
    db.session.refresh(inst)
    assert inst.on_duty_phone == "0731-8888-6666"
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "institution.settings"))
    assert (row.actor_id, row.record_type, row.record_id) == (admin.id, "institution", str(inst.id))
    assert row.detail == "on_duty_phone: - -> 0731-8888-6666"
    page = client.get(SETTINGS).get_data(as_text=True)
    assert "now give the centre&#39;s on-duty phone, 0731-8888-6666" in page
    assert 'href="tel:0731-8888-6666"' in page


def test_a_number_that_cannot_be_dialled_is_refused_under_the_field_and_nothing_is_written(
    client, login, school
):
    inst, admin, _, _ = school
    inst.on_duty_phone = "0731-8888-6666"
    db.session.commit()
    login(admin)
    client.post("/language/zh_CN", data={"next": "/"})
    refused = client.post(
        SETTINGS, data={"name": "湘江新名", "name_en": "New name", "on_duty_phone": "值班室8888"}
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "请填写可直接拨打的电话号码" in page
    assert 'aria-invalid="true"' in page
    db.session.refresh(inst)
    assert (inst.name, inst.name_en, inst.on_duty_phone) == ("湘江大学", None, "0731-8888-6666")
    assert _settings_rows() == 0


def test_an_empty_name_is_refused_and_nothing_is_written(client, login, school):
    inst, admin, _, _ = school
    _english(login(admin))
    refused = client.post(SETTINGS, data={"name": "  ", "on_duty_phone": "0731-88880000"})
    assert refused.status_code == 422
    assert 'id="name-err"' in refused.get_data(as_text=True)
    db.session.refresh(inst)
    assert (inst.name, inst.on_duty_phone) == ("湘江大学", None)
    assert _settings_rows() == 0


def test_the_names_are_saved_and_clearing_the_phone_says_what_students_are_given(
    client, login, school
):
    inst, admin, _, _ = school
    inst.on_duty_phone = "0731-8888-6666"
    db.session.commit()
    _english(login(admin))
    data = {"name": "湘江大学", "name_en": "Xiangjiang University", "on_duty_phone": ""}
    saved = client.post(SETTINGS, data=data, follow_redirects=True)
    assert "given the 24-hour hotline and 120/110" in saved.get_data(as_text=True)
    db.session.refresh(inst)
    assert (inst.name_en, inst.on_duty_phone) == ("Xiangjiang University", None)
    assert client.post(SETTINGS, data=data, follow_redirects=True).status_code == 200
    assert _settings_rows() == 1  # the same settings sent again change nothing


def test_the_director_sets_the_phone_and_cannot_rename_the_institution(client, login, school):
    inst, _, director, _ = school
    page = _english(login(director)).get(SETTINGS).get_data(as_text=True)
    assert 'name="on_duty_phone"' in page
    assert 'name="name"' not in page
    saved = client.post(SETTINGS, data={"name": "Renamed", "on_duty_phone": "0731-88887777"})
    assert saved.status_code == 302
    db.session.refresh(inst)
    assert (inst.name, inst.on_duty_phone) == ("湘江大学", "0731-88887777")


def test_a_department_counsellor_may_not_open_the_settings(client, login, school):
    assert login(school[3]).get(SETTINGS).status_code == 403


def test_the_missing_phone_leads_the_administrators_home_and_goes_once_set(client, login, school):
    inst, admin, _, _ = school
    home = _english(login(admin)).get("/").get_data(as_text=True)
    items = home.split('<ul class="workbench"')[1]
    first = items.split("</li>")[0]
    assert GAP in first
    assert f'href="/admin/settings/?institution={inst.id}"' in first
    inst.on_duty_phone = "0731-88880000"
    db.session.commit()
    assert GAP not in client.get("/").get_data(as_text=True)


def test_the_directors_home_asks_for_the_phone_too(client, login, school):
    inst, _, director, _ = school
    home = _english(login(director)).get("/").get_data(as_text=True)
    assert GAP in home
    assert f'href="/admin/settings/?institution={inst.id}"' in home


def test_a_number_the_deployment_gives_every_campus_is_no_gap(
    app, client, login, school, monkeypatch
):
    monkeypatch.setitem(app.config, "CENTRE_ON_DUTY_PHONE", "0731-44445555")
    page = _english(login(school[1])).get("/").get_data(as_text=True)
    assert GAP not in page
    settings = client.get(SETTINGS).get_data(as_text=True)
    assert "0731-44445555" in settings
    assert "the number this server gives every institution without its own" in settings


def test_create_institution_takes_the_on_duty_phone_and_refuses_one_that_cannot_be_dialled(app):
    runner = app.test_cli_runner()
    refused = runner.invoke(
        args=["campus", "create-institution", "XJU", "湘江大学", "--on-duty-phone", "值班室"]
    )
    assert refused.exit_code != 0
    assert "digits and hyphens" in refused.output
    assert db.session.scalar(select(func.count(Institution.id))) == 0
    made = runner.invoke(
        args=[
            "campus",
            "create-institution",
            "XJU",
            "湘江大学",
            "--on-duty-phone",
            "0731 8888 0000",
        ]
    )
    assert made.exit_code == 0, made.output
    assert db.session.scalar(select(Institution.on_duty_phone)) == "0731-8888-0000"
    bare = runner.invoke(args=["campus", "create-institution", "LSU", "麓山学院"])
    assert "students in crisis are given the 24-hour hotline and 120/110 only" in bare.output
