"""Recovery pages: referrals for school counsellors, the hospital liaison's view, partner hospitals.

Leave/return pages are in `leave_views`, the closure audit in `closure_views`; all share `bp`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import overload

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import pgettext
from flask_login import current_user
from sqlalchemy import and_
from sqlalchemy import select
from sqlalchemy import true

from campus import acting_for
from campus import admin
from campus import audit
from campus import clock
from campus.access import list_in_scope
from campus.access import load_or_404
from campus.extensions import db
from campus.forms import add_error
from campus.forms import filled
from campus.i18n import refusal_text
from campus.i18n import shown_name
from campus.models import Hospital
from campus.models import Institution
from campus.models import Role
from campus.outcomes import Refused
from campus.permissions import require_roles
from referrals import permissions
from referrals import services
from referrals import states
from referrals.disclosure import DISCLOSABLE
from referrals.disclosure import disclosed_view
from referrals.disclosure import referrer_contact
from referrals.forms import LIAISON_END_HINTS
from referrals.forms import LIAISON_LOST_CONSEQUENCE
from referrals.forms import LIAISON_LOST_INSTEAD
from referrals.forms import MOVE_CONSEQUENCES
from referrals.forms import MOVE_VERBS
from referrals.forms import REBOOK_VERB
from referrals.forms import TREATMENT_ENDED_VERB
from referrals.forms import DraftForm
from referrals.forms import HospitalForm
from referrals.forms import ReferralFields
from referrals.forms import ReferralForm
from referrals.forms import TransitionForm
from referrals.forms import transition_form
from referrals.models import AssessmentOutcome
from referrals.models import ConsentBy
from referrals.models import Referral
from referrals.models import ReferralStatus
from referrals.models import Urgency
from referrals.permissions import CLINICAL_READERS
from referrals.services import Change
from referrals.services import NewReferral
from referrals.services import ReferralSettings
from warning.models import EarlyWarning

bp = Blueprint("referrals", __name__, url_prefix="/referrals")
liaison_bp = Blueprint("liaison", __name__, url_prefix="/hospital/referrals")
hospitals_bp = Blueprint("hospitals", __name__, url_prefix="/admin/hospitals")


def _counsellors_referral(referral_id: int) -> Referral:
    """The referral if its student is in the viewer's clinical scope; every read is audited."""
    return load_or_404(
        Referral,
        referral_id,
        permissions.counsellor_clause(current_user),
        action="referral_read",
        record_type="referral",
        audit_read=True,
    )


def _liaisons_referral(referral_id: int) -> Referral:
    """The referral if it was sent to the viewer's hospital; each view is an audited disclosure
    naming the fields disclosed."""
    return load_or_404(
        Referral,
        referral_id,
        permissions.liaison_clause(current_user),
        action="referral_disclosed",
        record_type="referral",
        audit_read=True,
        read_detail=lambda referral: ";".join(sorted(referral.disclosed)),
    )


@dataclass(frozen=True)
class ReferralPanel:
    """What the warning page says about referring its student, for the signed-in user."""

    referral: Referral | None = None
    may_refer: bool = False
    needs_break_glass: bool = False


def referral_panel(warning: EarlyWarning) -> ReferralPanel:
    """The open referral (audited as read) when there is one the viewer may read, else whether
    they may refer in one click or must first open the record through break-glass."""
    referral = services.open_referral(db.session, current_user, warning.student_id)
    if referral is not None:
        audit.record_read_on(
            db.session,
            referral,
            actor=current_user,
            action="referral_status_read",
            record_type="referral",
        )
        return ReferralPanel(referral=referral)
    if not permissions.can_refer(current_user):
        return ReferralPanel()
    may_refer = permissions.may_refer_student(db.session, current_user, warning.student)
    return ReferralPanel(may_refer=may_refer, needs_break_glass=not may_refer)


def settings() -> ReferralSettings:
    return ReferralSettings.from_config(current_app.config)


@overload
def utc_from_local(moment: datetime) -> datetime: ...
@overload
def utc_from_local(moment: None) -> None: ...
def utc_from_local(moment: datetime | None) -> datetime | None:
    """A form's local date-time (the institution's zone) as the naive UTC the database stores."""
    if moment is None:
        return None
    return clock.to_utc(moment, clock.viewer_zone())


