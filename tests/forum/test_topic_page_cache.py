"""The topic page's caches (forum/views/topics.py): anonymous readers share whole pages,
signed-in readers share the rendered thread with their own parts laid over it. What one
viewer may see never reaches another."""

import re

import pytest

from forum import services
from forum.extensions import db
from forum.models import PostState


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_anonymous_page_is_the_same_for_everyone_and_revalidates(
    app, make_topic, make_post, count_queries
):
    topic = make_topic()
    make_post(topic, body="Første indlæg")
    first, second = app.test_client(), app.test_client()
    r1 = first.get(f"/emner/{topic.id}")
    assert r1.status_code == 200 and "Første indlæg" in _text(r1)
    # Nothing per visitor: no token, no session cookie.
    assert "csrf_token" not in _text(r1)
    assert "Set-Cookie" not in r1.headers
    assert r1.headers["ETag"] and "Cookie" in r1.headers["Vary"]
    with count_queries() as n:
        r2 = second.get(f"/emner/{topic.id}")
    assert r2.data == r1.data
    assert n() == 1  # the topic's status and newest events; the page comes from the cache
    not_modified = second.get(f"/emner/{topic.id}", headers={"If-None-Match": r1.headers["ETag"]})
    assert not_modified.status_code == 304 and not not_modified.data
    # A change to the thread is a new page with a new ETag.
    make_post(topic, body="Andet indlæg")
    r3 = second.get(f"/emner/{topic.id}", headers={"If-None-Match": r1.headers["ETag"]})
    assert r3.status_code == 200 and "Andet indlæg" in _text(r3)
    assert r3.headers["ETag"] != r1.headers["ETag"]


def test_anonymous_pages_differ_by_language_and_query(app, make_topic, make_post):
    topic = make_topic()
    make_post(topic, stance="for", body="Et indlæg for")
    danish, english = app.test_client(), app.test_client()
    english.post("/sprog", data={"lang": "en"})
    assert '<html lang="da">' in _text(danish.get(f"/emner/{topic.id}"))
    assert '<html lang="en">' in _text(english.get(f"/emner/{topic.id}"))
    filtered = _text(danish.get(f"/emner/{topic.id}?holdning=against"))
    assert "Et indlæg for" not in filtered
    assert "Et indlæg for" in _text(danish.get(f"/emner/{topic.id}"))


def test_flashed_messages_are_not_cached(app, make_topic):
    topic = make_topic()
    flashed = app.test_client()
    with flashed.session_transaction() as sess:
        sess["_flashes"] = [("info", "BESKED-TIL-EN")]
    assert "BESKED-TIL-EN" in _text(flashed.get(f"/emner/{topic.id}"))
    assert "BESKED-TIL-EN" not in _text(app.test_client().get(f"/emner/{topic.id}"))


def test_hidden_topic_is_404_even_when_its_page_was_cached(app, make_topic):
    from forum.models import TopicStatus

    topic = make_topic()
    client = app.test_client()
    assert client.get(f"/emner/{topic.id}").status_code == 200
    topic.status = TopicStatus.PROPOSED  # no event in the room: the status is read anyway
    db.session.commit()
    assert client.get(f"/emner/{topic.id}").status_code == 404


@pytest.mark.parametrize("anonymous_first", [True, False])
def test_private_parts_never_cross_between_viewers(
    app, make_topic, make_user, make_post, anonymous_first
):
    author = make_user()
    mod = make_user("moderator")
    topic = make_topic()
    public = make_post(topic, body="OFFENTLIGT indlæg")
    pending = make_post(topic, author=author, body="VENTENDE indlæg")
    pending.state = PostState.PENDING
    db.session.commit()
    anon = app.test_client()
    as_author, as_mod = app.test_client(), app.test_client()
    as_author.post("/login", data={"email": author.email, "password": "correct-horse-battery"})
    as_mod.post("/login", data={"email": mod.email, "password": "correct-horse-battery"})
    url = f"/emner/{topic.id}"

    def check_anonymous():
        text = _text(anon.get(url))
        assert "OFFENTLIGT indlæg" in text and "VENTENDE" not in text
        assert "/moderation/" not in text.split("<footer")[0].split("</header>", 1)[1]
        assert f"/indlaeg/{public.id}/rediger" not in text
        assert "csrf_token" not in text

    def check_signed_in():
        plain = app.test_client()
        plain.post("/login", data={"email": make_user().email, "password": "correct-horse-battery"})
        text = _text(plain.get(url))
        assert "OFFENTLIGT indlæg" in text and "VENTENDE" not in text
        assert f"/moderation/posts/{public.id}" not in text
        text = _text(as_author.get(url))
        assert "VENTENDE indlæg" in text
        assert f"/indlaeg/{pending.id}/slet" in text
        text = _text(as_mod.get(url))
        assert "VENTENDE indlæg" in text
        assert "Moderate" in text or "Moderér" in text

    if anonymous_first:
        check_anonymous()
        check_signed_in()
    else:
        check_signed_in()
        check_anonymous()
    check_anonymous()


