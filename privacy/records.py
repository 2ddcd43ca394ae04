"""Records of processing (PIPL art. 55-56): what is processed, why, by whom, for how long, and
where it goes — generated from the code's own configuration, for the impact assessment.

Nothing here is written by hand that the code decides elsewhere: the instruments are the
definition files (`screening.instruments`), the encrypted fields are found by
`campus.encryption.encrypted_columns()`, who reads what comes from `campus.scope.ROLE_CAPABILITY`,
`campus.models.ROLE_SCOPE` and `screening.visibility` (the same derivation the consent page
states), the export tiers from `EXPORT_TIERS` (`campus.export_rights`), and what a hospital may
be told from `referrals.disclosure`. Only the purposes and legal bases of each kind of record are
declared, in `PROCESSING`, because no rule elsewhere states them.

Retention: `retention_for(record_type)` reads the reader's institution's retention schedule
(`privacy.schedule`, its own file over the default), so the page and the withdrawal explanation
say what the sweep will really do.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from flask_login import current_user
from sqlalchemy.orm import Session

from campus.encryption import encrypted_columns
from campus.export_rights import ExportTier
from campus.forms import ROLE_LABELS
from campus.models import ROLE_SCOPE
from campus.models import Role
from campus.scope import CASELOAD_ROLES
from campus.scope import ROLE_CAPABILITY
from campus.scope import Capability
from oversight.disclosure import ROUNDING_BASE
from privacy.holds import in_force
from privacy.purge import schedule_of
from referrals.disclosure import DEFAULT_DISCLOSED
from referrals.disclosure import DISCLOSABLE
from screening import visibility
from screening.instruments import list_instruments
from screening.instruments import load_instrument
from screening.vocabulary import instrument_name

# The records page's kinds of record, and the retention schedule's record types they follow.
SCHEDULE_KEYS: dict[str, str] = {
    "screening_result": "screening_results",
    "consent": "screening_consents",
    "warning": "warnings",
    "referral": "referrals",
    "crisis_record": "crisis_records",
    "family_contact": "family_contacts",
    "clinical_note": "warnings",  # the notes are kept with the warning or referral they belong to
    "audit_event": "audit",
}


def retention_for(record_type: str) -> str | None:
    """How long the reader's institution keeps records of `record_type`, as a sentence fragment
    in the reader's language, read from the institution's retention schedule; None for a kind
    the schedule does not name."""
    key = SCHEDULE_KEYS.get(record_type)
    institution = getattr(current_user, "institution", None)
    if key is None or institution is None:
        return None
    rule = schedule_of(current_app._get_current_object(), institution).rules.get(key)  # type: ignore[attr-defined]
    if rule is None:
        return None
    since = {
        "left": _("after the student leaves the university"),
        "closed": _("after the record is closed"),
        "created": _("after the record is made"),
    }[rule.clock]
    then = _("then deleted") if rule.action == "delete" else _("then anonymised")
    return _("%(years)d years %(since)s, %(then)s", years=rule.years, since=since, then=then)


def legal_hold_for(session: Session, student_id: int) -> bool:
    """Whether the student's records are under a legal hold in force."""
    return in_force(session, student_id) is not None


@dataclass(frozen=True)
class Processing:
    """One kind of record: what it is, why it is processed, on what legal basis, and the
    capability (`campus.scope`) a reader needs."""

    record_type: str
    what: str  # lazy translations
    why: str
    basis: str
    capability: Capability | None  # None: only administrators, on the audit trail page


