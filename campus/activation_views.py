"""Activation slips (issue a batch, print it once) and the first sign-in with a code."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from campus import activation
from campus import auth
from campus import clock
from campus.account_limits import PER_ADDRESS
from campus.account_limits import per_account
from campus.activation import Cohort
from campus.activation import CohortKind
from campus.extensions import db
from campus.extensions import limiter
from campus.forms import ActivationBatchForm
from campus.forms import CodeSignInForm
from campus.forms import LostSlipForm
from campus.forms import add_error
from campus.forms import filled
from campus.i18n import viewer_locale
from campus.local_time import Day
from campus.models import ActivationBatch
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.permissions import account_url
from campus.permissions import may_open_account
from campus.permissions import require_roles
from campus.sign_in_steps import browser_signed_in
from campus.sign_in_steps import session_replaced

bp = Blueprint("activation", __name__, url_prefix="/activation")
first_sign_in_bp = Blueprint("first_sign_in", __name__, url_prefix="/activate")


# Why no slip was printed: the student (or every student of the cohort) has a password already.
NOTHING_TO_ISSUE = {
    True: _l(
        "This student has set a password already and signs in with it: no code was issued. A "
        "forgotten password is reset by an administrator on the student's account page (the "
        "Students list, “Account and password”)."
    ),
    False: _l(
        "Every student of this cohort has set a password already: no code was issued. A "
        "forgotten password is reset by an administrator on the student's account page (the "
        "Students list, “Account and password”)."
    ),
}
# The same, said to an administrator taken to that student's account page.
RESET_HERE = _l(
    "This student has set a password already and signs in with it: no code was issued. If the "
    "password is forgotten, issue a one-time password here."
)


def cohort_label(cohort: Cohort) -> str:
    """A cohort in words: 计算机学院 CS2601（2026级）, 计算机学院 2026级, 全校 2026级."""
    if cohort.kind is CohortKind.CLASS:
        return _(
            "%(department)s, class %(name)s (grade %(grade)s)",
            department=cohort.department_name,
            name=cohort.class_name,
            grade=cohort.grade,
        )
    if cohort.kind is CohortKind.DEPARTMENT:
        return _(
            "%(department)s, all of grade %(grade)s",
            department=cohort.department_name,
            grade=cohort.grade,
        )
    if cohort.kind is CohortKind.STUDENT:
        return _(
            "%(student)s, class %(name)s: a new code for this student only",
            student=cohort.student_name,
            name=cohort.class_name,
        )
    return _("Whole institution, grade %(grade)s", grade=cohort.grade)


def batch_label(batch: ActivationBatch) -> str:
    if batch.student is not None and batch.class_group is not None:
        return _(
            "%(student)s, class %(name)s: a new code for this student only",
            student=batch.student.name,
            name=batch.class_group.name,
        )
    if batch.class_group is not None:
        return _(
            "%(department)s, class %(name)s (grade %(grade)s)",
            department=batch.class_group.department.name,
            name=batch.class_group.name,
            grade=batch.grade,
        )
    if batch.department is not None:
        return _(
            "%(department)s, all of grade %(grade)s",
            department=batch.department.name,
            grade=batch.grade,
        )
    return _("Whole institution, grade %(grade)s", grade=batch.grade)


@bp.route("", methods=["GET", "POST"])
@require_roles(*activation.ISSUER_ROLES)
def index() -> ResponseReturnValue:
    form = _cohort_form()
    if not form.is_submitted():
        form.issued()
    if form.validate_on_submit():
        cohort = activation.find_cohort(db.session, current_user, filled(form.cohort))
        if cohort is None:
            abort(404)  # a cohort outside the issuer's reach, as if it did not exist
        return _issued(cohort, filled(form.valid_days), form.submission.data)
    return _activation_page(form, LostSlipForm(formdata=None).issued())


@bp.route("/student", methods=["POST"])
@require_roles(*activation.ISSUER_ROLES)
def lost_slip() -> ResponseReturnValue:
    """A new code for one student whose slip was lost; the class's other slips keep working."""
    form = LostSlipForm()
    if form.validate_on_submit():
        cohort = activation.student_cohort(db.session, current_user, filled(form.student_number))
        if cohort is not None:
            return _issued(cohort, filled(form.valid_days), form.submission.data)
        add_error(form.student_number, _("No student with this number is on your roster."))
    return _activation_page(_cohort_form().issued(), form)


def _cohort_form() -> ActivationBatchForm:
    form = ActivationBatchForm()
    cohorts = activation.cohorts_for(db.session, current_user)
    form.cohort.choices = [(c.token, cohort_label(c)) for c in cohorts]
    return form


