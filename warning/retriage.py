"""Batch re-triage and policy versions: re-level a whole institution; save, simulate and activate
a triage or response policy draft.

The batch engine (``batch_triage``) finds, in one pass over all signals, the students whose level
differs from what their warning says; only those are re-triaged one by one (``services``), so the
warnings get the same reasons and timeline as a signal would give them. The daily expiry sweep is
this re-triage: it lowers lapsed blue and yellow levels, never red.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import audit
from campus.i18n import N_
from campus.i18n import Message
from campus.models import Department
from campus.models import EnrolmentStatus
from campus.models import Institution
from campus.models import Student
from campus.models import User
from warning import batch_triage
from warning import response_policy
from warning import services
from warning.models import Deadline
from warning.models import EarlyWarning
from warning.models import OwnerTier
from warning.models import PolicyKind
from warning.models import PolicyStatus
from warning.models import PolicyVersion
from warning.models import Signal
from warning.models import WarningStatus
from warning.policy import DEFAULT_POLICY_PATH
from warning.policy import Level
from warning.policy import Policy
from warning.policy import PolicyError
from warning.policy import default_policy
from warning.policy import institution_policy_from_yaml_text
from warning.policy import shipped_edition
from warning.response_policy import DEFAULT_RESPONSE_POLICY_PATH
from warning.response_policy import ResponsePolicy
from warning.response_policy import default_response_policy
from warning.response_policy import response_policy_from_yaml_text


def signals_frame(session: Session, institution_id: int) -> pd.DataFrame:
    """All signals of an institution's students as the batch engine's columns (one query)."""
    rows = session.execute(
        select(
            Signal.student_id,
            Signal.id.label("signal_id"),
            Signal.source,
            Signal.observed_at,
            Signal.instrument,
            Signal.total,
            Signal.flags,
            Signal.explicit_level,
        )
        .join(Student, Student.id == Signal.student_id)
        .where(Student.institution_id == institution_id)
    ).all()
    frame = pd.DataFrame(rows, columns=list(batch_triage.REQUIRED_COLUMNS))
    frame["source"] = frame["source"].map(lambda s: getattr(s, "value", s))
    frame["explicit_level"] = frame["explicit_level"].astype("Float64")
    return frame


def closed_before(session: Session, institution_id: int) -> pd.Series:
    """Each student's last warning closure (signals observed before it are resolved)."""
    rows = session.execute(
        select(EarlyWarning.student_id, func.max(EarlyWarning.closed_at))
        .where(
            EarlyWarning.institution_id == institution_id,
            EarlyWarning.status == WarningStatus.CLOSED,
        )
        .group_by(EarlyWarning.student_id)
    ).all()
    return pd.Series({sid: at for sid, at in rows}, dtype="datetime64[ns]")


def retriage(session: Session, now: datetime, institution_id: int | None = None) -> int:
    """Re-triage every student of one institution (or all); returns how many warnings changed.

    Does not commit; the CLI and the sweep do.
    """
    ids = (
        [institution_id]
        if institution_id is not None
        else list(session.scalars(select(Institution.id).where(Institution.kind == "university")))
    )
    return sum(_retriage_institution(session, now, i) for i in ids)


def _retriage_institution(session: Session, now: datetime, institution_id: int) -> int:
    policy = services.active_policy(session, institution_id)
    frame = signals_frame(session, institution_id)
    levels = (
        batch_triage.triage_frame(policy, frame, now, closed_before(session, institution_id))[
            "level"
        ]
        if not frame.empty
        else pd.Series(dtype="int64")
    )
    open_levels = dict(
        session.execute(
            select(EarlyWarning.student_id, EarlyWarning.computed_level).where(
                EarlyWarning.institution_id == institution_id,
                EarlyWarning.status == WarningStatus.OPEN,
            )
        )
        .tuples()
        .all()
    )
    candidates = {sid for sid, lvl in open_levels.items() if int(levels.get(sid, 0)) != lvl}
    candidates |= {int(sid) for sid, lvl in levels.items() if lvl > 0 and sid not in open_levels}
    changed = 0
    for student_id in sorted(candidates):
        student = session.get_one(Student, student_id)  # from its warnings and signals
        outcome = services.retriage_student(session, student, now, policy=policy, may_lower=True)
        changed += outcome.changed
    return changed


def expiry_sweep(session: Session, now: datetime) -> int:
    """The daily sweep: lapsed blue/yellow signals lower their warnings. Commits."""
    changed = retriage(session, now)
    session.commit()
    return changed


# --------------------------------------------------------------------------------------------------
# Policy versions
# --------------------------------------------------------------------------------------------------


