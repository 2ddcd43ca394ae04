"""sessions: the outcome of each counselling session (risk assessed, the signal it raised), session
notes (咨询记录) and their addenda, encrypted; signed notes append-only in the database; the key
rotation marker that lets `flask campus rotate-keys` re-encrypt them (issue #18, issue #19)

Revision ID: 0025_sessions
Revises: 0026_consent
Create Date: 2026-12-05 03:51:36

A signed note may change only from signed to co-signed (nothing else touched), or in its body's
ciphertext while `key_rotation_marker` holds a row. `campus.encryption.rotate_all` inserts that row
at the start of each batch's transaction and deletes it before the commit, so no other transaction
ever sees it and a killed rotation leaves the guard closed. Addenda change only under rotation.

Crisis entries' narrative becomes encrypted as well (issue #19 asked it; 0019's trigger, which
refused every UPDATE, would have blocked rotate-keys): their trigger is replaced by the same
rotation-aware one, and the narratives already stored are encrypted in batches under the marker
with the configured key (run it with the production key file set). The downgrade decrypts them
and restores 0019's trigger.
"""

import sqlalchemy as sa
from alembic import op

from campus import encryption

revision = "0025_sessions"
down_revision = "0026_consent"
branch_labels = None
depends_on = None

# The same statements `appointments.models` and `casework.models` install for `create_all`,
# frozen here; OLD_CRISIS_GUARD is 0019's, restored by the downgrade.
NOTE_GUARD = {
    "postgresql": [
        (
            "CREATE OR REPLACE FUNCTION session_note_append_only() RETURNS trigger AS $$ "
            "BEGIN IF OLD.state = 'DRAFT' OR (OLD.state = 'SIGNED' AND NEW.state = "
            "'CO_SIGNED' AND NEW.id IS NOT DISTINCT FROM OLD.id AND NEW.appointment_id IS NOT"
            " DISTINCT FROM OLD.appointment_id AND NEW.institution_id IS NOT DISTINCT FROM "
            "OLD.institution_id AND NEW.student_id IS NOT DISTINCT FROM OLD.student_id AND "
            "NEW.author_id IS NOT DISTINCT FROM OLD.author_id AND NEW.supervisor_id IS NOT "
            "DISTINCT FROM OLD.supervisor_id AND NEW.body IS NOT DISTINCT FROM OLD.body AND "
            "NEW.signed_at IS NOT DISTINCT FROM OLD.signed_at) OR (EXISTS (SELECT 1 FROM "
            "key_rotation_marker) AND NEW.id IS NOT DISTINCT FROM OLD.id AND "
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
            "AND NEW.id IS OLD.id AND NEW.appointment_id IS OLD.appointment_id AND "
            "NEW.institution_id IS OLD.institution_id AND NEW.student_id IS OLD.student_id "
            "AND NEW.author_id IS OLD.author_id AND NEW.supervisor_id IS OLD.supervisor_id "
            "AND NEW.body IS OLD.body AND NEW.signed_at IS OLD.signed_at) OR (EXISTS (SELECT "
            "1 FROM key_rotation_marker) AND NEW.id IS OLD.id AND NEW.appointment_id IS "
            "OLD.appointment_id AND NEW.institution_id IS OLD.institution_id AND "
            "NEW.student_id IS OLD.student_id AND NEW.author_id IS OLD.author_id AND "
            "NEW.supervisor_id IS OLD.supervisor_id AND NEW.state IS OLD.state AND "
            "NEW.signed_at IS OLD.signed_at AND NEW.co_signed_by_id IS OLD.co_signed_by_id "
            "AND NEW.co_signed_at IS OLD.co_signed_at)) BEGIN SELECT RAISE(ABORT, 'signed "
            "session notes are append-only'); END"
        ),
    ],
}
ADDENDUM_GUARD = {
    "postgresql": [
        (
            "CREATE OR REPLACE FUNCTION session_note_addendum_append_only() RETURNS trigger "
            "AS $$ BEGIN IF EXISTS (SELECT 1 FROM key_rotation_marker) AND NEW.id IS NOT "
            "DISTINCT FROM OLD.id AND NEW.note_id IS NOT DISTINCT FROM OLD.note_id AND "
            "NEW.institution_id IS NOT DISTINCT FROM OLD.institution_id AND NEW.student_id IS"
            " NOT DISTINCT FROM OLD.student_id AND NEW.author_id IS NOT DISTINCT FROM "
            "OLD.author_id AND NEW.at IS NOT DISTINCT FROM OLD.at AND NEW.submission IS NOT "
            "DISTINCT FROM OLD.submission THEN RETURN NEW; END IF; RAISE EXCEPTION 'session "
            "note addenda are append-only'; END; $$ LANGUAGE plpgsql"
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
            "NEW.id IS OLD.id AND NEW.note_id IS OLD.note_id AND NEW.institution_id IS "
            "OLD.institution_id AND NEW.student_id IS OLD.student_id AND NEW.author_id IS "
            "OLD.author_id AND NEW.at IS OLD.at AND NEW.submission IS OLD.submission) BEGIN "
            "SELECT RAISE(ABORT, 'session note addenda are append-only'); END"
        ),
    ],
}
CRISIS_GUARD = {
    "postgresql": [
        (
            "CREATE OR REPLACE FUNCTION crisis_entry_append_only() RETURNS trigger AS $$ "
            "BEGIN IF EXISTS (SELECT 1 FROM key_rotation_marker) AND NEW.id IS NOT DISTINCT "
            "FROM OLD.id AND NEW.record_id IS NOT DISTINCT FROM OLD.record_id AND "
            "NEW.institution_id IS NOT DISTINCT FROM OLD.institution_id AND NEW.student_id IS"
            " NOT DISTINCT FROM OLD.student_id AND NEW.occurred_at IS NOT DISTINCT FROM "
            "OLD.occurred_at AND NEW.place IS NOT DISTINCT FROM OLD.place AND NEW.present IS "
            "NOT DISTINCT FROM OLD.present AND NEW.actions::text IS NOT DISTINCT FROM "
            "OLD.actions::text AND NEW.hospital IS NOT DISTINCT FROM OLD.hospital AND "
            "NEW.handed_over_at IS NOT DISTINCT FROM OLD.handed_over_at AND "
            "NEW.handed_over_to IS NOT DISTINCT FROM OLD.handed_over_to AND NEW.corrects_id "
            "IS NOT DISTINCT FROM OLD.corrects_id AND NEW.submission IS NOT DISTINCT FROM "
            "OLD.submission AND NEW.author_id IS NOT DISTINCT FROM OLD.author_id AND "
            "NEW.created_at IS NOT DISTINCT FROM OLD.created_at THEN RETURN NEW; END IF; "
            "RAISE EXCEPTION 'crisis_entry rows are append-only'; END; $$ LANGUAGE plpgsql"
        ),
        (
            "CREATE TRIGGER crisis_entry_no_update BEFORE UPDATE ON crisis_entry FOR EACH ROW"
            " EXECUTE FUNCTION crisis_entry_append_only()"
        ),
    ],
    "sqlite": [
        (
            "CREATE TRIGGER crisis_entry_no_update BEFORE UPDATE ON crisis_entry WHEN NOT "
            "(EXISTS (SELECT 1 FROM key_rotation_marker) AND NEW.id IS OLD.id AND "
            "NEW.record_id IS OLD.record_id AND NEW.institution_id IS OLD.institution_id AND "
            "NEW.student_id IS OLD.student_id AND NEW.occurred_at IS OLD.occurred_at AND "
            "NEW.place IS OLD.place AND NEW.present IS OLD.present AND NEW.actions IS "
            "OLD.actions AND NEW.hospital IS OLD.hospital AND NEW.handed_over_at IS "
            "OLD.handed_over_at AND NEW.handed_over_to IS OLD.handed_over_to AND "
            "NEW.corrects_id IS OLD.corrects_id AND NEW.submission IS OLD.submission AND "
            "NEW.author_id IS OLD.author_id AND NEW.created_at IS OLD.created_at) BEGIN "
            "SELECT RAISE(ABORT, 'crisis_entry rows are append-only'); END"
        ),
    ],
}
OLD_CRISIS_GUARD = {
    "postgresql": [
        (
            "CREATE OR REPLACE FUNCTION crisis_entry_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'crisis_entry rows are append-only'; END; $$ LANGUAGE "
            "plpgsql"
        ),
        (
            "CREATE TRIGGER crisis_entry_no_update BEFORE UPDATE ON crisis_entry FOR EACH ROW"
            " EXECUTE FUNCTION crisis_entry_append_only()"
        ),
    ],
    "sqlite": [
        (
            "CREATE TRIGGER crisis_entry_no_update BEFORE UPDATE ON crisis_entry BEGIN SELECT"
            " RAISE(ABORT, 'crisis_entry rows are append-only'); END"
        ),
    ],
}
BATCH = 500


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
    # Crisis entries' narrative is encrypted too (issue #19); their guard becomes rotation-aware,
    # and the existing narratives are encrypted under that same marker.
    _replace_crisis_guard(dialect, CRISIS_GUARD)
    _under_marker(lambda: _rewrite("crisis_entry", "narrative", encryption.encrypt))


