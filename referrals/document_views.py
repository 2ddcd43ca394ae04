"""Printed recovery documents: the referral form (转介单) for the centre and the hospital's
liaison, and the return-to-school assessment opinion (复学评估意见书).

Both are read outside the centre (the hospital, the department, the student), so both print in the
institution's language whatever the printer reads, or in the one `?language=` chooses
(`campus.documents.print_language`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import ColumnElement

from campus import clock
from campus.access import load_or_404
from campus.documents import hospital_names
from campus.documents import pdf_download
from campus.documents import print_language
from campus.documents import printed_in
from campus.extensions import db
from campus.models import Institution
from campus.models import Role
from campus.models import User
from campus.permissions import require_roles
from referrals import leave as leave_rules
from referrals import permissions
from referrals.documents import referral_form
from referrals.documents import return_opinion
from referrals.models import LeaveOfAbsence
from referrals.models import Referral
from referrals.permissions import CLINICAL_READERS

# What a recovery document is printed from.
Printed = TypeVar("Printed", Referral, LeaveOfAbsence)

bp = Blueprint("referral_documents", __name__, url_prefix="/referrals")
# The liaison's copy sits under the liaison's own pages.
liaison_bp = Blueprint("liaison_documents", __name__, url_prefix="/hospital/referrals")


@bp.route("/<int:referral_id>/referral-form.pdf")
@require_roles(*CLINICAL_READERS)
def referral_form_pdf(referral_id: int) -> ResponseReturnValue:
    """The referral form, for a reader with the student in their clinical scope."""
    return _referral_form_download(referral_id, permissions.counsellor_clause(current_user))


@liaison_bp.route("/<int:referral_id>/referral-form.pdf")
@require_roles(Role.HOSPITAL_LIAISON)
def liaison_referral_form_pdf(referral_id: int) -> ResponseReturnValue:
    """The same form for the liaison of the hospital it was sent to (never a draft)."""
    return _referral_form_download(referral_id, permissions.liaison_clause(current_user))


def _referral_form_download(referral_id: int, scope) -> ResponseReturnValue:
    """The form of the referral `referral_id` if `scope` (the reader's clause) reaches it, else a
    404 with an audit row."""
    referral = _load_to_print(Referral, referral_id, scope, "referral_form")
    language = _language()
    with printed_in(language):
        return _print(
            referral,
            "referral_form",
            _("Referral form %(number)s.pdf", number=referral.id),
            "documents/referral_form.html",
            language,
            form=referral_form(referral),
        )


@bp.route("/leave/<int:leave_id>/return-opinion.pdf")
@require_roles(*CLINICAL_READERS)
def return_opinion_pdf(leave_id: int) -> ResponseReturnValue:
    """The return-to-school assessment opinion, once the centre has assessed the return."""
    leave = _load_to_print(
        LeaveOfAbsence, leave_id, leave_rules.leave_clause(current_user), "return_opinion"
    )
    assessor = db.session.get(User, leave.assessment_by_id) if leave.assessment_by_id else None
    owners = leave_rules.owner_roles(db.session, leave)
    language = _language()
    with printed_in(language):
        opinion = return_opinion(leave, assessor.name if assessor else "", owners)
        if opinion is not None and opinion.statement_hospital:
            # A partner hospital typed into the statement, named as the referral form names it.
            named = hospital_names(db.session, leave.institution_id, [opinion.statement_hospital])
            opinion = replace(opinion, statement_hospital=named[0])
    if opinion is None:
        flash(_("The opinion can be printed once the centre has assessed the return."), "error")
        return redirect(url_for("leave.detail", leave_id=leave.id))
    with printed_in(language):
        return _print(
            leave,
            "return_opinion",
            _("Return-to-school assessment opinion %(name)s.pdf", name=opinion.student_name),
            "documents/return_opinion.html",
            language,
            opinion=opinion,
        )


def _language() -> str:
    """The language the document is printed in: the institution's, or the one chosen."""
    return print_language(request.args.get("language"))


def _load_to_print(
    model: type[Printed], record_id: int, scope: ColumnElement[bool], document: str
) -> Printed:
    """The record `document` is printed from, if `scope` (the reader's clause) reaches it; else a
    404, audited as a refused print of `document`."""
    return load_or_404(
        model,
        record_id,
        scope,
        action="print",
        record_type=document,
    )


def _print(
    record: Printed,
    document: str,
    filename: str,
    template: str,
    language: str,
    **content: Any,
) -> ResponseReturnValue:
    """`document` of `record` as a PDF download named `filename` (the print audited): `template`
    in `language`, given `content` and what every printed recovery document states, the record's
    institution, who generated it and when."""
    return pdf_download(
        db.session,
        record,
        actor=current_user,
        document=document,
        filename=filename,
        template=template,
        language=language,
        institution=db.session.get(Institution, record.institution_id),
        generated_by=current_user,
        generated_at=clock.now(),
        **content,
    )
