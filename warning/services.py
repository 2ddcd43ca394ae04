"""Signals and warnings: recording evidence, re-triaging a student, overrides, the active policy.

The rules of how a warning's level moves:

- A new signal re-triages its student with the institution's active policy. It opens the one open
  warning when the level is blue or above, attaches itself, and raises the level when the policy
  says higher. It never lowers an open warning: a level only goes down through the expiry re-triage
  (``retriage``, run daily) or a counsellor's override, so a fresh but milder signal can never hide
  an earlier, still-active concern between sweeps.
- The expiry re-triage lowers blue and yellow levels whose signals lapsed, but never below blue
  (an open warning is closed by a school counsellor, not by the calendar) and never lowers red:
  red never lapses by itself.
- Every level change writes a WarningEvent and calls ``warning.response.plan_response`` so the
  response network sets owners and deadlines.

Nothing here commits unless its docstring says so: callers commit the evidence (answers, scores,
reports) together with the signal, so a failure leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from functools import lru_cache

from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus import audit
from campus.i18n import N_
from campus.models import Student
from campus.models import User
from campus.scope import Capability
from campus.submissions import stored_once
from screening import vocabulary
from warning import labels
from warning import permissions
from warning import response
from warning.labels import Label
from warning.models import ConcernReport
from warning.models import EarlyWarning
from warning.models import LifeEvent
from warning.models import OwnerTier
from warning.models import PolicyKind
from warning.models import PolicyStatus
from warning.models import PolicyVersion
from warning.models import Signal
from warning.models import SignalSource
from warning.models import WarningEvent
from warning.models import WarningStatus
from warning.models import WeeklyReport
from warning.policy import Level
from warning.policy import Override
from warning.policy import Policy
from warning.policy import Reason
from warning.policy import SignalEvidence
from warning.policy import Triage
from warning.policy import default_policy
from warning.policy import implied_level
from warning.policy import policy_from_yaml_text
from warning.policy import triage

REASON_LENGTH = 500
LAPSED_REASON = labels.LAPSED.english()


class OverrideError(ValueError):
    """An override the actor may not make, or without a reason; the message says why."""


class OverrideReasonError(OverrideError):
    """An override whose reason is missing or too short: a form says it under the reason."""


# --------------------------------------------------------------------------------------------------
# The active policy
# --------------------------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _parsed(yaml_text: str) -> Policy:
    return policy_from_yaml_text(yaml_text)


def active_policy(session: Session, institution_id: int) -> Policy:
    """The institution's active stored policy, or the shipped default when none was activated."""
    text = session.scalar(
        select(PolicyVersion.yaml_text).where(
            PolicyVersion.institution_id == institution_id,
            PolicyVersion.kind == PolicyKind.TRIAGE,
            PolicyVersion.status == PolicyStatus.ACTIVE,
        )
    )
    return default_policy() if text is None else _parsed(text)


# --------------------------------------------------------------------------------------------------
# Recording signals
# --------------------------------------------------------------------------------------------------


def record_signal(
    session: Session,
    *,
    student: Student,
    source: SignalSource | str,
    observed_at: datetime,
    label: str | Label,
    instrument: str | None = None,
    total: float | None = None,
    flags: Iterable[str] = (),
    explicit_level: Level | int | None = None,
    evidence_type: str | None = None,
    evidence_id: int | None = None,
    recorded_by: User | None = None,
    now: datetime | None = None,
    submission: str | None = None,
) -> Signal:
    """Add one piece of evidence and re-triage its student; does not commit.

    The signal stores the level the active policy implies for it alone, the policy version and its
    expiry (None for red: it never lapses). The student's open warning is opened or raised in the
    same unit of work, so the caller's commit writes evidence, signal and warning together.
    A ``Label`` is stored as English text and as a message id shown in each viewer's language;
    a plain text label (older callers) is shown as it is.
    """
    from campus import clock

    keyed = label if isinstance(label, Label) else None
    label = label.english() if isinstance(label, Label) else label

    now = now or clock.now()
    policy = active_policy(session, student.institution_id)
    source = SignalSource(source)
    flag_set = frozenset(f.strip() for f in flags if f and f.strip())
    explicit = None if explicit_level is None else Level(int(explicit_level))
    level = implied_level(
        policy,
        SignalEvidence(
            id=0,
            source=source.value,
            observed_at=observed_at,
            instrument=instrument,
            total=total,
            flags=flag_set,
            explicit_level=explicit,
            label=label,
        ),
    )
    lifetime = policy.expiry(level) if level > Level.NONE else None
    signal = Signal(
        student_id=student.id,
        institution_id=student.institution_id,
        source=source,
        implied_level=int(level),
        policy_version=policy.version,
        instrument=instrument,
        total=total,
        flags=";".join(sorted(flag_set)),
        explicit_level=None if explicit is None else int(explicit),
        label=label[:300],
        label_key=keyed.key if keyed else None,
        label_params=keyed.params if keyed else None,
        evidence_type=evidence_type,
        evidence_id=evidence_id,
        observed_at=observed_at,
        recorded_at=now,
        recorded_by_id=recorded_by.id if recorded_by else None,
        expires_at=_expiry(level, observed_at, lifetime),
        submission=submission,
    )
    session.add(signal)
    session.flush()
    retriage_student(session, student, now, policy=policy, new_signal=signal, actor=recorded_by)
    return signal


