"""A refused pre-check kept for the page that shows it (Post/Redirect/Get).

A refused booking answers with a redirect to the pre-check page, which shows why and the answers
given; the browser's history then holds a page it may load again, not a form it would offer to
resubmit ("Confirm form resubmission") on Back. The answers wait in the signed session cookie,
encrypted with the field-encryption keys (a reason typed is clinical free text) and readable for
as long as a session stays idle, for this account and this time only; sign-out clears them. What
a refusal must keep for good — a safety answer and its red warning — was committed by
`booking.book` before the redirect; this is only what the page shows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

from flask import current_app
from flask import session

from appointments.booking import GAD2
from appointments.booking import PHQ2
from appointments.booking import REASON_MAX
from appointments.booking import BookingError
from appointments.booking import PreCheckAnswers
from campus import encryption
from screening.scoring import load_instrument

KEY = "refused_precheck"


@dataclass(frozen=True)
class KeptCheck:
    """A refused pre-check as the page shows it again: the form's token (so the check already
    stored is re-used, not raised twice), the answers, their problems (English source
    messages) and whether a safety answer was among them."""

    token: str
    answers: PreCheckAnswers
    problems: list[str] = field(default_factory=list)
    params: dict[str, object] = field(default_factory=dict)
    safety: bool = False


def keep(
    user_id: int, slot_id: int, token: str, answers: PreCheckAnswers, refused: BookingError
) -> None:
    """Keep what the refused POST was told, in place of any refusal kept before. Only a refused
    pre-check's own problems are kept: what is wrong with the time (taken, past, a booking
    already held) the page asks again when it is shown, so it never repeats a stale refusal."""
    own = refused.code == "precheck"
    kept = {
        "user": user_id,
        "slot": slot_id,
        "token": token,
        # Bounded, so a forged form cannot grow the cookie past what a browser keeps (it would
        # drop the sign-in with it): the reason cut a little past its limit, answers only to
        # the questions asked.
        "reason": answers.reason[: REASON_MAX * 2],
        "phq2": _asked(PHQ2, answers.phq2),
        "gad2": _asked(GAD2, answers.gad2),
        "safety_answer": str(answers.safety)[:4] if answers.safety is not None else None,
        "problems": refused.problems if own else [],
        "params": refused.params if own else {},
        "safety": refused.safety,
        # The signal this refusal raised (or found raised) for the safety answer, so the same
        # answer sent again is not raised twice (`booking.book`'s `raised_signal_id`).
        "signal": refused.safety_signal_id,
    }
    session[KEY] = encryption.encrypt(json.dumps(kept, ensure_ascii=False))


def kept(user_id: int, slot_id: int) -> KeptCheck | None:
    """The refusal kept for this account and time, None when there is none (or it is older
    than an idle session lives, or for another account or time)."""
    data = _data(user_id)
    if data is None or data.get("slot") != slot_id:
        return None
    answers = PreCheckAnswers(
        reason=str(data["reason"]),
        phq2={int(k): v for k, v in data["phq2"].items()},
        gad2={int(k): v for k, v in data["gad2"].items()},
        safety=data["safety_answer"],
    )
    return KeptCheck(
        str(data["token"]), answers, list(data["problems"]), dict(data["params"]), data["safety"]
    )


def raised_signal(user_id: int, form_token: str | None) -> int | None:
    """The safety signal the kept refusal of this account's form `form_token` raised, whichever
    time the form books now (the page offers the next free times with the same form)."""
    data = _data(user_id)
    if data is None or not form_token or data.get("token") != form_token:
        return None
    signal = data.get("signal")
    return signal if isinstance(signal, int) else None


def _data(user_id: int) -> dict | None:
    """The kept refusal of this account, while it is readable."""
    token = session.get(KEY)
    if not isinstance(token, str):
        return None
    try:
        data = json.loads(encryption.decrypt(token, ttl=_lifetime()))
    except (encryption.UnreadableField, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("user") == user_id else None


def forget() -> None:
    """Drop a kept refusal (the booking went through)."""
    session.pop(KEY, None)


def _asked(code: str, given: Mapping[int, object]) -> dict[str, str]:
    """The answers to the instrument's own questions, each as the short text posted."""
    asked = load_instrument(code).item_numbers
    return {str(n): str(v)[:4] for n, v in given.items() if n in asked}


def _lifetime() -> int:
    """Seconds a kept refusal stays readable: as long as an idle session lives."""
    return int(current_app.config["SESSION_IDLE_MINUTES"]) * 60
