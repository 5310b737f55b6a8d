"""Meeting fixtures: a committee, an area with a local forum contact, organisers and people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from forum.extensions import db
from forum.models import Area, Committee, Topic, User, utcnow
from meetings import services


@dataclass
class World:
    committee: Committee
    area: Area
    other_area: Area
    topic: Topic
    staff: User
    politician: User
    other_politician: User
    contact: User  # local forum contact for ``area``
    citizen: User
    moderator: User


@pytest.fixture
def world(app, make_user, make_committee, make_area, make_topic) -> World:
    committee = make_committee("Udvalget for Klima og Miljø", "klima-og-miljoe")
    area, other_area = make_area("Tølløse", "toelloese"), make_area("Mørkøv", "moerkoev")
    politician = make_user("politician", committees=[committee])
    contact = make_user(name="Lokal Kontakt")
    services.set_contact(None, contact, area, True)
    db.session.commit()
    return World(
        committee=committee,
        area=area,
        other_area=other_area,
        topic=make_topic(author=politician, committee=committee, area=area, title="Vindmøller"),
        staff=make_user("staff"),
        politician=politician,
        other_politician=make_user("politician"),
        contact=contact,
        citizen=make_user(),
        moderator=make_user("moderator"),
    )


def meeting_data(**over) -> dict:
    starts = (utcnow() + timedelta(days=10)).replace(second=0, microsecond=0)
    data = {
        "kind": "committee_local",
        "title": "Udvalgsmøde i Mørkøv om vindmøller",
        "description": "Kom og hør om **vindmøllerne**.",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2),
        "address": "Mørkøv Hallen, Skolevej 3",
        "room": "Cafeteriet",
        "step_free": True,
        "registration": True,
        "capacity": 2,
    }
    data.update(over)
    return data


@pytest.fixture
def make_meeting(world):
    def make(user: User | None = None, **over):
        meeting = services.create_meeting(user or world.staff, meeting_data(**over))
        db.session.commit()
        return meeting

    return make
