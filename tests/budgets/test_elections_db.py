"""Real elections through the database: import each Pabulib file, count it with the service,
and reproduce the projects the city funded; export back; refuse bad files whole."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from budgets import services
from budgets.elections import export_election, import_election, load_file
from budgets.models import Ballot, BallotChoice, BallotStyle, BudgetProcess, Idea, Phase, Result
from budgets.pabulib import dump, load, parse
from forum.errors import InvalidInput
from forum.extensions import db

from .conftest import DATA

FILES = [
    ("Netherlands_Assen_2024.pb", "equalshares/add1", BallotStyle.APPROVAL_RANGE),
    ("Poland_Warszawa_2017_Anin.pb", "greedy", BallotStyle.APPROVAL_BUDGET),
    ("Poland_Czestochowa_2024_Dzbow.pb", "greedy", BallotStyle.POINTS),
]


@pytest.mark.parametrize(("name", "rule", "style"), FILES)
def test_imported_election_reproduces_the_official_selection(app, name, rule, style) -> None:
    election = load(DATA / name)
    process = import_election(election, source=name)
    results = services.count_process(None, process)
    db.session.commit()

    assert process.phase == Phase.RESULT and process.rule == rule
    assert process.ballot_style == style
    assert db.session.scalar(select(func.count(Ballot.id))) == len(election.ballots)
    (result,) = results
    funded = {line.idea.key for line in result.lines if line.funded}
    official = {p.id for p in election.projects if p.selected}
    assert funded == official
    assert result.total_cost == sum(p.cost for p in election.projects if p.selected)
    assert result.total_cost <= election.budget
    # The file's votes (the number of voters choosing each project) are the ones counted
    # from the stored ballots; for approval ballots they are also the score.
    votes = {p.id: p.votes for p in election.projects}
    assert {line.idea.key: line.supporters for line in result.lines} == votes
    if style != BallotStyle.POINTS:
        assert {line.idea.key: line.score for line in result.lines} == votes
    # Voters with a funded project among their choices, counted from the file directly.
    satisfied = sum(1 for b in election.ballots if official & set(b.projects))
    assert result.satisfied == satisfied


def test_equal_shares_result_explains_each_funded_project(app) -> None:
    process = import_election(load(DATA / "Netherlands_Assen_2024.pb"))
    (result,) = services.count_process(None, process)
    assert result.voter_budget is not None and result.voter_budget >= 100_000 / 84
    for line in result.lines:
        if line.funded:
            paid = line.full_payers * line.full_share + line.partial_total
            assert paid == pytest.approx(float(line.cost), rel=1e-6)
            assert line.full_payers + line.partial_payers + line.nothing_left == line.supporters
        else:
            assert line.full_share is None


def test_recount_replaces_the_stored_result(app) -> None:
    process = import_election(load(DATA / "Poland_Warszawa_2017_Anin.pb"))
    services.count_process(None, process)
    services.count_process(None, process)
    db.session.commit()
    assert db.session.scalar(select(func.count(Result.id))) == 1


@pytest.mark.parametrize(("name", "rule", "style"), FILES)
def test_export_round_trips_and_carries_our_selection(app, name, rule, style) -> None:
    original = load(DATA / name)
    process = import_election(original)
    services.count_process(None, process)
    exported = parse(dump(export_election(process)))

    assert exported.budget == original.budget and exported.rule == rule
    assert exported.vote_type == original.vote_type
    assert {p.id: p.cost for p in exported.projects} == original.costs()
    assert {p.id for p in exported.projects if p.selected} == {
        p.id for p in original.projects if p.selected
    }
    assert [b.voter_id for b in exported.ballots] == [b.voter_id for b in original.ballots]
    mine = {
        b.voter_id: dict(zip(b.projects, b.points or [1] * len(b.projects), strict=True))
        for b in exported.ballots
    }
    theirs = {
        b.voter_id: dict(zip(b.projects, b.points or [1] * len(b.projects), strict=True))
        for b in original.ballots
    }
    assert mine == theirs


BAD_FILES = {
    "cost missing": "META\nkey;value\nbudget;100\nrule;greedy\nPROJECTS\nproject_id;cost\n1;\n"
    "VOTES\nvoter_id;vote\na;1\n",
    "unknown project": "META\nkey;value\nbudget;100\nrule;greedy\nPROJECTS\nproject_id;cost\n"
    "1;50\nVOTES\nvoter_id;vote\na;1,7\n",
    "budget not a number": "META\nkey;value\nbudget;a lot\nrule;greedy\nPROJECTS\n"
    "project_id;cost\n1;50\nVOTES\nvoter_id;vote\na;1\n",
}


@pytest.mark.parametrize("problem", sorted(BAD_FILES))
def test_cli_refuses_a_bad_file_and_writes_nothing(runner, tmp_path, problem) -> None:
    path = tmp_path / "bad.pb"
    path.write_text(BAD_FILES[problem], encoding="utf-8")
    result = runner.invoke(args=["budgets", "import", str(path)])
    assert result.exit_code != 0
    assert "line" in result.output
    assert db.session.scalar(select(func.count(BudgetProcess.id))) == 0


def test_unknown_rule_is_refused_unless_given(app, tmp_path) -> None:
    text = (DATA / "Poland_Warszawa_2017_Anin.pb").read_text(encoding="utf-8")
    path = tmp_path / "odd.pb"
    path.write_text(text.replace("rule;greedy", "rule;lottery"), encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        import_election(load_file(path))
    assert "lottery" in caught.value.fields["file"]
    db.session.rollback()
    process = import_election(load_file(path), rule="greedy")
    assert process.rule == "greedy"


def test_ordinal_and_choose_one_ballots_are_imported_counted_and_exported(app) -> None:
    """They were refused; Pabulib has both. A ranking counts as approval of the projects it
    ranks, and goes back out in its order."""
    election = parse(
        "META\nkey;value\nbudget;100\nvote_type;ordinal\nrule;greedy\nPROJECTS\n"
        "project_id;cost\n1;50\n2;60\n3;40\nVOTES\nvoter_id;vote\na;3,1\nb;1,2,3\nc;2\n"
    )
    process = import_election(election)
    (result,) = services.count_process(None, process)
    assert {line.idea.key for line in result.lines if line.funded} == {"1", "3"}
    assert process.ballot_style == BallotStyle.APPROVAL_RANGE
    again = export_election(process)
    assert again.vote_type == "ordinal"
    assert [b.projects for b in again.ballots] == [("3", "1"), ("1", "2", "3"), ("2",)]

    one = parse(
        "META\nkey;value\nbudget;100\nvote_type;choose-1\nrule;greedy\nPROJECTS\n"
        "project_id;cost\n1;50\n2;60\nVOTES\nvoter_id;vote\na;2\nb;2\nc;1\n"
    )
    process = import_election(one)
    assert (process.min_choices, process.max_choices) == (1, 1)
    (result,) = services.count_process(None, process)
    assert [line.idea.key for line in result.lines if line.funded] == ["2"]


def test_cli_import_count_and_export(runner, tmp_path) -> None:
    path = DATA / "Netherlands_Assen_2024.pb"
    result = runner.invoke(args=["budgets", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "reproduces the official selection" in result.output
    process = db.session.scalar(select(BudgetProcess))
    assert db.session.scalar(select(func.count(BallotChoice.ballot_id))) > 0

    again = runner.invoke(args=["budgets", "count", str(process.id)])
    assert again.exit_code == 0, again.output
    assert "84 ballots" in again.output

    out = tmp_path / "out.pb"
    exported = runner.invoke(args=["budgets", "export", str(process.id), "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    assert {p.id for p in load(out).projects if p.selected} == {
        p.id for p in load(path).projects if p.selected
    }
    listing = runner.invoke(args=["budgets", "list"])
    assert "equalshares/add1" in listing.output


def test_cli_reports_unknown_process(runner) -> None:
    for command in ("count", "export"):
        result = runner.invoke(args=["budgets", command, "999"])
        assert result.exit_code != 0
        assert "No citizen budget with id 999" in result.output


def test_imported_projects_are_feasible_ideas_without_threads(app) -> None:
    process = import_election(load(DATA / "Poland_Czestochowa_2024_Dzbow.pb"))
    ideas = db.session.scalars(select(Idea).where(Idea.process_id == process.id)).all()
    assert len(ideas) == 16
    assert all(i.on_ballot and i.topic_id is None and i.author_id is None for i in ideas)
    assert process.points_total == 10


def test_our_own_ballots_are_exported_without_accounts_or_order(
    voting_process, make_user, staff
) -> None:
    from .conftest import ideas_of

    process = voting_process(title="Eget budget til eksport")
    a, b, c = ideas_of(process)
    voters = [make_user() for _ in range(3)]
    services.cast_ballot(voters[0], process, [c.id])
    services.cast_ballot(voters[1], process, [a.id, b.id])
    services.cast_ballot(voters[2], process, [a.id])
    services.advance_phase(staff, process)
    db.session.commit()
    election = parse(dump(export_election(process)))
    assert [b.voter_id for b in election.ballots] == ["1", "2", "3"]
    keys = {i.id: i.key for i in (a, b, c)}
    assert [b.projects for b in election.ballots] == [
        (keys[a.id],),
        (keys[a.id], keys[b.id]),
        (keys[c.id],),
    ]
    assert election.meta["max_sum_cost"] == "1000000" and election.meta["country"] == "Denmark"
    assert {p.id for p in election.projects if p.selected} == {keys[a.id], keys[b.id]}