class PolicyVersionError(ValueError):
    """A draft that cannot be saved or activated; ``errors`` lists every problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors))


@dataclass(frozen=True)
class _Kind:
    """How one kind of stored policy is read: the institution-safe parser and the shipped file."""

    parse: Callable[[str], Policy | ResponsePolicy]
    shipped_path: Path
    default_version: Callable[[], str]
    # The shipped default's earlier versions, whose names past decisions still carry.
    earlier_versions: tuple[str, ...] = ()


# Triage and response policies share one store, one draft -> simulate -> activate path.
_KINDS = {
    PolicyKind.TRIAGE: _Kind(
        institution_policy_from_yaml_text,
        DEFAULT_POLICY_PATH,
        lambda: default_policy().version,
    ),
    PolicyKind.RESPONSE: _Kind(
        response_policy_from_yaml_text,
        DEFAULT_RESPONSE_POLICY_PATH,
        lambda: default_response_policy().version,
        response_policy.EARLIER_DEFAULT_VERSIONS,
    ),
}


def _kind_of(version: PolicyVersion) -> _Kind:
    # A version not yet flushed has no kind; the column's default is triage.
    return _KINDS[version.kind or PolicyKind.TRIAGE]


def versions(
    session: Session, institution_id: int, kind: PolicyKind = PolicyKind.TRIAGE
) -> list[PolicyVersion]:
    return list(
        session.scalars(
            select(PolicyVersion)
            .where(PolicyVersion.institution_id == institution_id, PolicyVersion.kind == kind)
            .order_by(PolicyVersion.created_at.desc(), PolicyVersion.id.desc())
        )
    )


def default_yaml(kind: PolicyKind = PolicyKind.TRIAGE, language: str = "en") -> str:
    """The shipped policy text of `kind`, in its edition for a reader of `language` (the same
    policy, its comments in that language)."""
    return shipped_edition(_KINDS[kind].shipped_path, language).read_text(encoding="utf-8")


def text_in_force(session: Session, institution_id: int, kind: PolicyKind, language: str) -> str:
    """The text of the institution's policy of `kind` in force, the starting point of a new
    draft: a draft started from the shipped text would quietly undo, on activation, every change
    the campus had made before. On the shipped default, the edition in the administrator's
    `language`; a campus's own text as it was stored, never rewritten."""
    active = session.scalar(
        select(PolicyVersion.yaml_text).where(
            PolicyVersion.institution_id == institution_id,
            PolicyVersion.kind == kind,
            PolicyVersion.status == PolicyStatus.ACTIVE,
        )
    )
    return default_yaml(kind, language) if active is None else active


def save_draft(
    session: Session,
    *,
    institution_id: int,
    yaml_text: str,
    actor: User,
    draft: PolicyVersion | None = None,
    kind: PolicyKind = PolicyKind.TRIAGE,
) -> PolicyVersion:
    """Validate and store a draft of `kind` (new, or replacing an existing draft's text). Commits.

    Raises PolicyVersionError listing every problem; nothing is stored then.
    """
    kind = draft.kind if draft is not None else kind
    try:
        policy = _KINDS[kind].parse(yaml_text)
    except PolicyError as exc:
        raise PolicyVersionError(list(exc.errors)) from None
    clash = session.scalar(
        select(PolicyVersion).where(
            PolicyVersion.institution_id == institution_id,
            PolicyVersion.kind == kind,
            PolicyVersion.version == policy.version,
        )
    )
    # The shipped policy is a version too, and so is each it replaced: a draft under one of
    # their labels would make two different policies one name on every deadline they produced.
    shipped = (
        policy.version == _KINDS[kind].default_version()
        or policy.version in _KINDS[kind].earlier_versions
    )
    if shipped or (clash is not None and clash is not draft):
        raise PolicyVersionError(
            [
                Message(
                    N_("Version %(version)s exists already; give a new version."),
                    version=policy.version,
                )
            ]
        )
    if draft is not None and draft.status != PolicyStatus.DRAFT:
        raise PolicyVersionError([Message(N_("Only a draft can be edited; save a new version."))])
    draft = draft or PolicyVersion(institution_id=institution_id, kind=kind, created_by_id=actor.id)
    draft.version = policy.version
    draft.yaml_text = yaml_text
    session.add(draft)
    session.commit()
    return draft


def policy_of(version: PolicyVersion) -> Policy | ResponsePolicy:
    """The stored version as a policy of its kind, safety-checked; PolicyError if it is not fit
    to run."""
    return _kind_of(version).parse(version.yaml_text)