PROCESSING: tuple[Processing, ...] = (
    Processing(
        "consent",
        _l("Consent to screening and to sensitive data, withdrawals and re-consent"),
        _l("Proof of what the student (and a minor's guardian) agreed to"),
        _l("PIPL art. 14, 29, 31"),
        Capability.WARNING,
    ),
    Processing(
        "screening_result",
        _l("Screening answers and scores (instruments below)"),
        _l("Finding students who need support early (prevention)"),
        _l("Separate consent to sensitive data, PIPL art. 28-29"),
        Capability.CLINICAL,
    ),
    Processing(
        "warning",
        _l("Warning signals, levels and the follow-up record"),
        _l("Early warning and the response network's follow-up"),
        _l("Separate consent; a safety duty: PIPL art. 13(4)"),
        Capability.WARNING,
    ),
    Processing(
        "clinical_note",
        _l("Clinical free text (notes, statements, reasons): encrypted fields below"),
        _l("Assessment, crisis intervention and recovery"),
        _l("Separate consent; a safety duty: PIPL art. 13(4)"),
        Capability.CLINICAL,
    ),
    Processing(
        "referral",
        _l("Hospital referrals, leave and return to school"),
        _l("Treatment and a safe return to study"),
        _l("Separate consent; a safety duty: PIPL art. 13(4)"),
        Capability.CLINICAL,
    ),
    Processing(
        "crisis_record",
        _l("Crisis records and hand-over documents"),
        _l("Protecting life and health in a crisis"),
        _l("PIPL art. 13(4)"),
        Capability.CLINICAL,
    ),
    Processing(
        "family_contact",
        _l("Family contacts"),
        _l("Working with the family on the student's support"),
        _l("Separate consent; a safety duty: PIPL art. 13(4)"),
        Capability.WARNING,
    ),
    Processing(
        "audit_event",
        _l("Audit trail of every read and change of sensitive records"),
        _l("Access control and accountability"),
        _l("PIPL art. 51, 54"),
        None,
    ),
)


@dataclass(frozen=True)
class Activity:
    record_type: str
    what: str
    why: str
    basis: str
    roles: str
    retention: str | None  # None: see the retention schedule


@dataclass(frozen=True)
class RoleLine:
    role: Role
    label: str
    scope: str
    sees: str
    export_tier: ExportTier


@dataclass(frozen=True)
class InstrumentLine:
    code: str
    name: str
    version: str
    licensed: bool
    safety_items: int
    citation: str


@dataclass(frozen=True)
class Recipient:
    who: str
    what: str
    how: str


@dataclass(frozen=True)
class EncryptedField:
    """A field encrypted at rest: what it is in the reader's words, and its "table.column" for
    an auditor comparing the page with the database."""

    label: str
    column: str


@dataclass(frozen=True)
class Records:
    activities: list[Activity]
    roles: list[RoleLine]
    instruments: list[InstrumentLine]
    encrypted: list[EncryptedField]
    recipients: list[Recipient]


# Each encrypted field (`campus.encryption.encrypted_columns`, "table.column") in the words of a
# record of processing. A new encrypted column needs its words here (tests/privacy checks); until
# then the page shows its technical name alone.
ENCRYPTED_FIELD_WORDS = {
    "appointment_precheck.reason": _l("Appointment pre-check: the student's reason"),
    "concern_report.text": _l("Concern report: what was noticed"),
    "contagion_follow_up.note": _l("Contagion follow-up: why cleared or escalated"),
    "crisis_entry.narrative": _l("Crisis record: what happened"),
    "erasure_request.decision_reason": _l("Erasure request: the reason for the decision"),
    "erasure_request.student_note": _l("Erasure request: the student's note"),
    "family_contact.summary": _l("Family contact: what was said"),
    "interview_entry.level_reason": _l("Post-screening interview: the reason for the level"),
    "leave_of_absence.assessment_note": _l("Return to school: the centre's assessment"),
    "leave_of_absence.return_inpatient_note": _l(
        "Return to school: why it was approved with no discharge recorded"
    ),
    "leave_of_absence.statement_summary": _l("Return to school: the hospital statement"),
    "legal_hold.reason": _l("Legal hold: the reason"),
    "life_event.note": _l("Life event: note"),
    "referral.internal_note": _l("Referral: internal note"),
    "referral.reason": _l("Referral: the reason"),
    "referral.screening_summary": _l("Referral: screening summary"),
    "referral_transition.note": _l("Referral: note on a change of status"),
    "session_note.body": _l("Session note: text"),
    "session_note_addendum.body": _l("Session note addendum: text"),
    "session_outcome.risk_reason": _l("Counselling session: the reason for the risk level"),
    "totp_enrolment.secret": _l("Two-factor sign-in: the authenticator app's secret key"),
    "warning_event.note": _l("Warning follow-up record: note"),
}


def encrypted_fields() -> list[EncryptedField]:
    """Every encrypted field, in the reader's words, in table order."""
    fields = []
    for model, name in encrypted_columns():
        column = f"{model.__tablename__}.{name}"
        words = ENCRYPTED_FIELD_WORDS.get(column)
        fields.append(EncryptedField(str(words) if words is not None else column, column))
    return fields


