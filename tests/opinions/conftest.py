"""Opinion map fixtures: English pages (assertions read msgids), a staff member, a topic."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def app_config() -> dict:
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def staff(make_user):
    return make_user("admin", name="Ada Admin")


@pytest.fixture
def topic(make_topic, staff):
    return make_topic(author=staff)
