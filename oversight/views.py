"""Oversight pages: the administrator's dashboard with drill-downs, the province view, exports.

Thin: parse the filter, authorize, call `kpis` / `drill`, render or export. Administrators and
directors see their own institutions and may open the lists behind a figure (audited); the
province auditor sees every university side by side, aggregates only, under disclosure control
(`oversight.disclosure`), with no link or export that reaches a student.
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from typing import NamedTuple

import pandas as pd
from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import render_template
from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_pgettext as _lp
from flask_babel import pgettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from campus import audit
from campus import clock
from campus import downloads
from campus import export_rights
from campus import local_time
from campus.extensions import db
from campus.i18n import name_column
from campus.models import Department
from campus.models import Institution
from campus.models import Role
from campus.permissions import require_roles
from campus.replica import aggregate_session
from campus.scope import institution_ids
from oversight import charts
from oversight import definitions
from oversight import disclosure
from oversight import drill
from oversight import exports
from oversight import headlines
from oversight import kpis
from oversight import periods
from oversight import snapshots
from oversight import tables
from oversight.forms import FilterForm
from oversight.forms import ProvinceFilterForm
from privacy import consent as privacy_consent
from referrals.services import ReferralSettings

bp = Blueprint("oversight", __name__, url_prefix="/oversight")

DASHBOARD_ROLES = (Role.ADMIN, Role.DIRECTOR)


# --- filters -------------------------------------------------------------------------------------


def _chosen_period(form) -> periods.Period | None:
    """The month, term or school year picked; an old `?month=YYYY-MM` link is that month.
    None when months were typed (old links) or nothing was chosen."""
    form.period.choices = _period_choices()
    if form.month_from.data or form.month_to.data:
        return None
    if form.period.data:
        return periods.parse(form.period.data)
    if month := request.args.get("month"):
        try:
            return periods.month(kpis.month_of(month))
        except ValueError:
            abort(400, description=_("Use the form YYYY-MM, e.g. 2026-09."))
    return None


def _period_choices() -> dict[str, list[tuple[str, str]]]:
    """The picker's options grouped as 月 / 学期 / 学年 (WTForms optgroups), newest first."""
    offered = periods.choices(local_time.local_day(clock.now()))
    names = {"month": _("Month"), "term": _("Term"), "year": _("School year")}
    choices = {_("Last six months"): [("", _("The last six months"))]}
    choices.update(
        {names[kind]: [(p.key, p.label()) for p in found] for kind, found in offered.items()}
    )
    return choices


def _months(form) -> tuple[date, date]:
    chosen = _chosen_period(form)
    if chosen is not None:
        return chosen.first, chosen.last
    first, last = kpis.default_period(local_time.local_day(clock.now()))
    if form.month_from.data:
        first = kpis.month_of(form.month_from.data)
    if form.month_to.data:
        last = kpis.month_of(form.month_to.data)
    return first, max(first, last)


def _before(form, view: kpis.View) -> kpis.View:
    """The period the headline cards compare with: the term before a term, the month before a
    month, else as many months just before; on the same calendar as `view` (the institution's),
    so a warning opened at 07:00 on the 1st in Shanghai counts in that month, not the one
    before, as it does in the tables."""
    chosen = _chosen_period(form)
    if chosen is not None:
        earlier = periods.previous(chosen)
        first, last = earlier.first, earlier.last
    else:
        length = len(view.months)
        first, last = (
            periods.shift(view.first_month, -length),
            periods.shift(view.last_month, -length),
        )
    return view.months_of(first, last)


def _dashboard_view(form: FilterForm) -> kpis.View:
    """The view an administrator asked for, within the institutions they administer (404 else)."""
    allowed = institution_ids(current_user, *DASHBOARD_ROLES)
    name = name_column(Institution).label("name")
    institutions = db.session.execute(
        select(Institution.id, name)
        .where(Institution.id.in_(allowed))
        .order_by(name, Institution.id)
    ).all()
    form.institution.choices = [(i.id, i.name) for i in institutions]
    institution_id = form.institution.data or institutions[0].id
    if institution_id not in allowed:
        abort(404)
    form.institution.data = institution_id  # the list shows whose figures these are
    departments = db.session.execute(
        select(Department.id, Department.name)
        .where(Department.institution_id == institution_id)
        .order_by(Department.name)
    ).all()
    form.department.choices = [(0, _("All departments"))] + [(d.id, d.name) for d in departments]
    _valid(form)
    department_id = form.department.data or None
    if department_id is not None and department_id not in {d.id for d in departments}:
        abort(404)
    first, last = _months(form)
    by = form.by.data if form.by.data in kpis.BY else "department"
    zone = clock.institution_zone(db.session.get(Institution, institution_id))
    offset = kpis.offset_of(zone, clock.local_date(clock.now(), zone))
    return kpis.View((institution_id,), first, last, by, department_id, offset)