def record_judgement(
    session: Session,
    *,
    student: Student,
    level: Level | int,
    observation: str,
    actor: User,
    now: datetime,
    submission: str | None = None,
) -> Signal:
    """A counsellor's own judgement of `student`: a new signal with an explicit level, never an
    edit of an earlier one, so the timeline keeps who judged what and when. Commits.

    The caller has checked that `actor` may see the student at WARNING capability. The same form
    sent again (`submission`, its one-time token) returns the signal it recorded: a double tap
    must not put the judgement twice on the timeline."""

    def record() -> Signal:
        signal = record_signal(
            session,
            student=student,
            source=SignalSource.COUNSELLOR,
            observed_at=now,
            label=labels.judgement(observation.strip()),
            explicit_level=level,
            recorded_by=actor,
            now=now,
            submission=submission,
        )
        return signal

    mine = Signal.recorded_by_id == actor.id
    return stored_once(session, Signal, submission, mine, record).record


def _expiry(level: Level, observed_at: datetime, lifetime) -> datetime | None:
    if level == Level.NONE:
        return observed_at  # implies nothing, so it is never active
    return None if lifetime is None else observed_at + lifetime


def hand_off_screening_result(
    session: Session,
    *,
    student: Student,
    instrument: str,
    total: float | None,
    flags: Iterable[str] | str,
    observed_at: datetime,
    campaign_name: str | labels.Params,
    result_id: int,
    band: str | None = None,
    raised_id: int | None = None,
) -> Signal | None:
    """The one hand-off from screening: a scored result becomes a signal, or nothing.

    Returns None (and records nothing) when the result implies no level. ``flags`` may be a list or
    a ";"-joined text. The label names the instrument, the band or the safety item, the campaign
    and the date, but never the answers: department staff read it.

    ``raised_id`` names the signal the same response's safety answer raised before it was scored
    (an unfinished page kept as a draft). While that signal stands on an open warning, carries
    every safety flag of the result and implies at least its level, it becomes the result's
    signal, its evidence now the stored result: one answer, one line on the timeline. A result
    with a new safety finding (ASQ question 5 answered "yes" after a refusal) records its own.
    """
    if isinstance(flags, str):
        flags = [f for f in flags.split(";") if f]
    flag_set = frozenset(flags)
    policy = active_policy(session, student.institution_id)
    evidence = SignalEvidence(
        id=0,
        source=SignalSource.SCREENING.value,
        observed_at=observed_at,
        instrument=instrument,
        total=total,
        flags=flag_set,
    )
    level = implied_level(policy, evidence)
    if level == Level.NONE:
        return None
    raised = _raised_for_same_answer(session, raised_id, flag_set, level)
    if raised is not None:
        raised.evidence_type, raised.evidence_id = "screening_result", result_id
        return raised
    return record_signal(
        session,
        student=student,
        source=SignalSource.SCREENING,
        observed_at=observed_at,
        label=screening_label(instrument, flag_set, band, campaign_name, observed_at),
        instrument=instrument,
        total=total,
        flags=flag_set,
        evidence_type="screening_result",
        evidence_id=result_id,
    )


