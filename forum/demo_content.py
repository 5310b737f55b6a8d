"""The demo data behind ``flask seed-demo``: Holbæk's committees and towns, fictional people,
twelve topics with hand-written debates, and a generator for one large debate.

Pure data and plain Python (no Flask): ``forum.demo`` writes it through the services.

Authors in debates are referred to by display name (a citizen or a politician), or by one
of the staff keys in ``STAFF`` ("admin", "moderator", "staff", "employee").
"""

from __future__ import annotations

import random
import re
from textwrap import dedent

# --- places -----------------------------------------------------------------------------

COMMITTEES: list[tuple[str, str, str]] = [
    (
        "oekonomiudvalget",
        "Økonomiudvalget",
        "Økonomiudvalget har ansvaret for kommunens samlede økonomi, budgetlægningen og den "
        "overordnede planlægning, og det forbereder alle sager, der går videre til byrådet.",
    ),
    (
        "boern-og-skole",
        "Udvalget for Børn og Skole",
        "Udvalget har ansvaret for folkeskoler, SFO, dagtilbud, ungdomsskole og "
        "familieområdet for børn og unge op til 18 år.",
    ),
    (
        "socialudvalget",
        "Socialudvalget",
        "Socialudvalget har ansvaret for ældreplejen, sundhed og forebyggelse samt tilbud til "
        "voksne med handicap, psykiske lidelser eller misbrug.",
    ),
    (
        "klima-og-miljoe",
        "Udvalget for Klima og Miljø",
        "Udvalget arbejder med kommunens klimaplan, natur, vandmiljø, energi og miljøgodkendelser.",
    ),
    (
        "kultur-og-fritid",
        "Udvalget for Kultur og Fritid",
        "Udvalget har ansvaret for biblioteker, museer, musikskole, haller, idræt og "
        "foreningslivet.",
    ),
    (
        "plan-bolig-og-lokal-udvikling",
        "Udvalget for Plan, Bolig og Lokal Udvikling",
        "Udvalget arbejder med kommuneplan og lokalplaner, boliger, veje og trafik, "
        "kollektiv transport og udviklingen af byer og lokalområder.",
    ),
    (
        "beskaeftigelse-uddannelse-og-erhverv",
        "Udvalget for Beskæftigelse, Uddannelse og Erhverv",
        "Udvalget har ansvaret for jobcentret, unges vej til uddannelse, integration og "
        "kommunens samarbejde med det lokale erhvervsliv.",
    ),
]

AREAS: list[tuple[str, str, str]] = [
    (
        "holbaek-by",
        "Holbæk By",
        "Kommunens største by ved Holbæk Fjord, med havn, station, Ahlgade og de fleste "
        "uddannelsesinstitutioner.",
    ),
    (
        "toelloese",
        "Tølløse",
        "Stationsby syd for Holbæk med skole, hal og mange nye børnefamilier.",
    ),
    (
        "jyderup",
        "Jyderup",
        "Skovby i den vestlige del af kommunen, tæt på Skarresø og Store Åmose.",
    ),
    (
        "svinninge",
        "Svinninge",
        "Stationsby ved Odsherredsbanen i den nordvestlige del af kommunen.",
    ),
    (
        "tuse-naes",
        "Tuse Næs",
        "Halvø nord for Holbæk med landbrug, sommerhuse og lange kyststrækninger ved Isefjorden.",
    ),
    (
        "moerkoev",
        "Mørkøv",
        "Landsby med stærkt foreningsliv i det åbne land mellem Jyderup og Svinninge.",
    ),
    (
        "vipperoed",
        "Vipperød",
        "Voksende by øst for Holbæk, tæt på motorvejen mod København.",
    ),
    (
        "oroe",
        "Orø",
        "Ø i Isefjorden med omkring 900 fastboende, forbundet med Holbæk af Orøfærgen.",
    ),
    (
        "ugerloese",
        "Ugerløse",
        "Landsby syd for Tølløse omgivet af skov og landbrugsland.",
    ),
    (
        "store-merloese",
        "Store Merløse",
        "Landsby i den sydlige del af kommunen med skole og aktive lokale foreninger.",
    ),
    (
        "kvanloese",
        "Kvanløse",
        "Lille landsby mellem Holbæk og Tølløse med et tæt lokalsamfund.",
    ),
    (
        "regstrup",
        "Regstrup",
        "Stationsby på Vestbanen mellem Holbæk og Roskilde, populær blandt pendlere.",
    ),
]

# --- people (all fictional) ---------------------------------------------------------------

CITIZENS: list[str] = [
    "Mette Kristensen",
    "Bent Pedersen",
    "Ahmad Nazari",
    "Freja Holm",
    "Søren Mikkelsen",
    "Fatma Yilmaz",
    "Karen Søndergaard",
    "Jonas Rasmussen",
    "Aisha Mohammed",
    "Lars Thomsen",
    "Camilla Juhl",
    "Piotr Kowalski",
    "Ingrid Lund",
    "Mads Østergaard",
    "Emma Brandt",
    "Kasper Holst",
    "Hanne Winther",
    "Tobias Kjeldsen",
    "Maryam Rahimi",
    "Niels Bech",
    "Sofie Andersen",
    "Erik Lauritsen",
    "Ida Frandsen",
    "Mohammed Al-Sayed",
    "Grethe Bundgaard",
]

# (display name, party, committee slugs)
POLITICIANS: list[tuple[str, str, list[str]]] = [
    ("Lone Bjerregaard", "Socialdemokratiet", ["oekonomiudvalget", "boern-og-skole"]),
    ("Henrik Dalsgaard", "Venstre", ["plan-bolig-og-lokal-udvikling", "oekonomiudvalget"]),
    ("Sara Lindholm", "SF", ["klima-og-miljoe", "boern-og-skole"]),
    ("Mikkel Frost", "Enhedslisten", ["socialudvalget", "kultur-og-fritid"]),
    (
        "Birgitte Munk",
        "Det Konservative Folkeparti",
        ["plan-bolig-og-lokal-udvikling", "beskaeftigelse-uddannelse-og-erhverv"],
    ),
    ("Jakob Thorsen", "Radikale Venstre", ["kultur-og-fritid", "klima-og-miljoe"]),
    ("Ole Kjærgaard", "Dansk Folkeparti", ["socialudvalget", "boern-og-skole"]),
    (
        "Nadia Hassan",
        "Liberal Alliance",
        ["beskaeftigelse-uddannelse-og-erhverv", "oekonomiudvalget"],
    ),
]

# Staff accounts: key -> (display name, e-mail). The "moderator" is a local-area
# consultant scoped to MODERATOR_AREAS; "staff" moderates everywhere; "employee" is a
# municipal employee in Holbæk Kommune's administration (Role.STAFF: runs meetings,
# outcomes and reports, moderates nothing).
STAFF: dict[str, tuple[str, str]] = {
    "admin": ("Anne Damgaard", "admin@holbaek.example"),
    "moderator": ("Kirsten Lauridsen", "moderator@holbaek.example"),
    "staff": ("Jens Bruun", "staff@holbaek.example"),
    "employee": ("Maria Holm", "medarbejder@holbaek.example"),
}
MODERATOR_AREAS: list[str] = ["toelloese", "jyderup"]


# --- helpers for writing the debates --------------------------------------------------------

_LIST_ITEM = re.compile(r"^([-*]|\d+\.)\s")


def _md(text: str) -> str:
    """Dedent a triple-quoted Markdown text and join soft-wrapped lines (list items stay)."""
    blocks = []
    for block in dedent(text).strip().split("\n\n"):
        lines: list[str] = []
        for raw in block.splitlines():
            line = raw.strip()
            if lines and not _LIST_ITEM.match(line):
                lines[-1] += " " + line
            else:
                lines.append(line)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _p(author: str, body: str, *replies: dict, stance: str | None = None, **extra) -> dict:
    """One post of a debate: ``replies`` are posts in the same shape (without stance)."""
    return {"author": author, "stance": stance, "body": body, "replies": list(replies), **extra}


BIG_TOPIC_TITLE = "Ny skolestruktur i Holbæk Kommune"
BIG_TOPIC_COMMITTEE = "boern-og-skole"

# --- topics -----------------------------------------------------------------------------------
#
# opener: an index into POLITICIANS (who must sit on the topic's committee), or a STAFF key.
# status: "open" or "closed". days_ago: when the topic was opened. days_until_deadline: a
# consultation deadline (høringsfrist) relative to today; a negative value means the deadline
# has passed and the topic is closed. closed_days_ago: when a closed topic without deadline
# was closed. big: the debate comes from ``big_debate``. A post with final=True is written
# last (the opener's closing words).

