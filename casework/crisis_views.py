"""Crisis pages: the record of a red warning and its entries, the hand-over documents and their
signed scans, and the contagion follow-up list. Thin: parse, load in scope, call
`casework.crisis` / `casework.contagion`, render."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_
from sqlalchemy import select
from werkzeug.datastructures import ImmutableMultiDict

from campus import acting_for
from campus import audit
from campus import clock
from campus import documents
from campus.access import list_in_scope
from campus.access import load_or_404
from campus.centre_phone import on_duty_phone
from campus.extensions import db
from campus.forms import add_error
from campus.forms import filled
from campus.i18n import refusal_text
from campus.i18n import shown
from campus.models import Institution
from campus.models import Student
from campus.models import User
from campus.permissions import require_roles
from casework import contagion
from casework import crisis
from casework import family_contacts
from casework import scans
from casework.crisis_forms import ACTION_LABELS
from casework.crisis_forms import DOCUMENT_LABELS
from casework.crisis_forms import FAMILY_SUMMARY
from casework.crisis_forms import RELATION_LABELS
from casework.crisis_forms import ClearForm
from casework.crisis_forms import ContagionForm
from casework.crisis_forms import EntryForm
from casework.crisis_forms import EscalateForm
from casework.crisis_forms import GenerateDocumentForm
from casework.crisis_forms import ScanForm
from casework.crisis_forms import SettingsForm
from casework.crisis_forms import SignatureForm
from casework.crisis_permissions import CRISIS_ROLES
from casework.crisis_permissions import FOLLOW_UP_ROLES
from casework.crisis_permissions import SETTINGS_ROLES
from casework.crisis_permissions import can_change_settings
from casework.crisis_permissions import crisis_clause
from casework.crisis_permissions import follow_up_clause
from casework.file_forms import CHANNEL_LABELS
from casework.file_forms import OUTCOME_LABELS
from casework.file_permissions import can_log_family_contact
from casework.models import ContactChannel
from casework.models import ContactOutcome
from casework.models import ContagionFollowUp
from casework.models import ContagionRelation
from casework.models import CrisisDocument
from casework.models import CrisisDocumentKind
from casework.models import CrisisRecord
from warning.models import EarlyWarning
from warning.policy import Level

bp = Blueprint("crisis", __name__, url_prefix="/crisis")

DOCUMENT_TEMPLATES = {
    CrisisDocumentKind.GUARDIAN_NOTICE: "documents/guardian_notice.html",
    CrisisDocumentKind.SAFETY_PLEDGE: "documents/safety_pledge.html",
}


def crisis_link(warning: EarlyWarning | None) -> str | None:
    """The crisis page of a red warning, for a reader of crisis records in its scope (the
    warning page's template global); None for anyone else or any other warning."""
    if warning is None or warning.level < Level.RED or not current_user.has_role(*CRISIS_ROLES):
        return None
    readable = db.session.scalar(
        select(Student.id).where(Student.id == warning.student_id, crisis_clause(current_user))
    )
    return url_for("crisis.for_warning", warning_id=warning.id) if readable else None


# --------------------------------------------------------------------------------------------------
# Scoped loaders: out of scope is the same 404 as missing, and the denial is audited.
# --------------------------------------------------------------------------------------------------


def _warning_or_404(warning_id: int) -> EarlyWarning:
    return load_or_404(
        EarlyWarning,
        warning_id,
        crisis_clause(current_user),
        action="crisis.open",
        record_type="crisis",
    )


def _record_or_404(record_id: int) -> CrisisRecord:
    return load_or_404(
        CrisisRecord,
        record_id,
        crisis_clause(current_user),
        action="read",
        record_type="crisis",
    )


def _document_or_404(document_id: int) -> CrisisDocument:
    return load_or_404(
        CrisisDocument,
        document_id,
        crisis_clause(current_user),
        action="read",
        record_type="crisis_document",
    )


def _follow_up_or_404(follow_up_id: int) -> ContagionFollowUp:
    return load_or_404(
        ContagionFollowUp,
        follow_up_id,
        follow_up_clause(current_user),
        action="contagion.close",
        record_type="contagion",
    )


def _local(value: datetime | None) -> datetime | None:
    return None if value is None else clock.to_utc(value, clock.viewer_zone())


def _entry_input(form: EntryForm) -> crisis.EntryInput:
    occurred = _local(filled(form.occurred_at))
    assert occurred is not None  # a required field, validated
    return crisis.EntryInput(
        occurred_at=occurred,
        place=filled(form.place),
        narrative=filled(form.narrative),
        submission=filled(form.submission),
        present=form.present.data,
        actions=list(form.actions.data or []),
        hospital=form.hospital.data,
        handed_over_at=_local(form.handed_over_at.data),
        handed_over_to=form.handed_over_to.data,
        corrects_id=form.corrects.data or None,
        family=_family_call(form),
    )


def _family_call(form: EntryForm) -> crisis.FamilyCall | None:
    """The entry's call to the family, if it gives an outcome; when is now unless said (or the
    hand-over's time, for a call in person at the hand-over). Without words of what was said, the
    contact says where the account is (in the writer's language, as a call script's summary
    is)."""
    if not form.family_outcome.data:
        return None
    return crisis.FamilyCall(
        at=_local(form.family_at.data),
        guardian_name=form.family_name.data or "",
        guardian_relation=form.family_relation.data or "",
        channel=ContactChannel(form.family_channel.data),
        outcome=ContactOutcome(form.family_outcome.data),
        summary=(form.family_said.data or "").strip() or _(FAMILY_SUMMARY),
    )


def _entry_form(
    record: CrisisRecord | None,
    student: Student,
    formdata: ImmutableMultiDict[str, str] | None = None,
) -> EntryForm:
    """The entry form, empty (with a fresh submission token and the guardian on file named for
    the call to the family, with the relation the family log last gave them, as the family
    contact form fills them) or as sent."""
    form = EntryForm(formdata=formdata)
    if formdata is None:
        form.issued()
        form.family_name.data = student.guardian_name or ""
        if can_log_family_contact(current_user, student):  # the log's own writers only
            form.family_relation.data = family_contacts.known_relation(
                db.session, student, form.family_name.data
            )
    choices: list[tuple[int, str]] = [(0, _("No, a new account"))]
    if record is not None:
        for number, entry in enumerate(record.entries, start=1):
            choices.append((entry.id, _("Entry %(n)s", n=number)))
    form.corrects.choices = choices
    return form


def _refuse(form: EntryForm | SignatureForm, error: crisis.CrisisError) -> None:
    """The refusal in the reader's language, under the field it is about; one about no field
    (the record or copy changed meanwhile) above the page."""
    if error.field is None:
        flash(refusal_text(error), "error")
    else:
        add_error(getattr(form, error.field), refusal_text(error))


# --------------------------------------------------------------------------------------------------
# Opening a record and adding entries
# --------------------------------------------------------------------------------------------------


@bp.route("/warnings/<int:warning_id>", methods=["GET", "POST"])
@require_roles(*CRISIS_ROLES)
def for_warning(warning_id: int):
    """The crisis record of a red warning, or the form that opens it with its first entry."""
    warning = _warning_or_404(warning_id)
    existing = crisis.record_of(db.session, warning.id)
    if existing is not None:
        return redirect(url_for("crisis.record", record_id=existing.id))
    student = db.session.get_one(Student, warning.student_id)
    form = _entry_form(None, student, request.form if request.method == "POST" else None)
    refusal = None
    try:
        crisis.check_new_record(db.session, warning)
    except crisis.CrisisError as error:
        refusal = refusal_text(error)
    if request.method == "POST" and refusal is None and form.validate():
        try:
            record = crisis.open_record(
                db.session, current_user, warning, _entry_input(form), clock.now()
            )
        except crisis.AlreadySaved:
            flash(_("This was already saved."), "warning")
            return redirect(url_for("crisis.for_warning", warning_id=warning.id))
        except crisis.CrisisError as error:
            _refuse(form, error)
        else:
            flash(_("The crisis record was opened."), "success")
            return redirect(url_for("crisis.record", record_id=record.id))
    audit.record_read_on(
        db.session, warning, actor=current_user, action="crisis.open", record_type="crisis"
    )
    body = render_template(
        "casework/crisis/new.html",
        warning=warning,
        student=student,
        form=form,
        refusal=refusal,
        action_labels=ACTION_LABELS,
    )
    return body, 400 if request.method == "POST" else 200


@bp.route("/<int:record_id>")
@require_roles(*CRISIS_ROLES)
def record(record_id: int):
    return _record_page(_record_or_404(record_id))


def _record_page(record: CrisisRecord, status: int = 200, **bound: object):
    """The record's page, audited as a read; `bound` are forms sent back with their errors."""
    audit.record_read_on(
        db.session, record, actor=current_user, action="read", record_type="crisis"
    )
    entries = list(record.entries)
    people = _names({e.author_id for e in entries} | _document_people(record))
    document_list = crisis.documents_of(db.session, record)
    kinds = crisis.document_kinds(db.session, record.institution_id)
    generate_form = bound.get("generate_form") or GenerateDocumentForm(formdata=None)
    assert isinstance(generate_form, GenerateDocumentForm)
    generate_form.kind.choices = [(k.value, DOCUMENT_LABELS[k]) for k in kinds]
    contagion_form = bound.get("contagion_form") or ContagionForm(formdata=None)
    assert isinstance(contagion_form, ContagionForm)
    offered = contagion.candidates(db.session, record)
    _contagion_choices(contagion_form, offered)
    follow_ups = list(
        db.session.scalars(
            select(ContagionFollowUp)
            .where(ContagionFollowUp.record_id == record.id)
            .order_by(ContagionFollowUp.added_at, ContagionFollowUp.id)
        )
    )
    body = render_template(
        "casework/crisis/record.html",
        record=record,
        student=record.student,
        entries=entries,
        entry_numbers={e.id: n for n, e in enumerate(entries, start=1)},
        people=people,
        entry_form=bound.get("entry_form") or _entry_form(record, record.student),
        family_calls=crisis.family_calls(db.session, record),
        documents=document_list,
        generate_form=generate_form,
        signature_form=SignatureForm(formdata=None),
        scan_form=ScanForm(formdata=None),
        bound_document=bound.get("bound_document"),
        bound_document_form=bound.get("bound_document_form"),
        contagion_form=contagion_form,
        offered=offered,
        follow_ups=follow_ups,
        tasks=contagion.task_states(db.session, follow_ups),
        action_labels=ACTION_LABELS,
        channel_labels=CHANNEL_LABELS,
        outcome_labels=OUTCOME_LABELS,
        document_labels=DOCUMENT_LABELS,
        relation_labels=RELATION_LABELS,
        max_scan_mb=f"{float(current_app.config['CRISIS_SCAN_MAX_MB']):g}",
    )
    return body, status


def _document_people(record: CrisisRecord) -> set[int]:
    rows = db.session.execute(
        select(CrisisDocument.generated_by_id, CrisisDocument.signed_recorded_by_id).where(
            CrisisDocument.record_id == record.id
        )
    )
    return {i for row in rows for i in row if i is not None}


def _names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(
        db.session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).tuples().all()
    )


