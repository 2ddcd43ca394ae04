"""The parts of a student's own copy that the chain's domains hold: consents and questionnaires
(screening), consents withdrawn and requests to erase (privacy), what each round's results mean
(casework's individual report), her requests for a teacher to contact her and concern reports she
wrote (warning), conversations they were invited to (casework), appointments they booked, the
pre-checks answered then and their places on the waitlist (appointments).

Each loader reads only the student's own rows, by the student's id, and turns them into words
the student already saw; the columns it leaves out are the staff-only list of
docs/architecture.md. A domain that grows (appointments' pre-check, the consent withdrawals) can
register its own `PartSource` from its `registration.py` instead of adding here.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import select

from appointments import booking
from appointments.change_forms import COUNSELLOR_GENDER_CHOICES
from appointments.change_forms import KIND_LABELS
from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import PreCheck
from appointments.models import SessionKind
from appointments.models import WaitlistEntry
from appointments.models import WaitlistState
from campus.i18n import shown_name
from campus.models import Student
from campus.models import User
from casework import screening_report
from casework.models import InterviewEntry
from privacy.erasure import STATE_WORDS as ERASURE_STATE_WORDS
from privacy.file_section import SCOPE_LABELS
from privacy.models import ConsentWithdrawal
from privacy.own_copy import Answer
from privacy.own_copy import CopyContext
from privacy.own_copy import Entry
from privacy.own_copy import Fact
from privacy.own_copy import PartSource
from privacy.own_copy import register_part
from privacy.retention_models import ErasureRequest
from screening import intake
from screening.instruments import Instrument
from screening.instruments import UnknownInstrument
from screening.models import Campaign
from screening.models import CampaignAssignment
from screening.models import Consent
from screening.models import InstrumentResponse
from screening.models import ScreeningResult
from warning.forms import CONCERN_LABELS
from warning.forms import CONTACT_WAY_LABELS
from warning.labels import CONTACT_WAY_WORDS
from warning.models import ConcernReport
from warning.models import Signal
from warning.models import SignalSource


def _yes(flag: bool) -> str:
    return _("Yes") if flag else _("No")


def consents(context: CopyContext) -> list[Entry]:
    """Each consent as given: the text exactly as shown, when, what was agreed, the guardian."""
    rows = context.session.execute(
        select(Consent, Campaign)
        .join(CampaignAssignment, CampaignAssignment.id == Consent.assignment_id)
        .join(Campaign, Campaign.id == CampaignAssignment.campaign_id)
        .where(Consent.student_id == context.student.id)
        .order_by(Consent.agreed_at, Consent.id)
    ).tuples()
    entries = []
    for consent, campaign in rows:
        facts = [
            Fact("screening", _("Screening"), shown_name(campaign)),
            Fact("agreed_at", _("Agreed on"), consent.agreed_at),
            Fact("informed", _("Informed consent"), _yes(consent.informed)),
            Fact("sensitive_data", _("Consent to sensitive data"), _yes(consent.sensitive_data)),
            Fact("text", _("Text as shown"), consent.consent_text),
        ]
        if consent.minor:
            facts.append(Fact("guardian", _("Guardian who agreed"), consent.guardian_name))
        entries.append(Entry(shown_name(campaign), tuple(facts)))
    return entries


def _instrument(code: str, context: CopyContext) -> Instrument | None:
    try:
        return intake.instrument(code, context.licensed_dir)
    except UnknownInstrument:
        return None


def _answers(given: dict[int, int], inst: Instrument, locale: str) -> tuple[Answer, ...]:
    """Each answered question with the chosen option's words; a value the definition no longer
    has (an old version) is given as its number rather than dropped."""
    answers = []
    for number, value in sorted(given.items()):
        if not 1 <= number <= len(inst.items):
            continue
        item = inst.item(number)
        chosen = next((o.label.get(locale) for o in item.options.options if o.value == value), None)
        answers.append(Answer(number, item.text.get(locale), chosen or str(value)))
    return tuple(answers)


def questionnaires(context: CopyContext) -> list[Entry]:
    """Each questionnaire submitted: its neutral title, the round, when, every question in the
    reader's language with the answer chosen. Never the total, band, flags or clinical name."""
    rows = context.session.execute(
        select(ScreeningResult, Campaign)
        .join(Campaign, Campaign.id == ScreeningResult.campaign_id)
        .where(ScreeningResult.student_id == context.student.id)
        .order_by(ScreeningResult.completed_at, ScreeningResult.id)
    ).tuples()
    entries = []
    for result, campaign in rows:
        inst = _instrument(result.instrument, context)
        title = inst.student_title.get(context.locale) if inst else result.instrument
        facts = (
            Fact("questionnaire", _("Questionnaire"), title),
            Fact("screening", _("Screening"), shown_name(campaign)),
            Fact("completed_at", _("Completed"), result.completed_at),
        )
        answers = _answers(result.answer_map(), inst, context.locale) if inst else ()
        entries.append(Entry(title, facts, answers))
        if result.resubmitted_answers and inst:
            # A later submission that added a safety answer: kept beside the scored one.
            later = {int(k): v for k, v in result.resubmitted_answers.items()}
            entries.append(
                Entry(
                    _("%(title)s (answered again)", title=title),
                    facts[:2],
                    _answers(later, inst, context.locale),
                )
            )
    return entries