# --- school counsellors and the director ------------------------------------------------------


@bp.route("/")
@require_roles(*CLINICAL_READERS)
def index():
    now = clock.now()
    stalled_only = request.args.get("stalled") == "1"
    overdue_only = request.args.get("overdue") == "1"  # green channel past its booking deadline
    rows = list_in_scope(
        Referral,
        and_(
            permissions.counsellor_clause(current_user),
            services.stalled_clause(now, settings()) if stalled_only else true(),
            services.green_channel_overdue_clause(now) if overdue_only else true(),
        ),
        (Referral.last_transition_at.desc(),),
        action="referral_list",
        record_type="referral",
        filter_note=" ".join(
            note
            for note, on in (("stalled_only", stalled_only), ("overdue_only", overdue_only))
            if on
        ),
    )
    stalled = {r.id for r in rows if services.is_stalled(r, now, settings())}
    overdue = {r.id for r in rows if services.booking_overdue(r, now)}
    return render_template(
        "referrals/index.html",
        referrals=rows,
        stalled_days=settings().stalled_days,
        stalled=stalled,
        overdue=overdue,
        stalled_only=stalled_only,
        overdue_only=overdue_only,
    )


@bp.route("/new/<int:warning_id>", methods=["GET", "POST"])
@require_roles(Role.SCHOOL_COUNSELLOR)
def new(warning_id: int):
    warning = load_or_404(
        EarlyWarning,
        warning_id,
        permissions.referable_clause(current_user),
        action="referral_create_form",
        record_type="warning",
    )
    form = ReferralForm()
    form.hospital_id.choices = _hospital_choices(warning.institution_id)
    if not form.is_submitted():
        form.issued()
        # Consent is mostly taken in the conversation that leads to the referral: now, to correct.
        now = clock.to_local(clock.now(), clock.viewer_zone())
        form.consent_at.data = now.replace(tzinfo=None, second=0, microsecond=0)
    if form.validate_on_submit():
        try:
            referral = services.create_referral(
                db.session,
                current_user,
                warning,
                _new_referral(form, filled(form.submission)),
                clock.now(),
            )
        except ValueError as error:
            db.session.rollback()
            flash(refusal_text(error), "error")
        except Refused as refusal:  # a token that is not this person's form
            flash(refusal.message.shown(), "error")
        else:
            flash(_("Referral saved as a draft. Send it when ready."), "success")
            _warn_if_awaiting_guardian(referral)
            return redirect(url_for("referrals.detail", referral_id=referral.id))
    return render_template(
        "referrals/new.html",
        form=form,
        warning=warning,
        minor=services.is_minor_on(warning.student, clock.now()),
    )


def _warn_if_awaiting_guardian(referral: Referral) -> None:
    """A draft is saved on the student's own consent even when she is a minor (the guardian is
    often reached later); the counsellor hears now, not only when sending is refused."""
    if services.awaits_guardian_consent(referral, clock.now()):
        flash(_("The student is under 18: record a guardian's consent before sending."), "warning")


def _hospital_choices(institution_id: int) -> list[tuple[int, str]]:
    hospitals = select(Hospital).where(Hospital.institution_id == institution_id)
    return [(h.id, shown_name(h)) for h in db.session.scalars(hospitals.order_by(Hospital.name))]


def _new_referral(form: ReferralFields, submission: str | None = None) -> NewReferral:
    return NewReferral(
        hospital_id=form.hospital_id.data,
        reason=filled(form.reason),
        urgency=Urgency(form.urgency.data),
        green_channel=form.green_channel.data,
        disclosed_fields=form.disclosed_fields.data or [],
        consent_by=ConsentBy(form.consent_by.data),
        consent_name=filled(form.consent_name),
        consent_method=form.consent_method.data,
        consent_at=utc_from_local(filled(form.consent_at)),
        screening_summary=form.screening_summary.data,
        internal_note=form.internal_note.data,
        submission=submission,
    )


