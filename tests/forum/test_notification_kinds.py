"""One registry of notification kinds (issue 13, forum/hooks.py ``register_notification_kind``):
each package registers how its kinds read once; the notifications page and the mails ask it."""

from __future__ import annotations

import html

from flask_babel import force_locale

from forum import hooks
from forum.extensions import db
from forum.models import Notification, utcnow
from mail import compose
from mail.models import NOTIFICATION_KINDS, Kind, MailItem


def page(client) -> str:
    return html.unescape(client.get("/notifikationer").get_data(as_text=True))


def test_every_mailed_kind_and_every_page_kind_is_registered_by_its_package(app):
    kinds = hooks.notification_kinds()
    assert set(NOTIFICATION_KINDS) <= set(kinds)
    assert "qa_signup" in kinds  # the Q&A reminder (mails only)
    owners = {kind: registered.package for kind, registered in kinds.items()}
    assert owners["reply"] == owners["followed_topic"] == "forum"
    assert owners["saved_search"] == "search"
    # moderation adds the decision's rule and words to the forum's proposal kinds
    assert owners["topic_declined"] == owners["moderation_decision"] == "moderation"
    assert owners["moderation_reminder"] == "moderation"  # page only, never mailed
    assert owners["budget_status"] == owners["budget_idea_withdrawn"] == "budgets"
    assert owners["qa_merged"] == "qa"
    assert owners["outcome_update"] == "outcomes"
    assert owners["meeting_seat"] == owners["meeting_invitation_answered"] == "meetings"


def test_seams_command_lists_the_notification_kinds(app):
    result = app.test_cli_runner().invoke(args=["seams"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    start = lines.index("notification kinds (described on the notifications page and in mails):")
    listed = dict(line.strip().split(": ") for line in lines[start + 1 :])
    assert listed["reply"] == "forum"
    assert listed["moderation_appeal"] == "moderation"
    assert listed["meeting_new"] == "meetings"
    assert list(listed) == sorted(listed)


def test_the_page_and_the_mail_say_the_same_sentence(
    client, login, make_user, make_topic, make_post
):
    topic = make_topic(title="Cykelsti på Ahlgade")
    asker = make_user(name="Anna Asker")
    answerer = make_user(name="Bo Svarer")
    parent = make_post(topic, asker, "Hvornår?")
    reply = make_post(topic, answerer, "Til sommer.", parent=parent)
    login(asker)
    on_page = page(client)
    item = MailItem(
        user_id=asker.id,
        kind=Kind.REPLY,
        source="reply",
        post_id=reply.id,
        topic_id=topic.id,
        payload={},
        created_at=utcnow(),
    )
    with force_locale("da"):
        found = compose.entry(asker, item, utcnow())
    assert found["text"] == "Bo Svarer har svaret dig i »Cykelsti på Ahlgade«"
    assert found["text"] in on_page
    assert found["url"].endswith(f"/indlaeg/{reply.id}#p{reply.id}")
    assert f'href="/indlaeg/{reply.id}#p{reply.id}">{found["text"]}</a>' in on_page
    assert found["excerpt"] == "Til sommer."
    assert (found["topic_id"], found["post_id"]) == (topic.id, reply.id)


def test_a_registered_kind_reads_on_the_page_and_an_unknown_kind_as_before(
    app, client, login, make_user
):
    user = make_user()

    def describe(facts: hooks.NoticeFacts) -> hooks.Notice | None:
        assert facts.medium == "page" and facts.user.id == user.id
        return hooks.Notice(
            f"Prøve {facts.notification_id}",
            facts.link("forum.profile", user_id=facts.user.id),
            {"said": "Noget mere.", "see": "Se den", "see_hint": "prøven"},
        )

    hooks.register_notification_kind(app, "test_kind", describe, package="tests")
    known = Notification(user_id=user.id, kind="test_kind")
    unknown = Notification(user_id=user.id, kind="nobody_registered_this")
    db.session.add_all([known, unknown])
    db.session.commit()
    login(user)
    text = page(client)
    assert f"Prøve {known.id}" in text and "Noget mere." in text
    assert f'<a href="/profil/{user.id}">Se den<span class="visually-hidden">: prøven</span>' in (
        text
    )
    assert "nobody_registered_this" in text


def test_a_meeting_notification_no_longer_shows_its_code_on_the_page(
    client, login, make_user, make_topic
):
    """The in-app row of a meeting notification has no title (the event carries it): the
    page said ``meeting_seat``; it now says there is news about a meeting, in Danish."""
    user = make_user()
    db.session.add(Notification(user_id=user.id, kind="meeting_seat", topic_id=make_topic().id))
    db.session.commit()
    login(user)
    text = page(client)
    assert "Nyt om et møde." in text
    assert "meeting_seat" not in text


def test_the_mail_asks_the_registry_for_a_kind_of_another_package(app, make_user):
    """A package's own describer decides the mail too: nothing in mail names the kind."""
    user = make_user()
    seen: list[str] = []

    def describe(facts: hooks.NoticeFacts) -> hooks.Notice | None:
        seen.append(facts.medium)
        return hooks.Notice("Til dig", facts.site("/et/sted"), {"said": "Fordi."})

    hooks.register_notification_kind(app, "test_mail_kind", describe)
    item = MailItem(
        user_id=user.id,
        kind=Kind.MODERATION,
        source="test_mail_kind",
        payload={},
        created_at=utcnow(),
    )
    found = compose.entry(user, item, utcnow())
    assert seen == ["mail"]
    assert found["text"] == "Til dig" and found["said"] == "Fordi."
    assert found["url"] == app.config["MAIL_BASE_URL"].rstrip("/") + "/et/sted"
    hooks.register_notification_kind(app, "test_mail_kind", lambda facts: None)
    assert compose.entry(user, item, utcnow()) is None
