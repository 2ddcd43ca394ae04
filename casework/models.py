"""Casework tables. Each sits beside the student it concerns; every read goes through
`campus.scope.student_filter` like the rest of a student's data."""

from __future__ import annotations
