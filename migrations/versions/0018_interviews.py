"""interview_round and interview_entry: the post-screening interview list (筛查后约谈), one entry
per student and campaign, and the rule set each campaign was judged by

Revision ID: 0018_interviews
Revises: 0017_family_contacts
Create Date: 2026-12-05 00:19:42

New tables only; nothing existing changes.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018_interviews"
down_revision = "0017_family_contacts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "interview_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("rule_set_version", sa.String(length=60), nullable=False),
        sa.Column("rule_set_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["screening_campaign.id"],
            name=op.f("fk_interview_round_campaign_id_screening_campaign"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_interview_round_institution_id_institution"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview_round")),
        sa.UniqueConstraint("campaign_id", name=op.f("uq_interview_round_campaign_id")),
    )
    with op.batch_alter_table("interview_round", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interview_round_institution_id"), ["institution_id"], unique=False
        )

    op.create_table(
        "interview_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("rule_set_version", sa.String(length=60), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "TO_ASSIGN",
                "ASSIGNED",
                "SCHEDULED",
                "DONE",
                "UNREACHABLE",
                name="interviewstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("due_from_warning", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("interviewer_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(), nullable=True),
        sa.Column("assigned_by_id", sa.Integer(), nullable=True),
        sa.Column("scheduled_for", sa.DateTime(), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("invited_at", sa.DateTime(), nullable=True),
        sa.Column("no_shows", sa.Integer(), nullable=False),
        sa.Column("held_at", sa.DateTime(), nullable=True),
        sa.Column("conclusion", sa.String(length=20), nullable=True),
        sa.Column("level_decision", sa.String(length=10), nullable=True),
        sa.Column("level_before", sa.Integer(), nullable=True),
        sa.Column("level_after", sa.Integer(), nullable=True),
        sa.Column("level_reason", sa.String(length=500), nullable=True),
        sa.Column("next_step", sa.String(length=20), nullable=True),
        sa.Column("follow_up_on", sa.Date(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("escalated_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_by_id"],
            ["user_account.id"],
            name=op.f("fk_interview_entry_assigned_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["screening_campaign.id"],
            name=op.f("fk_interview_entry_campaign_id_screening_campaign"),
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"],
            ["user_account.id"],
            name=op.f("fk_interview_entry_closed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_interview_entry_department_id_department"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_interview_entry_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["interviewer_id"],
            ["user_account.id"],
            name=op.f("fk_interview_entry_interviewer_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_interview_entry_student_id_student")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview_entry")),
        sa.UniqueConstraint("campaign_id", "student_id", name="uq_interview_once"),
    )
    with op.batch_alter_table("interview_entry", schema=None) as batch_op:
        batch_op.create_index("ix_interview_due", ["state", "due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_interview_entry_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_interview_entry_interviewer_id"), ["interviewer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_interview_entry_student_id"), ["student_id"], unique=False
        )
        batch_op.create_index(
            "ix_interview_institution",
            ["institution_id", "campaign_id", "department_id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("interview_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_interview_institution")
        batch_op.drop_index(batch_op.f("ix_interview_entry_student_id"))
        batch_op.drop_index(batch_op.f("ix_interview_entry_interviewer_id"))
        batch_op.drop_index(batch_op.f("ix_interview_entry_campaign_id"))
        batch_op.drop_index("ix_interview_due")

    op.drop_table("interview_entry")
    with op.batch_alter_table("interview_round", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interview_round_institution_id"))

    op.drop_table("interview_round")