def saved_answers(context: CopyContext) -> list[Entry]:
    """Answers saved on a questionnaire page but never submitted (the intake keeps them so a
    student can resume): still the student's data."""
    submitted = (
        select(ScreeningResult.id)
        .where(
            ScreeningResult.assignment_id == InstrumentResponse.assignment_id,
            ScreeningResult.instrument == InstrumentResponse.instrument,
        )
        .exists()
    )
    rows = context.session.execute(
        select(InstrumentResponse, Campaign)
        .join(CampaignAssignment, CampaignAssignment.id == InstrumentResponse.assignment_id)
        .join(Campaign, Campaign.id == CampaignAssignment.campaign_id)
        .where(CampaignAssignment.student_id == context.student.id, ~submitted)
        .order_by(InstrumentResponse.updated_at, InstrumentResponse.id)
    ).tuples()
    entries = []
    for draft, campaign in rows:
        inst = _instrument(draft.instrument, context)
        if inst is None or not draft.answers:
            continue
        title = inst.student_title.get(context.locale)
        facts = (
            Fact("questionnaire", _("Questionnaire"), title),
            Fact("screening", _("Screening"), shown_name(campaign)),
            Fact("saved_at", _("Last saved"), draft.updated_at),
        )
        entries.append(Entry(title, facts, _answers(draft.answer_map(), inst, context.locale)))
    return entries


def results(context: CopyContext) -> list[Entry]:
    """What each questionnaire's result means, in the words of the student's individual report
    (`casework.screening_report`): usual range, some signs of stress, a counsellor will talk
    with you. The same words the student read after answering; never a level or a score."""
    campaign_ids = context.session.scalars(
        select(ScreeningResult.campaign_id)
        .where(ScreeningResult.student_id == context.student.id)
        .group_by(ScreeningResult.campaign_id)
        .order_by(ScreeningResult.campaign_id)
    ).all()
    entries = []
    for campaign_id in campaign_ids:
        report = screening_report.report_of(
            context.session, context.student, campaign_id, context.locale
        )
        if report is None:
            continue
        for line in report.lines:
            facts = (
                Fact("questionnaire", _("Questionnaire"), line.title),
                Fact("screening", _("Screening"), shown_name(report.campaign)),
                Fact("completed_at", _("Completed"), line.completed_at),
                Fact("meaning", _("What it means"), line.words),
            )
            entries.append(Entry(line.title, facts))
    return entries


