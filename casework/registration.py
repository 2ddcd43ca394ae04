"""The casework domain's pages, commands, navigation entries and sweeps, declared in one place."""

from __future__ import annotations

from flask import Flask
from flask_login import current_user


def register(app: Flask) -> None:
    """Register casework's blueprints, navigation and sweeps."""
    _register_student_file(app)


# --------------------------------------------------------------------------------------------------
# The student file, family contacts and printed documents (issue #17 sections 1, 4, 5)
# --------------------------------------------------------------------------------------------------


def _register_student_file(app: Flask) -> None:
    from campus import workbench
    from casework import file_sections, file_views, file_workbench
    from casework.file_forms import (
        ENROLMENT_LABELS,
        GENDER_LABELS,
        agreement_words,
    )
    from casework.file_permissions import FAMILY_FIGURE_ROLES, may_open_file

    for blueprint in (file_views.bp, file_views.family_bp, file_views.reports_bp):
        app.register_blueprint(blueprint)
    file_sections.register(app)
    app.jinja_env.globals.update(
        may_open_file=lambda student: may_open_file(current_user, student),
        band_word=file_sections.band_word,
        agreement_words=agreement_words,
        gender_labels=GENDER_LABELS,
        enrolment_labels=ENROLMENT_LABELS,
    )
    workbench.register(app, file_workbench.family_figure, set(FAMILY_FIGURE_ROLES), order=45)
