"""The interview list is written the moment a qualifying result arrives (online and on paper),
by each default rule, boundaries included, once per student and campaign."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from casework import interview_rules
from casework.interview_rules import InterviewRulesError
from casework.models import InterviewRound
from screening import intake
from screening import results_import
from screening.scoring import load_instrument
from tests.casework import interview_world as w
from warning import services as warnings
from warning.models import Deadline


def _rules(entry) -> set[str]:
    return {r["rule"] for r in entry.reasons}


@pytest.mark.parametrize(
    ("total", "listed", "rules", "tier"),
    [
        (9, False, set(), None),  # blue: not on the list
        (10, True, {"yellow_result"}, "department"),  # exactly on the yellow cut-off
        (19, True, {"yellow_result"}, "department"),
        (20, True, {"red_result"}, "school"),  # exactly on the red cut-off
    ],
)
def test_a_phq9_result_lists_the_student_by_its_level_at_the_cut_offs(
    world, total, listed, rules, tier
):
    made = w.campaign(world, "phq9")
    w.submit(made, world.student, "phq9", w.phq9_total(total))
    found = w.entries(made)
    assert bool(found) is listed
    if listed:
        (entry,) = found
        assert _rules(entry) == rules
        assert entry.tier == tier
        if "red_result" in rules:
            # With the red's professional assessment, not 14 days after the campaign closes.
            assert entry.due_from_warning
            assert entry.due_at == clock.now() + timedelta(hours=24)
        else:
            assert entry.due_at == made.closes_at + timedelta(days=14)
            assert not entry.due_from_warning
        assert entry.department_id == world.computing.id


def test_the_entry_is_committed_with_the_result_and_names_the_rule_in_words(world):
    made = w.campaign(world, "phq9")
    w.submit(made, world.student, "phq9", w.phq9_total(12))
    db.session.expire_all()  # read back what the submit committed
    (entry,) = w.entries(made)
    assert entry.reasons[0]["key"] == "%(instrument)s result at %(level)s level"
    assert entry.rule_set_version == interview_rules.default_rules().version
    pinned = db.session.scalars(select(InterviewRound)).one()
    assert pinned.campaign_id == made.id
    assert pinned.rule_set_version == "interviews-default-2026.2"


def test_several_qualifying_results_make_one_entry_with_every_rule_met(world):
    made = w.campaign(world, "phq9", "gad7")
    w.submit(made, world.student, "phq9", w.phq9_total(12))
    w.submit(made, world.student, "gad7", {1: 3, 2: 3, 3: 3, 4: 3})  # 12: yellow
    (entry,) = w.entries(made)
    assert _rules(entry) == {"yellow_result"}
    assert len(entry.reasons) == 1  # the same rule twice is recorded once


def test_a_safety_answer_keeps_the_red_warnings_deadline_not_the_14_days(world):
    made = w.campaign(world, "phq9")
    w.submit(made, world.student, "phq9", w.phq9_total(3, item9=1))
    (entry,) = w.entries(made)
    assert {"safety_answer", "red_result"} <= _rules(entry)
    assert entry.tier == "school"
    warning = warnings.open_warning(db.session, world.student.id)
    assessment = db.session.scalars(
        select(Deadline.due_at).where(
            Deadline.warning_id == warning.id, Deadline.kind == "assessment"
        )
    ).one()
    assert entry.due_from_warning
    assert entry.due_at == assessment == clock.now() + timedelta(hours=24)


def test_a_safety_answer_in_a_saved_draft_lists_the_student_before_any_result(world):
    made = w.campaign(world, "phq9")
    inst = load_instrument("phq9")
    intake.save_draft(
        db.session, w.assignment(made, world.student), inst, {9: 2}, locale="en", now=clock.now()
    )
    (entry,) = w.entries(made)
    assert "safety_answer" in _rules(entry)
    assert w.results(made) == 0


def test_upi_class_ii_is_department_tier_and_class_i_school_tier(world):
    made = w.campaign(world, "upi")
    upi = load_instrument("upi")
    scored = [i.number for i in upi.items if i.scored and i.number not in (8, 16, 25, 26)]
    w.submit(made, world.student, "upi", dict.fromkeys(scored[:20], 1))  # total 20: class II
    w.submit(made, world.classmate, "upi", dict.fromkeys(scored[:25], 1))  # total 25: class I
    w.submit(made, world.mathematician, "upi", dict.fromkeys(scored[:19], 1))  # 19: class III
    by_student = {e.student_id: e for e in w.entries(made)}
    assert set(by_student) == {world.student.id, world.classmate.id}
    assert _rules(by_student[world.student.id]) == {"upi_class_ii"}
    assert by_student[world.student.id].tier == "department"
    assert "upi_class_i" in _rules(by_student[world.classmate.id])
    assert by_student[world.classmate.id].tier == "school"


def test_an_scl90_positive_screen_is_listed_and_a_negative_one_is_not(world):
    made = w.campaign(world, "scl90")
    scl = load_instrument("scl90")
    numbers = [i.number for i in scl.items if i.number != 15]
    w.submit(made, world.student, "scl90", dict.fromkeys(numbers[:71], 2))  # total 161
    w.submit(made, world.classmate, "scl90", {})  # every item "not at all": negative
    (entry,) = w.entries(made)
    assert entry.student_id == world.student.id
    assert "scl90_positive" in _rules(entry)
    assert entry.tier == "school"


def test_paper_results_list_the_student_in_the_import_commit(world):
    made = w.campaign(world, "phq9")
    header = "学号," + ",".join(str(n) for n in range(1, 11))
    rows = [
        f"{world.student.student_number},3,3,3,1,0,0,0,0,0,0",  # 10: yellow
        f"{world.classmate.student_number},1,1,1,1,0,0,0,0,0,0",  # 4: nothing
    ]
    table = results_import.read_table("paper.csv", "\n".join([header, *rows]).encode())
    report = results_import.import_results(
        db.session,
        made,
        load_instrument("phq9"),
        table,
        actor=world.counsellor,
        now=clock.now(),
    )
    assert report.imported_count == 2
    db.session.expire_all()
    (entry,) = w.entries(made)
    assert entry.student_id == world.student.id
    assert _rules(entry) == {"yellow_result"}


def test_the_default_rule_set_parses_and_bad_ones_name_every_problem():
    assert [r.name for r in interview_rules.default_rules().rules] == [
        "red_result",
        "yellow_result",
        "upi_class_i",
        "upi_class_ii",
        "scl90_positive",
        "safety_answer",
    ]
    bad = """
