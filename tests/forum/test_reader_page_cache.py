"""Whole topic pages shared by plain signed-in readers (forum/views/topics.py,
``_plain_reader_page``): rendered once with each reader's own parts marked, filled in for
each of them. Each reader gets the page they would get alone; what is personal (a banner,
a held post, moderation rights, a flashed message) is never shared."""

import re

import pytest

from forum import services
from forum.extensions import db
from forum.models import Notification, PostState, utcnow

PAGES = "borgerdialog.reader_topic_pages"


def _text(response) -> str:
    return response.get_data(as_text=True)


def _same_page(a: str, b: str) -> bool:
    """Equal but for whitespace, the CSRF token's signature (it carries a time) and the post
    form's nonce (new on every page)."""

    def norm(text: str) -> str:
        text = re.sub(r'(name="csrf_token"[^>]*value=")[^"]*', r"\1", text)
        text = re.sub(r'(name="nonce"[^>]*value=")[^"]*', r"\1", text)
        return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", text))

    return norm(a) == norm(b)


@pytest.fixture
def reader(app, make_user):
    """A signed-in client of a new citizen (the login's flashed message already shown)."""

    def make(role: str = "citizen", name: str | None = None):
        user = make_user(role, name=name)
        client = app.test_client()
        data = {"email": user.email, "password": "correct-horse-battery"}
        token = re.search(
            r'name="csrf_token" type="hidden" value="([^"]+)"', _text(client.get("/login"))
        )
        if token:
            data["csrf_token"] = token[1]
        assert client.post("/login", data=data).status_code == 302
        client.get("/")
        return user, client

    return make


def _cached(app) -> list[str]:
    cache = app.extensions.get(PAGES)
    return [value for _expires, value in cache._data.values()] if cache else []


def test_readers_share_one_page_with_their_own_parts(
    app, make_topic, make_post, reader, count_queries
):
    topic = make_topic()
    make_post(topic, body="Et offentligt indlæg")
    (anna, a), (bent, b) = reader(name="Anna Ankersen"), reader(name="Bent Bentsen")
    services.set_follow(bent, topic, True)
    db.session.add(Notification(user_id=bent.id, kind="reply", created_at=utcnow()))
    db.session.commit()
    url = f"/emner/{topic.id}"
    app.config["TOPIC_PAGE_SHARED_THREAD"] = False
    alone = {anna.id: _text(a.get(url)), bent.id: _text(b.get(url))}
    app.config["TOPIC_PAGE_SHARED_THREAD"] = True
    for _round in range(2):  # rendered for the first reader, then from the cache
        for user, client in ((anna, a), (bent, b)):
            page = _text(client.get(url))
            assert "\x00" not in page
            assert _same_page(page, alone[user.id]), user.display_name
    # One page per (following, ...) in the cache, holding neither reader's name nor token.
    cached = _cached(app)
    assert len(cached) == 2
    for html in cached:
        assert "Anna Ankersen" not in html and "Bent Bentsen" not in html
        assert f'data-live-room="user:{anna.id}"' not in html
    page = _text(b.get(url))
    assert "Bent Bentsen" in page and "Anna Ankersen" not in page
    assert 'data-unread="1"' in page and 'name="follow" value="0"' in page
    page = _text(a.get(url))
    assert 'data-unread="0"' in page and 'name="follow" value="1"' in page
    # From the cache: the login, the topic and its events, the reader's facts and supports.
    with count_queries() as n:
        a.get(url)
    assert n() == 3


def test_each_reader_gets_their_own_token_and_nonce(app, make_topic, reader):
    app.config["WTF_CSRF_ENABLED"] = True
    topic = make_topic()
    url = f"/emner/{topic.id}"
    seen = []
    for _ in range(2):
        _user, client = reader()
        pages = [_text(client.get(url)) for _ in range(2)]
        tokens = {re.search(r'name="csrf_token" value="([^"]+)"', p)[1] for p in pages}
        nonces = [re.search(r'name="nonce" type="hidden" value="([^"]+)"', p)[1] for p in pages]
        assert nonces[0] != nonces[1]
        seen.append(tokens)
        # The follow form's token (from the shared page) is this reader's: it works.
        form = pages[1].split(f'action="/emner/{topic.id}/foelg"')[1]
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)[1]
        r = client.post(f"/emner/{topic.id}/foelg", data={"csrf_token": token, "follow": "1"})
        assert r.status_code == 302
    assert not seen[0] & seen[1]


def test_personal_pages_are_never_shared(app, make_topic, make_post, make_user, reader):
    """A suspended reader, an author of a held post and a moderator get their own page,
    whoever asked first; plain readers never get their parts."""
    from moderation import services as mod

    topic = make_topic()
    make_post(topic, body="OFFENTLIGT indlæg")
    url = f"/emner/{topic.id}"
    (_plain, p1), (_plain2, p2) = reader(), reader()
    (suspended, s), (author, au), (_m, m) = reader(), reader(), reader("moderator")
    held = make_post(topic, author=author, body="VENTENDE indlæg")
    held.state = PostState.PENDING
    mod.suspend_user(make_user("admin"), suspended, "Gentagne personangreb")
    db.session.commit()
    app.config["MODERATION_ENABLED"] = True  # after the posts: its policy would hold them

    def check_plain(client):
        page = _text(client.get(url))
        assert "OFFENTLIGT" in page and "VENTENDE" not in page
        assert "suspension-banner" not in page and "Gentagne personangreb" not in page
        assert "/moderation" not in page.split("</header>")[0]
        assert f'action="/emner/{topic.id}/indlaeg"' in page

    check_plain(p1)
    page = _text(s.get(url))
    assert "suspension-banner" in page and "Gentagne personangreb" in page
    assert f'action="/emner/{topic.id}/indlaeg"' not in page
    page = _text(au.get(url))
    assert "VENTENDE indlæg" in page and f"/indlaeg/{held.id}/slet" in page
    page = _text(m.get(url))
    assert "VENTENDE indlæg" in page and "/moderation" in page.split("</header>")[0]
    check_plain(p2)
    check_plain(p1)
    assert len(_cached(app)) == 1


def test_unconfirmed_address_banner_is_not_shared(app, make_topic, reader):
    topic = make_topic()
    app.config["MAIL_REQUIRE_VERIFICATION"] = True
    url = f"/emner/{topic.id}"
    (confirmed, c), (unconfirmed, u) = reader(), reader()
    confirmed.email_verified_at = utcnow()
    db.session.commit()
    assert "verify-banner" not in _text(c.get(url))
    page = _text(u.get(url))
    assert "verify-banner" in page and unconfirmed.email in page
    assert unconfirmed.email not in _text(c.get(url))


def test_flashed_message_is_shown_and_not_shared(app, make_topic, reader):
    topic = make_topic()
    url = f"/emner/{topic.id}"
    (_a, a), (_b, b) = reader(), reader()
    with a.session_transaction() as sess:
        sess["_flashes"] = [("info", "BESKED-TIL-EN")]
    assert "BESKED-TIL-EN" in _text(a.get(url))
    assert "BESKED-TIL-EN" not in _text(b.get(url))
    assert "BESKED-TIL-EN" not in _text(a.get(url))


def test_a_change_to_the_thread_is_a_new_page(app, make_topic, make_post, reader):
    topic = make_topic()
    url = f"/emner/{topic.id}"
    _user, client = reader()
    assert "Andet indlæg" not in _text(client.get(url))
    make_post(topic, body="Andet indlæg")
    assert "Andet indlæg" in _text(client.get(url))
