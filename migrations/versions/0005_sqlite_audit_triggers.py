"""audit: on SQLite too, the database refuses any UPDATE or DELETE of audit_event rows

PostgreSQL has had the same guard since 0001 (audit_event_no_rewrite), so this is a no-op there.
A later SQLite batch_alter_table on audit_event recreates the table and drops these triggers:
such a revision must create them again.

Revision ID: 0005_sqlite_audit_triggers
Revises: 0004_queue_open_first
Create Date: 2026-12-04 18:40:00

"""

from alembic import op

revision = "0005_sqlite_audit_triggers"
down_revision = "0004_queue_open_first"
branch_labels = None
depends_on = None

VERBS = ("UPDATE", "DELETE")


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for verb in VERBS:
        op.execute(
            f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
            "BEGIN SELECT RAISE(ABORT, 'audit_event rows are append-only'); END"
        )


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for verb in VERBS:
        op.execute(f"DROP TRIGGER IF EXISTS audit_event_no_{verb.lower()}")
