"""A family contact's one-time form token is named `submission`, as on every other send-once
record, so one mechanism (`campus.submissions.stored_once`) stores it

Revision ID: 0034_family_contact_submission
Revises: 0033_send_once_tokens
Create Date: 2026-12-06 13:20:00

A rename only: the values and the unique constraint (`uq_family_contact_submission`) stay.
"""

from alembic import op

revision = "0034_family_contact_submission"
down_revision = "0033_send_once_tokens"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("family_contact", schema=None) as batch_op:
        batch_op.alter_column("submission_token", new_column_name="submission")


def downgrade():
    with op.batch_alter_table("family_contact", schema=None) as batch_op:
        batch_op.alter_column("submission", new_column_name="submission_token")
