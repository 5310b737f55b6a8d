"""The pages: staff set up a process, citizens propose and vote without JavaScript, everyone
reads the result; one h1 per page, labelled controls, errors tied to their fields."""

from __future__ import annotations

import re

import pytest
from flask import url_for
from sqlalchemy import select

from budgets import services
from budgets.models import Ballot, BallotStyle, BudgetProcess, Idea, Phase
from budgets.pabulib import parse
from forum.extensions import db

from .conftest import DATA, ideas_of


def _html(response) -> str:
    return response.get_data(as_text=True)


def _check_page(html: str) -> None:
    """One h1; every visible form control has a label (or is a button)."""
    assert len(re.findall(r"<h1[ >]", html)) == 1, re.findall(r"<h1[^>]*>.*?</h1>", html, re.S)
    ids = set(re.findall(r'<label[^>]* for="([^"]+)"', html))
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if re.search(r'type="(hidden|submit)"', tag):
            continue
        match = re.search(r'\bid="([^"]+)"', tag)
        assert match and match.group(1) in ids, f"unlabelled control: {tag}"


def test_idea_path_matches_the_route(app) -> None:
    with app.test_request_context():
        assert url_for("budgets.idea", idea_id=7) == services.IDEA_PATH.format(id=7)


def test_only_staff_see_the_new_process_form(client, login, citizen, staff) -> None:
    login(citizen)
    assert client.get("/borgerbudget/ny").status_code == 403
    client.post("/logout")
    login(staff)
    response = client.get("/borgerbudget/ny")
    assert response.status_code == 200
    _check_page(_html(response))


def test_staff_create_a_process_with_area_amounts(client, login, staff, make_area) -> None:
    a, b = make_area("Tølløse"), make_area("Jyderup")
    login(staff)
    form = {
        "title": "Borgerbudget for landsbyerne",
        "description": "Hvad vil I have?",
        "total_amount": "600000",
        "scope": "municipality",
        "rule": "equalshares/add1",
        "ballot_style": "approval_budget",
        f"area-amount-{a.id}": "400000",
        f"area-amount-{b.id}": "100000",
        "starts_voting": "2027-03-01T10:00",
    }
    bad = client.post("/borgerbudget/ny", data=form)
    assert bad.status_code == 400
    html = _html(bad)
    assert "must add up to the total" in html and 'id="area-amounts-error"' in html
    assert 'value="400000"' in html  # what was typed is kept
    form[f"area-amount-{b.id}"] = "200000"
    good = client.post("/borgerbudget/ny", data=form)
    assert good.status_code == 302
    process = db.session.scalar(select(BudgetProcess))
    assert process.rule == "equalshares/add1" and len(process.area_amounts) == 2
    # Stored in UTC: 10:00 in Copenhagen in March is 09:00 UTC.
    assert process.starts(Phase.VOTING).hour == 9
    page = client.get(f"/borgerbudget/{process.id}/rediger")
    assert page.status_code == 200 and 'value="2027-03-01T10:00"' in _html(page)


def test_drafts_are_hidden_from_citizens(client, make_process) -> None:
    process = make_process()
    assert client.get(f"/borgerbudget/{process.id}").status_code == 404
    assert process.title not in _html(client.get("/borgerbudget/"))


