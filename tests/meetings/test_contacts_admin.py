"""Local forum contacts named in the browser: admin's person page, beside the moderated
areas, audited in the role change's entry."""

from __future__ import annotations

from sqlalchemy import select

from forum.extensions import db
from forum.models import Event, User
from meetings import permissions, services
from moderation.models import AuditEntry


def _entries() -> list[AuditEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "role_change").order_by(AuditEntry.id)
        )
    )


def test_admin_grants_and_revokes_contact_areas_audited(world, client, login, make_user):
    admin = make_user("admin")
    person = make_user(name="Kirsten Lauridsen")
    login(admin)
    page = client.get(f"/admin/personer/{person.id}").get_data(as_text=True)
    assert 'name="cap_meeting_contact"' in page
    resp = client.post(
        f"/admin/personer/{person.id}",
        data={"role": "citizen", "cap_meeting_contact": [str(world.area.id)]},
    )
    assert resp.status_code == 302
    db.session.expire_all()
    person = db.session.get(User, person.id)
    assert services.contact_areas(person) == {world.area.id}
    assert permissions.can_organise_in(person, world.area.id)
    [entry] = _entries()
    assert entry.actor_id == admin.id and entry.subject_user_id == person.id
    assert entry.data["before"]["meeting_contact"] == []
    assert entry.data["after"]["meeting_contact"] == [world.area.slug]
    # the page shows it ticked
    page = client.get(f"/admin/personer/{person.id}").get_data(as_text=True)
    assert 'name="cap_meeting_contact" id="cap_meeting_contact-' in page
    assert f'value="{world.area.id}" checked' in page
    # move to the other area: one removed, one added, one audit entry more
    client.post(
        f"/admin/personer/{person.id}",
        data={"role": "citizen", "cap_meeting_contact": [str(world.other_area.id)]},
    )
    db.session.expire_all()
    assert services.contact_areas(person) == {world.other_area.id}
    entries = _entries()
    assert len(entries) == 2
    assert entries[1].data["before"]["meeting_contact"] == [world.area.slug]
    assert entries[1].data["after"]["meeting_contact"] == [world.other_area.slug]
    kinds = list(
        db.session.scalars(
            select(Event.payload).where(
                Event.kind == "meeting_contact_set", Event.subject_id == person.id
            )
        )
    )
    assert sorted((k["area_id"], k["on"]) for k in kinds) == sorted(
        [(world.area.id, True), (world.area.id, False), (world.other_area.id, True)]
    )
    # revoke all
    client.post(f"/admin/personer/{person.id}", data={"role": "citizen"})
    db.session.expire_all()
    assert services.contact_areas(person) == set()
    assert len(_entries()) == 3


def test_unknown_area_is_a_form_error_and_changes_nothing(world, client, login, make_user):
    admin = make_user("admin")
    login(admin)
    resp = client.post(
        f"/admin/personer/{world.contact.id}",
        data={"role": "citizen", "cap_meeting_contact": ["999999"]},
    )
    assert resp.status_code == 400
    assert "Vælg fra listen." in resp.get_data(as_text=True)  # in the reader's language
    db.session.expire_all()
    assert services.contact_areas(world.contact) == {world.area.id}
    assert _entries() == []


def test_only_admins_name_contacts(world, client, login):
    login(world.staff)
    resp = client.post(
        f"/admin/personer/{world.citizen.id}",
        data={"role": "citizen", "cap_meeting_contact": [str(world.area.id)]},
    )
    assert resp.status_code == 403
    assert services.contact_areas(world.citizen) == set()
    import pytest

    from forum.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.set_contact_areas(world.staff, world.citizen, {world.area.id})
