"""Two-factor sign-in: who must give a code from an authenticator app (TOTP), the codes, the
single-use recovery codes, and an administrator's reset.

The rules here are plain functions; the pages are in `campus/mfa_views.py`. A sign-in that needs
a second factor is *pending* between the password and the code: it is a note in the browser's
signed cookie (`pending_state`), never a server-side session, which `campus.auth.start_session`
creates only once the code is accepted.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pyotp
import segno
from flask import current_app
from pyotp.utils import strings_equal
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus import audit
from campus import auth
from campus import encryption
from campus.encryption import UnreadableField
from campus.extensions import rows_changed
from campus.extensions import set_once
from campus.i18n import N_
from campus.i18n import Message
from campus.models import Institution
from campus.models import MfaPolicy
from campus.models import RecoveryCode
from campus.models import Role
from campus.models import TotpEnrolment
from campus.models import User

STEP_SECONDS = 30
# A code of the step before or after "now" is accepted: a phone's clock a little off still works.
WINDOW = 1
# A code up to ten minutes old is "expired" rather than "wrong": the person typed an old one.
EXPIRED_STEPS = 20
RECOVERY_CODE_COUNT = 10
# Letters and digits a person cannot mistake for one another when typing from paper.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 10


class Problem(enum.StrEnum):
    """Why a code was refused; the audit row's detail."""

    WRONG = "wrong"
    EXPIRED = "expired"
    REPLAYED = "replayed"
    USED_RECOVERY = "recovery_code_used"
    ALREADY_ENROLLED = "already_enrolled"


PROBLEM_MESSAGES = {
    Problem.WRONG: N_("That code is not right. Type the six digits your app shows now."),
    Problem.EXPIRED: N_(
        "That code has expired. Type the code your app shows now; if it keeps failing, check "
        "that your phone's time is set automatically."
    ),
    Problem.REPLAYED: N_(
        "That code has already been used. Wait for your app to show a new one and type that."
    ),
    Problem.USED_RECOVERY: N_("That recovery code has already been used."),
    Problem.ALREADY_ENROLLED: N_("Two-factor sign-in is already set up for this account."),
}


class CodeRefused(Exception):
    """A code that does not let the person in; `message` says why in words they can act on."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.message = Message(PROBLEM_MESSAGES[problem])


class SecondStep(enum.StrEnum):
    """What a sign-in still needs after the password."""

    VERIFY = "verify"  # a code from the enrolled app, or a recovery code
    ENROL = "enrol"  # the app must be set up first: the role requires it


# --- who must ---------------------------------------------------------------------------------


def default_roles() -> frozenset[Role]:
    """The configured roles that must use a second factor (MFA_REQUIRED_ROLES)."""
    return frozenset(Role(value) for value in current_app.config["MFA_REQUIRED_ROLES"])


def required_roles(session: Session, institution_id: int) -> frozenset[Role]:
    """The roles of the institution that must sign in with a second factor: its
    administrator's choice, or the configured default when none was made."""
    policy = session.scalar(select(MfaPolicy).where(MfaPolicy.institution_id == institution_id))
    return default_roles() if policy is None else policy.roles


def required_for(session: Session, user: User, *, idp_enforces_mfa: bool) -> bool:
    """Whether `user` must give a second factor here. Not when they came through their
    institution's campus sign-on and it has declared that its identity provider already
    enforces one (`idp_enforces_mfa`): they have given it there."""
    if idp_enforces_mfa:
        return False
    roles = required_roles(session, user.institution_id)
    return any(assignment.role in roles for assignment in user.roles)


def second_step(session: Session, user: User, *, idp_enforces_mfa: bool) -> SecondStep | None:
    """What a sign-in whose password (or campus sign-on) was right still needs: a code from an
    app set up earlier (required or chosen), the set-up itself (required, not yet done), or
    nothing."""
    if idp_enforces_mfa:
        return None
    if enrolment_of(session, user) is not None:
        return SecondStep.VERIFY
    if required_for(session, user, idp_enforces_mfa=False):
        return SecondStep.ENROL
    return None


def enrolment_of(session: Session, user: User) -> TotpEnrolment | None:
    return session.scalar(select(TotpEnrolment).where(TotpEnrolment.user_id == user.id))


def recovery_codes_left(session: Session, user: User) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


# --- the pending sign-in ----------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """A sign-in between the password and the second factor."""

    user_id: int
    step: SecondStep
    # The account as sign-in named it (`auth.account_key`): code guesses count against the same
    # throttle as password guesses.
    institution_code: str
    login: str
    since: datetime

    def as_cookie(self) -> dict[str, object]:
        return {
            "user_id": self.user_id,
            "step": self.step.value,
            "institution": self.institution_code,
            "login": self.login,
            "since": self.since.isoformat(),
        }


