"""Dashboards, drill-downs, province view and exports, as each role would use them."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from casework import interview_rules as casework_rules
from oversight import exports
from oversight import kpis
from referrals.services import ReferralSettings
from warning import actions
from warning.models import WarningEvent

SEPT = {"month_from": "2026-09", "month_to": "2026-09"}
HOSTILE = ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR"]


def audit_rows(action: str) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_admin_sees_every_kpi_with_its_definition(world, login):
    client = login(world.xju.admin)
    page = client.get("/oversight/", query_string=SEPT)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    for title in (
        "Screening coverage",
        "Service coverage",
        "Full-time mental-health teachers",
        "Crisis incidents",
        "Response-deadline compliance",
        "Referral closure",
        "Weekly-report compliance",
        "Definition:",
        "<svg",
        "<title",
    ):
        assert title in body
    assert "style=" not in body
    # Charts are drawn on the server; the only script is a file of ours (the menus'), none inline.
    assert all('src="/static/' in tag for tag in re.findall(r"<script[^>]*>", body))


def _card(body: str, key: str) -> str:
    """The text of one headline card, tags dropped."""
    found = re.search(rf'<li class="card kpi-card" id="card-{key}">(.*?)</li>', body, re.S)
    assert found is not None, key
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1)))


def test_the_headline_cards_compare_with_the_months_on_the_institutions_calendar(world, login):
    """A red warning opened at 07:00 on 1 August in Shanghai (23:00 on 31 July in UTC) is an
    August warning in the tables, so the card comparing September with August counts it too:
    one red in September, one in August, no change (on UTC months it read "+1")."""
    from tests.oversight.conftest import add_warning

    add_warning(world.xju.students[3], 3, datetime(2026, 7, 31, 23))
    db.session.commit()
    body = login(world.xju.admin).get("/oversight/", query_string=SEPT).get_data(as_text=True)
    assert 'Change compared with <time datetime="2026-08">August 2026</time>.' in body
    crisis = _card(body, "crisis")
    assert "Red warnings opened 1 no change" in crisis, crisis


def _definition(body: str, key: str) -> str:
    """The written definition under one KPI's table."""
    found = re.search(rf'id="kpi-{key}".*?<strong>[^<]*</strong>(.*?)</p>', body, re.S)
    assert found is not None, key
    return found.group(1).strip()


def _referral_definition(client) -> str:
    body = client.get("/oversight/", query_string=SEPT).get_data(as_text=True)
    return _definition(body, "referrals")


def test_the_referral_definition_quotes_the_closure_and_stall_settings_in_force(
    world, login, app, monkeypatch
):
    """The closure audit computes with the expected closure and the stall settings; its written
    definition says the same numbers, whatever they are."""
    client = login(world.xju.admin)
    shown = _referral_definition(client)
    assert "(sent + 90 days)" in shown
    assert "no update for 14 days or more" in shown
    monkeypatch.setitem(app.config, "REFERRAL_EXPECTED_CLOSURE_DAYS", 60)
    monkeypatch.setitem(app.config, "REFERRAL_STALLED_DAYS", 21)
    shown = _referral_definition(client)
    assert "(sent + 60 days)" in shown
    assert "no update for 21 days or more" in shown
    assert "90" not in shown.replace("90th percentile", "")
    assert "14" not in shown


def test_the_referral_definition_in_chinese_quotes_the_settings_too(world, login, app, monkeypatch):
    monkeypatch.setitem(app.config, "REFERRAL_EXPECTED_CLOSURE_DAYS", 60)
    monkeypatch.setitem(app.config, "REFERRAL_STALLED_DAYS", 21)
    world.xju.admin.locale = "zh_CN"
    db.session.commit()
    shown = _referral_definition(login(world.xju.admin))
    assert "转介日 + 60 天" in shown
    assert "21 天或以上无更新" in shown
    assert "90 天" not in shown


def test_the_province_view_quotes_the_default_settings(world, login, app, monkeypatch):
    """The province's figures span universities that each keep their own response policy: its
    deadline definition says so instead of quoting one; the referral settings are the app's."""
    monkeypatch.setitem(app.config, "REFERRAL_STALLED_DAYS", 21)
    body = login(world.province).get("/oversight/province").get_data(as_text=True)
    assert "no update for 21 days or more" in _definition(body, "referrals")
    assert "Each university&#39;s own response policy sets the windows." in _definition(
        body, "deadlines"
    )


