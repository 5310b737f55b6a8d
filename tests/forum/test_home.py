"""The home page: "Active topics" lists real debates only, and the home page links the
citizen budgets open for voting or collecting ideas and the live and upcoming Q&A sessions.

Budget ideas and Q&A sessions open forum topics of their own (an idea's debate thread, a
session's questions); those are not debates to list among the active topics."""

from __future__ import annotations

import re
from datetime import timedelta

from budgets import services as budgets
from budgets.models import BallotStyle, Phase
from forum.extensions import db
from forum.models import utcnow
from qa import services as qa


def _section(html: str, heading_id: str) -> str:
    """The HTML of the <section> labelled by ``heading_id``."""
    match = re.search(
        rf'<section[^>]*aria-labelledby="{heading_id}"[^>]*>(.*?)</section>', html, re.S
    )
    assert match, f"no section labelled {heading_id}"
    return match.group(1)


def _process(admin, title: str, phase: Phase, area):
    process = budgets.create_process(
        admin,
        title=title,
        description="Hvad skal pengene bruges til?",
        total_amount=1_000_000,
        rule="greedy",
        ballot_style=BallotStyle.APPROVAL_BUDGET,
    )
    while process.phase != Phase.IDEAS:
        budgets.advance_phase(admin, process)
    idea = budgets.propose_idea(
        admin, process, f"Idé i {title}", "En ny legeplads.", 400_000, area_id=area.id
    )
    if phase == Phase.VOTING:
        budgets.review_idea(admin, idea, True, "Kan lade sig gøre.")
        while process.phase != Phase.VOTING:
            budgets.advance_phase(admin, process)
    db.session.commit()
    return process, idea


def test_active_topics_are_real_debates_and_home_links_budgets_and_sessions(
    client, make_user, make_topic, make_committee, make_area
):
    admin = make_user("admin")
    politician = make_user("politician")
    committee, area = make_committee(), make_area()
    debate = make_topic(admin, committee=committee, title="Cykelsti langs skolevejen")
    voting, voting_idea = _process(admin, "Borgerbudget 2026", Phase.VOTING, area)
    ideas, idea = _process(admin, "Borgerbudget 2027", Phase.IDEAS, area)
    draft = budgets.create_process(
        admin,
        title="Borgerbudget i kladde",
        description="Kun for personalet.",
        total_amount=1_000,
        rule="greedy",
        ballot_style=BallotStyle.APPROVAL_BUDGET,
    )
    now = utcnow()
    live = qa.schedule_session(
        admin,
        "Spørgetid om skolevejen",
        "Stil dine spørgsmål.",
        now + timedelta(minutes=5),
        now + timedelta(hours=1),
        [politician.id],
        committee_id=committee.id,
    )
    qa.start_session(admin, live)
    upcoming = qa.schedule_session(
        admin,
        "Spørgetid om budgettet",
        "Stil dine spørgsmål på forhånd.",
        now + timedelta(days=3),
        now + timedelta(days=3, hours=1),
        [politician.id],
        committee_id=committee.id,
    )
    db.session.commit()
    assert voting_idea.topic_id and idea.topic_id, "ideas open debate threads"

    html = client.get("/").get_data(as_text=True)
    active = _section(html, "active-h")
    assert f'href="/emner/{debate.id}"' in active
    for owned in (voting_idea.topic_id, idea.topic_id, live.debate_topic_id):
        assert f'href="/emner/{owned}"' not in active, owned
    assert f'href="/emner/{upcoming.debate_topic_id}"' not in active

    box = _section(html, "budget-box-h")
    assert f'href="/borgerbudget/{voting.id}/stemmeseddel"' in box
    assert f'href="/borgerbudget/{ideas.id}/ideer/ny"' in box
    assert f"/borgerbudget/{draft.id}" not in html  # drafts are for staff only
    sessions = _section(html, "qa-box-h")
    assert f'href="/spoergetid/{live.id}"' in sessions
    assert f'href="/spoergetid/{upcoming.id}"' in sessions


def test_the_ten_active_topics_are_not_crowded_out_by_ideas(
    client, make_user, make_topic, make_area
):
    admin = make_user("admin")
    area = make_area()
    debates = [make_topic(admin, area=area, title=f"Debat nummer {n}") for n in range(3)]
    process, _idea = _process(admin, "Borgerbudget 2027", Phase.IDEAS, area)
    for n in range(12):  # newer activity than the debates
        budgets.propose_idea(admin, process, f"Endnu en idé {n}", "Tekst.", 1_000, area_id=area.id)
    db.session.commit()
    active = _section(client.get("/").get_data(as_text=True), "active-h")
    for t in debates:
        assert f'href="/emner/{t.id}"' in active
    assert active.count('class="topic-item') == 3
