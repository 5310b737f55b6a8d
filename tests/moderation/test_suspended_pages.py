"""A suspended user is told on the page that they are suspended, until when (no seconds) and
why, and sees no write controls anywhere (reply, new topic, support, report, Q&A ask and
vote, budget idea, support and vote); the services still refuse with 403 as the last line."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from budgets import services as budget_services
from budgets.models import BallotStyle, Phase
from forum.errors import PermissionDenied
from forum.extensions import db
from forum.models import utcnow
from moderation import services
from qa import services as qa_services

# 14.30 in Copenhagen (winter time, UTC+1), stored as naive UTC.
UNTIL = datetime(2099, 1, 12, 13, 30)


@pytest.fixture
def scene(make_user, make_area, make_committee, make_topic, in_state, admin):
    area = make_area("Tølløse")
    user = make_user(name="Susanne Suspended")
    other = make_user(name="Ole Other")
    topic = make_topic(author=admin, area=area)
    post = in_state("published", topic, author=other)
    own = in_state("published", topic, author=user)
    # A citizen budget collecting ideas, and one in voting.
    collecting = budget_services.create_process(
        admin,
        title="Borgerbudget Tølløse",
        description="Idéer",
        total_amount=500_000,
        rule="greedy",
        ballot_style=BallotStyle.APPROVAL_BUDGET,
    )
    budget_services.advance_phase(admin, collecting)
    idea = budget_services.propose_idea(
        admin, collecting, "Bænke ved søen", "Flere bænke.", 20_000, area_id=area.id
    )
    voting = budget_services.create_process(
        admin,
        title="Borgerbudget Jyderup",
        description="Stem",
        total_amount=500_000,
        rule="greedy",
        ballot_style=BallotStyle.APPROVAL_BUDGET,
    )
    budget_services.advance_phase(admin, voting)
    feasible = budget_services.propose_idea(
        admin, voting, "Legeplads", "En legeplads.", 100_000, area_id=area.id
    )
    budget_services.review_idea(admin, feasible, True, "Kan lade sig gøre.")
    while voting.phase != Phase.VOTING:
        budget_services.advance_phase(admin, voting)
    # A live Q&A session with a published question by someone else.
    politician = make_user("politician", name="Lone Politiker")
    now = utcnow()
    session = qa_services.schedule_session(
        admin,
        "Spørgetid",
        "Spørg løs.",
        now + timedelta(minutes=5),
        now + timedelta(hours=1),
        [politician.id],
        committee_id=make_committee().id,
        premoderated=False,
        advance_questions=True,
    )
    qa_services.start_session(admin, session)
    question = qa_services.ask(other, session, "Hvornår kommer cykelstien?")
    db.session.commit()
    services.suspend_user(admin, user, "Gentagne personangreb", UNTIL)
    db.session.commit()
    return {
        "user": user,
        "area": area,
        "topic": topic,
        "post": post,
        "own": own,
        "collecting": collecting,
        "idea": idea,
        "voting": voting,
        "feasible": feasible,
        "session": session,
        "question": question,
    }


def _forms(html: str) -> list[str]:
    """The actions of the page's POST forms (the language switch and logout excepted)."""
    actions = re.findall(r'<form[^>]*method="post"[^>]*action="([^"]+)"', html)
    return [a for a in actions if a not in ("/sprog", "/logout")]


def test_every_page_tells_and_shows_no_write_controls(as_user, scene):
    s = scene
    client = as_user(s["user"])  # Danish, the site's default
    pages = {
        "topic": f"/emner/{s['topic'].id}",
        "post": f"/indlaeg/{s['post'].id}",
        "area": f"/omraader/{s['area'].slug}",
        "process": f"/borgerbudget/{s['collecting'].id}",
        "idea": f"/borgerbudget/ideer/{s['idea'].id}",
        "ballot": f"/borgerbudget/{s['voting'].id}/stemmeseddel",
        "qa": f"/spoergetid/{s['session'].id}",
    }
    for name, url in pages.items():
        r = client.get(url)
        assert r.status_code == 200, (name, r.status_code)
        html = r.get_data(as_text=True)
        assert "Du er udelukket fra at skrive indtil 12. januar 2099 kl. 14.30." in html, name
        assert "Gentagne personangreb" in html, name
        forms = _forms(html)
        # Following, deleting or withdrawing one's own, and the ballot page's area chooser
        # (its voting buttons are checked below) are not writing.
        allowed = ("/foelg", "/slet", "/traek-tilbage", "/notifikationer", "/stemmeseddel")
        writes = [a for a in forms if not any(k in a for k in allowed)]
        assert writes == [], (name, writes)
        for link in ("/svar", "/rediger", "/anmeld", "/emner/nyt", "/ideer/ny"):
            assert link not in html, (name, link)
    ballot = client.get(pages["ballot"]).get_data(as_text=True)
    assert "Du kan ikke stemme, mens du er udelukket" in ballot
    assert "ballot-buttons" not in ballot  # no cast button
    assert re.search(r'<input type="checkbox"[^>]*name="idea"[^>]*disabled>', ballot)
    topic = client.get(pages["topic"]).get_data(as_text=True)
    assert "Du kan ikke skrive, mens du er udelukket" in topic


def test_write_pages_and_services_still_refuse(as_user, scene):
    s = scene
    user = s["user"]
    client = as_user(user, "en")
    for url in ("/emner/nyt", f"/indlaeg/{s['post'].id}/svar", f"/indlaeg/{s['own'].id}/rediger"):
        r = client.get(url)
        assert r.status_code == 403 and "Gentagne personangreb" in r.get_data(as_text=True), url
    r = client.get(f"/borgerbudget/{s['collecting'].id}/ideer/ny")
    assert r.status_code == 403 and "Gentagne personangreb" in r.get_data(as_text=True)
    r = client.post(f"/emner/{s['topic'].id}/indlaeg", data={"body": "Må jeg?"})
    assert r.status_code == 403
    for call in (
        lambda: budget_services.propose_idea(
            user, s["collecting"], "Min idé", "Tekst", 1000, area_id=s["area"].id
        ),
        lambda: budget_services.toggle_support(user, s["idea"]),
        lambda: budget_services.cast_ballot(user, s["voting"], [s["feasible"].id]),
        lambda: qa_services.ask(user, s["session"], "Et spørgsmål?"),
        lambda: services.report_post(user, s["post"], "spam"),
    ):
        with pytest.raises(PermissionDenied):
            call()
        db.session.rollback()


def test_pages_show_write_controls_again_when_the_suspension_is_lifted(as_user, scene, admin):
    s = scene
    services.lift_suspension(admin, services.active_suspension(s["user"].id))
    db.session.commit()
    html = as_user(s["user"]).get(f"/emner/{s['topic'].id}").get_data(as_text=True)
    assert "udelukket" not in html
    assert f"/emner/{s['topic'].id}/indlaeg" in _forms(html)
    assert f"/indlaeg/{s['post'].id}/svar" in html and "/stoet" in html
