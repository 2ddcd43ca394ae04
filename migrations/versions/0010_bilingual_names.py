"""institution, hospital, screening_campaign: name_en, the English form of a name people enter, so
each reader sees the name in their own language (`name` holds the Chinese form)

Revision ID: 0010_bilingual_names
Revises: 0009_notice_detail
Create Date: 2026-12-04 21:40:00

Existing rows keep their one name, shown to every reader until someone adds the English form.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_bilingual_names"
down_revision = "0009_notice_detail"
branch_labels = None
depends_on = None

TABLES = ("institution", "hospital", "screening_campaign")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("name_en", sa.String(length=200), nullable=True))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("name_en")