TOPICS: list[dict] = [
    {
        "title": BIG_TOPIC_TITLE,
        "committee": BIG_TOPIC_COMMITTEE,
        "area": None,
        "opener": 0,
        "status": "open",
        "days_ago": 26,
        "days_until_deadline": None,
        "big": True,
        "intro": _md(
            """
            Holbæk Kommune har i dag mange små og mellemstore skoler. Elevtallet falder i flere
            af landsbyerne, mens det stiger i Holbæk By og Vipperød. Udvalget for Børn og Skole
            skal i løbet af foråret beslutte, om skolestrukturen skal ændres.

            Administrationen har lagt tre modeller frem:

            - **Model A:** Alle skoler bevares, men de små skoler deler ledelse og lærere.
            - **Model B:** Udskolingen (7.–9. klasse) samles på fire større skoler.
            - **Model C:** To mindre skoler lægges sammen med nabobyens skole.

            Vi vil gerne høre fra forældre, elever, lærere og alle andre: Hvad betyder mest for
            jer — afstanden til skolen, det faglige miljø eller et lokalsamfund med liv?

            Læs mere om skoleområdet og de tre modeller på
            [holbaek.dk](https://www.holbaek.dk).
            """
        ),
        "debate": [],
    },
    {
        "title": "Sikker skolevej og ny cykelsti i Tølløse",
        "committee": None,
        "area": "toelloese",
        "opener": "moderator",
        "status": "open",
        "days_ago": 18,
        "days_until_deadline": None,
        "intro": _md(
            """
            Mange forældre i Tølløse har henvendt sig om trafikken på vejen til skolen og hallen
            om morgenen. Lokalrådet har foreslået en sammenhængende cykelsti fra stationen forbi
            skolen til de nye boligområder mod nord.

            Inden sagen går videre til politikerne, vil vi gerne samle jeres erfaringer:

            - Hvor føler I jer utrygge som cyklister eller fodgængere?
            - På hvilke tidspunkter er trafikken værst?
            - Hvilke løsninger kunne hjælpe: fartdæmpning, krydsningsheller, bedre belysning?

            Jeg er lokalkonsulent for Tølløse og samler jeres input i et notat til Udvalget for
            Plan, Bolig og Lokal Udvikling.
            """
        ),
        "debate": [
            _p(
                "Mette Kristensen",
                "Jeg har to børn i 2. og 5. klasse, og jeg tør ikke lade den yngste cykle alene. "
                "Lastbilerne kører alt for stærkt forbi rundkørslen om morgenen, og fortovet er "
                "smalt. En rigtig cykelsti ville gøre en kæmpe forskel.",
                _p(
                    "Søren Mikkelsen",
                    "Helt enig. Det værste sted er overgangen ved Brugsen, hvor bilerne holder "
                    "ind over cykelbanen, når de skal handle på vej til arbejde.",
                    _p(
                        "moderator",
                        "Tak, det er præcis den slags konkrete steder, vi har brug for. Jeg "
                        "tager overgangen ved Brugsen med i notatet.",
                    ),
                ),
                _p(
                    "Henrik Dalsgaard",
                    "Tak for beskrivelsen, Mette. Udvalget har cykelstien i Tølløse på listen "
                    "over projekter til næste anlægsbudget. Jeg kan ikke love noget før "
                    "budgetforhandlingerne, men jeres input her vejer tungt.",
                    _p(
                        "Mette Kristensen",
                        "Tak for svaret. Hvornår ved vi noget om budgettet?",
                        _p(
                            "Henrik Dalsgaard",
                            "Budgetforhandlingerne slutter i starten af oktober. Følg emnet "
                            "her, så skriver jeg, når der er nyt.",
                        ),
                    ),
                ),
                stance="for",
            ),
            _p(
                "Lars Thomsen",
                "Jeg forstår bekymringen, men det bliver dyrt, hvis kommunen skal købe jord langs "
                "hele strækningen. Kunne man ikke starte med lavere hastighed og bedre belysning? "
                "Det kan laves på få måneder.",
                _p(
                    "Ida Frandsen",
                    "Lavere hastighed hjælper kun, hvis den bliver overholdt. Vi har haft "
                    "40-skilte i årevis, og de færreste kører efter dem.",
                    _p(
                        "Lars Thomsen",
                        "Fair nok. Så hellere bump end skilte, det giver jeg dig ret i.",
                    ),
                ),
                stance="against",
            ),
            _p(
                "Freja Holm",
                "Jeg cykler til stationen hver dag for at tage toget til gymnasiet. Kommer "
                "cykelstien til at gå helt til stationen, eller stopper den ved skolen?",
                _p(
                    "moderator",
                    "Godt spørgsmål. Lokalrådets forslag går helt til stationen, men det er ikke "
                    "besluttet endnu. Jeg skriver dit ønske ind i notatet.",
                ),
                stance="question",
            ),
            _p(
                "Aisha Mohammed",
                "Vi flyttede til Tølløse sidste år, og jeg følger min søn i skole hver dag. Om "
                "vinteren er det meget mørkt på stykket ved idrætsanlægget. Bedre lys ville være "
                "et godt sted at starte.",
                stance="for",
            ),
            _p(
                "Grethe Bundgaard",
                "Husk også os ældre, der går med rollator. Fortovene er mange steder skæve, og "
                "det er svært at komme over vejen, når der ikke er en helle.",
            ),
        ],
    },
    {
        "title": "Havnefronten i Holbæk: Hvad skal den bruges til?",
        "committee": "plan-bolig-og-lokal-udvikling",
        "area": "holbaek-by",
        "opener": 4,
        "status": "open",
        "days_ago": 30,
        "days_until_deadline": None,
        "intro": _md(
            """
            Med en ny lokalplan for havnen får Holbæk mulighed for at skabe en havnefront, der
            hænger bedre sammen med byen og fjorden. Der er plads til boliger, erhverv, grønne
            områder og aktiviteter ved vandet — men ikke til det hele.

            Udvalget for Plan, Bolig og Lokal Udvikling vil gerne vide, hvad I vil bruge havnen
            til. Skal der være:

            1. flere boliger med udsigt over fjorden,
            2. et stort, offentligt grønt område med legeplads og havnebad,
            3. plads til foreninger, roklubber og lystbådehavn,
            4. caféer og butikker, der trækker liv fra Ahlgade ned til vandet?

            Skriv gerne, hvad I selv bruger havnen til i dag. Materialet fra den tidligere
            borgerdialog ligger på [holbaek.dk](https://www.holbaek.dk).
            """
        ),
        "debate": [
            _p(
                "Niels Bech",
                "Jeg er imod, at havnen bliver fyldt op med dyre ejerlejligheder. Havnen er "
                "byens fælles stue, og når der først er bygget, kommer den aldrig tilbage.",
                _p(
                    "Kasper Holst",
                    "Men uden boliger er der heller ikke liv på havnen om aftenen. Se på andre "
                    "havnebyer: Det er beboerne, der holder caféerne i gang.",
                    _p(
                        "Niels Bech",
                        "Boliger, ja — men så også almene boliger og ikke kun lejligheder til "
                        "fire millioner.",
                        _p(
                            "Birgitte Munk",
                            "Det er en fair pointe, Niels. Lokalplanen giver mulighed for at "
                            "stille krav om en andel almene boliger, og det er netop en af de "
                            "ting, vi drøfter i udvalget lige nu.",
                        ),
                    ),
                ),
                stance="against",
            ),
            _p(
                "Camilla Juhl",
                "Et havnebad! Vi har fjorden lige foran os, men der er næsten ingen steder, hvor "
                "børn kan bade sikkert. Et havnebad og en stor legeplads vil få familier fra hele "
                "kommunen til at komme.",
                _p(
                    "Emma Brandt",
                    "Ja tak til havnebad. Og gerne en skatepark eller et sted, hvor vi unge kan "
                    "være uden at skulle købe noget.",
                ),
                _p(
                    "Hanne Winther",
                    "Husk, at vandkvaliteten inderst i fjorden ikke altid er god efter kraftig "
                    "regn. Det skal undersøges først.",
                ),
                stance="for",
            ),
            _p(
                "Mads Østergaard",
                "Hvad sker der med parkeringen? Mange af os fra landsbyerne kører ind og handler, "
                "og pladsen ved havnen er den eneste, der ligger tæt på Ahlgade.",
                _p(
                    "Birgitte Munk",
                    "Parkeringen indgår i trafikanalysen. Forslaget er et parkeringshus tættere "
                    "på stationen, så pladsen ved vandet kan bruges til andet. Analysen bliver "
                    "offentliggjort, før vi beslutter noget.",
                ),
                stance="question",
            ),
            _p(
                "Bent Pedersen",
                "Som gammel sejler vil jeg bare sige: Glem ikke lystbådehavnen og roklubben. Det "
                "er dem, der har skabt livet på havnen i 50 år.",
            ),
        ],
    },
    {
        "title": "Orøfærgen: Afgange, priser og pendling",
        "committee": None,
        "area": "oroe",
        "opener": "staff",
        "status": "open",
        "days_ago": 14,
        "days_until_deadline": None,
        "intro": _md(
            """
            Orøfærgen er øens livline. Efter sommerens driftsproblemer har mange orøboere bedt
            om en dialog om sejlplanen og taksterne for fastboende.

            Vi vil gerne høre:

            - Passer afgangene med arbejde, skole og uddannelse i Holbæk?
            - Hvordan påvirker aflysninger jeres hverdag?
            - Hvad synes I om det nuværende takstsystem for fastboende og sommerhusejere?

            Jeres svar bliver samlet og sendt til de politikere, der skal behandle færgens
            budget for næste år.
            """
        ),
        "debate": [
            _p(
                "Bent Pedersen",
                "Jeg har boet på Orø i 40 år. Det største problem er ikke priserne, men at den "
                "sidste afgang fra Holbæk er for tidlig. Man kan ikke gå i biografen eller til et "
                "aftenmøde i byen uden at skulle overnatte.",
                _p(
                    "Ida Frandsen",
                    "Det samme gælder for de unge. Min datter går i gymnasiet og kan ikke være "
                    "med til noget efter skole.",
                    _p(
                        "staff",
                        "Tak for jeres input. Jeg har noteret ønsket om en senere aftenafgang, "
                        "især fredag og lørdag. Det indgår i notatet til politikerne.",
                    ),
                ),
            ),
            _p(
                "Piotr Kowalski",
                "Jeg pendler til Roskilde og tager færgen hver morgen. Når en afgang bliver "
                "aflyst, får vi besked alt for sent. Kan man få en sms-service?",
                _p(
                    "staff",
                    "Der findes allerede en sms-service, men den er åbenbart ikke kendt nok. Du "
                    "kan tilmelde dig via [holbaek.dk](https://www.holbaek.dk). Vi undersøger "
                    "også, om beskederne kan sendes tidligere.",
                    _p(
                        "Piotr Kowalski",
                        "Tak, det vidste jeg ikke. Jeg har tilmeldt mig nu.",
                    ),
                ),
                stance="question",
            ),
            _p(
                "Karen Søndergaard",
                "Taksten for fastboende er rimelig, men vores børnebørn betaler fuld pris, når de "
                "kommer på besøg. Kunne man lave et familiekort?",
                stance="for",
            ),
            _p(
                "Sofie Andersen",
                "Jeg er sommerhusejer og forstår godt, at fastboende skal have rabat. Men prisen "
                "for en bil i højsæsonen er blevet så høj, at vi overvejer at sælge.",
                _p(
                    "Bent Pedersen",
                    "Sommerhusfolkene er vigtige for købmanden og kroen på øen, så det skal man "
                    "tage alvorligt.",
                ),
                stance="against",
            ),
        ],
    },
    {
        "title": "Forslag om at lukke biblioteksfilialen i Jyderup",
        "committee": "kultur-og-fritid",
        "area": "jyderup",
        "opener": 5,
        "status": "closed",
        "days_ago": 40,
        "days_until_deadline": -6,
        "intro": _md(
            """
            Som en del af budgetaftalen skal Udvalget for Kultur og Fritid finde besparelser på
            biblioteksområdet. Et af forslagene er at lukke den bemandede filial i Jyderup og i
            stedet tilbyde en bogbus og udvidet selvbetjening på skolens bibliotek.

            Forslaget er i høring frem til høringsfristen. Vi vil gerne høre:

            - Hvad bruger I biblioteket i Jyderup til?
            - Hvad ville I savne, hvis filialen lukkede?
            - Er der andre måder at spare på, som I hellere vil have?

            Høringsmaterialet kan læses på [holbaek.dk](https://www.holbaek.dk).
            """
        ),
        "debate": [
            _p(
                "Ingrid Lund",
                "Biblioteket er et af de sidste steder i Jyderup, hvor man kan komme uden at "
                "skulle købe noget. Jeg kommer der to gange om ugen, læser avis og taler med folk. "
                "En bogbus kan ikke erstatte det.",
                _p(
                    "Grethe Bundgaard",
                    "Enig, Ingrid. Og for os, der ikke er så gode til computere, er personalet "
                    "uundværligt: De hjælper med MitID og Digital Post.",
                    _p(
                        "Mikkel Frost",
                        "Det er en meget vigtig pointe. Biblioteket løser i praksis en stor del "
                        "af den digitale borgerservice i lokalområdet, og det skal med i "
                        "regnestykket, når vi taler om besparelser.",
                    ),
                ),
                stance="against",
            ),
            _p(
                "Jonas Rasmussen",
                "Som studerende bruger jeg læsepladserne, når jeg er hjemme i weekenden. Der er "
                "ikke andre stille steder at læse i byen.",
                stance="against",
            ),
            _p(
                "Kasper Holst",
                "Jeg er ked af at sige det, men udlånstallene er faldet i mange år. Hvis pengene "
                "kan gøre mere gavn på skolerne, synes jeg, det er rigtigt at lukke filialen og "
                "satse på en god bogbus.",
                _p(
                    "Ingrid Lund",
                    "Udlånstal er ikke alt. Prøv at tælle, hvor mange der kommer ind ad døren, "
                    "også dem, der ikke låner bøger.",
                    _p(
                        "Kasper Holst",
                        "Det er rigtigt. Jeg vil gerne se de tal, før der bliver truffet en "
                        "beslutning.",
                        _p(
                            "Jakob Thorsen",
                            "Besøgstallene bliver lagt frem i udvalget sammen med høringssvarene. "
                            "Tak til alle, der har skrevet her.",
                        ),
                    ),
                ),
                stance="for",
            ),
            _p(
                "Maryam Rahimi",
                "Hvad med lektiecaféen for tosprogede børn, som holder til på biblioteket om "
                "tirsdagen? Hvor skal den være, hvis filialen lukker?",
                _p(
                    "Jakob Thorsen",
                    "Det er et godt spørgsmål, som jeg har taget med til forvaltningen. "
                    "Lektiecaféen skal fortsætte, uanset hvad der bliver besluttet, men stedet er "
                    "ikke afklaret endnu.",
                ),
                stance="question",
            ),
            _p(
                "Jakob Thorsen",
                "Høringsfristen er nu udløbet, og debatten er lukket. Tak for de mange bidrag her "
                "og i høringssvarene. Udvalget behandler sagen på sit næste møde, og referatet "
                "kommer på [holbaek.dk](https://www.holbaek.dk).",
                final=True,
            ),
        ],
    },
    {
        "title": "Høring om tre vindmøller ved Mørkøv",
        "committee": "klima-og-miljoe",
        "area": "moerkoev",
        "opener": 2,
        "status": "open",
        "days_ago": 10,
        "days_until_deadline": 14,
        "intro": _md(
            """
            En privat projektudvikler har søgt om at opstille tre vindmøller på op til 150 meter
            nord for Mørkøv. Møllerne vil kunne dække elforbruget i omkring 9.000 husstande og er
            en del af kommunens klimaplan.

            Før Udvalget for Klima og Miljø tager stilling, er forslaget til lokalplan og
            miljørapport i offentlig høring. Her kan I stille spørgsmål og dele jeres
            synspunkter. Formelle høringssvar kan også sendes via
            [holbaek.dk](https://www.holbaek.dk).

            Vi holder desuden borgermøde i hallen i Mørkøv. Dato og visualiseringer fra flere
            steder i byen findes i høringsmaterialet.
            """
        ),
        "debate": [
            _p(
                "Lars Thomsen",
                "Jeg bor 800 meter fra den nærmeste mølle. Jeg er ikke imod vindenergi, men støj "
                "og skyggekast tæt på huse er et reelt problem. Hvorfor kan møllerne ikke stå ude "
                "på havet?",
                _p(
                    "Sara Lindholm",
                    "Tak for dit indlæg, Lars. Reglerne kræver mindst fire gange møllehøjden til "
                    "nærmeste nabo, og miljørapporten har beregninger af støj og skyggekast for "
                    "hver enkelt bolig. Kom gerne til borgermødet, hvor rådgiverne kan gennemgå "
                    "netop dit hus.",
                    _p(
                        "Lars Thomsen",
                        "Jeg kommer. Men jeg vil også gerne vide, om naboerne får "
                        "værditabserstatning.",
                        _p(
                            "Sara Lindholm",
                            "Ja, naboer kan søge værditabserstatning efter statens regler, og "
                            "der er også en grøn pulje til lokalsamfundet. Det står i "
                            "høringsmaterialet under »Økonomi for naboer«.",
                        ),
                    ),
                ),
                stance="against",
            ),
            _p(
                "Tobias Kjeldsen",
                "Vi unge kommer til at leve med klimaforandringerne. Hvis vi ikke kan finde plads "
                "til tre møller i en kommune på vores størrelse, hvor skal de så stå?",
                _p(
                    "Hanne Winther",
                    "Det er let at sige, når man ikke bor ved siden af. Men jeg er enig i, at vi "
                    "skal tage vores del af ansvaret.",
                ),
                stance="for",
            ),
            _p(
                "Søren Mikkelsen",
                "Kan borgerne i Mørkøv købe andele i møllerne? I andre kommuner har lokalt "
                "ejerskab gjort en stor forskel for opbakningen.",
                _p(
                    "Sara Lindholm",
                    "Ja, en del af møllerne skal efter loven udbydes til lokale, og bygherren har "
                    "sagt, at de gerne vil gøre mere. Det vil jeg personligt presse på for.",
                ),
                stance="question",
            ),
            _p(
                "Ole Kjærgaard",
                "Landskabet omkring Mørkøv er noget af det smukkeste i kommunen. Tre møller på "
                "150 meter vil kunne ses viden om. Jeg mener, vi hellere skal satse på solceller "
                "på tagene.",
                _p(
                    "Tobias Kjeldsen",
                    "Solceller på tagene er fint, men de dækker slet ikke behovet om vinteren.",
                ),
                stance="against",
            ),
        ],
    },
    {
        "title": "Ældreplejen: Hvad er vigtigst for dig og dine nærmeste?",
        "committee": "socialudvalget",
        "area": None,
        "opener": 6,
        "status": "open",
        "days_ago": 21,
        "days_until_deadline": None,
        "intro": _md(
            """
            Der bliver flere ældre i Holbæk Kommune i de kommende år, og samtidig er det svært
            at rekruttere social- og sundhedsassistenter og sygeplejersker. Socialudvalget er
            ved at lave en ny ældrepolitik og vil gerne høre fra ældre, pårørende og
            medarbejdere.

            Nogle af de spørgsmål, vi drøfter:

            - Skal flere ældre have faste hjælpere, selv om det giver mindre fleksibilitet i
              planlægningen?
            - Skal der bygges flere plejeboliger, eller skal vi satse på hjælp i eget hjem?
            - Hvordan kan vi bekæmpe ensomhed, også i landsbyerne?

            Alle input bliver samlet og indgår i udvalgets arbejde med den nye politik.
            """
        ),
        "debate": [
            _p(
                "Karen Søndergaard",
                "Min mand får hjemmehjælp, og der kommer en ny hjælper næsten hver uge. Han har "
                "demens og bliver utryg, når han ikke kender personen. Faste hjælpere er det "
                "vigtigste for os.",
                _p(
                    "Fatma Yilmaz",
                    "Jeg er social- og sundhedsassistent i hjemmeplejen. Vi vil også gerne have "
                    "faste borgere, men med de nuværende ruter og sygefraværet er det næsten "
                    "umuligt. Der skal flere hænder til.",
                    _p(
                        "Ole Kjærgaard",
                        "Tak til jer begge. Fatma, hvad skal der efter din mening til, for at "
                        "flere vil arbejde i hjemmeplejen?",
                        _p(
                            "Fatma Yilmaz",
                            "Fuldtidsstillinger til dem, der ønsker det, og mere tid til den "
                            "enkelte borger. Mange af mine kolleger går ned i tid, fordi det er "
                            "for hårdt at løbe fra adresse til adresse.",
                        ),
                    ),
                ),
            ),
            _p(
                "Mohammed Al-Sayed",
                "Mine forældre taler ikke så godt dansk. Findes der plejepersonale eller tolke, "
                "der kan hjælpe, når de skal have hjælp hjemme?",
                _p(
                    "Mikkel Frost",
                    "Der kan bestilles tolk til visitationssamtaler, og vi har medarbejdere, der "
                    "taler flere sprog. Men det er ikke systematisk nok, og det vil jeg tage op i "
                    "udvalget.",
                ),
                stance="question",
            ),
            _p(
                "Grethe Bundgaard",
                "Ensomhed er det, der fylder mest blandt mine veninder. Det betyder meget, at der "
                "er et aktivitetscenter, man kan komme til, også hvis man bor i Ugerløse og ikke "
                "har bil.",
                _p(
                    "Ida Frandsen",
                    "Kunne man ikke lave fælles kørsel til aktivitetscentrene? Flextur er for "
                    "dyrt og for bøvlet for mange.",
                ),
            ),
            _p(
                "Niels Bech",
                "Jeg er imod, at der bruges flere penge på velfærdsteknologi og skærmbesøg, før "
                "der er styr på det basale. En skærm kan ikke holde nogen i hånden.",
                stance="against",
            ),
        ],
    },
    {
        "title": "Bedre busforbindelser til og fra Svinninge",
        "committee": None,
        "area": "svinninge",
        "opener": "admin",
        "status": "open",
        "days_ago": 8,
        "days_until_deadline": None,
        "intro": _md(
            """
            Movia og kommunen skal i gang med at planlægge næste års køreplan. Lokalrådet i
            Svinninge har peget på, at det er svært at komme til Holbæk og de omkringliggende
            landsbyer uden bil, især om aftenen og i weekenden.

            Fortæl os:

            - Hvor skal du hen, og hvornår?
            - Hvor mangler der forbindelser i dag?
            - Ville du bruge en telebus eller samkørsel, hvis den almindelige rute ikke kører?

            Vi bruger jeres svar i dialogen med Movia. De nuværende køreplaner finder du via
            [holbaek.dk](https://www.holbaek.dk).
            """
        ),
        "debate": [
            _p(
                "Erik Lauritsen",
                "Jeg pendler med toget fra Svinninge til Holbæk og videre til København. Toget er "
                "fint, men bussen fra de små byer rundt om Svinninge passer ikke med togene. Man "
                "står og venter i 25 minutter.",
                _p(
                    "admin",
                    "Tak, Erik. Sammenhængen mellem bus og tog er et af de punkter, vi tager med "
                    "til Movia.",
                ),
            ),
            _p(
                "Emma Brandt",
                "Jeg er 16 og går til håndbold i Holbæk tre gange om ugen. Den sidste bus hjem "
                "går kl. 19.30. Kan der komme en senere bus, i hvert fald på hverdage?",
                _p(
                    "Erik Lauritsen",
                    "Det burde være en selvfølge. Unge uden kørekort skal også kunne gå til sport.",
                ),
                _p(
                    "Birgitte Munk",
                    "Det er et rigtig godt eksempel, Emma. Jeg vil foreslå, at vi prøver en "
                    "senere afgang to gange om ugen som forsøg. Det kræver dog, at der er "
                    "passagerer nok, så fortæl endelig dine holdkammerater om debatten her.",
                    _p(
                        "Emma Brandt",
                        "Det gør jeg! Vi er mindst seks fra Svinninge på holdet.",
                    ),
                ),
                stance="question",
            ),
            _p(
                "Camilla Juhl",
                "Ja tak til telebus. Jeg bor på landet uden for Svinninge og har ingen bus inden "
                "for tre kilometer. En telebus, man kan bestille i en app, ville være perfekt.",
                _p(
                    "Karen Søndergaard",
                    "Husk, at den også skal kunne bestilles over telefonen. Ikke alle har en "
                    "smartphone.",
                ),
                stance="for",
            ),
            _p(
                "Ahmad Nazari",
                "Jeg arbejder på et lager i Holbæk og har skiftende vagter. Om søndagen kører "
                "der næsten ingen busser, så jeg må tage en taxa, når jeg har tidlig vagt. Det "
                "koster en formue.",
            ),
        ],
    },
    {
        "title": "Flere ungdomsboliger tæt på uddannelserne",
        "committee": "plan-bolig-og-lokal-udvikling",
        "area": None,
        "opener": 1,
        "status": "open",
        "days_ago": 16,
        "days_until_deadline": None,
        "intro": _md(
            """
            Mange unge flytter fra Holbæk Kommune, når de begynder på en uddannelse, og en del af
            dem fortæller, at de ikke kan finde en bolig, de har råd til. Samtidig har vi flere
            uddannelsesinstitutioner i Holbæk By, som gerne vil tiltrække elever fra hele
            regionen.

            Udvalget for Plan, Bolig og Lokal Udvikling overvejer at afsætte grunde til 100–150
            ungdomsboliger i de kommende år. Spørgsmålene er blandt andet:

            - Hvor skal boligerne ligge: tæt på stationen, ved uddannelserne eller i de mindre
              byer?
            - Hvad er en realistisk husleje for en studerende?
            - Skal der være fællesrum og plads til fællesskab?

            Del jeres erfaringer, især hvis I selv er unge og søger bolig.
            """
        ),
        "debate": [
            _p(
                "Jonas Rasmussen",
                "Jeg har stået på venteliste til en ungdomsbolig i to år og bor stadig hjemme i "
                "Vipperød. Huslejen må højst være 4.000 kr. om måneden med forbrug, ellers kan "
                "det ikke hænge sammen med SU.",
                _p(
                    "Henrik Dalsgaard",
                    "Tak, Jonas. 4.000 kr. er et niveau, vi hører fra mange. Det er svært at nå "
                    "med nybyggeri, men vi ser på, om kommunen kan stille grunde billigt til "
                    "rådighed, så huslejen kan holdes nede.",
                    _p(
                        "Jonas Rasmussen",
                        "Det lyder godt. Vil I også se på at bygge eksisterende bygninger om? "
                        "Der står flere tomme kontorer nær stationen.",
                        _p(
                            "Henrik Dalsgaard",
                            "Ja, ombygning af tomme erhvervsbygninger er en af de muligheder, "
                            "forvaltningen undersøger.",
                        ),
                    ),
                ),
                stance="for",
            ),
            _p(
                "Freja Holm",
                "Fællesrum er vigtige! Mange af os flytter hjemmefra for første gang og kender "
                "ingen. Et fælleskøkken og et sted at mødes gør det meget lettere at falde til.",
                stance="for",
            ),
            _p(
                "Niels Bech",
                "Jeg synes ikke, kommunen skal bruge sine grunde på det. Lad private bygherrer "
                "bygge, så bliver der bygget det, der er efterspørgsel efter.",
                _p(
                    "Maryam Rahimi",
                    "Men det er jo netop problemet: De private bygger ikke til en husleje, som "
                    "unge har råd til.",
                ),
                stance="against",
            ),
            _p(
                "Tobias Kjeldsen",
                "Kommer der også boliger til lærlinge? Vi, der er i lære som tømrere eller "
                "elektrikere, bliver tit glemt, fordi vi ikke er »studerende«.",
                stance="question",
            ),
        ],
    },
    {
        "title": "Skal Tuse Næs være naturpark?",
        "committee": "klima-og-miljoe",
        "area": "tuse-naes",
        "opener": 5,
        "status": "open",
        "days_ago": 12,
        "days_until_deadline": None,
        "intro": _md(
            """
            Lokale foreninger har foreslået, at Tuse Næs bliver en naturpark med fokus på natur,
            friluftsliv og lokal fødevareproduktion. En naturpark er ikke en fredning, men et
            frivilligt samarbejde mellem lodsejere, foreninger og kommune.

            En naturpark kunne betyde:

            - nye stier og shelterpladser langs kysten,
            - mere plads til vild natur og et bedre vandmiljø i fjorden,
            - fælles markedsføring af gårdbutikker og overnatningssteder.

            Vi vil gerne høre fra både beboere, landmænd og besøgende. Hvad er vigtigt for jer,
            og hvad er I bekymrede for?
            """
        ),
        "debate": [
            _p(
                "Hanne Winther",
                "Jeg går tur på Tuse Næs hver weekend. Det er et fantastisk landskab, men man kan "
                "næsten ikke komme ned til vandet, fordi der mangler stier. En naturpark med gode "
                "stier ville være en gave.",
                _p(
                    "Lars Thomsen",
                    "Så længe stierne ikke går tværs over markerne uden aftale med ejerne. Vi har "
                    "haft problemer med løse hunde mellem køerne.",
                    _p(
                        "Jakob Thorsen",
                        "Det er helt centralt, Lars. En naturpark bygger på frivillige aftaler, "
                        "og ingen sti bliver lagt uden lodsejerens accept. Vil du være med i den "
                        "arbejdsgruppe, vi er ved at nedsætte?",
                        _p(
                            "Lars Thomsen",
                            "Ja, det vil jeg gerne. Så kommer landbrugets erfaringer med fra "
                            "starten.",
                        ),
                    ),
                ),
                stance="for",
            ),
            _p(
                "Sofie Andersen",
                "Betyder en naturpark, at der kommer mange flere turister og biler på de små veje?",
                _p(
                    "Jakob Thorsen",
                    "Erfaringerne fra andre naturparker er, at besøgstallet stiger lidt, især om "
                    "sommeren. Derfor er parkering og trafik med i planlægningen fra starten.",
                ),
                stance="question",
            ),
            _p(
                "Mads Østergaard",
                "Som ejer af en lille gårdbutik tror jeg, at en naturpark kan give flere kunder. "
                "Det er svært at blive fundet, når man ligger for enden af en grusvej.",
                stance="for",
            ),
            _p(
                "Ole Kjærgaard",
                "Jeg er bekymret for, at en naturpark på sigt bliver brugt som løftestang for "
                "flere restriktioner for landbruget. Det skal stå helt klart, at det forbliver "
                "frivilligt.",
                stance="against",
            ),
        ],
    },
    {
        "title": "Nyt erhvervsområde ved Vipperød: Hvilke virksomheder vil vi have?",
        "committee": "beskaeftigelse-uddannelse-og-erhverv",
        "area": "vipperoed",
        "opener": 7,
        "status": "open",
        "days_ago": 6,
        "days_until_deadline": None,
        "intro": _md(
            """
            Vipperød ligger tæt på motorvejen og er attraktiv for virksomheder. Kommunen kan
            udlægge et nyt erhvervsområde syd for byen, og Udvalget for Beskæftigelse,
            Uddannelse og Erhverv vil gerne i dialog med borgere og erhvervsliv, før
            planlægningen går i gang.

            Vi vil især gerne høre:

            - Hvilke virksomheder passer til Vipperød: håndværk, logistik, produktion eller
              kontorer?
            - Hvordan sikrer vi lokale job og lærepladser?
            - Hvad skal der tages hensyn til, når det gælder trafik, støj og natur?

            Læs om kommunens erhvervspolitik på [holbaek.dk](https://www.holbaek.dk).
            """
        ),
        "debate": [
            _p(
                "Kasper Holst",
                "Som selvstændig tømrer i Vipperød har jeg i årevis ledt efter et værksted med "
                "plads til materialer. Små håndværkergrunde til en fornuftig pris ville betyde, "
                "at jeg kunne tage to lærlinge mere.",
                _p(
                    "Nadia Hassan",
                    "Tak, Kasper. Netop mindre grunde til håndværkere er noget af det, vi "
                    "overvejer at prioritere. Hvor stor en grund ville du typisk have brug for?",
                    _p(
                        "Kasper Holst",
                        "Omkring 2.000 kvadratmeter med en hal på 400. Jeg ved, at flere "
                        "kolleger leder efter det samme.",
                    ),
                ),
                stance="for",
            ),
            _p(
                "Camilla Juhl",
                "Jeg er bekymret for lastbiltrafikken gennem byen. Der kører allerede mange "
                "lastbiler på hovedgaden om morgenen, når børnene går i skole. Logistikcentre "
                "hører ikke hjemme her.",
                _p(
                    "Søren Mikkelsen",
                    "Enig. Hvis der kommer erhverv, skal der laves en direkte vej til motorvejen, "
                    "så trafikken ikke går gennem byen.",
                    _p(
                        "Nadia Hassan",
                        "Trafikken er et af de vigtigste punkter. Hvis det står til mig, bliver "
                        "en direkte vejadgang til motorvejen en forudsætning i planen.",
                    ),
                ),
                stance="against",
            ),
            _p(
                "Ahmad Nazari",
                "Kan man stille krav om, at virksomhederne tager praktikanter fra jobcentret? "
                "Mange nytilkomne vil gerne arbejde, men mangler den første chance.",
                _p(
                    "Nadia Hassan",
                    "Kommunen kan ikke stille den slags krav, når den sælger grunde, men vi kan "
                    "lave partnerskabsaftaler med virksomhederne. Det har jobcentret gode "
                    "erfaringer med.",
                ),
                stance="question",
            ),
            _p(
                "Piotr Kowalski",
                "Husk, at der også skal være cykelparkering og en busforbindelse. Mange af dem, "
                "der arbejder på den slags arbejdspladser, har ikke bil.",
            ),
        ],
    },
    {
        "title": "Borgerbudget 2027: Idéer til 2 mio. kr. i lokalområderne",
        "committee": "oekonomiudvalget",
        "area": None,
        "opener": 1,
        "status": "closed",
        "days_ago": 35,
        "closed_days_ago": 3,
        "days_until_deadline": None,
        "intro": _md(
            """
            Byrådet har afsat 2 mio. kr. til et borgerbudget, hvor borgerne selv foreslår og
            stemmer om projekter i lokalområderne. Det er en del af kommunens arbejde med nye
            former for demokrati og dialog.

            I denne første fase samler vi idéer. Alle projekter skal:

            - komme mange borgere til gavn,
            - kunne gennemføres inden for et år,
            - koste mellem 50.000 og 500.000 kr.

            Når idéfasen er slut, vurderer forvaltningen forslagene, og derefter kan alle
            borgere over 15 år stemme. Læs reglerne for borgerbudgettet på
            [holbaek.dk](https://www.holbaek.dk).
            """
        ),
        "debate": [
            _p(
                "Ida Frandsen",
                "Idé: en multibane og udendørs fitness ved skolen i Store Merløse. Der er intet "
                "sted, hvor de store børn kan mødes efter skole.",
                _p("Tobias Kjeldsen", "Stærk idé! Det samme mangler i Kvanløse."),
                stance="for",
            ),
            _p(
                "Bent Pedersen",
                "Idé: nye bænke og et shelter ved stranden på Orø, så både øboere og gæster kan "
                "nyde udsigten.",
            ),
            _p(
                "Aisha Mohammed",
                "Kan man stemme, selv om man ikke er dansk statsborger? Jeg har boet i Holbæk i "
                "seks år.",
                _p(
                    "Henrik Dalsgaard",
                    "Ja! Alle, der bor i kommunen og er fyldt 15 år, kan stemme, uanset "
                    "statsborgerskab. Det er netop meningen, at så mange som muligt skal være "
                    "med.",
                    _p(
                        "Aisha Mohammed",
                        "Dejligt. Så fortæller jeg det til de andre mødre i lektiecaféen.",
                    ),
                ),
                stance="question",
            ),
            _p(
                "Niels Bech",
                "Jeg synes, 2 mio. kr. er for lidt til at gøre en reel forskel, og meget går til "
                "administration. Giv hellere pengene direkte til lokalrådene.",
                _p(
                    "Camilla Juhl",
                    "Men lokalrådene når ikke ud til alle. Her kan alle være med, også dem, der "
                    "aldrig kommer til et aftenmøde.",
                ),
                stance="against",
            ),
            _p(
                "Henrik Dalsgaard",
                "Idéfasen er nu afsluttet. Tak for de mange gode forslag, både her og på møderne "
                "i lokalområderne. Forvaltningen vurderer nu forslagene, og afstemningen åbner "
                "efter sommerferien.",
                final=True,
            ),
        ],
    },
]