def _province_snapshot(form: ProvinceFilterForm) -> snapshots.Snapshot:
    """The province tables for the period asked for, from the snapshot the scheduler keeps."""
    _valid(form)
    first, last = _months(form)
    return _snapshot(form, first, last)


def _snapshot(form: ProvinceFilterForm, first: date, last: date) -> snapshots.Snapshot:
    by = form.by.data if form.by.data in snapshots.PROVINCE_GROUPINGS else "institution"
    snapshot = snapshots.snapshot_for(
        db.session, first, last, by, clock.now(), _snapshot_settings(), reader=aggregate_session()
    )
    db.session.commit()
    return snapshot


def _snapshot_settings() -> snapshots.SnapshotSettings:
    return snapshots.SnapshotSettings.from_config(current_app.config)


class InvalidFilter(Exception):
    """The filter did not validate: the page is shown again with the field errors (400)."""

    def __init__(self, form) -> None:
        super().__init__("invalid filter")
        self.form = form


@bp.errorhandler(InvalidFilter)
def invalid_filter(error: InvalidFilter):
    province_form = isinstance(error.form, ProvinceFilterForm)
    return render_template(
        "oversight/dashboard.html",
        form=error.form,
        view=None,
        tables=[],
        charts={},
        export_args={},
        province=province_form,
        threshold=_threshold(),
        rounding_base=disclosure.ROUNDING_BASE,
    ), 400


def _valid(form) -> None:
    if not form.validate():
        raise InvalidFilter(form)


def _settings() -> ReferralSettings:
    return ReferralSettings.from_config(current_app.config)


def _kpi(key: str) -> kpis.Kpi:
    kpi = kpis.BY_KEY.get(key)
    if kpi is None:
        abort(404)
    return kpi


# --- administrator dashboard ---------------------------------------------------------------------


@bp.route("/", endpoint="dashboard")
@require_roles(*DASHBOARD_ROLES)
def dashboard():
    form = FilterForm(formdata=request.args)
    view = _dashboard_view(form)
    frames = kpis.compute_all(aggregate_session(), view, clock.now(), _settings())
    shown = [tables.build(kpi, frames[kpi.key], view.by, drill=True) for kpi in kpis.KPIS]
    before = _before(form, view)
    institution = db.session.get_one(Institution, view.institution_ids[0])
    terms = definitions.institution_terms(db.session, institution, _settings())
    return render_template(
        "oversight/dashboard.html",
        form=form,
        view=view,
        before=before,
        cards=headlines.cards(aggregate_session(), frames, before, clock.now(), _settings()),
        tables=shown,
        definitions=definitions.all_written(kpis.KPIS, terms),
        charts=_charts(view, frames),
        export_args=_export_args(form),
        province=False,
    )


@bp.route("/export/<kpi_key>.<fmt>", endpoint="export")
@require_roles(*DASHBOARD_ROLES)
def export(kpi_key: str, fmt: str):
    kpi = _kpi(kpi_key)
    form = FilterForm(formdata=request.args)
    view = _dashboard_view(form)
    tier = export_rights.aggregates_for(current_user)
    frame = kpis.compute(aggregate_session(), kpi, view, clock.now(), _settings())
    return _send(
        tables.build(kpi, frame, view.by),
        fmt,
        f"{kpi.key}-{view.by}",
        download=_file_name(f"kpi-{kpi.key}-by-{view.by}", view, kpi.title, FILE_BY[view.by]),
        sheet=str(kpi.title),
        tier=tier,
        institution_id=view.institution_ids[0],
    )


