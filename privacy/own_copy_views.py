"""A student's own copy: the student's page and downloads (`/privacy/my-copy`), and the page where
the centre director answers a request received on paper (`/privacy/copy-requests/<student>`)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from campus import audit
from campus import clock
from campus import local_time
from campus.access import own_student_or_404
from campus.documents import PDF_TYPE
from campus.documents import render_pdf
from campus.downloads import send_download
from campus.extensions import db
from campus.forms import filled
from campus.i18n import viewer_locale
from campus.models import Role
from campus.models import Student
from campus.models import User
from campus.permissions import require_roles
from campus.scope import Capability
from campus.scope import student_filter
from privacy import own_copy
from privacy.own_copy_forms import PaperRequestForm
from privacy.own_copy_permissions import PAPER_REQUEST_ROLES

bp = Blueprint("own_copy", __name__, url_prefix="/privacy")

JSON_TYPE = "application/json"


def _send(student: Student, copy: own_copy.OwnCopy, fmt: str, *, generated_by: User) -> Response:
    """The copy as a file: the PDF rendered in the copy's language, or the JSON text."""
    stem = _("My data %(number)s", number=copy.student_number)
    fallback = f"xinqiao-my-data-{copy.student_number}".encode("ascii", "replace").decode()
    if fmt == "json":
        body = own_copy.as_json(copy).encode("utf-8")
        return send_download(body, JSON_TYPE, name=f"{stem}.json", fallback=f"{fallback}.json")
    with force_locale(copy.locale):
        pdf = render_pdf(
            "privacy/own_copy_document.html",
            copy=copy,
            zone_words=local_time.zone_name(ZoneInfo(copy.zone)),
            institution=student.institution,
            generated_by=generated_by,
            generated_at=copy.generated_at,
        )
    return send_download(pdf, PDF_TYPE, name=f"{stem}.pdf", fallback=f"{fallback}.pdf")


def _gather(student: Student, locale: str) -> own_copy.OwnCopy:
    """The copy in `locale`, questions in the institution's licensed text where it loaded one
    (the intake's folder, `screening.intake.instrument`)."""
    with force_locale(locale):
        return own_copy.gather(
            current_app,
            db.session,
            student,
            locale,
            licensed_dir=Path(current_app.instance_path) / "instruments",
        )


@bp.route("/my-copy")
@require_roles(Role.STUDENT)
def my_copy() -> ResponseReturnValue:
    """The student's page: what the copy holds, what it leaves out and why, two downloads."""
    own_student_or_404()
    return render_template("privacy/my_copy.html")


@bp.route("/my-copy.<fmt>")
@require_roles(Role.STUDENT)
def my_copy_file(fmt: str) -> ResponseReturnValue:
    """The student's own copy, only ever their own (no id in the address to forge)."""
    if fmt not in own_copy.FORMATS:
        abort(404)
    student = own_student_or_404()
    copy = _gather(student, viewer_locale())
    own_copy.audit_download(db.session, student, actor=current_user, fmt=fmt)
    return _send(student, copy, fmt, generated_by=current_user)


def _requested_student(student_id: int) -> Student:
    """A student of the director's school, or 404 with a `denied` row (a forged id leaves a
    trail, and says nothing about whether that student exists elsewhere)."""
    student = db.session.scalar(
        select(Student).where(
            Student.id == student_id, student_filter(current_user, Capability.CLINICAL)
        )
    )
    if student is None:
        audit.record_denied(db.session, current_user, "produce_own_copy", "own_copy", student_id)
        abort(404)
    return student


@bp.route("/copy-requests/<int:student_id>", methods=["GET", "POST"])
@require_roles(*PAPER_REQUEST_ROLES)
def paper_request(student_id: int) -> ResponseReturnValue:
    """The request's reference, then the copy: audited with the reference, the student told."""
    student = _requested_student(student_id)
    form = PaperRequestForm()
    today = clock.local_date(clock.now(), clock.viewer_zone())
    if not form.is_submitted():
        form.received_on.data = today
        saved = student.user.locale if student.user else None
        form.language.data = "en" if saved and saved.startswith("en") else "zh_CN"
    if form.validate_on_submit():
        request = own_copy.PaperRequest(
            received_on=filled(form.received_on),
            verified_by=filled(form.verified_by),
            reference=filled(form.reference),
        )
        fmt, locale = filled(form.fmt), filled(form.language)
        copy = _gather(student, locale)
        try:
            own_copy.answer_paper_request(
                db.session,
                student,
                request,
                actor=current_user,
                fmt=fmt,
                notice_link=url_for("own_copy.my_copy"),
                today=today,
            )
        except own_copy.CopyRequestError as problem:
            form.form_errors.append(str(problem))
        else:
            return _send(student, copy, fmt, generated_by=current_user)
    return render_template("privacy/paper_request.html", form=form, student=student), (
        400 if form.errors or form.form_errors else 200
    )
