"""Configuration classes, read from environment variables.

`create_app` picks a class by the `XINQIAO_CONFIG` variable (development, test, production); every
setting that differs between machines comes from the environment so one image serves every host.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Settings shared by every environment."""

    SECRET_KEY = _env("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = _env(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'xinqiao.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # OWASP's argon2id profile (19 MiB, 2 passes, 1 lane): the library default (64 MiB, 3 passes,
    # 4 lanes) cost ~750 ms a sign-in on a 2-core host, which a screening day of 200 students
    # signing in at once cannot afford. Hashes made at another cost are redone at the next sign-in.
    PASSWORD_HASH_COST = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}
    # A streaming replica for the oversight aggregates (campus.replica); empty: the primary.
    DATABASE_REPLICA_URL = _env("DATABASE_REPLICA_URL", "")
    # Institution's zone for display; the database stores naive UTC.
    DISPLAY_TIMEZONE = _env("DISPLAY_TIMEZONE", "Asia/Shanghai")

    BABEL_DEFAULT_LOCALE = "zh_CN"
    LANGUAGES = ("zh_CN", "en")
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")

    # Sign-in and session hardening.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    SESSION_IDLE_MINUTES = _env_int("SESSION_IDLE_MINUTES", 30)
    REMEMBER_COOKIE_DURATION = 0
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    PASSWORD_MIN_LENGTH = 10
    BREAK_GLASS_MINUTES = _env_int("BREAK_GLASS_MINUTES", 60)
    # Two-factor sign-in (campus.mfa): the roles that must use an authenticator app unless their
    # institution's administrator chose otherwise; how long the step between password and code
    # may take. The apps' secrets are encrypted with the field-encryption keys below.
    MFA_REQUIRED_ROLES = tuple(
        r.strip()
        for r in (_env("MFA_REQUIRED_ROLES", "school_counsellor,director,admin") or "").split(",")
        if r.strip()
    )
    MFA_PENDING_MINUTES = _env_int("MFA_PENDING_MINUTES", 5)

    # Clinical free text is stored encrypted (campus.encryption) with these Fernet keys, newest
    # first: a file of one key per line, or a comma-separated list. Development and tests derive
    # one from SECRET_KEY; production refuses to start without one (docs/deploy.md, "Keys").
    FIELD_ENCRYPTION_KEY_FILE = _env("FIELD_ENCRYPTION_KEY_FILE", "")
    FIELD_ENCRYPTION_KEYS = _env("FIELD_ENCRYPTION_KEYS", "")

    # Rate limits: memory:// is per process; use redis:// when more than one worker serves.
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = _env("LOGIN_RATE_LIMIT", "5 per minute")
    TALISMAN_FORCE_HTTPS = _env_bool("FORCE_HTTPS", False)
    # Campus sign-on (CAS, OpenID Connect): every call to the campus service gives up after this.
    SIGN_ON_TIMEOUT_SECONDS = _env_int("SIGN_ON_TIMEOUT_SECONDS", 5)
    # How many reverse proxies (nginx, a load balancer) stand in front of the app: their
    # X-Forwarded-For/Proto/Host are trusted that many hops deep, so throttling and the audit trail
    # see the student's address, not the proxy's. 0 (the default) trusts none.
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)

    # Crisis resources shown to a student after a safety answer.
    CRISIS_HOTLINE = _env("CRISIS_HOTLINE", "400-161-9995")
    # Empty: the page shows its own translated label for the hotline.
    CRISIS_HOTLINE_NAME = _env("CRISIS_HOTLINE_NAME", "")
    # The counselling centre's on-duty phone for every campus of the deployment that has not
    # given its own (institution settings). Empty by default: a made-up number is one nobody
    # answers, so without one the crisis pages give the hotline and 120/110 alone.
    CENTRE_ON_DUTY_PHONE = _env("CENTRE_ON_DUTY_PHONE", "")
    # Post-screening interview rules of one institution: <dir>/<institution code>.yaml replaces
    # casework/interview_rules/default.yaml for that institution (casework/interview_rules.py).
    INTERVIEW_RULES_DIR = _env("INTERVIEW_RULES_DIR")
    # Retention schedule of one institution: <dir>/<institution code>.yaml over
    # privacy/retention/default.yaml (privacy/schedule.py); rows per purge transaction.
    RETENTION_DIR = _env("RETENTION_DIR")
    RETENTION_BATCH_SIZE = _env_int("RETENTION_BATCH_SIZE", 500)
    # Counselling appointments' changes (appointments/changes.py, waitlist.py): a student cancels
    # or reschedules freely until BOOKING_CANCEL_HOURS before the start; later, a cancellation is
    # still allowed but recorded late and counts with no-shows. NO_SHOW_LIMIT misses within
    # NO_SHOW_WINDOW_DAYS leave booking to the centre (staff) until the director lifts it.
    BOOKING_CANCEL_HOURS = _env_int("BOOKING_CANCEL_HOURS", 24)
    BOOKING_RESCHEDULES_MAX = _env_int("BOOKING_RESCHEDULES_MAX", 2)
    NO_SHOW_LIMIT = _env_int("NO_SHOW_LIMIT", 2)
    NO_SHOW_WINDOW_DAYS = _env_int("NO_SHOW_WINDOW_DAYS", 180)
    # Reminders, hours before an appointment, each sent once (comma-separated).
    BOOKING_REMINDER_HOURS = _env("BOOKING_REMINDER_HOURS", "24,2")
    # A freed time is held this long for the waitlisted student it is offered to (never past
    # the time's start).
    WAITLIST_OFFER_HOURS = _env_int("WAITLIST_OFFER_HOURS", 12)

    # Mail: the outbox is delivered by the scheduler with retries.
    MAIL_SERVER = _env("MAIL_SERVER", "localhost")
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USERNAME = _env("MAIL_USERNAME")
    MAIL_PASSWORD = _env("MAIL_PASSWORD")
    MAIL_SENDER = _env("MAIL_SENDER", "xinqiao@localhost")
    MAIL_ENABLED = _env_bool("MAIL_ENABLED", False)
    MAIL_TIMEOUT_SECONDS = _env_int("MAIL_TIMEOUT_SECONDS", 20)
    # Links in mail point here (e.g. https://xinqiao.example.edu.cn); mail never carries details.
    MAIL_LINK_BASE = _env("MAIL_LINK_BASE", "http://127.0.0.1:5000")
    # A password reset link (sent only while MAIL_ENABLED) works this long, and once.
    PASSWORD_RESET_MINUTES = _env_int("PASSWORD_RESET_MINUTES", 60)
    # The address printed on activation slips for students to type (e.g.
    # https://xinqiao.example.edu.cn); empty: the address the issuer's own browser used.
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL", "")
    # Chat robots and the SMS gateway (campus.channels): the same outbox, given up on after
    # CHANNEL_MAX_ATTEMPTS failures (mail is retried until it goes).
    CHANNEL_TIMEOUT_SECONDS = _env_int("CHANNEL_TIMEOUT_SECONDS", 10)
    CHANNEL_MAX_ATTEMPTS = _env_int("CHANNEL_MAX_ATTEMPTS", 8)
    # The SMS gateway's JSON body: "{phone}" and "{text}" in its values are filled in; the
    # channel's secret is sent in this header.
    SMS_GATEWAY_BODY_TEMPLATE = _env(
        "SMS_GATEWAY_BODY_TEMPLATE", '{"phone": "{phone}", "text": "{text}"}'
    )
    SMS_GATEWAY_AUTH_HEADER = _env("SMS_GATEWAY_AUTH_HEADER", "Authorization")

    SCHEDULER_ENABLED = _env_bool("SCHEDULER_ENABLED", False)
    SCHEDULER_SWEEP_SECONDS = _env_int("SCHEDULER_SWEEP_SECONDS", 60)
    # The leader lease outlives a few missed ticks, so a slow sweep does not hand over leadership.
    SCHEDULER_LEASE_SECONDS = _env_int("SCHEDULER_LEASE_SECONDS", 180)

    # Early warning: when a registrar record means academic difficulty (any one suffices).
    WARNING_ACADEMIC_THRESHOLDS: dict = {
        "failed_credits": _env_float("WARNING_ACADEMIC_FAILED_CREDITS", 10.0),
        "absence_rate": _env_float("WARNING_ACADEMIC_ABSENCE_RATE", 0.2),
        "academic_warning": _env_bool("WARNING_ACADEMIC_WARNING_COUNTS", True),
    }

    # Recovery: a referral without an update this long is stalled; a green-channel referral must
    # be booked within its hours; closure is expected within its days.
    REFERRAL_STALLED_DAYS = _env_int("REFERRAL_STALLED_DAYS", 14)
    REFERRAL_GREEN_CHANNEL_HOURS = _env_int("REFERRAL_GREEN_CHANNEL_HOURS", 24)
    REFERRAL_EXPECTED_CLOSURE_DAYS = _env_int("REFERRAL_EXPECTED_CLOSURE_DAYS", 90)

    # Province view: groups smaller than this are suppressed. Its figures come from snapshots the
    # scheduler recomputes every REFRESH minutes; one older than MAX_AGE (scheduler stopped) is
    # recomputed when asked for; a period nobody has opened for KEEP days is no longer kept.
    SMALL_GROUP_THRESHOLD = _env_int("SMALL_GROUP_THRESHOLD", 10)
    PROVINCE_REFRESH_MINUTES = _env_int("PROVINCE_REFRESH_MINUTES", 15)
    PROVINCE_MAX_AGE_MINUTES = _env_int("PROVINCE_MAX_AGE_MINUTES", 60)
    PROVINCE_KEEP_DAYS = _env_int("PROVINCE_KEEP_DAYS", 30)
    PAGE_SIZE = 25

    # Export rights per role (campus.export_rights): none, aggregates, deidentified or identified;
    # a role not named exports nothing. EXPORT_TIER_<ROLE> overrides one, e.g. EXPORT_TIER_ADMIN.
    EXPORT_TIERS: dict = {
        role: (_env(f"EXPORT_TIER_{role.upper()}", default) or default).strip().lower()
        for role, default in {
            "director": "identified",
            "admin": "deidentified",
            "province_auditor": "aggregates",
        }.items()
    }
    # Access that ends: the holder of a role with an end date and the administrators are told this
    # many days before its last day; a termly access review is due this many days after it opens.
    ROLE_END_NOTICE_DAYS = _env_int("ROLE_END_NOTICE_DAYS", 14)
    ACCESS_REVIEW_DAYS = _env_int("ACCESS_REVIEW_DAYS", 30)

    # Uploads: a larger request body is refused with a 413 page before it is read; each import
    # refuses a file with more data rows than its limit (campus.spreadsheets) and imports nothing.
    MAX_CONTENT_LENGTH = _env_int("MAX_UPLOAD_MB", 10) * 1024 * 1024
    IMPORT_MAX_ROWS: dict = {
        "roster": _env_int("ROSTER_IMPORT_MAX_ROWS", 50_000),
        "screening_results": _env_int("RESULTS_IMPORT_MAX_ROWS", 50_000),
        "academic": _env_int("ACADEMIC_IMPORT_MAX_ROWS", 100_000),
    }
    # Signed scans of crisis hand-over documents (casework.scans): kept outside the web root, in
    # this folder (empty: the instance folder's crisis_scans), each at most this large.
    CRISIS_SCAN_DIR = _env("CRISIS_SCAN_DIR", "")
    CRISIS_SCAN_MAX_MB = _env_float("CRISIS_SCAN_MAX_MB", 5.0)
    # Counselling appointments: a sweep opens each counsellor's slots this many weeks ahead
    # (this week and the next BOOKING_OPENS_WEEKS_AHEAD, from the weekly templates).
    BOOKING_OPENS_WEEKS_AHEAD = _env_int("BOOKING_OPENS_WEEKS_AHEAD", 2)
    # Counselling appointments (appointments.booking): how many live future appointments one
    # student may hold at once, and how far ahead the booking page lists free times.
    BOOKING_MAX_OPEN = _env_int("BOOKING_MAX_OPEN", 1)
    BOOKING_DAYS_AHEAD = _env_int("BOOKING_DAYS_AHEAD", 14)


