"""Prevention pages: the student's intake, campaign administration, results import, results view."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from pathlib import Path

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup
from markupsafe import escape
from sqlalchemy import select

from campus import acting_for
from campus import audit
from campus import clock
from campus import nav
from campus.centre_phone import on_duty_phone
from campus.extensions import db
from campus.forms import filled
from campus.i18n import Message
from campus.i18n import choose_language
from campus.i18n import refusal_text
from campus.i18n import shown
from campus.models import ClassGroup
from campus.models import Department
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.permissions import require_roles
from campus.redirects import safe_next
from campus.scope import Capability
from campus.scope import get_student
from campus.scope import institution_ids
from campus.spreadsheets import ImportFileError
from campus.spreadsheets import send_template
from privacy import consent as privacy_consent
from screening import campaigns
from screening import intake
from screening import progress
from screening import results_import
from screening import trajectories
from screening import visibility
from screening import vocabulary
from screening.conditional_items import when_to_answer
from screening.forms import CampaignForm
from screening.forms import ConsentForm
from screening.forms import InstrumentPageForm
from screening.forms import ResultsImportForm
from screening.instruments import list_instruments
from screening.instruments import load_instrument
from screening.models import AssignmentStatus
from screening.models import Campaign
from screening.models import CampaignAssignment
from screening.models import ScreeningResult
from screening.scoring import AnswerProblem

bp = Blueprint("screening", __name__, url_prefix="/screening")
CAMPAIGN_ROLES = (Role.ADMIN, Role.SCHOOL_COUNSELLOR)


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def _licensed_dir() -> Path:
    return Path(current_app.instance_path) / "instruments"


# --- the student's intake ---------------------------------------------------------------------


def _own(assignment_id: int) -> CampaignAssignment:
    """The signed-in student's assignment, open now; a forged id is 404 like a missing one."""
    assignment = intake.own_assignment(db.session, current_user, assignment_id)
    if assignment is None:
        abort(404)
    return assignment


def _require_open(assignment: CampaignAssignment):
    """A page explaining why the assignment cannot be worked on now, or None if it can."""
    now = clock.now()
    if assignment.completed_at is None and privacy_consent.screening_withdrawal(
        db.session, assignment.student_id
    ):
        return render_template(
            "screening/closed.html", assignment=assignment, now=now, withdrawn=True
        ), 409
    if assignment.campaign.is_open(now) or assignment.completed_at is not None:
        return None
    return _closed_page(assignment, now), 409


@bp.route("/mine")
@require_roles(Role.STUDENT)
def mine():
    now = clock.now()
    rows = [
        a for a in intake.own_assignments(db.session, current_user) if a.campaign.opens_at <= now
    ]
    student_id = db.session.scalar(select(Student.id).where(Student.user_id == current_user.id))
    withdrawn = student_id is not None and privacy_consent.screening_withdrawal(
        db.session, student_id
    )
    return render_template("screening/mine.html", assignments=rows, now=now, withdrawn=withdrawn)


@bp.route("/a/<int:assignment_id>")
@require_roles(Role.STUDENT)
def resume(assignment_id: int):
    """Send the student to wherever they left off."""
    assignment = _own(assignment_id)
    if (closed := _require_open(assignment)) is not None:
        return closed
    if assignment.consent is None:
        return redirect(url_for(".consent", assignment_id=assignment.id))
    code = intake.next_instrument(db.session, assignment)
    if code is None:
        return render_template(
            "screening/finished.html",
            assignment=assignment,
            safety=intake.holds_safety_answer(db.session, assignment),
            on_duty=_on_duty(assignment),
        )
    return redirect(url_for(".take", assignment_id=assignment.id, code=code))


