"""The student's intake: consent first, one instrument at a time, drafts kept, one submit.

Submitting writes the answers, the score and the hand-off to the warning stage in one commit:
the first commit that stores a safety answer, in any form, also stores its red signal and warning.
A worker killed before that commit loses the answers and their warning together; the student sees
an error and submits again. If the hand-off fails, a savepoint undoes the result alone and the
answers are committed as a draft with the signal of their safety answer.

A safety answer must never wait for a complete submit: whenever answers are kept without a result
(a saved draft, an incomplete submit, a submit after the window closed, a failed hand-off) or
arrive after a result without one, the safety flag is handed to the warning stage in the same
commit, once per assignment and instrument. `screening.safety` sweeps for any that slipped past.

Two tabs (or a retried request) may write the same instrument at once: the loser's write conflicts
(the draft it read was replaced, or the result exists) and it runs again once from what the winner
committed, which makes it a re-submission.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import pandas as pd
from sqlalchemy import Select
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from campus.models import Student
from campus.models import User
from screening import trajectories
from screening.instruments import Instrument
from screening.models import Campaign
from screening.models import CampaignAssignment
from screening.models import Consent
from screening.models import InstrumentResponse
from screening.models import ResultSource
from screening.models import ScreeningResult
from screening.scoring import SAFETY
from screening.scoring import AnswerProblem
from screening.scoring import ScoreResult
from screening.scoring import answer_problems
from screening.scoring import load_instrument
from screening.scoring import score
from screening.scoring import value_problem

log = logging.getLogger(__name__)
_WHOLE = re.compile(r"^-?\d+$")

# Answers as a form gave them (`parse_answers`): item number -> whole number. A key or value that
# is not one (a forged field, text) stays as given so validation names it; once
# `validate_answers` finds no problem, every key is an item and every value a whole number.
GivenAnswers = Mapping[int | str, int | str]
# What a concurrent write of the same assignment and instrument makes ours raise at flush.
_CONFLICTS = (IntegrityError, StaleDataError)
T = TypeVar("T")
P = ParamSpec("P")


class ConsentError(ValueError):
    """Consent is incomplete; `problems` names every missing agreement or field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class AnswersRejected(ValueError):
    """Answers that cannot be saved or submitted; `problems` name each item, `messages` are
    their words.

    `safety` is true when the answers that were kept carry a safety answer, so the page shows
    crisis resources beside the messages.
    """

    def __init__(self, problems: list[AnswerProblem], *, safety: bool = False) -> None:
        self.problems = problems
        self.messages = [problem.message for problem in problems]
        super().__init__(" ".join(self.messages))
        self.safety = safety


class SubmissionFailed(RuntimeError):
    """Storing or handing off a result failed; no result was written.

    The answers are kept as a draft, with the signal of a safety answer among them, unless the
    database itself failed: then nothing was written and the page still holds them to submit again.
    """


class WindowClosed(RuntimeError):
    """The campaign's window closed before this submit; the answers were kept as a draft.

    `safety` is true when they carry a safety answer, whose warning was raised with them.
    """

    def __init__(self, *, safety: bool) -> None:
        super().__init__("the screening window has closed")
        self.safety = safety


@dataclass(frozen=True)
class Scores:
    """What a result keeps of a scoring, from the single-response or the vectorised scorer."""

    total: float | None
    subscales: Mapping[str, float | None]
    band: str | None
    flags: frozenset[str]

    @classmethod
    def of(cls, scored: ScoreResult) -> Scores:
        band = scored.band.code if scored.band else None
        return cls(scored.total, dict(scored.subscales), band, scored.flags)

    @classmethod
    def of_row(cls, inst: Instrument, row: pd.Series) -> Scores:
        """One row of `bulk_scoring.score_frame`'s output, with its NaNs and blanks as None."""
        return cls(
            total=_number(row["total"]),
            subscales={s.code: _number(row[s.code]) for s in inst.subscales},
            band=row["band"] if isinstance(row["band"], str) and row["band"] else None,
            flags=frozenset(f for f in str(row["flags"]).split(";") if f),
        )