def new_safety_flags(
    session: Session, raised_id: int | None, flags: Iterable[str]
) -> frozenset[str]:
    """The safety flags among ``flags`` that the signal ``raised_id``, raised earlier for the same
    answers, does not carry (all of them when there is none): a safety finding it has not told.

    A signal whose warning was closed tells nothing any more: a school counsellor closed that
    warning, and the same answer given again after it is news and must reach someone."""
    safety = frozenset(flags) & vocabulary.safety_flags()
    raised = session.get(Signal, raised_id) if raised_id is not None else None
    if raised is None or not _stands(session, raised):
        return safety
    return safety - raised.flag_set


def unreviewed() -> ColumnElement[bool]:
    """A clause on `Signal`: nobody has acted on its warning since it was recorded (no
    acknowledgement, contact, assessment or any other timeline entry a person made), so what it
    told still waits for the first answer."""
    return ~(
        select(WarningEvent.id)
        .where(
            WarningEvent.warning_id == Signal.warning_id,
            WarningEvent.actor_id.is_not(None),
            WarningEvent.at >= Signal.recorded_at,
        )
        .exists()
    )


def _stands(session: Session, signal: Signal) -> bool:
    """Whether ``signal`` is part of its student's open warning."""
    warning = session.get(EarlyWarning, signal.warning_id) if signal.warning_id else None
    return warning is not None and warning.status == WarningStatus.OPEN


def _raised_for_same_answer(
    session: Session, raised_id: int | None, flags: frozenset[str], level: Level
) -> Signal | None:
    """The signal ``raised_id`` when it already tells the safety answer in ``flags`` at ``level``
    or above (see `hand_off_screening_result`); None when the result needs its own."""
    if raised_id is None or not vocabulary.has_safety_flag(flags):
        return None
    if new_safety_flags(session, raised_id, flags):
        return None
    raised = session.get(Signal, raised_id)
    return raised if raised is not None and raised.implied_level >= level else None


def screening_label(
    instrument: str,
    flags: frozenset[str],
    band: str | None,
    campaign: str | labels.Params,
    observed_at: datetime,
) -> Label:
    """The label shown to staff, e.g. "PHQ-9 safety item positive in …, 2026-09-12"; no answers."""
    return labels.screening(
        vocabulary.instrument_abbreviation(instrument),
        safety=vocabulary.has_safety_flag(flags),
        band=band,
        campaign=campaign,
        observed_at=observed_at,
    )


# --------------------------------------------------------------------------------------------------
# Re-triage of one student
# --------------------------------------------------------------------------------------------------


def open_warning(session: Session, student_id: int) -> EarlyWarning | None:
    """The student's open warning, if any (there is at most one)."""
    return session.scalar(
        select(EarlyWarning).where(
            EarlyWarning.student_id == student_id, EarlyWarning.status == WarningStatus.OPEN
        )
    )


def evidence_of(signal: Signal) -> SignalEvidence:
    """The policy's view of a stored signal."""
    return SignalEvidence(
        id=signal.id,
        source=SignalSource(signal.source).value,
        observed_at=signal.observed_at,
        instrument=signal.instrument,
        total=signal.total,
        flags=signal.flag_set,
        explicit_level=None if signal.explicit_level is None else Level(signal.explicit_level),
        label=signal.label,
    )


def last_closed_at(session: Session, student_id: int) -> datetime | None:
    """When the student's last warning was closed: signals observed before it are resolved."""
    return session.scalar(
        select(func.max(EarlyWarning.closed_at)).where(
            EarlyWarning.student_id == student_id, EarlyWarning.status == WarningStatus.CLOSED
        )
    )


def current_triage(
    session: Session, student: Student, now: datetime, policy: Policy | None = None
) -> Triage:
    """The student's level and its reasons now, honouring an override on the open warning."""
    policy = policy or active_policy(session, student.institution_id)
    warning = open_warning(session, student.id)
    signals = session.scalars(select(Signal).where(Signal.student_id == student.id))
    return triage(
        policy,
        [evidence_of(s) for s in signals],
        now,
        closed_before=last_closed_at(session, student.id),
        override=_override_of(warning),
    )


def _override_of(warning: EarlyWarning | None) -> Override | None:
    if warning is None or warning.override_level is None:
        return None
    assert warning.override_at is not None  # set with the level (`do_override_level`)
    return Override(
        level=Level(warning.override_level),
        reason=warning.override_reason or "-",
        by_user_id=warning.override_by_id or 0,
        at=warning.override_at,
    )


