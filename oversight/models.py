"""Oversight's own table: the province view's figures, computed ahead of the page."""

from __future__ import annotations

from datetime import date
from datetime import datetime

from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from campus.extensions import Model


class ProvinceSnapshot(Model):
    """Every KPI table of the province view for one period and grouping, as of `computed_at`.

    Stored before small-group suppression (the threshold applies when the table is shown), and
    holding aggregates only: no student is in it.
    """

    __tablename__ = "province_snapshot"
    __table_args__ = (
        UniqueConstraint("by", "first_month", "last_month", name="uq_province_period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    by: Mapped[str] = mapped_column(String(12))
    first_month: Mapped[date] = mapped_column(Date)
    last_month: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime] = mapped_column(DateTime)
    # Last time an auditor looked: periods nobody has looked at for a while stop being refreshed.
    requested_at: Mapped[datetime] = mapped_column(DateTime)
    frames: Mapped[str] = mapped_column(Text)  # {kpi key: DataFrame.to_json(orient="split")}
