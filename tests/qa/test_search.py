"""Questions and answers are found by search like posts; held questions are not."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

import search
from forum.extensions import db
from qa import services
from search import services as search_services
from search.indexer import Indexer, stop_thread

from .conftest import approved_question


@pytest.fixture
def indexer(app):
    stop_thread(timeout=5)
    ix = Indexer(app)
    yield ix
    ix.close()
    search.state(app).close()
    stop_thread(timeout=5)


def texts(app, q: str, viewer=None) -> list[str]:
    viewer = viewer or AnonymousUserMixin()
    with app.test_request_context():
        page = search_services.run_search(viewer, search_services.read_request({"q": q}, viewer))
    return [h.post.body_source for h in page.hits if h.post is not None]


def test_search_finds_published_questions_and_answers(world, app, indexer):
    q = approved_question(world, body="Hvornår bliver svømmehallen renoveret?")
    services.answer(world.politician, world.session, q.id, "Svømmehallen renoveres i 2028.")
    services.ask(world.citizens[1], world.session, "Hvorfor er svømmehallen så kold?")
    db.session.commit()
    indexer.run_once()
    found = texts(app, "svømmehallen")
    assert "Hvornår bliver svømmehallen renoveret?" in found
    assert "Svømmehallen renoveres i 2028." in found
    assert "Hvorfor er svømmehallen så kold?" not in found