def _contagion_choices(form: ContagionForm, offered: contagion.Candidates) -> None:
    def label(s: Student) -> str:
        return f"{s.name} ({s.student_number})"

    form.roommates.choices = [(s.id, label(s)) for s in offered.roommates]
    form.classmates.choices = [(s.id, label(s)) for s in offered.classmates]


@bp.route("/<int:record_id>/entries", methods=["POST"])
@require_roles(*CRISIS_ROLES)
def add_entry(record_id: int):
    found = _record_or_404(record_id)
    form = _entry_form(found, found.student, request.form)
    if form.validate():
        try:
            crisis.append_entry(db.session, current_user, found, _entry_input(form), clock.now())
        except crisis.AlreadySaved:
            flash(_("This was already saved."), "warning")
            return redirect(url_for("crisis.record", record_id=found.id))
        except crisis.CrisisError as error:
            _refuse(form, error)
        else:
            flash(_("The entry was added to the record."), "success")
            return redirect(url_for("crisis.record", record_id=found.id, _anchor="entries-h"))
    return _record_page(found, 400, entry_form=form)


# --------------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------------


@bp.route("/<int:record_id>/documents", methods=["POST"])
@require_roles(*CRISIS_ROLES)
def generate(record_id: int):
    found = _record_or_404(record_id)
    form = GenerateDocumentForm()
    form.kind.choices = [
        (k.value, DOCUMENT_LABELS[k])
        for k in crisis.document_kinds(db.session, found.institution_id)
    ]
    if not form.validate():
        return _record_page(found, 400, generate_form=form)
    document = crisis.generate_document(
        db.session, current_user, found, filled(form.kind), clock.now(), filled(form.language)
    )
    flash(_("A copy was generated: download it, print it and have it signed."), "success")
    return redirect(url_for("crisis.record", record_id=found.id, _anchor=f"doc-{document.id}"))


