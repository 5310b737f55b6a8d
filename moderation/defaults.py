"""The default debate rules (debatregler): data, not interface text, so both languages live
here and admins edit them afterwards. ``services.ensure_default_rules`` inserts the missing
ones; it is also what ``seed-demo`` calls.
"""

from __future__ import annotations

DEFAULT_RULES: list[dict[str, str]] = [
    {
        "code": "respect",
        "title_da": "Ingen personangreb",
        "title_en": "No personal attacks",
        "body_da": (
            "Diskutér sagen, ikke personen. Skældsord, hån, trusler og chikane mod andre "
            "debattører, politikere eller medarbejdere er ikke tilladt."
        ),
        "body_en": (
            "Discuss the issue, not the person. Insults, mockery, threats and harassment of "
            "other participants, politicians or staff are not allowed."
        ),
    },
    {
        "code": "on-topic",
        "title_da": "Hold dig til emnet",
        "title_en": "Stay on topic",
        "body_da": (
            "Indlæg skal handle om emnet. Start et nyt emne eller foreslå et i dit "
            "lokalområde, hvis du vil diskutere noget andet."
        ),
        "body_en": (
            "Posts must be about the topic. Start a new topic, or propose one in your local "
            "area, if you want to discuss something else."
        ),
    },
    {
        "code": "spam",
        "title_da": "Ingen spam eller reklame",
        "title_en": "No spam or advertising",
        "body_da": (
            "Gentagne indlæg, kædebreve, reklame for varer og tjenester og links uden "
            "sammenhæng med debatten fjernes."
        ),
        "body_en": (
            "Repeated posts, chain letters, advertising for goods and services and links "
            "unrelated to the debate are removed."
        ),
    },
    {
        "code": "illegal",
        "title_da": "Intet ulovligt indhold",
        "title_en": "No illegal content",
        "body_da": (
            "Indhold, der er i strid med dansk lov — fx trusler, racistiske udtalelser "
            "(straffelovens § 266 b), injurier eller krænkelse af ophavsret — fjernes og kan "
            "blive politianmeldt."
        ),
        "body_en": (
            "Content that breaks Danish law — for example threats, racist statements "
            "(section 266 b of the Criminal Code), defamation or copyright infringement — is "
            "removed and may be reported to the police."
        ),
    },
    {
        "code": "personal-data",
        "title_da": "Del ikke personoplysninger",
        "title_en": "Do not share personal data",
        "body_da": (
            "Skriv ikke CPR-numre, adresser, telefonnumre, helbredsoplysninger eller andre "
            "personoplysninger om dig selv eller andre. Sager om enkeltpersoner hører hjemme "
            "i en henvendelse til kommunen, ikke i debatten."
        ),
        "body_en": (
            "Do not post civil registration (CPR) numbers, addresses, phone numbers, health "
            "information or other personal data about yourself or others. Matters about "
            "individuals belong in a message to the municipality, not in the debate."
        ),
    },
    {
        "code": "language",
        "title_da": "Skriv ordentligt og forståeligt",
        "title_en": "Write decently and clearly",
        "body_da": (
            "Undgå grove ord og bandeord, og skriv så andre kan forstå dig. Du må gerne skrive "
            "på dansk eller engelsk."
        ),
        "body_en": (
            "Avoid coarse language and swearing, and write so that others can understand you. "
            "You may write in Danish or English."
        ),
    },
]
