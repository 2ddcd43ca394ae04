"""family_contact: the log of contacts with a student's guardians (家校沟通), append-only;
screening_campaign.students_see_report: whether students may download their own screening report

Revision ID: 0017_family_contacts
Revises: 0016_access_review
Create Date: 2026-12-05 00:40:00

Existing campaigns keep students from downloading a report (false), as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_family_contacts"
down_revision = "0016_access_review"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "family_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=20), nullable=False),
        sa.Column("guardian_name", sa.String(length=100), nullable=False),
        sa.Column("guardian_relation", sa.String(length=50), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("agreements", sa.JSON(), nullable=False),
        sa.Column("other_agreement", sa.String(length=200), nullable=False),
        sa.Column("follow_up_on", sa.Date(), nullable=True),
        sa.Column("follow_up_task_id", sa.Integer(), nullable=True),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("submission_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["corrects_id"], ["family_contact.id"]),
        sa.ForeignKeyConstraint(["follow_up_task_id"], ["task.id"]),
        sa.ForeignKeyConstraint(["institution_id"], ["institution.id"]),
        sa.ForeignKeyConstraint(["student_id"], ["student.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_token", name="uq_family_contact_submission"),
    )
    op.create_index(
        "ix_family_contact_student_at", "family_contact", ["student_id", "at"], unique=False
    )
    op.create_index(
        "ix_family_contact_institution_at",
        "family_contact",
        ["institution_id", "at"],
        unique=False,
    )
    with op.batch_alter_table("screening_campaign", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "students_see_report", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("screening_campaign", schema=None) as batch_op:
        batch_op.alter_column("students_see_report", existing_type=sa.Boolean(), server_default=None)


def downgrade():
    with op.batch_alter_table("screening_campaign", schema=None) as batch_op:
        batch_op.drop_column("students_see_report")
    op.drop_index("ix_family_contact_institution_at", table_name="family_contact")
    op.drop_index("ix_family_contact_student_at", table_name="family_contact")
    op.drop_table("family_contact")
