"""Citizen-budget fixtures: staff, and processes already in a phase with projects on the ballot."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from budgets import services
from budgets.models import BallotStyle, BudgetProcess, Idea, Phase
from forum.extensions import db
from forum.models import User, utcnow
from tests.conftest import builds_app

DATA = Path(__file__).resolve().parent / "data" / "pabulib"  # real elections (README there)


@pytest.fixture
def extra_config() -> dict:
    """Override in a test class to add configuration (moderation on, say)."""
    return {}


@pytest.fixture
def app_config(extra_config) -> dict:
    # English pages and amounts: the assertions read the English msgids, which stay put while
    # the Danish catalogue is refined.
    return {"BABEL_DEFAULT_LOCALE": "en", **extra_config}


@pytest.fixture
def staff(make_user) -> User:
    user = make_user("admin", name="Ada Admin")
    user.email_verified_at = utcnow()  # as accounts made by an admin are
    db.session.commit()
    return user


@pytest.fixture
def citizen(make_user) -> User:
    return make_user(name="Carl Citizen")


@pytest.fixture
def make_process(staff, make_area) -> Callable[..., BudgetProcess]:
    """A draft process (whole municipality, 1,000,000 DKK, greedy, approval within budget)."""

    def make(**settings) -> BudgetProcess:
        values = {
            "title": "Borgerbudget 2027",
            "description": "Hvad skal pengene bruges til?",
            "total_amount": 1_000_000,
            "rule": "greedy",
            "ballot_style": BallotStyle.APPROVAL_BUDGET,
        } | settings
        process = services.create_process(staff, **values)
        db.session.commit()
        return process

    return make


@pytest.fixture
def advance(staff) -> Callable[[BudgetProcess, Phase], None]:
    """Move a process on (as staff) until it reaches ``phase``."""

    def go(process: BudgetProcess, phase: Phase) -> None:
        order = list(Phase)
        while order.index(process.phase) < order.index(phase):
            services.advance_phase(staff, process)
        db.session.commit()

    return go


@pytest.fixture
def voting_process(make_process, make_area, staff, advance) -> Callable[..., BudgetProcess]:
    """A process in voting with feasible projects: ``projects`` is a list of (title, cost) or
    (title, cost, area); ideas get area ``area`` unless given (one area made if needed)."""

    def make(
        projects=(
            ("Legeplads i Tølløse", 400_000),
            ("Bænke ved havnen", 300_000),
            ("Shelter i skoven", 500_000),
        ),
        area=None,
        **settings,
    ) -> BudgetProcess:
        area = area or make_area()
        process = make_process(**settings)
        advance(process, Phase.IDEAS)
        for item in projects:
            title, cost = item[0], item[1]
            where = item[2] if len(item) > 2 else area
            idea = services.propose_idea(
                staff, process, title, f"Beskrivelse af {title}", cost, area_id=where.id
            )
            services.review_idea(staff, idea, True, "Kan lade sig gøre.")
        db.session.commit()
        advance(process, Phase.VOTING)
        return process

    return make


def ideas_of(process: BudgetProcess) -> list[Idea]:
    return list(
        db.session.scalars(db.select(Idea).where(Idea.process_id == process.id).order_by(Idea.id))
    )


@pytest.fixture(autouse=True)
def _english_pages(request):
    """These tests read English texts (pages and service messages); the site defaults to
    Danish. The counting and file-format tests build no app (``builds_app``)."""
    from flask_babel import force_locale

    if not builds_app(request):
        yield
        return
    request.getfixturevalue("client").set_cookie("lang", "en")
    with force_locale("en"):
        yield


@pytest.fixture
def as_author(app):
    """``as_author(user)``: a new test client logged in as ``user``."""

    def do(user: User):
        c = app.test_client()
        r = c.post("/login", data={"email": user.email, "password": "correct-horse-battery"})
        assert r.status_code == 302, r.get_data(as_text=True)[:300]
        return c

    return do