def test_citizen_proposes_an_idea_through_the_form(
    client, login, citizen, make_process, advance, make_area
) -> None:
    process = make_process()
    advance(process, Phase.IDEAS)
    area = make_area()
    login(citizen)
    page = client.get(f"/borgerbudget/{process.id}/ideer/ny")
    assert page.status_code == 200
    _check_page(_html(page))
    bad = client.post(
        f"/borgerbudget/{process.id}/ideer/ny",
        data={
            "title": "Skaterbane",
            "description": "En skaterbane.",
            "estimated_cost": "5000000",
            "area_id": str(area.id),
            "nonce": "abc",
        },
    )
    assert bad.status_code == 400
    assert 'aria-invalid="true"' in _html(bad) and "Skaterbane" in _html(bad)
    ok = client.post(
        f"/borgerbudget/{process.id}/ideer/ny",
        data={
            "title": "Skaterbane",
            "description": "En skaterbane.",
            "estimated_cost": "500000",
            "area_id": str(area.id),
            "nonce": "abc",
        },
    )
    assert ok.status_code == 302
    idea = db.session.scalar(select(Idea))
    page = client.get(ok.headers["Location"])
    assert page.status_code == 200 and "Skaterbane" in _html(page)
    assert f"/emner/{idea.topic_id}" in _html(page)


def test_the_ballot_works_without_javascript(client, login, citizen, voting_process) -> None:
    process = voting_process()
    a, b, c = ideas_of(process)
    login(citizen)
    page = client.get(f"/borgerbudget/{process.id}/stemmeseddel")
    html = _html(page)
    assert page.status_code == 200
    _check_page(html)
    assert "Cost: 0 DKK of 1,000,000 DKK; left: 1,000,000 DKK" in html.replace("\xa0", " ")

    # Over the budget: refused, the choices kept, the running total shown with the overrun.
    over = client.post(
        f"/borgerbudget/{process.id}/stemmeseddel",
        data={"idea": [str(a.id), str(b.id), str(c.id)], "area_id": ""},
    )
    html = _html(over).replace("\xa0", " ")
    assert over.status_code == 400
    assert 'role="alert"' in html and 'aria-describedby="projects-error"' in html
    assert "Cost: 1,200,000 DKK; that is 200,000 DKK over the budget" in html
    assert html.count("checked") == 3
    assert db.session.scalar(select(Ballot)) is None

    # "Update the total" recomputes without voting.
    total = client.post(
        f"/borgerbudget/{process.id}/stemmeseddel", data={"idea": [str(a.id)], "action": "total"}
    )
    assert total.status_code == 200
    assert "400,000 DKK of 1,000,000 DKK" in _html(total).replace("\xa0", " ")
    assert db.session.scalar(select(Ballot)) is None

    ok = client.post(
        f"/borgerbudget/{process.id}/stemmeseddel", data={"idea": [str(a.id), str(b.id)]}
    )
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/kvittering")
    receipt = client.get(ok.headers["Location"])
    html = _html(receipt)
    assert receipt.status_code == 200
    _check_page(html)
    ballot = db.session.scalar(select(Ballot))
    assert f"{ballot.receipt[:4]}-{ballot.receipt[4:]}" in html
    assert "700,000" in html

    # Back on the ballot, the saved choices are ticked.
    again = _html(client.get(f"/borgerbudget/{process.id}/stemmeseddel"))
    assert again.count("checked") == 2 and "Send your changed ballot" in again


def test_points_ballot_page(client, login, citizen, voting_process) -> None:
    process = voting_process(ballot_style=BallotStyle.POINTS, points_total=10)
    a, b, _c = ideas_of(process)
    login(citizen)
    page = client.get(f"/borgerbudget/{process.id}/stemmeseddel")
    _check_page(_html(page))
    bad = client.post(
        f"/borgerbudget/{process.id}/stemmeseddel",
        data={f"points-{a.id}": "8", f"points-{b.id}": "4"},
    )
    assert bad.status_code == 400 and "Take away 2" in _html(bad)
    assert "Points given: 12 of 10: 2 too many." in _html(bad)
    ok = client.post(
        f"/borgerbudget/{process.id}/stemmeseddel",
        data={f"points-{a.id}": "8", f"points-{b.id}": "2"},
    )
    assert ok.status_code == 302


