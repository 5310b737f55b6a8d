"""Demo sessions for ``flask seed-demo`` (registered as a forum demo step): one scheduled,
one live with questions, votes, a pinned question, an answer and a statement, and one
ended archive. Written through the services, with the forum demo's people."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from forum import hooks
from forum.extensions import db
from forum.models import Area, Committee, User, utcnow

from . import services
from .models import SessionState

POLITICIAN_DOMAIN = "holbaek.example"


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _citizen(name: str) -> User | None:
    return db.session.scalar(select(User).where(User.display_name == name))


def seed() -> int:
    """Write the demo sessions (no commit); returns the rows written, 0 without the forum
    demo's people."""
    staff = _user("staff@holbaek.example")
    lone = _user("lone.bjerregaard@holbaek.example")
    henrik = _user("henrik.dalsgaard@holbaek.example")
    sara = _user("sara.lindholm@holbaek.example")
    oekonomi = db.session.scalar(select(Committee).where(Committee.slug == "oekonomiudvalget"))
    klima = db.session.scalar(select(Committee).where(Committee.slug == "klima-og-miljoe"))
    toelloese = db.session.scalar(select(Area).where(Area.slug == "toelloese"))
    citizens = [
        _citizen(n)
        for n in (
            "Mette Kristensen",
            "Søren Mikkelsen",
            "Fatma Yilmaz",
            "Ahmad Nazari",
            "Freja Holm",
            "Lars Thomsen",
        )
    ]
    if None in (staff, lone, henrik, sara, oekonomi, klima, toelloese) or None in citizens:
        return 0
    now = utcnow()
    rows = 0

    upcoming = services.schedule_session(
        staff,
        "Spørgetid: Tølløse efter den nye lokalplan",
        "Byrådets politikere møder Tølløse. Send gerne dine spørgsmål på forhånd — "
        "dem med flest stemmer bliver besvaret først.",
        now + timedelta(days=3, hours=2),
        now + timedelta(days=3, hours=3),
        [henrik.id, lone.id],
        area_id=toelloese.id,
        premoderated=True,
    )
    services.ask(
        citizens[0],
        upcoming,
        "Hvornår kommer der en cykelsti mellem Tølløse og "
        "Ugerløse, så børnene kan cykle sikkert i skole?",
    )
    rows += 2

    live = services.schedule_session(
        staff,
        "Spørgetid efter byrådsmødet",
        "Spørgetid direkte efter byrådsmødet om budgettet for 2027. Stil dine spørgsmål, "
        "stem på andres, og følg svarene live.",
        # Long enough that the demo still has a live session hours after seeding.
        now - timedelta(minutes=10),
        now + timedelta(hours=11),
        [lone.id, henrik.id],
        committee_id=oekonomi.id,
        premoderated=True,
    )
    services.start_session(staff, live)
    q1 = services.ask(
        citizens[1],
        live,
        "Hvordan sikrer budgettet, at der stadig er "
        "nok pædagoger i daginstitutionerne i de mindre byer?",
    )
    q2 = services.ask(
        citizens[2],
        live,
        "Bliver svømmehallen i Holbæk holdt åben om aftenen, når budgettet skal spare på energi?",
    )
    q3 = services.ask(
        citizens[3],
        live,
        "Hvad betyder budgettet for busforbindelserne til landsbyerne om aftenen og i weekenden?",
    )
    for voter in citizens[2:]:
        services.set_vote(voter, live, q1.id, True)
    for voter in citizens[4:]:
        services.set_vote(voter, live, q3.id, True)
    services.set_vote(citizens[1], live, q2.id, True)
    services.pin(staff, live, q1.id)
    services.answer(
        lone,
        live,
        q1.id,
        "Vi har afsat 12 mio. kr. ekstra til normeringer, "
        "og pengene følger børnene — også i de mindre byer.",
    )
    services.statement(
        henrik,
        live,
        "Tak fordi så mange følger med i aften. Vi svarer på "
        "spørgsmålene i den rækkefølge, I stemmer dem op.",
    )
    rows += 12

    past = services.schedule_session(
        staff,
        "Spørgetid om klimaplanen",
        "Udvalget for Klima og Miljø svarede på spørgsmål om klimaplanen.",
        now + timedelta(minutes=1),
        now + timedelta(minutes=61),
        [sara.id],
        committee_id=klima.id,
        premoderated=False,
    )
    services.start_session(staff, past)
    p1 = services.ask(
        citizens[4], past, "Hvornår får Holbæk flere ladestandere til elbiler ved stationerne?"
    )
    p2 = services.ask(
        citizens[5], past, "Kan kommunen hjælpe grundejerforeninger med fælles solceller?"
    )
    services.set_vote(citizens[0], past, p1.id, True)
    services.set_vote(citizens[1], past, p1.id, True)
    services.answer(
        sara,
        past,
        p1.id,
        "I 2027 sætter vi 40 nye ladestandere op ved stationerne i Holbæk, Tølløse og Jyderup.",
    )
    services.answer(
        sara,
        past,
        p2.id,
        "Ja — energirådgivningen hjælper gratis med at samle foreninger om fælles anlæg.",
    )
    services.set_status(staff, past, p1.id, "answered")
    services.set_status(staff, past, p2.id, "answered")
    services.end_session(staff, past)
    past.starts_at = now - timedelta(days=7)
    past.ends_at = past.starts_at + timedelta(hours=1)
    past.started_at, past.ended_at = past.starts_at, past.ends_at
    assert past.state == SessionState.ENDED
    db.session.flush()
    rows += 10
    return rows


def seed_hybrid() -> int:
    """A late demo step (after the meetings package's): the citizens' hour of Klima og
    Miljø's committee meeting in Mørkøv is a live Q&A session held at the meeting, so the
    hall asks through the projector view and people at home online (issue 16's hybrid).
    Returns the rows written: 0 without the meetings package or its demo meeting."""
    # Scheduling a session is a moderator's; holding it at a meeting also needs the
    # meeting's organisers (municipal staff): the admin is both.
    staff = _user("admin@holbaek.example")
    sara = _user("sara.lindholm@holbaek.example")
    asker = _citizen("Freja Holm")
    klima = db.session.scalar(select(Committee).where(Committee.slug == "klima-og-miljoe"))
    moerkoev = db.session.scalar(select(Area).where(Area.slug == "moerkoev"))
    links = hooks.meeting_links()
    if None in (staff, sara, asker, klima, moerkoev, links):
        return 0
    meeting = None
    for meeting_id, _label in links.choices(staff, None):
        facts = links.facts(meeting_id)
        if facts and facts.committee_id == klima.id and facts.area_id == moerkoev.id:
            meeting = facts
            break
    if meeting is None:
        return 0
    session = services.schedule_session(
        staff,
        "Borgernes spørgetime i Mørkøv om vindmøllerne",
        "Efter udvalgets dagsorden svarer Sara Lindholm på spørgsmål om vindmøllerne ved "
        "Mørkøv — fra salen via skærmen og hjemmefra her. Send gerne dit spørgsmål på "
        "forhånd.",
        meeting.ends_at - timedelta(hours=1),
        meeting.ends_at,
        [sara.id],
        committee_id=klima.id,
        area_id=moerkoev.id,
        topic_id=meeting.topic_id,
        premoderated=True,
    )
    services.hold_at_meeting(staff, session, meeting.id)
    services.ask(
        asker,
        session,
        "Hvor langt fra de nærmeste huse kommer møllerne til at stå, og hvem måler støjen, "
        "når de kører?",
    )
    return 3
