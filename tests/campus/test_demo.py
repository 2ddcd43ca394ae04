"""The demo university tells one story: what a warning cites is a result on a campaign's pages,
a past round holds only students enrolled then, and a name reads as the gender recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus import demo
from campus.extensions import db
from campus.models import ClassGroup
from campus.models import Institution
from campus.models import Student
from screening.models import Campaign
from screening.models import CampaignAssignment
from screening.models import ScreeningResult
from warning.models import Signal
from warning.models import SignalSource


@pytest.fixture
def demo_university(app):
    """The demo university, small (seeding the full 2,000 students takes several seconds)."""
    logins = demo.seed(db.session, students=240, today=clock.now().date())
    db.session.commit()
    return logins


def _xju() -> Institution:
    return db.session.scalar(select(Institution).where(Institution.code == demo.DEMO_CODE))


def test_every_screening_warning_cites_a_result_of_a_campaign_the_demo_has(demo_university):
    signals = db.session.scalars(
        select(Signal).where(
            Signal.institution_id == _xju().id, Signal.source == SignalSource.SCREENING
        )
    ).all()
    assert signals
    for signal in signals:
        assert signal.evidence_type == "screening_result", signal.label
        result = db.session.get(ScreeningResult, signal.evidence_id)
        assert result is not None, signal.label
        assert result.student_id == signal.student_id
        assert result.instrument == signal.instrument
        cited = signal.label_params.get("campaign") or signal.label_params["after"]
        assert cited["name"] == result.campaign.name, signal.label


def test_the_red_phq9_of_the_demo_is_a_result_of_the_open_freshman_intake(demo_university):
    now = clock.now()
    red = db.session.scalar(select(Signal).where(Signal.instrument == "phq9", Signal.total == 22))
    assert red is not None
    result = db.session.get(ScreeningResult, red.evidence_id)
    assert result.campaign.name == f"{now.year}级新生心理健康普查"
    assert result.campaign.opens_at <= result.completed_at <= now
    assignment = db.session.get(CampaignAssignment, result.assignment_id)
    assert assignment.completed_at is not None


def test_the_open_freshman_intake_has_its_first_students_done_but_the_demo_student(
    demo_university,
):
    intake = db.session.scalar(
        select(Campaign).where(Campaign.name_en == f"{clock.now().year} freshman intake")
    )
    done = db.session.scalar(
        select(func.count(CampaignAssignment.id)).where(
            CampaignAssignment.campaign_id == intake.id,
            CampaignAssignment.completed_at.is_not(None),
        )
    )
    assert done > 0
    student_login = next(e.login for e in demo_university if e.role == "student")
    demo_student = db.session.scalar(select(Student).where(Student.student_number == student_login))
    mine = db.session.scalar(
        select(CampaignAssignment).where(
            CampaignAssignment.campaign_id == intake.id,
            CampaignAssignment.student_id == demo_student.id,
        )
    )
    assert mine.completed_at is None


def test_every_result_belongs_to_a_student_of_the_campaigns_grade_enrolled_by_then(
    demo_university,
):
    rows = db.session.execute(
        select(Campaign, ClassGroup.grade, ScreeningResult.completed_at)
        .join(ScreeningResult, ScreeningResult.campaign_id == Campaign.id)
        .join(Student, ScreeningResult.student_id == Student.id)
        .join(ClassGroup, Student.class_id == ClassGroup.id)
    ).all()
    assert {campaign.name for campaign, _, _ in rows} >= {
        f"{clock.now().year - 1}级新生心理健康普查",
        f"{clock.now().year - 1}级学生心理健康复查",
    }
    for campaign, grade, completed_at in rows:
        assert grade in campaign.grades, campaign.name
        assert grade <= completed_at.year, campaign.name
        assert campaign.opens_at <= completed_at <= campaign.closes_at, campaign.name


def test_a_sophomores_trend_shows_three_rounds(demo_university):
    history = db.session.execute(
        select(ScreeningResult.student_id, func.count(func.distinct(ScreeningResult.campaign_id)))
        .where(ScreeningResult.instrument == "phq9")
        .group_by(ScreeningResult.student_id)
    ).all()
    assert max(n for _, n in history) == 3  # the intake, the spring and the autumn follow-up


def test_every_demo_name_reads_as_the_gender_recorded(demo_university):
    students = db.session.scalars(select(Student)).all()
    assert {s.gender for s in students} == {"M", "F"}
    for student in students:
        given = student.name[1:]
        assert set(given) <= set(demo.GIVEN[student.gender]), (student.name, student.gender)
