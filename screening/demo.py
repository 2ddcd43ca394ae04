"""Demo screening data: the freshman intake open now, and a finished follow-up round.

The follow-up round's results go through the same hand-off as real ones, so the counsellor's
queue opens with realistic content. Answers are scored with the vectorised scorer to keep seeding
a 2,000-student university within a few seconds.
"""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus.models import Department
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import User
from screening import campaigns
from screening.bulk_scoring import score_frame
from screening.intake import Scores
from screening.intake import hand_off
from screening.intake import new_result
from screening.models import Campaign
from screening.models import CampaignAssignment
from screening.models import ResultSource
from screening.scoring import load_instrument

FRESHMAN_INSTRUMENTS = ["literacy", "phq9", "gad7", "asq"]
FOLLOW_UP_INSTRUMENTS = ["phq9", "gad7"]
# Share of students answering 0, 1, 2, 3 on a symptom item: most students are well.
ITEM_WEIGHTS = (0.72, 0.19, 0.06, 0.03)
SAFETY_ITEM_WEIGHTS = (0.96, 0.025, 0.01, 0.005)
FOLLOW_UP_RESPONSE_RATE = 0.6
# The follow-up round covers the older grade of this many departments: enough for a realistic
# counsellor queue, few enough that every result goes through the real hand-off quickly.
FOLLOW_UP_DEPARTMENTS = 2


def seed(session: Session, institution: Institution) -> None:
    """Add the open freshman intake and a completed follow-up round for the older grade."""
    now = clock.now()
    admin = session.scalar(
        select(User)
        .join(User.roles)
        .where(RoleAssignment.role == Role.ADMIN, RoleAssignment.institution_id == institution.id)
    )
    _campaign(
        session,
        institution,
        admin,
        (f"{now.year}级新生心理健康普查", f"{now.year} freshman intake"),
        FRESHMAN_INSTRUMENTS,
        now.year,
        now - timedelta(days=3),
        now + timedelta(days=27),
    )
    follow_up = _campaign(
        session,
        institution,
        admin,
        (f"{now.year - 1}级学生心理健康复查", f"{now.year} sophomore follow-up screening"),
        FOLLOW_UP_INSTRUMENTS,
        now.year - 1,
        now - timedelta(days=40),
        now - timedelta(days=10),
        departments=FOLLOW_UP_DEPARTMENTS,
    )
    _complete_some(session, follow_up, random.Random(20260914))


def _campaign(
    session, institution, admin, names, instruments, grade, opens, closes, departments=None
) -> Campaign:
    """A campaign named `names` (Chinese, English) for `grade`, open from `opens` to `closes`."""
    department_ids = sorted(
        session.scalars(select(Department.id).where(Department.institution_id == institution.id))
    )[:departments]
    campaign = Campaign(
        institution_id=institution.id,
        name=names[0],
        name_en=names[1],
        instruments=instruments,
        grades=[grade],
        department_ids=department_ids if departments else [],
        class_ids=[],
        opens_at=opens,
        closes_at=closes,
        consent_text_zh="",
        consent_text_en="",
        reminder_every_days=3,
        created_by_id=admin.id if admin else None,
    )
    session.add(campaign)
    session.flush()
    campaigns.sync_assignments(session, campaign)
    return campaign


def _complete_some(session: Session, campaign: Campaign, rng: random.Random) -> None:
    assignments = session.scalars(
        select(CampaignAssignment).where(CampaignAssignment.campaign_id == campaign.id)
    ).all()
    chosen = [a for a in assignments if rng.random() < FOLLOW_UP_RESPONSE_RATE]
    numpy_rng = np.random.default_rng(rng.randrange(2**32))
    for code in campaign.instruments:
        inst = load_instrument(code)
        answers = _random_answers(inst, len(chosen), numpy_rng)
        scored = score_frame(inst, answers)
        results = []
        for row, assignment in enumerate(chosen):
            done_at = campaign.opens_at + timedelta(hours=rng.randrange(1, 24 * 28))
            given = {n: int(answers.iat[row, n - 1]) for n in inst.item_numbers}
            results.append(
                new_result(
                    assignment,
                    inst,
                    given,
                    Scores.of_row(inst, scored.iloc[row]),
                    done_at,
                    source=ResultSource.ONLINE,
                )
            )
            assignment.started_at = assignment.completed_at = done_at
        session.add_all(results)
        session.flush()  # one round trip for the ids the hand-off records as evidence
        for assignment, result in zip(chosen, results, strict=True):
            hand_off(session, assignment.student, result)


def _random_answers(inst, count: int, rng: np.random.Generator) -> pd.DataFrame:
    columns = {}
    for item in inst.items:
        safety = inst.code == "phq9" and item.number == 9
        weights = SAFETY_ITEM_WEIGHTS if safety else ITEM_WEIGHTS
        values = sorted(item.options.values)
        columns[f"q{item.number}"] = rng.choice(values, size=count, p=weights[: len(values)])
    return pd.DataFrame(columns)