def _interview_rules_giving(days: int) -> str:
    rules = (Path(casework_rules.__file__).with_name("interview_rules") / "default.yaml").read_text(
        encoding="utf-8"
    )
    return rules.replace("deadline_days: 14", f"deadline_days: {days}")


def test_the_province_view_quotes_each_universitys_interview_deadline(
    world, login, app, tmp_path, monkeypatch
):
    """The province compares universities whose interview rules give their own deadlines: the
    definition says each university's, as one number while they agree and as the range when
    XJU's rules give 10 days and HNU keeps the default's 14."""
    monkeypatch.setitem(app.config, "INTERVIEW_RULES_DIR", str(tmp_path))
    client = login(world.province)
    body = client.get("/oversight/province", query_string=SEPT).get_data(as_text=True)
    assert (
        "(14 days after the campaign closed, as each university&#39;s interview rules set"
        in _definition(body, "interviews")
    )
    (tmp_path / "XJU.yaml").write_text(_interview_rules_giving(10), encoding="utf-8")
    body = client.get("/oversight/province", query_string=SEPT).get_data(as_text=True)
    assert (
        "(10 to 14 days after the campaign closed, as each university&#39;s interview rules set"
        in _definition(body, "interviews")
    )


def test_the_other_definitions_quote_the_institutions_own_settings(
    world, login, app, tmp_path, monkeypatch
):
    """The interview deadline is the institution's interview rules' and the response windows its
    response policy's; the staffing ratio is the national rule the figure computes with."""
    (tmp_path / "XJU.yaml").write_text(_interview_rules_giving(10), encoding="utf-8")
    monkeypatch.setitem(app.config, "INTERVIEW_RULES_DIR", str(tmp_path))
    body = login(world.xju.admin).get("/oversight/", query_string=SEPT).get_data(as_text=True)
    assert "(10 days after the campaign closed" in _definition(body, "interviews")
    deadlines = _definition(body, "deadlines")
    # A walk read the shipped policy's version code in the Chinese definition.
    assert "the system&#39;s default policy, in force now, gives" in deadlines
    assert "response-default" not in deadlines
    assert "Yellow: Contact the student within 3 days, then a follow-up every 14 days" in deadlines
    staffing = _definition(body, "staffing")
    assert (
        "at least one full-time teacher per 4000 students and at least 2 in the school" in staffing
    )


def test_a_malformed_month_is_a_clear_400(world, login):
    client = login(world.xju.admin)
    response = client.get("/oversight/", query_string={"month_from": "2026-13"})
    assert response.status_code == 400
    assert "YYYY-MM" in response.get_data(as_text=True)


def test_admin_cannot_open_another_institution(world, login):
    client = login(world.xju.admin)
    forged = {"institution": world.hnu.institution.id}
    assert client.get("/oversight/", query_string=forged).status_code == 404
    assert client.get("/oversight/drill/red", query_string=forged).status_code == 404
    assert client.get("/oversight/export/crisis.csv", query_string=forged).status_code == 404


@pytest.mark.parametrize("role", ["dept_counsellor", "province"])
def test_other_roles_may_not_open_the_dashboard(world, login, role):
    client = login(getattr(world, role))
    assert client.get("/oversight/").status_code == 403
    assert client.get("/oversight/drill/red").status_code == 403
    assert client.get("/oversight/export/crisis.csv").status_code == 403


def test_admin_may_not_open_the_province_view(world, login):
    assert login(world.xju.admin).get("/oversight/province").status_code == 403


def test_drill_down_lists_the_students_behind_a_figure_and_is_audited(world, login):
    client = login(world.xju.admin)
    page = client.get("/oversight/drill/red", query_string=SEPT)
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Li Hua" in body
    assert "Wang Fang" not in body
    summary = re.sub(r"<[^>]+>", "", re.search(r'id="drill-summary">(.*?)</p>', body).group(1))
    assert "· September 2026 · 1 row. Opening" in summary
    (row,) = audit_rows("drill_down")
    assert row.actor_id == world.xju.admin.id
    assert "rows=1" in row.detail
    assert row.student_id == world.xju.students[0].id