@bp.route("/drill/<which>", endpoint="drill")
@bp.route("/drill/<which>.<fmt>", endpoint="drill_export")
@require_roles(*DASHBOARD_ROLES)
def drill_down(which: str, fmt: str | None = None):
    """The students or warnings behind one figure; every list opened is audited, one row per
    student shown."""
    if which not in drill.LISTS:
        abort(404)
    form = FilterForm(formdata=request.args)
    view = _dashboard_view(form)
    month = request.args.get("month")
    if month:
        try:
            first = kpis.month_of(month)
        except ValueError:
            abort(400, description=_("Use the form YYYY-MM, e.g. 2026-09."))
        view = view.months_of(first, first)
    frame = drill.drill_down(
        aggregate_session(), current_user, which, view, clock.now(), _settings()
    )
    rows, students = drill.shown(frame)
    if fmt is not None:
        # Students who withdrew consent to sensitive processing leave in no file of rows.
        kept = privacy_consent.without_withdrawn_rows(db.session, frame)
        exported, tier = export_rights.student_rows_for(current_user, kept)
        return _send(
            drill.readable(exported, which),
            fmt,
            f"drill-{which}",
            download=_file_name(f"drill-{which}", view, drill.LIST_TITLES[which]),
            sheet=str(drill.LIST_TITLES[which]),
            tier=tier,
            institution_id=view.institution_ids[0],
            student_ids=students,
        )
    audit.record_list_read(
        db.session,
        actor=current_user,
        action="drill_down",
        record_type=f"oversight.{which}",
        student_ids=students,
        institution_id=view.institution_ids[0],
        detail=f"rows={len(rows)} {request.query_string.decode()[:400]}",
    )
    return render_template(
        "oversight/drill.html",
        which=which,
        list_title=drill.LIST_TITLES[which],
        view=view,
        headers=list(rows.columns),
        labels=drill.COLUMN_LABELS,
        rows=drill.worded(rows, which).astype(object).where(rows.notna(), "").to_dict("records"),
        # Times in words (in <time datetime>), as the rest of the product shows them to people.
        times=drill.time_words(rows),
        month=month,
        export_args=request.args.to_dict(),
        # The rows are the viewer's own scope (student_filter), so each name opens its file.
        file_ids=students,
    )


# --- province ------------------------------------------------------------------------------------


def _threshold() -> int:
    return int(current_app.config["SMALL_GROUP_THRESHOLD"])


def _protection() -> disclosure.Protection:
    """Disclosure control for the province tables, its rounding keyed with the app's secret."""
    return disclosure.Protection(_threshold(), current_app.config["SECRET_KEY"])


@bp.route("/province", endpoint="province")
@require_roles(Role.PROVINCE_AUDITOR)
def province():
    form = ProvinceFilterForm(formdata=request.args)
    snapshot = _province_snapshot(form)
    protection = _protection()
    shown = [
        tables.build(kpi, snapshot.frames[kpi.key], snapshot.view.by, protection=protection)
        for kpi in kpis.KPIS
        # A snapshot taken before a KPI existed has no table for it.
        if kpi.key in snapshot.frames
    ]
    before = _before(form, snapshot.view)
    earlier = _snapshot(form, before.first_month, before.last_month)
    return render_template(
        "oversight/dashboard.html",
        form=form,
        view=snapshot.view,
        before=before,
        cards=headlines.province_cards(snapshot.frames, earlier.frames, protection),
        tables=shown,
        definitions=definitions.all_written(
            kpis.KPIS,
            definitions.province_terms(
                db.session, snapshot.view.institution_ids, _snapshot_settings().referrals
            ),
        ),
        charts={},
        export_args=_export_args(form),
        province=True,
        threshold=_threshold(),
        rounding_base=disclosure.ROUNDING_BASE,
        as_of=snapshot.computed_at,
        refresh_minutes=current_app.config["PROVINCE_REFRESH_MINUTES"],
    )


@bp.route("/province/export/<kpi_key>.<fmt>", endpoint="province_export")
@require_roles(Role.PROVINCE_AUDITOR)
def province_export(kpi_key: str, fmt: str):
    kpi = _kpi(kpi_key)
    form = ProvinceFilterForm(formdata=request.args)
    snapshot = _province_snapshot(form)
    by = snapshot.view.by
    protection = _protection()
    tier = export_rights.aggregates_for(current_user)
    table = tables.build(kpi, snapshot.frames[kpi.key], by, protection=protection)
    return _send(
        table,
        fmt,
        f"province-{kpi.key}-{by}",
        download=_file_name(
            f"province-kpi-{kpi.key}-by-{by}",
            snapshot.view,
            pgettext("file name", "Province comparison"),
            kpi.title,
            FILE_BY[by],
        ),
        sheet=str(kpi.title),
        tier=tier,
        institution_id=None,
        as_of=snapshot.computed_at,
    )


# --- helpers -------------------------------------------------------------------------------------


def _export_args(form) -> dict:
    return {k: v for k, v in request.args.items() if k in form._fields and v}


# A table's grouping as a file's name says it (心桥-筛查覆盖率-按院系-…).
FILE_BY = {
    "department": _lp("file name", "by department"),
    "month": _lp("file name", "by month"),
    "institution": _lp("file name", "by institution"),
}


