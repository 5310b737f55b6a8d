"""Services: the happy path, and every bad input of the issue refused with a clear error
while nothing changes (no post, entry, vote, event or status is written)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum import services as forum_services
from forum.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.models import Event, Notification, Post, PostState, TopicStatus, utcnow
from moderation.models import AuditEntry, ModerationMode
from qa import services
from qa.models import QAEntry, QASession, QAVote, QuestionStatus, SessionState

from .conftest import approved_question


def snapshot() -> tuple:
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count(Post.id))),
        db.session.scalar(select(func.count()).select_from(QAEntry)),
        db.session.scalar(select(func.count()).select_from(QAVote)),
        db.session.scalar(select(func.max(Event.id))),
        tuple(
            db.session.execute(
                select(
                    QAEntry.post_id, QAEntry.status, QAEntry.vote_count, QAEntry.merged_into_id
                ).order_by(QAEntry.post_id)
            )
        ),
        tuple(db.session.execute(select(QASession.id, QASession.state, QASession.pinned_post_id))),
    )


def refused(exc_type, fn, *args, match: str | None = None, **kwargs):
    before = snapshot()
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    db.session.rollback()
    assert snapshot() == before, "a refused action changed something"
    text = " ".join([info.value.message, *info.value.fields.values()])
    assert text.strip(), "the error must say what is wrong"
    if match:
        assert re.search(match, text, re.I), text
    return info.value


def test_schedule_makes_a_premoderated_debate_topic(world):
    s = world.session
    topic = s.debate_topic
    assert topic.status == TopicStatus.OPEN and topic.title == s.title
    mode = db.session.scalar(select(ModerationMode).where(ModerationMode.topic_id == topic.id))
    assert mode.mode == "pre"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "mode_set"))
    assert {p.id for p in s.politicians} == {world.politician.id, world.other_politician.id}


def test_question_is_held_then_approved_through_moderation(world):
    post = services.ask(world.citizen, world.session, "Hvornår kommer cykelstien til Tølløse?")
    db.session.commit()
    assert post.state == PostState.PENDING and "pre_moderation" in post.held_reason
    services.moderate_question(world.staff, world.session, post.id, "approve")
    db.session.commit()
    assert post.state == PostState.PUBLISHED
    actions = set(
        db.session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.target_type == "post", AuditEntry.target_id == post.id
            )
        )
    )
    assert {"hold", "approve"} <= actions


def test_reject_needs_a_rule_and_tells_the_author(world, rules):
    post = services.ask(world.citizen, world.session, "Et spørgsmål der skal afvises her.")
    db.session.commit()
    refused(InvalidInput, services.moderate_question, world.staff, world.session, post.id, "reject")
    services.moderate_question(
        world.staff,
        world.session,
        post.id,
        "reject",
        rules["personal-attacks"].id
        if "personal-attacks" in rules
        else next(iter(rules.values())).id,
    )
    db.session.commit()
    assert post.state == PostState.REJECTED
    assert db.session.scalar(
        select(Notification).where(
            Notification.user_id == world.citizen.id, Notification.kind == "moderation_decision"
        )
    )


def test_votes_answers_statement_pin_and_status(world):
    q = approved_question(world)
    assert services.set_vote(world.citizens[1], world.session, q.id, True) == 1
    assert services.set_vote(world.citizens[2], world.session, q.id, True) == 2
    assert services.set_vote(world.citizens[2], world.session, q.id, False) == 1
    services.pin(world.staff, world.session, q.id)
    a1 = services.answer(world.politician, world.session, q.id, "Vi **bygger** den i 2027.")
    a2 = services.answer(world.other_politician, world.session, q.id, "Og vi følger op.")
    st = services.statement(world.politician, world.session, "Tak fordi I er med i aften.")
    db.session.commit()
    # The politicians' answers are published at once, even in a pre-moderated session.
    assert [a1.state, a2.state, st.state] == [PostState.PUBLISHED] * 3
    assert "<strong>bygger</strong>" in a1.body_html and a1.parent_id == q.id
    assert world.session.pinned_post_id == q.id
    services.set_status(world.staff, world.session, q.id, "answered")
    db.session.commit()
    entry = db.session.get(QAEntry, q.id)
    assert entry.status == QuestionStatus.ANSWERED and world.session.pinned_post_id is None
    kinds = [
        e.kind
        for e in db.session.scalars(
            select(Event).where(Event.room == f"qa:{world.session.id}").order_by(Event.id)
        )
    ]
    assert kinds[-6:] == [
        "qa_votes",
        "qa_votes",
        "qa_votes",
        "qa_pinned",
        "qa_question",
        "qa_pinned",
    ]


def test_merge_combines_votes_and_askers_and_tells_them(world):
    a = approved_question(world, world.citizens[0], "Hvornår kommer cykelstien til Tølløse?")
    b = approved_question(world, world.citizens[1], "Kommer der snart en cykelsti i Tølløse?")
    services.set_vote(world.citizens[2], world.session, a.id, True)
    services.set_vote(world.citizens[3], world.session, a.id, True)
    services.set_vote(world.citizens[2], world.session, b.id, True)  # voted for both
    services.set_vote(world.citizens[0], world.session, b.id, True)  # a's asker voted for b
    db.session.commit()
    target = services.merge(world.staff, world.session, b.id, a.id)
    db.session.commit()
    dup = db.session.get(QAEntry, b.id)
    assert dup.status == QuestionStatus.MERGED and dup.merged_into_id == a.id
    # citizens 2 and 3 count once each; citizen 0 is now an asker of a (no own vote).
    assert target.vote_count == 2
    assert set(db.session.scalars(select(QAVote.user_id).where(QAVote.post_id == a.id))) == {
        world.citizens[2].id,
        world.citizens[3].id,
    }
    assert services.askers(world.session, target) == {world.citizens[0].id, world.citizens[1].id}
    told = db.session.scalar(select(Notification).where(Notification.kind == "qa_merged"))
    assert told.user_id == world.citizens[1].id and told.post_id == a.id
    # b's asker may no longer vote for a (it is their question too now).
    refused(PermissionDenied, services.set_vote, world.citizens[1], world.session, a.id, True)


# --- bad input: a clear error, nothing changes --------------------------------------------


def test_asking_in_an_ended_or_not_yet_open_session(world, make_session):
    closed = make_session(
        world.staff,
        [world.politician],
        live=False,
        advance=False,
        title="Spørgetid uden forhåndsspørgsmål",
    )
    refused(
        Conflict,
        services.ask,
        world.citizen,
        closed,
        "Et spørgsmål før start her.",
        match="starter|starts|begynder",
    )
    services.end_session(world.staff, world.session)
    db.session.commit()
    refused(
        Conflict,
        services.ask,
        world.citizen,
        world.session,
        "Et spørgsmål efter slut.",
        match="slut|ended",
    )


def test_advance_questions_allowed_when_scheduled(world, make_session):
    early = make_session(
        world.staff,
        [world.politician],
        live=False,
        advance=True,
        title="Spørgetid med forhåndsspørgsmål",
    )
    post = services.ask(world.citizen, early, "Et spørgsmål på forhånd, tak.")
    assert post.state == PostState.PENDING


@pytest.mark.parametrize("body", ["", "   ", "for kort", "x" * 501])
def test_oversized_or_empty_question(world, body):
    err = refused(InvalidInput, services.ask, world.citizen, world.session, body)
    assert "10" in err.fields["body"] and "500" in err.fields["body"]


def test_voting_twice_withdrawing_nothing_and_own_question(world):
    q = approved_question(world)
    services.set_vote(world.citizens[1], world.session, q.id, True)
    db.session.commit()
    refused(
        Conflict,
        services.set_vote,
        world.citizens[1],
        world.session,
        q.id,
        True,
        match="allerede|already",
    )
    refused(Conflict, services.set_vote, world.citizens[2], world.session, q.id, False)
    refused(PermissionDenied, services.set_vote, world.citizen, world.session, q.id, True)
    refused(InvalidInput, services.set_vote, world.citizens[1], world.session, q.id, "yes")


def test_voting_for_a_pending_rejected_or_merged_question(world, rules):
    pending = services.ask(world.citizens[1], world.session, "Et spørgsmål der venter her.")
    db.session.commit()
    # Someone who may not see it: the same answer as for a question that does not exist.
    refused(NotFound, services.set_vote, world.citizens[2], world.session, pending.id, True)
    refused(Conflict, services.set_vote, world.staff, world.session, pending.id, True)
    services.moderate_question(
        world.staff, world.session, pending.id, "reject", next(iter(rules.values())).id
    )
    db.session.commit()
    refused(NotFound, services.set_vote, world.citizens[2], world.session, pending.id, True)
    a = approved_question(world, world.citizens[3], "Første udgave af spørgsmålet her.")
    b = approved_question(world, world.citizens[4], "Anden udgave af spørgsmålet her.")
    services.merge(world.staff, world.session, b.id, a.id)
    db.session.commit()
    refused(
        Conflict,
        services.set_vote,
        world.citizens[2],
        world.session,
        b.id,
        True,
        match="sammen|merged",
    )


def test_answering_as_non_politician_or_outsider(world):
    q = approved_question(world)
    refused(
        PermissionDenied,
        services.answer,
        world.citizens[1],
        world.session,
        q.id,
        "Jeg svarer bare selv.",
    )
    refused(
        PermissionDenied,
        services.answer,
        world.outsider_politician,
        world.session,
        q.id,
        "Jeg er ikke med i denne spørgetid.",
    )
    refused(PermissionDenied, services.statement, world.staff, world.session, "En udtalelse.")


def test_answer_text_and_state_rules(world, make_session):
    q = approved_question(world)
    refused(InvalidInput, services.answer, world.politician, world.session, q.id, "  ")
    refused(InvalidInput, services.answer, world.politician, world.session, q.id, "x" * 5001)
    refused(InvalidInput, services.statement, world.politician, world.session, "x" * 1001)
    pending = services.ask(world.citizens[1], world.session, "Et spørgsmål der venter her.")
    db.session.commit()
    refused(Conflict, services.answer, world.politician, world.session, pending.id, "Svar.")
    later = make_session(world.staff, [world.politician], live=False, title="Senere spørgetid")
    refused(Conflict, services.statement, world.politician, later, "For tidligt.")


def test_merge_into_itself_unknown_ids_and_wrong_session(world, make_session):
    a = approved_question(world)
    refused(
        InvalidInput,
        services.merge,
        world.staff,
        world.session,
        a.id,
        a.id,
        match="sig selv|itself",
    )
    for bad in (999999, "abc", None, -1, True):
        refused((NotFound, InvalidInput), services.merge, world.staff, world.session, a.id, bad)
        refused(
            (NotFound, InvalidInput), services.set_vote, world.citizens[1], world.session, bad, True
        )
        refused(
            (NotFound, InvalidInput), services.answer, world.politician, world.session, bad, "Svar."
        )
        refused(
            (NotFound, InvalidInput),
            services.pin,
            world.staff,
            world.session,
            bad if bad is not None else 999999,
        )
    other = make_session(world.staff, [world.politician], title="En anden spørgetid")
    refused(NotFound, services.set_vote, world.citizens[1], other, a.id, True)
    refused(NotFound, services.get_session, 999999)
    # An answer is not a question.
    ans = services.answer(world.politician, world.session, a.id, "Et svar.")
    db.session.commit()
    refused(NotFound, services.set_vote, world.citizens[1], world.session, ans.id, True)


def test_only_staff_moderate_and_schedule(world):
    q = approved_question(world)
    for fn, args in (
        (services.pin, (q.id,)),
        (services.set_status, (q.id, "closed")),
        (services.merge, (q.id, q.id)),
        (services.end_session, ()),
        (services.moderate_question, (q.id, "approve")),
    ):
        refused(PermissionDenied, fn, world.citizen, world.session, *args)
    refused(
        PermissionDenied,
        services.schedule_session,
        world.politician,
        "Min egen spørgetid",
        "Beskrivelse",
        utcnow() + timedelta(hours=1),
        utcnow() + timedelta(hours=2),
        [world.politician.id],
        committee_id=world.session.committee_id,
    )


def test_schedule_validation(world):
    now = utcnow()
    good = dict(
        title="Spørgetid om skoler",
        description="Beskrivelse",
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(hours=2),
        politician_ids=[world.politician.id],
        committee_id=world.session.committee_id,
    )
    for change, field in (
        ({"title": "abc"}, "title"),
        ({"description": ""}, "description"),
        ({"ends_at": now + timedelta(minutes=30)}, "ends_at"),
        ({"starts_at": None}, "starts_at"),
        ({"politician_ids": []}, "politician_ids"),
        ({"politician_ids": [world.citizen.id]}, "politician_ids"),
        ({"committee_id": None}, "committee_id"),
        ({"topic_id": 999999}, "topic_id"),
    ):
        err = refused(InvalidInput, services.schedule_session, world.staff, **{**good, **change})
        assert field in err.fields


def test_suspended_and_unverified_users_watch_but_do_not_act(world, app):
    from moderation import services as moderation_services

    q = approved_question(world)
    moderation_services.suspend_user(world.staff, world.citizens[1], "Grove personangreb")
    db.session.commit()
    refused(
        PermissionDenied,
        services.ask,
        world.citizens[1],
        world.session,
        "Et spørgsmål fra en udelukket bruger.",
        match="udelukket|suspended",
    )
    refused(PermissionDenied, services.set_vote, world.citizens[1], world.session, q.id, True)
    app.config["MAIL_REQUIRE_VERIFICATION"] = True
    world.citizens[2].email_verified_at = None
    db.session.commit()
    refused(
        PermissionDenied,
        services.ask,
        world.citizens[2],
        world.session,
        "Et spørgsmål fra en ubekræftet konto.",
    )
    refused(PermissionDenied, services.set_vote, world.citizens[2], world.session, q.id, True)


def test_forum_pages_cannot_bypass_the_rules(world):
    q = approved_question(world)
    topic = world.session.debate_topic
    refused(
        PermissionDenied,
        forum_services.create_post,
        world.citizens[1],
        topic,
        "x",
        match="spørgetid|Q&A",
    )
    refused(
        PermissionDenied,
        forum_services.create_post,
        world.citizens[1],
        topic,
        "Et svar udenom",
        parent_id=q.id,
    )
    refused(PermissionDenied, forum_services.edit_post, world.citizen, q, "x")
    refused(PermissionDenied, forum_services.toggle_support, world.citizens[1], q)


def test_session_ends_by_itself(world, runner):
    world.session.ends_at = utcnow() - timedelta(minutes=31)
    db.session.commit()
    result = runner.invoke(args=["qa", "tick"])
    assert "Ended 1 session" in result.output
    db.session.expire_all()
    assert world.session.state == SessionState.ENDED
    assert world.session.debate_topic.status == TopicStatus.CLOSED
    assert runner.invoke(args=["qa", "tick"]).output.startswith("Ended 0")


def test_signup_emits_the_mail_events(world, make_session):
    later = make_session(world.staff, [world.politician], live=False, title="Spørgetid senere")
    services.set_signup(world.citizen, later, True)
    db.session.commit()
    ev = db.session.scalar(select(Event).where(Event.kind == "qa_signup"))
    assert ev.room == f"user:{world.citizen.id}" and ev.subject_type == "qa"
    assert ev.payload["path"] == f"/spoergetid/{later.id}" and ev.payload["starts_at"]
    new_start = later.starts_at + timedelta(hours=1)
    services.edit_session(
        world.staff,
        later,
        later.title,
        later.description_source,
        new_start,
        later.ends_at + timedelta(hours=1),
        [world.politician.id],
        later.premoderated,
        later.advance_questions,
    )
    services.set_signup(world.citizen, later, False)
    services.end_session(world.staff, later)
    db.session.commit()
    kinds = list(
        db.session.scalars(
            select(Event.kind)
            .where(Event.subject_type == "qa", Event.subject_id == later.id)
            .order_by(Event.id)
        )
    )
    assert "qa_changed" in kinds and "qa_signoff" in kinds
    cancelled = db.session.scalars(
        select(Event).where(Event.kind == "qa_changed").order_by(Event.id.desc())
    ).first()
    assert cancelled.payload.get("cancelled") is True
    refused(Conflict, services.set_signup, world.citizen, world.session, True)


def test_reminder_mail_is_queued_moved_and_cancelled(world, make_session):
    """The mail package turns the qa_signup / qa_changed events into a reminder mail."""
    from mail.models import ItemStatus, Kind, MailItem

    later = make_session(world.staff, [world.politician], live=False, title="Spørgetid senere")
    services.set_signup(world.citizen, later, True)
    db.session.commit()
    item = db.session.scalar(select(MailItem).where(MailItem.kind == Kind.QA_REMINDER))
    assert item is not None and item.user_id == world.citizen.id
    assert item.expires_at == later.starts_at
    lead = timedelta(minutes=60)
    assert abs(item.message.due_at - (later.starts_at - lead)) < timedelta(
        seconds=1
    ) or item.message.due_at >= utcnow() - timedelta(seconds=5)
    moved = later.starts_at + timedelta(hours=2)
    services.edit_session(
        world.staff,
        later,
        later.title,
        later.description_source,
        moved,
        moved + timedelta(hours=1),
        [world.politician.id],
        True,
        True,
    )
    db.session.commit()
    db.session.expire_all()
    item = db.session.get(MailItem, item.id)
    assert item.expires_at == moved
    services.end_session(world.staff, later)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(MailItem, item.id).status == ItemStatus.DROPPED
