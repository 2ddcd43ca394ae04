"""Closing the loop and staffing: concern_report.followed_up_at (when staff first acted on what a
peer reported), user_account.phone (a staff member's work phone, shown to the hospital on a
referral), and staffing_entry, the register of mental-health teachers (专职/兼职) the national
1 : 4000 ratio is computed from

Revision ID: 0011_loop_staffing_phone
Revises: 0009_notice_detail
Create Date: 2026-12-04 21:45:00

Existing reports read as received, not followed up; existing users have no phone; the register
starts empty (the staffing KPI reads 0 full-time teachers until an administrator fills it).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_loop_staffing_phone"
down_revision = "0010_bilingual_names"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("concern_report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("followed_up_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=40), nullable=True))
    op.create_table(
        "staffing_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("person_name", sa.String(length=100), nullable=False),
        sa.Column(
            "post",
            sa.Enum("FULL_TIME", "PART_TIME", name="staffpost", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["institution_id"], ["institution.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("staffing_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staffing_entry_institution_id"), ["institution_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("staffing_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staffing_entry_institution_id"))
    op.drop_table("staffing_entry")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("phone")
    with op.batch_alter_table("concern_report", schema=None) as batch_op:
        batch_op.drop_column("followed_up_at")
