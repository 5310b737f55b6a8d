"""Opinion rounds: opening, statements, votes (bad input answered and counted once), the
map's recomputation, and the pages (no JavaScript needed)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.errors import Conflict, InvalidInput, PermissionDenied
from forum.extensions import db
from forum.models import utcnow
from opinions import services
from opinions.models import OpinionStatement, OpinionVote, StatementState


@pytest.fixture
def rnd(staff, topic):
    r = services.open_round(
        staff, topic, "Hvad skal der ske med havnen?", utcnow() + timedelta(days=7),
        allow_anonymous=True, seeds=[f"Udsagn nummer {i}" for i in range(8)],
    )  # fmt: skip
    db.session.commit()
    return r


def _statements(r):
    return db.session.scalars(
        select(OpinionStatement).where(OpinionStatement.round_id == r.id)
    ).all()


def test_only_staff_and_committee_politicians_open_rounds(make_user, topic, make_committee):
    citizen = make_user()
    with pytest.raises(PermissionDenied):
        services.open_round(citizen, topic, "Q?", utcnow() + timedelta(days=1))
    outsider = make_user("politician", committees=[make_committee()])
    with pytest.raises(PermissionDenied):
        services.open_round(outsider, topic, "Q?", utcnow() + timedelta(days=1))
    member = make_user("politician", committees=[topic.committee])
    assert services.open_round(member, topic, "Q?", utcnow() + timedelta(days=1)).id


def test_votes_bad_input_answered_and_counted_once(rnd, make_user):
    user = make_user()
    p = services.participant_for(rnd, user=user)
    st = _statements(rnd)[0]
    now = utcnow()
    assert services.cast_vote(rnd, p, st.id, "agree", now) == "recorded"
    with pytest.raises(Conflict, match="just recorded"):
        services.cast_vote(rnd, p, st.id, "disagree", now + timedelta(milliseconds=300))
    assert services.cast_vote(rnd, p, st.id, "disagree", now + timedelta(seconds=2)) == "changed"
    assert db.session.scalar(select(func.count()).select_from(OpinionVote)) == 1
    pending = services.add_statement(rnd, p, "Et nyt udsagn", user)
    if pending.state == StatementState.PENDING:
        with pytest.raises(Conflict, match="not approved"):
            services.cast_vote(rnd, p, pending.id, "agree")
    rnd.ends_at = utcnow() - timedelta(minutes=1)
    with pytest.raises(Conflict, match="ended"):
        services.cast_vote(rnd, p, _statements(rnd)[1].id, "agree")


def test_statement_length_and_anonymous_needs_permission(rnd, make_user):
    p = services.participant_for(rnd, user=make_user())
    with pytest.raises(InvalidInput) as exc:
        services.add_statement(rnd, p, "x" * 141)
    assert "140" in exc.value.fields["body"]
    rnd.allow_anonymous = False
    with pytest.raises(PermissionDenied):
        services.participant_for(rnd, anon_key="abc")


def test_map_needs_enough_voters_then_shows_groups(rnd, make_user):
    sts = _statements(rnd)
    data = services.recompute(rnd)
    assert data == {"ready": False, "voters": 0, "statements": 8}
    t = utcnow()
    for i in range(12):
        p = services.participant_for(rnd, anon_key=f"anon-{i}")
        for j, st in enumerate(sts):
            agree = (j < 4) == (i % 2 == 0) or j == 7
            services.cast_vote(rnd, p, st.id, "agree" if agree else "disagree", t)
    db.session.commit()
    assert services.recompute_due(debounce_seconds=0) == 1
    data = services.load_map(rnd)
    assert data["ready"] and data["placed"] == 12 and len(data["groups"]) == 2
    assert data["consensus"][0]["statement"] == sts[7].id
    assert services.recompute_due(debounce_seconds=0) == 0  # nothing new


def test_next_statement_prefers_few_votes(rnd, make_user):
    sts = _statements(rnd)
    t = utcnow()
    for i in range(3):
        p = services.participant_for(rnd, anon_key=f"a{i}")
        for st in sts[:6]:
            services.cast_vote(rnd, p, st.id, "pass", t)
    me = services.participant_for(rnd, anon_key="me")
    assert services.next_statement(rnd, me).id in {sts[6].id, sts[7].id}


def test_pages_vote_without_javascript(client, rnd, make_user, login):
    page = client.get(f"/holdninger/{rnd.id}")
    assert page.status_code == 200 and b"Udsagn nummer" in page.data
    sid = re.search(rb'name="statement_id" type="hidden" value="(\d+)"', page.data).group(1)
    res = client.post(f"/holdninger/{rnd.id}/stem",
                      data={"statement_id": sid.decode(),
                            "choice": "agree"})  # fmt: skip
    assert res.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(OpinionVote)) == 1
    again = client.post(f"/holdninger/{rnd.id}/stem",
                        data={"statement_id": sid.decode(),
                              "choice": "disagree"})  # fmt: skip
    assert again.status_code == 409 and b"counts once" in again.data
    bad = client.post(f"/holdninger/{rnd.id}/udsagn", data={"body": "y" * 200})
    assert bad.status_code == 400 and b"y" * 200 in bad.data
    m = client.get(f"/holdninger/{rnd.id}/kort")
    assert m.status_code == 200


def test_map_page_shows_groups_and_no_rejected_text(client, rnd):
    sts = _statements(rnd)
    sts[7].state = StatementState.REJECTED
    t = utcnow()
    for i in range(12):
        p = services.participant_for(rnd, anon_key=f"anon-{i}")
        for j, st in enumerate(sts[:7]):
            services.cast_vote(rnd, p, st.id, "agree" if (j < 4) == (i % 2 == 0) else "pass", t)
    services.recompute(rnd)
    sts[0].state = StatementState.REJECTED  # rejected after the map was computed
    db.session.commit()
    page = client.get(f"/holdninger/{rnd.id}/kort")
    assert page.status_code == 200
    assert b"<svg" in page.data and b"<circle" in page.data and b"group B" in page.data
    assert b"Udsagn nummer 0" not in page.data and b"Udsagn nummer 7" not in page.data
    assert json.loads(rnd.map_json)["placed"] == 12


def test_topic_page_links_to_the_round(client, rnd, topic):
    page = client.get(f"/emner/{topic.id}")
    assert page.status_code == 200
    assert f"/holdninger/{rnd.id}/kort".encode() in page.data


class TestModerationQueue:
    """With moderation on, a participant's statement waits in moderation's queue (the
    review source opinions registers) and is voted on only once a moderator approves it."""

    @pytest.fixture
    def app_config(self) -> dict:
        return {"BABEL_DEFAULT_LOCALE": "en", "MODERATION_ENABLED": True}

    def test_statement_held_then_approved(self, app, rnd, make_user):
        from forum import hooks

        user = make_user()
        p = services.participant_for(rnd, user=user)
        st = services.add_statement(rnd, p, "Flere bænke ved vandet", user)
        db.session.commit()
        assert st.state == StatementState.PENDING
        with pytest.raises(Conflict, match="not approved"):
            services.cast_vote(rnd, p, st.id, "agree")
        source = hooks.review_sources()["opinion"]
        view = source.views([st.id])[st.id]
        assert view.title == "Flere bænke ved vandet" and view.author_id == user.id
        moderator = make_user("moderator")
        source.decide(moderator, st.id, True, "")
        db.session.commit()
        assert st.state == StatementState.PUBLISHED
        assert services.cast_vote(rnd, p, st.id, "agree") == "recorded"


def test_only_a_recomputed_map_goes_live(rnd, client):
    from opinions.live import _route

    ev = {"id": 9, "kind": "opinion_vote", "room": f"opinions:{rnd.id}", "payload": {}}
    assert _route(ev, None) == []
    ev |= {"kind": "opinion_map_updated"}
    assert _route(ev, None) == [((f"opinions:{rnd.id}",), {"id": 9, "kind": ev["kind"]})]
    page = client.get(f"/holdninger/{rnd.id}/kort")
    assert f'data-live-room="opinions:{rnd.id}"'.encode() in page.data
    assert b"js/live.js" in page.data
