"""interview_entry: a post-screening interview still open whose warning's professional assessment
was recorded after it was listed is held by that assessment; warning_event: the index
`ix_warning_event_contact`, which no query reads any more, goes

Revision ID: 0040_interview_assessment
Revises: 0039_referral_closure_audit
Create Date: 2026-12-07 14:00:00

Before, recording a red warning's professional assessment left the post-screening interview its
red result asked for standing open: the interview list, the director's overdue notes and the
reminders counted it as missed though the centre had met the student within the 24 hours (the
oversight page said 100 %). From now on the assessment holds it
(`casework.interviews.hold_by_assessment`); this revision does the same for what is stored.

An entry still to assign, assigned or invited is held by the first professional assessment
recorded, at or after it was listed, on a warning of the student that a screening of its campaign
fed (one of her results in it, or a safety answer kept in its draft, is evidence of one of the
warning's signals): held then, by the assessor (shown as its interviewer), its conclusion "held
as the professional assessment", the level confirmed at the level the warning had then, the next
step none; an invitation for a time still to come is withdrawn and the student finds a note in
her inbox, as is the interviewer who had it if someone else (inbox notes only: a migration sends
no mail). Each entry held gets an audit row with no actor (this revision) naming the warning and
the interviewer it had. An entry held, unreachable, or listed after the assessment is left as it
is.

Service coverage reads the warning's last contact (`warning.last_contact_at`) since 4393684; no
query asks for a warning's `contact` events, so the partial index on them only costs writes.
"""

from datetime import UTC
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0040_interview_assessment"
down_revision = "0039_referral_closure_audit"
branch_labels = None
depends_on = None

# The states, codes and texts of the time (copied: a revision must not change when the code does).
_OPEN_STATES = ("TO_ASSIGN", "ASSIGNED", "SCHEDULED")
_LEVEL_KINDS = ("opened", "level_changed", "override")
_HELD_ELSEWHERE = (
    "A post-screening interview you were to hold was held as the centre's professional "
    "assessment: see the student's warning."
)
_INVITATION_WITHDRAWN = (
    "The mental health centre has cancelled the conversation it invited you to: you need not "
    "come at that time."
)
_STUDENT_PAGE = "/interviews/mine"