def concern_reports_written(context: CopyContext) -> list[Entry]:
    """Concern reports the student filed as a class or dorm reporter: their own words, about
    whom, when, and whether staff followed up (as the reporter is told)."""
    user_id = context.student.user_id
    if user_id is None:
        return []
    rows = context.session.execute(
        select(ConcernReport, Student.name)
        .join(Student, Student.id == ConcernReport.student_id)
        .where(ConcernReport.filed_by_id == user_id)
        .order_by(ConcernReport.filed_at, ConcernReport.id)
    ).tuples()
    return [
        Entry(
            str(CONCERN_LABELS[report.category]),
            (
                Fact("about", _("About"), about),
                Fact("category", _("Concern"), str(CONCERN_LABELS[report.category])),
                Fact("text", _("What you wrote"), report.text),
                Fact("filed_at", _("Filed"), report.filed_at),
                Fact("followed_up", _("Followed up"), _yes(report.followed_up_at is not None)),
            ),
        )
        for report, about in rows
    ]


# The stored label says how she asked to be reached as the staff read it ("by phone"); the copy
# gives it back in the words she chose from ("Phone call").
_WAY_OF_WORD = {msgid: way for way, msgid in CONTACT_WAY_WORDS.items()}


def help_requests(context: CopyContext) -> list[Entry]:
    """Each time she asked a teacher to contact her (`warning.help`): when, how and when best to
    reach her, and what she was told (received). Never the level it raised or what staff did."""
    signals = context.session.scalars(
        select(Signal)
        .where(
            Signal.student_id == context.student.id,
            Signal.source == SignalSource.SELF_REFERRAL,
        )
        .order_by(Signal.observed_at, Signal.id)
    )
    entries = []
    for signal in signals:
        params = signal.label_params or {}
        way = params.get("way")
        said = way.get("word") if isinstance(way, dict) else None
        key = _WAY_OF_WORD.get(said) if isinstance(said, str) else None
        good_time = params.get("time")
        entries.append(
            Entry(
                _("Request for a teacher to contact you"),
                (
                    Fact("asked_at", _("Asked"), signal.observed_at),
                    Fact(
                        "contact_by",
                        _("How to reach you"),
                        str(CONTACT_WAY_LABELS[key]) if key else None,
                    ),
                    Fact(
                        "good_time",
                        _("When suits you"),
                        good_time if isinstance(good_time, str) else None,
                    ),
                    Fact("status", _("Status"), _("Received")),
                ),
            )
        )
    return entries


def consent_withdrawals(context: CopyContext) -> list[Entry]:
    """Each consent she withdrew: which, when, the explanation exactly as she read it, and
    whether and when she gave it again (with the text she agreed to then)."""
    rows = context.session.scalars(
        select(ConsentWithdrawal)
        .where(ConsentWithdrawal.student_id == context.student.id)
        .order_by(ConsentWithdrawal.withdrawn_at, ConsentWithdrawal.id)
    )
    entries = []
    for row in rows:
        scope = str(SCOPE_LABELS[row.scope])
        facts = [
            Fact("consent", _("Consent"), scope),
            Fact("withdrawn_at", _("Withdrawn"), row.withdrawn_at),
            Fact("explanation", _("What you read"), row.explanation),
        ]
        if row.reinstated_at is not None:
            facts.append(Fact("given_again_at", _("Given again"), row.reinstated_at))
            facts.append(Fact("given_again_text", _("Text agreed to"), row.reinstatement_text))
        entries.append(Entry(scope, tuple(facts)))
    return entries


def erasure_requests(context: CopyContext) -> list[Entry]:
    """Each request to erase her data: when, her own note, and its state as her page shows it."""
    rows = context.session.scalars(
        select(ErasureRequest)
        .where(ErasureRequest.student_id == context.student.id)
        .order_by(ErasureRequest.requested_at, ErasureRequest.id)
    )
    return [
        Entry(
            _("Request to erase your data"),
            (
                Fact("requested_at", _("Asked"), row.requested_at),
                Fact("note", _("What you wrote"), row.student_note or None),
                Fact("state", _("State"), _(ERASURE_STATE_WORDS[row.state])),
            ),
        )
        for row in rows
    ]