@bp.route("/a/<int:assignment_id>/consent", methods=["GET", "POST"])
@require_roles(Role.STUDENT)
def consent(assignment_id: int):
    assignment = _own(assignment_id)
    if (closed := _require_open(assignment)) is not None:
        return closed
    if assignment.consent is not None:
        return redirect(url_for(".resume", assignment_id=assignment.id))
    now = clock.now()
    minor = assignment.student.is_minor(assignment.campaign.local_today(now))
    text = assignment.campaign.consent_text(_locale()) or _default_consent_text()
    who_sees = visibility.lines()
    in_short = _in_short(assignment)
    form = ConsentForm()
    roster_guardian = assignment.student.guardian_name or ""
    if minor and not form.is_submitted():
        # The roster names the guardian: she confirms it, or corrects it, instead of typing it.
        form.guardian_name.data = roster_guardian
    status = 200
    if form.validate_on_submit():
        try:
            intake.give_consent(
                db.session,
                assignment,
                _consent_answers(form),
                # Everything the page shows her, in its order: the short points, then in full.
                text="\n\n".join(
                    (
                        "\n".join(point.striptags() for point in in_short),
                        text,
                        visibility.as_text(who_sees),
                    )
                ),
                locale=_locale(),
                ip=request.remote_addr,
                now=now,
            )
            return redirect(url_for(".resume", assignment_id=assignment_id))
        except intake.ConsentError as exc:
            _consent_errors(form, exc.problems)
            status = 422
    return render_template(
        "screening/consent.html",
        assignment=assignment,
        form=form,
        minor=minor,
        roster_guardian=roster_guardian,
        text=text,
        who_sees=who_sees,
        in_short=in_short,
    ), status


def _in_short(assignment: CampaignAssignment) -> list[Markup]:
    """The consent's essentials, read on a phone before anything else: what the screening is,
    that it is her choice, what happens after a worrying answer, who sees her results (from the
    same rules as the full statement) and the numbers to call now."""
    count = len(assignment.campaign.instruments)
    withdraw = Markup('<a href="{}">{}</a>').format(
        url_for("my_data.index"), _("My data and consent")
    )
    hotline = current_app.config["CRISIS_HOTLINE"]
    duty = _on_duty(assignment)
    phones = {
        "hotline": Markup('<a href="tel:{0}">{0}</a>').format(hotline),
        "duty": Markup('<a href="tel:{0}">{0}</a>').format(duty or ""),
    }
    # Translated text escaped, then the links put in (gettext without values leaves the
    # placeholders for `%` to fill).
    crisis = escape(
        _(
            "Need help now? You do not have to wait for the questionnaires: call the 24-hour "
            "hotline %(hotline)s or the centre's on-duty phone %(duty)s."
        )
        if duty
        else _(
            "Need help now? You do not have to wait for the questionnaires: call the 24-hour "
            "hotline %(hotline)s."
        )
    )
    return [
        escape(
            ngettext(
                "What this is: %(num)d short questionnaire, so that the university's mental "
                "health centre can offer you support early.",
                "What this is: %(num)d short questionnaires, so that the university's mental "
                "health centre can offer you support early.",
                count,
            )
        ),
        escape(
            _(
                "It is your choice: you may stop at any time and continue later, and withdraw "
                "your consent later under %(page)s."
            )
        )
        % {"page": withdraw},
        escape(_("If your answers suggest you may be at risk, a counsellor will contact you.")),
        *(escape(line) for line in visibility.in_short()),
        crisis % phones,
    ]


def _consent_answers(form: ConsentForm) -> intake.ConsentAnswers:
    return intake.ConsentAnswers(
        informed=form.informed.data,
        sensitive_data=form.sensitive_data.data,
        guardian_name=form.guardian_name.data or "",
        guardian_relationship=form.guardian_relationship.data or "",
        guardian_agrees=form.guardian_agrees.data,
    )


def _consent_errors(form: ConsentForm, problems: list[str]) -> None:
    messages = {
        "informed": _("Please confirm that you agree to take part."),
        "sensitive_data": _("Please agree separately to the processing of sensitive data."),
        "guardian_name": _("You are under 18: please give your guardian's name."),
        "guardian_relationship": _("Please give your guardian's relationship to you."),
        "guardian_agrees": _("You are under 18: your guardian must agree too."),
    }
    for problem in problems:
        getattr(form, problem).errors.append(messages[problem])


def _default_consent_text() -> str:
    return _(
        "This screening helps the university's mental health centre offer support early. Your "
        "answers are used only to offer you help; below is exactly who sees what. If your "
        "answers suggest you may be at risk, a counsellor will contact you. You may stop at any "
        "time and continue later."
    )


