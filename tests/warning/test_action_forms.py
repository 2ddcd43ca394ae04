"""Action forms as a counsellor meets them: refused input comes back inline on the student's page,
contact outcomes are choices, and closing a warning (解除预警) needs an explicit confirmation."""

from __future__ import annotations

import re

from campus.extensions import db
from tests.factories import open_warning
from warning.models import EarlyWarning
from warning.models import WarningEvent
from warning.policy import Level

from .response_helpers import events
from .response_helpers import open_deadlines


def test_contact_without_an_outcome_comes_back_on_the_students_page_and_writes_nothing(
    login, network
):
    warning = open_warning(network.student, Level.YELLOW)
    client = login(network.dept_counsellor)
    response = client.post(
        f"/warnings/{warning.id}/actions/contact",
        data={"contact-version": warning.version, "contact-method": "phone"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose what came of the contact." in page
    assert network.student.name in page
    assert "Timeline" in page
    assert '<details class="action" id="action-contact" open>' in page
    assert ">Version<" not in page
    assert events(warning, "contact") == 0
    assert "contact" in open_deadlines(warning)


def test_a_saved_action_lands_on_its_saved_message_not_back_at_the_form(login, network):
    """The form is sent to #action-contact and a redirect without a fragment keeps it: the page
    opened at the form, its "saved" message above the screen. It lands on the message."""
    warning = open_warning(network.student, Level.YELLOW)
    client = login(network.dept_counsellor)
    response = client.post(
        f"/warnings/{warning.id}/actions/contact",
        data={
            "contact-version": warning.version,
            "contact-method": "phone",
            "contact-outcome": "reached",
        },
    )
    assert response.status_code == 302
    assert response.location.endswith(f"/warnings/students/{network.student.id}#main")
    page = client.get(response.location).get_data(as_text=True)
    main = page.split('<main id="main">', 1)[1]
    assert main.lstrip().startswith('<p class="flash success" role="status">Log contact: saved.')
    judged = client.post(
        f"/warnings/students/{network.student.id}/judgement",
        data={"level": "1", "label": "Seen in class, quiet", "submission": "judgement-token-1"},
    )
    assert judged.location.endswith("#main")


def test_the_action_page_without_scripts_shows_no_version_field(login, network):
    warning = open_warning(network.student, Level.YELLOW)
    page = login(network.dept_counsellor).get(f"/warnings/{warning.id}/actions/contact")
    assert page.status_code == 200
    assert "Version" not in page.get_data(as_text=True)


def test_contact_outcome_is_a_choice_stored_as_its_code_and_shown_as_its_label(login, network):
    warning = open_warning(network.student, Level.YELLOW)
    client = login(network.dept_counsellor)
    form = client.get(f"/warnings/students/{network.student.id}").get_data(as_text=True)
    assert 'type="radio"' in form
    assert 'value="no_answer"' in form
    response = client.post(
        f"/warnings/{warning.id}/actions/contact",
        data={
            "contact-version": warning.version,
            "contact-method": "phone",
            "contact-outcome": "no_answer",
        },
    )
    assert response.status_code == 302
    # An unanswered call is an attempt (`test_actions`), stored as its code all the same.
    stored = (
        db.session.query(WarningEvent)
        .filter_by(warning_id=warning.id, kind="contact_attempt")
        .one()
    )
    assert stored.outcome == "no_answer"
    client.post("/language/zh_CN", data={"next": "/"})
    shown = client.get(f"/warnings/students/{network.student.id}").get_data(as_text=True)
    assert "未接通" in shown


def test_contact_outcome_outside_the_choices_is_refused(login, network):
    warning = open_warning(network.student, Level.YELLOW)
    response = login(network.dept_counsellor).post(
        f"/warnings/{warning.id}/actions/contact",
        data={
            "contact-version": warning.version,
            "contact-method": "phone",
            "contact-outcome": "anything at all",
        },
    )
    assert response.status_code == 400
    assert events(warning, "contact") == 0


def test_closing_a_warning_unconfirmed_is_refused_inline_and_writes_nothing(login, network):
    warning = open_warning(network.student, Level.RED)
    client = login(network.school_counsellor)
    response = client.post(
        f"/warnings/{warning.id}/actions/close",
        data={
            "close-version": warning.version,
            "close-outcome": "Assessed, stable, outpatient care arranged",
            "close-review_date": "2026-12-01",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Tick the box to confirm that you mean to close the warning." in page
    assert "the student leaves the warning queue" in page
    assert "Assessed, stable, outpatient care arranged" in page  # what was typed is kept
    db.session.expire_all()
    assert db.session.get(EarlyWarning, warning.id).status == "open"
    assert events(warning, "closed") == 0
    assert open_deadlines(warning)

    # Too short an outcome is said as a person would, not as WTForms' "Field must be between…".
    short = client.post(
        f"/warnings/{warning.id}/actions/close",
        data={"close-version": warning.version, "close-outcome": "Stable", "close-confirm": "y"},
    ).get_data(as_text=True)
    assert "Write at least 10 and at most 500 characters." in short
    assert "Field must be between" not in short
    assert events(warning, "closed") == 0


def test_the_close_form_says_every_error_at_once(login, network):
    """A short outcome and a past review date first showed the outcome's and the tick's
    errors; 复查日期必须在将来。 came only after those were fixed, and a red's missing
    assessment a round after that."""
    warning = open_warning(network.student, Level.RED)  # and not yet assessed
    client = login(network.school_counsellor)
    response = client.post(
        f"/warnings/{warning.id}/actions/close",
        data={
            "close-version": warning.version,
            "close-outcome": "Stable",
            "close-review_date": "2026-01-01",
        },
    )
    assert response.status_code == 400
    form = response.get_data(as_text=True).split('id="action-close"', 1)[1]
    form = form.split("</details>", 1)[0]
    for error in (
        "Write at least 10 and at most 500 characters.",
        "The review date must be in the future.",
        "Tick the box to confirm that you mean to close the warning.",
        "A red warning can be closed only after a professional assessment is recorded",
    ):
        assert error in form, error
    assert events(warning, "closed") == 0


def test_the_close_form_says_what_will_happen_and_uses_a_warning_colour(login, network):
    open_warning(network.student, Level.RED)
    client = login(network.school_counsellor)
    client.post("/language/zh_CN", data={"next": "/"})
    page = client.get(f"/warnings/students/{network.student.id}").get_data(as_text=True)
    assert 'class="action final"' in page
    assert "解除预警后" in page
    assert 'class="danger"' in page


def _field(form: str, name: str) -> str:
    return re.search(rf'<input [^>]*name="{name}"[^>]*value="([^"]*)"', form).group(1)


def test_the_guardian_step_is_a_family_contact_naming_who_and_what_or_refused(login, network):
    """Before: "Guardian notified" wrote the warning's own note, which the student's family
    contacts never saw, so each call was logged twice. Now the step is a family contact: refused
    with each field's error when it names nobody, met once it is saved."""
    warning = open_warning(network.student, Level.RED)
    client = login(network.dept_counsellor)
    page = client.get(f"/warnings/students/{network.student.id}").get_data(as_text=True)
    guardian = page.split('id="action-guardian"', 1)[1].split("</details>", 1)[0]
    url = f"/casework/students/{network.student.id}/family-contacts/new?back=warning"
    assert f'action="{url}"' in guardian
    sent = {
        "submission": _field(guardian, "submission"),
        "at": _field(guardian, "at"),
        "direction": "we_called",
        "channel": "phone",
        "guardian_name": "",
        "outcome": "reached",
        "summary": "",
    }
    response = client.post(url, data=sent)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Give the guardian's name." in page
    assert "Write what was said." in page
    assert events(warning, "guardian_notified") == 0
    assert "guardian_notified" in open_deadlines(warning)

    told = "Her father, by phone at 21:10; he will come tomorrow morning"
    response = client.post(url, data=sent | {"guardian_name": "Mr Wang", "summary": told})
    assert response.status_code == 302
    assert response.location.endswith(f"/warnings/students/{network.student.id}")
    assert events(warning, "guardian_notified") == 1
    assert "guardian_notified" not in open_deadlines(warning)
    assert "Guardian notified: saved" in client.get(response.location).get_data(as_text=True)


def test_the_guardian_step_is_not_offered_to_a_department_leader(login, network):
    """A department leader reads the family contacts and does not write them: the notice is
    the department counsellor's, or the centre's."""
    open_warning(network.student, Level.RED)
    page = login(network.dept_leader).get(f"/warnings/students/{network.student.id}")
    assert 'id="action-guardian"' not in page.get_data(as_text=True)


def test_a_contact_sent_without_saying_how_is_refused_not_stored_as_a_phone_call(login, network):
    warning = open_warning(network.student, Level.YELLOW)
    response = login(network.dept_counsellor).post(
        f"/warnings/{warning.id}/actions/contact",
        data={"contact-version": warning.version, "contact-outcome": "reached"},
    )
    assert response.status_code == 400
    assert "Choose how the student was contacted." in response.get_data(as_text=True)
    assert events(warning, "contact") == 0


def test_a_follow_up_date_in_the_past_or_too_far_says_which_in_the_readers_words(login, network):
    """Both read "choose a date within the level's follow-up cadence": a counsellor who had
    typed yesterday's date was not told it had passed."""
    warning = open_warning(network.student, Level.YELLOW)  # followed up every 14 days
    client = login(network.dept_counsellor)

    def schedule(due: str) -> str:
        response = client.post(
            f"/warnings/{warning.id}/actions/follow_up",
            data={"follow_up-version": warning.version, "follow_up-due_at": due},
        )
        assert response.status_code == 400
        return response.get_data(as_text=True)

    # The test clock stands at 2026-09-14 10:00 in Shanghai.
    assert "That follow-up date has passed" in schedule("2026-09-13T10:00")
    assert "within 14 days" in schedule("2026-10-30T10:00")
    client.post("/language/zh_CN", data={"next": "/"})
    assert "随访日期已过" in schedule("2026-09-13T10:00")
    assert "14 天内" in schedule("2026-10-30T10:00")
    assert events(warning, "follow_up_scheduled") == 0
