"""Family contacts (家校沟通): logged by the people who call families, append-only, once per
form, never in the future; a follow-up date becomes the author's task; the month's figure."""

from __future__ import annotations

import re
from datetime import date
from datetime import datetime

import lxml.html
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from casework.models import FamilyContact
from oversight import kpis
from tests.factories import phq9_signal
from warning.models import Deadline
from warning.models import Task

TOKEN = "0123456789abcdef0123456789abcdef"


def _url(student) -> str:
    return f"/casework/students/{student.id}/family-contacts/new"


def _form(**changes) -> dict:
    data = {
        "submission": TOKEN,
        "at": "2026-09-14T09:30",  # the frozen clock is 10:00 in Beijing
        "direction": "we_called",
        "guardian_name": "张父",
        "guardian_relation": "父亲",
        "channel": "phone",
        "summary": "告知预警情况，家长表示会多关心学生。",
        "outcome": "reached",
        "agreements": ["informed_consent"],
        "other_agreement": "",
        "follow_up_on": "",
    }
    return data | changes


def _count() -> int:
    return db.session.scalar(select(func.count(FamilyContact.id)))


def test_a_department_counsellor_logs_a_call_and_the_file_shows_it(world, login):
    client = login(world.dept_counsellor)
    response = client.post(_url(world.student), data=_form())
    assert response.status_code == 302
    entry = db.session.scalars(select(FamilyContact)).one()
    assert (entry.author_id, entry.agreements) == (world.dept_counsellor.id, ["informed_consent"])
    html = client.get(f"/casework/students/{world.student.id}").get_data(as_text=True)
    assert "告知预警情况" in html
    assert "张父（父亲）" in html
    audit = db.session.scalars(
        select(AuditEvent).where(AuditEvent.record_type == "family_contact")
    ).one()
    assert (audit.action, audit.student_id) == ("create", world.student.id)


def test_the_saved_message_stands_in_the_family_section_where_the_page_lands(world, login):
    client = login(world.dept_counsellor)
    response = client.post(_url(world.student), data=_form())
    assert response.headers["Location"].endswith("#family")
    page = lxml.html.fromstring(client.get(response.headers["Location"]).get_data(as_text=True))
    in_family = page.xpath('//section[@id="family"]//p[contains(@class, "flash")]')
    assert [p.text_content() for p in in_family] == ["Family contact saved."]
    assert len(page.xpath('//p[contains(@class, "flash")]')) == 1


def test_on_a_phone_each_logged_contact_reads_as_a_card_with_every_part_named(world, login):
    # A phone shows `table.stacked` rows as cards, each cell on its own line after its label
    # (static/app.css); the file's identity block reads one label and value a line.
    client = login(world.dept_counsellor)
    client.post(_url(world.student), data=_form())
    page = lxml.html.fromstring(client.get(f"/casework/students/{world.student.id}").data)
    (log,) = page.xpath("//table[contains(@class, 'family-log')]")
    assert "stacked" in log.classes
    (row,) = log.xpath("./tbody/tr")
    labels = [td.get("data-label") for td in row.xpath("./td")]
    assert labels == [None, "Who", "What was said", "Outcome"]
    (identity,) = page.xpath("//table[contains(@class, 'file-identity')]")
    assert "key-values" in identity.classes
    assert world.student.student_number in identity.text_content()


def test_the_form_starts_from_a_call_script_and_the_guardian_on_file(world, login):
    html = (
        login(world.dept_counsellor)
        .get(_url(world.student) + "?script=hospital_accompaniment")
        .get_data(as_text=True)
    )
    assert "green-channel arrangement" in html  # the script's summary, in the reader's English
    assert 'value="张父"' in html
    assert re.search(r'<input [^>]*\bchecked\b[^>]*value="accompany_to_hospital"', html)


def test_the_form_opens_with_nothing_chosen_for_who_how_and_whether_reached(world, login):
    """It opened on 学校联系家长 / 电话 / 已联系上: sent in a hurry, it recorded a guardian told."""
    client = login(world.dept_counsellor)
    client.post("/language/zh_CN", data={"next": "/"})
    for page in (
        client.get(_url(world.student)).get_data(as_text=True),
        client.get(_url(world.student) + "?back=warning").get_data(as_text=True),
    ):
        for name in ("direction", "channel", "outcome"):
            select_ = page.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
            assert '><option value="">请选择…</option>' in select_, name  # first, shown
            assert "selected" not in select_, name


