"""Export my data: the person's own data (held posts included), nobody else's, fast."""

from __future__ import annotations

import io
import json
import time
import zipfile

from sqlalchemy import insert, select

from budgets import services as budget_services
from budgets.models import Idea
from forum import services as forum_services
from forum.extensions import db
from forum.models import Post, PostRevision, PostState, utcnow
from privacy import export
from search import services as search_services


def download(client) -> tuple[dict, str]:
    r = client.post("/privatliv/mine-data/eksport")
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    assert r.mimetype == "application/zip"
    assert "attachment" in r.headers["Content-Disposition"]
    zf = zipfile.ZipFile(io.BytesIO(r.data))
    return json.loads(zf.read("data.json")), zf.read("index.html").decode()


def test_the_export_holds_the_persons_data_and_no_one_elses(
    client, login, make_user, make_topic, make_post, voting_process
):
    me = make_user(name="Mira Eksport", email="mira@example.dk")
    other = make_user(name="Otto Anden", email="otto@example.dk")
    topic = make_topic(title="Havnen")
    mine = make_post(topic, author=me, body="Første udgave.")
    forum_services.edit_post(me, mine, "Anden udgave.")
    theirs = make_post(topic, author=other, body="Ottos indlæg.")
    forum_services.toggle_support(me, theirs)
    make_post(topic, author=other, body="Svar til Mira.", parent=mine)  # a notification
    held = make_post(topic, author=me, body="Holdt tilbage.")
    held.state = PostState.HIDDEN  # hidden by a moderator: still the author's own
    search_services.save_search(me, "Mine havnesøgninger", {"q": "havn"})
    process = voting_process()
    me.email_verified_at = utcnow()
    idea = db.session.scalars(db.select(Idea).where(Idea.process_id == process.id)).first()
    budget_services.cast_ballot(me, process, [idea.id])
    db.session.commit()

    login(me)
    data, html = download(client)
    assert data["profile"]["email"] == "mira@example.dk"
    assert "password_hash" not in data["profile"]
    bodies = {p["body_source"] for p in data["posts"]}
    assert bodies == {"Anden udgave.", "Holdt tilbage."}
    edited = next(p for p in data["posts"] if p["id"] == mine.id)
    assert [r["body_source"] for r in edited["edit_history"]] == ["Første udgave."]
    assert edited["topic_title"] == "Havnen"
    assert [s["post_id"] for s in data["supports"]] == [theirs.id]
    assert [f["topic_id"] for f in data["follows"]] == [topic.id]  # posting follows
    assert [s["name"] for s in data["saved_searches"]] == ["Mine havnesøgninger"]
    assert data["notifications"] and all(n["user_id"] == me.id for n in data["notifications"])
    assert [b["choices"][0]["idea_id"] for b in data["budget_ballots"]] == [idea.id]
    assert all("key_hash" not in s for s in data["user_sessions"])
    # Nothing of the other person's: not their posts, not their address.
    assert "otto@example.dk" not in json.dumps(data, ensure_ascii=False)
    assert "Ottos indlæg." not in json.dumps(data, ensure_ascii=False)
    # The readable page shows the same, escaped.
    assert "Anden udgave." in html and "Første udgave." in html and "Mine havnesøgninger" in html


def test_the_export_needs_a_login_and_a_post(client):
    assert client.post("/privatliv/mine-data/eksport").status_code == 302  # to the login
    assert client.get("/privatliv/mine-data/eksport").status_code == 405


def test_asking_twice_while_one_is_being_made_gets_a_clear_answer(client, login, make_user):
    me = make_user()
    login(me)
    export._building.add(me.id)  # as while another request of theirs builds it
    try:
        r = client.post("/privatliv/mine-data/eksport")
    finally:
        export._building.discard(me.id)
    assert r.status_code == 409
    assert "already making a copy of your data" in r.get_data(as_text=True)
    assert client.post("/privatliv/mine-data/eksport").status_code == 200


def test_an_export_of_1000_contributions_with_history_takes_under_ten_seconds(
    client, login, make_user, make_topic, capsys
):
    me = make_user(name="Flittig Skribent")
    topic = make_topic()
    now = utcnow()
    db.session.execute(
        insert(Post),
        [
            {
                "topic_id": topic.id,
                "author_id": me.id,
                "depth": 0,
                "body_source": f"Indlæg nummer {i} om havnen og skolevejen. " * 5,
                "body_html": f"<p>Indlæg nummer {i}</p>",
                "state": PostState.PUBLISHED,
                "support_count": 0,
                "created_at": now,
            }
            for i in range(1000)
        ],
    )
    # Each with an earlier version (edit history), as after one edit.
    ids = db.session.scalars(select(Post.id).where(Post.author_id == me.id)).all()
    db.session.execute(
        insert(PostRevision),
        [
            {
                "post_id": i,
                "body_source": "Første udgave. " * 20,
                "body_html": "<p>x</p>",
                "created_at": now,
            }
            for i in ids
        ],
    )
    db.session.commit()
    login(me)
    started = time.perf_counter()
    data, _html = download(client)
    seconds = time.perf_counter() - started
    assert len(data["posts"]) == 1000
    assert all(len(p["edit_history"]) == 1 for p in data["posts"])
    with capsys.disabled():
        print(f"\nexport of 1,000 contributions: {seconds:.2f} s")
    assert seconds < 10