entry = sa.table(
    "interview_entry",
    sa.column("id", sa.Integer),
    sa.column("campaign_id", sa.Integer),
    sa.column("student_id", sa.Integer),
    sa.column("institution_id", sa.Integer),
    sa.column("state", sa.String),
    sa.column("interviewer_id", sa.Integer),
    sa.column("created_at", sa.DateTime),
    sa.column("scheduled_for", sa.DateTime),
    sa.column("place", sa.String),
    sa.column("held_at", sa.DateTime),
    sa.column("conclusion", sa.String),
    sa.column("level_decision", sa.String),
    sa.column("level_before", sa.Integer),
    sa.column("level_after", sa.Integer),
    sa.column("next_step", sa.String),
    sa.column("closed_at", sa.DateTime),
    sa.column("closed_by_id", sa.Integer),
    sa.column("version", sa.Integer),
)
signal = sa.table(
    "signal",
    sa.column("warning_id", sa.Integer),
    sa.column("evidence_type", sa.String),
    sa.column("evidence_id", sa.Integer),
)
result = sa.table(
    "screening_result",
    sa.column("id", sa.Integer),
    sa.column("campaign_id", sa.Integer),
    sa.column("student_id", sa.Integer),
)
draft = sa.table(
    "screening_draft", sa.column("id", sa.Integer), sa.column("assignment_id", sa.Integer)
)
assignment = sa.table(
    "screening_assignment",
    sa.column("id", sa.Integer),
    sa.column("campaign_id", sa.Integer),
    sa.column("student_id", sa.Integer),
)
warning = sa.table("warning", sa.column("id", sa.Integer), sa.column("level", sa.Integer))
event = sa.table(
    "warning_event",
    sa.column("warning_id", sa.Integer),
    sa.column("at", sa.DateTime),
    sa.column("actor_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("to_level", sa.Integer),
)
student = sa.table("student", sa.column("id", sa.Integer), sa.column("user_id", sa.Integer))
notification = sa.table(
    "notification",
    sa.column("user_id", sa.Integer),
    sa.column("text", sa.String),
    sa.column("link", sa.String),
    sa.column("created_at", sa.DateTime),
    sa.column("urgent", sa.Boolean),
)
audit_event = sa.table(
    "audit_event",
    sa.column("at", sa.DateTime),
    sa.column("actor_id", sa.Integer),
    sa.column("institution_id", sa.Integer),
    sa.column("student_id", sa.Integer),
    sa.column("record_type", sa.String),
    sa.column("record_id", sa.String),
    sa.column("action", sa.String),
    sa.column("outcome", sa.String),
    sa.column("detail", sa.String),
)


def upgrade():
    _hold_by_assessment(op.get_bind())
    op.drop_index("ix_warning_event_contact", table_name="warning_event")


def _hold_by_assessment(bind) -> None:
    open_entries = bind.execute(
        sa.select(entry).where(entry.c.state.in_(_OPEN_STATES)).order_by(entry.c.id)
    ).all()
    if not open_entries:
        return
    students = {row.student_id for row in open_entries}
    fed = _warnings_fed(bind, students)
    warnings = {w for found in fed.values() for w in found}
    if not warnings:
        return
    assessments: dict[int, list[tuple[datetime, int]]] = {}
    levels: dict[int, list[tuple[datetime, int]]] = {}
    for row in bind.execute(
        sa.select(event.c.warning_id, event.c.at, event.c.actor_id, event.c.kind, event.c.to_level)
        .where(
            event.c.warning_id.in_(warnings),
            event.c.kind.in_(("assessment", *_LEVEL_KINDS)),
        )
        .order_by(event.c.at)
    ):
        if row.kind == "assessment":
            if row.actor_id is not None:
                assessments.setdefault(row.warning_id, []).append((row.at, row.actor_id))
        elif row.to_level is not None:
            levels.setdefault(row.warning_id, []).append((row.at, row.to_level))
    level_now = dict(
        bind.execute(
            sa.select(warning.c.id, warning.c.level).where(warning.c.id.in_(warnings))
        ).all()
    )
    users = dict(
        bind.execute(
            sa.select(student.c.id, student.c.user_id).where(student.c.id.in_(students))
        ).all()
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    for row in open_entries:
        held = min(
            (
                (at, actor, warning_id)
                for warning_id in fed.get((row.campaign_id, row.student_id), ())
                for at, actor in assessments.get(warning_id, ())
                if at >= row.created_at
            ),
            default=None,
        )
        if held is None:
            continue
        at, assessor, warning_id = held
        level = next(
            (to for when, to in reversed(levels.get(warning_id, [])) if when <= at),
            level_now[warning_id],
        )
        values = {
            "state": "DONE",
            "interviewer_id": assessor,
            "held_at": at,
            "conclusion": "assessment",
            "level_decision": "confirm",
            "level_before": level,
            "level_after": level,
            "next_step": "none",
            "closed_at": at,
            "closed_by_id": assessor,
            "version": entry.c.version + 1,
        }
        notes = []
        if row.state == "SCHEDULED" and row.scheduled_for is not None and row.scheduled_for > now:
            values.update(scheduled_for=None, place=None)
            if users.get(row.student_id) is not None:
                notes.append((users[row.student_id], _INVITATION_WITHDRAWN, _STUDENT_PAGE))
        if row.interviewer_id is not None and row.interviewer_id != assessor:
            link = f"/warnings/students/{row.student_id}"
            notes.append((row.interviewer_id, _HELD_ELSEWHERE, link))
        bind.execute(entry.update().where(entry.c.id == row.id).values(**values))
        for user_id, text, link in notes:
            bind.execute(
                notification.insert().values(
                    user_id=user_id, text=text, link=link, created_at=now, urgent=False
                )
            )
        bind.execute(
            audit_event.insert().values(
                at=now,
                actor_id=None,
                institution_id=row.institution_id,
                student_id=row.student_id,
                record_type="interview",
                record_id=str(row.id),
                action="interview.held_by_assessment",
                outcome="ok",
                detail=(
                    f"warning={warning_id} interviewer={row.interviewer_id} migration={revision}"
                ),
            )
        )


def _warnings_fed(bind, students: set[int]) -> dict[tuple[int, int], set[int]]:
    """(campaign, student) -> the warnings a screening of that campaign fed: one of the student's
    results in it, or a safety answer kept in its draft, is evidence of one of their signals."""
    from_results = (
        sa.select(signal.c.warning_id, result.c.campaign_id, result.c.student_id)
        .join(
            result,
            sa.and_(
                signal.c.evidence_type == "screening_result", signal.c.evidence_id == result.c.id
            ),
        )
        .where(result.c.student_id.in_(students), signal.c.warning_id.is_not(None))
    )
    from_drafts = (
        sa.select(signal.c.warning_id, assignment.c.campaign_id, assignment.c.student_id)
        .join(
            draft,
            sa.and_(
                signal.c.evidence_type == "instrument_response", signal.c.evidence_id == draft.c.id
            ),
        )
        .join(assignment, assignment.c.id == draft.c.assignment_id)
        .where(assignment.c.student_id.in_(students), signal.c.warning_id.is_not(None))
    )
    fed: dict[tuple[int, int], set[int]] = {}
    for stmt in (from_results, from_drafts):
        for warning_id, campaign_id, student_id in bind.execute(stmt):
            fed.setdefault((campaign_id, student_id), set()).add(warning_id)
    return fed


def downgrade():
    # The interviews held stay held: what the assessment did is not undone.
    op.create_index(
        "ix_warning_event_contact",
        "warning_event",
        ["warning_id"],
        unique=False,
        sqlite_where=sa.text("kind = 'contact'"),
        postgresql_where=sa.text("kind = 'contact'"),
    )
