"""The dashboard's period picker: months, terms (autumn Sep–Jan, spring Feb–Jul) and school years
(Sep–Aug), the old typed-month links, and the headline cards' comparison period."""

from __future__ import annotations

import re

import pytest

from campus.models import Role
from tests.factories import phq9_signal


@pytest.fixture
def admin(campus):
    inst = campus.institution("XJU")
    campus.department(inst, "Computing")
    user = campus.staff(inst, Role.ADMIN)
    campus.commit()
    return user


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


@pytest.mark.parametrize(
    ("period", "shown", "compared"),
    [
        ("term:2026-autumn", "September 2026 to January 2027", "February 2026 to July 2026"),
        ("term:2027-spring", "February 2027 to July 2027", "September 2026 to January 2027"),
        ("year:2026", "September 2026 to August 2027", "September 2025 to August 2026"),
        ("month:2026-09", "September 2026", "August 2026"),
    ],
)
def test_a_picked_period_shows_its_months_in_words_and_compares_with_the_one_before(
    admin, login, period, shown, compared
):
    page = login(admin).get("/oversight/", query_string={"period": period})
    text = _text(page.get_data(as_text=True))
    assert page.status_code == 200
    assert f"Period: {shown}." in text
    assert f"Change compared with {compared}." in text


def test_the_picker_and_the_period_read_in_chinese_words(admin, login):
    admin.locale = "zh_CN"
    html = login(admin).get("/oversight/", query_string={"period": "month:2026-09"}).get_data(True)
    assert '<option selected value="month:2026-09">2026年9月</option>' in html
    assert "统计期间：2026年9月。" in _text(html)
    page = _text(re.sub(r"<svg.*?</svg>", "", html, flags=re.S))  # the chart's axis keeps 2026-09
    assert "2026-09" not in page


def test_old_month_links_keep_working(admin, login):
    client = login(admin)
    assert "Period: March 2026 to May 2026." in _text(
        client.get("/oversight/?month_from=2026-03&month_to=2026-05").get_data(as_text=True)
    )
    assert "Period: July 2026." in _text(client.get("/oversight/?month=2026-07").get_data(True))


def test_a_forged_period_is_a_clear_400(admin, login):
    page = login(admin).get("/oversight/", query_string={"period": "term:2026-winter"})
    assert page.status_code == 400
    assert "Choose a month, term or school year from the list." in page.get_data(as_text=True)


def test_headline_cards_come_before_the_tables_and_tables_fold(admin, login):
    html = login(admin).get("/oversight/").get_data(as_text=True)
    assert html.index('id="card-screening"') < html.index('id="kpi-screening"')
    assert '<details class="card kpi-table" id="kpi-screening">' in html
    assert "Autumn term: September to January." in html


def test_a_card_shows_the_figure_and_its_change_from_the_period_before(campus, login):
    inst = campus.institution("XJU")
    group = campus.class_group(campus.department(inst, "Computing"), "CS-1")
    student = campus.student(group)
    admin = campus.staff(inst, Role.ADMIN)
    campus.commit()
    phq9_signal(student, 22)  # a red warning opened in September 2026

    html = login(admin).get("/oversight/?period=month:2026-09").get_data(as_text=True)

    card = html[html.index('id="card-crisis"') :]
    card = card[: card.index("</li>")]
    assert '<strong class="figure">1</strong>' in card
    assert "+1" in card
    later = login(admin).get("/oversight/?period=month:2026-10").get_data(as_text=True)
    card = later[later.index('id="card-crisis"') :]
    assert "−1" in card[: card.index("</li>")]


def test_director_home_shows_this_term_at_a_glance_linking_to_the_dashboard_for_the_term(
    campus, login
):
    inst = campus.institution("XJU")
    director = campus.staff(inst, Role.DIRECTOR)
    campus.commit()
    home = login(director).get("/").get_data(as_text=True)
    assert "This term at a glance: Autumn term 2026–2027" in home
    # It says whose deadlines it counts: beside "4 post-screening interviews past their deadline"
    # the director read "Deadlines met on time: 100.0%", which counts warnings' deadlines only.
    assert "Warning response deadlines met: —" in home
    assert 'href="/oversight/?period=term:2026-autumn"' in home


def test_a_cards_link_opens_its_table_for_the_same_period(admin, login):
    client = login(admin)
    html = client.get("/oversight/?period=term:2026-autumn").get_data(as_text=True)
    href = re.search(r'id="card-crisis">\s*<a href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "period=term" in href
    opened = client.get(href).get_data(as_text=True)
    assert '<details class="card kpi-table" id="kpi-crisis" open>' in opened
    assert '<details class="card kpi-table" id="kpi-screening">' in opened


def test_director_home_figures_read_with_chinese_punctuation(campus, login):
    inst = campus.institution("XJU")
    director = campus.staff(inst, Role.DIRECTOR)
    director.locale = "zh_CN"
    campus.commit()
    home = login(director).get("/").get_data(as_text=True)
    assert "筛查覆盖率：—" in home
    assert "筛查覆盖率: " not in home
