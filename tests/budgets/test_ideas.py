"""Ideas: proposed during idea collection, moderated like posts, debated in their own topic,
supported, reviewed, merged; funded projects get status updates."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from budgets import permissions, services
from budgets.models import IdeaState, IdeaSupport, Notice, Phase, Review
from forum.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.models import Follow, Notification, TopicStatus

from .conftest import ideas_of


@pytest.fixture
def collecting(make_process, advance):
    def make(**settings):
        process = make_process(**settings)
        advance(process, Phase.IDEAS)
        return process

    return make


def _kinds(user) -> list[str]:
    return list(
        db.session.scalars(
            select(Notification.kind)
            .where(Notification.user_id == user.id)
            .order_by(Notification.id)
        )
    )


def test_ideas_are_collected_only_in_the_idea_phase(
    make_process, advance, citizen, make_area
) -> None:
    process = make_process()
    area = make_area()
    with pytest.raises(NotFound):  # a draft is seen by staff only
        services.propose_idea(citizen, process, "For tidligt forslag", "Tekst", 1000, area.id)
    advance(process, Phase.REVIEW)
    with pytest.raises(Conflict):
        services.propose_idea(citizen, process, "For sent forslag", "Tekst", 1000, area.id)


def test_an_idea_needs_a_place_and_a_cost_within_the_budget(collecting, citizen, make_area) -> None:
    process = collecting()
    with pytest.raises(InvalidInput) as caught:
        services.propose_idea(citizen, process, "Idé uden sted", "Tekst", 1000)
    assert "area_id" in caught.value.fields
    with pytest.raises(InvalidInput) as caught:
        services.propose_idea(
            citizen, process, "Alt for dyr idé", "Tekst", 2_000_000, make_area().id
        )
    assert "1,000,000" in caught.value.fields["estimated_cost"]
    with pytest.raises(InvalidInput) as caught:
        services.propose_idea(citizen, process, "Gratis idé", "Tekst", 0, make_area().id)
    assert "estimated_cost" in caught.value.fields


def test_without_moderation_an_idea_is_published_with_its_debate(
    collecting, citizen, make_area
) -> None:
    process = collecting()
    area = make_area()
    idea = services.propose_idea(
        citizen, process, "Nye bænke ved søen", "Flere **bænke**.", 40_000, area.id, nonce="n1"
    )
    db.session.commit()
    assert idea.state == IdeaState.PUBLISHED
    assert idea.topic.status == TopicStatus.OPEN and idea.topic.area_id == area.id
    assert f"/borgerbudget/ideer/{idea.id}" in idea.topic.intro_source
    assert db.session.get(Follow, (citizen.id, idea.topic_id)) is not None
    # The same form sent twice gives the same idea.
    again = services.propose_idea(
        citizen, process, "Nye bænke ved søen", "Flere **bænke**.", 40_000, area.id, nonce="n1"
    )
    assert again.id == idea.id


class TestModeration:
    @pytest.fixture
    def extra_config(self) -> dict:
        return {"MODERATION_ENABLED": True}

    def test_an_idea_is_held_until_a_moderator_approves_it(
        self, collecting, citizen, make_user, make_area
    ) -> None:
        from moderation.models import AuditEntry

        process = collecting()
        area = make_area()
        idea = services.propose_idea(
            citizen, process, "Hundeskov i byen", "En hundeskov.", 80_000, area.id
        )
        db.session.commit()
        other = make_user()
        assert idea.state == IdeaState.PENDING and idea.topic_id is None
        assert permissions.can_see_idea(citizen, idea)
        assert not permissions.can_see_idea(other, idea)
        with pytest.raises(PermissionDenied):
            services.moderate_idea(other, idea, True)

        moderator = make_user("moderator", areas=[area])
        services.moderate_idea(moderator, idea, True)
        db.session.commit()
        assert idea.state == IdeaState.PUBLISHED and idea.topic.status == TopicStatus.OPEN
        assert permissions.can_see_idea(other, idea)
        assert _kinds(citizen) == ["budget_idea_approved"]
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.target_type == "budget_idea"))
        assert (entry.action, entry.target_id, entry.actor_id) == ("approve", idea.id, moderator.id)
        assert entry.area_id == area.id
        with pytest.raises(Conflict):
            services.moderate_idea(moderator, idea, False, "For sent")

    def test_a_rejection_needs_a_reason_and_tells_the_author(
        self, collecting, citizen, make_user, make_area
    ) -> None:
        process = collecting()
        idea = services.propose_idea(
            citizen, process, "Reklame for min butik", "Køb!", 1000, make_area().id
        )
        db.session.commit()
        moderator = make_user("moderator")
        with pytest.raises(InvalidInput):
            services.moderate_idea(moderator, idea, False, "")
        db.session.rollback()
        services.moderate_idea(moderator, idea, False, "Reklame er ikke tilladt.")
        db.session.commit()
        assert idea.state == IdeaState.REJECTED and idea.topic_id is None
        notice = db.session.scalar(select(Notice))
        assert (notice.idea_id, notice.text) == (idea.id, "Reklame er ikke tilladt.")

    def test_staff_ideas_are_published_at_once(self, collecting, staff, make_area) -> None:
        idea = services.propose_idea(
            staff, collecting(), "Kommunens egen idé", "Tekst", 1000, make_area().id
        )
        assert idea.state == IdeaState.PUBLISHED


def test_support_is_toggled_and_follows_the_debate(
    collecting, citizen, make_user, make_area
) -> None:
    process = collecting()
    idea = services.propose_idea(
        citizen, process, "Cykelstativer ved stationen", "Tekst", 25_000, make_area().id
    )
    fan = make_user()
    assert services.toggle_support(fan, idea) == (True, 1)
    assert db.session.get(Follow, (fan.id, idea.topic_id)) is not None
    assert services.toggle_support(fan, idea) == (False, 0)
    with pytest.raises(PermissionDenied):
        services.toggle_support(citizen, idea)


def test_review_decides_the_ballot_and_tells_the_author(
    collecting, citizen, staff, make_area
) -> None:
    process = collecting()
    area = make_area()
    good = services.propose_idea(
        citizen, process, "Legeplads ved skolen", "Tekst", 150_000, area.id
    )
    bad = services.propose_idea(
        citizen, process, "Ny motorvej gennem byen", "Tekst", 900_000, area.id
    )
    with pytest.raises(InvalidInput) as caught:
        services.review_idea(staff, good, True, "Kan lade sig gøre.", final_cost=5_000_000)
    assert "final_cost" in caught.value.fields
    with pytest.raises(InvalidInput):
        services.review_idea(staff, good, True, "", final_cost=180_000)
    services.review_idea(staff, good, True, "Prisen er justeret.", final_cost=180_000)
    services.review_idea(staff, bad, False, "Kommunen bygger ikke motorveje.")
    db.session.commit()
    assert good.review == Review.FEASIBLE and good.cost == 180_000
    assert bad.review == Review.INFEASIBLE
    assert [i.id for i in services.ballot_ideas(process)] == [good.id]
    assert _kinds(citizen) == ["budget_idea_feasible", "budget_idea_infeasible"]
    with pytest.raises(PermissionDenied):
        services.review_idea(citizen, good, False, "Nej")


def test_merging_moves_supporters_and_tells_them(
    collecting, citizen, staff, make_user, make_area
) -> None:
    process = collecting()
    area = make_area()
    target = services.propose_idea(
        citizen, process, "Shelter ved stranden", "Tekst", 60_000, area.id
    )
    other_author = make_user()
    duplicate = services.propose_idea(
        other_author, process, "Shelterplads ved vandet", "Tekst", 70_000, area.id
    )
    fans = [make_user(), make_user()]
    services.toggle_support(fans[0], duplicate)
    services.toggle_support(fans[1], duplicate)
    services.toggle_support(fans[1], target)
    db.session.commit()
    with pytest.raises(InvalidInput):
        services.merge_idea(staff, duplicate, duplicate, "Samme idé")
    services.merge_idea(staff, duplicate, target, "Det er den samme idé.")
    db.session.commit()
    assert duplicate.review == Review.MERGED and duplicate.merged_into_id == target.id
    supporters = set(
        db.session.scalars(select(IdeaSupport.user_id).where(IdeaSupport.idea_id == target.id))
    )
    assert supporters == {fans[0].id, fans[1].id, other_author.id}
    assert target.support_count == 3
    assert duplicate.topic.status == TopicStatus.CLOSED
    for person in (*fans, other_author):
        assert "budget_idea_merged" in _kinds(person)
    assert not permissions.can_support(make_user(), duplicate)


def test_status_updates_reach_followers_and_voters(voting_process, make_user, staff) -> None:
    process = voting_process()
    a, b, _c = ideas_of(process)
    voter, follower, loser = make_user(), make_user(), make_user()
    services.cast_ballot(voter, process, [a.id])
    services.cast_ballot(loser, process, [b.id])
    db.session.add(Follow(user_id=follower.id, topic_id=a.topic_id))
    db.session.commit()
    with pytest.raises(Conflict):  # no result yet
        services.add_status_update(staff, a, "planned", date(2027, 5, 1), "Planlagt.")
    db.session.rollback()
    services.advance_phase(staff, process)  # result: a (400,000) and b (300,000) tie at 1 vote
    db.session.commit()
    funded = {
        line.idea_id
        for r in services.count_process(staff, process)
        for line in r.lines
        if line.funded
    }
    assert a.id in funded
    update = services.add_status_update(
        staff, a, "in_progress", date(2027, 6, 1), "Arbejdet er **i gang**."
    )
    db.session.commit()
    assert "<strong>" in update.text_html
    assert "budget_status" in _kinds(voter) and "budget_status" in _kinds(follower)
    assert "budget_status" not in _kinds(loser) and "budget_status" not in _kinds(staff)
    with pytest.raises(InvalidInput):
        services.add_status_update(staff, a, "forgotten", date(2027, 6, 1), "?")


def test_the_same_idea_form_sent_twice_at_once_makes_one_idea(
    app, collecting, citizen, make_area
) -> None:
    import threading

    from budgets.models import BudgetProcess, Idea
    from forum.models import User

    process_id, user_id, area_id = collecting().id, citizen.id, make_area().id
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def send() -> None:
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                process = db.session.get(BudgetProcess, process_id)
                barrier.wait(timeout=10)
                services.propose_idea(
                    user, process, "Vandpost i parken", "Tekst", 30_000, area_id, nonce="same-form"
                )
                db.session.commit()
            except BaseException as exc:  # reported below
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert len(db.session.scalars(select(Idea)).all()) == 1
