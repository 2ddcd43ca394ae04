"""The termly access review: the administrator opens it, confirms or ends every staff role, each
decision with its date and who made it; the home page counts what is left and, after the
deadline, names it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import AccessReview
from campus.models import AccessReviewDecision
from campus.models import ClassGroup
from campus.models import Institution
from campus.models import ReviewOutcome
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import RoleEnd
from campus.models import User
from tests.factories import open_warning
from warning.policy import Level


@dataclass
class Staff:
    institution: Institution
    group: ClassGroup
    boss: User
    zhang: User  # department counsellor and leader
    wang: User  # class committee member


@pytest.fixture
def staff(campus) -> Staff:
    inst = campus.institution("XJU")
    dept = campus.department(inst)
    group = campus.class_group(dept, "CS-2026-1")
    campus.student(group, name="Li Hua")
    boss = campus.staff(inst, Role.ADMIN, login="boss")
    zhang = campus.staff(inst, Role.DEPT_COUNSELLOR, department=dept, login="zhang")
    campus.staff(inst, Role.DEPT_LEADER, department=dept, user=zhang)
    wang = campus.staff(inst, Role.CLASS_COMMITTEE, group=group, login="wang")
    campus.commit()
    clock.advance(timedelta(hours=1))  # the roles were given before the review opens
    return Staff(inst, group, boss, zhang, wang)


def _open(client) -> AccessReview:
    client.post("/admin/access-review/open")
    review = db.session.scalar(select(AccessReview))
    assert review is not None
    return review


def _role(user: User, role: Role) -> RoleAssignment:
    db.session.expire_all()
    (found,) = db.session.scalars(
        select(RoleAssignment)
        .where(RoleAssignment.user_id == user.id, RoleAssignment.role == role)
        .execution_options(with_ended_roles=True)
    )
    return found


def _cards(page: str) -> dict[str, str]:
    """The review page's card of each person, by user id."""
    return {card.split('"')[0]: card for card in page.split('id="person-')[1:]}


def _home(client) -> str:
    return client.get("/").get_data(as_text=True)


def test_the_review_lists_every_staff_role_by_person_and_no_students_role(staff, login):
    client = login(staff.boss)
    assert "Open this term’s review" in client.get("/admin/access-review").get_data(as_text=True)
    review = _open(client)
    assert review.term_key == "term:2026-autumn"
    assert review.deadline == date(2026, 10, 14)
    page = client.get("/admin/access-review").get_data(as_text=True)
    assert "4 roles still to review." in page
    for text in ("Department counsellor", "Department leader", "Class psychology committee"):
        assert text in page
    assert "Li Hua" not in page
    cards = _cards(page)
    assert "Department counsellor" in cards[str(staff.zhang.id)]  # one card a person
    assert "Department leader" in cards[str(staff.zhang.id)]
    assert "Confirm all of this person’s roles" in cards[str(staff.zhang.id)]


def test_confirming_and_ending_records_who_and_when_and_the_home_count_falls(staff, login):
    client = login(staff.boss)
    review = _open(client)
    assert "4 roles to review (due Wed 14 Oct)" in _home(client)

    counsellor = _role(staff.zhang, Role.DEPT_COUNSELLOR)
    base = f"/admin/access-review/{review.id}/roles"
    client.post(f"{base}/{counsellor.id}/confirm")
    member = _role(staff.wang, Role.CLASS_COMMITTEE)
    client.post(f"{base}/{member.id}/end")

    decisions = {d.assignment_id: d for d in db.session.scalars(select(AccessReviewDecision))}
    assert decisions[counsellor.id].outcome is ReviewOutcome.CONFIRMED
    assert decisions[counsellor.id].reviewed_by_id == staff.boss.id
    assert decisions[counsellor.id].reviewed_at == clock.now()
    assert decisions[member.id].outcome is ReviewOutcome.ENDED
    ended = _role(staff.wang, Role.CLASS_COMMITTEE)
    assert ended.ends_at == clock.now()
    assert ended.end_reason is RoleEnd.REVIEW
    assert "2 roles to review (due Wed 14 Oct)" in _home(client)
    page = client.get("/admin/access-review").get_data(as_text=True)
    wang_card = _cards(page)[str(staff.wang.id)]  # still listed, as ended, with who ended it
    assert "Ended " in wang_card
    assert f"by {staff.boss.name}" in wang_card
    assert "End now" not in wang_card
    history = client.get(f"/admin/users/{staff.wang.id}").get_data(as_text=True)
    assert "Ended in the access review by" in history
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"open_access_review", "access_review_confirmed", "access_review_ended"} <= actions


def test_confirm_all_of_a_persons_roles(staff, login):
    client = login(staff.boss)
    review = _open(client)
    page = client.post(
        f"/admin/access-review/{review.id}/people/{staff.zhang.id}/confirm", follow_redirects=True
    ).get_data(as_text=True)
    assert "2 roles confirmed." in page
    confirmed = db.session.scalars(select(AccessReviewDecision.assignment_id)).all()
    assert sorted(confirmed) == sorted(a.id for a in _fresh_roles(staff.zhang))


