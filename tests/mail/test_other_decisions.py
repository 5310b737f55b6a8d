"""Decisions on contributions other packages own are mailed as moderation decisions too: a
citizen-budget idea found (not) feasible, a live Q&A question merged into another."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import utcnow
from mail import services
from mail.models import Kind, MailItem, Mode

from .conftest import BASE_URL, text_part


def mails_to(mails, user):
    return [m for m in mails if m["To"] == user.email]


def budget_idea(make_user, make_area, author):
    from budgets import services as budgets
    from budgets.models import BallotStyle

    staff = make_user("admin", name="Ada Admin")
    process = budgets.create_process(
        staff,
        title="Borgerbudget 2027",
        description="Hvad skal pengene bruges til?",
        total_amount=1_000_000,
        rule="greedy",
        ballot_style=BallotStyle.APPROVAL_BUDGET,
    )
    budgets.advance_phase(staff, process)
    db.session.commit()
    idea = budgets.propose_idea(
        author,
        process,
        "Shelter ved Tuse Næs",
        "Et shelter til skoleklasser.",
        200_000,
        area_id=make_area().id,
    )
    db.session.commit()
    return staff, idea


def test_an_idea_found_not_feasible_is_mailed_with_the_municipality_s_reason(
    make_user, make_area, send
):
    from budgets import services as budgets

    author = make_user(name="Ida Idé")
    staff, idea = budget_idea(make_user, make_area, author)
    budgets.review_idea(staff, idea, False, "Grunden er fredet, så der må ikke bygges.")
    db.session.commit()
    item = db.session.query(MailItem).filter_by(user_id=author.id).one()
    assert item.kind == Kind.MODERATION and isinstance(item.payload["notification_id"], int)
    [mail] = mails_to(send(), author)
    text = text_part(mail)
    assert mail["Subject"] == "Your idea “Shelter ved Tuse Næs” was found not feasible."
    assert "The municipality wrote: “Grunden er fredet, så der må ikke bygges.”" in text
    assert f"{BASE_URL}/borgerbudget/ideer/{idea.id}" in text
    assert mail["List-Unsubscribe"]  # the moderation kind's one-click link


def test_idea_decisions_follow_the_moderation_preference(make_user, make_area, send):
    from budgets import services as budgets

    author = make_user(name="Ida Idé")
    services.set_preferences(author, {Kind.MODERATION: Mode.OFF})
    db.session.commit()
    staff, idea = budget_idea(make_user, make_area, author)
    budgets.review_idea(staff, idea, True, "Kan lade sig gøre.")
    db.session.commit()
    assert mails_to(send(), author) == []
    assert db.session.query(MailItem).filter_by(user_id=author.id).count() == 0


def test_a_merged_question_is_mailed_to_its_asker(make_user, make_committee, send):
    from qa import services as qa

    staff = make_user("moderator", name="Jens Bruun")
    politician = make_user("politician", name="Lone Bjerregaard")
    asker, other = make_user(name="Rita Rykker"), make_user(name="Ole Spørger")
    now = utcnow()
    session = qa.schedule_session(
        staff,
        "Spørgetid om trafik",
        "Stil dine spørgsmål.",
        now + timedelta(minutes=5),
        now + timedelta(hours=1),
        [politician.id],
        committee_id=make_committee().id,
        premoderated=False,
    )
    qa.start_session(staff, session)
    db.session.commit()
    first = qa.ask(other, session, "Hvornår kommer cykelstien til Tølløse?")
    dup = qa.ask(asker, session, "Kommer der snart en cykelsti i Tølløse?")
    db.session.commit()
    qa.merge(staff, session, dup.id, first.id)
    db.session.commit()
    [mail] = mails_to(send(), asker)
    assert "was merged with a similar question" in mail["Subject"]
    assert f"/indlaeg/{first.id}#p{first.id}" in text_part(mail)
    assert mails_to(send(), other) == []


class TestIdeaAppeals:
    """An idea rejected in moderation's queue and appealed: the outcome mail names the idea."""

    @pytest.fixture
    def app_config(self, mail_config) -> dict:
        return {**mail_config, "MODERATION_ENABLED": True}

    def test_the_appeal_outcome_names_the_idea(self, make_user, make_area, send):
        from moderation import services as mod
        from moderation.models import AuditEntry, DebateRule, QueueItem

        mod.ensure_default_rules()
        db.session.commit()
        spam = db.session.scalar(select(DebateRule).where(DebateRule.code == "spam"))
        author = make_user(name="Ida Idé")
        _staff, idea = budget_idea(make_user, make_area, author)
        first, second = make_user("moderator"), make_user("moderator")
        item = db.session.scalar(
            select(QueueItem).where(QueueItem.kind == "idea", QueueItem.target_id == idea.id)
        )
        mod.decide_item(first, item, "reject", spam.id, "Det ligner reklame.")
        db.session.commit()
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reject"))
        mod.appeal_decision(author, entry, "Det er en idé til byen, ikke reklame.")
        db.session.commit()
        appeal = db.session.scalar(select(QueueItem).where(QueueItem.kind == "appeal"))
        mod.decide_item(second, appeal, "grant", None, "Fair nok.")
        db.session.commit()
        mails = mails_to(send(), author)
        subjects = [m["Subject"] for m in mails]
        assert not any("“”" in s for s in subjects), subjects
        assert "Your appeal was granted: “Shelter ved Tuse Næs” is published again." in subjects
        granted = mails[
            subjects.index("Your appeal was granted: “Shelter ved Tuse Næs” is published again.")
        ]
        assert f"{BASE_URL}/borgerbudget/ideer/{idea.id}" in text_part(granted)