@bp.route("/<int:referral_id>/edit", methods=["GET", "POST"])
@require_roles(Role.SCHOOL_COUNSELLOR)
def edit(referral_id: int):
    """Correct a draft before it is sent; a sent referral is moved, never edited."""
    referral = _counsellors_referral(referral_id)
    if referral.status != ReferralStatus.DRAFT:
        flash(_("Only a draft can be changed: this referral has been sent."), "error")
        return redirect(url_for("referrals.detail", referral_id=referral.id))
    form = DraftForm(data=None if request.method == "POST" else _draft_data(referral))
    form.hospital_id.choices = _hospital_choices(referral.institution_id)
    if form.validate_on_submit():
        try:
            services.update_draft(
                db.session,
                current_user,
                referral,
                _new_referral(form),
                filled(form.version),
                clock.now(),
            )
        except PermissionError:
            abort(404)
        except ValueError as error:
            db.session.rollback()
            flash(refusal_text(error), "error")
        else:
            flash(_("The draft is saved. Send it when ready."), "success")
            _warn_if_awaiting_guardian(referral)
            return redirect(url_for("referrals.detail", referral_id=referral.id))
    warning = db.session.get_one(EarlyWarning, referral.warning_id)
    return render_template(
        "referrals/new.html",
        form=form,
        warning=warning,
        draft=referral,
        minor=services.is_minor_on(warning.student, clock.now()),
    )


def _draft_data(referral: Referral) -> dict[str, object]:
    """The draft as its form shows it, consent time in the institution's zone."""
    zone = clock.institution_zone(db.session.get_one(Institution, referral.institution_id))
    return {
        "hospital_id": referral.hospital_id,
        "reason": referral.reason,
        "urgency": referral.urgency.value,
        "green_channel": referral.green_channel,
        "disclosed_fields": [k for k in DISCLOSABLE if k in referral.disclosed],
        "screening_summary": referral.screening_summary or "",
        "internal_note": referral.internal_note or "",
        "consent_by": referral.consent_by.value,
        "consent_name": referral.consent_name,
        "consent_method": referral.consent_method,
        "consent_at": clock.to_local(referral.consent_at, zone).replace(tzinfo=None),
        "version": referral.version,
    }


@dataclass(frozen=True)
class RefusedMove:
    """A move whose form was refused: shown again on the referral's page as it was filled in,
    with each field's error and, for a refusal by the rules, the reason."""

    target: ReferralStatus
    form: TransitionForm
    message: str | None = None


@bp.route("/<int:referral_id>")
@require_roles(*CLINICAL_READERS)
def detail(referral_id: int):
    return _detail_page(_counsellors_referral(referral_id))


def _detail_page(referral: Referral, refused: RefusedMove | None = None) -> str:
    moves = _open_moves(referral)
    disclosed = disclosed_view(referral)
    return render_template(
        "referrals/detail.html",
        referral=referral,
        moves=moves,
        forms=move_forms(referral, moves, refused),
        move_texts=move_texts(
            referral.hospital.name,
            [str(label) for label, _ in disclosed],
            referral.status,
            referral.outcome,
        ),
        refused=refused,
        disclosed=disclosed,
        awaits_guardian=referral.status is ReferralStatus.DRAFT
        and services.awaits_guardian_consent(referral, clock.now()),
        stalled_since=services.stalled_since(referral, settings()),
        booking_overdue=services.booking_overdue(referral, clock.now()),
        now=clock.now(),
        reaches_nobody=referral.status in (ReferralStatus.DRAFT, ReferralStatus.SENT)
        and services.reaches_nobody(db.session, referral),
    )


@bp.route("/<int:referral_id>/move", methods=["POST"])
@require_roles(Role.SCHOOL_COUNSELLOR)
def move(referral_id: int):
    referral = _counsellors_referral(referral_id)
    return _move(referral, "referrals.detail", _detail_page)


def move_forms(
    referral: Referral, moves: list[ReferralStatus], refused: RefusedMove | None = None
) -> dict:
    return {
        t: refused.form
        if refused is not None and refused.target is t
        else transition_form(t, version=referral.version, **_booked_time(referral, t))
        for t in moves
    }


def _booked_time(referral: Referral, target: ReferralStatus) -> dict[str, datetime]:
    """The time already booked, in the viewer's zone, for the form that changes it."""
    if target is not referral.status or referral.appointment_at is None:
        return {}
    local = clock.to_local(referral.appointment_at, clock.viewer_zone())
    return {"appointment_at": local.replace(tzinfo=None)}


