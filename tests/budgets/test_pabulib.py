"""Pabulib .pb reading and writing: real files, malformed files, and round trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from budgets.pabulib import Ballot, Election, PabulibError, Project, dump, load, parse

DATA = Path(__file__).resolve().parent / "data" / "pabulib"  # real elections (README there)

GOOD = """META
key;value
description;Tiny test
num_projects;2
num_votes;2
budget;100
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;votes;name;selected
1;60;2;Playground;1
2;50;1;"Benches; and bins";0
VOTES
voter_id;vote;age
a;1,2;34
b;1;
"""


def _error(text: str) -> PabulibError:
    with pytest.raises(PabulibError) as caught:
        parse(text)
    return caught.value


def test_parses_a_small_file() -> None:
    election = parse(GOOD)
    assert election.budget == 100
    assert election.vote_type == "approval"
    assert election.rule == "greedy"
    assert election.meta["description"] == "Tiny test"
    assert [p.id for p in election.projects] == ["1", "2"]
    benches = election.projects[1]
    assert (benches.cost, benches.votes, benches.name, benches.selected) == (
        50,
        1,
        "Benches; and bins",
        False,
    )
    assert election.ballots[0] == Ballot("a", ("1", "2"), None, {"age": "34"})
    assert election.ballots[1].extra == {"age": ""}
    assert election.costs() == {"1": 60, "2": 50}


def test_accepts_crlf_bom_blank_lines_and_short_rows() -> None:
    text = "\ufeff" + GOOD.replace("b;1;\n", "b;1\n\n").replace("\n", "\r\n")
    election = parse(text)
    assert election.ballots[1] == Ballot("b", ("1",), None, {"age": ""})


def test_decimal_budget_and_cost_are_accepted_when_whole() -> None:
    election = parse(GOOD.replace("budget;100\n", "budget;100.0\n").replace("1;60;", "1;60.00;"))
    assert election.budget == 100
    assert election.projects[0].cost == 60


def test_cumulative_ballots_carry_points() -> None:
    text = GOOD.replace("vote_type;approval", "vote_type;cumulative").replace(
        "voter_id;vote;age\na;1,2;34\nb;1;\n", "voter_id;vote;points\na;1,2;7,3\nb;2;10\n"
    )
    election = parse(text)
    assert election.vote_type == "cumulative"
    assert election.ballots[0].points == (7, 3)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("", "The file is empty.", None),
        ("  \n\n", "The file is empty.", None),
        (GOOD.split("VOTES")[0], "The file has no VOTES section.", None),
        # Without the VOTES keyword its header is read as a project.
        (GOOD.replace("VOTES\n", ""), "The cost of project “voter_id” is not a number", 13),
        (
            GOOD.split("PROJECTS")[0] + "VOTES" + GOOD.split("VOTES")[1],
            "Expected the section PROJECTS, found VOTES.",
            9,
        ),
        ("PROJECTS" + GOOD.split("PROJECTS")[1], "Expected the section META, found PROJECTS.", 1),
        ("description;x\n" + GOOD, "Expected the section META before any data.", 1),
        (GOOD.replace("META\n", "META\nMETA\n", 1), "The section META appears twice.", 2),
        (GOOD.replace("project_id;cost;", "project_id;price;"), "has no “cost” column", 10),
        (GOOD.replace("1;60;2;", "1;;2;"), "Project “1” has no cost.", 11),
        (GOOD.replace("1;60;2;", "1;sixty;2;"), "The cost of project “1” is not a number", 11),
        (GOOD.replace("1;60;2;", "1;-60;2;"), "must not be negative", 11),
        (GOOD.replace("budget;100\n", "budget;lots\n"), "META budget is not a number", 6),
        (GOOD.replace("budget;100\n", "budget;100.505\n"), "has more than two decimals", 6),
        (GOOD.replace("1;60;2;", "1;1e17;2;"), "is too large", 11),
        (GOOD.replace("vote_type;approval", "vote_type;borda"), "Unknown vote type “borda”", 7),
        (GOOD.replace("budget;100\n", ""), "META has no “budget”.", 8),
        (GOOD.replace("a;1,2;34", "a;1,7;34"), "votes for the unknown project “7”", 15),
        (GOOD.replace("2;50;1;", "1;50;1;"), "The project id “1” appears twice.", 12),
        (GOOD.replace("b;1;", "a;1;"), "The voter id “a” appears twice.", 16),
        (GOOD.replace("1;60;2;Playground;1", "1;60;2;Playground;yes"), "must be 0, 1, 2 or 3", 11),
        (
            GOOD.replace(
                "voter_id;vote;age\na;1,2;34\nb;1;", "voter_id;vote;points\na;1,2;5\nb;1;3"
            ),
            "gives 1 points for 2 projects",
            15,
        ),
        (
            GOOD.replace(
                "voter_id;vote;age\na;1,2;34\nb;1;", "voter_id;vote;points\na;1,2;5,x\nb;1;3"
            ),
            "A points value on the ballot of voter “a” is not a number",
            15,
        ),
        (
            GOOD.replace("vote_type;approval", "vote_type;cumulative"),
            "no “points” column, which cumulative ballots need",
            14,
        ),
        (GOOD.replace("a;1,2;34", "a;1,2;34;extra"), "has 4 fields", 15),
        (
            GOOD.replace('"Benches; and bins"', '"Benches'),
            "a quote is left open (is the file cut short?)",
            12,
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 60 else None,
)
def test_malformed_files_raise_a_clear_error(text: str, message: str, line: int | None) -> None:
    error = _error(text)
    assert message in str(error)
    assert isinstance(error, ValueError)
    if line is not None:
        assert error.line == line
        assert str(error).startswith(f"line {line}: ")


def test_missing_projects_list_is_an_error() -> None:
    text = GOOD.split("PROJECTS")[0] + "PROJECTS\nproject_id;cost\nVOTES\nvoter_id;vote\n"
    assert "lists no projects" in str(_error(text))


def test_budget_property_checks_the_value() -> None:
    election = Election(meta={"budget": "1e3"}, projects=[], ballots=[])
    assert election.budget == 1000
    with pytest.raises(PabulibError, match="META has no “budget”"):
        _ = Election(meta={}, projects=[], ballots=[]).budget


# --- round trips -----------------------------------------------------------------------------


def test_round_trip_of_a_hand_made_election() -> None:
    election = Election(
        meta={"budget": "1000", "vote_type": "cumulative", "description": 'Say "hi"; twice'},
        projects=[
            Project("1", 500, 'Quoted "name"; with semicolon', 12, True, {"category": "a,b"}),
            Project("2", 300, "Line\nbreak", None, None, {"category": ""}),
            Project("10", 0, "", 3, False, {"category": "free"}),
        ],
        ballots=[
            Ballot("v1", ("1", "10"), (7, 3), {"sex": "F"}),
            Ballot("v2", (), (), {"sex": ""}),
            Ballot("v;3", ("2",), (10,), {"sex": "M"}),
        ],
    )
    text = dump(election)
    assert parse(text) == election
    assert dump(parse(text)) == text


@pytest.mark.parametrize(
    "name",
    [
        "Netherlands_Assen_2024.pb",
        "Poland_Warszawa_2017_Anin.pb",
        "Poland_Czestochowa_2024_Dzbow.pb",
    ],
)
def test_round_trip_of_real_files(name: str) -> None:
    path = DATA / name
    if not path.is_file():
        pytest.skip(f"real Pabulib election {name} not found in {DATA} (shared data not present)")
    election = load(path)
    assert len(election.ballots) == int(election.meta["num_votes"])
    assert len(election.projects) == int(election.meta["num_projects"])
    assert parse(dump(election)) == election


def test_dump_refuses_an_extra_column_named_like_a_reserved_one() -> None:
    election = Election(
        meta={"budget": "1"}, projects=[Project("1", 1, extra={"cost": "2"})], ballots=[]
    )
    with pytest.raises(PabulibError, match="clashes"):
        dump(election)


# --- what real files contain (issue 12, item 14) -----------------------------------------------


def test_selected_two_and_three_are_read() -> None:
    """Pabulib's checker accepts 0-3: 2 and 3 were funded by another rule or reserve funds."""
    text = GOOD.replace("1;60;2;Playground;1", "1;60;2;Playground;2").replace(
        '"Benches; and bins";0', '"Benches; and bins";3'
    )
    election = parse(text)
    assert [p.selected for p in election.projects] == [2, 3]
    assert not any(p.selected_by_rule for p in election.projects)
    assert parse(dump(election)) == election