def _fresh_roles(user: User) -> list[RoleAssignment]:
    db.session.expire_all()
    return list(db.session.get_one(User, user.id).roles)


def test_a_double_submit_says_it_was_reviewed_and_writes_nothing_more(staff, login):
    client = login(staff.boss)
    review = _open(client)
    counsellor = _role(staff.zhang, Role.DEPT_COUNSELLOR)
    url = f"/admin/access-review/{review.id}/roles/{counsellor.id}/confirm"
    client.post(url)
    audits = db.session.scalar(select(func.count()).select_from(AuditEvent))
    again = client.post(url, follow_redirects=True).get_data(as_text=True)
    assert "This role has already been reviewed." in again
    ending = client.post(
        f"/admin/access-review/{review.id}/roles/{counsellor.id}/end", follow_redirects=True
    )
    assert "This role has already been reviewed." in ending.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AccessReviewDecision)) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == audits
    assert _role(staff.zhang, Role.DEPT_COUNSELLOR).ends_at is None
    opened_again = client.post("/admin/access-review/open", follow_redirects=True)
    assert "This term’s access review is already open." in opened_again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AccessReview)) == 1


def test_another_institutions_role_or_review_and_forged_ids_are_404(campus, staff, login):
    other = campus.institution("OTH")
    stranger = campus.staff(other, Role.SCHOOL_COUNSELLOR)
    their_admin = campus.staff(other, Role.ADMIN)
    campus.commit()
    theirs = AccessReview(
        institution_id=other.id,
        term_key="term:2026-autumn",
        opened_by_id=their_admin.id,
        deadline=date(2026, 10, 14),
    )
    db.session.add(theirs)
    db.session.commit()
    client = login(staff.boss)
    review = _open(client)
    foreign = stranger.roles[0].id
    mine = _role(staff.wang, Role.CLASS_COMMITTEE).id
    for review_id, assignment_id in ((review.id, foreign), (theirs.id, mine), (review.id, 999)):
        for step in ("confirm", "end"):
            url = f"/admin/access-review/{review_id}/roles/{assignment_id}/{step}"
            assert client.post(url).status_code == 404
    assert (
        client.post(f"/admin/access-review/{review.id}/people/{stranger.id}/confirm").status_code
        == 404
    )
    assert db.session.scalar(select(func.count()).select_from(AccessReviewDecision)) == 0


def test_a_role_given_after_the_review_opened_is_not_in_it(campus, staff, login):
    client = login(staff.boss)
    review = _open(client)
    clock.advance(timedelta(minutes=5))
    campus.staff(staff.institution, Role.SCHOOL_COUNSELLOR, login="late")
    campus.commit()
    assert "4 roles to review" in _home(client)
    late = db.session.scalar(
        select(RoleAssignment).where(RoleAssignment.role == Role.SCHOOL_COUNSELLOR)
    )
    response = client.post(
        f"/admin/access-review/{review.id}/roles/{late.id}/confirm", follow_redirects=True
    )
    assert "This role is not part of this review." in response.get_data(as_text=True)


def test_after_the_deadline_the_home_page_names_the_unreviewed_roles(staff, login):
    client = login(staff.boss)
    review = _open(client)
    client.post(f"/admin/access-review/{review.id}/people/{staff.zhang.id}/confirm")
    clock.set_now(datetime(2026, 10, 14, 15, 0))  # 23:00 in Beijing, the last day: still due
    assert "2 roles to review (due Wed 14 Oct)" in _home(login(staff.boss))
    clock.set_now(datetime(2026, 10, 14, 16, 30))  # the next morning in Beijing
    home = _home(login(staff.boss))
    assert "2 roles not reviewed by the deadline (Wed 14 Oct)" in home
    assert f"{staff.wang.name}: Class psychology committee member" in home
    assert f"{staff.boss.name}: Administrator" in home
    assert staff.zhang.name not in home


def test_the_administrator_cannot_end_their_own_administrator_role_in_the_review(staff, login):
    client = login(staff.boss)
    review = _open(client)
    own = _role(staff.boss, Role.ADMIN)
    page = client.post(
        f"/admin/access-review/{review.id}/roles/{own.id}/end", follow_redirects=True
    ).get_data(as_text=True)
    assert "Another administrator must end your own administrator role." in page
    assert _role(staff.boss, Role.ADMIN).ends_at is None
    assert db.session.scalar(select(func.count()).select_from(AccessReviewDecision)) == 0


def test_the_review_says_what_a_counsellor_still_holds_beside_her_role(campus, staff, login):
    counsellor = campus.staff(staff.institution, Role.SCHOOL_COUNSELLOR, login="chen")
    student = db.session.scalar(select(User).where(User.name == "Li Hua")).student
    campus.commit()
    open_warning(student, Level.RED, assigned_counsellor_id=counsellor.id)
    clock.advance(timedelta(hours=1))
    client = login(staff.boss)
    _open(client)

    cards = _cards(client.get("/admin/access-review").get_data(as_text=True))

    assert (
        "This person currently holds 1 open warning case. Once the role ends, the cases go back "
        "to the centre to be assigned." in cards[str(counsellor.id)]
    )
    assert "This person currently holds" not in cards[str(staff.wang.id)]