def interviews(context: CopyContext) -> list[Entry]:
    """Conversations after a screening the student was invited to: time, place, with whom and
    whether it took place. Not why they were invited, nor what was concluded."""
    rows = context.session.execute(
        select(InterviewEntry, User.name)
        .outerjoin(User, User.id == InterviewEntry.interviewer_id)
        .where(
            InterviewEntry.student_id == context.student.id,
            InterviewEntry.invited_at.is_not(None),
        )
        .order_by(InterviewEntry.scheduled_for, InterviewEntry.id)
    ).tuples()
    return [
        Entry(
            _("Conversation with the mental health centre"),
            (
                Fact("scheduled_for", _("Time"), entry.scheduled_for),
                Fact("place", _("Place"), entry.place),
                Fact("with", _("With"), interviewer),
                Fact("held", _("Took place"), _yes(entry.held_at is not None)),
            ),
        )
        for entry, interviewer in rows
    ]


APPOINTMENT_STATE_WORDS = {
    AppointmentState.BOOKED: lambda: _("booked"),
    AppointmentState.ATTENDED: lambda: _("attended"),
    AppointmentState.NO_SHOW: lambda: _("missed"),
    AppointmentState.CANCELLED: lambda: _("cancelled"),
    AppointmentState.LATE_CANCELLED: lambda: _("cancelled late"),
}
SESSION_KIND_WORDS = {
    SessionKind.FIRST_VISIT: lambda: _("first visit"),
    SessionKind.FOLLOW_UP: lambda: _("follow-up visit"),
    SessionKind.GROUP: lambda: _("group session"),
}


def appointments(context: CopyContext) -> list[Entry]:
    """Counselling appointments the student booked (or staff booked for them): when, with whom,
    what kind and what became of it. Never a session note."""
    rows = context.session.execute(
        select(Appointment, User.name)
        .join(User, User.id == Appointment.counsellor_id)
        .where(Appointment.student_id == context.student.id)
        .order_by(Appointment.starts_at, Appointment.id)
    ).tuples()
    since = booking.returning_since(context.session, [context.student.id]).get(context.student.id)
    return [
        Entry(
            _("Counselling appointment"),
            (
                Fact("starts_at", _("Time"), appointment.starts_at),
                Fact("counsellor", _("Counsellor"), counsellor),
                Fact(
                    "kind",
                    _("Kind"),
                    SESSION_KIND_WORDS[
                        booking.visit_kind(appointment.kind, appointment.starts_at, since)
                    ](),
                ),
                Fact("state", _("State"), APPOINTMENT_STATE_WORDS[appointment.state]()),
                Fact("booked_at", _("Booked"), appointment.booked_at),
            ),
        )
        for appointment, counsellor in rows
    ]


def pre_checks(context: CopyContext) -> list[Entry]:
    """The pre-checks the student answered when booking: their reason in their own words and each
    question with the answer chosen. Never the totals or bands a counsellor reads."""
    checks = context.session.scalars(
        select(PreCheck)
        .where(PreCheck.student_id == context.student.id)
        .order_by(PreCheck.submitted_at, PreCheck.id)
    )
    asked = [
        (code, _instrument(code, context))
        for code in (booking.PHQ2, booking.GAD2, booking.SAFETY_INSTRUMENT)
    ]
    entries = []
    for check in checks:
        given = {
            booking.PHQ2: {int(k): v for k, v in check.phq2_answers.items()},
            booking.GAD2: {int(k): v for k, v in check.gad2_answers.items()},
            booking.SAFETY_INSTRUMENT: {booking.SAFETY_ITEM: check.safety_answer},
        }
        answers: list[Answer] = []
        for code, inst in asked:
            if inst is not None:
                answers += _answers(given[code], inst, context.locale)
        # Numbered in the order asked, not by each questionnaire's own item numbers.
        numbered = tuple(
            Answer(n, answer.question, answer.answer) for n, answer in enumerate(answers, 1)
        )
        facts = (
            Fact("submitted_at", _("Answered"), check.submitted_at),
            Fact("reason", _("Your reason, in your words"), check.reason),
        )
        entries.append(Entry(_("Before your appointment"), facts, numbered))
    return entries


