"""The student's "my data and consent" pages, and the director's records of processing.

Thin: parse, authorise, call `privacy.consent` / `privacy.records`, render. A student reaches only
their own withdrawals (the student row is looked up from the signed-in account, never from the
URL); a forged scope or withdrawal id is a 404 like a missing one.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from campus import audit
from campus import clock
from campus.access import own_student_or_404
from campus.extensions import db
from campus.i18n import viewer_locale
from campus.models import Role
from campus.permissions import require_roles
from privacy import consent
from privacy import records
from privacy.forms import ReconsentForm
from privacy.forms import WithdrawForm
from privacy.models import ConsentScope
from privacy.models import ConsentWithdrawal
from screening import visibility

bp = Blueprint("my_data", __name__, url_prefix="/privacy/my-data")
records_bp = Blueprint("privacy_records", __name__, url_prefix="/privacy/records")


def _scope(name: str) -> ConsentScope:
    try:
        return ConsentScope(name)
    except ValueError:
        abort(404)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@bp.route("")
@require_roles(Role.STUDENT)
def index() -> ResponseReturnValue:
    """The student's consents: in force or withdrawn (since when), with the way to change each."""
    student = own_student_or_404()
    return render_template(
        "privacy/my_data.html",
        scopes=list(ConsentScope),
        live=consent.live_withdrawals(db.session, student.id),
        history=consent.withdrawal_history(db.session, student.id),
    )


@bp.route("/withdraw/<scope_name>", methods=["GET", "POST"])
@require_roles(Role.STUDENT)
def withdraw(scope_name: str) -> ResponseReturnValue:
    """What withdrawing means for this student, a ticked confirmation, then the withdrawal."""
    scope = _scope(scope_name)
    student = own_student_or_404()
    if scope in consent.live_withdrawals(db.session, student.id):
        flash(_("You have already withdrawn this consent."), "info")
        return redirect(url_for(".index"))
    now = clock.now()
    explanation = consent.explain(db.session, student, scope, now)
    text = explanation.as_text()
    form = WithdrawForm()
    status = 200
    if form.validate_on_submit():
        if form.digest.data != _digest(text):
            # Something the page said changed while the student read it (a new campaign, a
            # referral ended): they confirm what they now read, never words they did not see.
            form.confirm.errors = [
                _("What withdrawing means has changed since you opened this page. Read it again.")
            ]
            form.confirm.data = False
            status = 409
        else:
            try:
                row = consent.withdraw(
                    db.session,
                    current_user,
                    student,
                    scope,
                    explanation=text,
                    locale=viewer_locale(),
                    ip=request.remote_addr,
                    now=now,
                )
            except consent.WithdrawalError as exc:
                flash(str(exc), "info")
                return redirect(url_for(".index"))
            return redirect(url_for(".done", withdrawal_id=row.id))
    elif request.method == "POST":
        status = 422
    form.digest.data = _digest(text)
    return render_template(
        "privacy/withdraw.html", scope=scope, explanation=explanation, form=form
    ), status


@bp.route("/withdrawn/<int:withdrawal_id>")
@require_roles(Role.STUDENT)
def done(withdrawal_id: int) -> ResponseReturnValue:
    """The confirmation: what was withdrawn, when, and what the student read before confirming."""
    student = own_student_or_404()
    row = db.session.scalar(
        select(ConsentWithdrawal).where(
            ConsentWithdrawal.id == withdrawal_id, ConsentWithdrawal.student_id == student.id
        )
    )
    if row is None:
        abort(404)
    return render_template("privacy/withdrawn.html", row=row)


def _reconsent_text(scope: ConsentScope) -> tuple[str, list[visibility.Line]]:
    lead = {
        ConsentScope.SCREENING: _(
            "You agree to be included in mental health screenings again. Each screening still "
            "asks for your consent before it starts, and you may withdraw again at any time."
        ),
        ConsentScope.SENSITIVE_PROCESSING: _(
            "You agree that the mental health centre processes your sensitive health data again "
            "as described below. You may withdraw again at any time."
        ),
    }[scope]
    who_sees = visibility.lines()
    return f"{lead}\n\n{visibility.as_text(who_sees)}", who_sees


@bp.route("/consent/<scope_name>", methods=["GET", "POST"])
@require_roles(Role.STUDENT)
def reconsent(scope_name: str) -> ResponseReturnValue:
    """Give a withdrawn consent again, with a fresh ticked agreement to the text shown."""
    scope = _scope(scope_name)
    student = own_student_or_404()
    if scope not in consent.live_withdrawals(db.session, student.id):
        flash(_("This consent is in force: there is nothing to give again."), "info")
        return redirect(url_for(".index"))
    text, who_sees = _reconsent_text(scope)
    form = ReconsentForm()
    status = 200
    if form.validate_on_submit():
        try:
            consent.reinstate(
                db.session, current_user, student, scope, consent_text=text, now=clock.now()
            )
            flash(_("Thank you: your consent is in force again."), "success")
        except consent.WithdrawalError as exc:
            flash(str(exc), "info")
        return redirect(url_for(".index"))
    if request.method == "POST":
        status = 422
    return render_template(
        "privacy/reconsent.html",
        scope=scope,
        lead=text.split("\n\n", 1)[0],
        who_sees=who_sees,
        form=form,
    ), status


@records_bp.route("")
@require_roles(Role.DIRECTOR)
def index_records() -> ResponseReturnValue:
    """The records of processing, generated from the code's configuration (audited: the page
    names no student, but who read the institution's processing record is worth knowing)."""
    built = records.build(current_app)
    audit.record_read(
        db.session,
        actor=current_user,
        record_type="records_of_processing",
        institution_id=current_user.institution_id,
    )
    return render_template(
        "privacy/records.html", records=built, export_tier_words=records.EXPORT_TIER_WORDS
    )
