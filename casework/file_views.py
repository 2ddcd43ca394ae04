"""The student file's pages: the file, its PDF, the family-contact form, the month's key students
and the individual screening report (for staff, and for the student when the campaign allows it).
"""

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
from sqlalchemy import select

from campus import audit
from campus import clock
from campus.centre_phone import on_duty_phone
from campus.documents import pdf_download
from campus.documents import print_language
from campus.documents import printed_in
from campus.extensions import db
from campus.forms import add_error
from campus.forms import filled
from campus.i18n import refusal_text
from campus.i18n import viewer_locale
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.outcomes import Refused
from campus.permissions import require_roles
from campus.redirects import safe_next
from campus.scope import Capability
from campus.scope import student_filter
from casework import family_contacts
from casework import guardian_corrections
from casework import screening_report
from casework import student_file
from casework.file_forms import FamilyContactForm
from casework.file_forms import GuardianForm
from casework.file_permissions import FAMILY_FIGURE_ROLES
from casework.file_permissions import FILE_ROLES
from casework.file_permissions import can_log_family_contact
from casework.models import ContactChannel
from casework.models import ContactDirection
from casework.models import ContactOutcome
from casework.models import FamilyContact
from screening.models import Campaign
from warning import actions
from warning.models import EarlyWarning
from warning.models import WarningStatus

bp = Blueprint("casework_file", __name__, url_prefix="/casework/students")
family_bp = Blueprint("family", __name__, url_prefix="/casework/family")
reports_bp = Blueprint("my_reports", __name__, url_prefix="/casework/my-reports")

# Class and dorm tiers are let through the guard so that their attempt is a 404 with an audit row
# (like a forged id), not a 403 that would confirm the student exists.
FILE_GUARD = (*FILE_ROLES, Role.CLASS_COMMITTEE, Role.DORM_INFORMANT)


def _file_student(student_id: int, action: str) -> tuple[Student, Capability]:
    """The student if the viewer may open the file (WARNING scope) and the viewer's capability;
    404 otherwise, the denial audited."""
    student = db.session.scalar(
        select(Student).where(
            Student.id == student_id, student_filter(current_user, Capability.WARNING)
        )
    )
    if student is None:
        audit.record_denied(db.session, current_user, action, "student_file", student_id)
        abort(404)
    clinical = db.session.scalar(
        select(Student.id).where(
            Student.id == student.id, student_filter(current_user, Capability.CLINICAL)
        )
    )
    return student, Capability.CLINICAL if clinical is not None else Capability.WARNING


def _age(student: Student) -> int:
    today = clock.local_date(clock.now(), clock.viewer_zone())
    born = student.birth_date
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _context(student: Student, capability: Capability) -> dict:
    shown = student_file.load(current_app, db.session, current_user, student, capability)
    return {
        "student": student,
        "capability": capability,
        "clinical": capability is Capability.CLINICAL,
        "shown": shown,
        "hidden": [
            s.title()
            for s in student_file.hidden_for(current_app, capability, current_user, student)
        ],
        "age": _age(student),
        "may_break_glass": capability < Capability.CLINICAL
        and current_user.has_role(Role.SCHOOL_COUNSELLOR),
    }


@bp.route("/<int:student_id>")
@require_roles(*FILE_GUARD)
def page(student_id: int) -> ResponseReturnValue:
    """The student's file: every section the viewer's capability allows; one audit row."""
    student, capability = _file_student(student_id, "read_file")
    context = _context(student, capability)
    # Rendered before the audit commit (which expires the rows) and returned only after it.
    body = render_template("casework/file/page.html", printing=False, **context)
    audit.record_read_on(
        db.session,
        student,
        actor=current_user,
        action="read_file",
        record_type="student_file",
        detail=student_file.audit_detail(context["shown"], capability),
    )
    return body


