"""appointments: bookable slots and the appointments booked into them (issue #18); a partial
unique index keeps two live appointments out of one slot seat

Revision ID: 0021_appointments
Revises: 0020_encrypted_notes
Create Date: 2026-12-05 03:39:52.965805

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021_appointments"
down_revision = "0020_encrypted_notes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "counsellor_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("gender", sa.String(length=10), nullable=False),
        sa.Column("is_trainee", sa.Boolean(), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=True),
        sa.Column("fte", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_counsellor_profile_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["user_account.id"],
            name=op.f("fk_counsellor_profile_supervisor_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_counsellor_profile_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counsellor_profile")),
        sa.UniqueConstraint("user_id", name=op.f("uq_counsellor_profile_user_id")),
    )
    with op.batch_alter_table("counsellor_profile", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_counsellor_profile_institution_id"), ["institution_id"], unique=False
        )
    op.create_table(
        "appointment_slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("room", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "FIRST_VISIT",
                "FOLLOW_UP",
                "GROUP",
                name="sessionkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("OPEN", "WITHDRAWN", name="slotstate", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["user_account.id"],
            name=op.f("fk_appointment_slot_counsellor_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_appointment_slot_institution_id_institution"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_slot")),
    )
    with op.batch_alter_table("appointment_slot", schema=None) as batch_op:
        batch_op.create_index(
            "ix_slot_institution_start", ["institution_id", "starts_at"], unique=False
        )
        batch_op.create_index(
            "uq_slot_counsellor_start", ["counsellor_id", "starts_at"], unique=True
        )

    op.create_table(
        "appointment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("seat", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "FIRST_VISIT",
                "FOLLOW_UP",
                "GROUP",
                name="sessionkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "BOOKED",
                "ATTENDED",
                "NO_SHOW",
                "CANCELLED",
                "LATE_CANCELLED",
                name="appointmentstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("booked_by_id", sa.Integer(), nullable=False),
        sa.Column("booked_at", sa.DateTime(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("submission_token", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["booked_by_id"],
            ["user_account.id"],
            name=op.f("fk_appointment_booked_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["user_account.id"],
            name=op.f("fk_appointment_counsellor_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_appointment_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["appointment_slot.id"],
            name=op.f("fk_appointment_slot_id_appointment_slot"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_appointment_student_id_student")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment")),
        sa.UniqueConstraint("submission_token", name=op.f("uq_appointment_submission_token")),
    )
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_appointment_counsellor_start", ["counsellor_id", "starts_at"], unique=False
        )
        batch_op.create_index("ix_appointment_student", ["student_id", "state"], unique=False)
        batch_op.create_index(
            "uq_appointment_live_slot",
            ["slot_id", "seat"],
            unique=True,
            sqlite_where=sa.text("state IN ('BOOKED', 'ATTENDED', 'NO_SHOW')"),
            postgresql_where=sa.text("state IN ('BOOKED', 'ATTENDED', 'NO_SHOW')"),
        )


def downgrade():
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_appointment_live_slot",
            sqlite_where=sa.text("state IN ('BOOKED', 'ATTENDED', 'NO_SHOW')"),
            postgresql_where=sa.text("state IN ('BOOKED', 'ATTENDED', 'NO_SHOW')"),
        )
        batch_op.drop_index("ix_appointment_student")
        batch_op.drop_index("ix_appointment_counsellor_start")

    op.drop_table("appointment")
    with op.batch_alter_table("appointment_slot", schema=None) as batch_op:
        batch_op.drop_index("uq_slot_counsellor_start")
        batch_op.drop_index("ix_slot_institution_start")

    op.drop_table("appointment_slot")
    with op.batch_alter_table("counsellor_profile", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_counsellor_profile_institution_id"))
    op.drop_table("counsellor_profile")