@dataclass(frozen=True)
class Outcome:
    """What a re-triage did to the student's warning."""

    warning: EarlyWarning | None
    opened: bool = False
    previous_level: int | None = None

    @property
    def changed(self) -> bool:
        return self.warning is not None and (
            self.opened or self.previous_level != self.warning.level
        )


def retriage_student(
    session: Session,
    student: Student,
    now: datetime,
    *,
    policy: Policy | None = None,
    new_signal: Signal | None = None,
    may_lower: bool = False,
    actor: User | None = None,
) -> Outcome:
    """Bring the student's open warning in line with the policy (see the module's rules)."""
    tri = current_triage(session, student, now, policy)
    warning = open_warning(session, student.id)
    if warning is None:
        if tri.level == Level.NONE:
            return Outcome(None)
        warning, created = _open(session, student, tri, now, actor)
        if created:
            _attach(session, warning, new_signal, actor, now)
            response.plan_response(session, warning, None, now)
            _after_discharge(session, warning, new_signal, now)
            return Outcome(warning, opened=True)
    outcome = _apply(session, warning, tri, now, actor, new_signal, may_lower)
    _after_discharge(session, warning, new_signal, now)
    return outcome


def _after_discharge(
    session: Session, warning: EarlyWarning, new_signal: Signal | None, now: datetime
) -> None:
    """A hospital's discharge brings the follow-up contact forward (`response`)."""
    if new_signal is not None and response.DISCHARGE_FLAG in new_signal.flag_set:
        response.follow_up_after_discharge(session, warning, now)


def _open(
    session: Session, student: Student, tri: Triage, now: datetime, actor: User | None
) -> tuple[EarlyWarning, bool]:
    """Open the student's warning; a concurrent opener wins the unique index and we join it."""
    warning = EarlyWarning(
        student_id=student.id,
        institution_id=student.institution_id,
        department_id=student.department_id,
        level=int(tri.level),
        computed_level=int(tri.computed_level),
        policy_version=tri.policy_version,
        owner_tier=int(OwnerTier.DORM),  # plan_response sets the real owner
        owner_since=now,
        opened_at=now,
    )
    _set_reason(warning, reason_text(tri), reason_label(session, tri, warning))
    try:
        with session.begin_nested():
            session.add(warning)
            session.flush()
    except IntegrityError:
        existing = open_warning(session, student.id)
        if existing is None:
            raise
        return existing, False
    session.add(_reason_event(warning, actor, "opened", now, to_level=warning.level))
    return warning, True


def _apply(
    session: Session,
    warning: EarlyWarning,
    tri: Triage,
    now: datetime,
    actor: User | None,
    new_signal: Signal | None,
    may_lower: bool,
) -> Outcome:
    previous = warning.level
    target = int(tri.level)
    if not may_lower:
        target = max(target, previous)
    elif previous == Level.RED and not tri.overridden:
        target = Level.RED  # red never lapses by itself
    warning.computed_level = int(tri.computed_level)
    warning.policy_version = tri.policy_version
    if target < Level.BLUE:
        _set_reason(warning, LAPSED_REASON, labels.LAPSED)
    elif target == tri.level:
        _set_reason(warning, reason_text(tri), reason_label(session, tri, warning))
    target = max(target, int(Level.BLUE))  # open until a school counsellor closes it
    _attach(session, warning, new_signal, actor, now)
    if target == previous == Level.RED and new_signal and new_signal.implied_level == Level.RED:
        response.notify_red_evidence(session, warning, now)
    if target != previous:
        warning.level = target
        session.add(
            _reason_event(
                warning,
                actor,
                "level_changed",
                now,
                from_level=previous,
                to_level=target,
                signal_id=new_signal.id if new_signal else None,
            )
        )
        response.plan_response(session, warning, previous, now)
    return Outcome(warning, previous_level=previous)


def _reason_event(
    warning: EarlyWarning, actor: User | None, kind: str, now: datetime, **fields: int | None
) -> WarningEvent:
    """A timeline entry that says the warning's reason as it now stands (its English cut to the
    column, with its message id and values): what opening a warning and a level change record."""
    return WarningEvent.of(
        warning,
        actor,
        kind,
        now,
        outcome=warning.reason[:200],
        outcome_key=warning.reason_key,
        outcome_params=warning.reason_params,
        **fields,
    )


