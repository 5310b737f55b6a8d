"""Demo sessions for ``flask seed-demo`` (registered as a forum demo step): one scheduled,
one live with questions, votes, a pinned question, an answer and a statement, and one
ended archive. Written through the services, with the forum demo's people."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

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
