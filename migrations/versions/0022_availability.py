"""availability: counsellors' weekly templates and time away, the academic calendar and the
duty roster (issue #18)

Revision ID: 0022_availability
Revises: 0021_appointments
Create Date: 2026-12-05 03:52:08.910170

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022_availability"
down_revision = "0021_appointments"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "academic_break",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_academic_break_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_academic_break_institution_id_institution"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_academic_break")),
    )
    with op.batch_alter_table("academic_break", schema=None) as batch_op:
        batch_op.create_index(
            "ix_academic_break_institution", ["institution_id", "last_day"], unique=False
        )

    op.create_table(
        "availability_exception",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=True),
        sa.Column("ends", sa.Time(), nullable=True),
        sa.Column(
            "reason",
            sa.Enum(
                "LEAVE", "HOLIDAY", "OTHER", name="exceptionreason", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["user_account.id"],
            name=op.f("fk_availability_exception_counsellor_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_availability_exception_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_availability_exception_institution_id_institution"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_exception")),
    )
    with op.batch_alter_table("availability_exception", schema=None) as batch_op:
        batch_op.create_index(
            "ix_availability_exception_counsellor", ["counsellor_id", "last_day"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_availability_exception_institution_id"), ["institution_id"], unique=False
        )

    op.create_table(
        "availability_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.Column("session_minutes", sa.Integer(), nullable=False),
        sa.Column("break_minutes", sa.Integer(), nullable=False),
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
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["user_account.id"],
            name=op.f("fk_availability_template_counsellor_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_availability_template_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_availability_template_institution_id_institution"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_template")),
    )
    with op.batch_alter_table("availability_template", schema=None) as batch_op:
        batch_op.create_index(
            "ix_availability_template_counsellor", ["counsellor_id", "weekday"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_availability_template_institution_id"), ["institution_id"], unique=False
        )

    op.create_table(
        "duty_shift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_duty_shift_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_duty_shift_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_duty_shift_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_shift")),
    )
    with op.batch_alter_table("duty_shift", schema=None) as batch_op:
        batch_op.create_index(
            "ix_duty_shift_institution_time", ["institution_id", "starts_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_duty_shift_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("duty_shift", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duty_shift_user_id"))
        batch_op.drop_index("ix_duty_shift_institution_time")

    op.drop_table("duty_shift")
    with op.batch_alter_table("availability_template", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_availability_template_institution_id"))
        batch_op.drop_index("ix_availability_template_counsellor")

    op.drop_table("availability_template")
    with op.batch_alter_table("availability_exception", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_availability_exception_institution_id"))
        batch_op.drop_index("ix_availability_exception_counsellor")

    op.drop_table("availability_exception")
    with op.batch_alter_table("academic_break", schema=None) as batch_op:
        batch_op.drop_index("ix_academic_break_institution")

    op.drop_table("academic_break")