def test_anonymous_voter_is_sent_to_log_in(client, voting_process) -> None:
    process = voting_process()
    page = client.get(f"/borgerbudget/{process.id}/stemmeseddel")
    assert page.status_code == 200 and "Log in to vote" in _html(page)
    post = client.post(f"/borgerbudget/{process.id}/stemmeseddel", data={"idea": ["1"]})
    assert post.status_code == 302 and "/login" in post.headers["Location"]


def test_voting_closed_message_on_post(client, login, citizen, voting_process, advance) -> None:
    process = voting_process()
    a = ideas_of(process)[0]
    advance(process, Phase.RESULT)
    login(citizen)
    response = client.post(f"/borgerbudget/{process.id}/stemmeseddel", data={"idea": [str(a.id)]})
    assert response.status_code == 409 and "closed" in _html(response)


def test_staff_moderate_review_and_count_through_the_pages(
    client, login, staff, voting_process, make_user
) -> None:
    process = voting_process()
    a, b, _c = ideas_of(process)
    for _ in range(2):
        services.cast_ballot(make_user(), process, [a.id, b.id])
    db.session.commit()
    # The public cannot see a count during voting; staff can preview it.
    assert client.get(f"/borgerbudget/{process.id}/resultat").status_code == 404
    login(make_user())
    assert client.post(f"/borgerbudget/{process.id}/optaelling").status_code == 403
    assert client.post(f"/borgerbudget/{process.id}/fase").status_code == 403
    client.post("/logout")
    login(staff)
    page = client.get(f"/borgerbudget/{process.id}")
    _check_page(_html(page))
    assert "Count the ballots now" in _html(page)
    counted = client.post(f"/borgerbudget/{process.id}/optaelling")
    assert counted.status_code == 302
    preview = client.get(f"/borgerbudget/{process.id}/resultat")
    assert preview.status_code == 200 and "A preview for staff" in _html(preview)
    moved = client.post(f"/borgerbudget/{process.id}/fase")
    assert moved.status_code == 302
    db.session.refresh(process)
    assert process.phase == Phase.RESULT
    assert client.get(f"/borgerbudget/{process.id}/behandling").status_code == 200


def test_result_page_csv_and_pabulib_download(client, app) -> None:
    from budgets.elections import import_election
    from budgets.pabulib import load

    process = import_election(load(DATA / "Netherlands_Assen_2024.pb"))
    services.count_process(None, process)
    db.session.commit()
    page = client.get(f"/borgerbudget/{process.id}/resultat")
    html = _html(page)
    assert page.status_code == 200
    _check_page(html)
    assert "divided by 84 voters" in html and "43 supporters paid" in html
    assert "voters got at least one project they voted for" in html
    csv_text = client.get(f"/borgerbudget/{process.id}/resultat.csv").get_data(as_text=True)
    header, *rows = csv_text.lstrip("\ufeff").splitlines()
    assert header.startswith("Local area,Project id,Title,Cost,Currency")
    assert len(rows) == 14
    # In the reader's language: Danish headers for a Danish reader.
    client.set_cookie("lang", "da")
    danish = client.get(f"/borgerbudget/{process.id}/resultat.csv").get_data(as_text=True)
    assert danish.lstrip("\ufeff").startswith("Lokalområde,Projekt-id,Titel,Pris,Valuta")
    client.delete_cookie("lang")
    pb = client.get(f"/borgerbudget/{process.id}/resultat.pb").get_data(as_text=True)
    official = {p.id for p in load(DATA / "Netherlands_Assen_2024.pb").projects if p.selected}
    assert {p.id for p in parse(pb).projects if p.selected} == official
    for path in ("/borgerbudget/", f"/borgerbudget/{process.id}"):
        response = client.get(path)
        assert response.status_code == 200
        _check_page(_html(response))


FORMULA_PB = """META
key;value
description;Formula titles
num_projects;2
num_votes;2
budget;100
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;name
1;60;"=HYPERLINK(""https://evil.example"",""klik"")"
2;30;@SUM(A1)
VOTES
voter_id;vote
a;1,2
b;1
"""


