"""Each domain declares what it adds to the app in its `registration.py`, and nowhere else."""

from __future__ import annotations

import importlib

import pytest
from flask import Flask

from campus import DOMAINS
from campus.scheduler import registered_sweeps


def test_every_blueprint_but_the_root_pages_declares_its_url_prefix(app):
    # The kernel's blueprint serves the root pages (/, /login, /admin/...), so it has no prefix.
    unprefixed = sorted(name for name, bp in app.blueprints.items() if not bp.url_prefix)
    assert unprefixed == ["campus"]


def test_referrals_registration_alone_adds_its_pages_command_navigation_and_sweep():
    bare = Flask(__name__)
    importlib.import_module("referrals.registration").register(bare)
    assert set(bare.blueprints) == {
        "referrals",
        "liaison",
        "hospitals",
        "leave",
        "closure",
        "referral_documents",
        "liaison_documents",
    }
    assert "referrals" in bare.cli.commands
    assert {e.endpoint for e in bare.extensions["xinqiao_nav"]} == {
        "referrals.index",
        "leave.index",
        "liaison.index",
        "closure.index",
        "hospitals.index",
    }
    assert sorted(registered_sweeps(bare)) == [
        "referrals.green_channel",
        "referrals.plan_owner_gone",
    ]


@pytest.mark.parametrize("domain", DOMAINS)
def test_a_domains_sweeps_are_named_for_it(domain):
    bare = Flask(__name__)
    importlib.import_module(f"{domain}.registration").register(bare)
    prefix = "notifications" if domain == "campus" else domain
    assert all(name.startswith(f"{prefix}.") for name in registered_sweeps(bare))
