"""sessions: the outcome of each counselling session (risk assessed, the signal it raised), session
notes (咨询记录) and their addenda, encrypted; signed notes append-only in the database; the key
rotation marker that lets `flask campus rotate-keys` re-encrypt them (issue #18, issue #19)

Revision ID: 0025_sessions
Revises: 0021_appointments
Create Date: 2026-12-05 03:51:36

A signed note may change only from signed to co-signed (nothing else touched), or in its body's
ciphertext while `key_rotation_marker` holds a row. `campus.encryption.rotate_all` inserts that row
at the start of each batch's transaction and deletes it before the commit, so no other transaction
ever sees it and a killed rotation leaves the guard closed. Addenda change only under rotation.
"""

import sqlalchemy as sa
from alembic import op

revision = "0025_sessions"
down_revision = "0021_appointments"
branch_labels = None
depends_on = None

# The same statements `appointments.models` installs for `create_all`, frozen here.
NOTE_GUARD = {
    "postgresql": [
        (
            "CREATE OR REPLACE FUNCTION session_note_append_only() RETURNS trigger AS $$ "
            "BEGIN IF OLD.state = 'DRAFT' OR (OLD.state = 'SIGNED' AND NEW.state = "
            "'CO_SIGNED' AND NEW.appointment_id IS NOT DISTINCT FROM OLD.appointment_id AND "
            "NEW.institution_id IS NOT DISTINCT FROM OLD.institution_id AND NEW.student_id IS"
            " NOT DISTINCT FROM OLD.student_id AND NEW.author_id IS NOT DISTINCT FROM "
            "OLD.author_id AND NEW.supervisor_id IS NOT DISTINCT FROM OLD.supervisor_id AND "
            "NEW.body IS NOT DISTINCT FROM OLD.body AND NEW.signed_at IS NOT DISTINCT FROM "
            "OLD.signed_at) OR (EXISTS (SELECT 1 FROM key_rotation_marker) AND "
            "NEW.appointment_id IS NOT DISTINCT FROM OLD.appointment_id AND "
            "NEW.institution_id IS NOT DISTINCT FROM OLD.institution_id AND NEW.student_id IS"
            " NOT DISTINCT FROM OLD.student_id AND NEW.author_id IS NOT DISTINCT FROM "
            "OLD.author_id AND NEW.supervisor_id IS NOT DISTINCT FROM OLD.supervisor_id AND "
            "NEW.state IS NOT DISTINCT FROM OLD.state AND NEW.signed_at IS NOT DISTINCT FROM "
            "OLD.signed_at AND NEW.co_signed_by_id IS NOT DISTINCT FROM OLD.co_signed_by_id "
            "AND NEW.co_signed_at IS NOT DISTINCT FROM OLD.co_signed_at) THEN RETURN NEW; END"
            " IF; RAISE EXCEPTION 'signed session notes are append-only'; END; $$ LANGUAGE "
            "plpgsql"
        ),
        (
            "CREATE TRIGGER session_note_signed_no_update BEFORE UPDATE ON session_note FOR "
            "EACH ROW EXECUTE FUNCTION session_note_append_only()"
        ),
    ],
    "sqlite": [
        (
            "CREATE TRIGGER session_note_signed_no_update BEFORE UPDATE ON session_note WHEN "
            "OLD.state != 'DRAFT' AND NOT ((OLD.state = 'SIGNED' AND NEW.state = 'CO_SIGNED' "
            "AND NEW.appointment_id IS OLD.appointment_id AND NEW.institution_id IS "
            "OLD.institution_id AND NEW.student_id IS OLD.student_id AND NEW.author_id IS "
            "OLD.author_id AND NEW.supervisor_id IS OLD.supervisor_id AND NEW.body IS "
            "OLD.body AND NEW.signed_at IS OLD.signed_at) OR (EXISTS (SELECT 1 FROM "
            "key_rotation_marker) AND NEW.appointment_id IS OLD.appointment_id AND "
            "NEW.institution_id IS OLD.institution_id AND NEW.student_id IS OLD.student_id "
            "AND NEW.author_id IS OLD.author_id AND NEW.supervisor_id IS OLD.supervisor_id "
            "AND NEW.state IS OLD.state AND NEW.signed_at IS OLD.signed_at AND "
            "NEW.co_signed_by_id IS OLD.co_signed_by_id AND NEW.co_signed_at IS "
            "OLD.co_signed_at)) BEGIN SELECT RAISE(ABORT, 'signed session notes are append-"
            "only'); END"
        ),
    ],
}
ADDENDUM_GUARD = {
    "postgresql": [
        (
            "CREATE OR REPLACE FUNCTION session_note_addendum_append_only() RETURNS trigger "
            "AS $$ BEGIN IF EXISTS (SELECT 1 FROM key_rotation_marker) AND NEW.note_id IS NOT"
            " DISTINCT FROM OLD.note_id AND NEW.institution_id IS NOT DISTINCT FROM "
            "OLD.institution_id AND NEW.student_id IS NOT DISTINCT FROM OLD.student_id AND "
            "NEW.author_id IS NOT DISTINCT FROM OLD.author_id AND NEW.at IS NOT DISTINCT FROM"
            " OLD.at AND NEW.submission IS NOT DISTINCT FROM OLD.submission THEN RETURN NEW; "
            "END IF; RAISE EXCEPTION 'session note addenda are append-only'; END; $$ LANGUAGE"
            " plpgsql"
        ),
        (
            "CREATE TRIGGER session_note_addendum_no_update BEFORE UPDATE ON "
            "session_note_addendum FOR EACH ROW EXECUTE FUNCTION "
            "session_note_addendum_append_only()"
        ),
    ],
    "sqlite": [
        (
            "CREATE TRIGGER session_note_addendum_no_update BEFORE UPDATE ON "
            "session_note_addendum WHEN NOT (EXISTS (SELECT 1 FROM key_rotation_marker) AND "
            "NEW.note_id IS OLD.note_id AND NEW.institution_id IS OLD.institution_id AND "
            "NEW.student_id IS OLD.student_id AND NEW.author_id IS OLD.author_id AND NEW.at "
            "IS OLD.at AND NEW.submission IS OLD.submission) BEGIN SELECT RAISE(ABORT, "
            "'session note addenda are append-only'); END"
        ),
    ],
}


