"""notification_channel: per-institution, per-role WeCom / DingTalk robots and SMS gateways;
outbox_mail.channel_id: an outbox row for such a channel instead of an email

Revision ID: 0008_notification_channels
Revises: 0007_task_message_key
Create Date: 2026-12-06 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_notification_channels"
down_revision = "0007_task_message_key"
branch_labels = None
depends_on = None

ROLES = (
    "STUDENT",
    "DORM_INFORMANT",
    "CLASS_COMMITTEE",
    "DEPT_COUNSELLOR",
    "DEPT_LEADER",
    "SCHOOL_COUNSELLOR",
    "DIRECTOR",
    "HOSPITAL_LIAISON",
    "ADMIN",
    "PROVINCE_AUDITOR",
)


def upgrade():
    op.create_table(
        "notification_channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(*ROLES, name="role", native_enum=False, length=32),
            nullable=True,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("target_url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_notification_channel_institution_id_institution"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_channel")),
    )
    with op.batch_alter_table("notification_channel", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_channel_institution_id"), ["institution_id"], unique=False
        )
    with op.batch_alter_table("outbox_mail", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_mail_channel_id_notification_channel"),
            "notification_channel",
            ["channel_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("outbox_mail", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_mail_channel_id_notification_channel"), type_="foreignkey"
        )
        batch_op.drop_column("channel_id")
    with op.batch_alter_table("notification_channel", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_channel_institution_id"))
    op.drop_table("notification_channel")
