"""Settings of the test CAS server, read from the environment the fixture starts it with.

IDP_DATA_DIR   folder of its SQLite database (a temporary folder of the test session)
IDP_ADMIN_TOKEN  the token the fixture sends to the test-only admin endpoint (/_admin/users)
"""

import os
from pathlib import Path

DATA_DIR = Path(os.environ["IDP_DATA_DIR"])
ADMIN_TOKEN = os.environ["IDP_ADMIN_TOKEN"]

SECRET_KEY = os.environ.get("IDP_SECRET_KEY") or ADMIN_TOKEN
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "cas_project.urls"
WSGI_APPLICATION = "cas_project.wsgi.application"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "mama_cas",
    "cas_project",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Our copy of mama-cas's base page (no CDN) comes before the one in its package.
        "DIRS": [Path(__file__).resolve().parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(DATA_DIR / "cas.sqlite3"),
        # gunicorn's threads share the file; wait for a writer rather than fail.
        "OPTIONS": {"timeout": 20},
    }
}
# A throwaway server: a fast hash keeps adding users cheap.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Any service on the loopback interface may ask for tickets; each is sent the attributes stored
# for the user (cas_project.attributes) and, when the user signs out at the CAS server, a SAML
# LogoutRequest POSTed to the service URL (single logout). Other services are refused.
MAMA_CAS_SERVICES = [
    {
        "SERVICE": r"^https?://(127\.0\.0\.1|localhost)(:\d+)?/",
        "CALLBACKS": ["cas_project.attributes.released"],
        "LOGOUT_ALLOW": True,
    }
]
MAMA_CAS_TICKET_EXPIRE = int(os.environ.get("IDP_TICKET_EXPIRE", "90"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "mama_cas": {"handlers": ["console"], "level": "INFO"},
        # A failing request's traceback goes to the server's log, which a failed fixture shows.
        "django.request": {"handlers": ["console"], "level": "ERROR"},
    },
}
