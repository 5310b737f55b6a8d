"""Control characters (terminal escapes, bell, backspace) are dropped from what people type,
and exports stay clean even for rows stored before that (issue 12, item 26).

Tab and newline are kept; NUL is still refused with a 400 that gives the text back."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from forum.extensions import db
from forum.models import Post, Topic, User, utcnow
from forum.text import drop_controls

DIRTY = "\x1b[31mRød\x07\x08 titel"
CLEAN = "Rød titel"
# C0 controls and DEL other than the CR LF of line ends (and tab, allowed by RFC 5545).
BAD_IN_ICS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _ics_is_clean(body: str) -> None:
    assert body.endswith("\r\n")
    assert not BAD_IN_ICS.search(body.replace("\r\n", "")), repr(body)


def test_drop_controls_keeps_text_tab_and_newline():
    assert drop_controls(DIRTY) == CLEAN
    assert drop_controls("a\tb\r\nc\rd") == "a\tb\nc\nd"
    assert drop_controls("x\x1b]0;titel\x07y\x9b2Jz\x7f") == "xyz"
    assert drop_controls("æøå ÆØÅ 😀 – »citat«") == "æøå ÆØÅ 😀 – »citat«"
    assert drop_controls(None) is None


def test_a_qa_session_typed_with_escapes_is_stored_clean_and_its_ics_is_clean(
    client, login, make_user, make_committee
):
    committee = make_committee()
    admin = make_user("admin")
    politician = make_user("politician", committees=[committee])
    login(admin)
    start = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    end = (utcnow() + timedelta(days=2, hours=1)).strftime("%Y-%m-%dT%H:%M")
    r = client.post(
        "/spoergetid/ny",
        data={
            "title": DIRTY,
            "description": "Linje\x1b[0m et\tto\r\nLinje to\x07",
            "committee_id": str(committee.id),
            "area_id": "",
            "topic_id": "",
            "starts_at": start,
            "ends_at": end,
            "politician_ids": [str(politician.id)],
            "premoderated": "y",
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    from qa.models import QASession

    session = db.session.scalar(select(QASession).order_by(QASession.id.desc()))
    assert session.title == CLEAN
    assert session.description_source == "Linje et\tto\nLinje to"
    r = client.get(f"/spoergetid/{session.id}.ics")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    _ics_is_clean(body)
    assert f"SUMMARY:{CLEAN}\r\n" in body


def test_the_ics_of_a_session_stored_before_the_fix_is_clean(app, make_user, make_committee):
    """Rows written before input was cleaned (or by a path without a form) export clean."""
    from qa import ics
    from qa import services as qa

    committee = make_committee(name="Udvalg\x1b[1m for\x08 Klima")
    admin = make_user("admin")
    politician = make_user("politician", committees=[committee])
    now = utcnow()
    session = qa.schedule_session(
        admin,
        "Spørgetid",
        "Om klima",
        now + timedelta(days=1),
        now + timedelta(days=1, hours=1),
        [politician.id],
        committee_id=committee.id,
    )
    db.session.commit()
    session.title = DIRTY  # as an old row would hold it
    session.description_source = "Tekst\x07 med\tfane\x1b[0m"
    body = ics.session_calendar(session, "http://borgerdialog.test/spoergetid/1")
    _ics_is_clean(body)
    assert f"SUMMARY:{CLEAN}\r\n" in body
    assert "LOCATION:Udvalg for Klima" in body
    db.session.rollback()


def test_a_topic_a_post_and_a_display_name_typed_with_escapes_are_stored_clean(
    app, client, login, make_user, make_committee
):
    committee = make_committee()
    admin = make_user("admin")
    login(admin)
    r = client.post(
        "/emner/nyt",
        data={
            "title": "Skolevej\x1b[2J i\x07 Tølløse",
            "intro": "Første\x08 linje\r\n\r\n\tindrykket\x1b[0m",
            "committee_id": str(committee.id),
            "area_id": "",
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    topic = db.session.scalar(select(Topic).order_by(Topic.id.desc()))
    assert topic.title == "Skolevej i Tølløse"
    assert topic.intro_source == "Første linje\n\n\tindrykket"

    r = client.post(
        f"/emner/{topic.id}/indlaeg",
        data={"body": "Et\x1b[31m indlæg\x07\n\tmed fane\r\nog linjeskift\x0b"},
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    post = db.session.scalar(select(Post).order_by(Post.id.desc()))
    assert post.body_source == "Et indlæg\n\tmed fane\nog linjeskift"

    client.post("/logout")
    r = client.post(
        "/registrer",
        data={
            "email": "ny@example.dk",
            "display_name": "Mette\x1b[5m\x07 Hansen\x08",
            "password": "et-langt-kodeord",
            "confirm": "et-langt-kodeord",
            "accept": "y",
        },
    )
    # "Check your e-mail" (the same page whether or not the address had an account)
    assert r.status_code == 200, r.get_data(as_text=True)[:3000]
    user = db.session.scalar(select(User).where(User.email == "ny@example.dk"))
    assert user.display_name == "Mette Hansen"


def test_a_nul_byte_is_still_refused_with_the_text_given_back(client, login, make_user, make_topic):
    topic = make_topic()
    login(make_user())
    r = client.post(f"/emner/{topic.id}/indlaeg", data={"body": "før\x00efter\x07"})
    assert r.status_code == 400
    assert "føreftert" not in r.get_data(as_text=True)
    assert "førefter" in r.get_data(as_text=True)


def test_passwords_are_taken_as_typed(client, make_user):
    """A password is not text for others: it is compared as typed, control characters and
    all (dropping them would lock out anyone who has one)."""
    user = make_user(password="kode\x07ord-med-klokke")
    r = client.post("/login", data={"email": user.email, "password": "kode\x07ord-med-klokke"})
    assert r.status_code == 302


def test_every_form_drops_control_characters(app):
    """Every form of every package derives from BaseForm (a new one that derives from
    FlaskForm directly would let control characters through), and its text fields filter."""
    import importlib
    import inspect

    from flask_wtf import FlaskForm
    from wtforms import PasswordField, StringField

    from forum.forms import BaseForm

    forms = []
    for pkg in ("forum", "moderation", "search", "mail", "qa", "budgets"):
        module = importlib.import_module(f"{pkg}.forms")
        forms += [
            obj
            for _name, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, FlaskForm) and obj.__module__ == module.__name__
        ]
    assert len(forms) > 30
    assert [f.__name__ for f in forms if not issubclass(f, BaseForm)] == []

    checked = 0
    for form_class in forms:
        with app.test_request_context(method="POST", data={}):
            form = form_class()
        for field in form:
            if isinstance(field, StringField) and not isinstance(field, PasswordField):
                assert drop_controls in field.filters, (form_class.__name__, field.name)
                checked += 1
    assert checked > 40


def test_the_users_cli_stores_clean_names_and_lists_old_ones_clean(app, runner, make_user):
    r = runner.invoke(
        args=["users", "create", "cli@example.dk", "Ole\x1b[31m\x07 Olsen", "--password", "x" * 12]
    )
    assert r.exit_code == 0, r.output
    assert db.session.scalar(select(User.display_name).where(User.email == "cli@example.dk")) == (
        "Ole Olsen"
    )
    make_user(name="Gammel\x1b]0;hacked\x07 Række")  # as a row stored before the fix
    r = runner.invoke(args=["users", "list"])
    assert r.exit_code == 0, r.output
    assert "Gammel Række" in r.output
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", r.output), repr(r.output)