rules:
  - {name: a, when: {instrument: nosuch, band: x}}
  - {name: b, when: {instrument: upi, band: class_IV}}
  - {name: c, when: {flag: made_up}, tier: college}
  - {name: d, when: {level: purple}, colour: red}
"""
    with pytest.raises(InterviewRulesError) as caught:
        interview_rules.parse(bad)
    text = str(caught.value)
    for expected in (
        "needs a version",
        "unknown instrument 'nosuch'",
        "upi has no band 'class_IV'",
        "no instrument declares the flag 'made_up'",
        "tier must be school or department",
        "unknown key 'colour'",
    ):
        assert expected in text


def test_an_institutions_own_rule_set_is_used_and_pinned(world, tmp_path, app, monkeypatch):
    (tmp_path / "XJU.yaml").write_text(
        'version: "xju-2026"\ndeadline_days: 7\nrules:\n  - {name: any_red, when: {level: red}}\n',
        encoding="utf-8",
    )
    monkeypatch.setitem(app.config, "INTERVIEW_RULES_DIR", str(tmp_path))
    made = w.campaign(world, "phq9")
    w.submit(made, world.student, "phq9", w.phq9_total(12))  # yellow: not a rule here
    w.submit(made, world.classmate, "phq9", w.phq9_total(22))
    (entry,) = w.entries(made)
    assert entry.student_id == world.classmate.id
    assert entry.rule_set_version == "xju-2026"
    assert entry.due_at == made.closes_at + timedelta(days=7)


def test_a_bad_institution_rule_file_stops_the_app_at_start_up(tmp_path):
    from campus import create_app

    (tmp_path / "XJU.yaml").write_text("version: x\nrules:\n  - {name: a, when: {flag: nope}}\n")
    with pytest.raises(InterviewRulesError, match=r"In XJU.yaml: Rule a: no instrument declares"):
        create_app("test", INTERVIEW_RULES_DIR=str(tmp_path))