def _attach(
    session: Session,
    warning: EarlyWarning,
    signal: Signal | None,
    actor: User | None,
    now: datetime,
) -> None:
    if signal is None:
        return
    signal.warning_id = warning.id
    session.add(
        WarningEvent.of(
            warning,
            actor,
            "signal_attached",
            now,
            to_level=signal.implied_level,
            outcome=signal.label[:200],
            outcome_key=signal.label_key,
            outcome_params=signal.label_params,
            signal_id=signal.id,
        )
    )


def reason_text(tri: Triage) -> str:
    """The warning's one-line "why": the first deciding reason, and how many more there are."""
    if not tri.reasons:
        return f"{tri.level.code}: no active signal"
    text = tri.reasons[0].text
    if len(tri.reasons) > 1:
        text = f"{text} (+{len(tri.reasons) - 1} more)"
    return text[:REASON_LENGTH]


def _set_reason(warning: EarlyWarning, text: str, label: Label | None) -> None:
    """Store the English reason, and its message id only when it says exactly the same thing:
    a reason the policy worded differently (or that was cut short) is shown in English."""
    warning.reason = text
    same = label if label is not None and label.english() == text else None
    warning.reason_key = same.key if same else None
    warning.reason_params = same.params if same else None


def reason_label(session: Session, tri: Triage, warning: EarlyWarning | None) -> Label | None:
    """``reason_text`` as a message id and parameters; None for a reason it cannot word."""
    level = labels.level_word(tri.level.code)
    if not tri.reasons:
        return Label(labels.NO_SIGNAL_REASON, {"level": level})
    first = _reason_of(session, tri, tri.reasons[0], warning)
    return None if first is None else labels.with_more(first, len(tri.reasons) - 1)


def reason_labels(
    session: Session, tri: Triage, warning: EarlyWarning | None
) -> list[tuple[Label | None, str]]:
    """Every reason deciding the level, in ``tri``'s order (the warning's own line names the
    first and counts the rest): each as a message id and parameters (None for a reason it cannot
    word) with its English text."""
    return [(_reason_of(session, tri, r, warning), r.text) for r in tri.reasons]


def _reason_of(
    session: Session, tri: Triage, reason: Reason, warning: EarlyWarning | None
) -> Label | None:
    level = labels.level_word(reason.level.code)
    key = reason.text_key
    if key.startswith("triage.rule.") or key == "triage.explicit_level":
        return Label(
            labels.DIRECT_REASON, {"level": level, "label": _signal_param(session, reason)}
        )
    if key == "triage.key_group":
        label = _signal_param(session, reason)
        return Label(labels.KEY_GROUP_REASON, {"level": level, "label": label})
    if key == "triage.key_group_raise":
        return _raised_reason(session, reason, level)
    if key.startswith("triage.aggregate."):
        return _aggregate_reason(session, reason, level, key.removeprefix("triage.aggregate."))
    if key in ("triage.override", "triage.override_lapsed") and warning is not None:
        return _override_reason(tri, key, level, warning)
    return None


def _signal_param(session: Session, reason: Reason) -> dict | str:
    signal = session.get_one(Signal, reason.signal_ids[0])  # the student's own evidence
    return labels.stored_label(signal.label_key, signal.label_params) or signal.label


def _raised_reason(session: Session, reason: Reason, level: dict) -> Label:
    signal = session.get_one(Signal, reason.signal_ids[0])  # the student's own evidence
    policy = active_policy(session, signal.institution_id)
    graded = implied_level(policy, evidence_of(signal))
    return Label(
        labels.RAISED_REASON,
        {
            "level": level,
            "label": _signal_param(session, reason),
            "from_level": labels.level_word(graded.code),
        },
    )


def _aggregate_reason(session: Session, reason: Reason, level: dict, rule_key: str) -> Label | None:
    signals = [session.get_one(Signal, i) for i in reason.signal_ids]  # the student's evidence
    policy = active_policy(session, signals[0].institution_id)
    rule = next((r for r in policy.aggregate_rules if r.key == rule_key), None)
    if rule is None:
        return None
    members = [labels.stored_label(s.label_key, s.label_params) or s.label for s in signals]
    return Label(
        labels.AGGREGATE_REASON,
        {
            "level": level,
            "count": len(signals),
            "days": rule.within_days,
            "labels": labels.joined(members, "; "),
        },
    )