@bp.route("/a/<int:assignment_id>/i/<code>", methods=["GET", "POST"])
@require_roles(Role.STUDENT)
def take(assignment_id: int, code: str):
    assignment = _own(assignment_id)
    if code not in assignment.campaign.instruments:
        abort(404)
    form = InstrumentPageForm()
    # Answers posted after consent always reach the intake, even after a result or after the
    # window closed: a safety answer among them must raise its warning.
    if assignment.consent is not None and form.validate_on_submit():
        return _post_answers(assignment, intake.instrument(code, _licensed_dir()), form)
    if intake.result_for(db.session, assignment, code) is not None:
        return redirect(url_for(".feedback", assignment_id=assignment.id, code=code))
    if (closed := _require_open(assignment)) is not None:
        return closed
    if assignment.consent is None:
        flash(_("Please read and agree to the consent first."), "error")
        return redirect(url_for(".consent", assignment_id=assignment.id))
    inst = intake.instrument(code, _licensed_dir())
    draft = intake.draft_for(db.session, assignment, code)
    form.token.data = secrets.token_urlsafe(24)
    # A draft kept with a safety answer (its warning raised) opens with the crisis resources.
    return _render_page(
        assignment,
        inst,
        form,
        draft.answer_map() if draft else {},
        [],
        safety=draft is not None and draft.safety_signal_id is not None,
    )


def _post_answers(assignment: CampaignAssignment, inst, form: InstrumentPageForm):
    answers = intake.parse_answers(inst, request.form)
    assignment_id = assignment.id  # the submission's commits expire `assignment`
    now = clock.now()
    try:
        if request.form.get("action") == "save" and _may_draft(assignment, inst.code, now):
            return _saved(assignment, inst, answers, now, safe_next(request.form.get("next")))
        result = _submit(assignment, inst, answers, form, now)
    except intake.AnswersRejected as exc:
        return _render_page(assignment, inst, form, answers, exc.problems, exc.safety), 422
    except intake.WindowClosed as exc:
        return _closed_page(assignment, now, safety=exc.safety), 409
    except intake.SubmissionFailed:
        flash(
            _("Your answers are kept, but they could not be submitted. Please try again."), "error"
        )
        return _render_page(assignment, inst, form, answers, []), 503
    if result.submission_token != form.token.data:
        flash(_("You had already submitted this part; your first answers are kept."), "info")
    return redirect(url_for(".feedback", assignment_id=assignment_id, code=inst.code))


@bp.route("/a/<int:assignment_id>/i/<code>/language/<lang>", methods=["POST"])
@require_roles(Role.STUDENT)
def switch_language(assignment_id: int, code: str, lang: str):
    """The language switch of a questionnaire page, which posts the page's form: the answers
    ticked but not saved yet are kept as a draft first, with the warning a safety answer among
    them raises, exactly as "Save and continue later" keeps them; then the page opens again in the
    other language, ticks and all."""
    assignment = _own(assignment_id)
    if code not in assignment.campaign.instruments or lang not in current_app.config["LANGUAGES"]:
        abort(404)
    form = InstrumentPageForm()
    if assignment.consent is None or not form.validate_on_submit():
        choose_language(lang)
        return redirect(url_for(".take", assignment_id=assignment_id, code=code))
    inst = intake.instrument(code, _licensed_dir())
    answers = intake.parse_answers(inst, request.form)
    now = clock.now()
    drafting = _may_draft(assignment, code, now)
    try:
        if answers and drafting:
            intake.save_draft(db.session, assignment, inst, answers, locale=_locale(), now=now)
        elif answers:
            # After the window closed, or after a result: kept (or their safety answer told) as
            # a submit keeps them.
            _submit(assignment, inst, answers, form, now)
    except intake.AnswersRejected as exc:
        return _render_page(assignment, inst, form, answers, exc.problems, exc.safety), 422
    except intake.WindowClosed as exc:
        choose_language(lang)
        return _closed_page(assignment, now, safety=exc.safety), 409
    except intake.SubmissionFailed:
        flash(
            _(
                "Your answers could not be saved, so the language was not switched; they are "
                "still on this page. Please try again."
            ),
            "error",
        )
        return _render_page(assignment, inst, form, answers, []), 503
    choose_language(lang)
    if answers and drafting:
        flash(_("Your answers so far are saved."), "success")
    return redirect(url_for(".take", assignment_id=assignment_id, code=code))