def activate(
    session: Session, *, draft: PolicyVersion, actor: User, now: datetime
) -> PolicyVersion:
    """Make a draft the institution's policy (the previous one retires), audited. Commits.

    Existing warnings are re-levelled by the next re-triage (run `flask warning retriage` or wait
    for the daily sweep), so activation itself stays a quick, reviewable step.
    """
    if draft.status != PolicyStatus.DRAFT:
        raise PolicyVersionError([Message(N_("Only a draft can be activated."))])
    try:
        policy_of(draft)  # re-validated: the text may predate a stricter engine
    except PolicyError as exc:
        raise PolicyVersionError(list(exc.errors)) from None
    current = session.scalar(
        select(PolicyVersion).where(
            PolicyVersion.institution_id == draft.institution_id,
            PolicyVersion.kind == draft.kind,
            PolicyVersion.status == PolicyStatus.ACTIVE,
        )
    )
    if current is not None:
        current.status = PolicyStatus.RETIRED
        session.flush()
    draft.status = PolicyStatus.ACTIVE
    draft.activated_at = now
    draft.activated_by_id = actor.id
    audit.record_on(
        session,
        draft,
        actor=actor,
        action="activate_policy",
        record_type="policy_version",
        detail=f"{current.version if current else _kind_of(draft).default_version()} -> "
        f"{draft.version}",
    )
    session.commit()
    return draft


@dataclass(frozen=True)
class Move:
    department: str
    from_level: Level
    to_level: Level
    students: int


def simulate(session: Session, *, institution_id: int, draft: Policy, now: datetime) -> list[Move]:
    """How many enrolled students would change level under ``draft``, per department; no writes."""
    students = pd.DataFrame(
        session.execute(
            select(Student.id, Student.department_id).where(
                Student.institution_id == institution_id,
                Student.enrolment_status == EnrolmentStatus.ENROLLED,
            )
        ).all(),
        columns=["student_id", "department_id"],
    )
    frame = signals_frame(session, institution_id)
    if frame.empty or students.empty:
        return []
    counts = batch_triage.simulate(
        services.active_policy(session, institution_id),
        draft,
        frame,
        students,
        now,
        closed_before(session, institution_id),
    )
    names = _department_names(session, institution_id)
    return [
        Move(
            names.get(row.department_id, "?"),
            Level.from_code(row.from_level),
            Level.from_code(row.to_level),
            int(row.students),
        )
        for row in counts.itertuples()
    ]


@dataclass(frozen=True)
class ResponseMove:
    """What a response policy draft changes for one department's open warnings at one level."""

    department: str
    level: Level
    warnings: int
    owner_from: OwnerTier
    owner_to: OwnerTier
    deadlines_changed: int


def simulate_response(
    session: Session, *, institution_id: int, draft: ResponsePolicy
) -> list[ResponseMove]:
    """Per department and level, the open warnings whose owner tier the draft changes and the open
    deadlines whose window it changes (they would be set so from activation on); no writes."""
    active = response_policy.active_response_policy(session, institution_id)
    open_warning = (
        EarlyWarning.institution_id == institution_id,
        EarlyWarning.status == WarningStatus.OPEN,
    )
    warnings = session.execute(
        select(EarlyWarning.department_id, EarlyWarning.level, func.count(EarlyWarning.id))
        .where(*open_warning)
        .group_by(EarlyWarning.department_id, EarlyWarning.level)
    ).all()
    changed: dict[tuple[int, int], int] = {}
    for department_id, level, kind, count in session.execute(
        select(
            EarlyWarning.department_id, EarlyWarning.level, Deadline.kind, func.count(Deadline.id)
        )
        .join(EarlyWarning, EarlyWarning.id == Deadline.warning_id)
        .where(*open_warning, Deadline.still_owed())
        .group_by(EarlyWarning.department_id, EarlyWarning.level, Deadline.kind)
    ):
        if active.for_level(level).window(kind) != draft.for_level(level).window(kind):
            changed[department_id, level] = changed.get((department_id, level), 0) + count
    names = _department_names(session, institution_id)
    moves = [
        ResponseMove(
            names.get(department_id, "?"),
            Level(level),
            count,
            active.for_level(level).owner,
            draft.for_level(level).owner,
            changed.get((department_id, level), 0),
        )
        for department_id, level, count in warnings
    ]
    return sorted(
        (m for m in moves if m.owner_from != m.owner_to or m.deadlines_changed),
        key=lambda m: (m.department, -m.level),
    )


def _department_names(session: Session, institution_id: int) -> dict[int, str]:
    return dict(
        session.execute(
            select(Department.id, Department.name).where(
                Department.institution_id == institution_id
            )
        )
        .tuples()
        .all()
    )