@bp.route("/documents/<int:document_id>.pdf")
@require_roles(*CRISIS_ROLES)
def document_pdf(document_id: int):
    document = _document_or_404(document_id)
    # In the language the copy was generated in, whoever downloads it.
    with documents.printed_in(document.language):
        return _document_download(document)


def _document_download(document: CrisisDocument):
    found = document.record
    student = found.student
    entries = list(found.entries)
    done = {a for e in entries for a in e.actions}
    title = shown(str(DOCUMENT_LABELS[document.kind]))
    institution = db.session.get_one(Institution, found.institution_id)
    return documents.pdf_download(
        db.session,
        document,
        actor=current_user,
        document=f"crisis_{document.kind.value}",
        filename=f"{title}-{student.name}-{document.id}.pdf",
        template=DOCUMENT_TEMPLATES[document.kind],
        language=document.language,
        institution=institution,
        generated_by=db.session.get_one(User, document.generated_by_id),
        generated_at=document.generated_at,
        document_row=document,
        student=student,
        first=entries[0] if entries else None,
        done=[ACTION_LABELS[a] for a in ACTION_LABELS if a.value in done],
        hospitals=documents.hospital_names(
            db.session, found.institution_id, (e.hospital or "" for e in entries)
        ),
        hotline=current_app.config["CRISIS_HOTLINE"],
        on_duty=on_duty_phone(institution),
    )