def test_money_with_decimals_is_decimal() -> None:
    from decimal import Decimal

    election = parse(GOOD.replace("budget;100\n", "budget;100.50\n").replace("1;60;", "1;60.25;"))
    assert election.budget == Decimal("100.50") and isinstance(election.budget, Decimal)
    assert election.projects[0].cost == Decimal("60.25")
    assert not any(isinstance(p.cost, float) for p in election.projects)
    assert "1;60.25;" in dump(election)


def test_a_project_named_twice_on_a_ballot_counts_once_and_is_reported() -> None:
    election = parse(GOOD.replace("a;1,2;34", "a;1,2,1;34"))
    assert election.ballots[0].projects == ("1", "2")
    assert len(election.warnings) == 1
    assert election.warnings[0].startswith("line 15: ") and "counted once" in election.warnings[0]
    points = GOOD.replace("vote_type;approval", "vote_type;cumulative").replace(
        "voter_id;vote;age\na;1,2;34\nb;1;\n", "voter_id;vote;points\na;1,2,1;7,3,5\nb;2;10\n"
    )
    assert parse(points).ballots[0].points == (7, 3)


@pytest.mark.parametrize("vote_type", ["choose-1", "ordinal"])
def test_choose_one_and_ordinal_ballots_are_read(vote_type: str) -> None:
    text = GOOD.replace("vote_type;approval", f"vote_type;{vote_type}")
    if vote_type == "choose-1":
        text = text.replace("a;1,2;34", "a;2;34")
    else:
        text = text.replace("a;1,2;34", "a;2,1;34")
    election = parse(text)
    assert election.vote_type == vote_type
    assert election.ballots[0].projects == (("2",) if vote_type == "choose-1" else ("2", "1"))