WAITLIST_STATE_WORDS = {
    WaitlistState.WAITING: lambda: _("waiting"),
    WaitlistState.OFFERED: lambda: _("a freed time was held for you"),
    WaitlistState.ACCEPTED: lambda: _("you took the time offered"),
    WaitlistState.EXPIRED: lambda: _("the time offered lapsed unanswered"),
    WaitlistState.WITHDRAWN: lambda: _("you left the waitlist"),
}
_GENDER_WORDS = dict(COUNSELLOR_GENDER_CHOICES)


def waitlist_entries(context: CopyContext) -> list[Entry]:
    """Each time she joined the waitlist: when, the wishes she gave (kind of session, the
    counsellor's gender or a particular counsellor, the days she could come), what became of
    it and, for a time held for her, until when."""
    rows = context.session.execute(
        select(WaitlistEntry, User.name)
        .outerjoin(User, User.id == WaitlistEntry.counsellor_id)
        .where(WaitlistEntry.student_id == context.student.id)
        .order_by(WaitlistEntry.joined_at, WaitlistEntry.id)
    ).tuples()
    entries = []
    for entry, counsellor in rows:
        facts = [
            Fact("joined_at", _("Joined"), entry.joined_at),
            Fact(
                "kind",
                _("Kind of session"),
                str(KIND_LABELS[entry.kind]) if entry.kind else _("Any"),
            ),
            Fact(
                "counsellor_gender",
                _("Counsellor's gender"),
                str(_GENDER_WORDS.get(entry.counsellor_gender or "", entry.counsellor_gender)),
            ),
            Fact("counsellor", _("A particular counsellor"), counsellor),
            Fact("earliest_on", _("First day you can come"), entry.earliest_on),
            Fact("latest_on", _("Last day you can come"), entry.latest_on),
            Fact("state", _("State"), WAITLIST_STATE_WORDS[entry.state]()),
        ]
        if entry.state is WaitlistState.OFFERED:
            facts.append(Fact("held_until", _("Held for you until"), entry.offer_expires_at))
        elif entry.closed_at is not None:
            facts.append(Fact("closed_at", _("Ended"), entry.closed_at))
        entries.append(Entry(_("Place on the waitlist"), tuple(facts)))
    return entries


def register(app: Flask) -> None:
    """Declare the parts above, in the order the copy reads."""
    for part in (
        PartSource(
            "consents",
            lambda: _("Consents you gave"),
            10,
            consents,
            lambda: _("You have not given any consent in Xinqiao."),
        ),
        PartSource(
            "questionnaires",
            lambda: _("Your answers"),
            20,
            questionnaires,
            lambda: _("You have not submitted any questionnaire."),
        ),
        PartSource(
            "saved_answers",
            lambda: _("Answers saved but not submitted"),
            25,
            saved_answers,
            lambda: _("None."),
        ),
        PartSource(
            "results",
            lambda: _("What your results mean"),
            30,
            results,
            lambda: _("No results yet."),
        ),
        PartSource(
            "consent_withdrawals",
            lambda: _("Consents you withdrew"),
            15,
            consent_withdrawals,
            lambda: _("None."),
        ),
        PartSource(
            "help_requests",
            lambda: _("Requests for a teacher to contact you"),
            35,
            help_requests,
            lambda: _("None."),
        ),
        PartSource(
            "concern_reports",
            lambda: _("Concern reports you wrote"),
            40,
            concern_reports_written,
            lambda: _("You have not written any concern report."),
        ),
        PartSource(
            "interviews",
            lambda: _("Conversations you were invited to"),
            50,
            interviews,
            lambda: _("You have not been invited to a conversation."),
        ),
        PartSource(
            "appointments",
            lambda: _("Counselling appointments"),
            60,
            appointments,
            lambda: _("You have not booked a counselling appointment."),
        ),
        PartSource(
            "pre_checks",
            lambda: _("Questions answered when booking"),
            61,
            pre_checks,
            lambda: _("None."),
        ),
        PartSource(
            "waitlist",
            lambda: _("Waitlist for a counselling appointment"),
            62,
            waitlist_entries,
            lambda: _("You have not joined the waitlist."),
        ),
        PartSource(
            "erasure_requests",
            lambda: _("Requests to erase your data"),
            90,
            erasure_requests,
            lambda: _("None."),
        ),
    ):
        register_part(app, part)
