"""The hard rule: pending, rejected, hidden and removed content is shown to nobody but its
author and moderators. One test per surface, each with posts in every non-public state
(and one deleted by its author), by a citizen and by a politician.

Every post's text carries a marker; on each surface the marker of a non-public post must
not appear for anonymous visitors, other citizens, or a moderator scoped to another area.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import pytest

from forum import services as forum_services
from forum.extensions import db
from forum.models import Event, Post, Topic, User
from moderation import services

HIDDEN_STATES = ("pending", "rejected", "hidden", "removed", "deleted")


@dataclass
class World:
    topic: Topic
    citizen: User
    politician: User
    follower: User
    outsider_moderator: User
    posts: dict[str, Post] = field(default_factory=dict)  # marker -> post
    public_marker: str = "SYNLIG-TEKST"

    def markers(self) -> list[str]:
        return list(self.posts)

    def marker_of(self, post: Post) -> str:
        return next(m for m, p in self.posts.items() if p.id == post.id)


@pytest.fixture
def world(make_user, make_topic, make_committee, make_area, admin, in_state) -> World:
    committee, area = make_committee(name="Klimaudvalget"), make_area(name="Jyderup")
    topic = make_topic(author=admin, committee=committee, area=area, title="Vindmøller ved Jyderup")
    citizen = make_user(name="Borger Bent")
    politician = make_user("politician", name="Politiker Pia", committees=[committee])
    follower = make_user(name="Følger Frida")
    forum_services.set_follow(follower, topic, True)
    outsider = make_user("moderator", areas=[make_area()])
    w = World(topic, citizen, politician, follower, outsider)
    public = in_state("published", topic, author=citizen, body=f"{w.public_marker} her")
    for author, who in ((citizen, "borger"), (politician, "politiker")):
        for state in HIDDEN_STATES:
            marker = f"HEMMELIG{state.upper()}{who.upper()}"
            # replies too: one reply under the public post per state
            w.posts[marker] = in_state(state, topic, author=author, body=f"{marker} tekst")
            rmarker = f"SVAR{state.upper()}{who.upper()}"
            w.posts[rmarker] = in_state(
                state, topic, author=author, body=f"{rmarker} tekst", parent=public
            )
    db.session.commit()
    return w


def _viewers(world: World, as_user):
    return {
        "anonymous": as_user(None),
        "citizen": as_user(world.follower),
        "outsider moderator": as_user(world.outsider_moderator),
    }


def _assert_hidden(text: str, world: World, who: str, surface: str) -> None:
    leaked = [m for m in world.markers() if m in text]
    assert not leaked, f"{surface}: {who} sees {leaked}"


def _check_pages(world, as_user, urls, surface):
    for who, client in _viewers(world, as_user).items():
        for url in urls:
            r = client.get(url)
            _assert_hidden(r.get_data(as_text=True), world, who, f"{surface} {url}")


def test_topic_page(world, as_user, moderator):
    url = f"/emner/{world.topic.id}"
    _check_pages(world, as_user, [url, url + "?sort=newest", url + "?sort=supported"], "topic")
    own = as_user(world.citizen).get(url).get_data(as_text=True)
    for marker, post in world.posts.items():
        if post.author_id == world.citizen.id and post.state.value != "deleted":
            assert marker in own, marker  # the author sees their own, marked
    mod = as_user(moderator).get(url).get_data(as_text=True)
    assert all(m in mod for m, p in world.posts.items() if p.state.value != "deleted")


def test_topic_counts(world, as_user):
    assert world.topic.post_count == 1
    for who, client in _viewers(world, as_user).items():
        text = client.get(f"/emner/{world.topic.id}").get_data(as_text=True)
        # the debate's heading counts the one public post
        assert f'data-post-count="{world.topic.id}">1 ' in text, who


def test_permalinks_replies_history_edit_and_fragments(world, as_user):
    urls = []
    for post in world.posts.values():
        urls += [
            f"/indlaeg/{post.id}",
            f"/indlaeg/{post.id}/svar?citer=1",
            f"/indlaeg/{post.id}/historik",
            f"/indlaeg/{post.id}/rediger",
            f"/indlaeg/{post.id}/fragment",
            f"/indlaeg/{post.id}/anmeld",
        ]
    _check_pages(world, as_user, urls, "post pages")


def test_profiles_and_their_counts(world, as_user):
    urls = [
        f"/profil/{world.citizen.id}",
        f"/profil/{world.politician.id}",
        f"/profil/{world.citizen.id}?side=2",
    ]
    _check_pages(world, as_user, urls, "profile")
    text = as_user(None).get(f"/profil/{world.citizen.id}").get_data(as_text=True)
    assert "1 " in text and world.public_marker in text


def test_home_committee_and_area_feeds(world, as_user):
    urls = [
        "/",
        "/udvalg",
        "/omraader",
        f"/udvalg/{world.topic.committee.slug}",
        f"/omraader/{world.topic.area.slug}",
    ]
    _check_pages(world, as_user, urls, "feeds")
    home = as_user(None).get("/").get_data(as_text=True)
    assert "Politiker Pia" not in home  # all her posts are non-public: no "latest answers"


def test_notifications_and_unread_count(world, as_user):
    client = as_user(world.follower)
    text = client.get("/notifikationer").get_data(as_text=True)
    _assert_hidden(text, world, "follower", "notifications")
    # Held posts were never announced; those hidden or removed after publication no longer
    # count as unread: the follower's bell counts the one public post only.
    from moderation.queries import notices_for  # noqa: F401  (the page renders with it)

    assert services_unread(world.follower) == 1


def services_unread(user):
    return forum_services.unread_count(user)


def test_live_events_and_replay(world, app):
    """Event rows carry no text; what the live layer would send to the public rooms never
    names a never-public post, and once-public ones only leave (``post_removed``)."""
    from forum import live

    for ev in db.session.query(Event):
        blob = repr(ev.payload)
        assert not any(m in blob for m in world.markers()), ev.kind
    never_public = {p.id for p in world.posts.values() if p.state.value in ("pending", "rejected")}
    rooms = {f"topic:{world.topic.id}", "activity", f"user:{world.follower.id}"}
    result = live.replay(rooms, 0, set())
    assert result.reload is None
    for msg in result.messages:
        if msg.get("post_id") in never_public:
            pytest.fail(f"public room told about a never-public post: {msg}")
        assert not any(m in repr(msg) for m in world.markers())


def _results_part(html: str) -> str:
    """The results, without the search form (which repeats the query)."""
    return html.split('class="search-results"', 1)[-1]


def test_search_results_and_export(world, app, as_user):
    from search.indexer import Indexer

    Indexer(app).run_once()
    for who, client in _viewers(world, as_user).items():
        for query in world.markers():
            # The page repeats the query (form, export and save links): count the hits.
            r = client.get(f"/soeg?q={query}")
            assert r.status_code == 200, f"search page for {query!r}: {r.status_code}"
            assert 'id="results-count">0 ' in r.get_data(as_text=True), (who, query)
        for query in ("hemmelig*", "tekst", "svar*"):
            r = client.get(f"/soeg?q={query}")
            assert r.status_code == 200, f"search page for {query!r}: {r.status_code}"
            _assert_hidden(_results_part(r.get_data(as_text=True)), world, who, f"search {query}")
        r = client.get("/soeg/eksport.csv?q=tekst")
        if r.status_code == 200:
            _assert_hidden(r.get_data(as_text=True), world, who, "search export")
    text = as_user(None).get(f"/soeg?q={world.public_marker}").get_data(as_text=True)
    assert world.public_marker in _results_part(text)  # the search works; it just does not leak


def test_moderation_surfaces(world, as_user, client):
    for who, c in _viewers(world, as_user).items():
        if who == "outsider moderator":
            text = c.get("/moderation").get_data(as_text=True)
            _assert_hidden(text, world, who, "queue of another area")
            for post in world.posts.values():
                assert c.get(f"/moderation/posts/{post.id}").status_code == 403
            csv_text = c.get("/moderation/audit.csv").get_data(as_text=True)
            _assert_hidden(csv_text, world, who, "audit export")
        else:
            r = c.get("/moderation")
            assert r.status_code == 403, (who, r.location)
    for page in ("/gennemsigtighed", "/debatregler"):
        _assert_hidden(client.get(page).get_data(as_text=True), world, "anyone", page)


def test_audit_export_has_no_post_texts(world, as_user, moderator):
    text = as_user(moderator).get("/moderation/audit.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and not any(m in text for m in world.markers())


def test_mail_notifications(world, app):
    """Mails are queued from notification events, which never carry text; a mail about a
    post that is no longer public must not quote it either."""
    mail_models = pytest.importorskip("mail.models")
    for item in db.session.query(mail_models.MailItem):
        assert not any(m in repr(item.payload) for m in world.markers())
    compose = pytest.importorskip("mail.compose")
    render = getattr(compose, "render_pending_for_tests", None)
    if render is not None:  # pragma: no cover - depends on the mail package's helpers
        _assert_hidden(render(world.follower), world, "follower", "mail")


def test_socket_join_of_moderators_room_is_refused_and_audited(world, app, as_user):
    from moderation.models import AuditEntry
    from tests.conftest import socket_test_client

    client = as_user(world.follower)
    sc = socket_test_client(app, client)
    try:
        sc.emit("join", {"rooms": ["moderators"]})
        got = [(r["name"], r["args"][0] if r["args"] else None) for r in sc.get_received()]
    finally:
        sc.disconnect()
    errors = [payload for name, payload in got if name == "error"]
    assert errors and errors[0]["code"] == "forbidden"
    db.session.expire_all()
    entry = (
        db.session.query(AuditEntry).filter_by(action="access_denied", target_type="socket").one()
    )
    assert entry.actor_id == world.follower.id
    assert services.restriction(world.follower, "post") is None


def test_live_queue_messages_and_rows(world, app, as_user):
    """The moderators' rooms hear ids and counts only; an item's row is for the moderators
    of its area."""
    from forum import live
    from moderation.models import QueueItem

    result = live.replay({"moderators", f"moderators:area:{world.topic.area_id}"}, 0, set())
    assert result.messages and not any(m in repr(result.messages) for m in world.markers())
    outsider = as_user(world.outsider_moderator)
    for item in db.session.query(QueueItem):
        assert outsider.get(f"/moderation/items/{item.id}/row").status_code == 403
        assert as_user(world.follower).get(f"/moderation/items/{item.id}/row").status_code == 403


def test_citizen_budget_ideas(world, as_user, admin, make_user, rules):
    """Ideas held, rejected, held again after an edit, or withdrawn: only their author and the
    moderators of their area see them (idea page, process page and list, ballot, queue)."""
    from budgets import services as budgets
    from budgets.models import Phase
    from moderation.models import QueueItem

    area = world.topic.area
    process = budgets.create_process(
        admin, title="Borgerbudget Jyderup", total_amount=100_000, area_id=area.id
    )
    budgets.advance_phase(admin, process)
    db.session.commit()
    assert process.phase == Phase.IDEAS
    author, fan = make_user(name="Idé Ida"), make_user()

    def propose(marker):
        idea = budgets.propose_idea(author, process, f"{marker} idé", f"{marker} tekst", 1000)
        db.session.commit()
        return idea

    def item(idea):
        return db.session.query(QueueItem).filter_by(target_id=idea.id, status="open").one()

    ideas = {m: propose(m) for m in ("IDEVENTER", "IDEAFVIST", "IDERETTET", "IDETRUKKET")}
    services.decide_item(admin, item(ideas["IDEAFVIST"]), "reject", rules["spam"].id, "Nej")
    for m in ("IDERETTET", "IDETRUKKET"):
        services.decide_item(admin, item(ideas[m]), "approve")
    db.session.commit()
    budgets.toggle_support(fan, ideas["IDETRUKKET"])
    budgets.edit_idea(author, ideas["IDERETTET"], "IDERETTET idé", "IDERETTET ny tekst", 1000)
    budgets.withdraw_idea(author, ideas["IDETRUKKET"])
    db.session.commit()
    states = {m: i.state.value for m, i in ideas.items()}
    assert states == {
        "IDEVENTER": "pending",
        "IDEAFVIST": "rejected",
        "IDERETTET": "pending",
        "IDETRUKKET": "withdrawn",
    }
    viewers = {**_viewers(world, as_user), "supporter": as_user(fan)}
    pages = [
        "/borgerbudget/",
        f"/borgerbudget/{process.id}",
        f"/borgerbudget/{process.id}/stemmeseddel",
        "/notifikationer",
    ]
    for who, c in viewers.items():
        for url in pages:
            r = c.get(url)
            if r.status_code == 302:  # the notifications page asks anonymous visitors to log in
                continue
            leaked = [m for m in ideas if m in r.get_data(as_text=True)]
            # A supporter is told that the idea they supported was withdrawn, by its title.
            if who == "supporter" and url == "/notifikationer":
                leaked = [m for m in leaked if m != "IDETRUKKET"]
            assert not leaked, f"{url}: {who} sees {leaked}"
        for idea in ideas.values():
            assert c.get(f"/borgerbudget/ideer/{idea.id}").status_code == 404, (who, idea.id)
        if who == "outsider moderator":
            _text = c.get("/moderation").get_data(as_text=True)
            assert not [m for m in ideas if m in _text]
    own = as_user(author)
    for idea in ideas.values():
        assert own.get(f"/borgerbudget/ideer/{idea.id}").status_code == 200
    local = as_user(make_user("moderator", areas=[area]))
    queue = local.get("/moderation").get_data(as_text=True)
    assert "IDEVENTER" in queue and "IDERETTET ny tekst" in queue
    assert "IDEAFVIST" not in queue and "IDETRUKKET" not in queue


def test_synthesis_and_council_report(world, as_user, make_user):
    """The synthesis page and the council report (HTML, CSV, PDF) count and quote published
    posts only, for every reader they have (politicians, staff)."""
    from reports import pdf
    from reports import services as reports

    staff = make_user("staff")
    d = reports.create_definition(
        staff, title="Rapport", scope="committee", committee_id=world.topic.committee_id
    )
    db.session.commit()
    readers = {"politician": as_user(world.politician), "staff": as_user(staff)}
    for who, c in readers.items():
        text = c.get(f"/emner/{world.topic.id}/hvad-mener-borgerne").get_data(as_text=True)
        _assert_hidden(text, world, who, "synthesis")
    c = readers["staff"]
    for url in (f"/rapporter/{d.id}", f"/rapporter/{d.id}/csv"):
        r = c.get(url)
        assert r.status_code == 200
        _assert_hidden(r.get_data(as_text=True), world, "staff", url)
    if pdf.available():
        import pypdf

        reader = pypdf.PdfReader(io.BytesIO(c.get(f"/rapporter/{d.id}/pdf").data))
        text = " ".join(p.extract_text() or "" for p in reader.pages)
        _assert_hidden(text, world, "staff", "report PDF")
        assert "1 indlæg" in " ".join(text.split())  # the one public post, counted


def test_api_feeds_and_open_data(world, as_user, app, tmp_path):
    """The API, the Atom feeds and the open-data dump: only the public post, never an id or
    a count of the others; a citizen's topic proposal is absent everywhere."""
    import json
    import zipfile

    from api import dump

    proposal = forum_services.create_topic(
        world.citizen, "FORSLAGHEMMELIG emne", "Et forslag.", area_id=world.topic.area_id
    )
    db.session.commit()
    assert proposal.status.value == "proposed"
    t = world.topic.id
    urls = [
        "/api/v1/topics",
        f"/api/v1/topics/{t}",
        f"/api/v1/topics/{t}/posts",
        f"/api/v1/topics/{t}/posts?stance=for",
        f"/api/v1/topics?area={world.topic.area.slug}",
        "/api/v1/areas",
        "/feeds/emner.atom",
        f"/feeds/omraader/{world.topic.area.slug}.atom",
        f"/feeds/emner/{t}/indlaeg.atom",
    ]
    hidden_ids = {p.id for p in world.posts.values()}
    anonymous = as_user(None)
    for url in urls:
        text = anonymous.get(url).get_data(as_text=True)
        _assert_hidden(text, world, "anonymous", f"api {url}")
        assert "FORSLAGHEMMELIG" not in text, url
    posts = anonymous.get(f"/api/v1/topics/{t}/posts").get_json()["items"]
    assert [p["body_html"].count(world.public_marker) for p in posts] == [1]
    named = {p["id"] for p in posts} | {p["parent_id"] for p in posts if p["parent_id"]}
    assert not named & hidden_ids
    topic = anonymous.get(f"/api/v1/topics/{t}").get_json()
    assert topic["post_count"] == 1
    assert [x["id"] for x in anonymous.get("/api/v1/topics").get_json()["items"]] == [t]
    assert anonymous.get(f"/api/v1/topics/{proposal.id}").status_code == 404
    assert anonymous.get(f"/api/v1/topics/{proposal.id}/posts").status_code == 404
    areas = anonymous.get("/api/v1/areas").get_json()["items"]
    assert sum(a["open_topics"] for a in areas) == 1  # the proposal is not counted
    for post in world.posts.values():
        assert anonymous.get(f"/api/v1/topics/{t}/posts").status_code == 200
        assert f'"id":{post.id},' not in anonymous.get(f"/api/v1/topics/{t}/posts").get_data(
            as_text=True
        ).replace(" ", "")
    app.config["API_DUMP_DIR"] = str(tmp_path)
    dump.write_dump()
    with zipfile.ZipFile(tmp_path / dump.FILENAME) as zf:
        for name in zf.namelist():
            text = zf.read(name).decode("utf-8")
            _assert_hidden(text, world, "open data", name)
            assert "FORSLAGHEMMELIG" not in text, name
        dumped = json.loads(zf.read("posts.json"))
    assert {p["id"] for p in dumped} == {p["id"] for p in posts}
    assert not {p["parent_id"] for p in dumped if p["parent_id"]} & hidden_ids
