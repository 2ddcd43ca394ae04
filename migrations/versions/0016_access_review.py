"""Access that ends: role_assignment gets a last day (until), the moment it stops working
(ends_at), who gave and who ended it and why, and when its end was announced; access_review and
access_review_decision hold the termly review.

Revision ID: 0016_access_review
Revises: 0015_mfa
Create Date: 2026-12-05 00:40:00

An assignment is no longer deleted when it is removed: it ends and stays as history. The unique
constraint over every assignment becomes a unique index over the open-ended ones, so a role that
has ended can be given again. Existing assignments have no end, as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_access_review"
down_revision = "0015_mfa"
branch_labels = None
depends_on = None

_SCOPE = ["user_id", "role", "department_id", "class_id", "room_id", "hospital_id"]


def upgrade():
    with op.batch_alter_table("role_assignment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("given_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("ends_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("ended_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("end_reason", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("end_notice_sent_at", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_role_assignment_given_by_id_user_account"),
            "user_account",
            ["given_by_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_role_assignment_ended_by_id_user_account"),
            "user_account",
            ["ended_by_id"],
            ["id"],
        )
        batch_op.create_index(batch_op.f("ix_role_assignment_ends_at"), ["ends_at"], unique=False)
        batch_op.drop_constraint("uq_role_assignment_scope", type_="unique")
        batch_op.create_index(
            "uq_role_assignment_open",
            _SCOPE,
            unique=True,
            sqlite_where=sa.text("ends_at IS NULL"),
            postgresql_where=sa.text("ends_at IS NULL"),
        )

    op.create_table(
        "access_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("term_key", sa.String(length=24), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_access_review_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_id"],
            ["user_account.id"],
            name=op.f("fk_access_review_opened_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_review")),
        sa.UniqueConstraint(
            "institution_id", "term_key", name=op.f("uq_access_review_institution_id_term_key")
        ),
    )
    with op.batch_alter_table("access_review", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_review_institution_id"), ["institution_id"], unique=False
        )

    op.create_table(
        "access_review_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(), nullable=False),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["access_review.id"],
            name=op.f("fk_access_review_decision_review_id_access_review"),
        ),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["role_assignment.id"],
            name=op.f("fk_access_review_decision_assignment_id_role_assignment"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"],
            ["user_account.id"],
            name=op.f("fk_access_review_decision_reviewed_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_review_decision")),
        sa.UniqueConstraint(
            "review_id",
            "assignment_id",
            name=op.f("uq_access_review_decision_review_id_assignment_id"),
        ),
    )
    with op.batch_alter_table("access_review_decision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_review_decision_review_id"), ["review_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_access_review_decision_assignment_id"), ["assignment_id"], unique=False
        )


def downgrade():
    op.drop_table("access_review_decision")
    op.drop_table("access_review")
    # Ended assignments are history only: the old schema kept working roles alone.
    op.execute("DELETE FROM role_assignment WHERE ends_at IS NOT NULL")
    with op.batch_alter_table("role_assignment", schema=None) as batch_op:
        batch_op.drop_index("uq_role_assignment_open")
        batch_op.create_unique_constraint("uq_role_assignment_scope", _SCOPE)
        batch_op.drop_index(batch_op.f("ix_role_assignment_ends_at"))
        batch_op.drop_constraint(
            batch_op.f("fk_role_assignment_ended_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_role_assignment_given_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("end_notice_sent_at")
        batch_op.drop_column("end_reason")
        batch_op.drop_column("ended_by_id")
        batch_op.drop_column("ends_at")
        batch_op.drop_column("until")
        batch_op.drop_column("given_by_id")