def _may_draft(assignment: CampaignAssignment, code: str, now: datetime) -> bool:
    """Answers are kept as a draft while she may still change them: the window open and no
    result for the part yet; otherwise they go as a submit, which keeps or refuses them."""
    return (
        assignment.campaign.is_open(now) and intake.result_for(db.session, assignment, code) is None
    )


def _submit(assignment: CampaignAssignment, inst, answers: dict, form, now: datetime):
    return intake.submit(
        db.session, assignment, inst, answers, token=form.token.data, locale=_locale(), now=now
    )


def _saved(
    assignment: CampaignAssignment, inst, answers: dict, now: datetime, next_page: str | None
):
    """Keep the draft; a safety answer in it leads to the crisis resources, not the list.

    `next_page` (a page of this site, `campus.redirects.safe_next`) is where a link of the page
    she tapped leads (static/keep_answers.js saves first): she goes there once the draft is kept,
    unless a safety answer in it leads to the crisis resources as saving does; nothing ticked
    writes no draft."""
    if next_page is not None and not answers:
        return redirect(next_page)
    assignment_id = assignment.id  # saving commits, which expires `assignment`
    draft = intake.save_draft(db.session, assignment, inst, answers, locale=_locale(), now=now)
    flash(_("Your answers are saved. You can continue later."), "success")
    if draft.safety_signal_id is not None:
        return redirect(url_for(".support", assignment_id=assignment_id, code=inst.code))
    return redirect(next_page or url_for(".mine"))


def _closed_page(assignment: CampaignAssignment, now: datetime, *, safety: bool = False):
    return render_template(
        "screening/closed.html",
        assignment=assignment,
        now=now,
        safety=safety,
        on_duty=_on_duty(assignment),
    )


def _on_duty(assignment: CampaignAssignment) -> str | None:
    """The centre's on-duty phone shown beside the crisis hotline."""
    return on_duty_phone(assignment.campaign.institution)


@bp.route("/a/<int:assignment_id>/i/<code>/support")
@require_roles(Role.STUDENT)
def support(assignment_id: int, code: str):
    """Crisis resources after answers with a safety answer were saved, then the way back."""
    assignment = _own(assignment_id)
    if code not in assignment.campaign.instruments:
        abort(404)
    return render_template(
        "screening/crisis.html", assignment=assignment, code=code, on_duty=_on_duty(assignment)
    )


def _render_page(
    assignment, inst, form, answers: dict, problems: list[AnswerProblem], safety=False
):
    """The instrument's page with `answers` kept; each problem is listed at the top (a link to
    its item) and told again at the item it is about."""
    codes = assignment.campaign.instruments
    locale = _locale()
    at_item: dict[int, str] = {}
    for problem in problems:
        if problem.item is not None:
            at_item.setdefault(
                problem.item,
                _("Please answer this question.") if problem.missing else problem.message,
            )
    return render_template(
        "screening/instrument.html",
        assignment=assignment,
        inst=inst,
        form=form,
        answers=answers,
        problems=problems,
        at_item=at_item,
        hints={item.number: when_to_answer(inst, item, locale) for item in inst.items},
        locale=locale,
        position=codes.index(inst.code) + 1,
        count=len(codes),
        safety=safety,
        safety_values=intake.safety_values(inst),
        on_duty=_on_duty(assignment),
    )


@bp.route("/a/<int:assignment_id>/i/<code>/done")
@require_roles(Role.STUDENT)
def feedback(assignment_id: int, code: str):
    """Supportive feedback; crisis resources first after a safety answer; never the level."""
    assignment = _own(assignment_id)
    result = intake.result_for(db.session, assignment, code)
    if result is None:
        abort(404)
    audit.record_on(
        db.session,
        result,
        actor=current_user,
        action="read_own_feedback",
        record_type="screening_result",
    )
    inst = intake.instrument(code, _licensed_dir())
    page = render_template(
        "screening/feedback.html",
        assignment=assignment,
        result=result,
        inst=inst,
        locale=_locale(),
        safety=intake.has_safety_flag(result),
        elevated=intake.elevated(result),
        next_code=intake.next_instrument(db.session, assignment),
        on_duty=_on_duty(assignment),
        help_entries=nav.help_entries(current_app),
    )
    # The audit row is committed before the page leaves the server (`audit.record_read`'s rule);
    # rendering first spares re-reading everything the commit expires.
    db.session.commit()
    return page