def _open_moves(referral: Referral) -> list[ReferralStatus]:
    actor = permissions.actor_for(db.session, current_user, referral)
    return states.next_states(referral.status, referral.outcome, actor) if actor else []


def move_texts(
    hospital: str,
    fields: list[str],
    current: ReferralStatus,
    outcome: AssessmentOutcome | None = None,
    *,
    liaison: bool = False,
) -> dict[ReferralStatus, tuple[str, str | None, str | None]]:
    """Each move's button verb from `current`, for a move that cannot be undone what it will do,
    and for the liaison's end of treatment what follows it."""
    listed = pgettext("list separator", ", ").join(str(f) for f in fields)
    verbs = dict(MOVE_VERBS)
    if outcome is AssessmentOutcome.OUTPATIENT:
        verbs[ReferralStatus.DISCHARGED] = TREATMENT_ENDED_VERB
    consequences = dict(MOVE_CONSEQUENCES)
    hints: dict[ReferralStatus, str] = {}
    if liaison:
        lost = str(LIAISON_LOST_CONSEQUENCE)
        if outcome in LIAISON_LOST_INSTEAD and current is ReferralStatus.IN_TREATMENT:
            end = str(verbs[ReferralStatus.DISCHARGED])
            # A % in the verb would be read as a placeholder when the consequence is filled in.
            instead = str(LIAISON_LOST_INSTEAD[outcome]) % {"end": end.replace("%", "%%")}
            lost = pgettext("two sentences", "%(first)s %(second)s", first=lost, second=instead)
        consequences[ReferralStatus.LOST_TO_FOLLOW_UP] = lost
        if outcome in LIAISON_END_HINTS:
            hints[ReferralStatus.DISCHARGED] = str(LIAISON_END_HINTS[outcome])
    return {
        target: (
            str(REBOOK_VERB if target is current else verb),
            str(consequences[target]) % {"hospital": hospital, "fields": listed}
            if target in consequences
            else None,
            hints.get(target),
        )
        for target, verb in verbs.items()
    }


def _move(referral: Referral, back: str, page: Callable[..., str]):
    """Make the move the form asks for; a refused form comes back on `page` with its errors."""
    try:
        target = ReferralStatus(request.args.get("target", ""))
    except ValueError:
        abort(400)
    form = transition_form(target)
    if not form.version.data or not form.version.data.isdigit():
        abort(400)
    if int(form.version.data) != referral.version:
        # A page loaded before someone else's change (a second tab, a colleague): said first,
        # before its form is judged against a state it was not made for (a bare 400 or 403).
        abort(409, description=_("Someone else updated this referral; reload it and try again."))
    if not form.validate_on_submit():
        if target not in _open_moves(referral):
            abort(403)  # nothing to correct: the move is not the viewer's to make
        return page(referral, RefusedMove(target, form)), 400
    try:
        change = Change(
            target=target,
            expected_version=int(filled(form.version)),
            note=form.note.data,
            outcome=AssessmentOutcome(form.outcome.data) if form.outcome.data else None,
            appointment_at=utc_from_local(form.appointment_at.data),
            declined_by=ConsentBy(form.declined_by.data) if form.declined_by.data else None,
        )
    except ValueError:
        abort(400)
    try:
        services.transition(db.session, current_user, referral, change, clock.now(), settings())
    except PermissionError:
        db.session.rollback()
        abort(403)
    except services.ConcurrentUpdate as error:
        db.session.rollback()
        abort(409, description=refusal_text(error))
    except services.ReferralError as error:
        db.session.rollback()
        return page(referral, RefusedMove(target, form, refusal_text(error))), 400
    if target is ReferralStatus.SENT:
        flash(
            _("Referral sent to %(hospital)s.", hospital=shown_name(referral.hospital)), "success"
        )
    else:
        flash(_("Referral updated."), "success")
    return redirect(url_for(back, referral_id=referral.id))


# --- the hospital liaison ----------------------------------------------------------------------