def _number(value: float | None) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


@dataclass(frozen=True)
class ConsentAnswers:
    informed: bool
    sensitive_data: bool
    guardian_name: str = ""
    guardian_relationship: str = ""
    guardian_agrees: bool = False


def instrument(code: str, licensed_dir: Path | None = None) -> Instrument:
    """The instrument with the institution's licensed item text when it has been loaded."""
    if licensed_dir is not None and (licensed_dir / f"{code}.yaml").is_file():
        return load_instrument(code, override_dir=licensed_dir)
    return load_instrument(code)


def own_assignments(session: Session, user: User) -> list[CampaignAssignment]:
    """The signed-in student's assignments in campaigns that have opened, newest first."""
    return list(
        session.scalars(
            select(CampaignAssignment)
            .join(Student, CampaignAssignment.student_id == Student.id)
            .join(Campaign, CampaignAssignment.campaign_id == Campaign.id)
            .where(Student.user_id == user.id)
            .order_by(Campaign.opens_at.desc())
            .options(contains_eager(CampaignAssignment.campaign))
        )
    )


def own_assignment(session: Session, user: User, assignment_id: int) -> CampaignAssignment | None:
    """The assignment if it belongs to `user`'s student record; None for any other id."""
    return session.scalar(
        _with_context(
            select(CampaignAssignment)
            .join(Student, CampaignAssignment.student_id == Student.id)
            .where(CampaignAssignment.id == assignment_id, Student.user_id == user.id)
            .options(contains_eager(CampaignAssignment.student))
        )
    )


def _with_context(stmt: Select) -> Select:
    """`stmt` loading, in the same statement, what every intake page and submission reads of an
    assignment: its campaign and the campaign's institution (the on-duty phone), the consent."""
    return stmt.options(
        joinedload(CampaignAssignment.campaign).joinedload(Campaign.institution),
        joinedload(CampaignAssignment.consent),
    )


def _reload(session: Session, assignment_id: int) -> CampaignAssignment:
    """The assignment and its context again after a commit expired them, in one statement."""
    return session.scalar(
        _with_context(select(CampaignAssignment))
        .where(CampaignAssignment.id == assignment_id)
        .options(joinedload(CampaignAssignment.student))
    )