def begin(
    session: Session, user: User, step: SecondStep, institution_code: str, now: datetime
) -> Pending:
    """A sign-in whose password was right, waiting for `step`: audited (outcome "pending") and
    committed; no session starts."""
    detail = f"password right; second factor: {step.value}"
    auth.record_own(session, user, "sign_in", outcome="pending", detail=detail)
    session.commit()
    code, login = auth.account_key(institution_code, user.login)
    return Pending(user.id, step, code, login, now)


def read_pending(stored: object) -> Pending | None:
    """The pending sign-in a cookie holds, or None for anything else (absent or malformed)."""
    if not isinstance(stored, dict):
        return None
    try:
        return Pending(
            user_id=int(stored["user_id"]),
            step=SecondStep(stored["step"]),
            institution_code=str(stored["institution"]),
            login=str(stored["login"]),
            since=datetime.fromisoformat(str(stored["since"])),
        )
    except (KeyError, ValueError, TypeError):
        return None


def is_expired(pending: Pending, now: datetime, minutes: int) -> bool:
    return now - pending.since > timedelta(minutes=minutes)


def audit_refusal(
    session: Session,
    user: User | None,
    problem: Problem | str,
    user_id: int | None = None,
    action: str = "sign_in_code",
) -> None:
    """Audit a code that was refused (by default at sign-in's second step), and commit."""
    auth.record_own(session, user, action, outcome="denied", detail=str(problem), user_id=user_id)
    session.commit()


# --- secrets ----------------------------------------------------------------------------------


def encrypt(text: str) -> str:
    """Encrypt a value the browser's session holds between two steps (a secret being set up,
    recovery codes not yet saved) with the field-encryption keys (`campus.encryption`)."""
    return encryption.encrypt(text)


def decrypt(token: str) -> str | None:
    """The text `encrypt` made, or None for a token no configured key opens."""
    try:
        return encryption.decrypt(token)
    except UnreadableField:
        return None


def new_secret() -> str:
    return pyotp.random_base32()


def grouped(secret: str) -> str:
    """The secret in groups of four letters, to type into an app that cannot scan."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_data_uri(secret: str, login: str, institution: Institution) -> str:
    """The app's set-up as a QR code, an SVG `data:` URI (the page's CSP allows those images):
    the institution is the issuer, the login the account name."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=login, issuer_name=institution.name)
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


# --- codes ------------------------------------------------------------------------------------


def step_at(moment: datetime) -> int:
    """The TOTP time step of a naive UTC moment."""
    return int(moment.replace(tzinfo=UTC).timestamp()) // STEP_SECONDS


def code_at(secret: str, moment: datetime) -> str:
    """The code an app shows at `moment` (tests and the set-up page's check use it)."""
    return pyotp.TOTP(secret).at(moment.replace(tzinfo=UTC))


def _normal_digits(code: str) -> str:
    return "".join(code.split())


def matching_step(secret: str, code: str, now: datetime) -> int:
    """The time step within the window whose code `code` is; raises `CodeRefused` (wrong or
    expired) when there is none."""
    totp, digits, current = pyotp.TOTP(secret), _normal_digits(code), step_at(now)
    if len(digits) == totp.digits and digits.isdigit():
        for step in range(current - WINDOW, current + WINDOW + 1):
            if strings_equal(totp.generate_otp(step), digits):
                return step
        for step in range(current - EXPIRED_STEPS, current - WINDOW):
            if strings_equal(totp.generate_otp(step), digits):
                raise CodeRefused(Problem.EXPIRED)
    raise CodeRefused(Problem.WRONG)


def use_code(session: Session, user: User, code: str, now: datetime) -> None:
    """Accept a code of `user`'s app once: its time step is claimed in the database, so the same
    code (or an older one) sent again, even at the same moment, is refused as replayed. Raises
    `CodeRefused`; writes no audit row (the caller says what the code was for)."""
    enrolment = enrolment_of(session, user)
    secret = enrolment.secret if enrolment else None
    if enrolment is None or secret is None:
        raise CodeRefused(Problem.WRONG)
    step = matching_step(secret, code, now)
    claimed = rows_changed(
        session,
        update(TotpEnrolment)
        .where(
            TotpEnrolment.id == enrolment.id,
            (TotpEnrolment.last_used_step.is_(None)) | (TotpEnrolment.last_used_step < step),
        )
        .values(last_used_step=step)
        .execution_options(synchronize_session=False),
    )
    if not claimed:
        raise CodeRefused(Problem.REPLAYED)