class Download(NamedTuple):
    """A download's name for the reader, and its ASCII fallback (`campus.downloads`)."""

    name: str
    fallback: str


def _file_name(what: str, view: kpis.View, *words: object) -> Download:
    """A download's name with the months it covers, so files of several periods can sit side by
    side: for a Chinese reader 心桥-转介结案率-按院系-2026-09_2027-04 (`words` in the reader's
    language), for an English one and as the fallback xinqiao-kpi-referrals-by-department-
    2026-09_2027-04 (`what`)."""
    months = f"{view.first_month:%Y-%m}_{view.last_month:%Y-%m}"
    fallback = f"xinqiao-{what}-{months}"
    product = pgettext("file name", "Xinqiao")
    return Download(downloads.for_reader(fallback, [product, *map(str, words), months]), fallback)


def _send(
    table: tables.Table | pd.DataFrame,
    fmt: str,
    name: str,
    *,
    download: Download,
    sheet: str,
    tier: export_rights.ExportTier,
    institution_id: int | None,
    as_of: datetime | None = None,
    student_ids: list[int] | None = None,
) -> Response:
    """An export file named `download`.`fmt`, after committing its audit row (for `name`: the
    export tier that shaped it, how many rows, which filter and, for a snapshot, which one); a
    list of students is audited one row per student in it. A KPI table goes to a workbook with
    its rates as numbers (`tables.Table.sheet`), to a CSV as the page shows them; a workbook's
    times are times, its sheet named `sheet` (the page's title)."""
    if fmt not in exports.MEDIA_TYPES:
        abort(404)
    formats: dict[str, str] = {}
    if isinstance(table, tables.Table):
        frame, formats = table.sheet() if fmt == "xlsx" else (table.frame(), {})
    else:
        frame = table
    localised = local_time.localise_frame(frame, clock.viewer_zone(), as_text=fmt == "csv")
    body = exports.render(localised, fmt, sheet, formats)
    detail = (
        f"tier={tier.name.lower()} rows={len(frame)} format={fmt}"
        + (f" as_of={as_of:%Y-%m-%dT%H:%M}" if as_of else "")
        + f" {request.query_string.decode()[:360]}"
    )
    fields: audit.Who = {
        "actor": current_user,
        "action": "export",
        "record_type": f"oversight.{name}",
    }
    if student_ids is None:
        audit.record_read(db.session, **fields, institution_id=institution_id, detail=detail)
    else:
        audit.record_list_read(
            db.session,
            **fields,
            student_ids=student_ids,
            institution_id=institution_id,
            detail=detail,
        )
    return downloads.send_download(
        body,
        exports.MEDIA_TYPES[fmt],
        name=f"{download.name}.{fmt}",
        fallback=f"{download.fallback}.{fmt}",
    )


class Chart(NamedTuple):
    """A chart with the title and description the page shows above it: inside the SVG they
    are only for screen readers, and a bare chart does not say what it counts."""

    title: str
    desc: str
    svg: Markup


def _charts(view: kpis.View, frames: dict[str, pd.DataFrame]) -> dict:
    """Level mix per month and response compliance per level, for one institution; drawn from
    the tables already computed where they hold the figures (deadline counts add up)."""
    if view.by == "month":
        levels = frames["levels"]
    else:
        levels = kpis.warnings_by_level(aggregate_session(), view.grouped("month"), clock.now())
    deadlines = (
        frames["deadlines"]
        .groupby("level_name", sort=False)[["due", "met"]]
        .sum()
        .reindex(list(kpis.LEVEL_NAMES.values()), fill_value=0)
    )
    deadlines["compliance"] = kpis.ratio(deadlines["met"], deadlines["due"])
    names = {code: str(label) for code, label in tables.LEVEL_LABELS.items()}
    title = _("Warnings opened per month, by level")
    desc = _("Stacked bars: red, yellow and blue warnings opened in each month.")
    series = {name: levels[name].tolist() for name in ("red", "yellow", "blue")}
    months = levels["month"].tolist()
    by_month = charts.stacked_bars(
        "levels",
        title,
        [local_time.month_words(m) for m in months],
        series,
        desc,
        names,
        axis=local_time.month_axis(months),
    )
    levels_chart = Chart(title, desc, by_month)
    title = _("Response deadlines met on time")
    desc = _("Share of deadlines met on time for each level; a dash means none fell due.")
    level_names = [names[n] for n in deadlines.index]
    rates = deadlines["compliance"].tolist()
    on_time = charts.percent_bars("deadlines", title, level_names, rates, desc)
    return {"levels": levels_chart, "deadlines": Chart(title, desc, on_time)}
