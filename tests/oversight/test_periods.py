"""The dashboard's period picker: months, terms (autumn Sep–Jan, spring Feb–Jul) and school years
(Sep–Aug), the old typed-month links, and the headline cards' comparison period."""

from __future__ import annotations

import pytest

from campus.models import Role


@pytest.fixture
def admin(campus):
    inst = campus.institution("XJU")
    campus.department(inst, "Computing")
    user = campus.staff(inst, Role.ADMIN)
    campus.commit()
    return user


@pytest.mark.parametrize(
    ("period", "shown", "compared"),
    [
        ("term:2026-autumn", "2026-09 to 2027-01", "2026-02 to 2026-07"),
        ("term:2027-spring", "2027-02 to 2027-07", "2026-09 to 2027-01"),
        ("year:2026", "2026-09 to 2027-08", "2025-09 to 2026-08"),
        ("month:2026-09", "2026-09 to 2026-09", "2026-08 to 2026-08"),
    ],
)
def test_a_picked_period_shows_its_months_and_compares_with_the_one_before(
    admin, login, period, shown, compared
):
    page = login(admin).get("/oversight/", query_string={"period": period})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"Period: {shown}." in html
    assert f"Change compared with {compared}." in html


def test_old_month_links_keep_working(admin, login):
    client = login(admin)
    assert "Period: 2026-03 to 2026-05." in client.get(
        "/oversight/?month_from=2026-03&month_to=2026-05"
    ).get_data(as_text=True)
    assert "Period: 2026-07 to 2026-07." in client.get("/oversight/?month=2026-07").get_data(
        as_text=True
    )


def test_a_forged_period_is_a_clear_400(admin, login):
    page = login(admin).get("/oversight/", query_string={"period": "term:2026-winter"})
    assert page.status_code == 400
    assert "Choose a month, term or school year from the list." in page.get_data(as_text=True)


def test_headline_cards_come_before_the_tables_and_tables_fold(admin, login):
    html = login(admin).get("/oversight/").get_data(as_text=True)
    assert html.index('id="card-screening"') < html.index('id="kpi-screening"')
    assert '<details class="card kpi-table" id="kpi-screening">' in html
    assert "Autumn term: September to January." in html