def upgrade():
    op.create_table(
        "key_rotation_marker",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_rotation_marker")),
    )
    op.create_table(
        "session_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("DRAFT", "SIGNED", "CO_SIGNED", name="notestate", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("supervisor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=True),
        sa.Column("co_signed_by_id", sa.Integer(), nullable=True),
        sa.Column("co_signed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_session_note_appointment_id_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user_account.id"], name=op.f("fk_session_note_author_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["co_signed_by_id"],
            ["user_account.id"],
            name=op.f("fk_session_note_co_signed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_session_note_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_session_note_student_id_student")
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["user_account.id"],
            name=op.f("fk_session_note_supervisor_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_note")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_session_note_appointment_id")),
    )
    with op.batch_alter_table("session_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_session_note_author_id"), ["author_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_session_note_student_id"), ["student_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_session_note_supervisor_id"), ["supervisor_id"], unique=False
        )

    op.create_table(
        "session_note_addendum",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("submission", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_session_note_addendum_author_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_session_note_addendum_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["note_id"],
            ["session_note.id"],
            name=op.f("fk_session_note_addendum_note_id_session_note"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_session_note_addendum_student_id_student")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_note_addendum")),
        sa.UniqueConstraint("submission", name=op.f("uq_session_note_addendum_submission")),
    )
    with op.batch_alter_table("session_note_addendum", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_session_note_addendum_note_id"), ["note_id"], unique=False
        )

    op.create_table(
        "session_outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("risk_level", sa.Integer(), nullable=True),
        sa.Column("risk_reason", sa.Text(), nullable=True),
        sa.Column("signal_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_session_outcome_appointment_id_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_session_outcome_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_session_outcome_recorded_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["signal_id"], ["signal.id"], name=op.f("fk_session_outcome_signal_id_signal")
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_session_outcome_student_id_student")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_outcome")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_session_outcome_appointment_id")),
    )
    with op.batch_alter_table("session_outcome", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_session_outcome_student_id"), ["student_id"], unique=False
        )

    dialect = op.get_bind().dialect.name
    for statement in NOTE_GUARD.get(dialect, []) + ADDENDUM_GUARD.get(dialect, []):
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP TRIGGER IF EXISTS session_note_addendum_no_update ON session_note_addendum"
        )
        op.execute("DROP FUNCTION IF EXISTS session_note_addendum_append_only()")
        op.execute("DROP TRIGGER IF EXISTS session_note_signed_no_update ON session_note")
        op.execute("DROP FUNCTION IF EXISTS session_note_append_only()")
    with op.batch_alter_table("session_outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_outcome_student_id"))

    op.drop_table("session_outcome")
    with op.batch_alter_table("session_note_addendum", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_note_addendum_note_id"))

    op.drop_table("session_note_addendum")
    with op.batch_alter_table("session_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_note_supervisor_id"))
        batch_op.drop_index(batch_op.f("ix_session_note_student_id"))
        batch_op.drop_index(batch_op.f("ix_session_note_author_id"))

    op.drop_table("session_note")
    op.drop_table("key_rotation_marker")
