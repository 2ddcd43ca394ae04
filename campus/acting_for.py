"""The institution an administrator acts for, shared by every admin page (campus and channels)."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask import abort
from flask import g
from flask import make_response
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_login import current_user
from sqlalchemy import select

from campus import admin
from campus.extensions import db
from campus.models import Institution
from campus.models import Role
from campus.scope import institution_ids

# The institution an administrator of several has chosen to act for, kept across their pages.
_ACTING_FOR = "admin_institution"


def admin_institution() -> Institution:
    """The institution the administrator acts for: their only one, or the one they chose (an
    `institution` query argument, remembered in the session). An administrator of several
    institutions who has not chosen gets the choice, never a guess."""
    return chosen_institution(admin.administered_institutions(db.session, current_user))


def institution_for(*roles: Role) -> Institution:
    """The institution the user acts for on a page of `roles`: the one where they hold them, or
    the one they chose among several (a new campaign, the crisis settings)."""
    reach = db.session.scalars(
        select(Institution)
        .where(Institution.id.in_(institution_ids(current_user, *roles)))
        .order_by(Institution.id)
    ).all()
    return chosen_institution(list(reach))


def chosen_institution(choices: list[Institution]) -> Institution:
    """The one of `choices` the user acts for: the only one, or the one they chose, as
    `admin_institution` and `institution_for` ask."""
    if not choices:
        abort(403)
    if len(choices) == 1:
        return choices[0]
    wanted = request.args.get("institution", type=int) or session.get(_ACTING_FOR)
    for institution in choices:
        if institution.id == wanted:
            session[_ACTING_FOR] = institution.id
            g.acting_for = institution  # the admin pages say whom they act for, and offer a change
            return institution
    if request.method == "GET":
        abort(
            institution_choice(choices, request.endpoint or "campus.users", request.view_args or {})
        )
    # A form sent without a chosen institution is not carried out: choose, then start again.
    abort(institution_choice(choices, "campus.users", {}, status=409))


def institution_choice(
    choices: list[Institution], endpoint: str, args: dict[str, Any], status: int = 200
) -> Response:
    """The page offering each of `choices`, linking to `endpoint` for that institution."""
    links = [(i, url_for(endpoint, **args, institution=i.id)) for i in choices]
    page = render_template("campus/choose_institution.html", links=links)
    return make_response(page, status)