# --- campaign administration ------------------------------------------------------------------


def _staff_institutions() -> list[int]:
    return institution_ids(current_user, *CAMPAIGN_ROLES)


def _campaign(campaign_id: int) -> Campaign:
    campaign = db.session.scalar(
        select(Campaign).where(
            Campaign.id == campaign_id, Campaign.institution_id.in_(_staff_institutions())
        )
    )
    if campaign is None:
        abort(404)
    return campaign


@bp.route("/campaigns")
@require_roles(*CAMPAIGN_ROLES)
def campaign_list():
    now = clock.now()
    rows = [
        (c, campaigns.coverage(db.session, c, current_user, now))
        for c in campaigns.campaigns_for(db.session, _staff_institutions())
    ]
    return render_template("screening/campaigns.html", rows=rows, now=now)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@require_roles(*CAMPAIGN_ROLES)
def campaign_new():
    # A user whose roles reach several institutions chooses, never gets the first.
    return _edit_campaign(acting_for.institution_for(*CAMPAIGN_ROLES), None)


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@require_roles(*CAMPAIGN_ROLES)
def campaign_edit(campaign_id: int):
    campaign = _campaign(campaign_id)
    return _edit_campaign(campaign.institution, campaign)


def _edit_campaign(institution: Institution, campaign: Campaign | None):
    form = CampaignForm(obj=_form_data(campaign) if campaign else None)
    _cohort_choices(form, institution, campaign.instruments if campaign else [])
    status = 200
    if request.method == "POST" and request.form.get("close_action") == "back":
        # 返回修改 on the close's confirm step: the form again, as filled, nothing saved.
        form.close_seen.data = ""
        return render_template("screening/campaign_form.html", form=form, campaign=campaign)
    if form.validate_on_submit():
        spec = _spec(form)
        overlapping = campaigns.overlaps(db.session, institution, spec, editing=campaign)
        if not _overlaps_confirmed(form, overlapping):
            # The confirm step: the same form, filled, with what overlaps and a box to tick.
            form.overlaps_seen.data = ",".join(str(o.campaign.id) for o in overlapping)
            form.overlaps_confirmed.data = False
            return render_template(
                "screening/campaign_form.html",
                form=form,
                campaign=campaign,
                overlapping=overlapping,
            )
        started = clock.now()
        close_from = None
        if campaign is not None:
            seen = form.close_seen.data or ""
            already = seen and not campaigns.close_moves(campaign, spec.closes_at)
            if already and seen.split("|")[0] == _close_key(spec.closes_at):
                # A second submit of a confirmation already saved: it writes nothing again.
                return redirect(url_for(".campaign_detail", campaign_id=campaign.id))
            move = campaigns.close_move(db.session, campaign, spec.closes_at, started)
            if move is not None:
                token = _close_token(campaign.closes_at, spec.closes_at)
                if seen != token:
                    return _close_confirm(campaign, move, token)
                close_from = campaign.closes_at
        closed_before = campaign.closes_at if campaign is not None else None
        try:
            saved = campaigns.save_campaign(
                db.session,
                institution,
                current_user,
                spec,
                campaign=campaign,
                licensed_dir=_licensed_dir(),
                overlapping=overlapping,
                close_from=close_from,
            )
            flash(_("Campaign saved."), "success")
            if closed_before is not None and closed_before != saved.closes_at:
                moved = campaigns.interviews_moved_since(db.session, saved, started)
                if moved:
                    flash(
                        ngettext(
                            "The deadline of %(num)d interview still owed moved with the close; "
                            "its page says why.",
                            "The deadlines of %(num)d interviews still owed moved with the close; "
                            "each one's page says why.",
                            moved,
                        ),
                        "info",
                    )
            if not campaigns.cohort_size(db.session, saved):
                # Saved all the same: a campaign may be set up before its roster is imported.
                flash(
                    _(
                        "No student is in this campaign's cohort yet: check the grades, "
                        "departments and classes chosen, or import the roster."
                    ),
                    "warning",
                )
            return redirect(url_for(".campaign_detail", campaign_id=saved.id))
        except campaigns.CloseChanged:
            # Moved by someone else since it was confirmed: asked again, with today's figures.
            db.session.rollback()
            assert campaign is not None
            db.session.refresh(campaign)
            move = campaigns.close_move(db.session, campaign, spec.closes_at, clock.now())
            if move is None:
                return redirect(url_for(".campaign_detail", campaign_id=campaign.id))
            token = _close_token(campaign.closes_at, spec.closes_at)
            return _close_confirm(campaign, move, token)
        except campaigns.CampaignError as exc:
            db.session.rollback()
            form.instruments.errors = list(form.instruments.errors) + [
                shown(p) if isinstance(p, Message) else _(p) for p in exc.problems
            ]
    if form.is_submitted():
        status = 422
    return render_template("screening/campaign_form.html", form=form, campaign=campaign), status


