"""Which slot seats are free.

A seat is free when its slot is open and in the future, no live appointment holds it and no
waitlist offer holds it for somebody else. Every list of free times (rescheduling, the waitlist's
matching, the booking page) reads `free_seats`, so a seat held for a waitlisted student is
invisible to everyone else until the offer is answered or lapses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.orm import Session

from appointments.models import LIVE_STATES
from appointments.models import Appointment
from appointments.models import Slot
from appointments.models import SlotState
from appointments.models import WaitlistEntry
from appointments.models import WaitlistState

# Enough for a page of choices; the oldest first.
FREE_SEATS_LIMIT = 60


@dataclass(frozen=True)
class FreeSeat:
    slot: Slot
    seat: int


def held_seats(
    session: Session, slot_ids: list[int], *, for_student_id: int | None = None
) -> set[tuple[int | None, int | None]]:
    """(slot id, seat) pairs held by a waitlist offer to anybody but `for_student_id`."""
    if not slot_ids:
        return set()
    stmt = select(WaitlistEntry.offered_slot_id, WaitlistEntry.offered_seat).where(
        WaitlistEntry.state == WaitlistState.OFFERED,
        WaitlistEntry.offered_slot_id.in_(slot_ids),
    )
    if for_student_id is not None:
        stmt = stmt.where(WaitlistEntry.student_id != for_student_id)
    return {(slot_id, seat) for slot_id, seat in session.execute(stmt).tuples()}


def free_seats(
    session: Session,
    institution_id: int,
    now: datetime,
    *,
    for_student_id: int | None = None,
    where: ColumnElement[bool] | None = None,
    limit: int = FREE_SEATS_LIMIT,
) -> list[FreeSeat]:
    """The first free seat of each open future slot of the institution (at most `limit`), in
    time order, `where` narrowing the slots. A seat held by an offer to `for_student_id` counts
    as free for them."""
    slots = list(
        session.scalars(
            select(Slot)
            .where(
                Slot.institution_id == institution_id,
                Slot.state == SlotState.OPEN,
                Slot.starts_at > now,
                where if where is not None else true(),
            )
            .order_by(Slot.starts_at, Slot.id)
            .limit(limit * 3)
        )
    )
    ids = [slot.id for slot in slots]
    taken = {
        (slot_id, seat)
        for slot_id, seat in session.execute(
            select(Appointment.slot_id, Appointment.seat).where(
                Appointment.slot_id.in_(ids), Appointment.state.in_(LIVE_STATES)
            )
        ).tuples()
    } | held_seats(session, ids, for_student_id=for_student_id)
    found: list[FreeSeat] = []
    for slot in slots:
        seat = next((n for n in range(1, slot.capacity + 1) if (slot.id, n) not in taken), None)
        if seat is not None:
            found.append(FreeSeat(slot, seat))
        if len(found) >= limit:
            break
    return found


def free_seat_in(
    session: Session, slot: Slot, now: datetime, *, for_student_id: int | None
) -> int | None:
    """A free seat of `slot` for this student, or None (taken, held for another, past, closed)."""
    for free in free_seats(
        session,
        slot.institution_id,
        now,
        for_student_id=for_student_id,
        where=Slot.id == slot.id,
        limit=1,
    ):
        return free.seat
    return None
