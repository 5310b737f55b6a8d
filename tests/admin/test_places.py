"""Committees and local areas in the browser: list, create, rename, describe, reorder,
archive, merge, and old addresses that redirect."""

from __future__ import annotations

from sqlalchemy import select

from forum import services as forum_services
from forum.errors import InvalidInput
from forum.extensions import db
from forum.models import Area, Committee, SlugHistory, Topic
from tests.admin.conftest import audit_entries, text_of


def test_list_shows_places_in_their_order(as_admin, make_committee):
    make_committee("Økonomiudvalget", "oekonomi")
    make_committee("Børn og Skole", "boern")
    page = as_admin.get("/admin/udvalg")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Same position (0): by name.
    assert html.index("Børn og Skole") < html.index("Økonomiudvalget")


def test_create_committee_renders_markdown_through_the_sanitiser(as_admin, admin_user):
    r = as_admin.post(
        "/admin/udvalg",
        data={
            "name": "Klima og Miljø",
            "slug": "",
            "description": "**Grøn** omstilling <script>alert(1)</script>",
        },
    )
    assert r.status_code == 302
    c = db.session.scalar(select(Committee).where(Committee.name == "Klima og Miljø"))
    assert c.slug == "klima-og-miljoe"  # made from the name, æøå spelled out
    assert "<strong>Grøn</strong>" in c.description_html
    assert "<script>" not in c.description_html
    public = as_admin.get("/udvalg/klima-og-miljoe")
    assert public.status_code == 200
    assert "<strong>Grøn</strong>" in public.get_data(as_text=True)
    [entry] = audit_entries("place_create")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (
        admin_user.id,
        "committee",
        c.id,
    )
    assert entry.data["after"]["name"] == "Klima og Miljø"


def test_taken_name_or_slug_is_a_form_error_that_keeps_the_text(as_admin, make_area):
    make_area("Tølløse", "toelloese")
    r = as_admin.post(
        "/admin/omraader",
        data={"name": "tølløse", "slug": "ny-by", "description": "Min beskrivelse"},
    )
    assert r.status_code == 400
    assert "Another one already has this name." in text_of(r)
    assert "Min beskrivelse" in r.get_data(as_text=True)
    r = as_admin.post("/admin/omraader", data={"name": "Nyt sted", "slug": "toelloese"})
    assert r.status_code == 400
    assert "Another one already has this address." in text_of(r)
    r = as_admin.post("/admin/omraader", data={"name": "Nyt sted", "slug": "Ikke Gyldig!"})
    assert r.status_code == 400 and "lower-case letters" in text_of(r)
    assert db.session.scalar(select(Area).where(Area.name == "Nyt sted")) is None
    assert audit_entries("place_create") == []


def test_rename_and_new_slug_redirect_old_urls(as_admin, make_committee, admin_user):
    c = make_committee("Teknik", "teknik")
    r = as_admin.post(
        f"/admin/udvalg/{c.id}",
        data={"name": "Teknik og Miljø", "slug": "teknik-miljoe", "description": "Veje."},
    )
    assert r.status_code == 302
    db.session.refresh(c)
    assert (c.name, c.slug) == ("Teknik og Miljø", "teknik-miljoe")
    old = as_admin.get("/udvalg/teknik")
    assert old.status_code == 301 and old.headers["Location"].endswith("/udvalg/teknik-miljoe")
    # A second rename: both old addresses lead to the newest.
    as_admin.post(f"/admin/udvalg/{c.id}", data={"name": "Teknik og Miljø", "slug": "tm"})
    assert as_admin.get("/udvalg/teknik").headers["Location"].endswith("/udvalg/tm")
    assert as_admin.get("/udvalg/teknik-miljoe").headers["Location"].endswith("/udvalg/tm")
    assert as_admin.get("/udvalg/aldrig-brugt").status_code == 404
    [first, second] = audit_entries("place_edit")
    assert (
        first.data["before"]["slug"] == "teknik" and first.data["after"]["slug"] == "teknik-miljoe"
    )
    assert second.data["after"]["slug"] == "tm"
    # Taking an old address back for itself works, without a loop.
    as_admin.post(f"/admin/udvalg/{c.id}", data={"name": "Teknik og Miljø", "slug": "teknik"})
    assert as_admin.get("/udvalg/teknik").status_code == 200
    assert as_admin.get("/udvalg/tm").headers["Location"].endswith("/udvalg/teknik")


def test_renaming_to_a_taken_name_is_refused(as_admin, make_committee):
    make_committee("Kultur", "kultur")
    c = make_committee("Fritid", "fritid")
    r = as_admin.post(f"/admin/udvalg/{c.id}", data={"name": "Kultur", "slug": "kultur"})
    assert r.status_code == 400
    text = text_of(r)
    assert "Another one already has this name." in text
    assert "Another one already has this address." in text
    db.session.refresh(c)
    assert (c.name, c.slug) == ("Fritid", "fritid")
    assert db.session.scalar(select(SlugHistory)) is None