# Not the form's values: the page's own fields and the two buttons of the close's confirm step.
_NOT_VALUES = {"csrf_token", "close_seen", "close_action", "submit"}


def _close_key(after: datetime) -> str:
    """The form's values and the close they confirm, as one fingerprint: a confirmation is of
    exactly these values, moving the close to `after`."""
    values = sorted(
        (name, value) for name, value in request.form.items(multi=True) if name not in _NOT_VALUES
    )
    digest = hashlib.sha256(repr(values).encode()).hexdigest()[:24]
    return f"{digest}:{after.isoformat()}"


def _close_token(before: datetime, after: datetime) -> str:
    """What the confirm step carries: the fingerprint, and the close it moves from (a close moved
    by someone else since makes it stale, and the step is shown again)."""
    return f"{_close_key(after)}|{before.isoformat()}"


def _close_confirm(campaign: Campaign, move: campaigns.CloseMove, token: str):
    """The close's confirm step: what saving would do, in words, before anything is written;
    the form's values ride along in hidden fields for 确认保存 and 返回修改."""
    values = [
        (name, value) for name, value in request.form.items(multi=True) if name not in _NOT_VALUES
    ]
    return render_template(
        "screening/campaign_close_confirm.html",
        campaign=campaign,
        move=move,
        values=values,
        token=token,
        now=clock.now(),
    )


def _overlaps_confirmed(form: CampaignForm, overlapping: list[campaigns.Overlap]) -> bool:
    """No overlap, or the box ticked under a list that showed every campaign overlapping now:
    one that began to overlap since the page was shown is asked about again."""
    if not overlapping:
        return True
    seen = {int(n) for n in (form.overlaps_seen.data or "").split(",") if n.strip().isdigit()}
    return bool(form.overlaps_confirmed.data) and {o.campaign.id for o in overlapping} <= seen


def _to_utc(local: datetime) -> datetime:
    return clock.to_utc(local, clock.viewer_zone())


def _to_local(utc: datetime) -> datetime:
    """Naive local wall-clock time, as the form's datetime-local field wants it."""
    return clock.to_local(utc, clock.viewer_zone()).replace(tzinfo=None)


def _form_data(campaign: Campaign):
    class Data:
        name = campaign.name
        name_en = campaign.name_en
        instruments = campaign.instruments
        grades = campaign.grades
        department_ids = campaign.department_ids
        class_ids = campaign.class_ids
        opens_at = _to_local(campaign.opens_at)
        closes_at = _to_local(campaign.closes_at)
        consent_text_zh = campaign.consent_text_zh
        consent_text_en = campaign.consent_text_en
        reminder_every_days = campaign.reminder_every_days
        students_see_report = campaign.students_see_report

    return Data()


