"""task: every task a class committee member or dorm informant is given about a student reads
the same ("Please keep company with X and see how they are doing"), whatever gave it; the stored
tasks of the old wordings are rewritten to it

Revision ID: 0037_one_peer_task_wording
Revises: 0036_notification_sent_at
Create Date: 2026-12-07 03:20:00

Before, a red's peer watch ("… this week"), a check-in, a follow-up, each section of a
return-to-school plan and a check-in after a crisis nearby had a wording of its own, so a peer
who had seen two tasks could tell which classmate was "red". The warning's peer tasks were
stored without a message id (shown by their kind); those are read back from their English text.
A row whose text matches no old wording (an erased one) is left as it is.
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0037_one_peer_task_wording"
down_revision = "0036_notification_sent_at"
branch_labels = None
depends_on = None

# The wordings of the time (copied: a revision must not change when the code does).
NEW = "Please keep company with %(name)s and see how they are doing"
_WARNING_OLD = {
    "peer_watch": "Please keep company with %(name)s this week",
    "check_in": "Please check in with %(name)s this week and see how they are",
    "follow_up": "Please check in with %(name)s again and see how they are",
}
_PLAN_OLD = {
    "ACADEMIC": "Please help %(name)s catch up with classes after returning to school.",
    "PSYCHOLOGICAL": "Please keep company with %(name)s after returning to school, and "
    "tell the department counsellor if you are worried.",
    "DAILY_LIFE": "Please help %(name)s settle back into daily life after returning to school.",
}
_OLD_KEYS = {*_WARNING_OLD.values(), *_PLAN_OLD.values()}
_PEER_KINDS = {*_WARNING_OLD, "contagion_check_in", "return_plan"}

task = sa.table(
    "task",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("text", sa.String),
    sa.column("text_key", sa.String),
    sa.column("text_params", sa.JSON),
)
plan_item = sa.table(
    "return_plan_item",
    sa.column("task_id", sa.Integer),
    sa.column("section", sa.String),
)


def _name_in(text: str, template: str) -> str | None:
    pattern = re.escape(template).replace(re.escape("%(name)s"), "(?P<name>.+?)")
    match = re.fullmatch(pattern, text or "", flags=re.S)
    return match.group("name") if match else None


def _name_of(row) -> str | None:
    if row.text_key in _OLD_KEYS:
        name = (row.text_params or {}).get("name")
        return name if isinstance(name, str) else _name_in(row.text, row.text_key)
    if row.text_key is None and row.kind in _WARNING_OLD:
        return _name_in(row.text, _WARNING_OLD[row.kind])
    return None


def _rewrite(bind, rows, wording) -> None:
    for row in rows:
        name = _name_of(row) if wording is None else (row.text_params or {}).get("name")
        template = NEW if wording is None else wording(row)
        if not isinstance(name, str) or template is None:
            continue
        bind.execute(
            task.update()
            .where(task.c.id == row.id)
            .values(
                text=(template % {"name": name})[:500],
                text_key=template,
                text_params={"name": name},
            )
        )


def upgrade():
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(task.c.id, task.c.kind, task.c.text, task.c.text_key, task.c.text_params).where(
            task.c.kind.in_(sorted(_PEER_KINDS)),
            sa.or_(task.c.text_key.in_(sorted(_OLD_KEYS)), task.c.text_key.is_(None)),
        )
    ).all()
    _rewrite(bind, rows, None)


def downgrade():
    """Back to the wording of each kind (a plan item's by its section)."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            task.c.id,
            task.c.kind,
            task.c.text,
            task.c.text_key,
            task.c.text_params,
            plan_item.c.section,
        )
        .select_from(task.outerjoin(plan_item, plan_item.c.task_id == task.c.id))
        .where(task.c.text_key == NEW)
    ).all()

    def old(row) -> str | None:
        if row.kind == "return_plan":
            return _PLAN_OLD.get(row.section)
        return _WARNING_OLD.get("check_in" if row.kind == "contagion_check_in" else row.kind)

    _rewrite(bind, rows, old)
