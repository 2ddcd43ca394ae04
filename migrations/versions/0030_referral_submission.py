"""A referral keeps its new-referral form's one-time token, so the form sent twice makes one draft

Revision ID: 0030_referral_submission
Revises: 0029_concern_submission
Create Date: 2026-12-06 08:00:00

A double submit made two drafts for one student (two green-channel alerts once sent). Existing
referrals have no token (NULL, which the unique constraint allows any number of).
"""

import sqlalchemy as sa
from alembic import op

revision = "0030_referral_submission"
down_revision = "0029_concern_submission"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission", sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_referral_submission"), ["submission"])


def downgrade():
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_referral_submission"), type_="unique")
        batch_op.drop_column("submission")