def _issued(cohort: Cohort, valid_days: int, submission: str | None) -> ResponseReturnValue:
    """The print page of a new batch, or, for a form sent again, back to the list saying so."""
    try:
        issued = activation.issue_batch(
            db.session, current_user, cohort, valid_days, clock.now(), submission
        )
    except activation.AlreadyIssued:
        flash(
            _(
                "These slips were issued already, and their codes shown once: print the page "
                "they were on. Nothing was issued again, so the printed slips still work. If "
                "that page was lost before it was printed, issue the slips again: the new codes "
                "replace the unused ones."
            ),
            "warning",
        )
        return redirect(url_for(".index"))
    except activation.NothingToIssue:
        student = db.session.get(Student, cohort.student_id) if cohort.student_id else None
        if student is not None and may_open_account(student):
            flash(str(RESET_HERE), "warning")
            return redirect(account_url(student) + "#password")
        flash(str(NOTHING_TO_ISSUE[cohort.kind is CohortKind.STUDENT]), "warning")
        return redirect(url_for(".index"))
    return _print_page(issued, cohort)


def _activation_page(form: ActivationBatchForm, lost_form: LostSlipForm) -> ResponseReturnValue:
    return render_template(
        "campus/activation.html",
        form=form,
        lost_form=lost_form,
        batches=activation.recent_batches(db.session, current_user),
        finds_accounts=current_user.has_role(Role.ADMIN),
        batch_label=batch_label,
        last_day=lambda batch: activation.last_day(
            batch, db.session.get_one(Institution, batch.institution_id)
        ),
    ), (422 if form.errors or lost_form.errors else 200)


def _print_page(issued: activation.IssuedBatch, cohort: Cohort) -> ResponseReturnValue:
    """The slips, shown this once: the page is the answer to the issuing POST (and the app
    sends every page `no-store`), so the codes cannot be opened again later."""
    batch = issued.batch
    institution = db.session.get_one(Institution, batch.institution_id)
    last_day = activation.last_day(batch, institution)
    with force_locale("zh_CN"):
        chinese = _slip_texts()
    english = _slip_texts() if viewer_locale().startswith("en") else None
    base = current_app.config["PUBLIC_BASE_URL"] or request.host_url
    return render_template(
        "campus/activation_slips.html",
        issued=issued,
        batch=batch,
        label=cohort_label(cohort),
        institution=institution,
        last_day=last_day.isoformat(),
        address=base.rstrip("/") + url_for("first_sign_in.index"),
        chinese=chinese,
        english=english,
    )


def _slip_texts() -> dict[str, str]:
    """A slip's words in the current language (every slip is in Chinese; English is added for
    an issuer who reads English)."""
    return {
        "title": _("Xinqiao account activation"),
        "institution": _("Institution code"),
        "name": _("Name"),
        "unit": _("Department and class"),
        "login": _("Student number"),
        "code": _("Activation code"),
        "valid": _("Valid through"),
        "address": _("Sign in at"),
        "steps": _(
            "Open the address, enter the institution code, your student number and this code, "
            "then choose your own password. The code works only once."
        ),
        "keep": _("Keep this slip to yourself: whoever has the code can open your account."),
    }


@first_sign_in_bp.route("", methods=["GET", "POST"], endpoint="index")
@per_account("activate", _l("Too many sign-in attempts. Wait a minute."))
@limiter.limit(PER_ADDRESS, methods=["POST"])
def first_sign_in() -> ResponseReturnValue:
    form = CodeSignInForm()
    if form.validate_on_submit():
        try:
            user = activation.sign_in_with_code(
                db.session,
                filled(form.institution),
                filled(form.login),
                filled(form.code),
                request.remote_addr,
                replacing=session_replaced(),
            )
        except activation.ActivationRefused as refused:
            expired_on = ""
            if refused.expired_at is not None:
                zone = clock.institution_zone(_institution(filled(form.institution)))
                expired_on = Day(
                    clock.local_date(refused.expired_at - timedelta(seconds=1), zone).isoformat()
                )
            message = activation.refusal_message(refused, expired_on).shown()
            then = activation.next_step(refused)
            return render_template(
                "campus/first_sign_in.html",
                form=form,
                refusal=message,
                next_step=then.shown() if then else None,
            ), 401
        browser_signed_in(user)  # nothing from the anonymous session survives sign-in
        return redirect(url_for("campus.change_password"))
    return render_template("campus/first_sign_in.html", form=form, refusal=None), (
        422 if form.errors else 200
    )


def _institution(code: str) -> Institution | None:
    return db.session.scalar(
        select(Institution).where(Institution.code == auth.normal_institution_code(code))
    )