# --- the big debate -------------------------------------------------------------------------

# "{i_town}" becomes "i Tølløse" / "på Orø", "{I_town}" the same at the start of a sentence,
# "{town}" the bare name, "{name}" the first name of the post replied to.
_TOWNS = [
    "Tølløse",
    "Jyderup",
    "Svinninge",
    "Mørkøv",
    "Orø",
    "Ugerløse",
    "Store Merløse",
    "Kvanløse",
    "Regstrup",
    "Vipperød",
    "Tuse Næs",
]
_ON = {"Orø", "Tuse Næs"}  # Danish says "på Orø", "på Tuse Næs" but "i Tølløse"

_OPEN = {
    "for": [
        "Jeg er for en ny skolestruktur, og jeg vil gerne forklare hvorfor.",
        "Som forælder til to børn i udskolingen støtter jeg **model B**.",
        "Jeg har undervist i folkeskolen i over 20 år, og jeg tror, at en samling af "
        "udskolingen er den rigtige vej.",
        "Det er svært at sige højt, men jeg tror, vi er nødt til at ændre strukturen.",
        "Jeg bakker op om forslaget, selv om det bliver hårdt for nogle af landsbyerne.",
        "Lad os være ærlige: Den nuværende struktur holder ikke med de elevtal, vi ser nu.",
        "Jeg var selv skeptisk i starten, men efter at have læst materialet er jeg for.",
        "Som elev i 8. klasse vil jeg gerne sige, at jeg faktisk glæder mig til en større skole.",
        "Jeg støtter en ændring, men den skal gennemføres ordentligt.",
    ],
    "against": [
        "Jeg er imod at lukke skoler i landsbyerne.",
        "Model B og C vil ramme de mindste byer hårdest, og derfor siger jeg nej.",
        "Skolen er hjertet i vores by. Fjerner man den, forsvinder børnefamilierne.",
        "Som mor {i_town} er jeg dybt bekymret over forslaget.",
        "Jeg forstår godt økonomien, men jeg kan ikke støtte at samle udskolingen.",
        "Som far til tre og formand for skolebestyrelsen {i_town} siger jeg klart nej.",
        "Jeg har været med til tre skoledebatter før, og hver gang er det landsbyerne, der taber.",
        "Nej tak til model C.",
        "Jeg kan ikke se, at forslaget gør noget godt for børnene.",
    ],
    "question": [
        "Jeg har et spørgsmål til politikerne.",
        "Før jeg tager stilling, vil jeg gerne have svar på et par ting.",
        "Der er noget i materialet, jeg ikke forstår.",
        "Jeg har læst alle bilagene, men mangler stadig et svar.",
        "Et spørgsmål fra en forælder {i_town}:",
    ],
    "none": [
        "Jeg har fulgt debatten her i et stykke tid og vil gerne bidrage.",
        "Jeg er hverken for eller imod endnu, men vil gerne dele nogle tanker.",
        "Der er gode argumenter på begge sider.",
        "Et par betragtninger fra en bedstemor {i_town}.",
    ],
}

