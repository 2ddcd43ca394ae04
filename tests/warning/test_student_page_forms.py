"""The student page's own forms (override, judgement, life event): a refused one comes back on the
page with what was typed and the reason next to the field, and nothing is written."""

from __future__ import annotations

import uuid

from sqlalchemy import func
from sqlalchemy import select

from campus.extensions import db
from campus.models import Role
from tests.factories import phq9_signal
from warning.models import EarlyWarning
from warning.models import LifeEvent
from warning.models import Signal


def test_an_override_without_a_reason_comes_back_inline_and_changes_nothing(campus, unit, login):
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    warning = phq9_signal(unit.student, 12, "PHQ-9 moderate in the intake")
    response = login(counsellor).post(
        f"/warnings/students/{unit.student.id}/override",
        data={"level": "3", "reason": "short", "version": warning.version},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="reason-err"' in page
    assert "short</textarea>" in page
    db.session.expire_all()
    assert db.session.get(EarlyWarning, warning.id).override_level is None


def test_a_life_event_dated_in_the_future_is_refused_next_to_the_date(campus, unit, login):
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    response = login(counsellor).post(
        f"/warnings/students/{unit.student.id}/life-event",
        data={
            "submission": uuid.uuid4().hex,
            "kind": "bereavement",
            "occurred_on": "2027-01-01",
            "note": "Grandmother",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="occurred_on-err"' in page
    assert "The date cannot be in the future." in page
    assert "Grandmother</textarea>" in page
    assert db.session.scalar(select(func.count(Signal.id))) == 0


def test_a_life_event_opens_on_choose_and_is_refused_without_one(campus, unit, login):
    """Before: the kind opened on bereavement (亲人离世), so a counsellor who wrote the date
    and the note and missed the select recorded a death in the family nobody reported."""
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    client = login(counsellor)
    page = client.get(f"/warnings/students/{unit.student.id}").get_data(as_text=True)
    form = page.split("/life-event", 1)[1]
    kinds = form.split('name="kind"', 1)[1].split("</select>", 1)[0]
    assert kinds.split("<option", 2)[1].startswith(' value="">Choose…<')
    response = client.post(
        f"/warnings/students/{unit.student.id}/life-event",
        data={"submission": uuid.uuid4().hex, "kind": "", "occurred_on": "2026-09-01",
              "note": "Father in hospital"},
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="kind-err"' in page
    assert "Choose the life event." in page
    assert db.session.scalar(select(func.count(LifeEvent.id))) == 0


def test_a_life_event_sent_twice_is_recorded_once(campus, unit, login):
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    client = login(counsellor)
    page = client.get(f"/warnings/students/{unit.student.id}").get_data(as_text=True)
    form = page.split('action="/warnings/students/', 2)[-1]  # the life event's form is last
    token = form.split('name="submission" type="hidden" value="', 1)[1][:32]
    sent = {"submission": token, "kind": "bereavement", "occurred_on": "2026-09-01", "note": ""}
    for _ in range(2):
        response = client.post(f"/warnings/students/{unit.student.id}/life-event", data=sent)
        assert response.status_code == 302
    events = db.session.scalar(select(func.count()).select_from(LifeEvent))
    signals = db.session.scalar(select(func.count()).select_from(Signal))
    assert (events, signals) == (1, 1)


def _judgement_token(page: str, student_id: int) -> str:
    form = page.split(f'action="/warnings/students/{student_id}/judgement', 1)[1]
    return form.split('name="submission" type="hidden" value="', 1)[1][:32]


def test_a_judgement_sent_twice_is_one_signal_on_the_timeline(campus, unit, login):
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    client = login(counsellor)
    page = client.get(f"/warnings/students/{unit.student.id}").get_data(as_text=True)
    sent = {
        "submission": _judgement_token(page, unit.student.id),
        "level": "2",
        "label": "Withdrawn in class for two weeks",
    }
    for _ in range(2):
        response = client.post(f"/warnings/students/{unit.student.id}/judgement", data=sent)
        assert response.status_code == 302
    judged = db.session.scalars(select(Signal).where(Signal.explicit_level == 2)).all()
    assert len(judged) == 1
    warning = db.session.scalar(
        select(EarlyWarning).where(EarlyWarning.student_id == unit.student.id)
    )
    assert warning is not None
    assert warning.level == 2


def test_a_judgement_without_its_token_is_refused_and_records_nothing(campus, unit, login):
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    response = login(counsellor).post(
        f"/warnings/students/{unit.student.id}/judgement",
        data={"level": "2", "label": "Withdrawn in class for two weeks"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Reload the form." in page
    assert "Withdrawn in class for two weeks</textarea>" in page
    assert db.session.scalar(select(func.count(Signal.id))) == 0


def test_another_counsellors_judgement_token_is_refused_and_keeps_what_was_typed(
    campus, unit, login
):
    first = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    second = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    url = f"/warnings/students/{unit.student.id}/judgement"
    page = login(first).get(f"/warnings/students/{unit.student.id}").get_data(as_text=True)
    token = _judgement_token(page, unit.student.id)
    sent = {"submission": token, "level": "2", "label": "Withdrawn in class for two weeks"}
    assert login(first).post(url, data=sent).status_code == 302
    sent["label"] = "Anxious before the exams"
    response = login(second).post(url, data=sent)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This form was already used. Reload the page." in page
    assert "Anxious before the exams</textarea>" in page
    assert db.session.scalar(select(func.count(Signal.id))) == 1


def test_a_judgement_sent_without_choosing_a_level_is_refused_and_records_nothing(
    campus, unit, login
):
    """Before: the level opened on blue, and a judgement sent untouched stored a blue signal."""
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    client = login(counsellor)
    page = client.get(f"/warnings/students/{unit.student.id}").get_data(as_text=True)
    judgement = page.split(f'action="/warnings/students/{unit.student.id}/judgement', 1)[1]
    assert 'required><option value="">Choose…</option>' in judgement
    sent = {
        "submission": _judgement_token(page, unit.student.id),
        "level": "",
        "label": "Withdrawn in class for two weeks",
    }
    response = client.post(f"/warnings/students/{unit.student.id}/judgement", data=sent)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose the level you judge." in page
    assert "Withdrawn in class for two weeks</textarea>" in page
    assert db.session.scalar(select(func.count(Signal.id))) == 0


def test_a_reason_with_a_least_length_says_it_before_it_is_refused(campus, unit, login):
    """Before: the override's reason was refused under ten characters without saying so first."""
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    phq9_signal(unit.student, 12, "PHQ-9 moderate in the intake")
    page = login(counsellor).get(f"/warnings/students/{unit.student.id}").get_data(as_text=True)
    override = page[page.index('id="override-h"') : page.index('id="judgement-h"')]
    judgement = page[page.index('id="judgement-h"') :]
    assert '<small class="hint">At least 10 characters.</small>' in override
    assert '<small class="hint">At least 5 characters.</small>' in judgement
