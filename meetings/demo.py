"""Demo meetings for ``flask seed-demo`` (a forum demo step), written through the services:

- a topic summit (topmøde) on the school structure in Holbæk, with registrations;
- an Udvalget for Klima og Miljø meeting in Mørkøv on the wind turbines, full, with a
  waiting list;
- Tølløse Lokalforum (its local forum contact, Kirsten Lauridsen) invited the Plan committee:
  accepted, now a meeting; and a second invitation to Klima og Miljø still waiting;
- a past citizens' meeting in Tølløse on the school road, with minutes and twelve offline
  contributions in its topic.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from forum.extensions import db
from forum.models import Area, Committee, Topic, User, utcnow

from . import invitations, minutes, services

SCHOOLS = "Ny skolestruktur i Holbæk Kommune"
WIND = "Høring om tre vindmøller ved Mørkøv"
SCHOOL_ROAD = "Sikker skolevej og ny cykelsti i Tølløse"

SAID = [
    ("Børnene cykler langs landevejen uden cykelsti. Det er livsfarligt om vinteren.", "for", ""),
    ("Vi har brug for en fodgængerovergang ved Bygaden, før der sker en ulykke.", "for", ""),
    ("Hvad koster en cykelsti hele vejen til skolen, og hvem betaler?", "question", ""),
    ("Jeg er bekymret for, at cykelstien tager af de private haver langs vejen.", "against", ""),
    ("Sænk hastigheden til 40 km/t om morgenen – det er billigere og virker nu.", "for", "Lise"),
    ("Skolepatruljen mangler frivillige. Kan kommunen hjælpe med at rekruttere?", "question", ""),
    ("Busserne holder lige der, hvor børnene krydser. Flyt stoppestedet.", "for", ""),
    ("Cykelstien bør fortsætte til hallen, så den også bruges om eftermiddagen.", "for", ""),
    ("Pengene er bedre brugt på skolens indeklima end på en cykelsti.", "against", ""),
    ("Kan vi få belysning på stien gennem parken? Den er helt mørk i november.", "for", "Omar"),
    ("Forældrene kører for hurtigt ved skolen. Lav et kys-og-kør-område.", "for", ""),
    ("Hvornår kommer der svar på, hvad der sker efter mødet i dag?", "question", ""),
]


def _one(model, **where):
    stmt = select(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return db.session.scalar(stmt)


def _user(email: str) -> User | None:
    return _one(User, email=email)


def seed() -> int:
    """Write the demo meetings (no commit); returns the rows written (0 without the forum
    demo's people and topics)."""
    admin = _user("admin@holbaek.example")
    # The administration organises the past citizens' meeting and writes its minutes
    # (the demo's municipal employee; the admin when that account is missing).
    employee = _user("medarbejder@holbaek.example") or admin
    contact = _user("moderator@holbaek.example")
    lone, henrik = (
        _user("lone.bjerregaard@holbaek.example"),
        _user("henrik.dalsgaard@holbaek.example"),
    )
    sara = _user("sara.lindholm@holbaek.example")
    schools, wind, road = (
        _one(Topic, title=SCHOOLS),
        _one(Topic, title=WIND),
        _one(Topic, title=SCHOOL_ROAD),
    )
    toelloese, moerkoev = _one(Area, slug="toelloese"), _one(Area, slug="moerkoev")
    school_c, climate = (
        _one(Committee, slug="boern-og-skole"),
        _one(Committee, slug="klima-og-miljoe"),
    )
    plan = _one(Committee, slug="plan-bolig-og-lokal-udvikling")
    if None in (
        admin,
        contact,
        lone,
        henrik,
        sara,
        schools,
        wind,
        road,
        toelloese,
        moerkoev,
        school_c,
        climate,
        plan,
    ):
        return 0
    citizens = list(
        db.session.scalars(select(User).where(User.email.like("%@example.dk")).order_by(User.id))
    )
    now = utcnow().replace(second=0, microsecond=0)
    day = timedelta(days=1)
    written = 0
    services.set_contact(None, contact, toelloese, True)

    def at(days: int, hour: int) -> dict:
        start = (now + days * day).replace(hour=hour - 1, minute=0)  # ~ Danish winter time
        return {"starts_at": start, "ends_at": start + timedelta(hours=2, minutes=30)}

    summit = services.create_meeting(
        admin,
        {
            "kind": "summit",
            "title": "Topmøde om skolestrukturen i Holbæk",
            "description": (
                "Byrådet inviterer forældre, elever, lærere og alle andre til et topmøde om "
                "**fremtidens skolestruktur**. Vi præsenterer de tre modeller fra debatten, "
                "og I diskuterer dem med udvalget ved bordene."
            ),
            **at(12, 18),
            "address": "Holbæk Rådhus, Kanalstræde 2, 4300 Holbæk",
            "room": "Byrådssalen",
            "step_free": True,
            "hearing_loop": True,
            "child_care": True,
            "accessibility": "Børnepasning fra 3 år i mødelokale 2. Tilmeld behovet i spørgsmålet.",
            "committee_id": school_c.id,
            "topic_id": schools.id,
            "politician_ids": [lone.id],
            "registration": True,
            "capacity": 120,
        },
    )
    for person in citizens[:9]:
        services.register(person, summit.id, "Vegetarisk mad" if person.id % 3 == 0 else "")
    written += 10

    wind_meeting = services.create_meeting(
        sara,
        {
            "kind": "committee_local",
            "title": "Udvalget for Klima og Miljø holder møde i Mørkøv om vindmøllerne",
            "description": (
                "Udvalget holder sit møde i Mørkøv og tager sagen om de tre vindmøller op. "
                "Efter dagsordenen er der en time til spørgsmål fra borgerne."
            ),
            **at(20, 19),
            "address": "Mørkøv Hallen, Sandbakken 2, 4440 Mørkøv",
            "room": "Cafeteriet",
            "step_free": True,
            "committee_id": climate.id,
            "area_id": moerkoev.id,
            "topic_id": wind.id,
            "politician_ids": [sara.id],
            "registration": True,
            "capacity": 6,
        },
    )
    for person in citizens[9:17]:  # six seats, two on the waiting list
        services.register(person, wind_meeting.id)
    written += 9

    accepted = invitations.invite(
        contact,
        toelloese.id,
        subject="Dialogmøde om trafikken omkring Tølløse Skole",
        proposed_dates="En hverdagsaften i slutningen af måneden",
        message="Tølløse Lokalforum vil gerne drøfte skolevejen og den nye bydel med udvalget.",
        committee_id=plan.id,
    )
    accepted.created_at = now - 16 * day
    start = at(26, 19)
    invitations.accept(
        henrik, accepted.id, start["starts_at"], start["ends_at"], "Tølløse Skole, Kirkevej 1"
    )
    accepted.answered_at = now - 9 * day
    waiting = invitations.invite(
        contact,
        toelloese.id,
        subject="Støj og lugt fra biogasanlægget ved Tølløse",
        proposed_dates="Marts eller april",
        message="Borgerne i den nordlige del af byen vil gerne mødes med udvalget.",
        committee_id=climate.id,
    )
    waiting.created_at = now - 9 * day
    written += 3

    past_start = (now - 21 * day).replace(hour=18, minute=0)
    past = services.create_meeting(
        employee,
        {
            "kind": "citizens",
            "title": "Borgermøde om skolevejen i Tølløse",
            "description": "Kom og fortæl, hvad der skal til for at gøre skolevejen sikker.",
            "starts_at": past_start,
            "ends_at": past_start + timedelta(hours=2),
            "address": "Tølløse Hallen, Gl. Ringstedvej 6, 4340 Tølløse",
            "area_id": toelloese.id,
            "topic_id": road.id,
        },
        now=past_start - 14 * day,
    )
    minutes.publish_minutes(
        employee,
        past,
        "## Referat\n\n45 borgere deltog. Forvaltningen fortalte om trafiktællingen ved "
        "skolen. Borgerne pegede især på **krydsningen ved Bygaden**, hastigheden om morgenen "
        "og belysningen i parken.\n\nForvaltningen samler forslagene til Udvalget for Plan, "
        "Bolig og Lokal Udvikling.",
    )
    for body, stance, speaker in SAID:
        minutes.add_contribution(
            employee, past, body, stance=stance, speaker_name=speaker, consent=bool(speaker)
        )
    written += 1 + len(SAID)
    return written