def _scan_upload(form: SignatureForm | ScanForm) -> scans.StoredScan | None:
    upload = form.scan.data
    if upload is None or not getattr(upload, "filename", ""):
        return None
    try:
        return scans.store(
            upload,
            scans.folder(current_app),
            int(float(current_app.config["CRISIS_SCAN_MAX_MB"]) * 2**20),
        )
    finally:
        upload.close()  # a large upload is spooled to a temporary file: let it go now


@bp.route("/documents/<int:document_id>/signature", methods=["POST"])
@require_roles(*CRISIS_ROLES)
def signature(document_id: int):
    document = _document_or_404(document_id)
    form = SignatureForm()
    if form.validate():
        try:
            crisis.record_signature(
                db.session,
                current_user,
                document,
                clock.now(),
                signed_on=filled(form.signed_on),
                signer=filled(form.signed_by),
                scan=_scan_upload(form),
                scan_folder=scans.folder(current_app),
            )
        except scans.ScanError as error:
            add_error(form.scan, refusal_text(error))
        except crisis.CrisisError as error:
            # Without a field (a copy signed meanwhile no longer shows this form): above the table.
            _refuse(form, error)
        else:
            flash(_("The copy is recorded as signed."), "success")
            return redirect(
                url_for("crisis.record", record_id=document.record_id, _anchor=f"doc-{document.id}")
            )
    return _record_page(document.record, 400, bound_document=document.id, bound_document_form=form)