@liaison_bp.route("/", endpoint="index")
@require_roles(Role.HOSPITAL_LIAISON)
def liaison_index():
    new_only = request.args.get("status") == ReferralStatus.SENT.value
    rows = list_in_scope(
        Referral,
        and_(
            permissions.liaison_clause(current_user),
            Referral.status == ReferralStatus.SENT if new_only else true(),
        ),
        services.liaison_order(clock.now()),
        action="referral_disclosed_list",
        record_type="referral",
    )
    return render_template(
        "referrals/liaison_index.html",
        referrals=[_liaison_card(r) for r in rows],
        new_only=new_only,
    )


@liaison_bp.route("/<int:referral_id>", endpoint="detail")
@require_roles(Role.HOSPITAL_LIAISON)
def liaison_detail(referral_id: int):
    return _liaison_page(_liaisons_referral(referral_id))


def _liaison_page(referral: Referral, refused: RefusedMove | None = None) -> str:
    moves = states.next_states(referral.status, referral.outcome, states.Actor.LIAISON)
    # The assessment's form waits for the appointment: before it, recording one is refused.
    assess_later = ReferralStatus.ASSESSED in moves and services.too_early_to_assess(
        referral, clock.now()
    )
    if assess_later and not (refused and refused.target is ReferralStatus.ASSESSED):
        moves.remove(ReferralStatus.ASSESSED)
    return render_template(
        "referrals/liaison_detail.html",
        card=_liaison_card(referral),
        referrer=referrer_contact(referral),
        moves=moves,
        forms=move_forms(referral, moves, refused),
        move_texts=move_texts(
            referral.hospital.name, [], referral.status, referral.outcome, liaison=True
        ),
        refused=refused,
        assess_from=referral.appointment_at if assess_later else None,
    )


@liaison_bp.route("/<int:referral_id>/move", methods=["POST"], endpoint="move")
@require_roles(Role.HOSPITAL_LIAISON)
def liaison_move(referral_id: int):
    referral = _liaisons_referral(referral_id)
    return _move(referral, "liaison.detail", _liaison_page)


def _liaison_card(referral: Referral) -> dict:
    """Everything a liaison page may show: logistics plus the disclosed fields, nothing else."""
    fields = disclosed_view(referral)
    return {
        "id": referral.id,
        "version": referral.version,
        "status": referral.status,
        "urgency": referral.urgency,
        "green_channel": referral.green_channel,
        "sent_at": referral.sent_at,
        "booking_due_at": referral.booking_due_at,
        # The liaison books the appointment: a passed deadline must stand out on their page too.
        "booking_overdue": services.booking_overdue(referral, clock.now()),
        "appointment_at": referral.appointment_at,
        "outcome": referral.outcome,
        "consent_by": referral.consent_by,
        "consent_at": referral.consent_at,
        "fields": fields,
        "name": referral.student.name if "name" in referral.disclosed else None,
        # The hospital's own notes come back to it; the centre's (a withdrawal's reason) do not.
        "history": [
            (
                t.from_status,
                t.to_status,
                t.at,
                t.note if t.by_role == states.Actor.LIAISON else None,
                t.appointment_at,
            )
            for t in referral.transitions
            if t.from_status
        ],
    }


# --- partner hospitals -------------------------------------------------------------------------


@hospitals_bp.route("", methods=["GET", "POST"], endpoint="index")
@require_roles(Role.ADMIN)
def hospitals():
    """An administrator of several institutions adds a hospital to the one they act for (never
    the first they happen to administer), through the same audited write as the rest of the
    structure."""
    institution = acting_for.admin_institution()
    form = HospitalForm()
    if form.validate_on_submit():
        try:
            admin.create_hospital(
                db.session,
                current_user,
                institution,
                filled(form.name),
                name_en=form.name_en.data,
                department=form.department.data,
                department_en=form.department_en.data,
                green_channel_contact=form.green_channel_contact.data,
            )
        except admin.AdminError:
            add_error(form.name, _("A hospital with this name already exists."))
        else:
            flash(_("Hospital added."), "success")
            return redirect(url_for("hospitals.index"))
    rows = db.session.scalars(
        select(Hospital).where(Hospital.institution_id == institution.id).order_by(Hospital.name)
    ).all()
    return render_template(
        "referrals/hospitals.html",
        hospitals=rows,
        liaisons=services.liaisons_per_hospital(db.session, institution.id),
        form=form,
    )