_ARGS = {
    "pro": [
        "Større årgange giver mulighed for hold på tværs af klasserne, så både de fagligt "
        "stærke elever og dem, der har brug for ekstra hjælp, får mere ud af timerne.",
        "På en større skole kan man ansætte lærere med linjefag i alle fag. I dag får mange "
        "elever undervisning i fysik og tysk af lærere, der ikke er uddannet i faget.",
        "Mine børn har gået i en klasse med 11 elever. Det lyder hyggeligt, men det betyder "
        "også, at der er meget få at vælge imellem, når man skal finde venner.",
        "Pengene, der i dag går til bygninger og administration, kunne bruges på flere voksne "
        "i klasserne.",
        "Når eleverne kommer i udskolingen, har de brug for et større fagligt miljø og flere "
        "valgfag. Det kan en lille skole ikke tilbyde.",
        "Skolebussen kan sagtens løse transporten, hvis køreplanen bliver lavet ordentligt.",
        "Vi skal tænke på de børn, der går i skole om ti år, ikke kun på dem, der går der i dag.",
        "Erfaringer fra andre kommuner viser, at elevernes trivsel ikke falder, når "
        "udskolingen samles, hvis overgangen bliver forberedt godt.",
        "Jeg hælder mest til **model B**, fordi de yngste børn stadig kan gå i skole tæt på "
        "hjemmet.",
        "Små skoler er sårbare: Bliver én lærer syg, bliver timerne aflyst eller slået sammen.",
        "Unge i 13-14-årsalderen har godt af at møde nogle nye ansigter og komme lidt ud over "
        "deres egen by.",
        "En større skole kan tilbyde et bedre specialtilbud, så færre børn skal køres til "
        "Holbæk hver dag.",
        "Det er ikke bygningerne, der gør en skole god, men lærerne og fællesskabet.",
        "Flere af de små skoler trænger til renovering for millioner, og de penge har vi ikke "
        "til alle.",
        "Vores ældste søn skiftede til en større skole i 7. klasse, og det var det bedste, der "
        "kunne ske for ham.",
    ],
    "contra": [
        "En skolevej på over en time hver dag med bus er alt for lang for en 13-årig. Det går "
        "ud over søvnen, fritidslivet og lektierne.",
        "Når skolen lukker, flytter børnefamilierne, og så lukker Brugsen og hallen bagefter. "
        "Det har vi set i andre landsbyer.",
        "Små skoler har en tryghed og et nærvær, som man ikke kan skabe på en skole med 900 "
        "elever.",
        "Besparelserne på bygninger bliver spist op af udgifterne til skolebusser.",
        "Der står intet i materialet om, hvad der skal ske med de tomme skolebygninger.",
        "De faglige resultater på vores lille skole er lige så gode som på de store skoler i byen.",
        "Børn med særlige behov har ofte svært ved store skoler med mange skift og meget larm.",
        "Det er ikke rimeligt, at landsbyerne igen skal betale for besparelserne, mens der "
        "bygges nyt i Holbæk By.",
        "**Model A** er efter min mening den eneste, der tager hensyn til landsbyerne.",
        "Man flytter ikke bare en udskoling. Man flytter venskaber, fritidsjob og foreningsliv.",
        "Vi har netop fået nye familier til byen, fordi her er en skole. Hvem flytter hertil, "
        "hvis den forsvinder?",
        "Når man regner på transporten, glemmer man ofte de børn, der bor langt ude på landet "
        "og allerede har lang vej til bussen.",
        "Store klasser er ikke automatisk bedre. Det afhænger helt af, hvor mange voksne der "
        "er omkring børnene.",
        "Der er ingen garanti for, at pengene bliver i skolerne, når de først er sparet.",
        "Forældrene har selv malet klasseværelser og bygget legeplads. Det engagement mister "
        "man på en stor skole.",
    ],
    "neutral": [
        "Min søster bor i en kommune, der samlede udskolingen for fem år siden, og hendes "
        "erfaringer er blandede.",
        "Tallene i bilaget viser, at elevtallet i landsbyerne falder med omkring 10 procent "
        "frem mod 2035.",
        "Vi må ikke glemme lærerne. Mange af dem er lige så usikre som forældrene.",
        "Jeg har talt med flere forældre i børnehaven, og de følger debatten tæt.",
        "Det er vigtigt, at eleverne selv bliver spurgt. Det er trods alt dem, det handler om.",
        "Måske findes der en mellemvej, hvor de små skoler samarbejder tættere uden at lukke.",
        "Jeg savner, at materialet også ser på SFO og fritidsklubber.",
        "Det er godt, at debatten foregår her, så man kan følge med, selv om man ikke kan "
        "komme til møderne om aftenen.",
    ],
}

