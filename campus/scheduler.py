"""Periodic sweeps, registered by the domains, run by exactly one scheduler process.

Domains register plain functions `sweep(session, now) -> int` (how many things they acted on);
the runner (APScheduler, with a leader lock in the database) calls each in its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Flask
from sqlalchemy.orm import Session

Sweep = Callable[[Session, datetime], int]


def register_sweep(app: Flask, name: str, sweep: Sweep) -> None:
    app.extensions.setdefault("xinqiao_sweeps", {})[name] = sweep


def registered_sweeps(app: Flask) -> dict[str, Sweep]:
    return dict(app.extensions.get("xinqiao_sweeps", {}))
