"""Moderation mails carry the reason (debate rule, the moderator's words) and the way to
appeal, in the recipient's language; live Q&A reminders follow the events the live Q&A
package records (see mail/feed.py's docstring), once, on time, as the user chose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from forum import eventlog
from forum import services as forum_services
from forum.extensions import db
from forum.models import utcnow
from mail import services
from mail.digests import build_digests
from mail.models import ItemStatus, Kind, MailItem, MailMessage, Mode

from .conftest import BASE_URL, html_part, link, text_part


@pytest.fixture
def app_config(mail_config) -> dict:
    return {**mail_config, "MODERATION_ENABLED": True}


@pytest.fixture
def rules(app) -> dict:
    from moderation import services as mod
    from moderation.models import DebateRule

    mod.ensure_default_rules()
    db.session.commit()
    return {r.code: r for r in db.session.scalars(select(DebateRule))}


@pytest.fixture
def cast(make_user, make_topic, rules):
    author = make_user(name="Anna Afsender")
    moderator = make_user("moderator", name="Mona Moderator")
    topic = make_topic(author=make_user("admin"), title="Ny skolevej")
    return {"author": author, "moderator": moderator, "topic": topic}


def published(make_post, cast, body="Mit indlæg om skolevejen er meget vigtigt."):
    from forum.models import PostState

    post = make_post(cast["topic"], author=cast["author"], body=body)
    assert post.state == PostState.PUBLISHED, post.held_reason  # trusted enough here
    return post


def mails_to(mails, user):
    return [m for m in mails if m["To"] == user.email]


def hide(cast, post, rule="respect", text="Skriv om sagen, ikke om personen."):
    from moderation import services as mod

    entry = mod.moderate_post(cast["moderator"], post, "hide", rule_id=rule, text=text)
    db.session.commit()
    return entry


@pytest.fixture
def trusted(app):
    """Posts publish at once in these tests (no new-account hold)."""
    app.config["MODERATION_TRUST_THRESHOLD"] = 0
    app.config["MODERATION_LINK_TRUST_THRESHOLD"] = 0
    app.config["MODERATION_NEW_ACCOUNT_DAYS"] = 0


def test_a_decision_mail_names_the_rule_the_moderators_words_and_how_to_appeal(
    trusted, cast, make_post, send, client, login
):
    post = published(make_post, cast)
    entry = hide(cast, post)
    item = db.session.scalar(select(MailItem).where(MailItem.user_id == cast["author"].id))
    assert item.payload["notification_id"] == entry.notification_id  # kept in the transaction
    [mail] = mails_to(send(), cast["author"])
    text, html = text_part(mail), html_part(mail)
    assert mail["Subject"] == "Your post in “Ny skolevej” was hidden by a moderator."
    assert "Debate rule: No personal attacks" in text
    assert f"{BASE_URL}/debatregler#rule-respect" in text and "#rule-respect" in html
    assert "The moderator wrote: “Skriv om sagen, ikke om personen.”" in text
    assert "Mit indlæg om skolevejen er meget vigtigt." in text  # which post: the author's own
    assert "appeal it once" in text
    appeal = link(mail, "/afgoerelser/")
    assert appeal == f"/afgoerelser/{entry.id}/klage"
    assert f'href="{BASE_URL}{appeal}"' in html
    login(cast["author"])
    page = client.get(appeal)
    assert page.status_code == 200 and "<textarea" in page.get_data(as_text=True)


def test_the_reason_is_in_the_recipients_language(trusted, cast, make_post, send):
    cast["author"].locale = "da"
    db.session.commit()
    hide(cast, published(make_post, cast))
    [mail] = mails_to(send(), cast["author"])
    text = text_part(mail)
    assert mail["Content-Language"] == "da"
    assert "Ingen personangreb" in text and "No personal attacks" not in text
    assert "Skriv om sagen, ikke om personen." in text
    assert mail["Subject"] == "Dit indlæg i »Ny skolevej« blev skjult af en moderator."
    assert "Debatregel: Ingen personangreb" in text
    assert "Moderatoren skrev: »Skriv om sagen, ikke om personen.«" in text
    assert "/afgoerelser/" in text


def test_no_appeal_link_once_appealed_or_when_the_decision_cannot_be_appealed(
    trusted, cast, make_post, make_user, send
):
    from moderation import services as mod

    post = published(make_post, cast)
    entry = hide(cast, post)
    mod.appeal_decision(cast["author"], entry, "Jeg angreb ingen, jeg citerede blot.")
    db.session.commit()
    [mail] = mails_to(send(), cast["author"])  # composed after the appeal: nothing to offer
    assert "/afgoerelser/" not in text_part(mail)
    assert "No personal attacks" in text_part(mail)
    # The appeal is denied, with the moderator's words; no further appeal is offered.
    from moderation.models import QueueItem

    item = db.session.scalar(select(QueueItem).where(QueueItem.kind == "appeal"))
    second = make_user("moderator", name="Morten Moderator")  # not the one appealed against
    mod.decide_item(second, item, "deny", text="Indlægget nævner en navngiven nabo.")
    db.session.commit()
    [outcome] = mails_to(send(), cast["author"])
    text = text_part(outcome)
    assert "Your appeal about your post in “Ny skolevej” was denied." in outcome["Subject"]
    assert "The moderator wrote: “Indlægget nævner en navngiven nabo.”" in text
    assert "/afgoerelser/" not in text


def test_an_approval_mail_has_no_appeal_link(app, cast, make_post, send):
    from moderation import services as mod

    app.config["MODERATION_DEFAULT_MODE"] = "pre"
    post = make_post(cast["topic"], author=cast["author"], body="Venter på en moderator.")
    assert post.state.value == "pending"
    mod.moderate_post(cast["moderator"], post, "approve")
    db.session.commit()
    [mail] = mails_to(send(), cast["author"])
    assert mail["Subject"] == "Your post in “Ny skolevej” is approved and published."
    assert "/afgoerelser/" not in text_part(mail) and "Debate rule" not in text_part(mail)


def test_a_suspension_mail_says_why_and_until_when(cast, send, rules):
    from moderation import services as mod

    until = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    mod.suspend_user(
        cast["moderator"], cast["author"], "Gentagne personangreb.", until, rule_id="respect"
    )
    db.session.commit()
    [mail] = mails_to(send(), cast["author"])
    text = text_part(mail)
    assert mail["Subject"] == "Your account is suspended."
    assert "Reason: Gentagne personangreb." in text and "until" in text
    assert "Debate rule: No personal attacks" in text


def test_a_declined_proposal_says_why(cast, make_area, send, rules):
    from moderation import services as mod
    from moderation.models import QueueItem

    citizen = cast["author"]
    proposal = forum_services.create_topic(
        citizen, "Flyt rådhuset til Orø", "Det ville være smukt.", area_id=make_area().id
    )
    db.session.commit()
    assert proposal.status.value == "proposed"
    item = db.session.scalar(select(QueueItem).where(QueueItem.topic_id == proposal.id))
    mod.decide_item(
        cast["moderator"],
        item,
        "decline",
        rule_id="on-topic",
        text="Rådhusets placering er ikke til debat her.",
    )
    db.session.commit()
    [mail] = mails_to(send(), citizen)
    text = text_part(mail)
    assert "“Flyt rådhuset til Orø” was declined" in mail["Subject"]
    assert "Debate rule: Stay on topic" in text
    assert "Rådhusets placering er ikke til debat her." in text


def test_a_moderation_digest_carries_the_reasons_too(trusted, cast, make_post, send):
    services.set_preferences(cast["author"], {Kind.MODERATION: Mode.DAILY})
    db.session.commit()
    hide(cast, published(make_post, cast))
    assert mails_to(send(), cast["author"]) == []
    build_digests(utcnow() + timedelta(days=1, hours=1))
    [digest] = mails_to(send(now=utcnow() + timedelta(days=1, hours=1)), cast["author"])
    text = text_part(digest)
    assert "was hidden by a moderator" in text and "No personal attacks" in text
    assert "Skriv om sagen, ikke om personen." in text and "/afgoerelser/" in text


# --- live Q&A reminders ---------------------------------------------------------------------


def signup(user, qa_id=7, starts=None, title="Spørg borgmesteren"):
    """What the live Q&A package records when someone asks to be reminded (its own
    transaction; ``starts_at`` naive UTC as the forum stores it)."""
    starts = starts or (utcnow() + timedelta(days=3)).replace(microsecond=0)
    eventlog.record(
        "qa_signup",
        "qa",
        qa_id,
        f"user:{user.id}",
        {"starts_at": starts.isoformat(), "title": title, "path": f"/qa/{qa_id}"},
        user.id,
    )
    db.session.commit()
    return starts


@pytest.fixture
def citizen(make_user):
    return make_user(name="Rita Rykker")


def test_a_reminder_goes_out_once_an_hour_before_the_start(app, citizen, send):
    starts = signup(citizen)
    lead = timedelta(minutes=app.config["MAIL_QA_REMINDER_MINUTES"])
    assert mails_to(send(now=starts - lead - timedelta(minutes=1)), citizen) == []
    [mail] = mails_to(send(now=starts - lead + timedelta(seconds=30)), citizen)
    assert "Spørg borgmesteren" in mail["Subject"] and f"{BASE_URL}/qa/7" in text_part(mail)
    assert mail["List-Unsubscribe"]
    assert mails_to(send(now=starts - timedelta(minutes=5)), citizen) == []
    assert mails_to(send(now=starts + timedelta(hours=1)), citizen) == []


def test_signing_up_twice_or_again_after_the_reminder_still_reminds_once(app, citizen, send):
    starts = signup(citizen)
    signup(citizen, starts=starts)  # a second click
    assert (
        db.session.scalar(select(func.count(MailItem.id)).where(MailItem.user_id == citizen.id))
        == 1
    )
    [mail] = mails_to(send(now=starts - timedelta(minutes=30)), citizen)
    eventlog.record("qa_signoff", "qa", 7, f"user:{citizen.id}", {}, citizen.id)
    db.session.commit()
    signup(citizen, starts=starts)  # and on again, after the reminder went out
    assert mails_to(send(now=starts - timedelta(minutes=20)), citizen) == []


def test_signing_up_less_than_an_hour_before_reminds_at_once(citizen, send):
    starts = signup(citizen, starts=(utcnow() + timedelta(minutes=20)).replace(microsecond=0))
    [mail] = mails_to(send(), citizen)
    assert "Spørg borgmesteren" in mail["Subject"]
    assert starts > utcnow()


def test_a_session_that_already_started_queues_nothing(citizen, send):
    signup(citizen, starts=(utcnow() - timedelta(minutes=1)).replace(microsecond=0))
    assert (
        db.session.scalar(select(func.count(MailItem.id)).where(MailItem.user_id == citizen.id))
        == 0
    )


@pytest.mark.parametrize("mode", [Mode.OFF])
def test_off_means_no_reminder(citizen, send, mode):
    services.set_preferences(citizen, {Kind.QA_REMINDER: mode})
    db.session.commit()
    starts = signup(citizen)
    assert mails_to(send(now=starts - timedelta(minutes=30)), citizen) == []
    assert (
        db.session.scalar(select(func.count(MailItem.id)).where(MailItem.user_id == citizen.id))
        == 0
    )


def test_turning_reminders_off_after_signing_up_stops_the_reminder(citizen, send):
    starts = signup(citizen)
    services.set_preferences(citizen, {Kind.QA_REMINDER: Mode.OFF})
    db.session.commit()
    assert mails_to(send(now=starts - timedelta(minutes=30)), citizen) == []
    msg = db.session.scalar(select(MailMessage).where(MailMessage.user_id == citizen.id))
    assert msg.status.value == "skipped"


def test_a_renamed_session_keeps_its_reminder_and_a_moved_one_moves_it(citizen, send):
    starts = signup(citizen)
    eventlog.record("qa_changed", "qa", 7, "qa:7", {"title": "Spørg borgmester og byråd"})
    db.session.commit()
    later = starts + timedelta(days=1)
    eventlog.record(
        "qa_changed", "qa", 7, "qa:7", {"starts_at": later.replace(tzinfo=UTC).isoformat()}
    )
    db.session.commit()
    assert mails_to(send(now=starts - timedelta(minutes=30)), citizen) == []
    [mail] = mails_to(send(now=later - timedelta(minutes=30)), citizen)
    assert "Spørg borgmester og byråd" in mail["Subject"]


def test_a_garbled_time_changes_nothing_and_a_cancelled_session_cancels(citizen, send):
    starts = signup(citizen)
    eventlog.record("qa_changed", "qa", 7, "qa:7", {"starts_at": "next tuesday"})
    db.session.commit()
    item = db.session.scalar(select(MailItem).where(MailItem.user_id == citizen.id))
    assert item.status == ItemStatus.QUEUED and item.expires_at == starts
    eventlog.record("qa_changed", "qa", 7, "qa:7", {"cancelled": True})
    db.session.commit()
    assert mails_to(send(now=starts - timedelta(minutes=30)), citizen) == []
    db.session.refresh(item)
    assert item.status == ItemStatus.DROPPED


def test_other_sessions_and_other_people_are_untouched(citizen, make_user, send):
    other = make_user(name="Ole Anden")
    starts = signup(citizen)
    signup(other, starts=starts)
    signup(citizen, qa_id=8, starts=starts, title="Spørg udvalget")
    eventlog.record("qa_signoff", "qa", 7, f"user:{other.id}", {}, other.id)
    eventlog.record("qa_changed", "qa", 8, "qa:8", {"cancelled": True})
    db.session.commit()
    got = send(now=starts - timedelta(minutes=30))
    assert [m["Subject"] for m in mails_to(got, other)] == []
    [mail] = mails_to(got, citizen)
    assert "Spørg borgmesteren" in mail["Subject"]


def test_the_reminder_shows_the_local_time_in_the_users_language(citizen, send):
    citizen.locale = "da"
    db.session.commit()
    starts = datetime(2031, 6, 5, 16, 0)  # 18:00 in Copenhagen (summer time)
    signup(citizen, starts=starts)
    [mail] = mails_to(send(now=starts - timedelta(minutes=30)), citizen)
    assert "18.00" in mail["Subject"] or "18:00" in mail["Subject"]
    assert mail["Content-Language"] == "da"


def test_the_live_qa_package_s_own_events_drive_the_reminders(
    make_user, make_committee, rules, send
):
    """Through qa.services, as people use it: sign up, the session moves, a second session
    is cancelled before it starts."""
    from qa import services as qa

    staff = make_user("moderator", name="Jens Bruun")
    politician = make_user("politician", name="Lone Bjerregaard")
    citizen = make_user(name="Rita Rykker")
    committee = make_committee(name="Økonomiudvalget")
    starts = (utcnow() + timedelta(days=2)).replace(microsecond=0)

    def schedule(title):
        return qa.schedule_session(
            staff,
            title,
            "Stil dine spørgsmål.",
            starts,
            starts + timedelta(hours=1),
            [politician.id],
            committee_id=committee.id,
        )

    first, second = schedule("Spørgetid om budgettet"), schedule("Spørgetid om skolerne")
    db.session.commit()
    qa.set_signup(citizen, first, True)
    qa.set_signup(citizen, second, True)
    db.session.commit()
    qa.set_signup(citizen, first, True)  # clicked twice
    db.session.commit()
    moved = starts + timedelta(hours=3)
    qa.edit_session(
        staff,
        first,
        first.title,
        first.description_source,
        moved,
        moved + timedelta(hours=1),
        [politician.id],
        first.premoderated,
        first.advance_questions,
    )
    qa.end_session(staff, second)  # cancelled before it took place
    db.session.commit()
    assert mails_to(send(now=starts - timedelta(minutes=30)), citizen) == []
    [mail] = mails_to(send(now=moved - timedelta(minutes=30)), citizen)
    assert "Spørgetid om budgettet" in mail["Subject"]
    assert f"/spoergetid/{first.id}" in text_part(mail)
    assert mails_to(send(now=moved - timedelta(minutes=10)), citizen) == []


def test_a_decision_undone_before_its_mail_left_is_not_mailed(trusted, cast, make_post, send):
    from moderation import services as mod

    post = published(make_post, cast)
    hide(cast, post)
    mod.moderate_post(cast["moderator"], post, "restore", text="Fejl, undskyld.")
    db.session.commit()
    [mail] = mails_to(send(), cast["author"])  # only the restore: the hiding no longer holds
    assert mail["Subject"] == "Your post in “Ny skolevej” is public again."
    assert "Fejl, undskyld." in text_part(mail)