def test_a_drill_down_audit_names_each_student_shown(world, login):
    client = login(world.xju.director)
    body = client.get("/oversight/drill/warned", query_string=SEPT).get_data(as_text=True)
    assert "Li Hua" in body
    assert "Wang Fang" in body
    rows = audit_rows("drill_down")
    assert sorted(r.student_id for r in rows) == sorted(s.id for s in world.xju.students[:2])
    assert {(r.actor_id, r.record_type, r.request_id) for r in rows} == {
        (world.xju.director.id, "oversight.warned", rows[0].request_id)
    }


def test_an_empty_drill_down_is_still_audited_once(world, login):
    client = login(world.xju.admin)
    client.get(
        "/oversight/drill/red", query_string={"month_from": "2026-01", "month_to": "2026-01"}
    )
    (row,) = audit_rows("drill_down")
    assert row.student_id is None
    assert "rows=0" in row.detail


def test_a_drill_down_export_audit_names_each_student_in_the_file(world, login, names_exported):
    client = login(world.xju.admin)
    text = client.get("/oversight/drill/unscreened.csv", query_string=SEPT).get_data(as_text=True)
    assert "Wang Fang" in text
    assert "student_id" not in text
    (row,) = audit_rows("export")
    assert row.student_id == world.xju.students[1].id
    assert "rows=1" in row.detail


def test_uncontacted_drill_down_shows_only_the_student_nobody_contacted(world, login):
    body = login(world.xju.director).get("/oversight/drill/uncontacted", query_string=SEPT)
    text = body.get_data(as_text=True)
    assert "Wang Fang" in text
    assert "Li Hua" not in text


def test_an_assessment_is_a_contact_in_the_kpi_the_drill_down_and_the_last_contact(world, login):
    """Wang Fang's yellow warning: a call to her guardian is not a contact with her; the centre's
    professional assessment is, and the figure, the list and her row's last contact agree."""
    warning = world.xju.warnings[1]
    at = datetime(2026, 9, 4, 10)
    db.session.add(WarningEvent.of(warning, world.xju.director, "guardian_notified", at))
    db.session.commit()
    client = login(world.xju.director)

    def uncontacted() -> str:
        page = client.get("/oversight/drill/uncontacted", query_string=SEPT)
        return page.get_data(as_text=True)

    def coverage() -> list[float]:
        month = date(2026, 9, 1)
        v = kpis.View((world.xju.institution.id,), month, month, "institution")
        out = kpis.compute(db.session, kpis.BY_KEY["service"], v, clock.now(), ReferralSettings())
        return out["coverage"].tolist()

    assert "Wang Fang" in uncontacted()
    assert coverage() == [0.5]
    actions.do_record_assessment(db.session, world.xju.director, warning, at, "seen", None)
    db.session.commit()
    assert "Wang Fang" not in uncontacted()
    assert coverage() == [1.0]
    assert warning.last_contact_at == at


def test_a_forged_drill_down_list_is_404(world, login):
    assert login(world.xju.admin).get("/oversight/drill/passwords").status_code == 404


def test_export_writes_an_audit_row_with_the_row_count(world, login):
    client = login(world.xju.admin)
    response = client.get("/oversight/export/service.csv", query_string=SEPT)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows[0]) == 2 + 4  # institution, department + the four figures
    assert len(rows) == 3  # header + Computing + Maths
    (event,) = audit_rows("export")
    assert "rows=2" in event.detail
    assert "format=csv" in event.detail


def test_an_unknown_export_format_is_404_and_not_audited(world, login):
    client = login(world.xju.admin)
    assert client.get("/oversight/export/service.pdf").status_code == 404
    assert client.get("/oversight/export/nothing.csv").status_code == 404
    assert audit_rows("export") == []


def test_csv_neutralises_every_formula_start():
    import pandas as pd

    frame = pd.DataFrame({"text": HOSTILE + ["plain"], "n": [-1, 0, 1, 2, 3, 4, 5]})
    parsed = list(csv.reader(io.StringIO(exports.to_csv(frame).decode("utf-8-sig"), newline="")))
    assert [r[0] for r in parsed[1:]] == ["'" + v for v in HOSTILE] + ["plain"]
    assert parsed[1][1] == "-1"  # a number stays a number


def test_xlsx_neutralises_every_formula_start():
    import pandas as pd

    frame = pd.DataFrame({"=HEADER": HOSTILE, "n": range(6)})
    sheet = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(frame))).active
    assert sheet["A1"].value == "'=HEADER"
    values = [sheet.cell(row=i, column=1) for i in range(2, 8)]
    # XML reads a carriage return back as a newline; what matters is the leading quote.
    assert [c.value for c in values][:5] == ["'" + v for v in HOSTILE[:5]]
    assert values[5].value.startswith("'")
    assert values[5].value.endswith("CR")
    assert all(c.data_type == "s" for c in values)  # text, never a formula


