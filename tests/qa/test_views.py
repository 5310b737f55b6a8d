"""Pages and forms without JavaScript (CSRF is off in tests; every form carries its token),
and the same forms as qa.js sends them (JSON answers)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Notification, Post, PostState, utcnow
from qa import services
from qa.models import QASession, QAVote, SessionState

from .conftest import approved_question

JSON = {"X-Requested-With": "fetch"}


def url(world, rest: str = "") -> str:
    return f"/spoergetid/{world.session.id}{rest}"


def test_session_page_for_everyone(world, client_for):
    q = approved_question(world)
    anon = client_for(None)
    r = anon.get(url(world))
    assert r.status_code == 200
    assert "Hvornår kommer cykelstien" in r.text and f'id="q{q.id}"' in r.text
    assert "/login" in r.text and 'data-qa-form="ask"' not in r.text
    assert 'name="csrf_token"' not in r.text.split('id="qa-questions"')[1]  # no vote forms


def test_ask_vote_and_answer_without_javascript(world, client_for):
    citizen = client_for(world.citizen)
    page = citizen.get(url(world)).text
    assert 'data-qa-form="ask"' in page and 'name="csrf_token"' in page
    r = citizen.post(
        url(world, "/spoerg"), data={"body": "Hvad koster den nye skole?", "nonce": "n1"}
    )
    assert r.status_code == 302
    post = db.session.scalar(select(Post).order_by(Post.id.desc()))
    assert post.state == PostState.PENDING
    page = citizen.get(r.headers["Location"]).text
    assert "Hvad koster den nye skole?" in page and "moderator" in page.lower()
    # A double-submitted form makes one question.
    citizen.post(url(world, "/spoerg"), data={"body": "Hvad koster den nye skole?", "nonce": "n1"})
    assert db.session.scalar(select(func.count(Post.id))) == 1

    staff = client_for(world.staff)
    r = staff.post(url(world, f"/spoergsmaal/{post.id}/moderer"), data={"action": "approve"})
    assert r.status_code == 302
    other = client_for(world.citizens[1])
    r = other.post(url(world, f"/spoergsmaal/{post.id}/stem"), data={"vote": "1"})
    assert r.status_code == 302
    assert db.session.get(QAVote, (post.id, world.citizens[1].id)) is not None
    pol = client_for(world.politician)
    page = pol.get(url(world)).text
    assert f'action="/spoergetid/{world.session.id}/spoergsmaal/{post.id}/svar"' in page
    r = pol.post(
        url(world, f"/spoergsmaal/{post.id}/svar"),
        data={"body": "Omkring 200 mio. kr.", "nonce": "a1"},
    )
    assert r.status_code == 302
    assert "Omkring 200 mio. kr." in other.get(url(world)).text


def test_bad_input_keeps_the_text_and_changes_nothing(world, client_for):
    citizen = client_for(world.citizen)
    r = citizen.post(url(world, "/spoerg"), data={"body": "For kort", "nonce": "x"})
    assert r.status_code == 400
    assert "For kort</textarea>" in r.text and 'aria-invalid="true"' in r.text
    assert db.session.scalar(select(func.count(Post.id))) == 0
    q = approved_question(world, world.citizens[1])
    citizen.post(url(world, f"/spoergsmaal/{q.id}/stem"), data={"vote": "1"})
    r = citizen.post(url(world, f"/spoergsmaal/{q.id}/stem"), data={"vote": "1"})
    assert r.status_code == 409 and 'role="alert"' in r.text
    assert db.session.scalar(select(func.count()).select_from(QAVote)) == 1
    r = citizen.post(url(world, f"/spoergsmaal/{q.id}/stem"), data={"vote": "maybe"})
    assert r.status_code == 400
    r = citizen.post(url(world, f"/spoergsmaal/{q.id}/svar"), data={"body": "Mit svar"})
    assert r.status_code == 403 and "Mit svar</textarea>" in r.text
    r = citizen.post(url(world, "/spoergsmaal/999999/stem"), data={"vote": "1"})
    assert r.status_code == 404
    r = client_for(world.staff).post(
        url(world, f"/spoergsmaal/{q.id}/flet"), data={"into_id": str(q.id)}
    )
    assert r.status_code == 400
    assert (
        client_for(None).post(url(world, "/spoerg"), data={"body": "x" * 20}).status_code == 302
    )  # to the login page
    assert client_for(None).get("/spoergetid/999999").status_code == 404


def test_json_answers_for_qa_js(world, client_for):
    citizen = client_for(world.citizen)
    r = citizen.post(url(world, "/spoerg"), data={"body": "kort", "nonce": "j1"}, headers=JSON)
    assert r.status_code == 400 and r.json["ok"] is False and "body" in r.json["fields"]
    r = citizen.post(
        url(world, "/spoerg"),
        data={"body": "Et ordentligt spørgsmål her.", "nonce": "j2"},
        headers=JSON,
    )
    assert r.status_code == 200 and r.json["ok"] and r.json["state"] == "pending"
    q = approved_question(world, world.citizens[1])
    r = citizen.post(url(world, f"/spoergsmaal/{q.id}/stem"), data={"vote": "1"}, headers=JSON)
    assert r.json == {"ok": True, "message": r.json["message"], "votes": 1, "voted": True}
    r = citizen.post(url(world, f"/spoergsmaal/{q.id}/stem"), data={"vote": "1"}, headers=JSON)
    assert r.status_code == 409 and r.json["ok"] is False and r.json["message"]


def test_moderator_tools_and_banner(world, client_for, rules):
    staff = client_for(world.staff)
    pending = services.ask(world.citizens[1], world.session, "Et spørgsmål der skal afvises.")
    db.session.commit()
    r = staff.post(url(world, f"/spoergsmaal/{pending.id}/moderer"), data={"action": "reject"})
    assert r.status_code == 400 and db.session.get(Post, pending.id).state == PostState.PENDING
    rule = next(iter(rules.values()))
    r = staff.post(
        url(world, f"/spoergsmaal/{pending.id}/moderer"),
        data={"action": "reject", "rule_id": str(rule.id), "text": "Uden for emnet"},
    )
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Post, pending.id).state == PostState.REJECTED
    q = approved_question(world)
    assert staff.post(url(world, "/fastgoer"), data={"post_id": str(q.id)}).status_code == 302
    page = client_for(None).get(url(world)).text
    banner = page.split('id="qa-banner"')[1].split("</section>")[0]
    assert "Hvornår kommer cykelstien" in banner and " hidden" not in banner.split(">")[0]
    assert (
        staff.post(
            url(world, f"/spoergsmaal/{q.id}/status"), data={"status": "answered"}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert world.session.pinned_post_id is None
    assert (
        client_for(world.citizen)
        .post(url(world, "/fastgoer"), data={"post_id": str(q.id)})
        .status_code
        == 403
    )


def test_start_end_and_lazy_end(world, client_for, make_session):
    staff = client_for(world.staff)
    later = make_session(world.staff, [world.politician], live=False, title="Senere spørgetid")
    page = staff.get(f"/spoergetid/{later.id}").text
    assert "Start the session" in page or "Start spørgetiden" in page
    assert staff.post(f"/spoergetid/{later.id}/start").status_code == 302
    assert staff.post(f"/spoergetid/{later.id}/start").status_code == 409
    assert staff.post(f"/spoergetid/{later.id}/afslut").status_code == 302
    db.session.expire_all()
    assert db.session.get(QASession, later.id).state == SessionState.ENDED
    world.session.ends_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    client_for(None).get(url(world))
    db.session.expire_all()
    assert db.session.get(QASession, world.session.id).state == SessionState.ENDED


def test_schedule_and_edit_forms(world, client_for, make_committee):
    assert client_for(world.citizen).get("/spoergetid/ny").status_code == 403
    staff = client_for(world.staff)
    assert staff.get("/spoergetid/ny").status_code == 200
    committee = make_committee()
    start = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    end = (utcnow() + timedelta(days=2, hours=1)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "title": "Spørgetid om havnen",
        "description": "Kom og spørg om havnen.",
        "committee_id": str(committee.id),
        "starts_at": start,
        "ends_at": end,
        "politician_ids": [str(world.politician.id)],
        "premoderated": "y",
        "advance_questions": "y",
    }
    r = staff.post("/spoergetid/ny", data={**data, "politician_ids": []})
    assert r.status_code == 400 and "Spørgetid om havnen" in r.text
    r = staff.post("/spoergetid/ny", data=data)
    assert r.status_code == 302
    s = db.session.scalar(select(QASession).where(QASession.title == "Spørgetid om havnen"))
    assert s.premoderated and s.state == SessionState.SCHEDULED
    r = staff.get(f"/spoergetid/{s.id}/rediger")
    assert r.status_code == 200 and "Spørgetid om havnen" in r.text
    r = staff.post(f"/spoergetid/{s.id}/rediger", data={**data, "title": "Spørgetid om havnen II"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(QASession, s.id).title == "Spørgetid om havnen II"


def test_signup(world, client_for, make_session):
    later = make_session(world.staff, [world.politician], live=False, title="Senere spørgetid")
    citizen = client_for(world.citizen)
    assert (
        "Remind me" in citizen.get(f"/spoergetid/{later.id}").text
        or "Påmind" in citizen.get(f"/spoergetid/{later.id}").text
    )
    assert citizen.post(f"/spoergetid/{later.id}/paamind", data={"on": "1"}).status_code == 302
    assert 'name="on" value="0"' in citizen.get(f"/spoergetid/{later.id}").text


def test_lists_on_index_home_places_and_topics(world, client_for, make_topic, make_session):
    related = make_topic(title="Budget 2027 for Holbæk")
    s = make_session(
        world.staff,
        [world.politician],
        live=False,
        topic_id=related.id,
        title="Spørgetid om budgettet",
    )
    anon = client_for(None)
    for path in (
        "/spoergetid/",
        "/",
        f"/udvalg/{world.session.committee.slug}",
        f"/emner/{related.id}",
        f"/emner/{world.session.debate_topic_id}",
    ):
        r = anon.get(path)
        assert r.status_code == 200, path
    assert "Spørgetid om budgettet" in anon.get(f"/emner/{related.id}").text
    assert f"/emner/{related.id}" in anon.get(f"/spoergetid/{s.id}").text
    assert "Spørgetid efter byrådsmødet" in anon.get("/").text
    assert "/spoergetid/" in anon.get("/").text  # the navigation link


def test_forum_topic_page_of_a_session_refuses_posts(world, client_for):
    q = approved_question(world)
    other = client_for(world.citizens[1])
    topic_page = other.get(f"/emner/{world.session.debate_topic_id}").text
    assert f'action="/emner/{world.session.debate_topic_id}/indlaeg"' not in topic_page
    r = other.post(
        f"/emner/{world.session.debate_topic_id}/indlaeg",
        data={"body": "Udenom reglerne", "parent_id": str(q.id)},
    )
    assert r.status_code == 403 and "Udenom reglerne" in r.text
    r = other.post(f"/indlaeg/{q.id}/stoet")
    assert r.status_code == 403
    assert db.session.scalar(select(func.count(Post.id))) == 1


def test_ics(world, client_for):
    world.session.title = "Spørgetid; budget, skoler og \\ veje"
    db.session.commit()
    r = client_for(None).get(url(world, ".ics"))
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/calendar")
    body = r.data.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert "\n" not in body.replace("\r\n", "")
    unfolded = body.replace("\r\n ", "")
    assert "SUMMARY:Spørgetid\\; budget\\, skoler og \\\\ veje\r\n" in unfolded
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    # Parsed back (made with the icalendar library): local time with its VTIMEZONE.
    from datetime import UTC

    from icalendar import Calendar

    cal = Calendar.from_ical(r.data)
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Copenhagen"]
    (ev,) = cal.walk("VEVENT")
    assert str(ev["UID"]).startswith(f"qa-{world.session.id}@")
    starts = ev.decoded("DTSTART").astimezone(UTC).replace(tzinfo=None)
    assert starts == world.session.starts_at.replace(microsecond=0)
    assert str(ev["SUMMARY"]) == "Spørgetid; budget, skoler og \\ veje"


def test_merge_notification_on_the_notifications_page(world, client_for):
    a = approved_question(world, world.citizens[0], "Hvornår kommer cykelstien til Tølløse?")
    b = approved_question(world, world.citizens[1], "Kommer der en cykelsti i Tølløse?")
    r = client_for(world.staff).post(
        url(world, f"/spoergsmaal/{b.id}/flet"), data={"into_id": str(a.id)}
    )
    assert r.status_code == 302
    assert db.session.scalar(select(Notification).where(Notification.kind == "qa_merged"))
    page = client_for(world.citizens[1]).get("/notifikationer").text
    assert "qa_merged" not in page and f"/indlaeg/{a.id}" in page
    assert "også stillet af" in client_for(None).get(url(world)).text  # "also asked by"


def test_profiles_show_questions_and_answers(world, client_for):
    q = approved_question(world)
    services.answer(world.politician, world.session, q.id, "Svaret står på profilen.")
    db.session.commit()
    anon = client_for(None)
    assert "Hvornår kommer cykelstien" in anon.get(f"/profil/{world.citizen.id}").text
    assert "Svaret står på profilen." in anon.get(f"/profil/{world.politician.id}").text


def test_projector_needs_no_login_and_shows_the_answer(world, client_for):
    q = approved_question(world)
    services.pin(world.staff, world.session, q.id)
    services.answer(world.politician, world.session, q.id, "Vi begynder til foråret.")
    approved_question(world, world.citizens[2], "Hvad med fortovene i Jyderup by?")
    db.session.commit()
    r = client_for(None).get(url(world, "/projektor"))
    assert r.status_code == 200 and 'class="projector"' in r.text
    now = r.text.split('class="pj-now"')[1].split("</section>")[0]
    assert "Hvornår kommer cykelstien" in now and "Vi begynder til foråret." in now
    waiting = r.text.split('class="pj-waiting"')[1]
    assert "fortovene i Jyderup" in waiting and "cykelstien" not in waiting


def test_sort_by_votes_or_newest(world, client_for):
    import re

    a = approved_question(world, world.citizens[0], "Det første spørgsmål om vejene.")
    b = approved_question(world, world.citizens[1], "Det andet spørgsmål om skolerne.")
    services.set_vote(world.citizens[2], world.session, a.id, True)
    db.session.commit()
    anon = client_for(None)

    def order(query: str) -> list[int]:
        page = anon.get(url(world, query)).text.split('id="qa-questions"')[1]
        return [int(x) for x in re.findall(r'<li class="qa-question[^"]*" id="q(\d+)"', page)]

    assert order("") == [a.id, b.id]
    assert order("?sort=newest") == [b.id, a.id]
    assert order("?sort=nonsense") == [a.id, b.id]


def test_suspended_user_watches_but_cannot_act(world, client_for):
    from moderation import services as moderation_services

    q = approved_question(world)
    moderation_services.suspend_user(world.staff, world.citizens[1], "Grove personangreb")
    db.session.commit()
    c = client_for(world.citizens[1])
    page = c.get(url(world))
    assert page.status_code == 200 and "Hvornår kommer cykelstien" in page.text
    assert 'data-qa-form="ask"' not in page.text
    r = c.post(url(world, "/spoerg"), data={"body": "Et spørgsmål alligevel her."})
    assert r.status_code == 403
    r = c.post(url(world, f"/spoergsmaal/{q.id}/stem"), data={"vote": "1"})
    assert r.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(QAVote)) == 0


def test_the_related_topic_still_takes_posts(world, client_for, make_topic, make_session):
    related = make_topic(title="Budget 2027 for Holbæk")
    make_session(
        world.staff,
        [world.politician],
        live=False,
        topic_id=related.id,
        title="Spørgetid om budgettet",
    )
    c = client_for(world.citizen)
    page = c.get(f"/emner/{related.id}").text
    assert f'action="/emner/{related.id}/indlaeg"' in page
    r = c.post(f"/emner/{related.id}/indlaeg", data={"body": "Et almindeligt indlæg."})
    assert r.status_code == 302
