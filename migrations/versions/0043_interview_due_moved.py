"""interview_entry: the deadline before the screening's close was moved, and when

Revision ID: 0043_interview_due_moved
Revises: 0042_document_language
Create Date: 2026-12-07 19:00:00

Moving a campaign's close re-derives the deadline of every interview still owed from the new
close (`casework.interviews.follow_close`). Each such entry keeps the date it was due before and
when it moved, so its page says why the date changed. Entries before this migration never moved.
"""

import sqlalchemy as sa
from alembic import op

revision = "0043_interview_due_moved"
down_revision = "0042_document_language"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("interview_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_moved_from", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("due_moved_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("interview_entry", schema=None) as batch_op:
        batch_op.drop_column("due_moved_at")
        batch_op.drop_column("due_moved_from")
