"""privacy: consent a student withdraws (and gives again), with the explanation as shown
(issue #19); a partial unique index keeps one live withdrawal per student and scope

Revision ID: 0026_consent
Revises: 0027_retention
Create Date: 2026-12-05 03:50:43.699078

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0026_consent"
down_revision = "0027_retention"
branch_labels = None
depends_on = None

LIVE = sa.text("reinstated_at IS NULL")


def upgrade():
    op.create_table(
        "consent_withdrawal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column(
            "scope",
            sa.Enum(
                "SCREENING",
                "SENSITIVE_PROCESSING",
                name="consentscope",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=False),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("stopped", sa.Text(), nullable=False),
        sa.Column("reinstated_at", sa.DateTime(), nullable=True),
        sa.Column("reinstatement_text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_consent_withdrawal_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_consent_withdrawal_student_id_student")
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by_id"],
            ["user_account.id"],
            name=op.f("fk_consent_withdrawal_withdrawn_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_withdrawal")),
    )
    with op.batch_alter_table("consent_withdrawal", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_withdrawal_institution", ["institution_id", "scope"], unique=False
        )
        batch_op.create_index(
            "uq_consent_withdrawal_live",
            ["student_id", "scope"],
            unique=True,
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        )


def downgrade():
    with op.batch_alter_table("consent_withdrawal", schema=None) as batch_op:
        batch_op.drop_index("uq_consent_withdrawal_live", sqlite_where=LIVE, postgresql_where=LIVE)
        batch_op.drop_index("ix_consent_withdrawal_institution")
    op.drop_table("consent_withdrawal")
