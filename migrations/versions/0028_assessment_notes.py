"""The remaining assessment notes encrypted at rest: an interview's reason for confirming,
lowering or raising the level, and the note that clears or escalates a contagion follow-up
(issue #19: counselling and assessment notes are clinical free text)

Revision ID: 0028_assessment_notes
Revises: 0024_waitlist
Create Date: 2026-12-05 05:00:00

As 0020_encrypted_notes: the columns become TEXT (a token is longer than its text) and every
existing value is encrypted with the app's configured keys in batches; the downgrade decrypts.
"""

import sqlalchemy as sa
from alembic import op

from campus import encryption

revision = "0028_assessment_notes"
down_revision = "0024_waitlist"
branch_labels = None
depends_on = None

# (table, column, its type before)
COLUMNS = [
    ("interview_entry", "level_reason", sa.String(length=500)),
    ("contagion_follow_up", "note", sa.String(length=500)),
]
BATCH = 500


def upgrade():
    for table, column, before in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=before, type_=sa.Text(), existing_nullable=True
            )
        _rewrite(table, column, encryption.encrypt)


def downgrade():
    for table, column, before in COLUMNS:
        _rewrite(table, column, encryption.decrypt)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=sa.Text(), type_=before, existing_nullable=True
            )


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