_LOCAL = [
    "{I_town} har vi allerede mistet posthuset og banken.",
    "På skolen {i_town} er der kommet flere elever de sidste to år, fordi nye familier er "
    "flyttet til.",
    "Fra {town} til den nærmeste store skole er der over 15 kilometer ad små veje uden cykelsti.",
    "{I_town} har forældrene selv bygget legepladsen, så meget betyder skolen for os.",
    "Mange {i_town} pendler, og SFO'en er afgørende for, at hverdagen hænger sammen.",
    "Hallen {i_town} bruges af skolen om dagen og af foreningerne om aftenen. De to hænger "
    "tæt sammen.",
    "Jeg gik selv i skole {i_town} i 80'erne, og nu går mine børn der.",
    "Bussen fra {town} kører i dag kun én gang i timen, og det er før en eventuel ændring.",
    "{I_town} er skolen også stedet for fastelavn, loppemarked og sankthans.",
    "Da vi flyttede til {town}, var skolen den vigtigste grund.",
    "Mine naboer {i_town} har netop sat huset til salg, fordi de er usikre på skolens fremtid.",
    "Skolen {i_town} har et godt samarbejde med den lokale idrætsforening og spejderne.",
]

_POINTS = [
    "korte og sikre skoleveje",
    "flere lærere med linjefag",
    "levende landsbyer",
    "tryghed for de yngste børn",
    "flere valgfag i udskolingen",
    "ordentlig skolebuskørsel",
    "plads til børn med særlige behov",
    "at pengene bliver i skolerne",
    "at eleverne bliver hørt",
    "en god SFO tæt på hjemmet",
]