def test_reorder_with_up_and_down_buttons(as_admin, make_area):
    a, b, c = make_area("A-by", "a"), make_area("B-by", "b"), make_area("C-by", "c")
    r = as_admin.post(f"/admin/omraader/{c.id}/flyt", data={"direction": "up"})
    assert r.status_code == 302
    names = [x.name for x in db.session.scalars(select(Area).order_by(Area.position))]
    assert names == ["A-by", "C-by", "B-by"]
    as_admin.post(f"/admin/omraader/{a.id}/flyt", data={"direction": "down"})
    db.session.expire_all()
    names = [x.name for x in db.session.scalars(select(Area).order_by(Area.position))]
    assert names == ["C-by", "A-by", "B-by"]
    public = as_admin.get("/omraader").get_data(as_text=True)
    assert public.index("C-by") < public.index("A-by") < public.index("B-by")
    # At the top, "up" changes nothing; a bad direction is a 400.
    as_admin.post(f"/admin/omraader/{c.id}/flyt", data={"direction": "up"})
    assert (
        as_admin.post(f"/admin/omraader/{c.id}/flyt", data={"direction": "sideways"}).status_code
        == 400
    )
    assert len(audit_entries("place_move")) == 2
    assert b.id  # untouched, still there


def test_archived_committee_keeps_topics_readable_and_takes_no_new_ones(
    as_admin, make_committee, make_topic, admin_user, client
):
    c = make_committee("Gammelt udvalg", "gammelt")
    topic = make_topic(committee=c, title="Et gammelt emne")
    r = as_admin.post(f"/admin/udvalg/{c.id}/arkiv", data={"archived": "1"})
    assert r.status_code == 302
    db.session.refresh(c)
    assert c.archived_at is not None
    assert as_admin.get(f"/emner/{topic.id}").status_code == 200
    assert "Et gammelt emne" in as_admin.get("/udvalg/gammelt").get_data(as_text=True)
    assert "Gammelt udvalg 1 open topic (archived)" in text_of(as_admin.get("/udvalg"))
    form = as_admin.get("/emner/nyt").get_data(as_text=True)
    assert f'value="{c.id}">Gammelt udvalg' not in form
    try:
        forum_services.create_topic(admin_user, "Et nyt emne her", "Tekst.", committee_id=c.id)
    except InvalidInput as exc:
        assert set(exc.fields) == {"committee_id"}  # the service refuses, not only the form
    else:
        raise AssertionError("an archived committee took a new topic")
    db.session.rollback()
    [entry] = audit_entries("place_archive")
    assert (entry.from_state, entry.to_state) == ("active", "archived")
    as_admin.post(f"/admin/udvalg/{c.id}/arkiv", data={"archived": "0"})
    db.session.refresh(c)
    assert c.archived_at is None
    assert len(audit_entries("place_restore")) == 1


def test_merge_moves_topics_scopes_and_budgets_and_redirects(
    as_admin, make_area, make_topic, make_user, admin_user
):
    from budgets.models import AreaAmount
    from budgets.services import create_process

    source, target = make_area("Mørkøv", "moerkoev"), make_area("Jyderup", "jyderup")
    topic = make_topic(area=source, title="Stien ved Mørkøv")
    both = make_user("moderator", areas=[source, target])
    only_source = make_user("moderator", areas=[source])
    process = create_process(admin_user, title="Borgerbudget", description="x", total_amount=1000)
    db.session.flush()
    db.session.add_all(
        [
            AreaAmount(process_id=process.id, area_id=source.id, amount=100),
            AreaAmount(process_id=process.id, area_id=target.id, amount=50),
        ]
    )
    db.session.commit()
    source_id, target_id = source.id, target.id

    r = as_admin.post(f"/admin/omraader/{source_id}/sammenlaeg", data={"target_id": str(target_id)})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Area, source_id) is None
    assert db.session.get(Topic, topic.id).area_id == target_id
    assert [a.id for a in db.session.get(type(both), both.id).moderated_areas] == [target_id]
    assert [a.id for a in db.session.get(type(both), only_source.id).moderated_areas] == [target_id]
    amounts = db.session.scalars(
        select(AreaAmount).where(AreaAmount.process_id == process.id)
    ).all()
    assert [(x.area_id, x.amount) for x in amounts] == [(target_id, 150)]
    old = as_admin.get("/omraader/moerkoev")
    assert old.status_code == 301 and old.headers["Location"].endswith("/omraader/jyderup")
    [entry] = audit_entries("area_merge")
    assert entry.target_id == target_id and entry.data["merged"]["slug"] == "moerkoev"
    assert entry.data["moved"]["topics"] == 1


def test_merging_an_area_into_itself_is_refused(as_admin, make_area, make_topic):
    a = make_area("Tølløse", "toelloese")
    make_topic(area=a)
    r = as_admin.post(f"/admin/omraader/{a.id}/sammenlaeg", data={"target_id": str(a.id)})
    assert r.status_code == 400
    assert "An area cannot be merged into itself." in text_of(r)
    db.session.expire_all()
    assert db.session.get(Area, a.id) is not None
    assert audit_entries("area_merge") == []