@bp.route("/documents/<int:document_id>/scan", methods=["POST"])
@require_roles(*CRISIS_ROLES)
def attach_scan(document_id: int):
    document = _document_or_404(document_id)
    form = ScanForm()
    if document.signed_on is None:
        # The scan comes with the signature: say so above the unsigned copy's own form.
        flash(_("Record the signature first."), "error")
    elif form.validate():
        try:
            stored = _scan_upload(form)
            assert stored is not None  # FileRequired passed
            crisis.attach_scan(
                db.session,
                current_user,
                document,
                clock.now(),
                scan=stored,
                scan_folder=scans.folder(current_app),
            )
        except (crisis.CrisisError, scans.ScanError) as error:
            add_error(form.scan, refusal_text(error))
        else:
            flash(_("The scan was attached."), "success")
            return redirect(
                url_for("crisis.record", record_id=document.record_id, _anchor=f"doc-{document.id}")
            )
    return _record_page(document.record, 400, bound_document=document.id, bound_document_form=form)


@bp.route("/documents/<int:document_id>/scan")
@require_roles(*CRISIS_ROLES)
def scan(document_id: int):
    """The signed scan, as a download only (never shown inline), audited before it is sent."""
    document = _document_or_404(document_id)
    if document.scan_file is None or document.scan_type is None:
        abort(404)
    try:
        path = scans.path_of(scans.folder(current_app), document.scan_file)
    except scans.ScanError:
        abort(404)
    if not path.is_file():
        abort(404)
    audit.record_read_on(
        db.session,
        document,
        actor=current_user,
        action="read_scan",
        record_type=f"crisis_{document.kind.value}",
    )
    return send_file(
        path,
        mimetype=document.scan_type,
        as_attachment=True,
        download_name=f"scan-{document.id}{path.suffix}",
    )


# --------------------------------------------------------------------------------------------------
# Contagion follow-up
# --------------------------------------------------------------------------------------------------

_NUMBER_SEPARATORS = re.compile(r"[\s,，、;；]+")


@bp.route("/<int:record_id>/contagion", methods=["POST"])
@require_roles(*CRISIS_ROLES)
def add_contagion(record_id: int):
    found = _record_or_404(record_id)
    form = ContagionForm()
    offered = contagion.candidates(db.session, found)
    _contagion_choices(form, offered)
    if not form.validate():
        return _record_page(found, 400, contagion_form=form)
    by_id = {s.id: s for s in offered.roommates + offered.classmates}
    picks = [(by_id[i], ContagionRelation.ROOMMATE) for i in form.roommates.data or []]
    picks += [(by_id[i], ContagionRelation.CLASSMATE) for i in form.classmates.data or []]
    numbers = [n for n in _NUMBER_SEPARATORS.split(form.numbers.data or "") if n]
    if numbers:
        students, missing = contagion.students_by_number(db.session, found.institution_id, numbers)
        if missing:
            add_error(
                form.numbers,
                _("No student with these numbers: %(numbers)s", numbers="、".join(missing)),
            )
            return _record_page(found, 400, contagion_form=form)
        relation = ContagionRelation(form.relation.data)
        picks += [(s, relation) for s in students]
    try:
        added = contagion.add_affected(db.session, current_user, found, picks, clock.now())
    except contagion.ContagionError as error:
        add_error(form.numbers, refusal_text(error))
        return _record_page(found, 400, contagion_form=form)
    flash(
        _(
            "%(count)s students listed for follow-up; their check-in tasks were sent.",
            count=len(added),
        ),
        "success",
    )
    return redirect(url_for("crisis.record", record_id=found.id, _anchor="contagion-h"))