def test_result_csv_neutralises_formula_titles(client, app) -> None:
    """A title starting with = (or @) is text in the spreadsheet, not a formula to run."""
    import csv
    import io

    from budgets.elections import import_election

    process = import_election(parse(FORMULA_PB))
    services.count_process(None, process)
    db.session.commit()
    response = client.get(f"/borgerbudget/{process.id}/resultat.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    # the headers are in the reader's language; the title is the third column
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))[1:]
    assert sorted(row[2] for row in rows) == [
        '\'=HYPERLINK("https://evil.example","klik")',
        "'@SUM(A1)",
    ]
    assert {row[3] for row in rows} == {"60", "30"}  # the cost


class TestNotifications:
    @pytest.fixture
    def extra_config(self) -> dict:
        return {"MODERATION_ENABLED": True}

    def test_budget_notifications_are_shown_in_words(
        self, client, login, citizen, staff, make_process, advance, make_area
    ) -> None:
        process = make_process()
        advance(process, Phase.IDEAS)
        idea = services.propose_idea(
            citizen, process, "Bålplads i parken", "Tekst", 20_000, make_area().id
        )
        db.session.commit()
        login(staff)
        index = _html(client.get("/borgerbudget/"))
        assert "1 idea awaits moderation" in index
        page = client.get(f"/borgerbudget/ideer/{idea.id}")
        assert page.status_code == 200
        _check_page(_html(page))
        assert "/moderation" in _html(page)  # held ideas are decided in the queue …
        r = client.post(
            f"/borgerbudget/ideer/{idea.id}/moderer",
            data={"action": "approve", "reason": ""},
            follow_redirects=True,
        )
        assert "moderation queue" in _html(r)  # … not here
        assert db.session.get(Idea, idea.id).state.value == "pending"
        from moderation.models import QueueItem

        item = db.session.scalar(select(QueueItem).where(QueueItem.target_id == idea.id))
        r = client.post(f"/moderation/items/{item.id}/decide", data={"action": "reject"})
        assert r.status_code == 400  # a rejection needs a debate rule
        r = client.post(f"/moderation/items/{item.id}/decide", data={"action": "approve"})
        assert r.status_code == 302
        assert (
            client.post(
                f"/borgerbudget/ideer/{idea.id}/vurdering",
                data={"outcome": "infeasible", "reason": "Parken er fredet."},
            ).status_code
            == 302
        )
        client.post("/logout")
        login(citizen)
        html = _html(client.get("/notifikationer"))
        assert "Your idea “Bålplads i parken” is approved and published." in html
        assert "was found not feasible" in html and "Parken er fredet." in html


