"""Privacy tables: consent a student has withdrawn (and given again).

Consent to screening is given per campaign (`screening.models.Consent`); withdrawing it is a
standing decision of the student that outlives any one campaign, so it is a row of its own. A
student has at most one live (not reinstated) withdrawal per scope — a partial unique index, so a
double submit of the withdrawal form stores one row. Opting back in does not delete the
withdrawal: it is stamped `reinstated_at`, and a later withdrawal is a new row, so the history of
what the student decided, and the words they read each time, stays.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from campus import clock
from campus.extensions import Model
from campus.extensions import db
from campus.models import Student


class ConsentScope(enum.StrEnum):
    """What the student withdraws: taking part in screening, or the processing of their
    sensitive personal information (PIPL art. 28-29) beyond what a safety duty needs."""

    SCREENING = "screening"
    SENSITIVE_PROCESSING = "sensitive_processing"


# Non-native enums and the partial index: the column stores no enum here, only timestamps.
_LIVE_SQL = "reinstated_at IS NULL"


class ConsentWithdrawal(Model):
    """One withdrawal of consent by a student, with the explanation exactly as they read it."""

    __tablename__ = "consent_withdrawal"
    __table_args__ = (
        Index(
            "uq_consent_withdrawal_live",
            "student_id",
            "scope",
            unique=True,
            sqlite_where=text(_LIVE_SQL),
            postgresql_where=text(_LIVE_SQL),
        ),
        Index("ix_consent_withdrawal_institution", "institution_id", "scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    scope: Mapped[ConsentScope] = mapped_column(db.Enum(ConsentScope, native_enum=False, length=30))
    withdrawn_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    withdrawn_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # What the withdrawal page told the student, as shown (their language), before they confirmed.
    explanation: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(10))
    ip: Mapped[str | None] = mapped_column(String(64))
    # Open screening assignments the withdrawal stopped, e.g. "2026 新生筛查 (cancelled)".
    stopped: Mapped[str] = mapped_column(Text, default="")
    # Opting back in: when, and the consent text the student agreed to then.
    reinstated_at: Mapped[datetime | None] = mapped_column(DateTime)
    reinstatement_text: Mapped[str | None] = mapped_column(Text)

    student: Mapped[Student] = relationship()

    @property
    def live(self) -> bool:
        return self.reinstated_at is None
