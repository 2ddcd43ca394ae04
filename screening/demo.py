"""Demo screening data that tells one story, round by round:

- the older grade's freshman intake last autumn and its spring follow-up of two departments
  (history: stored as results, not triaged again, and without safety answers, since no crisis
  of theirs is in the demo);
- this autumn's follow-up of the same two departments, closed, its results handed off like real
  ones, so the counsellor's queue, the interview list and each student's trend agree;
- this year's freshman intake, open for three days, with its first students done (handed off),
  and `complete` for the warning demo's chosen cases.

Every screening warning of the demo thus names a campaign the demo has, and shows a result its
results page lists. Answers drift between rounds (a student's scores are related across rounds),
and are scored with the vectorised scorer, to keep seeding a 2,000-student university fast.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus.models import ClassGroup
from campus.models import Department
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from screening import campaigns
from screening.bulk_scoring import score_frame
from screening.instruments import Instrument
from screening.intake import Scores
from screening.intake import hand_off
from screening.intake import new_result
from screening.models import Campaign
from screening.models import CampaignAssignment
from screening.models import ResultSource
from screening.models import ScreeningResult
from screening.scoring import load_instrument
from screening.scoring import score

FRESHMAN_INSTRUMENTS = ["literacy", "phq9", "gad7", "asq"]
FOLLOW_UP_INSTRUMENTS = ["phq9", "gad7"]
# Share of students answering 0, 1, 2, 3 on a symptom item: most students are well.
ITEM_WEIGHTS = (0.72, 0.19, 0.06, 0.03)
SAFETY_ITEM_WEIGHTS = (0.96, 0.025, 0.01, 0.005)
FOLLOW_UP_RESPONSE_RATE = 0.6
# Share of the older grade that took each past round: the intake, then the spring follow-up.
PAST_RESPONSE_RATES = (0.92, 0.7)
# Each round back in time, an item answered above 0 was one lower with this chance: scores rise
# slowly towards today's, as the trend on a warned student's file shows.
DRIFT = 0.25
# The follow-up rounds cover the older grade of this many departments: enough for a realistic
# counsellor queue, few enough that every result goes through the real hand-off quickly.
FOLLOW_UP_DEPARTMENTS = 2
# Three days into the intake this share of freshmen is done: each result goes through the real
# hand-off, which costs a few milliseconds, so the share is kept small.
FRESHMAN_DONE = 0.08
# The literacy quiz is answered right this often.
LITERACY_RIGHT = 0.8
PHQ9_SAFETY_ITEM = 9


@dataclass(frozen=True)
class Window:
    names: tuple[str, str]  # Chinese, English
    opens: datetime
    closes: datetime


def seed(session: Session, institution: Institution) -> None:
    """Add the older grade's rounds (two past, one just closed) and the open freshman intake."""
    now = clock.now()
    admin = session.scalar(
        select(User)
        .join(User.roles)
        .where(RoleAssignment.role == Role.ADMIN, RoleAssignment.institution_id == institution.id)
    )
    older = now.year - 1
    intake = _campaign(
        session,
        institution,
        admin,
        Window(
            (f"{now.year}级新生心理健康普查", f"{now.year} freshman intake"),
            now - timedelta(days=3),
            now + timedelta(days=27),
        ),
        FRESHMAN_INSTRUMENTS,
        now.year,
    )
    follow_up = Window(
        (f"{older}级学生心理健康复查", f"{now.year} sophomore follow-up screening"),
        now - timedelta(days=40),
        now - timedelta(days=10),
    )
    past = [
        (
            Window(
                (f"{older}级新生心理健康普查", f"{older} freshman intake"),
                datetime(older, 9, 20, 1),
                datetime(older, 10, 10, 15),
            ),
            None,
        ),
        (
            Window(
                (f"{older + 1}年春季心理复查", f"{older + 1} spring follow-up"),
                datetime(older + 1, 4, 1, 1),
                datetime(older + 1, 4, 20, 15),
            ),
            FOLLOW_UP_DEPARTMENTS,
        ),
    ]
    rng = random.Random(20260914)
    numpy_rng = np.random.default_rng(20260914)
    today = _answers_today(session, institution, older, numpy_rng)
    rounds_back = [today]
    for _ in past:
        rounds_back.append({c: _earlier(c, f, numpy_rng) for c, f in rounds_back[-1].items()})
    for (window, departments), rate, answers in zip(
        past, PAST_RESPONSE_RATES, reversed(rounds_back[1:]), strict=True
    ):
        if window.closes >= follow_up.opens:
            continue  # seeded before that round's time: it has not happened yet
        campaign = _campaign(
            session, institution, admin, window, FOLLOW_UP_INSTRUMENTS, older, departments
        )
        _complete_round(session, campaign, answers, rate, rng, triage=False)
    current = _campaign(
        session,
        institution,
        admin,
        follow_up,
        FOLLOW_UP_INSTRUMENTS,
        older,
        FOLLOW_UP_DEPARTMENTS,
    )
    _complete_round(session, current, today, FOLLOW_UP_RESPONSE_RATE, rng, triage=True)
    _freshmen_so_far(session, intake, rng, now)