def test_language_switch_needs_a_token_only_when_signed_in(app, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    anon = app.test_client()
    r = anon.post("/sprog", data={"lang": "en", "next": "/login"})
    assert r.status_code == 302 and r.location == "/login"
    assert '<html lang="en">' in _text(anon.get("/login"))
    user = make_user()
    signed_in = app.test_client()
    page = _text(signed_in.get("/login"))
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    signed_in.post(
        "/login",
        data={"email": user.email, "password": "correct-horse-battery", "csrf_token": token},
    )
    assert signed_in.post("/sprog", data={"lang": "en"}).status_code == 400
    db.session.refresh(user)
    assert user.locale != "en"
    home = _text(signed_in.get("/"))
    token = home.split('name="csrf_token" value="')[1].split('"')[0]
    assert signed_in.post("/sprog", data={"lang": "en", "csrf_token": token}).status_code == 302
    db.session.refresh(user)
    assert user.locale == "en"


def _same_page(a: str, b: str) -> bool:
    """Equal but for whitespace and the CSRF token's signature (it carries a time)."""

    def norm(text: str) -> str:
        text = re.sub(r'(name="csrf_token"[^>]*value=")[^"]*', r"\1", text)
        text = re.sub(r'(name="nonce"[^>]*value=")[^"]*', r"\1", text)
        return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", text))

    return norm(a) == norm(b)


def test_shared_thread_is_what_each_reader_would_get_alone(app, make_topic, make_user, make_post):
    me, other = make_user(), make_user()
    topic = make_topic()
    mine = make_post(topic, author=me, body="Mit indlæg")
    theirs = make_post(topic, author=other, body="Deres indlæg", parent=mine)
    liked = make_post(topic, author=other, body="Et godt indlæg")
    services.toggle_support(me, liked)
    db.session.commit()
    readers = {}
    for user in (me, other):
        c = app.test_client()
        c.post("/login", data={"email": user.email, "password": "correct-horse-battery"})
        c.get("/")  # shows (and drops) the "logged in" message
        readers[user.id] = c
    url = f"/emner/{topic.id}"
    alone = {}
    app.config["TOPIC_PAGE_SHARED_THREAD"] = False
    for uid, c in readers.items():
        alone[uid] = _text(c.get(url))
    app.config["TOPIC_PAGE_SHARED_THREAD"] = True
    for _round in range(2):  # rendered for the first reader, then from the cache
        for uid, c in readers.items():
            page = _text(c.get(url))
            assert "\x00" not in page
            assert _same_page(page, alone[uid]), uid
    page = _text(readers[me.id].get(url))
    assert f"/indlaeg/{mine.id}/rediger" in page and f"/indlaeg/{theirs.id}/rediger" not in page
    assert f"/indlaeg/{mine.id}/stoet" not in page and f"/indlaeg/{theirs.id}/stoet" in page
    assert page.count('aria-pressed="true"') == 1
    page = _text(readers[other.id].get(url))
    assert f"/indlaeg/{mine.id}/rediger" not in page and f"/indlaeg/{theirs.id}/rediger" in page
    assert f"/indlaeg/{mine.id}/stoet" in page and 'aria-pressed="true"' not in page


def test_shared_thread_carries_each_readers_own_token(app, make_topic, make_user, make_post):
    app.config["WTF_CSRF_ENABLED"] = True
    topic = make_topic()
    post = make_post(topic, body="Et indlæg")
    tokens = []
    for _ in range(2):
        user = make_user()
        c = app.test_client()
        page = _text(c.get("/login"))
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        c.post(
            "/login",
            data={"email": user.email, "password": "correct-horse-battery", "csrf_token": token},
        )
        page = _text(c.get(f"/emner/{topic.id}"))
        form = page.split(f'action="/indlaeg/{post.id}/stoet"')[1]
        token = form.split('name="csrf_token" value="')[1].split('"')[0]
        tokens.append(token)
        assert c.post(f"/indlaeg/{post.id}/stoet", data={"csrf_token": token}).status_code == 302
    assert tokens[0] != tokens[1]
    db.session.refresh(post)
    assert post.support_count == 2


def test_shared_write_form_has_each_readers_token_and_a_new_nonce(app, make_topic, make_user):
    from forum.models import Post

    app.config["WTF_CSRF_ENABLED"] = True
    topic = make_topic()
    for n in range(2):
        user = make_user()
        c = app.test_client()
        page = _text(c.get("/login"))
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        c.post(
            "/login",
            data={"email": user.email, "password": "correct-horse-battery", "csrf_token": token},
        )
        pages = [_text(c.get(f"/emner/{topic.id}")) for _ in range(2)]
        action = f'action="/emner/{topic.id}/indlaeg"'
        forms = [p.split(action)[1].split("</form>")[0] for p in pages]
        nonces = [f.split('name="nonce" type="hidden" value="')[1].split('"')[0] for f in forms]
        assert nonces[0] != nonces[1] and "\x00" not in pages[0]
        token = forms[1].split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        r = c.post(
            f"/emner/{topic.id}/indlaeg",
            data={"body": f"Indlæg nummer {n}", "nonce": nonces[1], "csrf_token": token},
        )
        assert r.status_code == 302
    assert db.session.query(Post).filter(Post.topic_id == topic.id).count() == 2