_QUESTIONS = [
    "Hvor lang må en skolevej maksimalt være efter jeres planer?",
    "Hvad sker der med SFO'en, hvis udskolingen flytter?",
    "Hvor mange penge sparer hver af de tre modeller egentlig om året?",
    "Er der lavet en trafikanalyse af, hvordan eleverne skal komme til skole?",
    "Følger lærerne med, eller skal de søge deres stillinger igen?",
    "Hvornår træffer byrådet den endelige beslutning?",
    "Kommer der et borgermøde i hvert skoledistrikt?",
    "Hvordan vil I sikre, at elevernes stemme bliver hørt i processen?",
    "Hvad skal de tomme skolebygninger bruges til?",
    "Kan man søge om at blive på sin nuværende skole, hvis man allerede er i gang med udskolingen?",
    "Hvad mener lærerne og skolebestyrelserne om modellerne?",
]

_AGREE = [
    "Godt skrevet, jeg er helt enig.",
    "Du sætter ord på det, mange af os tænker.",
    "Tak for et sagligt indlæg.",
    "Det kan jeg kun bakke op om.",
    "Præcis min oplevelse også.",
    "Enig, {name}.",
    "Det er en vigtig pointe, {name}.",
    "Jeg tænker det samme som dig.",
]

_DISAGREE = [
    "Det er jeg ikke enig i.",
    "Jeg forstår din pointe, men jeg ser det anderledes.",
    "Det holder ikke helt, synes jeg.",
    "Med respekt, {name}, så tror jeg, du undervurderer konsekvenserne.",
    "Det er lidt for nemt at sige.",
    "Jeg er uenig, {name}.",
    "Her må jeg give dig modspil.",
]

