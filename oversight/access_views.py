"""The termly access review page: open this term's review, confirm or end each staff role."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from campus import acting_for
from campus import admin
from campus import clock
from campus.extensions import db
from campus.models import AccessReview
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.outcomes import flash_outcome
from campus.permissions import require_roles
from oversight import access_review
from oversight import periods

bp = Blueprint("access_review", __name__, url_prefix="/admin/access-review")


@bp.route("")
@require_roles(Role.ADMIN)
def index() -> ResponseReturnValue:
    institution = acting_for.admin_institution()
    now = clock.now()
    review = access_review.review_of_term(
        db.session, institution, now
    ) or access_review.latest_review(db.session, institution.id)
    people = access_review.people(db.session, review) if review else []
    today = admin.local_today(institution, now)
    return render_template(
        "oversight/access_review.html",
        review=review,
        review_term=periods.parse(review.term_key) if review else None,
        people=people,
        pending=sum(p.pending for p in people),
        overdue=review is not None and access_review.overdue(review, today),
        term=access_review.term_of(institution, now),
        this_term_open=review is not None
        and review.term_key == access_review.term_of(institution, now).key,
        days=current_app.config["ACCESS_REVIEW_DAYS"],
    )


@bp.route("/open", methods=["POST"])
@require_roles(Role.ADMIN)
def open_review() -> ResponseReturnValue:
    institution = acting_for.admin_institution()
    days = current_app.config["ACCESS_REVIEW_DAYS"]
    flash_outcome(
        _("This term’s access review is open."),
        access_review.open_review,
        db.session,
        current_user,
        institution,
        clock.now(),
        days,
    )
    return redirect(url_for("access_review.index"))


@bp.route("/<int:review_id>/roles/<int:assignment_id>/confirm", methods=["POST"])
@require_roles(Role.ADMIN)
def confirm(review_id: int, assignment_id: int) -> ResponseReturnValue:
    def decide(institution: Institution, review: AccessReview, assignment: RoleAssignment) -> None:
        access_review.confirm(db.session, current_user, review, [assignment], clock.now())

    return _decide(review_id, assignment_id, _("Confirmed."), decide)


@bp.route("/<int:review_id>/roles/<int:assignment_id>/end", methods=["POST"])
@require_roles(Role.ADMIN)
def end(review_id: int, assignment_id: int) -> ResponseReturnValue:
    def decide(institution: Institution, review: AccessReview, assignment: RoleAssignment) -> None:
        access_review.end(db.session, current_user, institution, review, assignment, clock.now())

    return _decide(review_id, assignment_id, _("The role has ended."), decide)


def _decide(
    review_id: int,
    assignment_id: int,
    done: str,
    decide: Callable[[Institution, AccessReview, RoleAssignment], None],
) -> ResponseReturnValue:
    """Apply one decision on one role of the review and say `done`, or the refusal's reason.
    Back to the person either way."""
    institution, review, assignment = _load(review_id, assignment_id)
    flash_outcome(done, decide, institution, review, assignment)
    return redirect(url_for("access_review.index", _anchor=f"person-{assignment.user_id}"))


@bp.route("/<int:review_id>/people/<int:user_id>/confirm", methods=["POST"])
@require_roles(Role.ADMIN)
def confirm_person(review_id: int, user_id: int) -> ResponseReturnValue:
    institution = acting_for.admin_institution()
    review = _review(institution, review_id)
    if admin.find_user(db.session, institution, user_id) is None:
        abort(404)
    roles = access_review.pending_of(db.session, review, user_id)
    if not roles:
        flash(_("This person's roles have already been reviewed."), "error")
        return redirect(url_for("access_review.index"))
    flash_outcome(
        ngettext("%(num)s role confirmed.", "%(num)s roles confirmed.", len(roles)),
        access_review.confirm,
        db.session,
        current_user,
        review,
        roles,
        clock.now(),
    )
    return redirect(url_for("access_review.index", _anchor=f"person-{user_id}"))


def _review(institution: Institution, review_id: int) -> AccessReview:
    """Review `review_id` of the administrator's institution; 404 for a forged or foreign id."""
    review = access_review.find_review(db.session, institution, review_id)
    if review is None:
        abort(404)
    return review


def _load(review_id: int, assignment_id: int) -> tuple[Institution, AccessReview, RoleAssignment]:
    """The institution acted for, its review and one of its assignments (working or ended, so
    a second click is told what happened); 404 for a forged or another institution's id."""
    institution = acting_for.admin_institution()
    review = _review(institution, review_id)
    assignment = admin.find_any_assignment(db.session, institution, assignment_id)
    if assignment is None:
        abort(404)
    return institution, review, assignment
