"""The first commit that stores a safety answer stores its red warning, whatever stops the worker;
the sweep raises the warning of any stored safety answer that lacks one, once, and says so."""

from __future__ import annotations

import contextlib
import itertools
import logging

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.scheduler import run_sweeps
from screening import intake
from screening import safety
from screening.models import CampaignAssignment
from screening.models import InstrumentResponse
from screening.models import ResultSource
from screening.models import ScreeningResult
from screening.scoring import score
from warning.models import EarlyWarning
from warning.models import Signal
from warning.models import WarningStatus

CALM = {n: 0 for n in range(1, 10)}
SWEEP = "screening.unsignalled_safety"


class WorkerKilled(BaseException):
    """A SIGKILL: nothing after it runs, and nothing uncommitted survives it."""


def _assignment(campaign, student) -> CampaignAssignment:
    return db.session.scalar(
        select(CampaignAssignment).where(
            CampaignAssignment.campaign_id == campaign.id,
            CampaignAssignment.student_id == student.id,
        )
    )


def _consented(school, make_campaign) -> CampaignAssignment:
    assignment = _assignment(make_campaign(), school.student)
    answers = intake.ConsentAnswers(informed=True, sensitive_data=True)
    intake.give_consent(
        db.session, assignment, answers, text="t", locale="en", ip=None, now=clock.now()
    )
    return intake.own_assignment(db.session, school.student.user, assignment.id)


def _open_red_warning(student_id: int) -> bool:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(EarlyWarning)
            .where(
                EarlyWarning.student_id == student_id,
                EarlyWarning.status == WarningStatus.OPEN,
                EarlyWarning.level == 3,
            )
        )
        == 1
    )


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("killed_at_commit", [1, 2])
def test_a_worker_killed_at_a_commit_of_a_safety_submit_leaves_no_answer_without_its_warning(
    app, school, make_campaign, monkeypatch, killed_at_commit
):
    assignment = _consented(school, make_campaign)
    student_id = school.student.id
    commits = itertools.count(1)
    commit = db.session.commit

    def commit_unless_killed() -> None:
        if next(commits) == killed_at_commit:
            raise WorkerKilled
        commit()

    monkeypatch.setattr(db.session, "commit", commit_unless_killed)
    with contextlib.suppress(WorkerKilled):
        intake.submit(
            db.session,
            assignment,
            intake.instrument("phq9"),
            {**CALM, 9: 2},
            token="page-1",
            locale="en",
            now=clock.now(),
        )
    monkeypatch.undo()
    db.session.rollback()  # the killed worker's connection is gone with its transaction
    db.session.remove()
    assert safety.unsignalled(db.session) == []
    stored = _count(InstrumentResponse) + _count(ScreeningResult)
    assert stored == (0 if killed_at_commit == 1 else 1)
    assert _open_red_warning(student_id) == bool(stored)


def test_the_sweep_raises_the_red_warning_of_a_draft_stored_without_it_once(
    app, school, make_campaign, caplog
):
    assignment = _consented(school, make_campaign)
    # What the two-commit submit left when its worker died between the commits.
    draft = InstrumentResponse(
        assignment_id=assignment.id, instrument="phq9", answers={"1": 0, "9": 2}
    )
    db.session.add(draft)
    db.session.commit()
    with caplog.at_level(logging.ERROR, logger="screening.safety"):
        assert run_sweeps(app, db.session)[SWEEP] == 1
    assert "safety answer stored without its signal" in caplog.text
    db.session.expire_all()
    [signal] = db.session.scalars(select(Signal))
    assert (signal.evidence_type, signal.evidence_id, signal.implied_level) == (
        "instrument_response",
        draft.id,
        3,
    )
    assert db.session.get(InstrumentResponse, draft.id).safety_signal_id == signal.id
    assert _open_red_warning(school.student.id)
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == safety.RECOVERED))
    assert (event.record_type, event.record_id, event.student_id) == (
        "instrument_response",
        str(draft.id),
        school.student.id,
    )
    assert run_sweeps(app, db.session)[SWEEP] == 0
    assert _count(Signal) == 1


def test_the_sweep_raises_a_result_whose_safety_answer_has_no_signal(app, school, make_campaign):
    assignment = _consented(school, make_campaign)
    inst = intake.instrument("phq9")
    scores = intake.Scores.of(score(inst, CALM))
    calm = intake.new_result(
        assignment, inst, CALM, scores, clock.now(), source=ResultSource.IMPORT
    )
    calm.resubmitted_answers = {str(n): v for n, v in {**CALM, 9: 3}.items()}
    db.session.add(calm)
    db.session.commit()
    assert run_sweeps(app, db.session)[SWEEP] == 1
    db.session.expire_all()
    [signal] = db.session.scalars(select(Signal))
    assert (signal.evidence_type, signal.evidence_id) == ("screening_result", calm.id)
    assert _open_red_warning(school.student.id)
    assert run_sweeps(app, db.session)[SWEEP] == 0


def test_the_sweep_finds_nothing_after_the_intake_stored_safety_answers(app, school, make_campaign):
    assignment = _consented(school, make_campaign)
    inst = intake.instrument("phq9")
    intake.save_draft(db.session, assignment, inst, {9: 1}, locale="en", now=clock.now())
    assignment = intake.own_assignment(db.session, school.student.user, assignment.id)
    intake.submit(
        db.session, assignment, inst, {**CALM, 9: 2}, token="p", locale="en", now=clock.now()
    )
    signals = _count(Signal)
    assert run_sweeps(app, db.session)[SWEEP] == 0
    assert _count(Signal) == signals
    assert not db.session.scalar(select(AuditEvent).where(AuditEvent.action == safety.RECOVERED))


def test_a_safety_resubmission_while_the_warning_stage_fails_stores_nothing_and_says_so(
    app, school, make_campaign, monkeypatch
):
    from warning import services

    assignment = _consented(school, make_campaign)
    inst = intake.instrument("phq9")
    intake.submit(db.session, assignment, inst, CALM, token="p1", locale="en", now=clock.now())

    def broken(*args, **kwargs):
        raise RuntimeError("warning stage unavailable")

    monkeypatch.setattr(services, "record_signal", broken)
    assignment = intake.own_assignment(db.session, school.student.user, assignment.id)
    with pytest.raises(intake.SubmissionFailed):
        intake.submit(
            db.session, assignment, inst, {**CALM, 9: 3}, token="p2", locale="en", now=clock.now()
        )
    db.session.expire_all()
    assert db.session.scalar(select(ScreeningResult.resubmitted_answers)) is None
