"""caseload: a school counsellor handed a post-screening interview has its student on her caseload

Revision ID: 0049_interview_caseload
Revises: 0048_task_checked_in_at
Create Date: 2026-12-07 22:30:00

Before, the school counsellor assigned an interview could not open the student's file: it said
the student was not on her caseload and hid the screening results the interview is about, so
she needed a break-glass to read the scores behind the interview she held. From now on being
handed the interview puts the student on her caseload (`casework.interviews.do_assign`), as
taking up the student's warning does; this revision does the same for what is stored.

Every entry with an interviewer who holds a working school-counsellor role at the entry's
institution (no end, or one still to come) with an active account gets a caseload row for the
student, if she has none, since the entry's assignment (or now, when that is unknown), and an
audit row `caseload_joined` with no actor (this revision), filed under the student and the
interview. A role ended since is left to `warning.handover.end_caseloads_sweep`, as for any
caseload. Downgrading leaves the rows: the access they opened cannot be told from access given
otherwise since.
"""

from datetime import UTC
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0049_interview_caseload"
down_revision = "0048_task_checked_in_at"
branch_labels = None
depends_on = None

entry = sa.table(
    "interview_entry",
    sa.column("id", sa.Integer),
    sa.column("student_id", sa.Integer),
    sa.column("institution_id", sa.Integer),
    sa.column("interviewer_id", sa.Integer),
    sa.column("assigned_at", sa.DateTime),
)
role_assignment = sa.table(
    "role_assignment",
    sa.column("user_id", sa.Integer),
    sa.column("institution_id", sa.Integer),
    sa.column("role", sa.String),
    sa.column("ends_at", sa.DateTime),
)
user_account = sa.table(
    "user_account", sa.column("id", sa.Integer), sa.column("active", sa.Boolean)
)
caseload = sa.table(
    "caseload",
    sa.column("counsellor_id", sa.Integer),
    sa.column("student_id", sa.Integer),
    sa.column("since", sa.DateTime),
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
    bind = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    school_counsellor = (
        sa.select(role_assignment.c.user_id)
        .where(
            role_assignment.c.user_id == entry.c.interviewer_id,
            role_assignment.c.institution_id == entry.c.institution_id,
            role_assignment.c.role == "SCHOOL_COUNSELLOR",
            sa.or_(role_assignment.c.ends_at.is_(None), role_assignment.c.ends_at > now),
        )
        .exists()
    )
    rows = bind.execute(
        sa.select(
            entry.c.id,
            entry.c.student_id,
            entry.c.institution_id,
            entry.c.interviewer_id,
            entry.c.assigned_at,
        )
        .join(user_account, user_account.c.id == entry.c.interviewer_id)
        .where(user_account.c.active.is_(True), school_counsellor)
        .order_by(entry.c.id)
    ).all()
    on_caseload = set(
        bind.execute(sa.select(caseload.c.counsellor_id, caseload.c.student_id)).tuples()
    )
    for row in rows:
        if (row.interviewer_id, row.student_id) in on_caseload:
            continue
        on_caseload.add((row.interviewer_id, row.student_id))
        bind.execute(
            caseload.insert().values(
                counsellor_id=row.interviewer_id,
                student_id=row.student_id,
                since=row.assigned_at or now,
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
                action="caseload_joined",
                outcome="ok",
                detail=f"counsellor={row.interviewer_id} migration={revision}",
            )
        )


def downgrade():
    pass
