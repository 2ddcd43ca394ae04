"""Integrity of the intake after a load or a fault, checked in the database itself.

Each function returns a count of violations (0 is a pass) so the caller can print numbers.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import create_engine
from sqlalchemy import text

from bench.load.harness import INSTRUMENTS


def intake_integrity(url: str, acked: list[tuple[str, str]]) -> dict[str, int]:
    """Every acknowledged (student, instrument) stored exactly once, and nothing half-written."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            stored = Counter(
                (number, code)
                for number, code in conn.execute(
                    text(
                        "SELECT s.student_number, r.instrument FROM screening_result r "
                        "JOIN student s ON s.id = r.student_id"
                    )
                )
            )
            acked_set = set(acked)
            figures = {
                "acknowledged": len(acked),
                "acknowledged twice by the app": len(acked) - len(acked_set),
                "results stored": sum(stored.values()),
                "acknowledged but not stored": sum(1 for a in acked_set if stored[a] == 0),
                "stored more than once": sum(1 for n in stored.values() if n > 1),
                "results without all their answers": _scalar(conn, _INCOMPLETE_ANSWERS),
                "signals pointing at no result": _scalar(conn, _ORPHAN_SIGNALS),
                "safety answers without a red signal": _scalar(conn, _SAFETY_WITHOUT_RED),
                "safety answers without an open red warning": _scalar(
                    conn, _SAFETY_WITHOUT_WARNING
                ),
                "results without consent": _scalar(conn, _RESULT_WITHOUT_CONSENT),
                "assignments marked complete wrongly": _scalar(conn, _COMPLETION_MISMATCH),
                "drafts left beside a result": _scalar(conn, _DRAFT_BESIDE_RESULT),
            }
            figures["safety answers stored"] = _scalar(conn, _SAFETY_RESULTS)
    finally:
        engine.dispose()
    return figures


VIOLATIONS = (
    "acknowledged but not stored",
    "stored more than once",
    "results without all their answers",
    "signals pointing at no result",
    "safety answers without a red signal",
    "safety answers without an open red warning",
    "results without consent",
    "assignments marked complete wrongly",
    "drafts left beside a result",
)


def _scalar(conn, sql: str) -> int:
    return int(conn.execute(text(sql), {"n": len(INSTRUMENTS)}).scalar_one())


# A result stores the answer to every item (the instrument's item count, known per instrument
# from the first result stored: every online result of an instrument has the same items).
_INCOMPLETE_ANSWERS = """
WITH sized AS (
  SELECT instrument, (SELECT count(*) FROM json_object_keys(answers)) AS n
  FROM screening_result)
SELECT count(*) FROM sized s
WHERE s.n < (SELECT max(n) FROM sized t WHERE t.instrument = s.instrument) OR s.n = 0
"""
_ORPHAN_SIGNALS = """
SELECT count(*) FROM signal g
WHERE g.evidence_type = 'screening_result'
  AND NOT EXISTS (SELECT 1 FROM screening_result r WHERE r.id = g.evidence_id)
"""
_SAFETY_RESULTS = "SELECT count(*) FROM screening_result WHERE flags LIKE '%safety%'"
_SAFETY_WITHOUT_RED = """
SELECT count(*) FROM screening_result r
WHERE r.flags LIKE '%safety%' AND NOT EXISTS (
  SELECT 1 FROM signal g WHERE g.evidence_type = 'screening_result' AND g.evidence_id = r.id
    AND g.implied_level = 3)
"""
_SAFETY_WITHOUT_WARNING = """
SELECT count(*) FROM screening_result r
WHERE r.flags LIKE '%safety%' AND NOT EXISTS (
  SELECT 1 FROM warning w WHERE w.student_id = r.student_id AND w.status = 'OPEN' AND w.level = 3)
"""
_RESULT_WITHOUT_CONSENT = """
SELECT count(*) FROM screening_result r
WHERE r.source = 'ONLINE' AND NOT EXISTS (
  SELECT 1 FROM screening_consent c WHERE c.assignment_id = r.assignment_id)
"""
_COMPLETION_MISMATCH = """
SELECT count(*) FROM screening_assignment a
WHERE (a.completed_at IS NOT NULL) <>
      ((SELECT count(*) FROM screening_result r WHERE r.assignment_id = a.id) = :n)
"""
_DRAFT_BESIDE_RESULT = """
SELECT count(*) FROM screening_draft d JOIN screening_result r
  ON r.assignment_id = d.assignment_id AND r.instrument = d.instrument
"""


def acked_pairs(events: list[list[str]]) -> list[tuple[str, str]]:
    return [(e[2], e[3]) for e in events if e[1] == "ack"]
