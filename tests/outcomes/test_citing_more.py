"""An outcome cites more than its debate's posts: live Q&A answers, citizen-budget ideas and
contributions from meetings (other packages, through the forum's citable-source hook), each
with a note on its own page; what the writer may not see is refused with a form error."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from budgets.models import BallotStyle, BudgetProcess, Idea, IdeaState, Phase
from forum.errors import InvalidInput
from forum.extensions import db
from forum.models import PostState, utcnow
from meetings.models import Meeting, MeetingContribution, MeetingKind
from outcomes.models import CitationKind, OutcomeUpdate
from qa.models import EntryKind, QAEntry, QASession, SessionState

from .conftest import add


@pytest.fixture
def elsewhere(world, make_topic, make_post, make_user):
    """A Q&A answer, a meeting's contribution (posts in other topics) and a budget idea."""
    now = utcnow()
    qa_topic = make_topic(author=world.staff, title="Spørgetid")
    # The posts first: once the topic is a session's, only the session's pages write to it.
    question = make_post(qa_topic, world.citizen, "Kommer der en cykelsti?")
    answer = make_post(qa_topic, world.politician, "Ja, vi arbejder på cykelstien.")
    held_answer = make_post(qa_topic, world.politician, "Et svar under behandling.")
    held_answer.state = PostState.PENDING
    session = QASession(
        title="Spørg udvalget",
        debate_topic_id=qa_topic.id,
        starts_at=now - timedelta(hours=2),
        ends_at=now - timedelta(hours=1),
        state=SessionState.ENDED,
        created_by_id=world.staff.id,
    )
    db.session.add(session)
    db.session.flush()
    db.session.add_all(
        [
            QAEntry(post_id=question.id, session_id=session.id, kind=EntryKind.QUESTION),
            QAEntry(post_id=answer.id, session_id=session.id, kind=EntryKind.ANSWER),
            QAEntry(post_id=held_answer.id, session_id=session.id, kind=EntryKind.ANSWER),
        ]
    )
    meeting_topic = make_topic(author=world.staff, title="Borgermøde i Tølløse")
    meeting = Meeting(
        kind=MeetingKind("committee_local"),
        title="Borgermøde om trafik",
        starts_at=now - timedelta(days=1),
        ends_at=now - timedelta(days=1) + timedelta(hours=2),
        topic_id=meeting_topic.id,
        organiser_id=world.staff.id,
    )
    db.session.add(meeting)
    db.session.flush()
    said = make_post(meeting_topic, world.staff, "Flere ønskede lavere hastighed.")
    db.session.add(
        MeetingContribution(post_id=said.id, meeting_id=meeting.id, noted_by_id=world.staff.id)
    )
    process = BudgetProcess(
        title="Borgerbudget 2027",
        total_amount=1_000_000,
        ballot_style=BallotStyle.APPROVAL_BUDGET,
        phase=Phase.IDEAS,
        created_by_id=world.staff.id,
    )
    db.session.add(process)
    db.session.flush()
    idea = Idea(
        process_id=process.id,
        author_id=world.citizen.id,
        title="Cykelstativer ved stationen",
        estimated_cost=50_000,
        state=IdeaState.PUBLISHED,
    )
    pending_idea = Idea(
        process_id=process.id,
        author_id=world.citizen.id,
        title="En idé der venter",
        estimated_cost=10_000,
        state=IdeaState.PENDING,
    )
    db.session.add_all([idea, pending_idea])
    db.session.commit()
    return {
        "answer": answer,
        "held_answer": held_answer,
        "question": question,
        "said": said,
        "idea": idea,
        "pending_idea": pending_idea,
        "qa_topic": qa_topic,
    }


def test_an_update_cites_an_answer_an_idea_and_a_meeting_contribution(world, elsewhere):
    e = elsewhere
    update = add(
        world,
        citations=(
            f"{e['answer'].id}: Udvalget lovede det\n"
            f"idé {e['idea'].id}: Stativerne kommer med\n"
            f"https://example.org/borgerbudget/ideer/{e['idea'].id}\n"
            f"møde {e['said'].id}: Hastigheden sænkes\n"
            f"{world.posts[0].id}: Mange ønskede en cykelsti"
        ),
    )
    kinds = sorted((CitationKind(c.kind).value, c.target_id) for c in update.citations)
    assert kinds == sorted(
        [
            ("answer", e["answer"].id),
            ("idea", e["idea"].id),
            ("offline", e["said"].id),
            ("post", world.posts[0].id),
        ]
    )


@pytest.mark.parametrize(
    "line",
    [
        "svar {held_answer}: et svar der venter",
        "{question}: et spørgsmål er ikke et svar",
        "idé {pending_idea}: en idé der venter",
        "idé 999999: findes ikke",
    ],
)
def test_what_is_not_published_or_not_citable_is_refused(world, elsewhere, line):
    ids = {k: v.id for k, v in elsewhere.items()}
    with pytest.raises(InvalidInput) as refused:
        add(world, citations=line.format(**ids))
    assert "citations" in refused.value.fields
    db.session.rollback()


def test_the_form_keeps_the_text_and_says_why(world, elsewhere, client_for):
    c = client_for(world.staff)
    line = f"idé {elsewhere['pending_idea'].id}: venter"
    r = c.post(
        f"/emner/{world.topic.id}/resultat/ny",
        data={
            "status": "decided",
            "body": "committee",
            "decided_on": "2026-11-30",
            "text": "Udvalget har besluttet noget.",
            "citations": line,
        },
    )
    assert r.status_code == 400
    assert line in r.text
    assert "kan ikke citeres" in r.text
    assert db.session.scalar(select(func.count(OutcomeUpdate.id))) == 0


def test_each_cited_item_shows_the_outcome_on_its_own_page(world, elsewhere, client_for):
    e = elsewhere
    add(
        world,
        citations=f"{e['answer'].id}: lovet\nidé {e['idea'].id}: med\nmøde {e['said'].id}: ja",
    )
    anon = client_for(None)
    anon.set_cookie("lang", "en")
    title = world.topic.title
    for url in (
        f"/indlaeg/{e['answer'].id}",
        f"/indlaeg/{e['said'].id}",
        f"/borgerbudget/ideer/{e['idea'].id}",
    ):
        html = anon.get(url, follow_redirects=True).text
        assert f"Cited in the outcome of “{title}”" in html, url
        assert f"/emner/{world.topic.id}/resultat#u" in html
    outcome = anon.get(f"/emner/{world.topic.id}/resultat").text
    assert "Cykelstativer ved stationen" in outcome
    assert "Answer by" in outcome and "Spørg udvalget" in outcome
    assert "Borgermøde om trafik" in outcome


def test_an_item_hidden_after_it_was_cited_drops_out(world, elsewhere, client_for):
    e = elsewhere
    add(world, citations=f"idé {e['idea'].id}: med")
    e["idea"].state = IdeaState.REJECTED
    db.session.commit()
    outcome = client_for(None).get(f"/emner/{world.topic.id}/resultat").text
    assert "Cykelstativer ved stationen" not in outcome


def test_the_paths_of_cited_items_are_their_routes(app):
    """The sources write paths without a request (services): they must be the routes'."""
    from flask import url_for

    with app.test_request_context():
        assert url_for("budgets.idea", idea_id=17) == "/borgerbudget/ideer/17"
        assert url_for("forum.post", post_id=42) == "/indlaeg/42"
