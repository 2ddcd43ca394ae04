"""Booking's part of the appointments domain's registration: its blueprint, the students' nav
entry and its button on the home page's help card, and the template globals the staff pages use
for "book for this student"."""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext as _

from appointments import booking
from appointments import booking_permissions
from appointments import booking_views
from appointments import change_permissions
from campus import nav
from campus.models import Role


def register_booking(app: Flask) -> None:
    """Register the booking pages; called from `appointments.registration.register`."""
    app.register_blueprint(booking_views.bp)
    app.add_template_global(booking_permissions.may_book_for_anyone, "may_book_for_anyone")
    # The staff booking page: a student already at the open-appointment limit, and whether the
    # viewer may open and move that appointment (the centre) or must ask the centre to.
    app.add_template_global(booking.at_open_limit, "at_booking_limit")
    app.add_template_global(change_permissions.acts_for_centre, "acts_for_centre")
    nav.register(app, lambda: _("Book counselling"), "booking.book_list", {Role.STUDENT}, order=15)
    nav.register_help(app, lambda: _("Book counselling"), "booking.book_list")
