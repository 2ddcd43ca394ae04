# Flask-Migrate 4: only what `campus` uses.
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

class Migrate:
    def __init__(
        self,
        app: Flask | None = None,
        db: SQLAlchemy | None = None,
        directory: str = "migrations",
        *,
        render_as_batch: bool | None = None,
        compare_type: bool | None = None,
    ) -> None: ...
