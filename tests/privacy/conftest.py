"""Privacy fixtures: English pages; budgets' process fixtures for ballots in exports and
deletions."""

from __future__ import annotations

import pytest

from tests.budgets.conftest import (  # noqa: F401  (fixtures)
    advance,
    extra_config,
    make_process,
    staff,
    voting_process,
)
from tests.conftest import builds_app


@pytest.fixture
def app_config(extra_config) -> dict:  # noqa: F811
    return {"BABEL_DEFAULT_LOCALE": "en", **extra_config}


@pytest.fixture(autouse=True)
def _english(request) -> None:
    if builds_app(request):
        request.getfixturevalue("client").set_cookie("lang", "en")
