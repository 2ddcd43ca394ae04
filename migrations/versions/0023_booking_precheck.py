"""booking: the pre-appointment check (预检) a student answers when booking a counselling
appointment (issue #18); its reason is clinical free text, stored encrypted (campus.encryption)

Revision ID: 0023_booking_precheck
Revises: 0021_appointments
Create Date: 2026-12-05 03:47:28.776051

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0023_booking_precheck"
down_revision = "0021_appointments"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "appointment_precheck",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        # EncryptedText: a Fernet token in a text column.
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("phq2_answers", sa.JSON(), nullable=False),
        sa.Column("phq2_total", sa.Integer(), nullable=False),
        sa.Column("phq2_band", sa.String(length=40), nullable=False),
        sa.Column("gad2_answers", sa.JSON(), nullable=False),
        sa.Column("gad2_total", sa.Integer(), nullable=False),
        sa.Column("gad2_band", sa.String(length=40), nullable=False),
        sa.Column("safety_answer", sa.Integer(), nullable=False),
        sa.Column("flags", sa.String(length=200), nullable=False),
        sa.Column("safety_signal_id", sa.Integer(), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("submission_token", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_appointment_precheck_appointment_id_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_appointment_precheck_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_appointment_precheck_student_id_student")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["user_account.id"],
            name=op.f("fk_appointment_precheck_submitted_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_precheck")),
        sa.UniqueConstraint(
            "submission_token", name=op.f("uq_appointment_precheck_submission_token")
        ),
    )
    with op.batch_alter_table("appointment_precheck", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointment_precheck_appointment_id"), ["appointment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_appointment_precheck_student_id"), ["student_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("appointment_precheck", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_precheck_student_id"))
        batch_op.drop_index(batch_op.f("ix_appointment_precheck_appointment_id"))
    op.drop_table("appointment_precheck")
