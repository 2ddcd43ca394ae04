"""crisis records (危机事件记录) with append-only entries, hand-over documents with signed scans,
contagion follow-up, and the institution's crisis settings (issue #17 §3)

Revision ID: 0019_crisis
Revises: 0018_interviews
Create Date: 2026-12-05 01:00:00

The database refuses any UPDATE of a crisis entry (a trigger on each database, as for the audit
trail): an entry is corrected by a new one.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_crisis"
down_revision = "0018_interviews"
branch_labels = None
depends_on = None

NO_UPDATE = {
    "postgresql": [
        "CREATE OR REPLACE FUNCTION crisis_entry_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'crisis_entry rows are append-only'; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER crisis_entry_no_update BEFORE UPDATE ON crisis_entry "
        "FOR EACH ROW EXECUTE FUNCTION crisis_entry_append_only()",
    ],
    "sqlite": [
        "CREATE TRIGGER crisis_entry_no_update BEFORE UPDATE ON crisis_entry "
        "BEGIN SELECT RAISE(ABORT, 'crisis_entry rows are append-only'); END"
    ],
}


def upgrade():
    op.create_table(
        "crisis_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("warning_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["institution_id"], ["institution.id"]),
        sa.ForeignKeyConstraint(["opened_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["student_id"], ["student.id"]),
        sa.ForeignKeyConstraint(["warning_id"], ["warning.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("warning_id"),
    )
    op.create_index("ix_crisis_record_institution_id", "crisis_record", ["institution_id"])
    op.create_index("ix_crisis_record_student_id", "crisis_record", ["student_id"])

    op.create_table(
        "crisis_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("present", sa.String(length=500), nullable=True),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("hospital", sa.String(length=200), nullable=True),
        sa.Column("handed_over_at", sa.DateTime(), nullable=True),
        sa.Column("handed_over_to", sa.String(length=100), nullable=True),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("submission", sa.String(length=40), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["corrects_id"], ["crisis_entry.id"]),
        sa.ForeignKeyConstraint(["institution_id"], ["institution.id"]),
        sa.ForeignKeyConstraint(["record_id"], ["crisis_record.id"]),
        sa.ForeignKeyConstraint(["student_id"], ["student.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id", "submission", name="uq_crisis_entry_submission"),
    )
    op.create_index("ix_crisis_entry_record_id", "crisis_entry", ["record_id"])
    for statement in NO_UPDATE.get(op.get_bind().dialect.name, []):
        op.execute(statement)

    op.create_table(
        "crisis_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "GUARDIAN_NOTICE",
                "SAFETY_PLEDGE",
                name="crisisdocumentkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("generated_at", sa.DateTime(), nullable=False),
        sa.Column("generated_by_id", sa.Integer(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("signed_by_name", sa.String(length=100), nullable=True),
        sa.Column("signed_recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("signed_recorded_at", sa.DateTime(), nullable=True),
        sa.Column("scan_file", sa.String(length=80), nullable=True),
        sa.Column("scan_type", sa.String(length=40), nullable=True),
        sa.Column("scan_size", sa.Integer(), nullable=True),
        sa.Column("scan_uploaded_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["generated_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["institution_id"], ["institution.id"]),
        sa.ForeignKeyConstraint(["record_id"], ["crisis_record.id"]),
        sa.ForeignKeyConstraint(["signed_recorded_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["student_id"], ["student.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_crisis_document_record_id", "crisis_document", ["record_id"])

    op.create_table(
        "contagion_follow_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column(
            "relation",
            sa.Enum(
                "ROOMMATE",
                "CLASSMATE",
                "WITNESS",
                "FRIEND",
                "OTHER",
                name="contagionrelation",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("signal_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["added_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["closed_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["institution_id"], ["institution.id"]),
        sa.ForeignKeyConstraint(["record_id"], ["crisis_record.id"]),
        sa.ForeignKeyConstraint(["signal_id"], ["signal.id"]),
        sa.ForeignKeyConstraint(["student_id"], ["student.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id", "student_id", name="uq_contagion_student"),
    )
    op.create_index(
        "ix_contagion_follow_up_institution_id", "contagion_follow_up", ["institution_id"]
    )
    op.create_index("ix_contagion_follow_up_record_id", "contagion_follow_up", ["record_id"])
    op.create_index("ix_contagion_follow_up_student_id", "contagion_follow_up", ["student_id"])

    op.create_table(
        "crisis_settings",
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("safety_pledge", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["institution_id"], ["institution.id"]),
        sa.ForeignKeyConstraint(["updated_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("institution_id"),
    )


def downgrade():
    op.drop_table("crisis_settings")
    op.drop_table("contagion_follow_up")
    op.drop_table("crisis_document")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS crisis_entry_no_update ON crisis_entry")
        op.execute("DROP FUNCTION IF EXISTS crisis_entry_append_only()")
    op.drop_table("crisis_entry")
    op.drop_table("crisis_record")