class DevelopmentConfig(Config):
    DEBUG = False


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"  # noqa: S105 - tests only
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL", "sqlite:///:memory:")
    WTF_CSRF_ENABLED = _env_bool("TEST_CSRF", False)
    SERVER_NAME = "localhost"
    SCHEDULER_ENABLED = False
    # The suite signs in thousands of times on each database: at OWASP's cost that was a tenth
    # of its time. What the tests check of hashing (a right or wrong password, a hash made at
    # another cost redone at sign-in) does not depend on the cost.
    PASSWORD_HASH_COST = {"time_cost": 1, "memory_cost": 64, "parallelism": 1}
    # Scans uploaded by tests go to a scratch folder, never the work tree's instance folder.
    # One folder per test process: CI runs the SQLite and PostgreSQL suites side by side.
    CRISIS_SCAN_DIR = str(Path(tempfile.gettempdir()) / f"xinqiao-test-scans-{os.getpid()}")


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    TALISMAN_FORCE_HTTPS = _env_bool("FORCE_HTTPS", True)

    @classmethod
    def validate(cls) -> None:
        """Refuse to start production with the development secret or the embedded database."""
        if not os.environ.get("SECRET_KEY"):
            raise RuntimeError("SECRET_KEY must be set in production")
        if not os.environ.get("DATABASE_URL"):
            raise RuntimeError("DATABASE_URL must be set in production")
        if not (
            os.environ.get("FIELD_ENCRYPTION_KEY_FILE") or os.environ.get("FIELD_ENCRYPTION_KEYS")
        ):
            raise RuntimeError(
                "FIELD_ENCRYPTION_KEY_FILE (or FIELD_ENCRYPTION_KEYS) must be set in production: "
                "clinical notes are encrypted with it; `flask campus new-encryption-key` makes one"
            )


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}
