"""Target groups (consented facts, through the forum's hook) with k ≥ 5, and the opinion map
in the synthesis page and the council report (through the synthesis-section hook)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forum import anonymity, hooks
from forum.extensions import db
from forum.models import utcnow
from opinions import services as opinion_services
from opinions.models import OpinionStatement, StatementState
from reports import services
from reports.synthesis import synthesise

from .conftest import set_state

AGES = [("under-18", "Under 18"), ("30-49", "30–49"), ("65-plus", "65 or older")]


def register_ages(app, ages: dict[int, str]) -> None:
    hooks.register_participant_facts(
        app,
        lambda ids: [
            hooks.TargetGroups("age_band", "Age", AGES, {i: ages[i] for i in ids if i in ages})
        ],
    )


def test_the_one_rule_hides_small_groups_and_the_one_that_would_reveal_them():
    assert anonymity.suppressed({"a": 6, "b": 2, "c": 1}, 5) == {"b", "c"}
    # One small group alone: the next smallest goes too (the total minus the rest).
    assert anonymity.suppressed({"a": 6, "b": 3, "c": 9}, 5) == {"a", "b"}
    assert anonymity.suppressed({"a": 6, "b": 0, "c": 9}, 5) == set()
    assert anonymity.suppressed({"a": 6, "b": 3}, 5, total_known=False) == {"b"}


def test_target_groups_in_the_synthesis_with_k_5(app, world):
    people = [p.author_id for p in world.posts]  # 9 people
    register_ages(app, {**dict.fromkeys(people[:6], "30-49"), people[6]: "65-plus"})
    s = synthesise([world.topic.id])
    (table,) = s.target_groups
    rows = {r.key: r for r in table.rows}
    assert rows["30-49"].people == 6
    assert rows["30-49"].stances["for"] == 3 and rows["30-49"].stances["against"] == 2
    # 1 person of 65+, 2 who did not say: both hidden, never a count below 5.
    assert rows["65-plus"].people is None and rows["65-plus"].stances is None
    assert rows[""].people is None
    assert rows["under-18"].people == 0
    assert table.suppressed == 2
    assert all(r.people is None or r.people == 0 or r.people >= 5 for r in table.rows)


def test_one_small_group_takes_the_next_smallest_with_it(app, world):
    people = [p.author_id for p in world.posts]
    register_ages(
        app, {**dict.fromkeys(people[:6], "30-49"), **dict.fromkeys(people[6:], "65-plus")}
    )
    (table,) = synthesise([world.topic.id]).target_groups
    rows = {r.key: r.people for r in table.rows}
    assert rows == {"under-18": 0, "30-49": None, "65-plus": None, "": 0}


def test_hidden_posts_do_not_count_in_target_groups(app, world):
    people = [p.author_id for p in world.posts]
    register_ages(app, dict.fromkeys(people, "30-49"))
    set_state(world.posts[0], "hidden")
    set_state(world.posts[1], "pending")
    set_state(world.posts[2], "rejected")
    (table,) = synthesise([world.topic.id]).target_groups
    assert {r.key: r.people for r in table.rows}["30-49"] == 6


def test_the_synthesis_page_and_report_show_target_groups(app, world, client_for):
    people = [p.author_id for p in world.posts]
    register_ages(app, {**dict.fromkeys(people[:6], "30-49"), people[6]: "65-plus"})
    html = client_for(world.politician).get(f"/emner/{world.topic.id}/hvad-mener-borgerne").text
    assert "By target group" in html and 'id="syn-tg-age_band"' in html
    table = html.split('id="syn-tg-age_band"')[1].split("</table>")[0]
    assert "<td>6</td>" in table and "Not shown" in table
    d = services.create_definition(
        world.staff, title="Rapport", scope="topic", topic_id=world.topic.id, locale="en"
    )
    db.session.commit()
    report = client_for(world.staff).get(f"/rapporter/{d.id}").text
    assert 'id="all-tg-age_band"' in report
    csv = client_for(world.staff).get(f"/rapporter/{d.id}/csv").text
    assert "People by age" in csv and "not shown" in csv


def test_privacy_reads_consented_facts_only(app, world):
    from privacy import reach

    person = world.citizen
    reach.give_fact(person, "age_band", "30-49", consent=True)
    db.session.commit()
    facts = {f.fact: f for f in hooks.participant_facts([person.id])}
    assert facts["age_band"].people == {person.id: "30-49"}
    assert "area" not in facts  # the area of residence has its own hook
    reach.withdraw_fact(person, "age_band")
    db.session.commit()
    facts = {f.fact: f for f in hooks.participant_facts([person.id])}
    assert facts["age_band"].people == {}


@pytest.fixture
def mapped(world, app):
    """A statements round on the topic with a computed map of 12 voters in two camps."""
    rnd = opinion_services.open_round(
        world.staff,
        world.topic,
        "Hvad skal biblioteket kunne?",
        utcnow() + timedelta(days=7),
        allow_anonymous=True,
        seeds=[f"Udsagn nummer {i}" for i in range(8)],
    )
    db.session.commit()
    sts = list(
        db.session.scalars(
            db.select(OpinionStatement)
            .where(OpinionStatement.round_id == rnd.id)
            .order_by(OpinionStatement.id)
        )
    )
    t = utcnow()
    for i in range(12):
        p = opinion_services.participant_for(rnd, anon_key=f"anon-{i}")
        for j, st in enumerate(sts):
            agree = (j < 4) == (i % 2 == 0) or j == 7
            opinion_services.cast_vote(rnd, p, st.id, "agree" if agree else "disagree", t)
    opinion_services.recompute(rnd)
    sts[7].state = StatementState.REJECTED  # rejected after the map was computed
    db.session.commit()
    return rnd


def test_the_map_feeds_the_synthesis_page(world, mapped, client_for):
    html = client_for(world.politician).get(f"/emner/{world.topic.id}/hvad-mener-borgerne").text
    assert "Opinion map: Hvad skal biblioteket kunne?" in html
    assert "Opinion groups and their sizes" in html
    assert "<td>6</td>" in html.split("Opinion groups and their sizes")[1]
    assert "Udsagn nummer 1" in html  # a representative statement
    assert "Udsagn nummer 7" not in html  # rejected: never shown


def test_the_map_feeds_the_report_and_its_appendix(world, mapped, client_for):
    d = services.create_definition(
        world.staff,
        title="Rapport",
        scope="committee",
        committee_id=world.topic.committee_id,
        locale="en",
    )
    db.session.commit()
    staff = client_for(world.staff)
    html = staff.get(f"/rapporter/{d.id}").text
    assert "Opinion map: Hvad skal biblioteket kunne?" in html
    assert "Where the groups differ" in html
    assert "Udsagn nummer 7" not in html
    csv = staff.get(f"/rapporter/{d.id}/csv").text
    assert "Participants placed on the map" in csv and "Udsagn nummer 7" not in csv


def test_no_map_section_for_a_topic_nobody_may_see(world, mapped):
    from forum.models import TopicStatus

    world.topic.status = TopicStatus.PROPOSED
    db.session.commit()
    assert hooks.synthesis_sections(world.topic.id) == []


def test_the_map_breaks_down_by_target_group_with_k_5(app, world, make_user, client_for):
    rnd = opinion_services.open_round(
        world.staff,
        world.topic,
        "Og havnen?",
        utcnow() + timedelta(days=7),
        seeds=[f"Havneudsagn {i}" for i in range(8)],
    )
    db.session.commit()
    sts = list(
        db.session.scalars(
            db.select(OpinionStatement)
            .where(OpinionStatement.round_id == rnd.id)
            .order_by(OpinionStatement.id)
        )
    )
    voters = [make_user() for _ in range(12)]
    ages = {u.id: "30-49" for u in voters[:8]} | {u.id: "65-plus" for u in voters[8:11]}
    register_ages(app, ages)
    hooks.register_participant_areas(app, lambda ids: {i: world.big.id for i in ids})
    t = utcnow()
    for i, u in enumerate(voters):
        p = opinion_services.participant_for(rnd, user=u)
        for j, st in enumerate(sts):
            agree = (j < 4) == (i % 2 == 0) or j == 7
            opinion_services.cast_vote(rnd, p, st.id, "agree" if agree else "disagree", t)
    data = opinion_services.recompute(rnd)
    db.session.commit()
    (ages_table,) = data["target_groups"]
    rows = {r["value"]: r["size"] for r in ages_table["rows"]}
    # 8 of 30–49 shown; 3 of 65+ hidden, and the 1 who did not say hidden too (not listed).
    assert rows == {"under-18": 0, "30-49": 8, "65-plus": None}
    assert data["areas"] == [
        {"area_id": world.big.id, "size": 12, "groups": data["areas"][0]["groups"]}
    ]
    assert sum(data["areas"][0]["groups"].values()) == 12
    page = client_for(None).get(f"/holdninger/{rnd.id}/kort").text
    table = page.split('id="tg-age_band"')[1].split("</table>")[0]
    assert "<td>8</td>" in table and "<td>3</td>" not in table