def test_drill_down_export_of_a_hostile_name_is_inert_in_csv_and_xlsx(world, login, names_exported):
    world.xju.students[0].name = '=HYPERLINK("http://evil","x")'
    db.session.commit()
    client = login(world.xju.admin)
    text = client.get("/oversight/drill/red.csv", query_string=SEPT).get_data(as_text=True)
    assert "'=HYPERLINK" in text
    data = client.get("/oversight/drill/red.xlsx", query_string=SEPT).data
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    names = [c.value for c in sheet["B"]]
    assert '\'=HYPERLINK("http://evil","x")' in names
    exports_audited = audit_rows("export")
    assert [e.detail.split()[1] for e in exports_audited] == ["rows=1", "rows=1"]
    assert {e.student_id for e in exports_audited} == {world.xju.students[0].id}


def test_province_sees_institutions_side_by_side_without_identities(world, login):
    client = login(world.province)
    body = client.get("/oversight/province", query_string=SEPT).get_data(as_text=True)
    assert "Xiangjiang University" in body
    assert "Hunan Normal University" in body
    assert "/oversight/drill" not in body
    for student in world.xju.students + world.hnu.students:
        assert student.name not in body
        assert student.student_number not in body


def test_province_suppresses_groups_below_the_threshold(world, login, app):
    # XJU has 4 students on the roll, HNU 2: with threshold 4, XJU shows, HNU is "< 4".
    # Each has one red warning: a count below the threshold is hidden even in a shown group.
    app.config["SMALL_GROUP_THRESHOLD"] = 4
    try:
        client = login(world.province)

        def crisis(name: str) -> list[str]:
            response = client.get("/oversight/province/export/crisis.csv", query_string=SEPT)
            rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
            return {r[0]: r[1:] for r in rows[1:]}[name]

        incidents, enrolled, rate = crisis("Xiangjiang University")
        assert (incidents, rate) == ("< 4", "hidden")
        assert enrolled in {"0", "5"}
        assert crisis("Hunan Normal University") == ["< 4", "< 4", "hidden"]
        # Threshold 3 (= 4 - 1 would still hide HNU); threshold 2 is exactly HNU's size: shown.
        app.config["SMALL_GROUP_THRESHOLD"] = 2
        incidents, enrolled, rate = crisis("Hunan Normal University")
        assert (incidents, rate) == ("< 2", "hidden")
        assert enrolled in {"0", "5"}
        app.config["SMALL_GROUP_THRESHOLD"] = 3
        assert crisis("Hunan Normal University") == ["< 3", "< 3", "hidden"]
    finally:
        app.config["SMALL_GROUP_THRESHOLD"] = 10
    assert len(audit_rows("export")) == 4


@pytest.mark.parametrize("by", ["department", "month", "institution"])
def test_compliance_chart_shows_the_institution_rates_whatever_the_grouping(world, login, by):
    """Red 1 of 2 met = 50 %, yellow 0 of 1 = 0 %, blue none due = "—" (see test_kpis)."""
    client = login(world.xju.admin)
    body = client.get("/oversight/", query_string={**SEPT, "by": by}).get_data(as_text=True)
    chart = body[body.index("Response deadlines met on time") :]
    chart = chart[: chart.index("</svg>")]
    shown = re.findall(r'font-size="12">([^<]+)</text>', chart)
    assert shown == ["Red", "50%", "Yellow", "0%", "Blue", "—"]


def test_drill_down_times_read_in_words_in_the_institutions_zone(world, login):
    """S1's red warning was opened at 08:00 UTC on Wednesday 2 September: 16:00 in Shanghai,
    said with its day and weekday, the time for programs in <time datetime>."""
    body = login(world.xju.admin).get("/oversight/drill/red", query_string=SEPT).get_data(True)
    assert '<time datetime="2026-09-02T16:00+08:00">Wed 2 Sep 16:00</time>' in body
    assert "2026-09-02 16:00" not in body
    assert "08:00:00" not in body


