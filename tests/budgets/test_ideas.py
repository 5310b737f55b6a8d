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
    """Held ideas wait in moderation's queue (budgets registers them as a review source) and
    are decided, audited and appealed there, like held posts."""

    @pytest.fixture
    def extra_config(self) -> dict:
        return {"MODERATION_ENABLED": True}

    @pytest.fixture
    def rules(self, app) -> dict:
        from moderation import services as moderation_services
        from moderation.models import DebateRule

        moderation_services.ensure_default_rules()
        db.session.commit()
        return {r.code: r for r in db.session.scalars(select(DebateRule))}

    @staticmethod
    def item_of(idea, kind="idea"):
        from moderation.models import QueueItem

        return db.session.scalar(
            select(QueueItem)
            .where(QueueItem.kind == kind, QueueItem.target_id == idea.id)
            .order_by(QueueItem.id.desc())
        )

    def test_an_idea_waits_in_the_moderation_queue_until_approved(
        self, client, collecting, citizen, make_user, make_area
    ) -> None:
        from moderation import services as moderation_services
        from moderation.models import AuditEntry

        process = collecting()
        area, elsewhere = make_area(), make_area()
        idea = services.propose_idea(
            citizen, process, "Hundeskov i byen", "En **hundeskov**.", 80_000, area.id
        )
        db.session.commit()
        other = make_user()
        assert idea.state == IdeaState.PENDING and idea.topic_id is None
        assert permissions.can_see_idea(citizen, idea)
        assert not permissions.can_see_idea(other, idea)
        item = self.item_of(idea)
        assert (item.status, item.area_id, item.reason) == ("open", area.id, "new_content")
        hold = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "hold"))
        assert (hold.target_type, hold.target_id, hold.subject_user_id) == (
            "idea",
            idea.id,
            citizen.id,
        )

        moderator = make_user("moderator", areas=[area])
        client.post("/login", data={"email": moderator.email, "password": "correct-horse-battery"})
        page = client.get("/moderation").get_data(as_text=True)
        assert "Hundeskov i byen" in page and "<strong>hundeskov</strong>" in page
        assert f"/borgerbudget/ideer/{idea.id}" in page and "Citizen budget idea" in page
        assert client.get(f"/moderation/items/{item.id}").status_code == 200
        with pytest.raises(PermissionDenied):  # a moderator of another area
            moderation_services.decide_item(
                make_user("moderator", areas=[elsewhere]), item, "approve"
            )
        db.session.rollback()
        # Not on the idea's own page: it is (already) in the queue, and nothing is decided.
        assert services.moderate_idea(moderator, idea, True) is False
        db.session.commit()
        assert idea.state == IdeaState.PENDING and self.item_of(idea).id == item.id
        assert db.session.query(AuditEntry).filter_by(action="hold").count() == 1
        r = client.post(f"/moderation/items/{item.id}/decide", data={"action": "approve"})
        assert r.status_code == 302
        db.session.refresh(idea)
        assert idea.state == IdeaState.PUBLISHED and idea.topic.status == TopicStatus.OPEN
        assert permissions.can_see_idea(other, idea)
        assert _kinds(citizen) == ["budget_idea_approved"]
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "approve"))
        assert (entry.target_type, entry.target_id, entry.actor_id) == (
            "idea",
            idea.id,
            moderator.id,
        )
        assert entry.area_id == area.id and entry.notification_id is not None
        r = client.post(
            f"/moderation/items/{item.id}/decide", data={"action": "reject", "rule_id": ""}
        )
        assert r.status_code in (400, 409)  # already decided: nothing changes
        db.session.refresh(idea)
        assert idea.state == IdeaState.PUBLISHED

    def test_a_rejection_cites_a_rule_tells_the_author_and_can_be_appealed(
        self, as_author, collecting, citizen, make_user, make_area, rules
    ) -> None:
        from moderation import services as moderation_services
        from moderation.models import Appeal, AuditEntry, QueueItem

        process = collecting()
        area = make_area()
        idea = services.propose_idea(
            citizen, process, "Reklame for min butik", "Køb!", 1000, area.id
        )
        db.session.commit()
        first, second = make_user("moderator"), make_user("moderator")
        item = self.item_of(idea)
        with pytest.raises(InvalidInput):  # no rule
            moderation_services.decide_item(first, item, "reject", None, "Reklame")
        db.session.rollback()
        moderation_services.decide_item(
            first, item, "reject", rules["spam"].id, "Reklame er ikke tilladt."
        )
        db.session.commit()
        db.session.refresh(idea)
        assert idea.state == IdeaState.REJECTED and idea.topic_id is None
        notice = db.session.scalar(select(Notice))
        assert notice.idea_id == idea.id and "Reklame er ikke tilladt." in notice.text
        assert rules["spam"].title_da in notice.text  # the rule, in the author's language
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reject"))
        assert entry.rule_id == rules["spam"].id and entry.subject_user_id == citizen.id

        page = as_author(citizen).get(f"/borgerbudget/ideer/{idea.id}").get_data(as_text=True)
        assert rules["spam"].title_en in page and f"/afgoerelser/{entry.id}/klage" in page
        with pytest.raises(PermissionDenied):  # not their decision
            moderation_services.appeal_decision(make_user(), entry, "Det er ikke reklame.")
        db.session.rollback()
        moderation_services.appeal_decision(citizen, entry, "Det er en idé til byen, ikke reklame.")
        db.session.commit()
        with pytest.raises(Conflict):
            moderation_services.appeal_decision(citizen, entry, "Igen og igen og igen.")
        db.session.rollback()
        appeal_item = db.session.scalar(select(QueueItem).where(QueueItem.kind == "appeal"))
        assert appeal_item.area_id == area.id and appeal_item.avoid_user_id == first.id
        with pytest.raises(PermissionDenied):  # someone else decides the appeal
            moderation_services.decide_item(first, appeal_item, "grant")
        db.session.rollback()
        moderation_services.decide_item(second, appeal_item, "grant", None, "Fair nok.")
        db.session.commit()
        db.session.refresh(idea)
        assert idea.state == IdeaState.PUBLISHED and idea.topic is not None
        assert db.session.scalar(select(Appeal)).status == "granted"
        assert _kinds(citizen)[-1] == "moderation_appeal"
        granted = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "appeal_granted"))
        assert (granted.target_type, granted.target_id) == ("idea", idea.id)
        notes = as_author(citizen).get("/notifikationer").get_data(as_text=True)
        assert "Reklame for min butik" in notes
        page = as_author(citizen).get(f"/borgerbudget/ideer/{idea.id}").get_data(as_text=True)
        assert "Your appeal was granted." in page and "/klage" not in page

    def test_an_idea_held_before_ideas_went_to_the_queue_is_put_there(
        self, collecting, citizen, make_user, make_area
    ) -> None:
        from budgets.models import Idea
        from forum.models import utcnow

        process = collecting()
        area = make_area()
        legacy = Idea(
            process=process,
            author=citizen,
            area_id=area.id,
            title="Gammel idé",
            description_source="Tekst",
            description_html="<p>Tekst</p>",
            estimated_cost=1000,
            state=IdeaState.PENDING,
            support_count=0,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        db.session.add(legacy)
        db.session.commit()
        assert self.item_of(legacy) is None
        moderator = make_user("moderator")
        with pytest.raises(PermissionDenied):
            services.moderate_idea(make_user(), legacy, True)
        assert services.moderate_idea(moderator, legacy, True) is False
        db.session.commit()
        assert self.item_of(legacy).status == "open" and legacy.state == IdeaState.PENDING

    def test_staff_ideas_are_published_at_once(self, collecting, staff, make_area) -> None:
        idea = services.propose_idea(
            staff, collecting(), "Kommunens egen idé", "Tekst", 1000, make_area().id
        )
        assert idea.state == IdeaState.PUBLISHED and self.item_of(idea) is None

    def test_an_edited_idea_is_moderated_again_and_a_withdrawn_one_leaves(
        self, collecting, citizen, staff, make_user, make_area, rules
    ) -> None:
        from moderation import services as moderation_services
        from moderation.models import QueueItem

        process = collecting()
        area = make_area()
        idea = services.propose_idea(
            citizen, process, "Bænke ved søen", "Tre bænke.", 30_000, area.id
        )
        db.session.commit()
        moderator = make_user("moderator")
        services.edit_idea(citizen, idea, "Bænke ved søen", "Fire bænke.", 40_000, area.id)
        db.session.commit()
        assert idea.state == IdeaState.PENDING and idea.estimated_cost == 40_000
        assert self.item_of(idea).status == "open"  # the same item, with the new text
        moderation_services.decide_item(moderator, self.item_of(idea), "approve")
        db.session.commit()
        topic = idea.topic
        fan = make_user()
        services.toggle_support(fan, idea)
        db.session.commit()

        with pytest.raises(PermissionDenied):
            services.edit_idea(fan, idea, "Mine bænke", "Tekst", 1000, area.id)
        services.edit_idea(
            citizen, idea, "Bænke og borde ved søen", "Fire bænke og to borde.", 50_000, area.id
        )
        db.session.commit()
        assert idea.state == IdeaState.PENDING  # hidden again until a moderator approves
        assert not permissions.can_see_idea(fan, idea)
        item = self.item_of(idea)
        assert item.status == "open" and item.reason == "edited_content"
        moderation_services.decide_item(moderator, item, "approve")
        db.session.commit()
        assert idea.state == IdeaState.PUBLISHED and idea.topic_id == topic.id
        assert topic.title == "Bænke og borde ved søen" and "to borde" in topic.intro_source

        services.edit_idea(
            citizen, idea, "Bænke og borde ved søen", "Igen ændret.", 50_000, area.id
        )
        db.session.commit()
        services.withdraw_idea(citizen, idea)
        db.session.commit()
        assert idea.state == IdeaState.WITHDRAWN and topic.status == TopicStatus.CLOSED
        assert (
            db.session.scalar(
                select(QueueItem).where(QueueItem.target_id == idea.id, QueueItem.status == "open")
            )
            is None
        )
        assert "budget_idea_withdrawn" in _kinds(fan)
        assert not permissions.can_see_idea(fan, idea)
        assert idea.id not in [i.id for i in services.ballot_ideas(process)]
        with pytest.raises(Conflict):
            services.withdraw_idea(citizen, idea)
        with pytest.raises(Conflict):
            services.edit_idea(citizen, idea, "Tilbage igen", "Tekst", 1000, area.id)

    def test_a_reviewed_idea_cannot_be_edited(
        self, collecting, citizen, staff, make_area, make_user
    ) -> None:
        from moderation import services as moderation_services

        process = collecting()
        area = make_area()
        idea = services.propose_idea(citizen, process, "Skaterbane", "En bane.", 90_000, area.id)
        db.session.commit()
        moderation_services.decide_item(make_user("moderator"), self.item_of(idea), "approve")
        services.review_idea(staff, idea, True, "Kan lade sig gøre.")
        db.session.commit()
        with pytest.raises(Conflict):
            services.edit_idea(citizen, idea, "Skaterbane", "En større bane.", 90_000, area.id)
        assert not permissions.can_edit_idea(citizen, idea)
        assert permissions.can_withdraw_idea(citizen, idea)


def test_without_moderation_an_edit_stays_published_and_updates_the_debate(
    collecting, citizen, make_area
) -> None:
    process = collecting()
    area = make_area()
    idea = services.propose_idea(citizen, process, "Frugttræer", "Æbletræer.", 20_000, area.id)
    db.session.commit()
    services.edit_idea(citizen, idea, "Frugttræer i parken", "Æble- og pæretræer.", 25_000, area.id)
    db.session.commit()
    assert idea.state == IdeaState.PUBLISHED
    assert idea.topic.title == "Frugttræer i parken" and "pæretræer" in idea.topic.intro_source
    assert idea.title == "Frugttræer i parken" and idea.estimated_cost == 25_000
    with pytest.raises(InvalidInput):
        services.edit_idea(citizen, idea, "Frugttræer i parken", "Tekst", 5_000_000, area.id)


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