def _override_reason(tri: Triage, key: str, level: dict, warning: EarlyWarning) -> Label | None:
    if warning.override_at is None:
        return None
    template = labels.OVERRIDE_REASON if key == "triage.override" else labels.OVERRIDE_LAPSED_REASON
    return Label(
        template,
        {
            "level": level,
            "reason": warning.override_reason or "-",
            "computed": labels.level_word(tri.computed_level.code),
        },
    )


# --------------------------------------------------------------------------------------------------
# Counsellor judgement and override
# --------------------------------------------------------------------------------------------------


def check_override(actor: User, warning: EarlyWarning, level: int, reason: str) -> str:
    """The override's reason, cleaned, if `actor` may set `warning` to `level`; raises
    `OverrideError` saying why not otherwise. Writes nothing."""
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise OverrideReasonError(N_("An override needs a reason of at least 10 characters."))
    if level not in (Level.BLUE, Level.YELLOW, Level.RED):
        raise OverrideError(N_("Choose blue, yellow or red; to end a warning, close it."))
    if level == warning.level:
        raise OverrideError(N_("The warning is already at that level."))
    if not permissions.can_override_level(actor, warning, level):
        raise OverrideError(N_("Only a school counsellor may lower a warning's level."))
    return reason


def override_level(
    session: Session,
    *,
    warning: EarlyWarning,
    actor: User,
    level: int,
    reason: str,
    now: datetime,
) -> EarlyWarning:
    """Set the warning's level by hand with a reason; audited and on the timeline. Commits.

    The override holds until newer evidence decides a higher level (the policy lapses it then).
    """
    reason = check_override(actor, warning, level, reason)
    do_override_level(session, warning=warning, actor=actor, level=level, reason=reason, now=now)
    session.commit()
    return warning


def do_override_level(
    session: Session, *, warning: EarlyWarning, actor: User, level: int, reason: str, now: datetime
) -> None:
    """Apply an override `check_override` allowed: level, reason, timeline, audit and the response
    plan, in the caller's unit of work (does not commit)."""
    previous = warning.level
    warning.override_level = level
    warning.override_reason = reason[:500]
    warning.override_by_id = actor.id
    warning.override_at = now
    warning.level = level
    tri = current_triage(session, warning.student, now)
    _set_reason(warning, reason_text(tri), reason_label(session, tri, warning))
    session.add(
        WarningEvent.of(
            warning,
            actor,
            "override",
            now,
            from_level=previous,
            to_level=level,
            note=reason,
        )
    )
    audit.record_on(
        session,
        warning,
        actor=actor,
        action="override_level",
        record_type="warning",
        reason=reason[:500],
        detail=f"{Level(previous).code} -> {Level(level).code}",
    )
    response.plan_response(session, warning, previous, now)


# --------------------------------------------------------------------------------------------------
# A student's timeline as a viewer may read it
# --------------------------------------------------------------------------------------------------

# Event kinds whose free-text note is clinical, readable only with Capability.CLINICAL (school
# counsellors for their caseload or under break-glass, the centre director). The professional
# assessment's note is a counselling note. Contact, guardian, escalation and override notes are the
# follow-up log department staff work from, so they stay visible at Capability.WARNING.
CLINICAL_NOTE_KINDS = frozenset({"assessment"})


@dataclass(frozen=True)
class TimelineItem:
    """One timeline line holding only what the viewer may read (the template shows all of it)."""

    at: datetime
    kind: str  # "signal" or a WarningEvent kind
    signal: Signal | None = None
    from_level: int | None = None
    to_level: int | None = None
    outcome: str | None = None
    outcome_key: str | None = None
    outcome_params: dict | None = None
    note: str | None = None
    # The words recorded with a signal's evidence (department staff and up): a peer's own words
    # behind a concern or weekly report, the recorder's note of a life event.
    report_text: str | None = None
    # Who did it (None: the system, as triage or the escalation sweep), and how, for a contact
    # or a guardian's notice: whether the department or the centre called is the case's history.
    actor: str | None = None
    method: str | None = None
    # The review date a closing set (复查日期), a calendar day of the institution.
    review_on: date | None = None
    # The order it was written in, for lines of one time: a signal (0) before the warning events
    # it caused (1), each kind in the order of its ids (`_cause_order`).
    written: tuple[int, int] = (0, 0)