def test_a_form_sent_without_its_outcome_is_refused_and_writes_nothing(world, login):
    """From the warning page too: the guardian's notice stays owed, the form says what is
    missing."""
    warning = phq9_signal(world.student, 22)  # red: the guardian is to be told
    client = login(world.dept_counsellor)
    unchosen = {"direction": "", "channel": "", "outcome": ""}
    for url in (_url(world.student), _url(world.student) + "?back=warning"):
        response = client.post(url, data=_form(**unchosen))
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        for words in (
            "Choose who contacted whom.",
            "Choose how you were in touch.",
            "Choose the outcome: whether the guardian was reached.",
        ):
            assert words in page, words
        response = client.post(url, data={k: v for k, v in _form().items() if k != "outcome"})
        assert response.status_code == 400
    db.session.expire_all()
    assert _count() == 0
    assert _guardian_owed(warning)
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.record_type == "family_contact")
    ).all()


def test_a_contact_in_the_future_is_refused_and_nothing_is_written(world, login):
    response = login(world.dept_counsellor).post(
        _url(world.student), data=_form(at="2026-09-14T11:30")
    )
    assert response.status_code == 400
    assert "before it has happened" in response.get_data(as_text=True)
    assert _count() == 0


def test_a_follow_up_before_the_contact_is_refused_beside_its_field(world, login):
    """Before: the refusal stood at the head of the form, far from the date to change."""
    response = login(world.dept_counsellor).post(
        _url(world.student), data=_form(follow_up_on="2026-09-13")
    )
    assert response.status_code == 400
    field = lxml.html.fromstring(response.get_data(as_text=True)).get_element_by_id(
        "follow_up_on-err"
    )
    assert field.text_content() == "The follow-up date cannot come before the contact."
    assert _count() == 0


def test_a_double_submit_stores_one_entry(world, login):
    client = login(world.dept_counsellor)
    first = client.post(_url(world.student), data=_form())
    second = client.post(_url(world.student), data=_form())
    assert first.status_code == second.status_code == 302
    assert _count() == 1
    assert "already saved" in client.get(second.location).get_data(as_text=True)


def test_a_forged_or_out_of_scope_student_is_404_and_writes_nothing(world, login):
    client = login(world.dept_counsellor)
    assert client.post(_url(world.other_student), data=_form()).status_code == 404
    assert (
        client.post("/casework/students/999999/family-contacts/new", data=_form()).status_code
        == 404
    )
    assert _count() == 0


def test_a_department_leader_reads_the_log_but_does_not_write_it(world, login):
    client = login(world.dept_leader)
    assert client.post(_url(world.student), data=_form()).status_code == 403
    html = client.get(f"/casework/students/{world.student.id}").get_data(as_text=True)
    assert 'id="family"' in html
    assert "Log a family contact" not in html
    assert _count() == 0


def test_a_follow_up_date_becomes_a_task_for_the_author(world, login):
    client = login(world.dept_counsellor)
    client.post(_url(world.student), data=_form(follow_up_on="2026-09-20"))
    task = db.session.scalars(select(Task)).one()
    assert task.assignee_user_id == world.dept_counsellor.id
    assert task.due_at.date() == date(2026, 9, 20)
    assert "Follow up with the family of 张三" in client.get("/tasks").get_data(as_text=True)


def test_a_correction_is_a_new_entry_and_the_old_one_is_kept_marked(world, login):
    client = login(world.dept_counsellor)
    client.post(_url(world.student), data=_form())
    first = db.session.scalars(select(FamilyContact)).one()
    form = client.get(_url(world.student) + f"?corrects={first.id}").get_data(as_text=True)
    assert "correcting an earlier entry" in form
    client.post(
        _url(world.student),
        data=_form(
            submission="f" * 32,
            corrects=str(first.id),
            summary="更正：家长未接听。",
            outcome="not_reached",
        ),
    )
    assert _count() == 2
    html = client.get(f"/casework/students/{world.student.id}").get_data(as_text=True)
    assert 'class="corrected"' in html
    assert "更正：家长未接听。" in html