def downgrade():
    dialect = op.get_bind().dialect.name
    _under_marker(lambda: _rewrite("crisis_entry", "narrative", encryption.decrypt))
    _replace_crisis_guard(dialect, OLD_CRISIS_GUARD)
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


def _replace_crisis_guard(dialect: str, guard: dict[str, list[str]]) -> None:
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS crisis_entry_no_update ON crisis_entry")
    else:
        op.execute("DROP TRIGGER IF EXISTS crisis_entry_no_update")
    for statement in guard.get(dialect, []):
        op.execute(statement)


def _under_marker(work) -> None:
    """Run `work` with the rotation marker present (as rotate-keys does), so the append-only
    guard lets the ciphertext-only rewrite through; the marker is gone again afterwards."""
    marker = sa.table("key_rotation_marker", sa.column("id", sa.Integer()))
    op.get_bind().execute(sa.insert(marker).values(id=1))
    work()
    op.get_bind().execute(sa.delete(marker))


def _rewrite(table: str, column: str, change) -> None:
    """Apply `change` to every non-null value of `table.column`, BATCH rows at a time (as
    0020_encrypted_notes does)."""
    bind = op.get_bind()
    rows = sa.table(table, sa.column("id", sa.Integer()), sa.column(column, sa.Text()))
    target = rows.c[column]
    write = (
        sa.update(rows)
        .where(rows.c.id == sa.bindparam("_row"))
        .values({column: sa.bindparam("_value")})
    )
    last = 0
    while True:
        found = bind.execute(
            sa.select(rows.c.id, target)
            .where(target.is_not(None), rows.c.id > last)
            .order_by(rows.c.id)
            .limit(BATCH)
        ).all()
        if not found:
            return
        bind.execute(write, [{"_row": row, "_value": change(value)} for row, value in found])
        last = found[-1][0]
