"""Per-user rate limits on asking and voting (the limiter is on in this module)."""

from __future__ import annotations

import pytest

from forum.extensions import db
from qa import services

from .conftest import approved_question
from .test_services import refused


@pytest.fixture
def qa_config() -> dict:
    return {
        "RATELIMIT_ENABLED": True,
        "QA_ASK_RATE": "2 per minute",
        "QA_VOTE_RATE": "2 per minute",
    }


def test_rate_limits(world, app):
    services.ask(world.citizens[1], world.session, "Første spørgsmål om vejen.")
    services.ask(world.citizens[1], world.session, "Andet spørgsmål om vejen.")
    db.session.commit()
    err = refused(
        services.RateLimited,
        services.ask,
        world.citizens[1],
        world.session,
        "Tredje spørgsmål om vejen.",
    )
    assert err.status == 429
    q = approved_question(world)
    services.set_vote(world.citizens[2], world.session, q.id, True)
    services.set_vote(world.citizens[2], world.session, q.id, False)
    db.session.commit()
    refused(services.RateLimited, services.set_vote, world.citizens[2], world.session, q.id, True)
