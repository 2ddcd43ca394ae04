"""The counselling centre's on-duty phone, as students are given it: beside the crisis hotline,
on a refused booking, in an invitation, on a printed report."""

from __future__ import annotations

from flask import current_app

from campus.models import Institution


def on_duty_phone(institution: Institution | None) -> str:
    """The institution's own on-duty number, else the configured one (`CENTRE_ON_DUTY_PHONE`):
    a student told to call the centre is always given a number."""
    own = institution.on_duty_phone if institution is not None else None
    return str(own or current_app.config["CENTRE_ON_DUTY_PHONE"])