def _cause_order(item: TimelineItem) -> tuple[datetime, tuple[int, int]]:
    """The minute a line shows, then the order written: lines of one minute, or one instant (a
    signal and the level change it caused, an interview held and the contact logged with it,
    share `now`), read as they happened on any database, which returns rows in no promised order.

    Not the full time: a guardian's notice carries the minute typed on the family-contact form
    (05:47:00), a call logged with the warning's own form the second it was saved (05:47:20), so
    the notice saved 13 seconds after the call read below it, in the same minute."""
    return item.at.replace(second=0, microsecond=0), item.written


def student_timeline(
    session: Session, student: Student, capability: Capability | None
) -> list[TimelineItem]:
    """The student's signals and warning events for a viewer at ``capability``, newest first;
    lines of one time newest-written first, so a cause reads below what it caused.

    The caller has authorised and audited the read at Capability.WARNING; below it nothing is
    returned. Clinical notes are dropped here, in the data, not in the template.
    """
    if capability is None or capability < Capability.WARNING:
        return []
    signals = session.scalars(select(Signal).where(Signal.student_id == student.id)).all()
    events = session.execute(
        select(WarningEvent, User.name)
        .join(EarlyWarning, EarlyWarning.id == WarningEvent.warning_id)
        .outerjoin(User, User.id == WarningEvent.actor_id)
        .where(EarlyWarning.student_id == student.id, WarningEvent.kind != "signal_attached")
    ).all()
    texts = _report_texts(session, list(signals))
    items = [
        TimelineItem(
            s.observed_at, "signal", signal=s, report_text=texts.get(s.id), written=(0, s.id)
        )
        for s in signals
    ]
    items += [_event_item(event, actor, capability) for event, actor in events]
    return sorted(items, key=_cause_order, reverse=True)


# Events triage writes when someone's evidence opens or raises a warning: their actor recorded
# the evidence (a peer's concern report, a counsellor's judgement), not a step of the response,
# and a line "opened · <the classmate who reported>" would name the reporter to every reader.
TRIAGE_EVENT_KINDS = frozenset({"opened", "level_changed"})


def _event_item(event: WarningEvent, actor: str | None, capability: Capability) -> TimelineItem:
    """A warning event's timeline line; a clinical note only for a CLINICAL reader; who acted
    for the response's own steps, not for triage's."""
    clinical_note = event.kind in CLINICAL_NOTE_KINDS
    return TimelineItem(
        event.at,
        event.kind,
        from_level=event.from_level,
        to_level=event.to_level,
        outcome=event.outcome,
        outcome_key=event.outcome_key,
        outcome_params=event.outcome_params,
        note=None if clinical_note and capability < Capability.CLINICAL else event.note,
        actor=None if event.kind in TRIAGE_EVENT_KINDS else actor,
        method=event.method,
        review_on=_review_on(event),
        written=(1, event.id),
    )


def _review_on(event: WarningEvent) -> date | None:
    """The review date a closing event recorded (older closings recorded none)."""
    day = (event.outcome_params or {}).get("review_date") if event.kind == "closed" else None
    return date.fromisoformat(day) if day else None


def _report_texts(session: Session, signals: list[Signal]) -> dict[int, str]:
    """The free text of the concern and weekly reports and the life events behind ``signals``,
    by signal id. A life event's note was stored and shown to no one; it is the department's
    own record of what happened, read where the student's warnings are (never by the class and
    dorm tiers, who read no timeline)."""
    sources = {
        "concern_report": ConcernReport.text,
        "weekly_report": WeeklyReport.note,
        "life_event": LifeEvent.note,
    }
    texts: dict[int, str] = {}
    for kind, column in sources.items():
        wanted = [s for s in signals if s.evidence_type == kind]
        if not wanted:
            continue
        model = column.class_
        found: dict[int | None, str | None] = dict(
            session.execute(
                select(model.id, column).where(model.id.in_({s.evidence_id for s in wanted}))
            )
            .tuples()
            .all()
        )
        texts |= {s.id: text for s in wanted if (text := found.get(s.evidence_id))}
    return texts