def test_the_month_figure_counts_key_students_whose_family_was_contacted(world, campus, login):
    phq9_signal(world.student, 13)  # yellow
    second = campus.student(world.group, name="王五")
    campus.commit()
    phq9_signal(second, 22)  # red
    phq9_signal(campus.student(world.group, name="赵六"), 6)  # blue: not a key student
    client = login(world.dept_counsellor)
    client.post(_url(world.student), data=_form())
    home = client.get("/").get_data(as_text=True)
    assert "Families contacted this month: 1 of 2 key students" in home
    listed = client.get("/casework/family/this-month").get_data(as_text=True)
    assert listed.index("王五") < listed.index("张三")  # not yet contacted first
    assert "赵六" not in listed
    client.post("/language/zh_CN", data={"next": "/"})
    listed = client.get("/casework/family/this-month").get_data(as_text=True)
    assert "尚未联系" in listed
    assert "暂不宜复学" not in listed  # "Not yet" was the return assessment's words too


def test_a_used_form_sent_again_for_another_student_is_refused(world, campus, login):
    classmate = campus.student(world.group, name="王五")
    campus.commit()
    client = login(world.dept_counsellor)
    client.post(_url(world.student), data=_form())
    response = client.post(_url(classmate), data=_form())
    assert response.status_code == 400
    assert "already used" in response.get_data(as_text=True)
    assert _count() == 1


def _guardian_owed(warning) -> bool:
    return bool(
        db.session.scalar(
            select(func.count(Deadline.id)).where(
                Deadline.warning_id == warning.id,
                Deadline.kind == "guardian_notified",
                Deadline.met_at.is_(None),
                Deadline.superseded_at.is_(None),
            )
        )
    )


def test_a_call_that_reached_the_guardian_is_the_warnings_guardian_notice(world, login):
    """The counsellor logged the call here and was still reminded to notify the guardian, until
    she recorded it a second time on the warning."""
    warning = phq9_signal(world.student, 22)  # red: the department notifies the guardian
    assert _guardian_owed(warning)
    client = login(world.dept_counsellor)
    client.post(_url(world.student), data=_form())
    db.session.expire_all()
    assert not _guardian_owed(warning)
    page = client.get(f"/warnings/students/{world.student.id}").get_data(as_text=True)
    assert "Guardian notified" in page
    # A relation written in Chinese keeps its full-width brackets (it read "何雪 (母亲)").
    assert "张父（父亲）" in page


def test_a_call_that_did_not_reach_the_guardian_leaves_the_notice_owed(world, login):
    warning = phq9_signal(world.student, 22)
    login(world.dept_counsellor).post(_url(world.student), data=_form(outcome="not_reached"))
    db.session.expire_all()
    assert _count() == 1
    assert _guardian_owed(warning)


def _from_warning(client, student, **changes):
    """The warning page's "Guardian notified" form sent as filled in there."""
    page = client.get(f"/warnings/students/{student.id}").get_data(as_text=True)
    step = page.split('id="action-guardian"', 1)[1].split("</details>", 1)[0]
    token = re.search(r'<input [^>]*name="submission"[^>]*value="(\w+)"', step).group(1)
    return client.post(
        _url(student) + "?back=warning", data=_form(submission=token, agreements=[]) | changes
    )


def test_the_guardian_notice_on_the_warning_page_is_one_family_contact_read_everywhere(
    world, login
):
    """Before: "已通知监护人" on the warning never reached the family contacts: the file had no
    entry, the month's figure missed her, and counsellors logged every call twice."""
    warning = phq9_signal(world.student, 22)  # red: a key student, her guardian to be told
    client = login(world.dept_counsellor)
    response = _from_warning(client, world.student)
    assert response.status_code == 302
    assert response.location.endswith(f"/warnings/students/{world.student.id}")
    db.session.expire_all()
    assert not _guardian_owed(warning)
    entry = db.session.scalars(select(FamilyContact)).one()
    assert (entry.author_id, entry.guardian_name) == (world.dept_counsellor.id, "张父")
    file = client.get(f"/casework/students/{world.student.id}").get_data(as_text=True)
    assert "告知预警情况" in file
    assert "Families contacted this month: 1 of 1 key students" in client.get("/").get_data(
        as_text=True
    )
    month = login(world.director).get("/casework/family/this-month").get_data(as_text=True)
    row = month[month.index("张三") :].split("</tr>", 1)[0]
    assert "09:30" in row  # her family's contact this month, not "Not yet"
    assert "Not yet" not in row
    audited = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.student_id == world.student.id)
    ).all()
    assert {"create", "warning.guardian"} <= set(audited)


