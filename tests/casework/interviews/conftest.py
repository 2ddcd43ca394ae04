"""The interview-list tests' school after a screening campaign (`tests.casework.interview_world`):
one `world` and its two listed entries for every module here, instead of a copy in each."""

from __future__ import annotations

import pytest

from tests.casework import interview_world as w


@pytest.fixture
def world(campus) -> w.World:
    return w.build(campus)


@pytest.fixture
def listed(world):
    return w.listed(world)
