"""Who takes part: optional facts with their own consent (given, withdrawn, exported, erased)
and the reach figures for staff (k-anonymity, representation, by month)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.errors import Conflict, PermissionDenied
from forum.extensions import db
from forum.models import Post, PostState, utcnow
from privacy import reach, services
from privacy.models import ConsentRecord, DeletionRequest, PersonalFact, PopulationShare


def _fact(user, fact, value):
    reach.give_fact(user, fact, value, True)
    db.session.commit()


def test_a_fact_is_given_with_its_own_consent_and_withdrawing_deletes_it(client, login, make_user):
    user = make_user()
    login(user)
    r = client.post("/privatliv/om-dig/children", data={"children-value": "yes"})
    assert r.status_code == 400  # no consent ticked: nothing kept, the choice stays
    html = r.get_data(as_text=True)
    assert "Tick the box" in html and 'checked id="children-value-0"' in html
    assert db.session.scalar(select(PersonalFact)) is None
    r = client.post(
        "/privatliv/om-dig/children", data={"children-value": "yes", "children-consent": "y"}
    )
    assert r.status_code == 302
    row = db.session.scalar(select(PersonalFact))
    assert (row.user_id, row.fact, row.value) == (user.id, "children", "yes")
    consent = db.session.scalar(select(ConsentRecord).where(ConsentRecord.kind == "fact:children"))
    assert consent.withdrawn_at is None and consent.notice_version == 1
    page = client.get("/privatliv/om-dig").get_data(as_text=True)
    assert "Withdraw consent and delete" in page and "To see whether families" in page

    r = client.post("/privatliv/om-dig/children/tilbagekald")
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(PersonalFact)) is None  # deleted, not hidden
    assert db.session.get(ConsentRecord, consent.id).withdrawn_at is not None
    r = client.post("/privatliv/om-dig/children/tilbagekald")
    assert r.status_code == 409
    assert "already withdrawn" in r.get_data(as_text=True)
    r = client.post("/privatliv/om-dig/business/tilbagekald")
    assert r.status_code == 409 and "You have not given" in r.get_data(as_text=True)
    assert client.post("/privatliv/om-dig/shoe-size", data={}).status_code == 404


def test_bad_values_are_refused_in_words(app, make_user, make_area):
    user = make_user()
    with pytest.raises(Exception) as exc:
        reach.give_fact(user, "background", "martian", True)
    assert "Choose one of the answers" in str(exc.value.fields)
    area = make_area()
    _fact(user, "area", str(area.id))
    assert reach.my_facts(user)["area"].area_id == area.id
    with pytest.raises(Conflict):
        reach.withdraw_fact(user, "age_band")


def test_facts_are_in_the_export_and_go_with_the_account(client, login, make_user):
    user = make_user()
    _fact(user, "age_band", "18-29")
    _fact(user, "background", "descendant")
    reach.withdraw_fact(user, "background")
    db.session.commit()
    login(user)
    r = client.post("/privatliv/mine-data/eksport")
    data = json.loads(zipfile.ZipFile(io.BytesIO(r.data)).read("data.json"))
    assert [(f["fact"], f["value"]) for f in data["privacy_facts"]] == [("age_band", "18-29")]
    kinds = {(c["kind"], c["withdrawn_at"] is None) for c in data["privacy_consents"]}
    assert ("fact:background", False) in kinds and ("fact:age_band", True) in kinds
    req = DeletionRequest(user_id=user.id, mode="anonymise", due_at=utcnow() - timedelta(minutes=1))
    db.session.add(req)
    db.session.commit()
    services.purge()
    db.session.commit()
    assert db.session.scalar(select(PersonalFact)) is None
    assert db.session.scalar(select(ConsentRecord)) is None


@pytest.fixture
def debate(make_user, make_topic, make_post):
    """By background: seven of Danish origin wrote, three immigrants, six descendants; one
    more immigrant only wrote a held post, and one person gave no facts."""
    topic = make_topic()
    people = {}
    for value, n in (("danish", 7), ("immigrant", 3), ("descendant", 6)):
        for _i in range(n):
            user = make_user()
            _fact(user, "background", value)
            make_post(topic, user)
            people.setdefault(value, []).append(user)
    make_post(topic, people["danish"][0])  # a second post by the same person
    held = make_user()
    _fact(held, "background", "immigrant")
    post = make_post(topic, held)
    post.state = PostState.PENDING
    db.session.commit()
    make_post(topic, make_user())  # gave no facts
    return people


def test_only_staff_and_admins_see_the_figures(client, login, make_user, debate):
    for role in ("citizen", "politician", "moderator"):
        user = make_user(role)
        login(user)
        assert client.get("/deltagelse").status_code == 403
        assert client.get("/deltagelse/befolkning/children").status_code == 403
        r = client.post("/deltagelse/befolkning/children", data={"yes": "10"})
        assert r.status_code == 403
        client.post("/logout")
        with pytest.raises(PermissionDenied):
            reach.figures(user, "children")
    assert db.session.scalar(select(PopulationShare)) is None
    client.post("/logout")
    assert client.get("/deltagelse").status_code == 302  # to the login page
    for role in ("staff", "admin"):
        login(make_user(role))
        assert client.get("/deltagelse?fakta=background").status_code == 200
        client.post("/logout")


def test_small_groups_are_suppressed_and_representation_is_shown(client, login, make_user, debate):
    staff = make_user("staff")
    login(staff)
    r = client.post(
        "/deltagelse/befolkning/background",
        data={"danish": "80", "immigrant": "12", "descendant": "8"},
    )
    assert r.status_code == 302
    table = reach.figures(staff, "background")
    groups = {g.key: g for g in table.groups}
    assert table.participants == 17 and table.stated == 16  # the held post does not count
    assert groups["danish"].participants == 7 and groups["danish"].contributions == 8
    # 3 < 5: hidden, and so is the next smallest group (else 16 - 7 - 6 = 3 would show it)
    assert groups["immigrant"].participants is None and groups["immigrant"].share is None
    assert groups["descendant"].participants is None
    assert groups["danish"].share == pytest.approx(43.75)
    assert groups["danish"].representation == "under"  # 43.75 % against 80 %
    assert table.suppressed
    html = client.get("/deltagelse?fakta=background&maaneder=12").get_data(as_text=True)
    assert "fewer than 5" in html and "under-represented" in html
    assert "<svg" in html and "43.8 %" in html and "80.0 %" in html
    month = f"{utcnow().year:04d}-{utcnow().month:02d}"
    assert month in html
    # Danish pages write numbers the Danish way.
    staff.locale = "da"
    db.session.commit()
    assert "43,8 %" in client.get("/deltagelse?fakta=background").get_data(as_text=True)


def test_one_small_group_hides_the_next_smallest_too():
    assert reach._suppress({"a": 3, "b": 9, "c": 20}) == {"a", "b"}
    assert reach._suppress({"a": 3, "b": 4, "c": 20}) == {"a", "b"}
    assert reach._suppress({"a": 0, "b": 9, "c": 20}) == set()


def test_hidden_posts_and_deleted_people_are_not_counted(make_user, debate):
    staff = make_user("staff")
    assert {g.key: g.participants for g in reach.figures(staff, "background").groups}["danish"] == 7
    for user in debate["danish"][:2]:
        for post in db.session.scalars(select(Post).where(Post.author_id == user.id)):
            post.state = PostState.HIDDEN
    debate["danish"][2].deleted_at = utcnow()
    db.session.commit()
    groups = {g.key: g for g in reach.figures(staff, "background").groups}
    assert groups["danish"].participants is None  # 4 people left: below 5


def test_population_shares_are_checked_and_audited(client, login, make_user, make_area):
    area = make_area("Tølløse")
    staff = make_user("staff")
    login(staff)
    r = client.post("/deltagelse/befolkning/children", data={"yes": "70", "no": "50,5"})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "more than 100" in html and 'value="50,5"' in html
    r = client.post("/deltagelse/befolkning/children", data={"yes": "abc"})
    assert r.status_code == 400 and "from 0 to 100" in r.get_data(as_text=True)
    assert db.session.scalar(select(PopulationShare)) is None
    r = client.post("/deltagelse/befolkning/area", data={str(area.id): "12,5"})
    assert r.status_code == 302
    assert reach.population_shares() == {"area": {str(area.id): 12.5}}
    from moderation.models import AuditEntry

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "population_shares"))
    assert entry is not None and entry.data["after"] == {str(area.id): 12.5}
    page = client.get("/deltagelse/befolkning/area").get_data(as_text=True)
    assert 'value="12,5"' in page


def test_the_summary_serves_other_packages(make_user, debate):
    tables = reach.summary(make_user("admin"), months=3)
    assert [t.fact for t in tables] == list(reach.FACTS)
    assert all(len(t.months) == 3 for t in tables)


def test_the_demo_tells_who_takes_part(make_user, make_area, make_topic, make_post):
    from privacy import demo

    for name in ("Holbæk By", "Tølløse", "Jyderup"):
        make_area(name)
    topic = make_topic()
    for i in range(12):
        make_post(topic, make_user(email=f"borger{i}@example.dk"))
    assert demo.seed() > 0
    db.session.commit()
    tables = {t.fact: t for t in reach.summary(make_user("admin"))}
    assert tables["background"].stated == 6  # of the 12, as the demo spreads its facts
    assert {g.key: g.population for g in tables["background"].groups}["descendant"] == 3.0
    assert sum(g.population or 0 for g in tables["area"].groups) == pytest.approx(51.0)


def test_privacy_settings_changes_are_audited(client, login, make_user):
    from moderation.models import AuditEntry

    admin = make_user("admin")
    services.update_settings(
        admin,
        {
            "municipality_name": "Testrup Kommune",
            "contact_address": "Torvet 1",
            "data_controller": "Testrup Kommune",
            "dpo_contact": "dpo@testrup.example",
            "deletion_grace_days": 14,
            "unverified_retention_days": 30,
            "mail_retention_days": 90,
        },
    )
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "privacy_settings"))
    assert entry.actor_id == admin.id
    assert entry.data["before"]["municipality_name"] == "Holbæk Kommune"
    assert entry.data["after"]["municipality_name"] == "Testrup Kommune"