_CLOSE = [
    "Jeg håber, politikerne lytter.",
    "Kom til borgermødet og sig jeres mening!",
    "Tak til alle, der deltager sagligt i debatten.",
    "Lad os finde en løsning, som alle kan leve med.",
    "Vi har kun én chance for at gøre det rigtigt.",
    "Det er i hvert fald min mening.",
]

_POL_OPEN = [
    "Tak for dit indlæg, {name}.",
    "Det er en vigtig pointe, som jeg tager med i udvalget.",
    "Jeg forstår godt bekymringen, {name}.",
    "Tak, {name}. Den slags erfaringer er præcis, hvad vi har brug for.",
    "Jeg er enig i noget af det, du skriver, {name}, men ikke i det hele.",
]

_POL_ANSWER = [
    "Tak for spørgsmålet, {name}. Det er et af dem, vi hører oftest.",
    "Tak, {name}. Lad mig prøve at svare så klart, jeg kan.",
    "Godt spørgsmål, {name}.",
    "Det kan jeg godt svare på, {name}.",
]

_POL_BODY = [
    "Ingen af modellerne er besluttet endnu, og høringssvarene vejer tungt i den endelige "
    "beslutning.",
    "Forvaltningen regner på transporttiden for hvert enkelt skoledistrikt, og tallene bliver "
    "offentliggjort før borgermøderne.",
    "For mig er det afgørende, at ingen elev får en urimelig lang skolevej.",
    "Vi ønsker at bevare skolerne som samlingspunkter, også hvis udskolingen flytter, for "
    "eksempel ved at bruge bygningerne til SFO, foreninger og kultur.",
    "Besparelserne skal blive på skoleområdet og ikke bruges andre steder i budgettet.",
    "Der bliver borgermøder i alle berørte skoledistrikter i løbet af høringsperioden.",
    "Skolebestyrelserne og lærernes organisationer har været inddraget fra starten.",
    "Jeg har selv børn i skole og kender usikkerheden. Derfor skal processen være åben.",
    "Byrådet træffer den endelige beslutning efter høringen, tidligst til sommer.",
    "Elevrådene er inviteret til et særskilt møde, så eleverne også bliver hørt.",
]