def test_a_guardian_not_reached_from_the_warning_page_is_logged_and_the_notice_stays_owed(
    world, login
):
    warning = phq9_signal(world.student, 22)
    client = login(world.dept_counsellor)
    response = _from_warning(client, world.student, outcome="not_reached")
    assert response.status_code == 302
    db.session.expire_all()
    assert _count() == 1
    assert _guardian_owed(warning)
    page = client.get(response.location).get_data(as_text=True)
    assert "The guardian was not reached, so the notice is still owed." in page
    assert 'id="action-guardian"' in page  # still offered


def _timeline(client, student) -> str:
    page = client.get(f"/warnings/students/{student.id}").get_data(as_text=True)
    return page.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]


def _attempts(client, student) -> list[str]:
    """The timeline's lines of attempts to reach the guardian, newest first."""
    lines = _timeline(client, student).split("<li>")
    return [line for line in lines if "Tried to reach the guardian" in line]


def test_a_guardian_not_reached_is_an_attempt_on_the_warnings_timeline(world, login):
    """The unanswered call was in the student file only: the warning read as if no one had
    tried to tell her family."""
    warning = phq9_signal(world.student, 22)
    client = login(world.dept_counsellor)
    assert _from_warning(client, world.student, outcome="not_reached").status_code == 302
    (line,) = _attempts(client, world.student)
    for words in ("Tried to reach the guardian", "Phone", "Not reached", "张父（父亲）"):
        assert words in line, words
    assert "Guardian notified" not in _timeline(client, world.student)
    db.session.expire_all()
    assert _guardian_owed(warning)  # the step stays owed
    # The guardian who would not talk, logged in the file's own form, is an attempt too.
    client.post(
        _url(world.student),
        data=_form(submission="f" * 32, at="2026-09-14T09:45", outcome="refused"),
    )
    newest, _earlier = _attempts(client, world.student)
    assert "Refused to talk" in newest
    # Reached at last: the notice, above the attempts.
    client.post(_url(world.student), data=_form(submission="e" * 32, at="2026-09-14T09:55"))
    timeline = _timeline(client, world.student)
    assert timeline.index("Guardian notified") < timeline.index("Tried to reach the guardian")
    assert timeline.count("Tried to reach the guardian") == 2
    db.session.expire_all()
    assert not _guardian_owed(warning)


def test_a_yellow_familys_unanswered_call_is_an_attempt_not_a_contact(world, login):
    """A yellow's call logged 未联系上 counted her family as contacted on the home card and
    the month's list, was missing from the warning's timeline, came from a button labelled
    已通知监护人 and was told the guardian's notice was owed, which a yellow does not owe."""
    phq9_signal(world.student, 13)  # yellow: a key student, no guardian notice owed
    client = login(world.dept_counsellor)
    page = client.get(f"/warnings/students/{world.student.id}").get_data(as_text=True)
    step = page.split('id="action-guardian"', 1)[1].split("</details>", 1)[0]
    assert "Record a family contact" in step
    assert "Guardian notified" not in step
    assert "counts as the guardian notified" not in step  # no notice owed at yellow
    response = _from_warning(client, world.student, outcome="not_reached")
    page = client.get(response.location).get_data(as_text=True)
    assert "notice is still owed" not in page
    assert "counts as an attempt, not as a contact" in page
    (line,) = _attempts(client, world.student)
    assert "Not reached" in line
    assert "Families contacted this month: 0 of 1 key students" in client.get("/").get_data(
        as_text=True
    )
    listed = client.get("/casework/family/this-month").get_data(as_text=True)
    row = listed[listed.index("张三") :].split("</tr>", 1)[0]
    assert "Not yet" in row
    assert "not reached" in row  # the attempt is shown beside it
    # Reached at last: a contact, on the timeline as the guardian spoken with (not "notified").
    client.post(_url(world.student), data=_form(submission="e" * 32, at="2026-09-14T09:55"))
    timeline = _timeline(client, world.student)
    assert timeline.index("Spoke with the guardian") < timeline.index("Tried to reach the guardian")
    assert "Guardian notified" not in timeline
    assert "Families contacted this month: 1 of 1 key students" in client.get("/").get_data(
        as_text=True
    )


