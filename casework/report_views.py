"""The batch screening report's download (a campaign, or one of its departments) and the links to
it that the campaign page and the interview list show (a template global, as for coverage)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint
from flask import abort
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from campus import audit
from campus import clock
from campus.documents import pdf_download
from campus.extensions import db
from campus.i18n import viewer_locale
from campus.models import Department
from campus.models import Institution
from campus.models import Student
from campus.permissions import require_roles
from casework import batch_report
from screening.models import Campaign
from screening.models import CampaignAssignment

bp = Blueprint("batch_reports", __name__, url_prefix="/casework/campaigns")


def _department(campaign_id: int) -> Department | None:
    """The department asked for, None for the whole campaign; 404 (audited) for a malformed id."""
    raw = request.args.get("department", "")
    if not raw:
        return None
    department = db.session.get(Department, int(raw)) if raw.isdigit() else None
    if department is None:
        audit.record_denied(db.session, current_user, "print", "batch_report", campaign_id)
        abort(404)
    return department


@bp.route("/<int:campaign_id>/batch-report.pdf")
@require_roles(*batch_report.REPORT_ROLES)
def batch_report_pdf(campaign_id: int) -> ResponseReturnValue:
    """The report, for a reader who may print it for that scope; anyone else gets 404."""
    campaign = db.session.get(Campaign, campaign_id)
    department = _department(campaign_id)
    if campaign is None or not batch_report.may_print(current_user, campaign, department):
        audit.record_denied(db.session, current_user, "print", "batch_report", campaign_id)
        abort(404)
    report = batch_report.build(db.session, current_user, campaign, department, viewer_locale())
    if report.to_interview:
        audit.record_list_read(
            db.session,
            actor=current_user,
            action="batch_report_names",
            record_type="interview",
            student_ids=[line.student_id for line in report.to_interview],
            institution_id=campaign.institution_id,
            detail=f"campaign={campaign.id} rows={len(report.to_interview)}",
        )
    scope = report.department or _("all departments")
    return pdf_download(
        db.session,
        campaign,
        actor=current_user,
        document="batch_report",
        filename=_(
            "Batch screening report %(campaign)s %(scope)s.pdf",
            campaign=report.campaign,
            scope=scope,
        ),
        template="documents/batch_report.html",
        report=report,
        institution=db.session.get(Institution, campaign.institution_id),
        generated_by=current_user,
        generated_at=clock.now(),
    )


@dataclass(frozen=True)
class ReportLink:
    label: str
    url: str


def batch_report_links(campaign: Campaign) -> list[ReportLink]:
    """The reports the signed-in person may print for `campaign` (a template global): the whole
    campaign and each department with students in it, as far as they may."""
    departments = db.session.scalars(
        select(Department)
        .where(
            Department.id.in_(
                select(Student.department_id)
                .join(CampaignAssignment, CampaignAssignment.student_id == Student.id)
                .where(CampaignAssignment.campaign_id == campaign.id)
            )
        )
        .order_by(Department.name)
    ).all()
    links = []
    if batch_report.may_print(current_user, campaign, None):
        url = url_for("batch_reports.batch_report_pdf", campaign_id=campaign.id)
        links.append(ReportLink(_("All departments"), url))
    for department in departments:
        if batch_report.may_print(current_user, campaign, department):
            url = url_for(
                "batch_reports.batch_report_pdf", campaign_id=campaign.id, department=department.id
            )
            links.append(ReportLink(department.name, url))
    return links