@bp.route("/<int:student_id>/file.pdf")
@require_roles(*FILE_GUARD)
def pdf(student_id: int) -> ResponseReturnValue:
    """The file as a printed document: only what the viewer may see, marked confidential."""
    student, capability = _file_student(student_id, "print")
    context = _context(student, capability)
    return pdf_download(
        db.session,
        student,
        actor=current_user,
        document="student_file",
        filename=_(
            "Student file %(number)s %(name)s.pdf", number=student.student_number, name=student.name
        ),
        template="casework/file/document.html",
        printing=True,
        institution=db.session.get(Institution, student.institution_id),
        generated_by=current_user,
        generated_at=clock.now(),
        **context,
    )


# --- family contacts ----------------------------------------------------------------------------


# The warning page's "Guardian notified" step is this log's form (`guardian_step_form`): sent from
# there (`?back=warning`), it returns there.
FROM_WARNING = "warning"


def _blank_form(student: Student) -> FamilyContactForm:
    """A new form with its one-time token: now and the guardian on file. Who called, how and
    whether she was reached are left to choose (`FamilyContactForm`)."""
    form = FamilyContactForm(formdata=None).issued()
    form.at.data = clock.to_local(clock.now(), clock.viewer_zone()).replace(second=0, microsecond=0)
    form.guardian_name.data = student.guardian_name or ""
    form.guardian_relation.data = family_contacts.known_relation(
        db.session, student, form.guardian_name.data
    )
    return form


def _prefilled_form(student: Student) -> FamilyContactForm:
    """`_blank_form`, prefilled from the call script or the entry corrected the link names."""
    form = _blank_form(student)
    script = family_contacts.call_script(request.args.get("script"))
    if script is not None:
        form.summary.data = script.summary_for(viewer_locale())
        form.channel.data = script.channel.value
        form.agreements.data = list(script.agreements)
    corrected = _corrected_entry(student, request.args.get("corrects", type=int))
    if corrected is not None:
        form.corrects.data = str(corrected.id)
        form.at.data = clock.to_local(corrected.at, clock.viewer_zone())
        form.direction.data = corrected.direction.value
        form.guardian_name.data = corrected.guardian_name
        form.guardian_relation.data = corrected.guardian_relation
        form.channel.data = corrected.channel.value
        form.summary.data = corrected.summary
        form.outcome.data = corrected.outcome.value
        form.agreements.data = list(corrected.agreements)
        form.other_agreement.data = corrected.other_agreement
    return form


def guardian_step_form(warning: EarlyWarning) -> FamilyContactForm | None:
    """The warning page's "Guardian notified" step (a template global): a blank family-contact
    form for an open warning whose student's family the viewer may contact, None otherwise. The
    notice is logged once, as a family contact, and meets the warning's step from there
    (`family_contacts.tells_guardian`)."""
    if warning.status != WarningStatus.OPEN or not can_log_family_contact(
        current_user, warning.student
    ):
        return None
    return _blank_form(warning.student)


def _corrected_entry(student: Student, entry_id: int | None) -> FamilyContact | None:
    if entry_id is None:
        return None
    entry = db.session.get(FamilyContact, entry_id)
    return entry if entry is not None and entry.student_id == student.id else None


def _new_contact(form: FamilyContactForm) -> family_contacts.NewFamilyContact:
    return family_contacts.NewFamilyContact(
        at=filled(form.at),
        direction=ContactDirection(form.direction.data),
        guardian_name=filled(form.guardian_name),
        guardian_relation=form.guardian_relation.data or "",
        channel=ContactChannel(form.channel.data),
        summary=filled(form.summary),
        outcome=ContactOutcome(form.outcome.data),
        agreements=tuple(form.agreements.data or ()),
        other_agreement=form.other_agreement.data or "",
        follow_up_on=form.follow_up_on.data,
        submission=filled(form.submission),
        corrects_id=int(form.corrects.data) if form.corrects.data else None,
    )