def test_a_drill_down_in_chinese_says_the_day_in_chinese(world, login):
    world.xju.director.locale = "zh_CN"
    db.session.commit()
    client = login(world.xju.director)
    body = client.get("/oversight/drill/red", query_string=SEPT).get_data(True)
    assert '<time datetime="2026-09-02T16:00+08:00">9月2日 周三 16:00</time>' in body
    assert '<time datetime="2026-09">2026年9月</time> · 共 1 行' in body


def test_a_campaigns_close_in_a_drill_down_reads_as_the_deadline_it_is(world, login):
    """The campaign closes at 00:00 UTC on 30 September, 08:00 in Shanghai; now is 14
    September, so it is neither today nor tomorrow: its day, weekday and time."""
    client = login(world.xju.admin)
    body = client.get("/oversight/drill/unscreened", query_string=SEPT).get_data(True)
    assert '<time datetime="2026-09-30T08:00+08:00">Wed 30 Sep 08:00</time>' in body
    clock.set_now(datetime(2026, 9, 29, 8))
    client = login(world.xju.admin)  # a new day, a new session
    body = client.get("/oversight/drill/unscreened", query_string=SEPT).get_data(True)
    assert '<time datetime="2026-09-30T08:00+08:00">tomorrow 08:00</time>' in body


def test_times_follow_the_viewers_institution_zone(world, login):
    world.xju.institution.timezone = "Asia/Kolkata"  # UTC+5:30
    db.session.commit()
    body = login(world.xju.admin).get("/oversight/drill/red", query_string=SEPT).get_data(True)
    assert '<time datetime="2026-09-02T13:30+05:30">Wed 2 Sep 13:30</time>' in body


def test_drill_export_says_which_clock_its_times_are_on(world, login):
    """Headed as a reader names the clock ("Beijing time"), not by the zone's database key
    ("Asia/Shanghai")."""
    client = login(world.xju.admin)
    text = client.get("/oversight/drill/red.csv", query_string=SEPT).get_data(as_text=True)
    header, first = list(csv.reader(io.StringIO(text)))[:2]
    assert "Opened (Beijing time)" in header
    assert first[header.index("Opened (Beijing time)")] == "2026-09-02 16:00"
    assert not [h for h in header if "Asia/" in h]


def test_a_zone_without_a_common_name_is_headed_by_its_offset(world, login):
    world.xju.institution.timezone = "Asia/Kolkata"  # UTC+5:30 all year
    db.session.commit()
    client = login(world.xju.admin)
    text = client.get("/oversight/drill/red.csv", query_string=SEPT).get_data(as_text=True)
    header, first = list(csv.reader(io.StringIO(text)))[:2]
    assert first[header.index("Opened (UTC+5:30)")] == "2026-09-02 13:30"


def test_an_admin_of_two_institutions_picks_one_from_a_list_in_name_order(campus, login):
    from campus.models import Role

    zeta = campus.institution("ZZZ", name="Zeta University")
    alpha = campus.institution("AAA", name="Alpha University")
    boss = campus.staff(zeta, Role.ADMIN)
    campus.staff(alpha, Role.ADMIN, user=boss)
    campus.commit()
    body = login(boss).get("/oversight/", query_string=SEPT).get_data(as_text=True)
    select_box = body[body.index('name="institution"') :]
    assert select_box.index("Alpha University") < select_box.index("Zeta University")
    assert f'<option selected value="{alpha.id}">Alpha University' in select_box


def test_each_chart_says_what_it_counts_and_which_colour_is_which(world, login):
    """Before: the titles were only inside the SVG for screen readers, and the level bars had no
    legend, so an administrator saw coloured bars that named nothing."""
    body = login(world.xju.admin).get("/oversight/", query_string=SEPT).get_data(as_text=True)
    captions = re.findall(r"<figcaption><strong>([^<]+)</strong>", body)
    assert captions == ["Warnings opened per month, by level", "Response deadlines met on time"]
    levels = body[body.index('aria-labelledby="levels-t') : body.index("</svg>")]
    legend = re.findall(r'font-size="12">([^<]+)</text>', levels)
    assert legend == ["Red", "Yellow", "Blue"]
    # Under the bars each month's short name with its year, not ISO (2026-09); in full in its
    # tooltip.
    assert re.findall(r'font-size="1[01]">([^<]+)</text>', levels)[2:4] == ["Sep", "2026"]
    assert "<title>September 2026 Red: " in levels
    assert "2026-09" not in levels
