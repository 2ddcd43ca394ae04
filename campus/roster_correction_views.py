"""The administrator's corrections to one student of the roster: her number and name, or her
removal when she was added by mistake (`campus.roster_corrections`)."""

from __future__ import annotations

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

from campus import acting_for
from campus import roster_corrections
from campus.extensions import db
from campus.forms import CorrectStudentForm
from campus.forms import RemoveStudentForm
from campus.forms import filled
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.outcomes import Refused
from campus.outcomes import made_or_refused_under
from campus.permissions import require_roles

bp = Blueprint("roster_corrections", __name__, url_prefix="/admin/students")


def _student(institution: Institution, student_id: int) -> Student:
    """Student `student_id` of the administrator's institution; 404 for a forged or foreign id.
    One removed as entered in error is gone: `_removed` says so where her old links lead."""
    return roster_corrections.find_student(db.session, institution, student_id) or abort(404)


def _removed(institution: Institution, student_id: int) -> ResponseReturnValue | None:
    """The student list, saying she was removed, for a page of student `student_id` removed as
    entered in error; None for anyone else."""
    removed = roster_corrections.find_removed(db.session, institution, student_id)
    if removed is None:
        return None
    flash(
        _(
            "%(name)s (%(number)s) was removed as entered in error.",
            name=removed.name,
            number=removed.student_number,
        ),
        "info",
    )
    return redirect(url_for("campus.students"))


def _back(student: Student) -> str:
    """Where the student's pages lead back to: her account page, else the student list."""
    if student.user_id is not None:
        return url_for("campus.user_detail", user_id=student.user_id)
    return url_for("campus.students", q=student.student_number)


@bp.route("/<int:student_id>/remove", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def remove(student_id: int) -> ResponseReturnValue:
    """GET: the student named, and either what keeps her (in counts) with the way to end her
    enrolment instead, or the form asking why she is removed; POST: remove her."""
    institution = acting_for.admin_institution()
    student = roster_corrections.find_student(db.session, institution, student_id)
    if student is None:
        if request.method == "POST" and roster_corrections.was_removed(
            db.session, institution, student_id
        ):  # a second click, or a second tab, after the first removed her
            flash(_("This student was removed already."), "info")
            return redirect(url_for("campus.students"))
        return _removed(institution, student_id) or abort(404)
    form = RemoveStudentForm()
    also = roster_corrections.leaving(current_app)
    if form.validate_on_submit():
        name, number = student.name, student.student_number
        try:
            roster_corrections.remove(
                db.session, current_user, institution, student, filled(form.reason), also
            )
        except roster_corrections.AlreadyRemoved:
            flash(_("This student was removed already."), "info")
            return redirect(url_for("campus.students"))
        except Refused as refusal:
            flash(refusal.message.shown(), "error")
            return redirect(url_for("roster_corrections.remove", student_id=student_id))
        flash(_("%(name)s (%(number)s) and their account were removed.", name=name, number=number))
        return redirect(url_for("campus.students"))
    return render_template(
        "campus/remove_student.html",
        student=student,
        form=form,
        kept=roster_corrections.what_keeps(db.session, student, also),
        looked_at=roster_corrections.times_looked_at(db.session, student),
        back=_back(student),
    ), (422 if form.errors else 200)


@bp.route("/<int:student_id>/correct", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def correct(student_id: int) -> ResponseReturnValue:
    """A mistyped student number or name, corrected (her sign-in with her number)."""
    institution = acting_for.admin_institution()
    removed = _removed(institution, student_id)
    if removed is not None:
        return removed
    student = _student(institution, student_id)
    form = CorrectStudentForm(
        data={"student_number": student.student_number, "name": student.name}
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        changed = made_or_refused_under(
            form.student_number,
            roster_corrections.correct,
            db.session,
            current_user,
            institution,
            student,
            filled(form.student_number),
            filled(form.name),
        )
        if changed is not None:
            flash(_("Corrected.") if changed else _("Nothing was changed."), "success")
            return redirect(_back(student))
    return render_template(
        "campus/correct_student.html", student=student, form=form, back=_back(student)
    ), (422 if form.errors else 200)