def looks_like_app_code(code: str) -> bool:
    digits = _normal_digits(code)
    return digits.isdigit() and len(digits) <= 8


def _normal_recovery(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def use_recovery_code(session: Session, user: User, code: str, now: datetime) -> int:
    """Spend one of `user`'s recovery codes; returns how many are left. Raises `CodeRefused`
    for a code that is not one of theirs or was spent before (claimed in the database, so two
    sign-ins racing with one code do not both get in)."""
    typed = _normal_recovery(code)
    rows = session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all()
    for row in rows:
        if typed and auth.matches_hash(row.code_hash, typed):
            if not set_once(session, RecoveryCode.used_at, row.id, used_at=now):
                raise CodeRefused(Problem.USED_RECOVERY)
            return sum(1 for other in rows if other.used_at is None and other.id != row.id)
    raise CodeRefused(Problem.WRONG)


def verify_sign_in(session: Session, user: User, code: str, now: datetime) -> int | None:
    """Check the second factor of a pending sign-in: a code from the app, else a recovery code.
    Returns None for an app code, or how many recovery codes are left after the one spent;
    raises `CodeRefused` (the caller audits the refusal)."""
    if looks_like_app_code(code):
        use_code(session, user, code, now)
        return None
    return use_recovery_code(session, user, code, now)


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def _replace_recovery_codes(session: Session, user: User, now: datetime) -> list[str]:
    """New recovery codes for `user`, the old ones void, in the unit of work; the codes are
    returned to be shown once and stored only as hashes."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(
        RecoveryCode(
            user_id=user.id, code_hash=auth.hash_password(_normal_recovery(c)), created_at=now
        )
        for c in codes
    )
    return codes


# --- enrolment, recovery codes, reset, policy -------------------------------------------------


def enrol(session: Session, user: User, secret: str, code: str, now: datetime) -> list[str]:
    """Save `secret` as `user`'s second factor once `code` proves their app makes its codes,
    with new recovery codes (returned, to be shown once); audited and committed. Raises
    `CodeRefused` for a wrong code, or when an app was set up meanwhile (a second tab, a double
    submit): nothing is written then."""
    step = matching_step(secret, code, now)
    if enrolment_of(session, user) is not None:
        raise CodeRefused(Problem.ALREADY_ENROLLED)
    session.add(TotpEnrolment(user_id=user.id, secret=secret, enrolled_at=now, last_used_step=step))
    codes = _replace_recovery_codes(session, user, now)
    audit.record(session, actor=user, action="mfa_enrol", record_type="user", record_id=user.id)
    try:
        session.commit()
    except IntegrityError as error:  # the other submit saved its enrolment first
        session.rollback()
        raise CodeRefused(Problem.ALREADY_ENROLLED) from error
    return codes


def regenerate_recovery_codes(session: Session, user: User, code: str, now: datetime) -> list[str]:
    """New recovery codes for `user`, the old ones void, against a current code from their app
    (a borrowed session alone must not get them); audited and committed."""
    use_code(session, user, code, now)
    codes = _replace_recovery_codes(session, user, now)
    audit.record(
        session, actor=user, action="mfa_recovery_codes", record_type="user", record_id=user.id
    )
    session.commit()
    return codes


def reset(session: Session, admin: User, user: User) -> None:
    """An administrator's reset: `user`'s app and recovery codes are forgotten and every session
    of theirs ends; they set an app up again at their next sign-in (if their role requires it).
    Audited; commits."""
    session.execute(delete(TotpEnrolment).where(TotpEnrolment.user_id == user.id))
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    auth.end_all_sessions(session, user)
    audit.record(session, actor=admin, action="mfa_reset", record_type="user", record_id=user.id)
    session.commit()


def set_required_roles(
    session: Session, admin: User, institution: Institution, roles: set[Role], now: datetime
) -> None:
    """Record the institution's own choice of roles that must use a second factor; audited
    (with the roles chosen) and committed. It applies from each person's next sign-in."""
    policy = session.scalar(select(MfaPolicy).where(MfaPolicy.institution_id == institution.id))
    if policy is None:
        policy = MfaPolicy(institution_id=institution.id)
        session.add(policy)
    value = ",".join(sorted(role.value for role in roles))
    policy.required_roles, policy.updated_at, policy.updated_by_id = value, now, admin.id
    audit.record_on(
        session,
        institution,
        actor=admin,
        action="mfa_policy",
        record_type="institution",
        detail=value or "none",
    )
    session.commit()


def is_enrolled(session: Session, user: User) -> bool:
    return enrolment_of(session, user) is not None