@bp.route("/<int:student_id>/family-contacts/new", methods=["GET", "POST"])
@require_roles(Role.DEPT_COUNSELLOR, Role.SCHOOL_COUNSELLOR, Role.DIRECTOR)
def new_family_contact(student_id: int) -> ResponseReturnValue:
    student, _capability = _file_student(student_id, "family_contact_form")
    if not can_log_family_contact(current_user, student):
        abort(403)
    form = FamilyContactForm() if request.method == "POST" else _prefilled_form(student)
    back = FROM_WARNING if request.args.get("back") == FROM_WARNING else None
    status = 200
    if request.method == "POST":
        if form.validate():
            contact = _new_contact(form)
            owed = actions.guardian_notice_owed(db.session, student)
            try:
                _entry, created = family_contacts.log_family_contact(
                    db.session, current_user, student, contact, clock.now()
                )
            except family_contacts.FamilyContactError as error:
                # Beside the field it is about (the follow-up date), else at the form's head.
                if error.field is not None:
                    add_error(form[error.field], refusal_text(error))
                else:
                    form.form_errors.append(refusal_text(error))
            except Refused as refused:
                form.form_errors.append(refused.message.shown())
            else:
                if back == FROM_WARNING:
                    _flash_guardian_step(contact, created, owed)
                    return redirect(url_for("warning.student", student_id=student.id))
                flash(
                    _("Family contact saved.") if created else _("This contact was already saved."),
                    "info at-family",
                )
                return redirect(url_for("casework_file.page", student_id=student.id) + "#family")
        status = 400
    # Rendered before the audit commit (which expires the rows), returned only after it: the form
    # shows the guardian's phone number, so opening it is an audited read of the student.
    body = render_template(
        "casework/family/form.html",
        form=form,
        student=student,
        scripts=family_contacts.viewer_scripts(),
        correcting=form.corrects.data,
        back=back,
    )
    audit.record_read_on(
        db.session,
        student,
        actor=current_user,
        action="family_contact_form",
        record_type="student_file",
        detail="guardian_phone=" + ("shown" if student.guardian_phone else "none on roster"),
    )
    return body, status


def _flash_guardian_step(
    contact: family_contacts.NewFamilyContact, created: bool, owed: bool
) -> None:
    """What the warning page says of a family contact logged from it (`owed`: the warning owed
    the guardian's notice before it): the guardian told; or logged, and the notice still owed
    because no one was reached; or, where no notice was owed (a yellow warning), only saved, and
    whether the family was reached. A yellow's unanswered call was told the notice was owed."""
    if not created:
        flash(_("This contact was already saved."), "info")
    elif owed and family_contacts.tells_guardian(db.session, contact):
        flash(_("Guardian notified: saved in the student's family contacts."), "success")
    elif owed:
        flash(
            _(
                "Saved in the student's family contacts. The guardian was not reached, so the "
                "notice is still owed."
            ),
            "warning",
        )
    elif contact.outcome is ContactOutcome.REACHED:
        flash(_("Family contact saved."), "success")
    else:
        flash(
            _(
                "Saved in the student's family contacts. The guardian was not reached: it counts "
                "as an attempt, not as a contact."
            ),
            "info",
        )


# --- the guardian on file -----------------------------------------------------------------------

GUARDIAN_FORM_ACTION = "correct_guardian_form"


def _guardian_form(student: Student) -> GuardianForm:
    """A form showing the guardian on file, which it also carries as the correction's base."""
    form = GuardianForm(formdata=None)
    form.was_name.data, form.was_phone.data = guardian_corrections.on_file(student)
    form.name.data, form.phone.data = form.was_name.data, form.was_phone.data
    return form


