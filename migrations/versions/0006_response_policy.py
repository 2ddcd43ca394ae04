"""warning: response policies stored beside triage policies (policy_version.kind); every deadline
names the response policy version that set it

Revision ID: 0006_response_policy
Revises: 0005_sqlite_audit_triggers
Create Date: 2026-12-04 18:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0006_response_policy"
down_revision = "0005_sqlite_audit_triggers"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status = 'ACTIVE'")


def upgrade():
    with op.batch_alter_table("policy_version", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), server_default="TRIAGE", nullable=False)
        )
        batch_op.drop_constraint("uq_policy_version_institution_id_version", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_policy_version_institution_id_kind_version"),
            ["institution_id", "kind", "version"],
        )
        # One active policy of each kind per institution (a partial index: written by hand).
        batch_op.drop_index("uq_policy_one_active")
        batch_op.create_index(
            "uq_policy_one_active",
            ["institution_id", "kind"],
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        )
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.add_column(sa.Column("response_policy_version", sa.String(length=40)))


def downgrade():
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.drop_column("response_policy_version")
    op.execute("DELETE FROM policy_version WHERE kind <> 'TRIAGE'")
    with op.batch_alter_table("policy_version", schema=None) as batch_op:
        batch_op.drop_index("uq_policy_one_active")
        batch_op.create_index(
            "uq_policy_one_active",
            ["institution_id"],
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        )
        batch_op.drop_constraint("uq_policy_version_institution_id_kind_version", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_policy_version_institution_id_version"), ["institution_id", "version"]
        )
        batch_op.drop_column("kind")
