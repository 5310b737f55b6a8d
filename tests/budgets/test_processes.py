"""Processes: who creates them, what is validated, phases moved by hand and by date."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from budgets import services
from budgets.models import BallotStyle, BudgetProcess, Phase, Result
from forum.errors import Conflict, InvalidInput, PermissionDenied
from forum.extensions import db
from forum.models import utcnow

from .conftest import ideas_of


def test_only_staff_create_processes(app, citizen, make_user) -> None:
    for user in (citizen, make_user("politician")):
        with pytest.raises(PermissionDenied):
            services.create_process(user, title="Mit budget", total_amount=1000)
    moderator = make_user("moderator")
    process = services.create_process(moderator, title="Moderatorens budget", total_amount=1000)
    assert process.phase == Phase.DRAFT and process.rule == "greedy"


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"total_amount": 0}, "total_amount"),
        ({"total_amount": "mange"}, "total_amount"),
        ({"title": "Kort"}, "title"),
        ({"rule": "lottery"}, "rule"),
        ({"ballot_style": "ranking"}, "ballot_style"),
        (
            {"ballot_style": BallotStyle.APPROVAL_RANGE, "min_choices": 3, "max_choices": 2},
            "max_choices",
        ),
        ({"ballot_style": BallotStyle.POINTS, "points_total": 0}, "points_total"),
        ({"tie_break": "alphabet"}, "tie_break"),
        (
            {
                "phase_dates": {
                    Phase.VOTING: datetime(2027, 3, 1),
                    Phase.REVIEW: datetime(2027, 4, 1),
                }
            },
            "starts_voting",
        ),
    ],
)
def test_invalid_settings_are_refused_with_a_field(make_process, settings, field) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_process(**settings)
    assert field in caught.value.fields
    db.session.rollback()
    assert db.session.scalar(select(func.count(BudgetProcess.id))) == 0


def test_scope_is_one_committee_or_one_area(make_process, make_committee, make_area) -> None:
    committee, area = make_committee(), make_area()
    with pytest.raises(InvalidInput) as caught:
        make_process(committee_id=committee.id, area_id=area.id)
    assert "scope" in caught.value.fields
    db.session.rollback()
    assert make_process(committee_id=committee.id).committee_id == committee.id


def test_area_amounts_must_add_up_to_the_total(make_process, make_area) -> None:
    a, b = make_area(), make_area()
    with pytest.raises(InvalidInput) as caught:
        make_process(total_amount=1_000_000, area_amounts={a.id: 400_000, b.id: 500_000})
    assert "900,000" in caught.value.fields["area_amounts"]
    db.session.rollback()
    process = make_process(total_amount=900_000, area_amounts={a.id: 400_000, b.id: 500_000})
    assert process.has_area_budgets


def test_ballot_settings_are_fixed_once_voting_starts(voting_process, staff) -> None:
    process = voting_process()
    services.update_process(
        staff, process, title="Nyt navn til budgettet", total_amount=5, rule="equalshares/add1"
    )
    db.session.commit()
    assert process.title == "Nyt navn til budgettet"
    assert (process.total_amount, process.rule) == (1_000_000, "greedy")


def test_voting_needs_a_feasible_idea(make_process, advance, staff) -> None:
    process = make_process()
    advance(process, Phase.REVIEW)
    with pytest.raises(Conflict):
        services.advance_phase(staff, process)


def test_entering_the_result_phase_counts(voting_process, citizen, staff) -> None:
    process = voting_process()
    a = ideas_of(process)[0]
    services.cast_ballot(citizen, process, [a.id])
    assert services.advance_phase(staff, process) == Phase.RESULT
    db.session.commit()
    (result,) = db.session.scalars(select(Result)).all()
    assert [line.idea_id for line in result.lines if line.funded] == [a.id]
    assert services.advance_phase(staff, process) == Phase.FOLLOW_UP
    with pytest.raises(Conflict):
        services.advance_phase(staff, process)


def test_counting_is_for_staff_and_after_voting_starts(
    make_process, citizen, staff, voting_process
) -> None:
    with pytest.raises(Conflict):
        services.count_process(staff, make_process())
    with pytest.raises(PermissionDenied):
        services.count_process(citizen, voting_process(title="Andet budget"))


def test_processes_move_on_by_date(
    voting_process, make_process, staff, runner, make_area, advance
) -> None:
    now = utcnow()
    process = make_process(
        phase_dates={
            Phase.IDEAS: now - timedelta(days=3),
            Phase.REVIEW: now - timedelta(days=2),
            Phase.VOTING: now + timedelta(days=1),
        }
    )
    result = runner.invoke(args=["budgets", "advance"])
    assert result.exit_code == 0, result.output
    db.session.refresh(process)
    assert process.phase == Phase.REVIEW  # draft → ideas → review, and no further
    assert "now review" in result.output

    # Voting cannot start without a feasible idea: reported, and the process stays.
    later = (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    result = runner.invoke(args=["budgets", "advance", "--now", later])
    assert "not moved" in result.output
    db.session.refresh(process)
    assert process.phase == Phase.REVIEW

    idea = services.propose_idea(
        staff, process, "En god idé her", "Tekst", 1000, area_id=make_area().id
    )
    services.review_idea(staff, idea, True, "Fint.")
    db.session.commit()
    moved = services.advance_due(now + timedelta(days=2))
    db.session.commit()
    assert [(p.id, phase) for p, phase in moved] == [(process.id, Phase.VOTING)]
    quiet = runner.invoke(args=["budgets", "advance"])
    assert quiet.output.strip() == "No process was due to move."


def test_the_embedded_scheduler_moves_processes_on_their_dates(app, make_process) -> None:
    from flask import Flask

    from budgets import scheduler
    from forum.periodic import wants_thread

    now = utcnow()
    process = make_process(
        phase_dates={Phase.IDEAS: now - timedelta(days=1), Phase.REVIEW: now + timedelta(days=1)}
    )
    process_id = process.id
    thread = scheduler.scheduler_thread(app)
    assert thread.run_once() == 1  # draft → ideas; review is tomorrow
    db.session.expire_all()  # the thread wrote through its own session
    assert db.session.get(BudgetProcess, process_id).phase == Phase.IDEAS
    assert thread.run_once() == 0
    for config, wanted in (
        ({}, True),
        ({"BORGERDIALOG_ENV": "production"}, False),
        ({"BUDGETS_SCHEDULER": "external"}, False),
        ({"TESTING": True}, False),
    ):
        other = Flask("check")
        other.config.update(config)
        assert wants_thread(other, "BUDGETS_SCHEDULER") is wanted, config


@pytest.mark.parametrize(
    ("tie_break", "funded"),
    [("order", "Bænke A"), ("cost", "Bænke B")],
)
def test_ties_are_settled_by_the_process_rule(
    voting_process, make_user, staff, tie_break, funded
) -> None:
    """Two projects with the same votes and room for one: the process's rule decides."""
    process = voting_process(
        projects=(("Bænke A", 600_000), ("Bænke B", 500_000)),
        tie_break=tie_break,
        ballot_style=BallotStyle.APPROVAL_RANGE,
        min_choices=1,
        max_choices=2,
    )
    for _ in range(2):
        services.cast_ballot(make_user(), process, [i.id for i in ideas_of(process)])
    services.advance_phase(staff, process)
    db.session.commit()
    (result,) = db.session.scalars(select(Result)).all()
    assert [line.idea.title for line in result.lines if line.funded] == [funded]


