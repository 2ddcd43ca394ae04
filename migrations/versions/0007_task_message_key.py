"""task: text_key and text_params keep a task text's message id and values, so the task list
shows it in the reader's language without reading values back out of the English

Revision ID: 0007_task_message_key
Revises: 0006_response_policy
Create Date: 2026-12-04 18:40:00

The return-to-school and missing-report tasks written before this revision are backfilled from
their English text when it matches the wording of the time; other rows keep no key and are shown as stored.
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0007_task_message_key"
down_revision = "0006_response_policy"
branch_labels = None
depends_on = None

# The wording of referrals/leave.py when this revision was written (copied: a revision must not
# change when the code does).
_TEMPLATES = {
    "return_plan": (
        "Please help %(name)s catch up with classes after returning to school.",
        "Please keep company with %(name)s after returning to school, and "
        "tell the department counsellor if you are worried.",
        "Please help %(name)s settle back into daily life after returning to school.",
        "Return-to-school support for %(name)s: %(text)s",
    ),
    "return_follow_up": ("Follow-up %(months)s month(s) after return to school: %(name)s",),
    # warning/escalation.py
    "report_missing": (
        "Class %(unit)s has not filed its weekly report for the week of %(week)s",
        "Dorm room %(unit)s has not filed its weekly report for the week of %(week)s",
    ),
}
_PLACEHOLDER = re.compile(r"%\\\(([a-z_]+)\\\)s")

task = sa.table(
    "task",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("text", sa.String),
    sa.column("text_key", sa.String),
    sa.column("text_params", sa.JSON),
)


def _message_of(kind: str, text: str) -> tuple[str, dict] | None:
    for template in _TEMPLATES[kind]:
        pattern = _PLACEHOLDER.sub(r"(?P<\1>.+?)", re.escape(template))
        match = re.fullmatch(pattern, text, flags=re.S)
        if match:
            return template, match.groupdict()
    return None


def upgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("text_params", sa.JSON(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(task.c.id, task.c.kind, task.c.text).where(task.c.kind.in_(list(_TEMPLATES)))
    ).all()
    for row in rows:
        message = _message_of(row.kind, row.text)
        if message is not None:
            bind.execute(
                task.update()
                .where(task.c.id == row.id)
                .values(text_key=message[0], text_params=message[1])
            )


def downgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("text_params")
        batch_op.drop_column("text_key")
