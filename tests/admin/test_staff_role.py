"""Role.STAFF (a municipal employee): admins give it in the browser; staff write outcomes and
see who takes part, and stay out of /admin and the moderation queue."""

from __future__ import annotations

from datetime import date

from forum import services as forum_services
from forum.extensions import db
from forum.models import Role, User
from tests.admin.conftest import audit_entries, english
from tests.conftest import PASSWORD


def test_an_admin_makes_someone_staff_and_staff_reach_their_pages(
    app, as_admin, make_user, make_committee, make_area, make_topic
):
    user = make_user(name="Mads Medarbejder")
    r = as_admin.post(f"/admin/personer/{user.id}", data={"role": "staff"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).role == Role.STAFF
    [entry] = audit_entries("role_change")
    assert (entry.from_state, entry.to_state) == ("citizen", "staff")

    topic = make_topic(committee=make_committee())
    client = english(app.test_client())
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code
    assert client.get("/deltagelse").status_code == 200
    assert client.get(f"/emner/{topic.id}/resultat/ny").status_code == 200
    r = client.post(
        f"/emner/{topic.id}/resultat/ny",
        data={
            "status": "in_progress",
            "body": "administration",
            "text": "Forvaltningen samler debatten.",
            "decided_on": date.today().isoformat(),
            "link": "",
            "citations": "",
            "nonce": "n-staff",
        },
    )
    assert r.status_code == 302
    assert client.get("/admin/").status_code == 403
    assert client.get("/moderation").status_code == 403
    # A topic they may not see (a citizen's proposal waiting for review) gets no outcome.
    proposal = forum_services.create_topic(
        make_user(), "Et forslag fra en borger", "Tekst", area_id=make_area().id
    )
    db.session.commit()
    assert proposal.status.value == "proposed"
    assert client.get(f"/emner/{proposal.id}/resultat/ny").status_code in (403, 404)
