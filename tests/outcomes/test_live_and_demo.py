"""An update reaches open topic pages live (a small message, no text), and the demo step."""

from __future__ import annotations

from sqlalchemy import func, select

from forum.demo import seed_demo
from forum.extensions import db
from forum.live import Facts, route
from outcomes import demo
from outcomes.models import Outcome, OutcomeCitation, OutcomeStatus, OutcomeUpdate
from tests.live.conftest import received

from .conftest import add


def test_the_update_reaches_the_topic_room_without_text(world, socket_client):
    sc = socket_client()
    sc.emit("join", {"rooms": [f"topic:{world.topic.id}"]})
    received(sc)
    update = add(world, text="Hemmelig tekst, som ikke skal med i beskeden.")
    [msg] = [m for m in received(sc, "live") if m["kind"] == "outcome_update"]
    assert msg["topic_id"] == world.topic.id and isinstance(msg["id"], int)
    assert "Hemmelig" not in str(msg)
    assert update.id  # the message is about this update's event


def test_routing_sends_outcome_updates_to_the_topic_room_only():
    ev = {
        "id": 9,
        "kind": "outcome_update",
        "subject_type": "outcome",
        "subject_id": 3,
        "room": "topic:7",
        "actor_id": 1,
        "payload": {"topic_id": 7, "outcome_id": 3, "update_id": 4},
    }
    import outcomes  # noqa: F401  (registers the notice kind on init_app; done by the app)

    assert route(ev, Facts()) == [
        (("topic:7",), {"id": 9, "kind": "outcome_update", "topic_id": 7})
    ]


def test_demo_outcomes(app, client):
    app.config["MODERATION_ENABLED"] = False  # seed-demo pauses the policies the same way
    seed_demo(big_posts=5)
    assert demo.seed() > 0
    db.session.commit()
    statuses = sorted(o.status.value for o in db.session.scalars(select(Outcome)))
    assert statuses == sorted(
        [OutcomeStatus.DECIDED, OutcomeStatus.IN_PROGRESS, OutcomeStatus.REFERRED]
    )
    assert db.session.scalar(select(func.count(OutcomeCitation.id))) == 2
    # Written by the demo's municipal employee (Role.STAFF), not a moderator.
    authors = {u.author.email for u in db.session.scalars(select(OutcomeUpdate))}
    assert authors == {"medarbejder@holbaek.example"}
    for o in db.session.scalars(select(Outcome)):
        assert client.get(f"/emner/{o.topic_id}/resultat").status_code == 200
    assert "Besluttet" in client.get("/resultater").text


def test_seed_demo_command_runs_the_step(app, runner):
    app.config["MODERATION_ENABLED"] = False
    result = runner.invoke(args=["seed-demo", "--big-posts", "5"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count(Outcome.id))) == 3
    # The other packages' demo data runs first: the harbour's outcome cites a live Q&A answer
    # through the citable-source hooks (and a budget idea when there is a published one; the
    # budgets package has no demo data).
    kinds = {getattr(k, "value", k) for k in db.session.scalars(select(OutcomeCitation.kind))}
    assert kinds == {"post", "answer"}
