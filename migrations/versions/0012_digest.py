"""institution.live_since and role_assignment.since: no weekly report is owed for a week before
the institution went live or before the unit had its reporter; notification.urgent (listed first
while unread) and notification.digest_key (one note per recipient, chore, unit and day)

Revision ID: 0012_digest
Revises: 0009_notice_detail
Create Date: 2026-12-04 21:30:00

Existing institutions went live when their first account was made, existing roles were given when
their holder's account was made: the nearest record there is. Existing notes are not urgent;
those about missing weekly reports take the digest's wording, which the catalog still translates.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_digest"
down_revision = "0011_loop_staffing_phone"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("institution", sa.Column("live_since", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE institution SET live_since = COALESCE("
        "(SELECT MIN(u.created_at) FROM user_account u WHERE u.institution_id = institution.id),"
        " CURRENT_TIMESTAMP)"
    )
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.alter_column("live_since", existing_type=sa.DateTime(), nullable=False)

    op.add_column("role_assignment", sa.Column("since", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE role_assignment SET since = COALESCE("
        "(SELECT u.created_at FROM user_account u WHERE u.id = role_assignment.user_id),"
        " CURRENT_TIMESTAMP)"
    )
    with op.batch_alter_table("role_assignment", schema=None) as batch_op:
        batch_op.alter_column("since", existing_type=sa.DateTime(), nullable=False)

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("digest_key", sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint("uq_notification_digest", ["user_id", "digest_key"])
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.alter_column("urgent", existing_type=sa.Boolean(), server_default=None)
    op.execute(
        "UPDATE notification SET text = 'Weekly reports are missing in your department'"
        " WHERE text = 'A weekly report in your department is missing'"
    )


def downgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint("uq_notification_digest", type_="unique")
        batch_op.drop_column("digest_key")
        batch_op.drop_column("urgent")
    with op.batch_alter_table("role_assignment", schema=None) as batch_op:
        batch_op.drop_column("since")
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.drop_column("live_since")