def _cohort_choices(form: CampaignForm, institution: Institution, chosen: list[str]) -> None:
    """Instruments by their names (the campaign's own first, in the order students take them),
    then the institution's grades, departments and classes."""
    locale = _locale()
    codes = [*chosen, *(code for code in list_instruments() if code not in chosen)]
    form.instruments.choices = [(code, _instrument_label(code, locale)) for code in codes]
    classes = db.session.scalars(
        select(ClassGroup)
        .join(Department)
        .where(Department.institution_id == institution.id)
        .order_by(ClassGroup.grade.desc(), ClassGroup.name)
    ).all()
    form.grades.choices = [(g, str(g)) for g in sorted({c.grade for c in classes}, reverse=True)]
    departments = sorted({c.department for c in classes}, key=lambda d: d.name)
    form.department_ids.choices = [(d.id, d.name) for d in departments]
    form.class_ids.choices = [(c.id, f"{c.department.name} / {c.name}") for c in classes]


def _instrument_label(code: str, locale: str) -> str:
    """The instrument's name; one whose licensed item text is not loaded says so before it is
    ticked (saving would refuse it)."""
    name = load_instrument(code).name.get(locale)
    if campaigns.instrument_problems([code], _licensed_dir()):
        return _("%(name)s (licensed item text not loaded yet)", name=name)
    return name


def _spec(form: CampaignForm) -> campaigns.CampaignSpec:
    return campaigns.CampaignSpec(
        name=filled(form.name),
        name_en=form.name_en.data or "",
        instruments=form.instruments.data or [],
        opens_at=_to_utc(filled(form.opens_at)),
        closes_at=_to_utc(filled(form.closes_at)),
        grades=form.grades.data or [],
        department_ids=form.department_ids.data or [],
        class_ids=form.class_ids.data or [],
        consent_text_zh=form.consent_text_zh.data or "",
        consent_text_en=form.consent_text_en.data or "",
        reminder_every_days=form.reminder_every_days.data or 0,
        students_see_report=bool(form.students_see_report.data),
    )


@bp.route("/campaigns/<int:campaign_id>")
@require_roles(*CAMPAIGN_ROLES)
def campaign_detail(campaign_id: int):
    campaign = _campaign(campaign_id)
    now = clock.now()
    return render_template(
        "screening/campaign_detail.html",
        campaign=campaign,
        total=campaigns.coverage(db.session, campaign, current_user, now),
        departments=campaigns.coverage_by_department(db.session, campaign, current_user, now),
        statuses=list(AssignmentStatus),
        now=now,
    )


COVERAGE_DRILL_DOWN = "campaign_coverage_drill_down"


@bp.route("/campaigns/<int:campaign_id>/coverage/<int:department_id>")
@require_roles(*CAMPAIGN_ROLES)
def department_coverage(campaign_id: int, department_id: int):
    """A department's row of the campaign's coverage, class by class: counts only, never a name
    or a result (those are the department counsellor's list); audited as a drill-down."""
    campaign = _campaign(campaign_id)
    department = db.session.get(Department, department_id)
    if department is None or department.institution_id != campaign.institution_id:
        audit.record_denied(db.session, current_user, COVERAGE_DRILL_DOWN, "campaign", campaign_id)
        abort(404)
    now = clock.now()
    classes = campaigns.coverage_by_class(db.session, campaign, current_user, now, department)
    page = render_template(
        "screening/department_coverage.html",
        campaign=campaign,
        department=department,
        classes=classes,
        total=sum((cover for _, cover in classes), campaigns.Coverage()),
    )
    audit.record_read(
        db.session,
        actor=current_user,
        action=COVERAGE_DRILL_DOWN,
        record_type="campaign",
        record_id=campaign.id,
        institution_id=campaign.institution_id,
        detail=f"department={department.id} classes={len(classes)}",
    )
    return page


@bp.route("/campaigns/<int:campaign_id>/import", methods=["GET", "POST"])
@require_roles(*CAMPAIGN_ROLES)
def campaign_import(campaign_id: int):
    campaign = _campaign(campaign_id)
    form = ResultsImportForm()
    form.instrument.choices = [(c, vocabulary.instrument_name(c)) for c in campaign.instruments]
    report, file_error = None, None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            frame = results_import.read_table(upload.filename, upload.read())
            report = results_import.import_results(
                db.session,
                campaign,
                intake.instrument(form.instrument.data, _licensed_dir()),
                frame,
                actor=current_user,
                now=clock.now(),
                clean_rows_only=form.clean_rows_only.data,
            )
        except ImportFileError as exc:
            db.session.rollback()
            file_error = refusal_text(exc)
    status = 422 if file_error or (report and not report.imported) else 200
    return render_template(
        "screening/import.html", campaign=campaign, form=form, report=report, file_error=file_error
    ), status