def _campaign(
    session: Session,
    institution: Institution,
    admin: User | None,
    window: Window,
    instruments: list[str],
    grade: int,
    departments: int | None = None,
) -> Campaign:
    """A campaign for `grade` (of the first `departments` departments, or all) in `window`."""
    department_ids = sorted(
        session.scalars(select(Department.id).where(Department.institution_id == institution.id))
    )[:departments]
    campaign = Campaign(
        institution_id=institution.id,
        name=window.names[0],
        name_en=window.names[1],
        instruments=instruments,
        grades=[grade],
        department_ids=department_ids if departments else [],
        class_ids=[],
        opens_at=window.opens,
        closes_at=window.closes,
        consent_text_zh="",
        consent_text_en="",
        reminder_every_days=3,
        created_by_id=admin.id if admin else None,
    )
    session.add(campaign)
    session.flush()
    campaigns.sync_assignments(session, campaign)
    return campaign


def _answers_today(
    session: Session, institution: Institution, grade: int, rng: np.random.Generator
) -> dict[str, pd.DataFrame]:
    """How each student of `grade` answers the follow-up instruments now, indexed by student id:
    the follow-up's answers, and the start of the drift back to the past rounds'."""
    ids = list(
        session.scalars(
            select(Student.id)
            .join(ClassGroup, Student.class_id == ClassGroup.id)
            .where(Student.institution_id == institution.id, ClassGroup.grade == grade)
            .order_by(Student.id)
        )
    )
    frames = {}
    for code in FOLLOW_UP_INSTRUMENTS:
        frame = _random_answers(load_instrument(code), len(ids), rng)
        frame.index = pd.Index(ids)
        frames[code] = frame
    return frames


