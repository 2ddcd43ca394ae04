"""task.closed_reason: why a task left its addressee's list without her tick (met by someone
else, replaced by the next cadence's task, no longer owed, escalated past the class and dorm);
the peers' check-ins and follow-ups whose deadline is no longer owed are closed

Revision ID: 0038_task_closed_reason
Revises: 0037_one_peer_task_wording
Create Date: 2026-12-07 10:00:00

Before, meeting a deadline closed no task: a blue's check-in done by the department counsellor's
call stayed on the class committee member's and the dorm informant's lists, overdue for weeks,
beside the follow-up planned after it. Each such open task (a warning's check-in or follow-up
whose warning owes no deadline of its kind any more) is closed as its latest deadline of that
kind ended: met, escalated, or ended (superseded); when it ended is when the task closes.
"""

from datetime import UTC
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0038_task_closed_reason"
down_revision = "0037_one_peer_task_wording"
branch_labels = None
depends_on = None

# The kinds and reasons of the time (copied: a revision must not change when the code does).
_SERVED_KINDS = ("check_in", "follow_up")

task = sa.table(
    "task",
    sa.column("id", sa.Integer),
    sa.column("warning_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("done_at", sa.DateTime),
    sa.column("closed_reason", sa.String),
)
deadline = sa.table(
    "deadline",
    sa.column("warning_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("due_at", sa.DateTime),
    sa.column("met_at", sa.DateTime),
    sa.column("escalated_at", sa.DateTime),
    sa.column("superseded_at", sa.DateTime),
)


def upgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "closed_reason",
                sa.Enum(
                    "MET",
                    "REPLACED",
                    "ENDED",
                    "ESCALATED",
                    name="taskclosed",
                    native_enum=False,
                    length=20,
                ),
                nullable=True,
            )
        )
    _close_stale_peer_tasks(op.get_bind())


def _close_stale_peer_tasks(bind) -> None:
    """Close each open check-in or follow-up task whose warning owes nothing of its kind."""
    stale = bind.execute(
        sa.select(task.c.id, task.c.warning_id, task.c.kind).where(
            task.c.done_at.is_(None),
            task.c.warning_id.is_not(None),
            task.c.kind.in_(_SERVED_KINDS),
        )
    ).all()
    if not stale:
        return
    ends: dict[tuple[int, str], tuple[datetime | None, str | None]] = {}
    rows = bind.execute(
        sa.select(deadline)
        .where(deadline.c.warning_id.in_({w for _, w, _ in stale}))
        .order_by(deadline.c.due_at)
    )
    for row in rows:
        owed = row.met_at is None and row.escalated_at is None and row.superseded_at is None
        if owed:
            ends[(row.warning_id, row.kind)] = (None, None)
        elif row.met_at is not None:
            ends[(row.warning_id, row.kind)] = (row.met_at, "MET")
        elif row.escalated_at is not None:
            ends[(row.warning_id, row.kind)] = (row.escalated_at, "ESCALATED")
        else:
            ends[(row.warning_id, row.kind)] = (row.superseded_at, "ENDED")
    now = datetime.now(UTC).replace(tzinfo=None)
    for task_id, warning_id, kind in stale:
        at, reason = ends.get((warning_id, kind), (now, "ENDED"))
        if reason is None:
            continue  # still owed: the task still serves it
        bind.execute(
            task.update()
            .where(task.c.id == task_id)
            .values(done_at=at or now, closed_reason=reason)
        )


def downgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("closed_reason")