def test_a_choose_one_ballot_with_two_projects_is_an_error() -> None:
    error = _error(GOOD.replace("vote_type;approval", "vote_type;choose-1"))
    assert error.line == 15 and "chooses 2 projects" in str(error)


def test_score_threshold_is_read() -> None:
    text = GOOD.replace("rule;greedy\n", "rule;greedy\nmin_project_score_threshold;2\n")
    assert parse(text).score_threshold == 2
    assert parse(GOOD).score_threshold is None
    bad = GOOD.replace("rule;greedy\n", "rule;greedy\nmin_project_score_threshold;many\n")
    assert _error(bad).line == 9


# --- truncated files, long ids, huge amounts (issue 12, item 17) ----------------------------


def test_a_truncated_file_is_refused_at_the_meta_line() -> None:
    cut = GOOD.rsplit("b;1;", 1)[0]  # the last ballot is missing
    error = _error(cut)
    assert error.line == 5  # num_votes;2
    assert "num_votes says 2" in str(error) and "1 rows" in str(error)
    no_projects = GOOD.replace("num_projects;2", "num_projects;3")
    error = _error(no_projects)
    assert error.line == 4 and "num_projects says 3" in str(error)


def test_long_voter_ids_and_huge_costs_are_one_line_errors() -> None:
    long_id = "v" * 65
    error = _error(GOOD.replace("a;1,2;34", f"{long_id};1,2;34"))
    assert error.line == 15 and "65 characters" in str(error)
    assert "\n" not in str(error)
    error = _error(GOOD.replace("1;60;2;", "1;99999999999999999;2;"))
    assert error.line == 11 and "too large" in str(error)
    assert "\n" not in str(error)


def test_errors_are_in_the_users_language(app) -> None:
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("da"):
        error = _error(GOOD.rsplit("b;1;", 1)[0])
    assert str(error).startswith("linje 5: ")
    assert "num_votes" in str(error) and "says" not in str(error)