def _earlier(code: str, later: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """`later`'s answers one round earlier: lower here and there, and never a safety answer
    (PHQ-9 item 9), since the demo holds no crisis from the past rounds."""
    values = np.maximum(later.to_numpy() - (rng.random(later.shape) < DRIFT), 0)
    earlier = pd.DataFrame(values, index=later.index, columns=later.columns)
    if code == "phq9":
        earlier[f"q{PHQ9_SAFETY_ITEM}"] = 0
    return earlier


def _complete_round(
    session: Session,
    campaign: Campaign,
    answers: Mapping[str, pd.DataFrame],
    rate: float,
    rng: random.Random,
    *,
    triage: bool,
) -> None:
    """A `rate` share of the campaign's students answered `answers` during its window; `triage`
    hands each result off as a real one (the past rounds' were triaged in their time)."""
    assignments = session.scalars(
        select(CampaignAssignment)
        .where(CampaignAssignment.campaign_id == campaign.id)
        .order_by(CampaignAssignment.student_id)
    ).all()
    chosen = [a for a in assignments if rng.random() < rate]
    span = int((campaign.closes_at - campaign.opens_at).total_seconds() // 3600) - 1
    done = {a.id: campaign.opens_at + timedelta(hours=rng.randrange(1, span)) for a in chosen}
    for code in campaign.instruments:
        inst = load_instrument(code)
        given_frame = answers[code].loc[[a.student_id for a in chosen]]
        scored = score_frame(inst, given_frame.reset_index(drop=True))
        results = []
        for row, assignment in enumerate(chosen):
            given = {n: int(given_frame.iat[row, n - 1]) for n in inst.item_numbers}
            scores = Scores.of_row(inst, scored.iloc[row])
            result = new_result(
                assignment, inst, given, scores, done[assignment.id], source=ResultSource.ONLINE
            )
            results.append(result)
            assignment.started_at = assignment.completed_at = done[assignment.id]
        session.add_all(results)
        session.flush()  # one round trip for the ids the hand-off records as evidence
        if triage:
            for assignment, result in zip(chosen, results, strict=True):
                _hand_off_at(session, assignment.student, result, done[assignment.id])


def _freshmen_so_far(session: Session, intake: Campaign, rng: random.Random, now: datetime) -> None:
    """The first freshmen done with the open intake, each at some hour since it opened; the
    freshman whose login the demo prints (the last by number) still has it all to do."""
    assignments = session.scalars(
        select(CampaignAssignment)
        .join(Student, CampaignAssignment.student_id == Student.id)
        .where(CampaignAssignment.campaign_id == intake.id)
        .order_by(Student.student_number)
    ).all()
    hours = int((now - intake.opens_at).total_seconds() // 3600)
    for assignment in assignments[:-1]:
        if rng.random() < FRESHMAN_DONE:
            at = intake.opens_at + timedelta(
                hours=rng.randrange(1, hours), minutes=rng.randrange(60)
            )
            complete(session, assignment, _freshman_answers(rng), at)


def _freshman_answers(rng: random.Random) -> dict[str, dict[int, int]]:
    """One freshman's answers to the intake: a safety answer on the PHQ-9 comes with a "yes" on
    the ASQ's first question (a non-acute positive screen), as the two ask alike."""
    answers = {"literacy": _literacy(rng)}
    for code in FOLLOW_UP_INSTRUMENTS:
        answers[code] = {
            i.number: rng.choices(
                sorted(i.options.values),
                (
                    SAFETY_ITEM_WEIGHTS
                    if code == "phq9" and i.number == PHQ9_SAFETY_ITEM
                    else ITEM_WEIGHTS
                )[: len(i.options.values)],
            )[0]
            for i in load_instrument(code).items
        }
    wished_dead = int(answers["phq9"][9] > 0)
    answers["asq"] = {1: wished_dead, 2: 0, 3: 0, 4: 0} | ({5: 0} if wished_dead else {})
    return answers


def complete(
    session: Session,
    assignment: CampaignAssignment,
    answers: Mapping[str, Mapping[int, int]],
    at: datetime,
) -> None:
    """Store `answers` (instrument → item → value) as the assignment's results at `at`, each
    handed off as a real submission's is; the assignment is then complete."""
    campaign = assignment.campaign
    for code in campaign.instruments:
        inst = load_instrument(code)
        result = new_result(
            assignment,
            inst,
            answers[code],
            Scores.of(score(inst, answers[code])),
            at,
            source=ResultSource.ONLINE,
        )
        session.add(result)
        session.flush()
        _hand_off_at(session, assignment.student, result, at)
    assignment.started_at = assignment.completed_at = at


def _hand_off_at(session: Session, student: Student, result: ScreeningResult, at: datetime) -> None:
    """Hand `result` off as if submitted at `at`: its warning opens, changes level and owes its
    deadlines from then, not from the seeding day (a red answered weeks ago opened weeks ago)."""
    with clock.frozen_at(at):
        hand_off(session, student, result)


def still_due(
    session: Session, institution: Institution, now: datetime
) -> dict[int, CampaignAssignment]:
    """The open campaigns' assignments not done yet, by student: where the warning demo's chosen
    cases answer."""
    rows = session.scalars(
        select(CampaignAssignment)
        .join(Campaign, CampaignAssignment.campaign_id == Campaign.id)
        .where(
            Campaign.institution_id == institution.id,
            Campaign.opens_at <= now,
            Campaign.closes_at > now,
            CampaignAssignment.completed_at.is_(None),
        )
        .order_by(CampaignAssignment.id)
    )
    return {a.student_id: a for a in rows}


def answers_scoring(totals: Mapping[str, int]) -> dict[str, dict[int, int]]:
    """Calm intake answers but for `totals` (PHQ-9 or GAD-7 → total, with no safety answer):
    for the warning demo's chosen cases, whose reasons must be results of a real campaign."""
    return {
        "literacy": _literacy(None),
        "phq9": _spread(load_instrument("phq9"), totals.get("phq9", 0)),
        "gad7": _spread(load_instrument("gad7"), totals.get("gad7", 0)),
        "asq": {1: 0, 2: 0, 3: 0, 4: 0},
    }


def _literacy(rng: random.Random | None) -> dict[int, int]:
    """The literacy quiz answered right, or with `rng` wrong now and then."""
    answers = {}
    for item in load_instrument("literacy").items:
        right = min(item.options.values) if item.correct is None else item.correct
        wrong = [v for v in item.options.values if v != right]
        if rng is not None and wrong and rng.random() > LITERACY_RIGHT:
            answers[item.number] = rng.choice(wrong)
        else:
            answers[item.number] = right
    return answers


def _spread(inst: Instrument, total: int) -> dict[int, int]:
    """Scored items' values summing to `total`, spread evenly over all but PHQ-9's safety item
    (unscored questions, such as PHQ-9's "how difficult", are optional and left out)."""
    answers = {i.number: 0 for i in inst.items if i.scored}
    spread = [n for n in answers if not (inst.code == "phq9" and n == PHQ9_SAFETY_ITEM)]
    for k, number in enumerate(spread):
        answers[number] = total // len(spread) + (k < total % len(spread))
    return answers


def _random_answers(inst: Instrument, count: int, rng: np.random.Generator) -> pd.DataFrame:
    columns = {}
    for item in inst.items:
        safety = inst.code == "phq9" and item.number == 9
        weights = SAFETY_ITEM_WEIGHTS if safety else ITEM_WEIGHTS
        values = sorted(item.options.values)
        columns[f"q{item.number}"] = rng.choice(values, size=count, p=weights[: len(values)])
    return pd.DataFrame(columns)
