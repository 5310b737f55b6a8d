"""Search fixtures: an indexer run by hand (no thread in tests), and helpers to search."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask_login import AnonymousUserMixin

import search
from forum import eventlog
from forum import services as forum_services
from forum.extensions import db
from forum.models import Post, PostState
from forum.states import transition
from search import services
from search.indexer import Indexer, stop_thread
from tests.conftest import builds_app
from tests.e2e.conftest import auth_cookies, browser, live_server, page  # noqa: F401  (test_e2e)

# The autouse fixtures below act only for a test that builds an app: the analysis and
# query-parsing tests build none (``builds_app``).


@pytest.fixture(autouse=True)
def _no_stray_indexer_thread(request) -> Iterator[None]:
    """Other packages' tests build apps without TESTING (the embedded default), which start
    the process's one indexer thread for themselves: stop it, so this test's app is alone."""
    if not builds_app(request):
        yield
        return
    stop_thread(timeout=5)
    yield
    stop_thread(timeout=5)


@pytest.fixture(autouse=True)
def _close_searchers(_no_stray_indexer_thread, request) -> Iterator[None]:
    """Close this app's open index segments with the test (no unclosed-file warnings)."""
    if not builds_app(request):
        yield
        return
    app = request.getfixturevalue("app")
    yield
    search.state(app).close()


@pytest.fixture(autouse=True)
def _english(request) -> None:
    """Pages in English (the msgids), whatever the default language: tests read their text."""
    if builds_app(request):
        request.getfixturevalue("client").set_cookie("lang", "en")


@pytest.fixture
def indexer(app) -> Iterator[Indexer]:
    ix = Indexer(app)
    yield ix
    ix.close()


@pytest.fixture
def reindex(indexer) -> Callable[[], int]:
    """Apply every pending event to the index, as the indexer thread would."""
    return indexer.run_once


ANON = AnonymousUserMixin()


@pytest.fixture
def find(app) -> Callable[..., services.SearchPage]:
    """``find(q="skole", viewer=user, udvalg="x")``: one results page, as the view builds it."""

    def do(q: str = "", viewer=ANON, **params) -> services.SearchPage:
        params = {"q": q, **{k: str(v) for k, v in params.items()}}
        with app.test_request_context():
            req = services.read_request(params, viewer)
            return services.run_search(viewer, req)

    return do


@pytest.fixture
def texts(find) -> Callable[..., list[str]]:
    """The body texts (or topic titles) of the hits, in order."""

    def do(q: str = "", viewer=ANON, **params) -> list[str]:
        return [
            h.post.body_source if h.post is not None else h.topic.title
            for h in find(q, viewer, **params).hits
        ]

    return do


def set_state(post: Post, new: PostState, actor_id: int | None = None) -> None:
    """Change a post's state as moderation does: the transition and its event, committed."""
    if new == PostState.PUBLISHED:
        forum_services.publish_post(post, actor_id)
    else:
        if new == PostState.REJECTED and post.state == PostState.PUBLISHED:
            transition(post, PostState.PENDING)
        old = transition(post, new)
        eventlog.record(
            f"post_{new.value}",
            "post",
            post.id,
            f"topic:{post.topic_id}",
            forum_services.post_payload(post) | {"previous_state": old.value},
            actor_id,
        )
    db.session.commit()


@pytest.fixture
def corpus(make_committee, make_area, make_topic, make_post, make_user):
    """A small debate: two committees, two areas, citizens and a politician."""
    schools = make_committee(name="Udvalget for Børn og Skole", slug="boern-og-skole")
    climate = make_committee(name="Udvalget for Klima og Miljø", slug="klima-og-miljoe")
    tolloese = make_area(name="Tølløse", slug="toelloese")
    holbaek = make_area(name="Holbæk By", slug="holbaek-by")
    bodil = make_user(name="Bodil Borger")
    karl = make_user(name="Karl Kritisk")
    pia = make_user(
        "politician", name="Pia Politiker", party="Socialdemokratiet", committees=[schools]
    )
    road = make_topic(
        committee=schools,
        area=tolloese,
        title="Skolevej i Tølløse",
        intro="Skal der være **cykelsti** langs skolevejen?",
    )
    harbour = make_topic(
        committee=climate,
        area=holbaek,
        title="Havnen i Holbæk",
        intro="Hvad skal der ske med havnen?",
    )
    posts = {
        "skolerne": make_post(
            road, bodil, "Skolerne i Tølløse mangler sikre cykelstier.", stance="for"
        ),
        "budget": make_post(
            road, pia, "Budgettet for 2026 har plads til cykelstien.", stance="for"
        ),
        "english": make_post(road, karl, "The bicycle lanes are too narrow for the children."),
        "havn": make_post(harbour, karl, "Havnebadet i Holbæk er en god idé.", stance="against"),
        "aarhus": make_post(harbour, bodil, "I Århus har de et havnebad, det virker."),
    }
    return {
        "committees": {"schools": schools, "climate": climate},
        "areas": {"tolloese": tolloese, "holbaek": holbaek},
        "users": {"bodil": bodil, "karl": karl, "pia": pia},
        "topics": {"road": road, "harbour": harbour},
        "posts": posts,
    }
