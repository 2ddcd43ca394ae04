"""crisis_document: the language each generated copy is printed in

Revision ID: 0042_document_language
Revises: 0041_concern_weekly_report
Create Date: 2026-12-07 17:00:00

A hand-over copy (the guardian notice, the safety pledge) was printed in the language of whoever
downloaded it, so a counsellor reading the pages in English gave a Chinese family an English
notice. Each copy now records the language it was generated in, the institution's (Chinese)
unless the counsellor chose another, and prints in it every time. Copies generated before are
recorded as Chinese, the language they were meant to be in.
"""

import sqlalchemy as sa
from alembic import op

revision = "0042_document_language"
down_revision = "0041_concern_weekly_report"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("crisis_document", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=10), nullable=False, server_default="zh_CN")
        )


def downgrade():
    with op.batch_alter_table("crisis_document", schema=None) as batch_op:
        batch_op.drop_column("language")