@bp.route("/<int:student_id>/guardian", methods=["GET", "POST"])
@require_roles(Role.DEPT_COUNSELLOR, Role.SCHOOL_COUNSELLOR, Role.DIRECTOR)
def correct_guardian(student_id: int) -> ResponseReturnValue:
    """Correct the guardian's name and phone on file: for whoever calls the family and sees the
    number (`can_log_family_contact`); a student out of scope is a 404, the denial audited."""
    student, _capability = _file_student(student_id, "correct_guardian")
    if not can_log_family_contact(current_user, student):
        abort(403)
    back = safe_next(request.args.get("next")) or url_for(
        "casework_file.page", student_id=student.id
    )
    form = GuardianForm() if request.method == "POST" else _guardian_form(student)
    status = 200
    if request.method == "POST":
        if form.validate():
            change = guardian_corrections.GuardianChange(
                was_name=form.was_name.data or "",
                was_phone=form.was_phone.data or "",
                name=form.name.data or "",
                phone=filled(form.phone),
            )
            try:
                done = guardian_corrections.correct_guardian(
                    db.session, current_user, student, change, clock.now()
                )
            except guardian_corrections.GuardianError as error:
                add_error(form[error.field], refusal_text(error))
            except Refused as refused:
                form.form_errors.append(refused.message.shown())
                # The page shows the guardian on file now, the base of a correction sent again.
                form.was_name.data, form.was_phone.data = guardian_corrections.on_file(student)
            else:
                if done is guardian_corrections.Corrected.NOW:
                    flash(_("The guardian's details on file are corrected."), "success")
                else:
                    flash(_("This correction was already saved."), "info")
                return redirect(back)
        status = 400
    # Rendered before the audit commit (which expires the rows), returned only after it: the form
    # shows the guardian's phone number, so opening it is an audited read of the student.
    body = render_template(
        "casework/family/guardian_form.html",
        form=form,
        student=student,
        guardian=family_contacts.guardian_to_call(current_user, student),
        back=back,
    )
    audit.record_read_on(
        db.session,
        student,
        actor=current_user,
        action=GUARDIAN_FORM_ACTION,
        record_type="student_file",
        detail="guardian_phone=" + ("shown" if student.guardian_phone else "none on file"),
    )
    return body, status


@family_bp.route("/this-month")
@require_roles(*FAMILY_FIGURE_ROLES)
def this_month() -> ResponseReturnValue:
    """Key students in the viewer's scope and whether their family was contacted this month."""
    rows = family_contacts.key_students_this_month(db.session, current_user, clock.now())
    body = render_template("casework/family/this_month.html", rows=rows)
    audit.record_list_read(
        db.session,
        actor=current_user,
        action="list",
        record_type="family_contact_month",
        student_ids=[row.student.id for row in rows],
        detail=f"rows={len(rows)}",
    )
    return body


# --- the individual screening report -----------------------------------------------------------


@bp.route("/<int:student_id>/screening-report/<int:campaign_id>.pdf")
@require_roles(Role.SCHOOL_COUNSELLOR, Role.DIRECTOR)
def screening_report_pdf(student_id: int, campaign_id: int) -> ResponseReturnValue:
    """A student's individual report of one screening round, printed by the centre to give her
    (CLINICAL): in the institution's language, or the one `?language=` chooses, not the
    printer's."""
    student, capability = _file_student(student_id, "print")
    if capability < Capability.CLINICAL:
        audit.record_denied(db.session, current_user, "print", "screening_report", student_id)
        abort(404)
    language = print_language(request.args.get("language"))
    with printed_in(language):
        return _report_download(student, campaign_id, language)


@reports_bp.route("/<int:campaign_id>.pdf")
@require_roles(Role.STUDENT)
def own_report(campaign_id: int) -> ResponseReturnValue:
    """The student's own report of a round, only where the campaign lets students see it; in her
    own language, as she reads her pages."""
    student = db.session.scalar(select(Student).where(Student.user_id == current_user.id))
    if student is None:
        abort(404)
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or not campaign.students_see_report:
        audit.record_denied(db.session, current_user, "print", "screening_report", campaign_id)
        abort(404)
    return _report_download(student, campaign_id)


def _report_download(
    student: Student, campaign_id: int, language: str | None = None
) -> ResponseReturnValue:
    """The report's PDF, in `language` when given (else the reader's)."""
    report = screening_report.report_of(db.session, student, campaign_id, viewer_locale())
    if report is None:
        audit.record_denied(db.session, current_user, "print", "screening_report", campaign_id)
        abort(404)
    institution = db.session.get(Institution, student.institution_id)
    on_duty = on_duty_phone(institution)
    return pdf_download(
        db.session,
        student,
        actor=current_user,
        document="screening_report",
        filename=_("Screening report %(name)s.pdf", name=student.name),
        template="casework/file/screening_report.html",
        language=language,
        report=report,
        student=student,
        on_duty=on_duty,
        institution=institution,
        generated_by=current_user,
        generated_at=clock.now(),
    )