def _once_more_after_conflict(
    write: Callable[Concatenate[Session, CampaignAssignment, P], T],
) -> Callable[Concatenate[Session, CampaignAssignment, P], T]:
    """`write`, run once more from fresh reads if a concurrent write of the same instrument
    (another tab, a retried request) made it conflict, so the student sees what that write left
    (a re-submission, an updated draft) instead of an error; a second conflict fails like any
    storage error. The second run gets the assignment as that write left it, and the rest of
    the inputs as they were."""

    @wraps(write)
    def once_more(
        session: Session, assignment: CampaignAssignment, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        assignment_id = assignment.id
        try:
            return write(session, assignment, *args, **kwargs)
        except _CONFLICTS:
            session.rollback()
            log.info("concurrent write to assignment %s; writing again after it", assignment_id)
        try:
            return write(session, _reload(session, assignment_id), *args, **kwargs)
        except _CONFLICTS as exc:
            why = "concurrent writes to assignment %s kept conflicting"
            raise _failed(session, why, assignment_id, exc) from exc

    return once_more


def _failed(session: Session, why: str, assignment_id: int, exc: Exception) -> SubmissionFailed:
    """What a write of answers that could not be stored raises, from inside its `except`: nothing
    of it is kept, and the log says `why` (of the assignment) with the error."""
    session.rollback()
    log.exception(why, assignment_id)
    return SubmissionFailed(str(exc))


def give_consent(
    session: Session,
    assignment: CampaignAssignment,
    answers: ConsentAnswers,
    *,
    text: str,
    locale: str,
    ip: str | None,
    now: datetime,
) -> Consent:
    """Record consent and start the assignment; a minor also needs the guardian's consent."""
    if assignment.consent is not None:
        return assignment.consent
    minor = assignment.student.is_minor(assignment.campaign.local_today(now))
    problems = consent_problems(answers, minor)
    if problems:
        raise ConsentError(problems)
    consent = Consent(
        assignment=assignment,
        student_id=assignment.student_id,
        informed=True,
        sensitive_data=True,
        consent_text=text,
        locale=locale,
        minor=minor,
        guardian_name=answers.guardian_name.strip() or None if minor else None,
        guardian_relationship=answers.guardian_relationship.strip() or None if minor else None,
        agreed_at=now,
        ip=ip,
    )
    session.add(consent)
    assignment.started_at = assignment.started_at or now
    assignment_id = assignment.id
    try:
        session.commit()
    except IntegrityError:
        # Another tab's consent committed first (one per assignment): that one stands.
        session.rollback()
        stored = session.scalar(select(Consent).where(Consent.assignment_id == assignment_id))
        if stored is None:
            raise
        return stored
    return consent


def consent_problems(answers: ConsentAnswers, minor: bool) -> list[str]:
    problems = []
    if not answers.informed:
        problems.append("informed")
    if not answers.sensitive_data:
        problems.append("sensitive_data")
    if minor:
        if not answers.guardian_name.strip():
            problems.append("guardian_name")
        if not answers.guardian_relationship.strip():
            problems.append("guardian_relationship")
        if not answers.guardian_agrees:
            problems.append("guardian_agrees")
    return problems


def parse_answers(inst: Instrument, form: Mapping[str, str]) -> dict[int | str, int | str]:
    """Item answers from form fields `item_<n>`; whole numbers become ints, blanks are skipped.

    Anything else (text, an unknown item) is kept as given so validation can name it.
    """
    answers: dict[int | str, int | str] = {}
    for key, raw in form.items():
        if not key.startswith("item_"):
            continue
        number = key.removeprefix("item_")
        item = int(number) if number.isdigit() else number
        value = raw.strip()
        if value:
            answers[item] = int(value) if _WHOLE.match(value) else value
    return answers


@_once_more_after_conflict
def save_draft(
    session: Session,
    assignment: CampaignAssignment,
    inst: Instrument,
    answers: GivenAnswers,
    *,
    locale: str,
    now: datetime,
) -> InstrumentResponse:
    """Keep the answers given so far, with the warning a safety answer among them raises.

    A forged or out-of-range value rejects the whole save. The draft and its safety signal commit
    together; if the hand-off fails neither is written and `SubmissionFailed` says so.
    """
    draft = _write_draft(session, assignment, inst, answers, locale=locale, now=now)
    _commit_draft(session, assignment, inst, draft, now)
    return draft


def _write_draft(
    session: Session,
    assignment: CampaignAssignment,
    inst: Instrument,
    answers: GivenAnswers,
    *,
    locale: str,
    now: datetime,
) -> InstrumentResponse:
    """The draft holding `answers`, flushed but not committed; forged values raise first."""
    bad = [p for p in answer_problems(inst, answers, locale) if not p.missing]
    if bad:
        raise AnswersRejected(bad)
    draft = draft_for(session, assignment, inst.code)
    if draft is None:
        draft = InstrumentResponse(assignment_id=assignment.id, instrument=inst.code)
        session.add(draft)
    draft.answers = {str(k): v for k, v in sorted(_whole(answers).items())}
    draft.updated_at = now
    session.flush()
    return draft


def _whole(answers: GivenAnswers) -> dict[int, int]:
    """`answers` once `validate_answers` found no forged item or value in them."""
    return {int(k): int(v) for k, v in answers.items()}


def safety_flags(inst: Instrument, answers: Mapping[int, int]) -> frozenset[str]:
    """The flags of `answers` (valid values, complete or not) when they include a safety answer.

    The scoring engine evaluates safety items on whatever was answered, so an unfinished page
    still reports them; empty when no safety answer was given.
    """
    flags = score(inst, answers).flags
    return flags if SAFETY in flags else frozenset()


def _signal_draft_safety(
    session: Session,
    assignment: CampaignAssignment,
    inst: Instrument,
    draft: InstrumentResponse,
    now: datetime,
) -> None:
    """Hand a safety answer in the draft to the warning stage, in the caller's unit of work: once,
    unless a later save adds a safety finding the draft's signal has not told (ASQ question 5
    answered "yes" after a refusal) or that signal's warning was closed since. A changed value
    of the same safety item (PHQ-9 item 9 from 1 to 3) is the same finding: red either way."""
    from warning import services as warning_services

    flags = safety_flags(inst, draft.answer_map())
    if not flags or not warning_services.new_safety_flags(session, draft.safety_signal_id, flags):
        return
    signal = safety_signal(session, assignment, inst, flags, "instrument_response", draft.id, now)
    draft.safety_signal_id = signal.id


def safety_signal(
    session: Session,
    assignment: CampaignAssignment,
    inst: Instrument,
    flags: frozenset[str],
    evidence_type: str,
    evidence_id: int,
    now: datetime,
):
    """A red-implying signal for a safety answer that has no scored result of its own (yet),
    for intake and for the sweep that raises one a stored answer lacks.

    Imported here, like `hand_off`, so prevention's models load without the warning stage.
    """
    from casework import interviews
    from warning import labels
    from warning import services as warning_services

    signal = warning_services.record_signal(
        session,
        student=assignment.student,
        source="screening",
        flags=flags,
        observed_at=now,
        label=warning_services.screening_label(
            inst.code, flags, None, labels.name_of(assignment.campaign), now
        ),
        instrument=inst.code,
        evidence_type=evidence_type,
        evidence_id=evidence_id,
        now=now,
    )
    # The interview list learns of the safety answer in the same commit as its red warning.
    interviews.consider_safety(session, assignment.campaign, assignment.student, inst.code, signal)
    return signal


def _commit_draft(
    session: Session,
    assignment: CampaignAssignment,
    inst: Instrument,
    draft: InstrumentResponse,
    now: datetime,
) -> bool:
    """Commit the draft with the signal of a safety answer in it; True when it has one."""

    def signal() -> bool:
        _signal_draft_safety(session, assignment, inst, draft, now)
        return draft.safety_signal_id is not None

    return _commit_or_fail(session, assignment, signal)


def _commit_or_fail(session: Session, assignment: CampaignAssignment, write: Callable[[], T]) -> T:
    """`write()` and commit what it added, or write nothing and raise `SubmissionFailed`: when
    `write` records a safety answer's signal, the answer is never stored without it."""
    assignment_id = assignment.id
    try:
        written = write()
        session.commit()
    except Exception as exc:
        why = "saving screening answers failed for assignment %s"
        raise _failed(session, why, assignment_id, exc) from exc
    return written


def draft_for(
    session: Session, assignment: CampaignAssignment, code: str
) -> InstrumentResponse | None:
    return session.scalar(
        select(InstrumentResponse).where(
            InstrumentResponse.assignment_id == assignment.id, InstrumentResponse.instrument == code
        )
    )


def result_for(
    session: Session, assignment: CampaignAssignment, code: str
) -> ScreeningResult | None:
    return session.scalar(
        select(ScreeningResult).where(
            ScreeningResult.assignment_id == assignment.id, ScreeningResult.instrument == code
        )
    )


def holds_safety_answer(session: Session, assignment: CampaignAssignment) -> bool:
    """Whether any part of the assignment's screening carries a safety answer (its finished page
    then shows the crisis resources again)."""
    results = session.scalars(
        select(ScreeningResult).where(ScreeningResult.assignment_id == assignment.id)
    )
    return any(has_safety_flag(result) for result in results)


def safety_values(inst: Instrument) -> dict[int, tuple[int, ...]]:
    """For each item, the answers that are a safety answer on their own, as the instrument's
    safety flags decide (PHQ-9 item 9: 1-3; ASQ 1-5: yes or declined; UPI 25: yes): the page
    shows the crisis resources the moment one is chosen. Items without any are left out."""
    found: dict[int, tuple[int, ...]] = {}
    for item in inst.items:
        values = tuple(
            option.value
            for option in item.options.options
            if safety_flags(inst, {item.number: option.value})
        )
        if values:
            found[item.number] = values
    return found


def next_instrument(session: Session, assignment: CampaignAssignment) -> str | None:
    """The first instrument of the campaign without a result, in the campaign's order."""
    done = set(
        session.scalars(
            select(ScreeningResult.instrument).where(ScreeningResult.assignment_id == assignment.id)
        )
    )
    return next((c for c in assignment.campaign.instruments if c not in done), None)


@_once_more_after_conflict
def submit(
    session: Session,
    assignment: CampaignAssignment,
    inst: Instrument,
    answers: GivenAnswers,
    *,
    token: str | None,
    locale: str,
    now: datetime,
) -> ScreeningResult:
    """Score and store one instrument and hand it to the warning stage, in one commit.

    A forged value rejects the answers unsaved; incomplete answers are kept as a draft and
    rejected, with the warning a safety answer among them raises. After the window closed the
    answers are only kept (`WindowClosed`). If the hand-off fails they are kept as a draft with
    the warning of their safety answer (`SubmissionFailed`). A repeat of a submission that already
    succeeded, or one that lost the race to another tab, returns the stored result; if it adds a
    safety answer the stored result lacks, that raises its warning once.
    """
    existing = result_for(session, assignment, inst.code)
    if existing is not None:
        return _resubmitted(session, assignment, inst, existing, answers, locale=locale, now=now)
    draft = _write_draft(session, assignment, inst, answers, locale=locale, now=now)
    problems = answer_problems(inst, answers, locale)
    is_open = assignment.campaign.is_open(now)
    if problems or not is_open:
        safety = _commit_draft(session, assignment, inst, draft, now)
        if not is_open:
            raise WindowClosed(safety=safety)
        raise AnswersRejected(problems, safety=safety)
    try:
        # The savepoint undoes a failed hand-off alone: the draft written above is then
        # committed with its own signal instead of the result.
        with session.begin_nested():
            result = _store(session, assignment, inst, answers, draft=draft, token=token, now=now)
    except _CONFLICTS:
        raise
    except Exception as exc:
        log.exception("screening submission failed for assignment %s", assignment.id)
        _commit_draft(session, assignment, inst, draft, now)
        raise SubmissionFailed(str(exc)) from exc
    return _commit_or_fail(session, assignment, lambda: result)


def _resubmitted(
    session: Session,
    assignment: CampaignAssignment,
    inst: Instrument,
    result: ScreeningResult,
    answers: GivenAnswers,
    *,
    locale: str,
    now: datetime,
) -> ScreeningResult:
    """The stored result, after raising the warning for a safety answer only these answers carry.

    The scored result never changes; answers that add a safety answer are kept beside it as the
    signal's evidence, once. Forged or incomplete answers add nothing but are not an error: the
    instrument was already submitted.
    """
    if result.safety_signal_id is not None or SAFETY in result.flag_set:
        return result
    if any(value_problem(item, answers.get(item.number), locale) for item in inst.items):
        return result
    given = {k: int(v) for k, v in answers.items() if isinstance(k, int) and k in inst.item_numbers}
    flags = safety_flags(inst, given)
    if not flags:
        return result

    def keep_with_signal() -> None:
        signal = safety_signal(session, assignment, inst, flags, "screening_result", result.id, now)
        result.resubmitted_answers = {str(k): v for k, v in sorted(given.items())}
        result.safety_signal_id = signal.id

    _commit_or_fail(session, assignment, keep_with_signal)
    return result


def _store(
    session: Session,
    assignment: CampaignAssignment,
    inst: Instrument,
    answers: GivenAnswers,
    *,
    draft: InstrumentResponse,
    token: str | None,
    now: datetime,
) -> ScreeningResult:
    """The result in place of its draft, handed off, in the caller's transaction.

    A safety answer already signalled from the draft (`draft.safety_signal_id`) stays this
    instrument's one safety signal: the hand-off makes it the result's signal when the result
    gives the same safety answer, so completing the page does not put it twice on the timeline,
    and a later re-submission does not raise it again.
    """
    given = _whole(answers)
    result = new_result(
        assignment,
        inst,
        given,
        Scores.of(score(inst, given)),
        now,
        source=ResultSource.ONLINE,
    )
    result.submission_token = token
    result.safety_signal_id = draft.safety_signal_id
    session.add(result)
    session.flush()  # the unique constraint fires here, before anything is handed off
    # By id, so a failed hand-off's savepoint rollback leaves the session's draft as it was.
    session.execute(
        delete(InstrumentResponse)
        .where(InstrumentResponse.id == draft.id)
        .execution_options(synchronize_session=False)
    )
    finish_instrument(session, assignment, result, now, raised_id=draft.safety_signal_id)
    return result


def finish_instrument(
    session: Session,
    assignment: CampaignAssignment,
    result: ScreeningResult,
    now: datetime,
    *,
    raised_id: int | None = None,
) -> None:
    """What follows a stored (flushed) result, submitted or imported alike: the assignment is
    complete once no instrument of the campaign is left without a result, and the result goes to
    the warning stage (`hand_off`, with `raised_id` as it says)."""
    if next_instrument(session, assignment) is None:
        assignment.completed_at = now
    hand_off(session, assignment.student, result, raised_id=raised_id)


def new_result(
    assignment: CampaignAssignment,
    inst: Instrument,
    answers: Mapping[int, int],
    scores: Scores,
    now: datetime,
    *,
    source: ResultSource,
    recorded_by: User | None = None,
) -> ScreeningResult:
    """A result row (not yet added to the session)."""
    return ScreeningResult(
        assignment_id=assignment.id,
        campaign_id=assignment.campaign_id,
        student_id=assignment.student_id,
        institution_id=assignment.campaign.institution_id,
        instrument=inst.code,
        instrument_version=inst.version,
        answers={str(k): v for k, v in sorted(answers.items())},
        total=scores.total,
        subscales=dict(scores.subscales),
        band=scores.band,
        flags=";".join(sorted(scores.flags)),
        source=source,
        completed_at=now,
        recorded_by_id=recorded_by.id if recorded_by else None,
    )


def hand_off(
    session: Session, student: Student, result: ScreeningResult, *, raised_id: int | None = None
) -> None:
    """Give the result to the warning stage and check the trajectory, in the caller's transaction.

    `raised_id` is the signal the same response's safety answer raised while it was a draft
    (`warning.services.hand_off_screening_result` says when it stands for the result).
    Imported here so prevention's models load without the warning stage and casework; a failing
    hand-off raises, so a result is never stored without its warning and its interview entry.
    """
    from casework import interviews
    from warning import labels
    from warning import services as warning_services

    signal = warning_services.hand_off_screening_result(
        session,
        student=student,
        instrument=result.instrument,
        total=result.total,
        flags=result.flags,
        observed_at=result.completed_at,
        campaign_name=labels.name_of(result.campaign),
        result_id=result.id,
        band=result.band,
        raised_id=raised_id,
    )
    # The interview list is written with the result: the campaign's rules pick the student now.
    interviews.consider_result(session, result, signal)
    trajectories.check_reliable_change(session, student, result)


def has_safety_flag(result: ScreeningResult) -> bool:
    """Whether the student gave a safety answer on this instrument, when submitting or later."""
    return SAFETY in result.flag_set or result.safety_signal_id is not None


def elevated(result: ScreeningResult) -> bool:
    """Whether to tell the student "a counsellor will get in touch": a band more than one step
    above the instrument's usual range (PHQ-9 moderate and up: mild reads "some signs of
    stress"), or a flag beyond the usual range's own (PHQ-2 positive, UPI class II). A safety
    answer gets the crisis resources instead. The instrument says which band is its usual range:
    a classification (ASQ, UPI, SCL-90) lists it last, a score scale first."""
    inst = load_instrument(result.instrument)
    if (inst.severity(result.band) or 0) > 1:
        return True
    usual = set(inst.bands_by_severity[0].flags) if inst.bands else set()
    safety = {SAFETY} | {rule.name for rule in inst.flags if rule.safety}
    return bool(result.flag_set - usual - safety)
