"""A triage policy draft whose total ranges on one instrument overlap between levels is saved (the
highest level wins, which is legal) but its page warns, naming the rules and the winning level."""

from __future__ import annotations

import html

from campus.models import Role
from warning import retriage
from warning.policy import default_policy
from warning.policy import policy_from_yaml_text
from warning.policy import range_overlaps

DRAFT = retriage.default_yaml().replace('version: "default-2026.1"', 'version: "campus-2"')
# The mistake a walk made: the yellow band typed as 8–19 while blue is still 5–9.
OVERLAPPING = DRAFT.replace(
    "{instrument: phq9, total_min: 10, total_max: 19}",
    "{instrument: phq9, total_min: 8, total_max: 19}",
)
WARNING = (
    "rules phq9_mild (Blue, PHQ-9 5–9) and phq9_moderate (Yellow, PHQ-9 8–19) overlap at totals "
    "8–9: a total there gets Yellow, the higher level"
)


def test_the_shipped_policy_has_no_overlapping_ranges():
    assert range_overlaps(default_policy()) == []


def test_an_overlap_names_both_rules_the_shared_totals_and_the_level_that_wins():
    assert OVERLAPPING != DRAFT
    assert [str(m) for m in range_overlaps(policy_from_yaml_text(OVERLAPPING))] == [WARNING]


def test_an_open_ended_range_overlapping_a_lower_level_is_named_too():
    text = DRAFT.replace(
        "{instrument: gad7, total_min: 5, total_max: 9}",
        "{instrument: gad7, total_min: 5, total_max: 12}",
    )
    (warning,) = range_overlaps(policy_from_yaml_text(text))
    assert "gad7_mild (Blue, GAD-7 5–12) and gad7_moderate (Yellow, GAD-7 ≥ 10)" in warning
    assert "overlap at totals 10–12" in warning


def test_rules_of_one_level_or_of_different_instruments_do_not_warn():
    same_level = DRAFT.replace(
        "{key: gad2_positive, level: blue, when: {instrument: gad2, total_min: 3}}",
        "{key: gad2_positive, level: blue, when: {instrument: gad2, total_min: 3}}\n"
        "  - {key: gad2_high, level: blue, when: {instrument: gad2, total_min: 5}}",
    )
    assert same_level != DRAFT
    assert range_overlaps(policy_from_yaml_text(same_level)) == []


def _draft_page(campus, unit, login, yaml_text: str, locale: str = "en") -> str:
    admin = campus.staff(unit.institution, Role.ADMIN)
    admin.locale = locale
    campus.commit()
    client = login(admin)
    saved = client.post("/warnings/policy", data={"yaml_text": yaml_text})
    assert saved.status_code == 302  # a warning, never a refusal
    return html.unescape(client.get(saved.headers["Location"]).get_data(as_text=True))


def test_the_draft_page_warns_of_the_overlap_after_saving_it(campus, unit, login):
    page = _draft_page(campus, unit, login, OVERLAPPING)
    assert "Draft saved." in page
    banner = page[page.index('id="range-overlaps"') :]
    assert WARNING in banner[: banner.index("</div>")]


def test_the_draft_page_of_a_policy_without_overlaps_has_no_warning(campus, unit, login):
    assert 'id="range-overlaps"' not in _draft_page(campus, unit, login, DRAFT)
