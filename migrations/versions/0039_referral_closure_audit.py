"""referral: the closure audit counts referrals by when they ended or were overdue, so its index
leads with `ended_at` instead of `sent_at`; province snapshots of the earlier definition go

Revision ID: 0039_referral_closure_audit
Revises: 0038_task_closed_reason
Create Date: 2026-12-09 10:00:00

Before, a referral counted in the closure audit of the period its expected closure date (sent +
90 days) fell in, so the KPI read referrals by `sent_at`; now a referral counts where it ended
(closed or lost to follow-up) and wherever it was overdue at an audit's moment (not ended then),
so the KPI reads them by `ended_at`. The province view's stored snapshots were computed with the
earlier definition and lack the new columns (closed late, lost to follow-up): they are deleted,
and the province page computes each period again when it is next asked for (the refresh sweep
keeps the default period fresh).
"""

import sqlalchemy as sa
from alembic import op

revision = "0039_referral_closure_audit"
down_revision = "0038_task_closed_reason"
branch_labels = None
depends_on = None

province_snapshot = sa.table("province_snapshot", sa.column("id", sa.Integer))


def upgrade():
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_kpi")
        batch_op.create_index(
            "ix_referral_closure",
            ["institution_id", "ended_at"],
            unique=False,
            postgresql_include=["department_id", "student_id", "status", "sent_at"],
        )
    op.execute(province_snapshot.delete())


def downgrade():
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_closure")
        batch_op.create_index(
            "ix_referral_kpi",
            ["institution_id", "sent_at"],
            unique=False,
            postgresql_include=["department_id", "student_id", "status", "ended_at"],
        )
    op.execute(province_snapshot.delete())