def readers_of(capability: Capability | None) -> list[Role]:
    """Staff roles that read a kind of record needing `capability` (caseload roles included for
    clinical records: they read them for the students on their caseload or by break-glass)."""
    if capability is None:
        return []
    return [
        role
        for role in Role
        if role is not Role.STUDENT
        and (
            ((granted := ROLE_CAPABILITY[role]) is not None and granted >= capability)
            or (capability is Capability.CLINICAL and role in CASELOAD_ROLES)
        )
    ]


def _roles_text(roles: list[Role]) -> str:
    return pgettext("list separator", ", ").join(str(ROLE_LABELS[r]) for r in roles)


EXPORT_TIER_WORDS = {
    ExportTier.NONE.name: _l("none"),
    ExportTier.AGGREGATES.name: _l("counts only"),
    ExportTier.DEIDENTIFIED.name: _l("de-identified rows"),
    ExportTier.IDENTIFIED.name: _l("identified rows"),
}

# What a role sees, in the words of a record of processing (the consent page says the same to
# the student in the second person: `screening.visibility.SEEN_LABELS`).
SEEN_WORDS = {
    visibility.Seen.ROSTER: _l("name, student number, class and dorm room"),
    visibility.Seen.TASKS: _l("tasks that name the student (keeping company, checking in)"),
    visibility.Seen.WARNING: _l("warning level and its reasons, the follow-up record"),
    visibility.Seen.ANSWERS: _l("answers and scores"),
    visibility.Seen.CASELOAD_ANSWERS: _l(
        "answers and scores of students on their caseload, or after a recorded reason (break-glass)"
    ),
    visibility.Seen.REFERRAL: _l("what a referral to their hospital discloses"),
    visibility.Seen.AGGREGATES: _l("counts only"),
}

SCOPE_WORDS = {
    "self": _l("themselves"),
    "room": _l("their dorm room"),
    "class": _l("their class"),
    "department": _l("their department"),
    "institution": _l("the university"),
    "hospital": _l("referrals to their hospital"),
    "province": _l("institutions of the province, as counts"),
}


def _tier(app: Flask, role: Role) -> ExportTier:
    tiers: dict[str, str] = app.config["EXPORT_TIERS"]
    return ExportTier[tiers.get(role.value, "none").upper()]


def build(app: Flask) -> Records:
    """The records of processing in the reader's language."""
    activities = [
        Activity(
            p.record_type,
            str(p.what),
            str(p.why),
            str(p.basis),
            _roles_text(readers_of(p.capability)) or _("administrators, on the audit trail page"),
            retention_for(p.record_type),
        )
        for p in PROCESSING
    ]
    roles = [
        RoleLine(
            role,
            str(ROLE_LABELS[role]),
            str(SCOPE_WORDS[ROLE_SCOPE[role].value]),
            pgettext("list separator", "; ").join(
                str(SEEN_WORDS[s]) for s in visibility.seen_by(role)
            )
            if role is not Role.STUDENT
            else _("their own answers, feedback and consents"),
            _tier(app, role),
        )
        for role in Role
    ]
    instruments = []
    for code in list_instruments():
        inst = load_instrument(code)
        instruments.append(
            InstrumentLine(
                code,
                instrument_name(code),
                inst.version,
                inst.licensed,
                sum(1 for f in inst.flags if f.safety),
                inst.source.get("citation", ""),
            )
        )
    fields = pgettext("list separator", ", ").join(
        str(DISCLOSABLE[key].label) for key in DEFAULT_DISCLOSED
    )
    recipients = [
        Recipient(
            _("Hospitals (green channel)"),
            _(
                "For a referred student only: by default %(fields)s; further fields only when "
                "the counsellor ticks them on the referral",
                fields=fields,
            ),
            _("The hospital liaison's pages and the printed referral form, audited"),
        ),
        Recipient(
            _("Province education authority (province view)"),
            _(
                "Counts only: groups under %(threshold)s students hidden, every other count "
                "randomly rounded to %(base)s",
                threshold=app.config["SMALL_GROUP_THRESHOLD"],
                base=ROUNDING_BASE,
            ),
            _("The province auditor's pages and aggregate exports, audited"),
        ),
    ]
    return Records(activities, roles, instruments, encrypted_fields(), recipients)