@bp.route("/campaigns/<int:campaign_id>/import/<code>.<fmt>")
@require_roles(*CAMPAIGN_ROLES)
def results_template(campaign_id: int, code: str, fmt: str):
    """The paper results of one of the campaign's instruments to fill in (CSV or XLSX)."""
    campaign = _campaign(campaign_id)
    if code not in campaign.instruments:
        abort(404)
    inst = intake.instrument(code, _licensed_dir())
    name = _("%(instrument)s results template", instrument=inst.abbreviation)
    fallback = f"xinqiao-{code}-results-template"
    return send_template(results_import.template(inst), fmt, name, fallback)


# --- a department's progress, for its counsellor and leader ---------------------------------

PROGRESS_READ = "screening_progress_read"


@bp.route("/campaigns/<int:campaign_id>/departments/<int:department_id>")
@require_roles(*progress.DEPARTMENT_ROLES)
def department_progress(campaign_id: int, department_id: int):
    """Who in the department has not completed the campaign yet: names, class and how far they
    got, never a result; a campaign or department not theirs is a 404, both audited."""
    now = clock.now()
    found = progress.department_campaign(db.session, current_user, campaign_id, department_id, now)
    if found is None:
        audit.record_denied(db.session, current_user, PROGRESS_READ, "campaign", campaign_id)
        abort(404)
    # A class of the department narrows the list (156 cards on a phone); another's is a 404.
    class_id = request.args.get("class", type=int)
    chosen = db.session.get(ClassGroup, class_id) if class_id is not None else None
    if class_id is not None and (chosen is None or chosen.department_id != department_id):
        audit.record_denied(db.session, current_user, PROGRESS_READ, "campaign", campaign_id)
        abort(404)
    rows = progress.still_to_complete(db.session, current_user, found, class_id)
    page = render_template(
        "screening/department_progress.html",
        found=found,
        campaign=found.campaign,
        cover=found.coverage,
        rows=rows,
        classes=progress.classes_to_complete(db.session, current_user, found),
        chosen=chosen,
        is_open=found.campaign.is_open(now),
    )
    # Rendered first, as the interview list is: the audit's commit would expire what it shows.
    audit.record_list_read(
        db.session,
        actor=current_user,
        action=PROGRESS_READ,
        record_type="campaign",
        student_ids=[r.student_id for r in rows],
        institution_id=found.campaign.institution_id,
        detail=f"rows={len(rows)} campaign={campaign_id} department={department_id}"
        + (f" class={class_id}" if class_id is not None else ""),
    )
    return page


# --- a student's results, for clinical staff --------------------------------------------------


@bp.route("/students/<int:student_id>/results")
@require_roles(Role.SCHOOL_COUNSELLOR, Role.DIRECTOR)
def student_results(student_id: int):
    """Answers, scores and trajectories: clinical, so caseload or break-glass only, audited."""
    student = get_student(
        db.session,
        current_user,
        student_id,
        Capability.CLINICAL,
        action="read_screening_results",
        record_type="screening_results",  # all of the student's, filed on the student
    )
    withdrawal = privacy_consent.screening_withdrawal(db.session, student.id)
    if withdrawal is not None:
        # The student withdrew consent: staff see that, not the results (nothing is deleted).
        return render_template(
            "screening/student_results.html", student=student, withdrawal=withdrawal
        )
    results = db.session.scalars(
        select(ScreeningResult)
        .where(ScreeningResult.student_id == student.id)
        .order_by(ScreeningResult.completed_at.desc())
    ).all()
    codes = sorted({r.instrument for r in results})
    return render_template(
        "screening/student_results.html",
        student=student,
        results=results,
        trajectories={c: trajectories.trajectory(db.session, student.id, c) for c in codes},
        instruments={c: intake.instrument(c, _licensed_dir()) for c in codes},
        locale=_locale(),
    )
