"""appointment changes (issue #18): cancellations, reschedules, reminders sent, lifts of the
no-show bar, and the waitlist, whose partial unique indexes keep one open entry per student and one
offer per slot seat

Revision ID: 0024_waitlist
Revises: 0023_booking_precheck
Create Date: 2026-12-05 04:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0024_waitlist"
down_revision = "0023_booking_precheck"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "booking_bar_lift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("lifted_by_id", sa.Integer(), nullable=False),
        sa.Column("lifted_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_booking_bar_lift_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["lifted_by_id"],
            ["user_account.id"],
            name=op.f("fk_booking_bar_lift_lifted_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_booking_bar_lift_student_id_student")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_bar_lift")),
    )
    with op.batch_alter_table("booking_bar_lift", schema=None) as batch_op:
        batch_op.create_index(
            "ix_booking_bar_lift_student", ["student_id", "lifted_at"], unique=False
        )

    op.create_table(
        "appointment_cancellation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("cancelled_by_id", sa.Integer(), nullable=False),
        sa.Column("by_centre", sa.Boolean(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_appointment_cancellation_appointment_id_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["cancelled_by_id"],
            ["user_account.id"],
            name=op.f("fk_appointment_cancellation_cancelled_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_appointment_cancellation_institution_id_institution"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_cancellation")),
        sa.UniqueConstraint(
            "appointment_id", name=op.f("uq_appointment_cancellation_appointment_id")
        ),
    )
    op.create_table(
        "appointment_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("hours_before", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_appointment_reminder_appointment_id_appointment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_reminder")),
    )
    with op.batch_alter_table("appointment_reminder", schema=None) as batch_op:
        batch_op.create_index(
            "uq_appointment_reminder", ["appointment_id", "hours_before"], unique=True
        )

    op.create_table(
        "appointment_reschedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("old_appointment_id", sa.Integer(), nullable=False),
        sa.Column("new_appointment_id", sa.Integer(), nullable=False),
        sa.Column("chain_root_id", sa.Integer(), nullable=False),
        sa.Column("rescheduled_by_id", sa.Integer(), nullable=False),
        sa.Column("rescheduled_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chain_root_id"],
            ["appointment.id"],
            name=op.f("fk_appointment_reschedule_chain_root_id_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_appointment_reschedule_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["new_appointment_id"],
            ["appointment.id"],
            name=op.f("fk_appointment_reschedule_new_appointment_id_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["old_appointment_id"],
            ["appointment.id"],
            name=op.f("fk_appointment_reschedule_old_appointment_id_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["rescheduled_by_id"],
            ["user_account.id"],
            name=op.f("fk_appointment_reschedule_rescheduled_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_reschedule")),
        sa.UniqueConstraint(
            "new_appointment_id", name=op.f("uq_appointment_reschedule_new_appointment_id")
        ),
        sa.UniqueConstraint(
            "old_appointment_id", name=op.f("uq_appointment_reschedule_old_appointment_id")
        ),
    )
    with op.batch_alter_table("appointment_reschedule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointment_reschedule_chain_root_id"), ["chain_root_id"], unique=False
        )

    op.create_table(
        "waitlist_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
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
            nullable=True,
        ),
        sa.Column("counsellor_gender", sa.String(length=10), nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=True),
        sa.Column("earliest_on", sa.Date(), nullable=True),
        sa.Column("latest_on", sa.Date(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "WAITING",
                "OFFERED",
                "ACCEPTED",
                "EXPIRED",
                "WITHDRAWN",
                name="waitliststate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.Column("offered_slot_id", sa.Integer(), nullable=True),
        sa.Column("offered_seat", sa.Integer(), nullable=True),
        sa.Column("offered_at", sa.DateTime(), nullable=True),
        sa.Column("offer_expires_at", sa.DateTime(), nullable=True),
        sa.Column("declined_slot_id", sa.Integer(), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_waitlist_entry_appointment_id_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["user_account.id"],
            name=op.f("fk_waitlist_entry_counsellor_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["declined_slot_id"],
            ["appointment_slot.id"],
            name=op.f("fk_waitlist_entry_declined_slot_id_appointment_slot"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_waitlist_entry_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["offered_slot_id"],
            ["appointment_slot.id"],
            name=op.f("fk_waitlist_entry_offered_slot_id_appointment_slot"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_waitlist_entry_student_id_student")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entry")),
    )
    with op.batch_alter_table("waitlist_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_waitlist_queue", ["institution_id", "state", "queued_at"], unique=False
        )
        batch_op.create_index(
            "uq_waitlist_offered_seat",
            ["offered_slot_id", "offered_seat"],
            unique=True,
            sqlite_where=sa.text("state = 'OFFERED'"),
            postgresql_where=sa.text("state = 'OFFERED'"),
        )
        batch_op.create_index(
            "uq_waitlist_open_student",
            ["student_id"],
            unique=True,
            sqlite_where=sa.text("state IN ('WAITING', 'OFFERED')"),
            postgresql_where=sa.text("state IN ('WAITING', 'OFFERED')"),
        )


def downgrade():

    with op.batch_alter_table("waitlist_entry", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_waitlist_open_student",
            sqlite_where=sa.text("state IN ('WAITING', 'OFFERED')"),
            postgresql_where=sa.text("state IN ('WAITING', 'OFFERED')"),
        )
        batch_op.drop_index(
            "uq_waitlist_offered_seat",
            sqlite_where=sa.text("state = 'OFFERED'"),
            postgresql_where=sa.text("state = 'OFFERED'"),
        )
        batch_op.drop_index("ix_waitlist_queue")

    op.drop_table("waitlist_entry")
    with op.batch_alter_table("appointment_reschedule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_reschedule_chain_root_id"))

    op.drop_table("appointment_reschedule")
    with op.batch_alter_table("appointment_reminder", schema=None) as batch_op:
        batch_op.drop_index("uq_appointment_reminder")

    op.drop_table("appointment_reminder")
    op.drop_table("appointment_cancellation")
    with op.batch_alter_table("booking_bar_lift", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_bar_lift_student")

    op.drop_table("booking_bar_lift")
