"""retention (issue #19): legal holds, erasure requests, purge runs and the rows they anonymised,
the day each student left; encrypted text columns (hold reasons, the student's note, the
director's reasons) are plain TEXT to the database, encrypted by the ORM

Revision ID: 0027_retention
Revises: 0022_availability
Create Date: 2026-12-05 03:58:14.209663

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0027_retention"
down_revision = "0022_availability"
branch_labels = None
depends_on = None


# The audit trail's DELETE guard learns one exception: a transaction holding an
# audit_purge_permit row (campus.audit.purge_rows, the retention purge). UPDATE stays refused.
PG_GUARD = (
    "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$ "
    "BEGIN IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM audit_purge_permit) THEN "
    "RETURN OLD; END IF; "
    "RAISE EXCEPTION 'audit_event rows are append-only'; END; $$ LANGUAGE plpgsql"
)
PG_GUARD_BEFORE = (
    "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_event rows are append-only'; END; $$ LANGUAGE plpgsql"
)
SQLITE_DELETE_GUARD = (
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "WHEN NOT EXISTS (SELECT 1 FROM audit_purge_permit) "
    "BEGIN SELECT RAISE(ABORT, 'audit_event rows are append-only'); END"
)
SQLITE_DELETE_GUARD_BEFORE = (
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event rows are append-only'); END"
)


def _guard(postgresql: str, sqlite: str) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(postgresql)
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
        op.execute(sqlite)


def upgrade():
    op.create_table(
        "audit_purge_permit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_purge_permit")),
    )
    _guard(PG_GUARD, SQLITE_DELETE_GUARD)
    op.create_table(
        "erasure_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "REQUESTED",
                "UNDER_REVIEW",
                "APPROVED",
                "PARTLY_APPROVED",
                "DECLINED",
                "CARRIED_OUT",
                name="erasurestate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("student_note", sa.Text(), nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("review_started_at", sa.DateTime(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("kept", sa.JSON(), nullable=False),
        sa.Column("carried_out_at", sa.DateTime(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_erasure_request_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"],
            ["user_account.id"],
            name=op.f("fk_erasure_request_reviewed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_erasure_request_student_id_student")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_request")),
    )
    with op.batch_alter_table("erasure_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_erasure_request_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_erasure_request_student_id"), ["student_id"], unique=False
        )
        batch_op.create_index(
            "uq_erasure_request_open",
            ["student_id"],
            unique=True,
            sqlite_where=sa.text("state IN ('REQUESTED', 'UNDER_REVIEW')"),
            postgresql_where=sa.text("state IN ('REQUESTED', 'UNDER_REVIEW')"),
        )

    op.create_table(
        "legal_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by_id", sa.Integer(), nullable=False),
        sa.Column("placed_at", sa.DateTime(), nullable=False),
        sa.Column("lifted_at", sa.DateTime(), nullable=True),
        sa.Column("lifted_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_legal_hold_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["lifted_by_id"],
            ["user_account.id"],
            name=op.f("fk_legal_hold_lifted_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["placed_by_id"],
            ["user_account.id"],
            name=op.f("fk_legal_hold_placed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_legal_hold_student_id_student")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_hold")),
    )
    with op.batch_alter_table("legal_hold", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_legal_hold_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_legal_hold_student_id"), ["student_id"], unique=False)
        batch_op.create_index(
            "uq_legal_hold_in_force",
            ["student_id"],
            unique=True,
            sqlite_where=sa.text("lifted_at IS NULL"),
            postgresql_where=sa.text("lifted_at IS NULL"),
        )

    op.create_table(
        "student_departure",
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_student_departure_student_id_student")
        ),
        sa.PrimaryKeyConstraint("student_id", name=op.f("pk_student_departure")),
    )
    op.create_table(
        "purge_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("erasure_id", sa.Integer(), nullable=True),
        sa.Column("schedule_version", sa.String(length=40), nullable=False),
        sa.Column(
            "state",
            sa.Enum("RUNNING", "FINISHED", name="runstate", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["erasure_id"],
            ["erasure_request.id"],
            name=op.f("fk_purge_run_erasure_id_erasure_request"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_purge_run_institution_id_institution"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purge_run")),
    )
    with op.batch_alter_table("purge_run", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_purge_run_institution_id"), ["institution_id"], unique=False
        )

    op.create_table(
        "purged_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["purge_run.id"], name=op.f("fk_purged_record_run_id_purge_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purged_record")),
        sa.UniqueConstraint("record_type", "record_id", name="uq_purged_record"),
    )
    with op.batch_alter_table("purged_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purged_record_run_id"), ["run_id"], unique=False)


def downgrade():
    _guard(PG_GUARD_BEFORE, SQLITE_DELETE_GUARD_BEFORE)
    op.drop_table("audit_purge_permit")
    with op.batch_alter_table("purged_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purged_record_run_id"))

    op.drop_table("purged_record")
    with op.batch_alter_table("purge_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purge_run_institution_id"))

    op.drop_table("purge_run")
    op.drop_table("student_departure")
    with op.batch_alter_table("legal_hold", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_legal_hold_in_force",
            sqlite_where=sa.text("lifted_at IS NULL"),
            postgresql_where=sa.text("lifted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_legal_hold_student_id"))
        batch_op.drop_index(batch_op.f("ix_legal_hold_institution_id"))

    op.drop_table("legal_hold")
    with op.batch_alter_table("erasure_request", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_erasure_request_open",
            sqlite_where=sa.text("state IN ('REQUESTED', 'UNDER_REVIEW')"),
            postgresql_where=sa.text("state IN ('REQUESTED', 'UNDER_REVIEW')"),
        )
        batch_op.drop_index(batch_op.f("ix_erasure_request_student_id"))
        batch_op.drop_index(batch_op.f("ix_erasure_request_institution_id"))

    op.drop_table("erasure_request")
