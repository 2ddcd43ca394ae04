"""Clinical free text encrypted at rest: warning notes, concern reports, life-event notes, the
referral's reason, screening summary, internal note and transition notes, the hospital statement and
return assessment; encryption_key_check, the value start-up decrypts to prove it has the right key

Revision ID: 0020_encrypted_notes
Revises: 0019_crisis
Create Date: 2026-12-05 00:30:00

The columns become TEXT (a token is longer than its text) and every existing value is encrypted
with the keys the app is configured with (`campus.encryption`), in batches; the downgrade decrypts
them back. Run it with the production key file set, as every other command.
"""

import sqlalchemy as sa
from alembic import op

from campus import encryption

revision = "0020_encrypted_notes"
down_revision = "0019_crisis"
branch_labels = None
depends_on = None

# (table, column, its type before, nullable)
COLUMNS = [
    ("warning_event", "note", sa.Text(), True),
    ("concern_report", "text", sa.String(length=2000), False),
    ("life_event", "note", sa.String(length=1000), True),
    ("referral", "reason", sa.Text(), False),
    ("referral", "screening_summary", sa.Text(), True),
    ("referral", "internal_note", sa.Text(), True),
    ("referral_transition", "note", sa.String(length=1000), True),
    ("leave_of_absence", "statement_summary", sa.Text(), True),
    ("leave_of_absence", "assessment_note", sa.Text(), True),
]
BATCH = 500


def upgrade():
    op.create_table(
        "encryption_key_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for table, column, before, nullable in COLUMNS:
        if not isinstance(before, sa.Text):
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.alter_column(
                    column, existing_type=before, type_=sa.Text(), existing_nullable=nullable
                )
        _rewrite(table, column, encryption.encrypt)


def downgrade():
    for table, column, before, nullable in COLUMNS:
        _rewrite(table, column, encryption.decrypt)
        if not isinstance(before, sa.Text):
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.alter_column(
                    column, existing_type=sa.Text(), type_=before, existing_nullable=nullable
                )
    op.drop_table("encryption_key_check")


def _rewrite(table: str, column: str, change) -> None:
    """Apply `change` to every non-null value of `table.column`, BATCH rows at a time."""
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
