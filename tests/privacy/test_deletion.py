"""Delete my account: a grace period that logging in cancels, then anonymise or erase, and
no trace of the person's name or address left in the database, the search index or the
outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import JSON, String, Text, func, select

from budgets import services as budget_services
from budgets.models import Ballot, Idea
from forum import services as forum_services
from forum.errors import Conflict
from forum.extensions import db
from forum.models import Post, PostState, Topic, User, UserSession, utcnow
from mail import services as mail_services
from mail.models import MailMessage
from privacy import services
from privacy.models import DeletionRequest
from search import services as search_services
from search.indexer import Indexer, stop_thread

NAME = "Xenia Quorndahl"
EMAIL = "xenia.quorndahl@example.dk"


@pytest.fixture(autouse=True)
def _no_stray_indexer_thread():
    stop_thread(timeout=5)
    yield
    stop_thread(timeout=5)


@pytest.fixture
def indexer(app):
    ix = Indexer(app)
    yield ix
    ix.close()


def search_hits(app, q: str) -> list:
    with app.test_request_context():
        viewer = AnonymousUserMixin()
        req = search_services.read_request({"q": q}, viewer)
        return search_services.run_search(viewer, req).hits


def traces(*needles: str) -> list[str]:
    """Every text value in every table that contains one of ``needles`` (any case)."""
    found = []
    wanted = [n.lower() for n in needles]
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                text = str(value).lower() if value is not None else ""
                if any(n in text for n in wanted):
                    found.append(f"{table.name}.{column.name}: {text[:80]}")
    return found


@pytest.fixture
def world(app, make_user, make_topic, make_post, make_area, voting_process):
    """The person with posts (one edited), a reply to them, a saved search, a queued mail,
    a ballot; and another person."""
    me = make_user(name=NAME, email=EMAIL)
    other = make_user(name="Otto Anden")
    topic = make_topic(title="Havnen")
    first = make_post(topic, author=me, body="Bænkene ved havnen er for få.")
    forum_services.edit_post(me, first, "Bænkene ved havnen er alt for få.")
    reply = make_post(topic, author=other, body="Enig, flere bænke!", parent=first)
    proposal = forum_services.create_topic(
        me, "Flere bænke", "Mit forslag om bænke.", area_id=make_area().id
    )
    search_services.save_search(me, f"{NAME}s søgning", {"q": "havn"})
    mail_services.queue_verification(me)
    process = voting_process()
    me.email_verified_at = utcnow()
    idea = db.session.scalars(select(Idea).where(Idea.process_id == process.id)).first()
    budget_services.cast_ballot(me, process, [idea.id])
    db.session.commit()
    return {
        "me": me,
        "other": other,
        "topic": topic,
        "first": first,
        "reply": reply,
        "proposal": proposal,
    }


def ask_deletion(client, login, user, mode: str):
    login(user)
    return client.post("/privatliv/slet-konto", data={"mode": mode, "password": PASSWORD})


PASSWORD = "correct-horse-battery"


def test_erasure_leaves_no_trace_of_name_or_address(app, client, login, world, indexer):
    me, topic = world["me"], world["topic"]
    indexer.run_once()
    assert search_hits(app, "Quorndahl")  # the name finds their posts before
    assert traces(NAME, EMAIL)
    ballots = db.session.scalar(select(func.count()).select_from(Ballot))

    r = ask_deletion(client, login, me, "erase")
    assert r.status_code == 200
    assert "Your account will be deleted" in r.get_data(as_text=True)
    assert db.session.scalar(select(UserSession).where(UserSession.user_id == me.id)) is None
    # Queued mails for them are dropped at once.
    assert db.session.scalar(select(MailMessage).where(MailMessage.status == "queued")) is None
    req = db.session.scalar(select(DeletionRequest))
    assert req.mode == "erase" and req.due_at - req.requested_at == timedelta(days=14)

    assert services.purge(utcnow())["deletions"] == 0  # still in the grace period
    done = services.purge(req.due_at + timedelta(seconds=1))
    assert done["deletions"] == 1
    db.session.commit()
    indexer.run_once()

    assert traces(NAME, EMAIL, "xenia", "quorndahl") == []
    assert search_hits(app, "Quorndahl") == [] and search_hits(app, "Xenia") == []
    assert db.session.scalar(select(func.count()).select_from(MailMessage)) == 0
    # Their posts are placeholders; the reply to them is still there.
    db.session.expire_all()
    first = db.session.get(Post, world["first"].id)
    assert first.state == PostState.DELETED and first.body_source == ""
    proposal = db.session.get(Topic, world["proposal"].id)
    assert proposal.title == "Flere bænke" and proposal.intro_source == ""
    page = client.get(f"/emner/{topic.id}").get_data(as_text=True)
    assert "Enig, flere bænke!" in page
    # Ballots stay counted, linked to nobody.
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == ballots
    assert db.session.scalar(select(Ballot.user_id)) is None
    # The account cannot log in, and has no profile.
    assert client.post("/login", data={"email": EMAIL, "password": PASSWORD}).status_code == 200
    assert client.get(f"/profil/{me.id}").status_code == 404


def test_anonymising_keeps_contributions_as_a_former_participant(
    app, client, login, world, indexer
):
    me, topic = world["me"], world["topic"]
    ask_deletion(client, login, me, "anonymise")
    req = db.session.scalar(select(DeletionRequest))
    services.purge(req.due_at)
    db.session.commit()
    indexer.run_once()
    page = client.get(f"/emner/{topic.id}").get_data(as_text=True)
    assert "Bænkene ved havnen er alt for få." in page
    assert "Former participant" in page
    assert f'href="/profil/{me.id}"' not in page
    assert NAME not in page
    assert traces(NAME, EMAIL) == []
    assert search_hits(app, "Quorndahl") == []
    hits = search_hits(app, "bænkene")
    assert "Bænkene ved havnen er alt for få." in [h.post.body_source for h in hits if h.post]


def test_logging_in_during_the_grace_period_cancels_and_says_so(client, login, world):
    me = world["me"]
    ask_deletion(client, login, me, "erase")
    assert db.session.scalar(select(DeletionRequest)) is not None
    r = client.post("/login", data={"email": EMAIL, "password": PASSWORD}, follow_redirects=True)
    assert "your account will not be deleted after all" in r.get_data(as_text=True)
    assert db.session.scalar(select(DeletionRequest)) is None
    assert services.purge(utcnow() + timedelta(days=30))["deletions"] == 0
    assert db.session.get(User, me.id).display_name == NAME


def test_deleting_an_account_mid_way_through_deletion_gets_a_clear_answer(world):
    me = world["me"]
    services.request_deletion(me, "anonymise", PASSWORD)
    db.session.commit()
    with pytest.raises(Conflict) as exc:
        services.request_deletion(me, "erase", PASSWORD)
    assert "already being deleted" in exc.value.message
    req = db.session.scalar(select(DeletionRequest))
    services.complete_deletion(req)
    with pytest.raises(Conflict):
        services.complete_deletion(DeletionRequest(user_id=me.id, mode="erase"))


def test_a_wrong_password_or_no_choice_deletes_nothing(client, login, make_user):
    me = make_user()
    login(me)
    r = client.post("/privatliv/slet-konto", data={"mode": "erase", "password": "forkert"})
    assert r.status_code == 400
    assert "The password is not right." in r.get_data(as_text=True)
    r = client.post("/privatliv/slet-konto", data={"password": PASSWORD})
    assert r.status_code == 400
    assert "Choose what happens to your contributions." in r.get_data(as_text=True)
    assert db.session.scalar(select(DeletionRequest)) is None
    assert client.get("/privatliv/mine-data").status_code == 200  # still logged in
