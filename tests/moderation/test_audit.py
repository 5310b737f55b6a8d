"""The audit log: append-only, browsable and filterable, exported as CSV, scoped."""

import csv
import io

import pytest
from sqlalchemy import delete, update

from forum.extensions import db
from moderation import services
from moderation.models import AppendOnlyViolation, AuditEntry


def test_every_transition_and_action_is_audited(
    make_user, moderator, admin, topic, held, in_state, rules
):
    from forum import services as forum_services

    post = held(topic)
    services.moderate_post(moderator, post, "approve")
    services.moderate_post(moderator, post, "hide", rules["spam"].id, "Reklame")
    services.moderate_post(moderator, post, "restore")
    services.moderate_post(moderator, post, "remove", rules["spam"].id)
    forum_services.delete_post(post.author, post)
    db.session.commit()
    rows = db.session.query(AuditEntry).filter_by(post_id=post.id).order_by(AuditEntry.id).all()
    assert [(e.action, e.from_state, e.to_state) for e in rows] == [
        ("hold", None, "pending"),
        ("approve", "pending", "published"),
        ("hide", "published", "hidden"),
        ("restore", "hidden", "published"),
        ("remove", "published", "removed"),
        ("delete", "removed", "deleted"),
    ]
    assert rows[2].rule_id == rules["spam"].id and rows[2].text == "Reklame"
    assert {e.actor_id for e in rows[1:5]} == {moderator.id}
    from forum.models import Event

    kinds = [
        e.kind for e in db.session.query(Event).filter_by(subject_type="post", subject_id=post.id)
    ]
    for kind in ("post_published", "post_hidden", "post_removed", "post_deleted"):
        assert kind in kinds


def test_audit_log_is_append_only(moderator, topic, held):
    held(topic)
    db.session.commit()
    entry = db.session.query(AuditEntry).first()
    entry.text = "rewritten"
    with pytest.raises(AppendOnlyViolation):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.query(AuditEntry).first())
    with pytest.raises(AppendOnlyViolation):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(AppendOnlyViolation):
        db.session.execute(update(AuditEntry).values(text="x"))
    with pytest.raises(AppendOnlyViolation):
        db.session.execute(delete(AuditEntry))
    db.session.rollback()
    assert db.session.query(AuditEntry).one().text == ""


def test_browse_filter_and_export(as_user, moderator, make_user, topic, held, rules):
    a = held(topic, body="Første")
    b = held(topic, body="Anden")
    services.moderate_post(moderator, a, "approve")
    services.moderate_post(moderator, b, "reject", rules["spam"].id, '=HYPERLINK("x")')
    db.session.commit()
    c = as_user(moderator)
    text = c.get("/moderation/audit?action=reject").get_data(as_text=True)
    assert "Mona Moderator" in text and text.count("<tr>") == 2  # header + one row
    assert "Første" not in text and "Anden" not in text  # no post texts
    r = c.get(f"/moderation/audit.csv?actor={moderator.id}")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [row["action"] for row in rows] == ["reject", "approve"]
    assert rows[0]["rule"] == "spam" and rows[0]["text"].startswith("'=")
    assert c.get("/moderation/audit?date_from=nonsense").status_code == 400
    text = c.get("/moderation/audit?date_from=2000-01-01&date_to=2000-01-02").get_data(as_text=True)
    assert "Mona Moderator" not in text.split("<table", 1)[-1] or "<table" not in text


def test_scoped_moderator_sees_only_their_areas(
    as_user, make_user, make_area, make_topic, held, admin
):
    mine, other = make_area(), make_area()
    scoped = make_user("moderator", areas=[mine])
    p1 = held(make_topic(author=admin, area=mine), body="x")
    p2 = held(make_topic(author=admin, area=other), body="y")
    text = as_user(scoped).get("/moderation/audit?action=hold").get_data(as_text=True)
    assert f"/moderation/posts/{p1.id}" in text and f"/moderation/posts/{p2.id}" not in text


def test_audit_page_shows_words_not_codes(as_user, admin, make_user, make_area, topic, held, rules):
    """Actions, states and targets in the moderator's language, targets by their titles
    (linked): never raw codes such as ``auto_reject``, ``pending → published`` or
    ``topic 18``."""
    import re

    from forum import services as forum_services

    area = make_area(name="Tølløse")
    citizen = make_user(name="Carl Borger")
    post = held(topic, citizen, body="Første")
    services.moderate_post(admin, post, "approve")
    proposal = forum_services.create_topic(
        citizen, "Bænke ved søen", "Der mangler bænke.", area_id=area.id
    )
    forum_services.decide_topic_proposal(admin, proposal, accept=True)
    services.add_watched_word(admin, "idiot", "da", "reject", rules["respect"].id)
    services.suspend_user(admin, citizen, "Gentagne personangreb.", None)
    db.session.commit()
    rejected = make_user(name="Ole Ny")
    forum_services.create_post(rejected, topic, "Du er en idiot.")
    db.session.commit()
    actions = {e.action for e in db.session.query(AuditEntry)}
    assert {"hold", "approve", "proposal_accept", "word_add", "suspend"} <= actions, actions

    page = as_user(admin).get("/moderation/audit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    table = html[html.index("<tbody>") : html.index("</tbody>")]
    cells = re.sub(r"<[^>]+>", " ", table)
    for code in sorted(actions) + ["pending", "published", "proposed", "open", "active"]:
        assert not re.search(rf"(?<![\w-]){code}(?![\w-])", cells), code
    assert not re.search(r"\b(post|topic|user|word) \d+", cells)
    assert "Godkendt" in cells and "afventer moderation → offentliggjort" in cells
    assert f'<a href="/emner/{proposal.id}">Bænke ved søen</a>' in table
    assert f'<a href="/moderation/posts/{post.id}">{topic.title}</a>' in table
    assert f'<a href="/moderation/users/{citizen.id}">Carl Borger</a>' in table
    # The filter offers the actions by name too.
    select = html[html.index('id="action"') : html.index("</select>", html.index('id="action"'))]
    assert ">auto_reject<" not in select and "Afvist automatisk" in select
