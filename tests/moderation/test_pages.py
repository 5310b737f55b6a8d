"""Debate rules, transparency, watched words, modes and the other moderation pages."""

from datetime import timedelta

from forum.extensions import db
from forum.models import utcnow
from moderation import services
from moderation.models import AuditEntry, DebateRule, WatchedWord


def test_ensure_default_rules_is_idempotent(app):
    assert services.ensure_default_rules() == 6
    assert services.ensure_default_rules() == 0
    rule = db.session.query(DebateRule).filter_by(code="respect").one()
    assert rule.title_da and rule.title_en and "<p>" in rule.body_da_html


def test_rules_page_in_danish_and_english(client, rules):
    client.post("/sprog", data={"lang": "da"})  # this module's clients start in English
    text = client.get("/debatregler").get_data(as_text=True)
    assert rules["respect"].title_da in text and 'id="rule-respect"' in text
    assert rules["respect"].title_en not in text and '<html lang="da"' in text
    client.post("/sprog", data={"lang": "en"})
    text = client.get("/debatregler").get_data(as_text=True)
    assert rules["respect"].title_en in text and rules["respect"].title_da not in text
    assert '<html lang="en"' in text
    assert text.count("<h1") == 1


def test_admins_edit_rules_others_may_not(as_user, admin, moderator, rules):
    rule = rules["spam"]
    c = as_user(moderator)
    assert c.get(f"/moderation/rules/{rule.id}").status_code == 403
    assert c.get("/moderation/rules").status_code == 200
    c = as_user(admin)
    r = c.post(
        f"/moderation/rules/{rule.id}",
        data={
            "title_da": "Ingen spam",
            "title_en": "No spam",
            "body_da": "Ny **tekst**",
            "body_en": "New text",
            "position": 5,
            "active": "y",
        },
    )
    assert r.status_code == 302
    db.session.refresh(rule)
    assert rule.title_da == "Ingen spam" and "<strong>tekst</strong>" in rule.body_da_html
    r = c.post(
        "/moderation/rules/new",
        data={
            "code": "dobbelt",
            "title_da": "Ingen dobbeltposter",
            "title_en": "No double posts",
            "position": 70,
            "active": "y",
        },
    )
    assert r.status_code == 302
    r = c.post(
        "/moderation/rules/new", data={"code": "dobbelt", "title_da": "xx", "title_en": "yy"}
    )
    assert r.status_code == 400
    assert [
        e.action for e in db.session.query(AuditEntry).filter(AuditEntry.action.like("rule_%"))
    ] == ["rule_edit", "rule_add"]


def test_watched_words_admin(as_user, admin, moderator, rules):
    c = as_user(moderator)
    assert c.get("/moderation/words").status_code == 200
    assert (
        c.post(
            "/moderation/words", data={"word": "idiot", "language": "any", "action": "hold"}
        ).status_code
        == 403
    )
    c = as_user(admin)
    r = c.post("/moderation/words", data={"word": "Idiot", "language": "any", "action": "hold"})
    assert r.status_code == 302
    r = c.post("/moderation/words", data={"word": "svin", "language": "da", "action": "reject"})
    assert r.status_code == 400  # reject needs a rule
    r = c.post(
        "/moderation/words",
        data={"word": "svin", "language": "da", "action": "reject", "rule_id": rules["respect"].id},
    )
    assert r.status_code == 302
    assert r.status_code == 302
    words = {w.word: w for w in db.session.query(WatchedWord)}
    assert set(words) == {"idiot", "svin"}
    assert c.post(f"/moderation/words/{words['idiot'].id}/delete").status_code == 302
    assert {w.word for w in db.session.query(WatchedWord)} == {"svin"}


def test_transparency_counts_without_names_or_texts(
    client, moderator, admin, make_user, topic, held, rules, in_state
):
    a = held(topic, make_user(name="Hemmelig Person"), body="Hemmelig tekst")
    a.created_at = utcnow() - timedelta(minutes=30)
    services.moderate_post(moderator, a, "approve")
    b = held(topic, body="Anden hemmelig tekst")
    services.moderate_post(moderator, b, "reject", rules["spam"].id, "Skjult begrundelse")
    in_state("removed", topic)
    db.session.commit()
    text = client.get("/gennemsigtighed").get_data(as_text=True)
    for secret in ("Hemmelig", "Skjult begrundelse", "Mona Moderator", moderator.email):
        assert secret not in text
    month = utcnow().strftime("%Y-%m")
    row = text.split(f">{month}</th>")[1].split("</tr>")[0]
    cells = [c.split("<")[0] for c in row.split("<td>")[1:]]
    # published, held, rejected, hidden, removed, restored on appeal, median
    assert cells[:6] == ["2", "3", "1", "0", "1", "0"]
    assert "minut" in cells[6]


def test_modes_page(as_user, moderator, make_committee, make_area, make_topic, admin):
    c1, a1 = make_committee(name="Socialudvalget"), make_area(name="Orø")
    t = make_topic(author=admin, area=a1)
    c = as_user(moderator)
    text = c.get("/moderation/modes").get_data(as_text=True)
    assert "Socialudvalget" in text and "Orø" in text
    r = c.post("/moderation/modes", data={"target_type": "topic", "target_id": t.id, "mode": "pre"})
    assert r.status_code == 302
    assert t.title in c.get("/moderation/modes").get_data(as_text=True)
    r = c.post(
        "/moderation/modes", data={"target_type": "topic", "target_id": 999999, "mode": "pre"}
    )
    assert r.status_code == 404
    assert c1.id


def test_moderation_pages_render(as_user, moderator, admin, make_user, topic, in_state, rules):
    post = in_state("hidden", topic)
    for who in (moderator, admin):
        c = as_user(who)
        for url in (
            "/moderation",
            f"/moderation/posts/{post.id}",
            f"/moderation/users/{post.author_id}",
            "/moderation/suspensions",
            "/moderation/audit",
            "/moderation/words",
            "/moderation/rules",
            "/moderation/modes",
            "/moderation/rules/new" if who is admin else "/",
        ):
            r = c.get(url)
            assert r.status_code == 200, url
            assert r.get_data(as_text=True).count("<h1") == 1, url


def test_reminders_notify_moderators_in_scope_once(
    runner, make_user, make_area, make_topic, held, admin
):
    from forum.models import Notification
    from moderation.models import QueueItem

    mine, other = make_area(), make_area()
    scoped_here = make_user("moderator", areas=[mine])
    scoped_there = make_user("moderator", areas=[other])
    held(make_topic(author=admin, area=mine))
    assert "0 moderators" in runner.invoke(args=["moderation", "remind"]).output
    db.session.query(QueueItem).update({"created_at": utcnow() - timedelta(hours=2)})
    db.session.commit()
    result = runner.invoke(args=["moderation", "remind"])
    assert "2 moderators" in result.output  # the admin and the moderator of that area
    told = {n.user_id for n in db.session.query(Notification).filter_by(kind="moderation_reminder")}
    assert told == {admin.id, scoped_here.id} and scoped_there.id not in told
    assert "0 moderators" in runner.invoke(args=["moderation", "remind"]).output


def test_ensure_rules_command(runner):
    assert "6 debate rules added" in runner.invoke(args=["moderation", "ensure-rules"]).output