def test_follow_up_merge_and_edit_through_the_pages(
    client, login, staff, voting_process, make_process, advance, make_area, make_user
) -> None:
    # Merge two ideas from the idea page.
    collecting = make_process(title="Idéer til byen")
    advance(collecting, Phase.IDEAS)
    area = make_area()
    first = services.propose_idea(
        make_user(), collecting, "Træer på torvet", "Tekst", 9000, area.id
    )
    second = services.propose_idea(
        make_user(), collecting, "Flere træer på torvet", "Tekst", 9500, area.id
    )
    db.session.commit()
    login(staff)
    page = client.get(f"/borgerbudget/ideer/{second.id}")
    _check_page(_html(page))
    assert "Merge a duplicate" in _html(page)
    bad = client.post(
        f"/borgerbudget/ideer/{second.id}/saml",
        data={"target_id": str(first.id), "merge_reason": ""},
    )
    assert bad.status_code == 400
    merged = client.post(
        f"/borgerbudget/ideer/{second.id}/saml",
        data={"target_id": str(first.id), "merge_reason": "Samme idé."},
    )
    assert merged.status_code == 302 and merged.headers["Location"].endswith(f"/{first.id}")
    assert "Merged into" in _html(client.get(f"/borgerbudget/ideer/{second.id}"))
    assert client.get(f"/borgerbudget/{collecting.id}/behandling").status_code == 200

    # Edit: after voting starts, the money and the rule are no longer in the form.
    process = voting_process()
    edit = client.get(f"/borgerbudget/{process.id}/rediger")
    assert edit.status_code == 200 and 'name="total_amount"' not in _html(edit)
    saved = client.post(
        f"/borgerbudget/{process.id}/rediger",
        data={
            "title": "Nyt navn til budgettet",
            "description": "Ny tekst",
            "scope": "municipality",
            "starts_follow_up": "2030-01-01T12:00",
        },
    )
    assert saved.status_code == 302, _html(saved)
    db.session.refresh(process)
    assert process.title == "Nyt navn til budgettet" and process.total_amount == 1_000_000

    # Status updates on a funded project, from its page.
    a = ideas_of(process)[0]
    services.cast_ballot(make_user(), process, [a.id])
    db.session.commit()
    client.post(f"/borgerbudget/{process.id}/fase")
    idea_page = _html(client.get(f"/borgerbudget/ideer/{a.id}"))
    assert "Post a status update" in idea_page
    bad = client.post(
        f"/borgerbudget/ideer/{a.id}/status",
        data={"status": "planned", "happened_on": "", "text": "Snart."},
    )
    assert bad.status_code == 400
    ok = client.post(
        f"/borgerbudget/ideer/{a.id}/status",
        data={"status": "planned", "happened_on": "2027-05-01", "text": "Vi går i gang i maj."},
    )
    assert ok.status_code == 302
    html = _html(client.get(f"/borgerbudget/ideer/{a.id}"))
    assert "Vi går i gang i maj." in html and "Planned" in html
    assert "Planned" in _html(client.get(f"/borgerbudget/{process.id}/resultat"))


def test_an_author_edits_and_withdraws_an_idea_through_the_pages(
    client, login, citizen, make_user, make_process, advance, make_area
) -> None:
    process = make_process()
    advance(process, Phase.IDEAS)
    area = make_area()
    idea = services.propose_idea(citizen, process, "Bålplads i parken", "Tekst", 20_000, area.id)
    db.session.commit()
    login(make_user())
    assert client.get(f"/borgerbudget/ideer/{idea.id}/rediger").status_code == 302  # not theirs
    client.post("/logout")
    login(citizen)
    page = _html(client.get(f"/borgerbudget/ideer/{idea.id}"))
    assert f"/borgerbudget/ideer/{idea.id}/rediger" in page and "traek-tilbage" in page
    form = client.get(f"/borgerbudget/ideer/{idea.id}/rediger")
    assert form.status_code == 200 and "Bålplads i parken" in _html(form)
    _check_page(_html(form))
    r = client.post(
        f"/borgerbudget/ideer/{idea.id}/rediger",
        data={
            "title": "Bålplads og shelter i parken",
            "description": "Tekst",
            "estimated_cost": "abc",
            "area_id": str(area.id),
        },
    )
    assert r.status_code == 400 and "Bålplads og shelter i parken" in _html(r)  # kept
    r = client.post(
        f"/borgerbudget/ideer/{idea.id}/rediger",
        data={
            "title": "Bålplads og shelter i parken",
            "description": "Med shelter.",
            "estimated_cost": "35000",
            "area_id": str(area.id),
        },
    )
    assert r.status_code == 302
    db.session.refresh(idea)
    assert idea.title == "Bålplads og shelter i parken" and idea.estimated_cost == 35_000
    r = client.post(f"/borgerbudget/ideer/{idea.id}/traek-tilbage")
    assert r.status_code == 302
    db.session.refresh(idea)
    assert idea.state.value == "withdrawn"
    client.post("/logout")
    assert client.get(f"/borgerbudget/ideer/{idea.id}").status_code == 404
