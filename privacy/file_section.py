"""The student file's consent section: what the student withdrew and when, for the staff who
open the file (department counsellors and leaders, school counsellors, the director)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from campus.models import Student
from campus.models import User
from campus.scope import Capability
from privacy import consent
from privacy.models import ConsentScope

SCOPE_LABELS = {
    ConsentScope.SCREENING: _l("Taking part in screening"),
    ConsentScope.SENSITIVE_PROCESSING: _l("Processing of sensitive personal information"),
}


def scope_labels() -> dict[str, str]:
    """The scopes' words in the reader's language (a template global)."""
    return {scope.value: str(label) for scope, label in SCOPE_LABELS.items()}


def load_consent(
    session: Session, viewer: User, student: Student, capability: Capability
) -> Mapping[str, Any]:
    """Every withdrawal of the student, newest first, and the scopes withdrawn now: one query."""
    history = consent.withdrawal_history(session, student.id)
    return {
        "history": history,
        "live": [str(SCOPE_LABELS[row.scope]) for row in history if row.reinstated_at is None],
    }
