"""Pages of the retention part: a student's erasure request (`/privacy/erasure/mine`), the
director's review (`/privacy/erasure`) and legal holds (`/privacy/holds`)."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import true

from campus import access
from campus import audit
from campus import clock
from campus.extensions import db
from campus.i18n import shown
from campus.models import Role
from campus.models import Student
from campus.permissions import require_roles
from privacy import erasure
from privacy import holds
from privacy import record_types
from privacy.retention_forms import DecisionForm
from privacy.retention_forms import ErasureRequestForm
from privacy.retention_forms import HoldForm
from privacy.retention_models import OPEN_ERASURE_STATES
from privacy.retention_models import ErasureRequest
from privacy.retention_models import LegalHold
from privacy.retention_permissions import REVIEW_ROLES
from privacy.retention_permissions import review_clause

bp = Blueprint("erasure", __name__, url_prefix="/privacy/erasure")
holds_bp = Blueprint("holds", __name__, url_prefix="/privacy/holds")


def _student() -> Student:
    student = current_user.student
    if student is None:
        abort(403)
    return student


@bp.route("/mine", methods=["GET", "POST"])
@require_roles(Role.STUDENT)
def mine():
    """What an erasure does, the student's latest request and its outcome, and the request form."""
    student = _student()
    form = ErasureRequestForm()
    if form.validate_on_submit():
        try:
            erasure.request_erasure(db.session, student, form.note.data or "", clock.now())
        except erasure.ErasureError as error:
            flash(shown(error.args[0]), "error")
        else:
            flash(_("Your request was sent to the centre director."), "success")
        return redirect(url_for("erasure.mine"))
    latest = erasure.latest(db.session, student.id)
    return render_template(
        "privacy/retention/mine.html",
        form=form,
        latest=latest,
        open_states=OPEN_ERASURE_STATES,
        state_words=erasure.STATE_WORDS,
        student_reasons=erasure.STUDENT_REASONS,
    )


@bp.route("")
@require_roles(*REVIEW_ROLES)
def index():
    """The school's erasure requests, those waiting first."""
    waiting = case((ErasureRequest.state.in_(OPEN_ERASURE_STATES), 0), else_=1)
    rows = access.list_in_scope(
        ErasureRequest,
        review_clause(current_user),
        (waiting, ErasureRequest.requested_at.desc()),
        action="erasure_list",
        record_type="erasure",
    )
    return render_template(
        "privacy/retention/index.html", rows=rows, state_words=erasure.STATE_WORDS
    )


def _load(request_id: int) -> ErasureRequest:
    return access.load_or_404(
        ErasureRequest,
        request_id,
        review_clause(current_user),
        action="erasure_review",
        record_type="erasure",
        audit_read=True,
    )


@bp.route("/<int:request_id>", methods=["GET", "POST"])
@require_roles(*REVIEW_ROLES)
def review(request_id: int):
    """The request, what the student has of each kind, what must be kept, and the decision."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    item = _load(request_id)
    erasure.start_review(db.session, current_user, item, clock.now())
    db.session.commit()
    form = DecisionForm()
    types = record_types.registered(app)
    if form.validate_on_submit():
        kept = {
            t.key: request.form[f"keep_{t.key}"] for t in types if request.form.get(f"keep_{t.key}")
        }
        decision = erasure.Decision(form.decision.data == "approve", kept, form.reason.data or "")
        try:
            erasure.decide(app, db.session, current_user, item, decision, clock.now())
        except erasure.ErasureError as error:
            db.session.rollback()
            flash(shown(error.args[0]), "error")
        else:
            flash(_("The decision was recorded and the student told."), "success")
            return redirect(url_for("erasure.review", request_id=item.id))
    held = holds.in_force(db.session, item.student_id)
    forced = erasure.must_keep(app, db.session, item) if item.state in OPEN_ERASURE_STATES else {}
    return render_template(
        "privacy/retention/review.html",
        item=item,
        form=form,
        types=types,
        counts=_counts(types, item.student_id),
        forced=forced,
        held=held,
        reasons=erasure.KEEP_REASONS,
        open_states=OPEN_ERASURE_STATES,
        state_words=erasure.STATE_WORDS,
        type_labels={t.key: t.label for t in types},
    )


def _counts(types: list[record_types.RecordType], student_id: int) -> dict[str, int]:
    """How many records of each kind the student has: what the decision is about."""
    return {
        t.key: db.session.scalar(
            select(func.count())
            .select_from(t.root)
            .where(t.student == student_id, t.covers() if t.covers is not None else true())
        )
        or 0
        for t in types
    }


@holds_bp.route("", methods=["GET", "POST"], endpoint="index")
@require_roles(*REVIEW_ROLES)
def hold_list():
    """Holds in force in the school, and the form to place one by student number."""
    form = HoldForm()
    if form.validate_on_submit():
        number = (form.student_number.data or "").strip()
        student = db.session.scalar(
            select(Student).where(Student.student_number == number, review_clause(current_user))
        )
        if student is None:
            audit.record_denied(db.session, current_user, "legal_hold_placed", "legal_hold", number)
            form.student_number.errors = [_("No student of your school has this number.")]
        else:
            try:
                holds.place(db.session, current_user, student, form.reason.data or "", clock.now())
            except holds.HoldError as error:
                db.session.rollback()
                flash(shown(error.args[0]), "error")
            else:
                flash(
                    _("The hold is in force: the purge and erasure skip this student."), "success"
                )
                return redirect(url_for("holds.index"))
    rows = access.list_in_scope(
        LegalHold,
        review_clause(current_user) & LegalHold.lifted_at.is_(None),
        (LegalHold.placed_at.desc(),),
        action="legal_hold_list",
        record_type="legal_hold",
    )
    return render_template("privacy/retention/holds.html", form=form, rows=rows)


@holds_bp.route("/<int:hold_id>/lift", methods=["POST"])
@require_roles(*REVIEW_ROLES)
def lift(hold_id: int):
    hold = access.load_or_404(
        LegalHold,
        hold_id,
        review_clause(current_user),
        action="legal_hold_lifted",
        record_type="legal_hold",
    )
    try:
        holds.lift(db.session, current_user, hold, clock.now())
    except holds.HoldError as error:
        flash(shown(error.args[0]), "error")
    else:
        flash(_("The hold was lifted."), "success")
    return redirect(url_for("holds.index"))