@bp.route("/follow-ups")
@require_roles(*FOLLOW_UP_ROLES)
def follow_ups():
    """The contagion follow-up list: who is still to be cleared (`?all=1`: also those done)."""
    show_all = request.args.get("all") == "1"
    scope = follow_up_clause(current_user)
    if not show_all:
        scope = and_(scope, ContagionFollowUp.closed_at.is_(None))
    rows = list_in_scope(
        ContagionFollowUp,
        scope,
        (
            ContagionFollowUp.closed_at.is_not(None),
            ContagionFollowUp.added_at,
            ContagionFollowUp.id,
        ),
        action="list",
        record_type="contagion",
        filter_note=f"all={show_all}",
    )
    return _follow_up_page(rows, show_all)


def _follow_up_page(
    rows: list[ContagionFollowUp], show_all: bool, status: int = 200, **bound: object
):
    tasks = contagion.task_states(db.session, rows)
    people = _names({t.done_by_id for t in tasks.values() if t.done_by_id})
    body = render_template(
        "casework/crisis/follow_ups.html",
        rows=rows,
        tasks=tasks,
        people=people,
        show_all=show_all,
        relation_labels=RELATION_LABELS,
        clear_form=ClearForm(formdata=None),
        escalate_form=EscalateForm(formdata=None),
        bound_id=bound.get("bound_id"),
        bound_form=bound.get("bound_form"),
    )
    return body, status


def _close_follow_up(follow_up_id: int, how: str):
    follow_up = _follow_up_or_404(follow_up_id)
    form: ClearForm | EscalateForm = ClearForm() if how == "clear" else EscalateForm()
    if form.validate():
        try:
            if isinstance(form, EscalateForm):
                contagion.escalate(
                    db.session,
                    current_user,
                    follow_up,
                    filled(form.note),
                    int(filled(form.level)),
                    clock.now(),
                )
            else:
                contagion.clear(db.session, current_user, follow_up, filled(form.note), clock.now())
        except contagion.ContagionError as error:
            # Said above the list: the row it is about may no longer be on it.
            db.session.rollback()
            flash(refusal_text(error), "error")
        else:
            flash(
                _("Cleared from the follow-up list.")
                if how == "clear"
                else _("Escalated: the student now has a warning signal."),
                "success",
            )
            return redirect(url_for("crisis.follow_ups"))
    rows = list_in_scope(
        ContagionFollowUp,
        and_(follow_up_clause(current_user), ContagionFollowUp.closed_at.is_(None)),
        (ContagionFollowUp.added_at, ContagionFollowUp.id),
        action="list",
        record_type="contagion",
    )
    return _follow_up_page(rows, False, 400, bound_id=follow_up.id, bound_form=form)


@bp.route("/follow-ups/<int:follow_up_id>/clear", methods=["POST"])
@require_roles(*FOLLOW_UP_ROLES)
def clear(follow_up_id: int):
    return _close_follow_up(follow_up_id, "clear")


@bp.route("/follow-ups/<int:follow_up_id>/escalate", methods=["POST"])
@require_roles(*FOLLOW_UP_ROLES)
def escalate(follow_up_id: int):
    return _close_follow_up(follow_up_id, "escalate")


# --------------------------------------------------------------------------------------------------
# Institution setting
# --------------------------------------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
@require_roles(*SETTINGS_ROLES)
def settings():
    """Whether the centre asks for a safety pledge (安全承诺书) at hand-over."""
    institution_id = acting_for.institution_for(*SETTINGS_ROLES).id
    if not can_change_settings(current_user, institution_id):
        abort(403)
    form = SettingsForm()
    if form.validate_on_submit():
        crisis.set_safety_pledge(
            db.session, current_user, institution_id, bool(form.safety_pledge.data), clock.now()
        )
        flash(_("Saved."), "success")
        return redirect(url_for("crisis.settings"))
    if not form.is_submitted():
        form.safety_pledge.data = crisis.uses_safety_pledge(db.session, institution_id)
    return render_template("casework/crisis/settings.html", form=form)
