"""Casting ballots: every way a ballot can be wrong gets a clear refusal and writes nothing;
a valid ballot replaces the voter's earlier one (also from two tabs at once)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from budgets import services
from budgets.models import Ballot, BallotChoice, BallotStyle, Phase, PhaseDate
from forum.errors import Conflict, InvalidInput, PermissionDenied
from forum.extensions import db
from forum.models import utcnow

from .conftest import ideas_of


def _choices(ballot: Ballot) -> dict[int, int]:
    return dict(
        db.session.execute(
            select(BallotChoice.idea_id, BallotChoice.points).where(
                BallotChoice.ballot_id == ballot.id
            )
        ).all()
    )


def _refused(exc_type, call, *args, **kwargs) -> str:
    with pytest.raises(exc_type) as caught:
        call(*args, **kwargs)
    db.session.rollback()
    error = caught.value
    return " ".join([error.message, *error.fields.values()])


def test_a_ballot_within_the_budget_is_saved_and_can_be_replaced(voting_process, citizen) -> None:
    process = voting_process()
    a, b, c = ideas_of(process)
    first = services.cast_ballot(citizen, process, [a.id, b.id])
    db.session.commit()
    assert first.version == 1 and len(first.receipt) == 8
    assert _choices(first) == {a.id: 1, b.id: 1}

    second = services.cast_ballot(citizen, process, [c.id])
    db.session.commit()
    assert second.id == first.id and second.version == 2
    assert _choices(second) == {c.id: 1}
    assert db.session.scalar(select(func.count(Ballot.id))) == 1


def test_over_budget_is_refused_with_the_amounts_and_the_old_ballot_stays(
    voting_process, citizen
) -> None:
    process = voting_process()
    a, b, c = ideas_of(process)
    services.cast_ballot(citizen, process, [a.id])
    db.session.commit()
    message = _refused(InvalidInput, services.cast_ballot, citizen, process, [a.id, b.id, c.id])
    assert "1,200,000" in message and "200,000" in message and "1,000,000" in message
    (ballot,) = db.session.scalars(select(Ballot)).all()
    assert _choices(ballot) == {a.id: 1} and ballot.version == 1


def test_an_empty_ballot_is_refused(voting_process, citizen) -> None:
    process = voting_process()
    assert "at least one" in _refused(InvalidInput, services.cast_ballot, citizen, process, [])
    assert db.session.scalar(select(func.count(Ballot.id))) == 0


def test_too_few_or_too_many_projects(voting_process, citizen) -> None:
    process = voting_process(ballot_style=BallotStyle.APPROVAL_RANGE, min_choices=2, max_choices=2)
    a, b, c = ideas_of(process)
    assert "at least 2" in _refused(InvalidInput, services.cast_ballot, citizen, process, [a.id])
    assert "at most 2" in _refused(
        InvalidInput, services.cast_ballot, citizen, process, [a.id, b.id, c.id]
    )
    # Approval of between min and max projects has no budget limit on the ballot.
    assert services.cast_ballot(citizen, process, [a.id, c.id]).version == 1


def test_points_must_add_up(voting_process, citizen) -> None:
    process = voting_process(ballot_style=BallotStyle.POINTS, points_total=10)
    a, b, _c = ideas_of(process)
    assert "Take away 2" in _refused(
        InvalidInput, services.cast_ballot, citizen, process, {a.id: 7, b.id: 5}
    )
    assert "at least one point" in _refused(
        InvalidInput, services.cast_ballot, citizen, process, {a.id: 0}
    )
    assert "negative" in _refused(
        InvalidInput, services.cast_ballot, citizen, process, {a.id: -1, b.id: 5}
    )
    assert "whole numbers" in _refused(
        InvalidInput, services.cast_ballot, citizen, process, {a.id: "2.5"}
    )
    ballot = services.cast_ballot(citizen, process, {a.id: 7, b.id: 3})
    assert _choices(ballot) == {a.id: 7, b.id: 3}


def test_unknown_and_infeasible_projects_are_refused(
    voting_process, make_process, citizen, staff, advance, make_area
) -> None:
    process = voting_process()
    a, _b, _c = ideas_of(process)
    assert "not on it" in _refused(
        InvalidInput, services.cast_ballot, citizen, process, [a.id, 99999]
    )
    assert "does not exist" in _refused(InvalidInput, services.cast_ballot, citizen, process, ["x"])
    other = make_process(title="Et andet budget")
    advance(other, Phase.IDEAS)
    stray = services.propose_idea(
        staff, other, "Idé i et andet budget", "Tekst", 1000, area_id=make_area().id
    )
    db.session.commit()
    assert "not on it" in _refused(InvalidInput, services.cast_ballot, citizen, process, [stray.id])

    late = voting_process(title="Med en afvist idé")
    idea = ideas_of(late)[0]
    idea.review = None  # as if it had never been found feasible
    db.session.commit()
    assert "not found feasible" in _refused(
        InvalidInput, services.cast_ballot, citizen, late, [idea.id]
    )


def test_voting_outside_the_voting_phase_is_refused(
    voting_process, make_process, citizen, advance
) -> None:
    early = make_process()
    advance(early, Phase.IDEAS)
    assert "not started" in _refused(Conflict, services.cast_ballot, citizen, early, [1])

    process = voting_process()
    a = ideas_of(process)[0]
    # The closing date has passed but the scheduled move has not run yet: closed all the same.
    db.session.add(
        PhaseDate(
            process_id=process.id, phase=Phase.RESULT, starts_at=utcnow() - timedelta(minutes=1)
        )
    )
    db.session.commit()
    db.session.refresh(process)
    assert "closed" in _refused(Conflict, services.cast_ballot, citizen, process, [a.id])

    advance(process, Phase.RESULT)
    assert "closed" in _refused(Conflict, services.cast_ballot, citizen, process, [a.id])
    assert db.session.scalar(select(func.count(Ballot.id))) == 0


def test_anonymous_users_cannot_vote(app, voting_process) -> None:
    from flask_login import AnonymousUserMixin

    process = voting_process()
    _refused(PermissionDenied, services.cast_ballot, AnonymousUserMixin(), process, [1])


class TestSuspended:
    @pytest.fixture
    def extra_config(self) -> dict:
        return {"MODERATION_ENABLED": True}

    def test_a_suspended_account_cannot_vote(self, voting_process, citizen, staff) -> None:
        from moderation import services as moderation_services

        process = voting_process()
        a = ideas_of(process)[0]
        moderation_services.suspend_user(staff, citizen, "Chikane")
        db.session.commit()
        message = _refused(PermissionDenied, services.cast_ballot, citizen, process, [a.id])
        assert "suspended" in message
        assert db.session.scalar(select(func.count(Ballot.id))) == 0


class TestUnverified:
    @pytest.fixture
    def extra_config(self) -> dict:
        return {"MAIL_REQUIRE_VERIFICATION": True}

    def test_an_unverified_account_cannot_vote(self, voting_process, citizen) -> None:
        process = voting_process()
        a = ideas_of(process)[0]
        message = _refused(PermissionDenied, services.cast_ballot, citizen, process, [a.id])
        assert "Confirm your e-mail" in message
        citizen.email_verified_at = utcnow()
        db.session.commit()
        assert services.cast_ballot(citizen, process, [a.id]).version == 1


def test_area_budgets_fix_the_area_and_its_money(voting_process, make_area, citizen) -> None:
    north, south = make_area("Nord"), make_area("Syd")
    process = voting_process(
        projects=[
            ("Nord 1", 300_000, north),
            ("Nord 2", 300_000, north),
            ("Syd 1", 200_000, south),
        ],
        area_amounts={north.id: 500_000, south.id: 500_000},
    )
    n1, n2, s1 = ideas_of(process)
    assert "Choose the local area" in _refused(
        InvalidInput, services.cast_ballot, citizen, process, [n1.id]
    )
    assert "another area" in _refused(
        InvalidInput, services.cast_ballot, citizen, process, [n1.id, s1.id], area_id=north.id
    )
    # Nord's budget is 500,000: both Nord projects (600,000) do not fit.
    assert "500,000" in _refused(
        InvalidInput, services.cast_ballot, citizen, process, [n1.id, n2.id], area_id=north.id
    )
    ballot = services.cast_ballot(citizen, process, [n1.id], area_id=north.id)
    db.session.commit()
    assert ballot.area_id == north.id
    assert "cannot be changed" in _refused(
        InvalidInput, services.cast_ballot, citizen, process, [s1.id], area_id=south.id
    )
    # Sending without the area keeps the one chosen first.
    assert services.cast_ballot(citizen, process, [n2.id]).area_id == north.id


def test_two_tabs_at_once_leave_one_ballot_with_one_tabs_choices(
    app, voting_process, citizen
) -> None:
    process = voting_process()
    a, b, c = ideas_of(process)
    process_id, user_id = process.id, citizen.id
    submissions = [[a.id, b.id], [c.id]]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def tab(choice: list[int]) -> None:
        from budgets.models import BudgetProcess
        from forum.models import User

        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                proc = db.session.get(BudgetProcess, process_id)
                barrier.wait(timeout=10)
                services.cast_ballot(user, proc, choice)
                db.session.commit()
            except BaseException as exc:  # reported below
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=tab, args=(s,)) for s in submissions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    db.session.expire_all()
    (ballot,) = db.session.scalars(select(Ballot)).all()
    assert ballot.version == 2
    assert set(_choices(ballot)) in ({a.id, b.id}, {c.id})


def test_the_count_uses_each_voters_last_ballot(voting_process, make_user, staff, advance) -> None:
    process = voting_process()
    a, b, c = ideas_of(process)
    voters = [make_user() for _ in range(3)]
    for v in voters:
        services.cast_ballot(v, process, [a.id])
    for v in voters[:2]:
        services.cast_ballot(v, process, [b.id, c.id])
    db.session.commit()
    (result,) = services.count_process(staff, process)
    scores = {line.idea_id: line.score for line in result.lines}
    assert scores == {a.id: 1, b.id: 2, c.id: 2}
    funded = {line.idea_id for line in result.lines if line.funded}
    # Greedy: b (2 votes, 300,000) and c (2 votes, 500,000) first, then a no longer fits
    # (400,000 > 200,000 left).
    assert funded == {b.id, c.id}
    assert result.satisfied == 2