def test_a_random_tie_break_draws_a_published_seed(make_process, client, login, staff) -> None:
    process = make_process(tie_break="random")
    assert process.tie_break == "random" and process.tie_seed is not None
    login(staff)
    html = client.get(f"/borgerbudget/{process.id}").get_data(as_text=True)
    assert str(process.tie_seed) in html
    form = client.get(f"/borgerbudget/{process.id}/rediger").get_data(as_text=True)
    assert 'name="tie_break"' in form


def test_a_process_counted_with_the_comparison_step(voting_process, make_user, staff, client):
    """equalshares/add1-comparison in the app: the figures are kept and shown."""
    process = voting_process(
        projects=(
            ("Projekt A1", 100),
            ("Projekt A2", 100),
            ("Projekt A3", 100),
            ("Projekt B", 100),
        ),
        total_amount=300,
        rule="equalshares/add1-comparison",
        ballot_style=BallotStyle.APPROVAL_RANGE,
        min_choices=1,
        max_choices=4,
    )
    a1, a2, a3, b = ideas_of(process)
    for _ in range(6):
        services.cast_ballot(make_user(), process, [a1.id, a2.id, a3.id])
    for _ in range(4):
        services.cast_ballot(make_user(), process, [b.id])
    services.advance_phase(staff, process)
    db.session.commit()
    (result,) = db.session.scalars(select(Result)).all()
    assert result.comparison == {"prefer_equal_shares": 4, "prefer_greedy": 6, "winner": "greedy"}
    funded = {line.idea.title for line in result.lines if line.funded}
    assert funded == {"Projekt A1", "Projekt A2", "Projekt A3"}
    html = client.get(f"/borgerbudget/{process.id}/resultat").get_data(as_text=True)
    assert "Voters preferring Equal Shares: 4; preferring most votes first: 6." in html
