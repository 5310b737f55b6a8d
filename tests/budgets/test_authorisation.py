"""Who may use each citizen-budget route: every route against every role.

Roles: anonymous, citizen, politician, a moderator scoped to another area, a moderator scoped
to the budget's area, a moderator acting everywhere ("staff") and an admin. A budget of one
local area is administered by staff, admins and that area's moderators; a budget without an
area is municipality-wide and only staff's and admins'. A refused write changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from budgets import services
from budgets.models import BudgetProcess, Idea, IdeaState, Phase, Result
from forum.extensions import db

from .conftest import ideas_of

ROLES = ("anonymous", "citizen", "politician", "other_mod", "area_mod", "staff", "admin")
LOGIN = "login"  # a redirect to the login page
BACK = "back"  # a redirect elsewhere (done, or refused with a message on the next page)


def _expect(*codes) -> dict:
    assert len(codes) == len(ROLES)
    return dict(zip(ROLES, codes, strict=True))


ALL_200 = _expect(*[200] * 7)
ADMINISTER = _expect(LOGIN, 403, 403, 403, BACK, BACK, BACK)  # a budget of the area
ADMINISTER_PAGE = _expect(LOGIN, 403, 403, 403, 200, 200, 200)
MUNICIPALITY = _expect(LOGIN, 403, 403, 403, 403, BACK, BACK)  # a budget without an area
SIGNED_IN = _expect(LOGIN, BACK, BACK, BACK, BACK, BACK, BACK)
SIGNED_IN_PAGE = _expect(LOGIN, 200, 200, 200, 200, 200, 200)
PREVIEW = _expect(404, 404, 404, 404, 200, 200, 200)  # not public yet


@dataclass
class World:
    area: object
    other_area: object
    users: dict
    make_process: Callable
    advance: Callable
    voting_process: Callable
    author: object
    staff: object


@pytest.fixture
def world(make_area, make_user, make_process, advance, voting_process, staff) -> World:
    area, other = make_area("Holbæk By"), make_area("Tølløse")
    users = {
        "citizen": make_user(name="Carla Citizen"),
        "politician": make_user("politician", name="Poul Politiker"),
        "other_mod": make_user("moderator", name="Olga Other", areas=[other]),
        "area_mod": make_user("moderator", name="Anders Area", areas=[area]),
        "staff": make_user("moderator", name="Stine Staff"),
        "admin": make_user("admin", name="Adam Admin"),
    }
    return World(
        area,
        other,
        users,
        make_process,
        advance,
        voting_process,
        make_user(name="Idun Idea-author"),
        staff,
    )


def _client(app, world: World, role: str):
    client = app.test_client()
    client.set_cookie("lang", "en")
    if role != "anonymous":
        user = world.users[role]
        r = client.post("/login", data={"email": user.email, "password": "correct-horse-battery"})
        assert r.status_code == 302
    return client


# --- what each case sets up ------------------------------------------------------------------


def _process(w: World, phase: Phase = Phase.IDEAS, area: bool = True) -> BudgetProcess:
    process = w.make_process(area_id=w.area.id if area else None)
    w.advance(process, phase)
    return process


def _voting(w: World, area: bool = True) -> BudgetProcess:
    settings = {"area_id": w.area.id} if area else {}
    return w.voting_process(area=w.area, **settings)


def _idea(w: World, area: bool = True) -> Idea:
    process = _process(w, Phase.IDEAS, area)
    idea = services.propose_idea(
        w.author, process, "Bålplads ved fjorden", "Til alle.", 40_000, area_id=w.area.id
    )
    db.session.commit()
    return idea


def _counted(w: World) -> BudgetProcess:
    process = _voting(w)
    services.cast_ballot(w.author, process, [ideas_of(process)[0].id])
    services.count_process(w.staff, process)
    db.session.commit()
    return process


def _published_result(w: World) -> BudgetProcess:
    process = _voting(w)
    services.cast_ballot(w.author, process, [ideas_of(process)[0].id])
    db.session.commit()
    w.advance(process, Phase.RESULT)
    return process


def _process_state(process_id: int):
    db.session.expire_all()
    p = db.session.get(BudgetProcess, process_id)
    return (p.title, p.phase, p.area_id, p.updated_at)


def _idea_state(idea_id: int):
    db.session.expire_all()
    i = db.session.get(Idea, idea_id)
    return (i.state, i.review, i.final_cost, i.review_reason, i.merged_into_id, i.support_count)


def _result_count(process_id: int):
    return db.session.scalar(select(func.count(Result.id)).where(Result.process_id == process_id))


def _process_count(_id=None):
    return db.session.scalar(select(func.count(BudgetProcess.id)))


def _new_process_form(area_id) -> dict:
    return {
        "title": "Borgerbudget for byen",
        "description": "Hvad vil I have?",
        "total_amount": "600000",
        "scope": "area" if area_id else "municipality",
        "area_id": str(area_id or ""),
        "rule": "greedy",
        "ballot_style": "approval_budget",
    }


def _edit_form(process: BudgetProcess) -> dict:
    return {
        "title": "Et andet navn til budgettet",
        "description": "Ny tekst",
        "total_amount": str(int(process.total_amount)),  # whole kroner in the form
        "scope": "area" if process.area_id else "municipality",
        "area_id": str(process.area_id or ""),
        "rule": process.rule,
        "ballot_style": process.ballot_style.value,
        "tie_break": process.tie_break,
    }


def _review_form() -> dict:
    return {"outcome": "feasible", "reason": "Det kan lade sig gøre.", "final_cost": "1"}


def _merge_setup(w: World):
    first = _idea(w)
    second = services.propose_idea(
        w.author, first.process, "Bålplads ved stranden", "Også til alle.", 30_000, w.area.id
    )
    db.session.commit()
    return (
        "POST",
        f"/borgerbudget/ideer/{second.id}/saml",
        {"target_id": str(first.id), "merge_reason": "Samme idé."},
        second.id,
    )


def _pending_idea(w: World):
    idea = _idea(w)
    idea.state = IdeaState.PENDING
    db.session.commit()
    return ("POST", f"/borgerbudget/ideer/{idea.id}/moderer", {"action": "approve"}, idea.id)


def _status_setup(w: World):
    process = _published_result(w)
    idea = ideas_of(process)[0]
    data = {"status": "planned", "happened_on": "2027-05-01", "text": "Vi går i gang i maj."}
    return ("POST", f"/borgerbudget/ideer/{idea.id}/status", data, idea.id)


def _status_count(idea_id: int):
    from budgets.models import StatusUpdate

    return db.session.scalar(
        select(func.count(StatusUpdate.id)).where(StatusUpdate.idea_id == idea_id)
    )


# (name, setup(world) -> (method, url, data, key), expected by role, snapshot(key) or None)
CASES = [
    ("index", lambda w: ("GET", "/borgerbudget/", None, None), ALL_200, None),
    (
        "new process form",
        lambda w: ("GET", "/borgerbudget/ny", None, None),
        _expect(LOGIN, 403, 403, 200, 200, 200, 200),
        None,
    ),
    (
        "create a budget of the area",
        lambda w: ("POST", "/borgerbudget/ny", _new_process_form(w.area.id), None),
        # The other area's moderator gets the form back with the error on the area field.
        _expect(LOGIN, 403, 403, 400, BACK, BACK, BACK),
        _process_count,
    ),
    (
        "create a municipality-wide budget",
        lambda w: ("POST", "/borgerbudget/ny", _new_process_form(None), None),
        _expect(LOGIN, 403, 403, 400, 400, BACK, BACK),
        _process_count,
    ),
    (
        "draft page",
        lambda w: ("GET", f"/borgerbudget/{_process(w, Phase.DRAFT).id}", None, None),
        PREVIEW,
        None,
    ),
    (
        "process page",
        lambda w: ("GET", f"/borgerbudget/{_process(w).id}", None, None),
        ALL_200,
        None,
    ),
    (
        "edit form",
        lambda w: ("GET", f"/borgerbudget/{_process(w).id}/rediger", None, None),
        ADMINISTER_PAGE,
        None,
    ),
    (
        "edit",
        lambda w: (lambda p: ("POST", f"/borgerbudget/{p.id}/rediger", _edit_form(p), p.id))(
            _process(w)
        ),
        ADMINISTER,
        _process_state,
    ),
    (
        "edit a municipality-wide budget",
        lambda w: (lambda p: ("POST", f"/borgerbudget/{p.id}/rediger", _edit_form(p), p.id))(
            _process(w, area=False)
        ),
        MUNICIPALITY,
        _process_state,
    ),
    (
        "move the phase",
        lambda w: (lambda p: ("POST", f"/borgerbudget/{p.id}/fase", {}, p.id))(_process(w)),
        ADMINISTER,
        _process_state,
    ),
    (
        "move a municipality-wide budget's phase",
        lambda w: (lambda p: ("POST", f"/borgerbudget/{p.id}/fase", {}, p.id))(
            _process(w, area=False)
        ),
        MUNICIPALITY,
        _process_state,
    ),
    (
        "count",
        lambda w: (lambda p: ("POST", f"/borgerbudget/{p.id}/optaelling", {}, p.id))(_voting(w)),
        ADMINISTER,
        _result_count,
    ),
    (
        "count a municipality-wide budget",
        lambda w: (lambda p: ("POST", f"/borgerbudget/{p.id}/optaelling", {}, p.id))(
            _voting(w, area=False)
        ),
        MUNICIPALITY,
        _result_count,
    ),
    (
        "review list",
        lambda w: ("GET", f"/borgerbudget/{_process(w).id}/behandling", None, None),
        ADMINISTER_PAGE,
        None,
    ),
    (
        "new idea form",
        lambda w: ("GET", f"/borgerbudget/{_process(w).id}/ideer/ny", None, None),
        SIGNED_IN_PAGE,
        None,
    ),
    (
        "propose an idea",
        lambda w: (
            "POST",
            f"/borgerbudget/{_process(w).id}/ideer/ny",
            {
                "title": "Skaterbane",
                "description": "En skaterbane.",
                "estimated_cost": "50000",
                "area_id": str(w.area.id),
                "nonce": "n1",
            },
            None,
        ),
        SIGNED_IN,
        None,
    ),
    (
        "idea page",
        lambda w: ("GET", f"/borgerbudget/ideer/{_idea(w).id}", None, None),
        ALL_200,
        None,
    ),
    (
        "edit someone else's idea (form)",
        lambda w: ("GET", f"/borgerbudget/ideer/{_idea(w).id}/rediger", None, None),
        SIGNED_IN,  # refused with a message on the idea's page
        None,
    ),
    (
        "edit someone else's idea",
        lambda w: (
            lambda i: (
                "POST",
                f"/borgerbudget/ideer/{i.id}/rediger",
                {"title": "Noget helt andet", "description": "x", "estimated_cost": "1"},
                i.id,
            )
        )(_idea(w)),
        SIGNED_IN,
        _idea_state,
    ),
    (
        "withdraw someone else's idea",
        lambda w: (lambda i: ("POST", f"/borgerbudget/ideer/{i.id}/traek-tilbage", {}, i.id))(
            _idea(w)
        ),
        SIGNED_IN,
        _idea_state,
    ),
    (
        "support an idea",
        lambda w: ("POST", f"/borgerbudget/ideer/{_idea(w).id}/stoet", {}, None),
        SIGNED_IN,
        None,
    ),
    (
        "moderate a held idea",
        _pending_idea,
        # Held: only its author and the moderators of its area see it.
        _expect(LOGIN, 404, 404, 404, BACK, BACK, BACK),
        _idea_state,
    ),
    (
        "review an idea (final cost)",
        lambda w: (
            lambda i: ("POST", f"/borgerbudget/ideer/{i.id}/vurdering", _review_form(), i.id)
        )(_idea(w)),
        ADMINISTER,
        _idea_state,
    ),
    (
        "review an idea of a municipality-wide budget",
        lambda w: (
            lambda i: ("POST", f"/borgerbudget/ideer/{i.id}/vurdering", _review_form(), i.id)
        )(_idea(w, area=False)),
        MUNICIPALITY,
        _idea_state,
    ),
    ("merge ideas", _merge_setup, ADMINISTER, _idea_state),
    ("status update", _status_setup, ADMINISTER, _status_count),
    (
        "ballot page",
        lambda w: ("GET", f"/borgerbudget/{_voting(w).id}/stemmeseddel", None, None),
        ALL_200,
        None,
    ),
    (
        "cast a ballot",
        lambda w: (
            lambda p: (
                "POST",
                f"/borgerbudget/{p.id}/stemmeseddel",
                {"idea": [str(ideas_of(p)[0].id)]},
                None,
            )
        )(_voting(w)),
        SIGNED_IN,
        None,
    ),
    (
        "receipt without a ballot",
        lambda w: ("GET", f"/borgerbudget/{_voting(w).id}/kvittering", None, None),
        SIGNED_IN,
        None,
    ),
    (
        "result preview during voting",
        lambda w: ("GET", f"/borgerbudget/{_counted(w).id}/resultat", None, None),
        PREVIEW,
        None,
    ),
    (
        "result CSV during voting",
        lambda w: ("GET", f"/borgerbudget/{_counted(w).id}/resultat.csv", None, None),
        PREVIEW,
        None,
    ),
    (
        "Pabulib file during voting",
        lambda w: ("GET", f"/borgerbudget/{_counted(w).id}/resultat.pb", None, None),
        PREVIEW,
        None,
    ),
    (
        "published result",
        lambda w: ("GET", f"/borgerbudget/{_published_result(w).id}/resultat", None, None),
        ALL_200,
        None,
    ),
    (
        "published result CSV",
        lambda w: ("GET", f"/borgerbudget/{_published_result(w).id}/resultat.csv", None, None),
        ALL_200,
        None,
    ),
    (
        "published Pabulib file",
        lambda w: ("GET", f"/borgerbudget/{_published_result(w).id}/resultat.pb", None, None),
        ALL_200,
        None,
    ),
]


def test_every_budget_route_is_in_the_matrix(app) -> None:
    """A new route must be added to CASES (matched by its rule's first words)."""
    rules = {r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("budgets.")}
    covered = {
        "/borgerbudget/",
        "/borgerbudget/ny",
        "/borgerbudget/<int:process_id>",
        "/borgerbudget/<int:process_id>/rediger",
        "/borgerbudget/<int:process_id>/fase",
        "/borgerbudget/<int:process_id>/optaelling",
        "/borgerbudget/<int:process_id>/behandling",
        "/borgerbudget/<int:process_id>/ideer/ny",
        "/borgerbudget/ideer/<int:idea_id>",
        "/borgerbudget/ideer/<int:idea_id>/rediger",
        "/borgerbudget/ideer/<int:idea_id>/traek-tilbage",
        "/borgerbudget/ideer/<int:idea_id>/stoet",
        "/borgerbudget/ideer/<int:idea_id>/moderer",
        "/borgerbudget/ideer/<int:idea_id>/vurdering",
        "/borgerbudget/ideer/<int:idea_id>/saml",
        "/borgerbudget/ideer/<int:idea_id>/status",
        "/borgerbudget/<int:process_id>/stemmeseddel",
        "/borgerbudget/<int:process_id>/kvittering",
        "/borgerbudget/<int:process_id>/resultat",
        "/borgerbudget/<int:process_id>/resultat.csv",
        "/borgerbudget/<int:process_id>/resultat.pb",
    }
    assert rules == covered


@pytest.mark.parametrize(
    ("setup", "expected", "snapshot"),
    [pytest.param(c[1], c[2], c[3], id=c[0]) for c in CASES],
)
def test_budget_route_by_role(app, world, setup, expected, snapshot) -> None:
    failures = []
    for role in ROLES:
        method, url, data, key = setup(world)
        before = snapshot(key) if snapshot else None
        client = _client(app, world, role)
        response = client.open(url, method=method, data=data)
        response.close()  # a streamed download (CSV) keeps the request's context until closed
        want = expected[role]
        got = response.status_code
        location = response.headers.get("Location", "")
        if want == LOGIN:
            ok = got == 302 and "/login" in location
        elif want == BACK:
            ok = got == 302 and "/login" not in location
        else:
            ok = got == want
        if ok and snapshot and (want in (403, 404, 400, LOGIN)):
            ok = snapshot(key) == before  # refused: nothing written
            if not ok:
                got = f"{got}, but it wrote"
        if ok and snapshot and want == BACK and role in ("staff", "admin", "area_mod"):
            if expected is not SIGNED_IN:
                ok = snapshot(key) != before  # done: something changed
                if not ok:
                    got = f"{got}, but nothing changed"
        if not ok:
            failures.append(f"{role}: expected {want}, got {got} {location}")
    assert not failures, "\n".join(failures)


def test_controls_are_shown_only_to_who_administers_the_budget(app, world) -> None:
    process = _process(world)
    idea = services.propose_idea(
        world.author, process, "Bålplads ved fjorden", "Til alle.", 40_000, world.area.id
    )
    db.session.commit()
    for role in ROLES:
        client = _client(app, world, role)
        page = client.get(f"/borgerbudget/{process.id}").get_data(as_text=True)
        idea_page = client.get(f"/borgerbudget/ideer/{idea.id}").get_data(as_text=True)
        index = client.get("/borgerbudget/").get_data(as_text=True)
        manages = role in ("area_mod", "staff", "admin")
        assert (f"/borgerbudget/{process.id}/rediger" in page) is manages, role
        assert (f"/borgerbudget/{process.id}/fase" in page) is manages, role
        assert (f"/borgerbudget/ideer/{idea.id}/vurdering" in idea_page) is manages, role
        assert ("/borgerbudget/ny" in index) is (role not in ("anonymous", "citizen", "politician"))
    # A scoped moderator's new-budget form offers only their own areas.
    form = _client(app, world, "area_mod").get("/borgerbudget/ny").get_data(as_text=True)
    assert f'value="{world.area.id}"' in form and "Tølløse" not in form


def test_the_services_refuse_other_areas_moderators(world) -> None:
    """Not only the pages: the services themselves refuse, whoever calls them."""
    from forum.errors import InvalidInput, PermissionDenied

    other, mine = world.users["other_mod"], world.users["area_mod"]
    process = _voting(world)
    idea = ideas_of(process)[0]
    municipal = _process(world, area=False)
    calls = [
        lambda u: services.update_process(u, process, **{"title": "Andet navn"}),
        lambda u: services.advance_phase(u, process),
        lambda u: services.count_process(u, process),
        lambda u: services.review_idea(u, idea, True, "Billigere.", 1),
        lambda u: services.advance_phase(u, municipal),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call(other)
        db.session.rollback()
    with pytest.raises(PermissionDenied):
        services.advance_phase(mine, municipal)
    db.session.rollback()
    for area_id in (world.other_area.id, None):
        with pytest.raises(InvalidInput):
            services.create_process(mine, title="Borgerbudget", area_id=area_id)
        db.session.rollback()
    db.session.expire_all()
    assert process.phase == Phase.VOTING and idea.final_cost != 1
    assert municipal.phase == Phase.IDEAS
