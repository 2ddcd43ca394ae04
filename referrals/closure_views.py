"""The closure audit for administrators and the centre director: figures, drill-down, export."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pandas as pd
from flask import Blueprint
from flask import abort
from flask import current_app
from flask import render_template
from flask import request
from flask_babel import gettext as _
from flask_babel import pgettext
from flask_login import current_user

from campus import audit
from campus import clock
from campus import downloads
from campus import export_rights
from campus import local_time
from campus.extensions import db
from campus.forms import filled
from campus.models import Institution
from campus.models import Role
from campus.permissions import require_roles
from campus.spreadsheets import MEDIA_TYPES
from privacy import consent as privacy_consent
from referrals import export
from referrals import metrics
from referrals.forms import STATUS_LABELS
from referrals.forms import PeriodForm
from referrals.services import ReferralSettings

bp = Blueprint("closure", __name__, url_prefix="/referrals/closure")
AUDITORS = (Role.ADMIN, Role.DIRECTOR)


def _institution_id() -> int:
    return current_user.assignments(*AUDITORS)[0].institution_id


def _period() -> metrics.Period:
    """The period from the query string; the last 12 months up to today by default."""
    form = PeriodForm(request.args)
    today = clock.local_date(clock.now(), _zone())
    if request.args and form.validate() and filled(form.first) <= filled(form.last):
        return metrics.Period(filled(form.first), filled(form.last))
    return metrics.Period(date(today.year - 1, today.month, 1), today)


def _zone() -> ZoneInfo:
    """The audited institution's zone: its calendar decides which day a referral falls on."""
    return clock.institution_zone(db.session.get(Institution, _institution_id()))


def _settings() -> ReferralSettings:
    return ReferralSettings.from_config(current_app.config)


def _frame() -> pd.DataFrame:
    """The audited institution's referrals the reader may see, one row each."""
    return metrics.referral_frame(db.session, current_user, _institution_id())


def _annotated(period: metrics.Period, frame: pd.DataFrame) -> pd.DataFrame:
    return metrics.annotate(frame, period, clock.now(), _settings(), _zone())


@bp.route("", endpoint="index")
@require_roles(*AUDITORS)
def closure():
    period = _period()
    frame = _frame()
    annotated = _annotated(period, frame)
    form = PeriodForm(data={"first": period.first, "last": period.last})
    return render_template(
        "referrals/closure.html",
        form=form,
        period=period,
        overall=metrics.summarise(annotated).iloc[0],
        by_department=_with_ids(annotated, "department", "department_id"),
        by_hospital=_with_ids(annotated, "hospital", "hospital_id"),
        by_month=metrics.by_month(frame, period, clock.now(), _settings(), _zone()),
        now_counts=metrics.snapshot(frame, clock.now(), _settings(), _zone()),
        today=clock.local_date(clock.now(), _zone()),
        settings=_settings(),
        zone=local_time.zone_words(_zone()),
    )


def _with_ids(annotated, name: str, id_column: str):
    """Per-group figures keyed by (id, name) so each row links to its drill-down."""
    table = metrics.summarise(annotated, id_column)
    names = annotated.drop_duplicates(id_column).set_index(id_column)[name]
    return [(group_id, names[group_id], row) for group_id, row in table.iterrows()]


def _drill_rows():
    """The period, the list asked for and its rows; `month` narrows the list to that month of
    the period, audited on its own as the page's row for the month is."""
    period = _period()
    which = request.args.get("which", "due")
    try:
        month = request.args.get("month")
        audited = period.month(month) if month else period
        rows = metrics.drill_down(
            _annotated(audited, _frame()),
            which=which,
            department_id=request.args.get("department_id", type=int),
            hospital_id=request.args.get("hospital_id", type=int),
        )
    except ValueError:
        abort(400)
    return period, which, rows


def _audit(
    action: str, rows, period: metrics.Period, tier: export_rights.ExportTier | None = None
) -> None:
    """One audit row per student whose referral the list or file shows (a file: with the export
    tier that shaped it)."""
    filters = "&".join(f"{k}={v}" for k, v in sorted(request.args.items()))
    if tier is not None:
        filters = f"tier={tier.name.lower()} {filters}"
    audit.record_list_read(
        db.session,
        actor=current_user,
        action=action,
        record_type="referral_closure",
        student_ids=[int(s) for s in rows["student_id"]],
        detail=f"rows={len(rows)} period={period.first}..{period.last} {filters}"[:500],
    )


@bp.route("/list", endpoint="list")
@require_roles(*AUDITORS)
def closure_list():
    period, which, rows = _drill_rows()
    _audit("closure_drill_down", rows, period)
    return render_template(
        "referrals/closure_list.html",
        rows=_records(export.with_ender(rows)),
        which=which,
        period=period,
        status_labels=STATUS_LABELS,
        timing_labels=export.TIMING_LABELS,
        labels=export.COLUMN_LABELS,
        args=request.args.to_dict(),
    )


def _records(rows: pd.DataFrame) -> list[dict]:
    """The rows for the page, an empty cell (NaT, NaN) as None."""
    return rows.astype(object).where(rows.notna(), None).to_dict("records")


@bp.route("/export.<fmt>", endpoint="export")
@require_roles(*AUDITORS)
def closure_export(fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    period, which, rows = _drill_rows()
    # Students who withdrew consent to sensitive processing leave in no file of rows.
    kept = privacy_consent.without_withdrawn_rows(db.session, rows)
    exported, tier = export_rights.student_rows_for(current_user, kept)
    _audit(f"closure_export_{fmt}", rows, period, tier=tier)
    readable = export.readable_referrals(exported)
    shown = local_time.localise_frame(readable, _zone(), as_text=fmt == "csv")
    # The workbook's sheet is named as the list's page is headed.
    title = _("Referrals behind the figure")
    body = export.to_csv(shown) if fmt == "csv" else export.to_xlsx(shown, title)
    fallback = f"referrals-{which}-{period.first}-{period.last}"
    words = [pgettext("file name", "Xinqiao"), title, str(period.first), str(period.last)]
    name = downloads.for_reader(fallback, words)
    return downloads.send_download(
        body, MEDIA_TYPES[fmt], name=f"{name}.{fmt}", fallback=f"{fallback}.{fmt}"
    )
