"""Entry point for gunicorn: `gunicorn wsgi:app`."""

from campus import create_app

app = create_app()