def test_a_reached_call_corrected_to_unanswered_no_longer_counts_as_contact(world, login):
    phq9_signal(world.student, 13)
    client = login(world.dept_counsellor)
    client.post(_url(world.student), data=_form())
    first = db.session.scalars(select(FamilyContact)).one()
    assert "1 of 1 key students" in client.get("/").get_data(as_text=True)
    client.post(
        _url(world.student),
        data=_form(submission="f" * 32, corrects=str(first.id), outcome="not_reached"),
    )
    assert "Families contacted this month: 0 of 1 key students" in client.get("/").get_data(
        as_text=True
    )


def test_a_guardian_notice_sent_twice_from_the_warning_page_is_one_contact(world, login):
    phq9_signal(world.student, 22)
    client = login(world.dept_counsellor)
    page = client.get(f"/warnings/students/{world.student.id}").get_data(as_text=True)
    token = re.search(r'<input [^>]*name="submission"[^>]*value="(\w+)"', page).group(1)
    for _ in range(2):
        client.post(_url(world.student) + "?back=warning", data=_form(submission=token))
    assert _count() == 1
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "warning.guardian")
        )
        == 1
    )


def test_the_guardian_step_on_the_task_list_and_the_warning_page_leads_to_the_contact_form(
    world, login
):
    """The owed step linked to the warning's own guardian form, which went when the notice
    became a family contact: the link answered 404."""
    warning = phq9_signal(world.student, 22)
    client = login(world.dept_counsellor)
    form_url = _url(world.student) + "?back=warning"
    for page in (client.get("/tasks"), client.get(f"/warnings/students/{world.student.id}")):
        text = page.get_data(as_text=True)
        assert f'href="{form_url}"' in text
        assert f"/warnings/{warning.id}/actions/guardian" not in text
    assert client.get(form_url).status_code == 200


def test_the_guardian_on_file_comes_with_the_relation_the_log_last_gave(world, login):
    """The form named the guardian on file and left her relation empty, though the last call
    to her had written it."""
    phq9_signal(world.student, 22)
    client = login(world.dept_counsellor)
    assert client.post(_url(world.student), data=_form()).status_code == 302
    relation = db.session.scalars(select(FamilyContact.guardian_relation)).one()
    assert relation
    page = client.get(f"/warnings/students/{world.student.id}").get_data(as_text=True)
    step = page.split('id="action-guardian"', 1)[1].split("</details>", 1)[0]
    assert re.search(rf'name="guardian_relation"[^>]*value="{relation}"', step)


def test_the_months_figure_and_the_oversight_figure_each_say_what_they_count(world, login):
    """A department's home read "1 of 7" and oversight "5 of 7", both called 家校沟通: one
    counts this month's contacts, the other any contact since the warning opened."""
    phq9_signal(world.student, 22)  # red, opened 14 September at 10:00
    clock.set_now(datetime(2026, 9, 14, 3))
    client = login(world.dept_counsellor)
    assert client.post(_url(world.student), data=_form(at="2026-09-14T10:30")).status_code == 302
    clock.set_now(datetime(2026, 10, 5, 2))  # October: September's call is last month's
    client = login(world.dept_counsellor)
    home = client.get("/").get_data(as_text=True)
    assert "Families contacted this month: 0 of 1 key students" in home
    listed = client.get("/casework/family/this-month").get_data(as_text=True)
    assert "one in an earlier month does not" in listed
    september = kpis.View(
        (world.student.institution_id,), date(2026, 9, 1), date(2026, 9, 1), "institution"
    )
    family = kpis.BY_KEY["family"]
    out = kpis.compute(db.session, family, september, clock.now())
    assert (out["key_students"].sum(), out["family_contacted"].sum()) == (1, 1)
    assert str(family.title) == "Family contact since the warning (key students)"
    assert "Not the home page's monthly figure" in str(family.definition)
