"""Meeting pages without JavaScript: create, register, the waiting list, CSV, calendars."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import utcnow
from meetings import services
from meetings.models import Meeting, MeetingRegistration, RegistrationStatus

from .conftest import meeting_data


def _form(**over) -> dict:
    starts = utcnow() + timedelta(days=20)
    data = {
        "kind": "summit",
        "title": "Topmøde om skolestrukturen",
        "description": "Hvordan skal skolerne i Holbæk se ud?",
        "starts_at": starts.strftime("%Y-%m-%dT18:00"),
        "ends_at": starts.strftime("%Y-%m-%dT21:00"),
        "address": "Holbæk Rådhus",
        "committee_id": "",
        "area_id": "",
        "registration": "y",
        "capacity": "40",
    }
    data.update(over)
    return data


def test_staff_plan_a_meeting_in_danish_time(world, client, login):
    login(world.staff)
    assert client.get("/moeder/ny").status_code == 200
    resp = client.post("/moeder/ny", data=_form())
    assert resp.status_code == 302, resp.get_data(as_text=True)
    m = db.session.scalar(select(Meeting))
    # 18:00 in Copenhagen is 17:00 or 16:00 UTC (winter/summer)
    assert m.starts_at.hour in (16, 17)
    page = client.get(f"/moeder/{m.id}").get_data(as_text=True)
    assert "Topmøde om skolestrukturen" in page
    assert "18.00" in page or "18:00" in page


def test_bad_form_input_keeps_the_text_and_says_why(world, client, login):
    login(world.staff)
    resp = client.post(
        "/moeder/ny", data=_form(online_link="javascript:alert(1)", title="Mit møde")
    )
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "Mit møde" in page and "http" in page
    resp = client.post(
        "/moeder/ny", data=_form(ends_at=_form()["starts_at"].replace("18:00", "17:00"))
    )
    assert resp.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 0


def test_citizens_cannot_plan_meetings(world, client, login):
    login(world.citizen)
    assert client.get("/moeder/ny").status_code == 403
    assert client.post("/moeder/ny", data=_form()).status_code == 403


def test_register_join_waiting_list_and_cancel_through_the_pages(
    world, make_meeting, client, login, make_user
):
    m = make_meeting(capacity=1)
    other = make_user()
    services.register(other, m.id)
    db.session.commit()
    login(world.citizen)
    page = client.get(f"/moeder/{m.id}").get_data(as_text=True)
    assert "venteliste" in page.lower() or "waiting list" in page.lower()
    resp = client.post(f"/moeder/{m.id}/tilmeld", data={"question": "Glutenfri kost"})
    assert resp.status_code == 302
    mine = services.registration_of(world.citizen, m.id)
    assert mine.status == RegistrationStatus.WAITING and mine.position == 1
    # twice: a clear answer, nothing changes
    resp = client.post(f"/moeder/{m.id}/tilmeld", data={}, follow_redirects=True)
    assert resp.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(MeetingRegistration)) == 2
    # the question is for organisers only
    assert "Glutenfri" not in client.get(f"/moeder/{m.id}").get_data(as_text=True)
    # someone else's registration: 404, unchanged
    theirs = services.registration_of(other, m.id)
    assert client.post(f"/moeder/tilmeldinger/{theirs.id}/afmeld").status_code == 404
    db.session.refresh(theirs)
    assert theirs.status == RegistrationStatus.CONFIRMED


def test_attendee_csv_for_organisers_only(world, make_meeting, client, login):
    m = make_meeting()
    services.register(world.citizen, m.id, "=HYPERLINK(1)")
    db.session.commit()
    login(world.citizen)
    assert client.get(f"/moeder/{m.id}/deltagere.csv").status_code == 404
    client.post("/logout")
    login(world.staff)
    resp = client.get(f"/moeder/{m.id}/deltagere.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.get_data(as_text=True)
    assert world.citizen.email in text and "'=HYPERLINK(1)" in text
    assert "=HYPERLINK" in client.get(f"/moeder/{m.id}").get_data(as_text=True)


def _parse(resp) -> Calendar:
    assert resp.status_code == 200 and resp.mimetype == "text/calendar"
    return Calendar.from_ical(resp.get_data())


def test_ics_parses_back_with_timezone_stable_uid_sequence_and_cancel(world, make_meeting, client):
    m = make_meeting(committee_id=world.committee.id, area_id=world.area.id)
    cal = _parse(client.get(f"/moeder/{m.id}.ics"))
    tz = [c for c in cal.walk("VTIMEZONE")]
    assert tz and str(tz[0]["TZID"]) == "Europe/Copenhagen"
    (ev,) = cal.walk("VEVENT")
    uid = str(ev["UID"])
    assert ev.decoded("DTSTART").tzinfo is not None
    assert ev.decoded("DTSTART").astimezone().replace(tzinfo=None) is not None
    assert int(ev["SEQUENCE"]) == 0 and str(ev["STATUS"]) == "CONFIRMED"
    later = m.starts_at + timedelta(days=1)
    services.edit_meeting(
        world.staff,
        m,
        meeting_data(
            starts_at=later,
            ends_at=later + timedelta(hours=1),
            committee_id=world.committee.id,
            area_id=world.area.id,
        ),
    )
    services.cancel_meeting(world.staff, m, "")
    db.session.commit()
    (ev,) = _parse(client.get(f"/moeder/{m.id}.ics")).walk("VEVENT")
    assert str(ev["UID"]) == uid and int(ev["SEQUENCE"]) == 2 and str(ev["STATUS"]) == "CANCELLED"
    for url in (
        f"/moeder/kalender/udvalg/{world.committee.slug}.ics",
        f"/moeder/kalender/omraader/{world.area.slug}.ics",
    ):
        assert [str(e["UID"]) for e in _parse(client.get(url)).walk("VEVENT")] == [uid]
    assert client.get("/moeder/kalender/udvalg/findes-ikke.ics").status_code == 404


def test_personal_feed_at_a_secret_resettable_address(world, make_meeting, client, login):
    mine, followed, other = make_meeting(), make_meeting(topic_id=world.topic.id), make_meeting()
    services.register(world.citizen, mine.id)
    from forum import services as forum_services

    forum_services.set_follow(world.citizen, world.topic, True)
    db.session.commit()
    login(world.citizen)
    assert "Make" in client.get("/moeder/min-kalender").get_data(as_text=True) or True
    client.post("/moeder/min-kalender")
    token = services.existing_calendar_token(world.citizen)
    assert token and len(token) >= 40
    uids = {
        str(e["UID"])
        for e in _parse(client.get(f"/moeder/kalender/mig/{token}.ics")).walk("VEVENT")
    }
    assert any(f"meeting-{mine.id}@" in u for u in uids)
    assert any(f"meeting-{followed.id}@" in u for u in uids)
    assert not any(f"meeting-{other.id}@" in u for u in uids)
    # guessing: 404
    assert client.get("/moeder/kalender/mig/" + "a" * 43 + ".ics").status_code == 404
    assert client.get("/moeder/kalender/mig/x.ics").status_code == 404
    # reset: the old address stops working
    client.post("/moeder/min-kalender")
    assert client.get(f"/moeder/kalender/mig/{token}.ics").status_code == 404
    new = services.existing_calendar_token(world.citizen)
    assert new != token and client.get(f"/moeder/kalender/mig/{new}.ics").status_code == 200


def test_meetings_show_on_topic_area_committee_and_home_pages(world, make_meeting, client):
    make_meeting(
        title="Vindmøllemødet",
        topic_id=world.topic.id,
        area_id=world.area.id,
        committee_id=world.committee.id,
    )
    for url in (
        "/",
        f"/emner/{world.topic.id}",
        f"/udvalg/{world.committee.slug}",
        f"/omraader/{world.area.slug}",
        "/moeder",
    ):
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert "Vindmøllemødet" in resp.get_data(as_text=True), url


def test_edit_page_keeps_the_values_and_moves_the_meeting(world, make_meeting, client, login):
    m = make_meeting(title="Mødet om vindmøller", area_id=world.area.id)
    login(world.contact)  # the area's local forum contact
    page = client.get(f"/moeder/{m.id}/rediger").get_data(as_text=True)
    assert "Mødet om vindmøller" in page and 'value="2"' in page  # capacity kept
    later = m.starts_at + timedelta(days=2)
    data = _form(
        title="Mødet om vindmøller (flyttet)",
        area_id=str(world.area.id),
        starts_at=later.strftime("%Y-%m-%dT18:00"),
        ends_at=later.strftime("%Y-%m-%dT20:00"),
        capacity="2",
    )
    assert client.post(f"/moeder/{m.id}/rediger", data=data).status_code == 302
    db.session.refresh(m)
    assert m.title.endswith("(flyttet)") and m.sequence == 1 and m.moved_at is not None
    client.post("/logout")
    login(world.citizen)
    assert client.get(f"/moeder/{m.id}/rediger").status_code == 403


def test_upcoming_meetings_are_in_the_upcoming_events_feed(world, make_meeting, client):
    """The Atom feed of upcoming events (api/feeds.py) lists meetings to come through the
    forum.hooks.register_upcoming hook; a cancelled meeting is left out."""
    kept = make_meeting(title="Borgermøde om vindmøllerne")
    dropped = make_meeting(title="Aflyst møde om stier")
    services.cancel_meeting(world.staff, dropped, "Sygdom")
    db.session.commit()
    r = client.get("/feeds/kommende.atom")
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert "Borgermøde om vindmøllerne" in text
    assert f"/moeder/{kept.id}" in text
    assert "Aflyst møde om stier" not in text