_POL_TOP = [
    "Som medlem af Udvalget for Børn og Skole vil jeg gerne give en kort status på processen.",
    "Mange har spurgt til tidsplanen, så her er et samlet svar fra mig.",
    "Tak for de mange indlæg indtil nu. Jeg har læst dem alle.",
]

_POL_CLOSE = [
    "Du er velkommen til at skrive til mig direkte, hvis du har flere spørgsmål.",
    "Følg med her i debatten, så vender jeg tilbage, når tallene er klar.",
    "Tak for at I deltager. Det gør en forskel.",
]


def _filler(rng: random.Random, name: str, town: str | None = None):
    """A function filling the placeholders, with one town per post."""
    town = town or rng.choice(_TOWNS)
    prep = "på" if town in _ON else "i"
    values = {
        "town": town,
        "i_town": f"{prep} {town}",
        "I_town": f"{prep.capitalize()} {town}",
        "name": name,
    }
    return lambda text: text.format(**values)


def _citizen_body(
    rng: random.Random, opener: str, side: str, name: str, ask: bool, top: bool, town: str
) -> str:
    """A citizen's post: an opener, arguments for ``side``, local colour, maybe a question."""
    fill = _filler(rng, name, town)
    args = _ARGS["pro"] if side == "pro" else _ARGS["contra"] if side == "contra" else []
    pool = rng.sample(args, min(3, len(args))) + rng.sample(_ARGS["neutral"], 2)
    if side == "mixed":
        pool = [rng.choice(_ARGS["pro"]), rng.choice(_ARGS["contra"])] + pool
    if rng.random() < 0.6:
        pool.insert(rng.randint(0, 1), rng.choice(_LOCAL))
    if ask:
        pool.insert(0, rng.choice(_QUESTIONS))
    parts = [fill(opener)]
    if top and rng.random() < 0.2:
        points = "\n".join(f"- {p}" for p in rng.sample(_POINTS, 3))
        parts.append("Det vigtigste for mig er:\n\n" + points + "\n\n")
    target = rng.randint(250, 850) if top else rng.randint(200, 650)
    rest = [rng.choice(_LOCAL)] + rng.sample(_ARGS["neutral"], len(_ARGS["neutral"]))
    for sentence in [fill(s) for s in pool + rest]:
        size = len(" ".join(parts))
        if size >= target and size >= 200:
            break
        if size + 1 + len(sentence) <= 920 and sentence not in parts:
            parts.append(sentence)
    if rng.random() < 0.3:
        parts.append(rng.choice(_CLOSE))
    return _join(rng, parts)


def _politician_body(
    rng: random.Random, name: str, top: bool = False, answers_question: bool = False
) -> str:
    fill = _filler(rng, name)
    openers = _POL_TOP if top else _POL_ANSWER if answers_question else _POL_OPEN
    sentences = [rng.choice(openers)]
    sentences += rng.sample(_POL_BODY, rng.randint(2, 3))
    if rng.random() < 0.5:
        sentences.append(rng.choice(_POL_CLOSE))
    return _join(rng, [fill(s) for s in sentences])


def _join(rng: random.Random, sentences: list[str]) -> str:
    """Join sentences into one to three paragraphs (a list block stays its own paragraph)."""
    text = ""
    for i, sentence in enumerate(sentences):
        if not text:
            text = sentence
        elif text.endswith("\n\n") or (i > 1 and rng.random() < 0.25):
            text = text.rstrip() + "\n\n" + sentence
        else:
            text += " " + sentence
    return text.strip()


class _DebateBuilder:
    """Grows one debate tree post by post; ``nodes`` lists (post, depth, side, parent)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.committee_pols = [p[0] for p in POLITICIANS if BIG_TOPIC_COMMITTEE in p[2]]
        self.other_pols = [p[0] for p in POLITICIANS if BIG_TOPIC_COMMITTEE not in p[2]]
        self.politicians = set(self.committee_pols) | set(self.other_pols)
        self.roots: list[dict] = []
        self.nodes: list[tuple[dict, int, str, dict | None]] = []
        self.sides: dict[str, str] = {}  # a citizen keeps the side first taken
        self.towns: dict[str, str] = {}  # ... and lives in one town

    def town_of(self, author: str) -> str:
        return self.towns.setdefault(author, self.rng.choice(_TOWNS))

    def side_of(self, author: str, default: str) -> str:
        if default in ("pro", "contra"):
            return self.sides.setdefault(author, default)
        return default

    def top_level(self, citizen: bool = False) -> None:
        rng = self.rng
        stance = rng.choices(["for", "against", "question", None], [38, 40, 16, 6])[0]
        if not citizen and rng.random() < 0.06:
            author = rng.choice(self.committee_pols)
            body = _politician_body(rng, "", top=True)
            side, stance = "mixed", None
        else:
            author = rng.choice(CITIZENS)
            if stance in ("for", "against") and author in self.sides:
                stance = "for" if self.sides[author] == "pro" else "against"
            side = self.side_of(
                author, {"for": "pro", "against": "contra"}.get(stance or "", "mixed")
            )
            opener = rng.choice(_OPEN[stance or "none"])
            body = _citizen_body(
                rng, opener, side, "", stance == "question", True, self.town_of(author)
            )
        post = {"author": author, "stance": stance, "body": body, "replies": []}
        self.roots.append(post)
        self.nodes.append((post, 0, side, None))

    def pick_author(self, parent: dict, grandparent: dict | None) -> str:
        rng = self.rng
        if parent["author"] not in self.politicians and rng.random() < 0.13:
            author = rng.choice(self.committee_pols * 3 + self.other_pols)
        elif grandparent is not None and rng.random() < 0.45:
            author = grandparent["author"]  # the conversation goes back and forth
        else:
            author = rng.choice(CITIZENS)
        if author == parent["author"]:
            author = rng.choice([c for c in CITIZENS if c != parent["author"]])
        return author

    def reply(self, index: int, author: str | None = None) -> None:
        rng = self.rng
        parent, depth, side, grandparent = self.nodes[index]
        name = parent["author"].split()[0]
        author = author or self.pick_author(parent, grandparent)
        if author in self.politicians:
            body = _politician_body(rng, name, answers_question="?" in parent["body"])
            new_side = side
        else:
            if author in self.sides and side in ("pro", "contra"):
                new_side = self.sides[author]
                agree = new_side == side
            else:
                agree = rng.random() < 0.5
                flipped = {"pro": "contra", "contra": "pro"}.get(side, side)
                new_side = self.side_of(author, side if agree else flipped)
            opener = rng.choice(_AGREE if agree else _DISAGREE)
            ask = rng.random() < 0.2
            body = _citizen_body(rng, opener, new_side, name, ask, False, self.town_of(author))
        post = {"author": author, "stance": None, "body": body, "replies": []}
        parent["replies"].append(post)
        self.nodes.append((post, depth + 1, new_side, parent))


def big_debate(rng: random.Random, n: int = 320) -> list[dict]:
    """Generate a debate of exactly ``n`` posts for ``BIG_TOPIC_TITLE``, nested up to 8 levels.

    The first thread always holds a chain of replies seven levels deep (a parent and a
    committee politician answering each other), so even a small ``n`` gives a deep tree.
    Bodies are 200–1,000 characters, assembled from the phrase lists above. Deterministic
    for a given ``rng`` state.
    """
    max_depth = 7
    tree = _DebateBuilder(rng)
    if n <= 0:
        return tree.roots
    tree.top_level(citizen=True)
    pol, citizen = tree.committee_pols[0], tree.roots[0]["author"]
    for i in range(min(max_depth, n - 1)):
        tree.reply(len(tree.nodes) - 1, pol if i % 2 == 0 else citizen)
    nodes = tree.nodes
    while len(nodes) < n:
        r = rng.random()
        last = len(nodes) - 1
        if r < 0.14:
            tree.top_level()
        elif r < 0.55 and nodes[last][1] < max_depth:
            tree.reply(last)  # the conversation just written goes on
        else:
            candidates = [i for i, node in enumerate(nodes) if node[1] < max_depth]
            # Favour recent and shallow posts, as readers do.
            weights = [1.0 / (1 + nodes[i][1]) + i / len(nodes) for i in candidates]
            tree.reply(rng.choices(candidates, weights)[0])
    return tree.roots
