"""The council report: who makes it, what it says (HTML, PDF, CSV, CLI), what it never says."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from forum.extensions import db
from outcomes import services as outcome_services
from reports import pdf, services
from reports.models import ReportDefinition

from .conftest import set_state


def define(world, **kw) -> ReportDefinition:
    args = {"title": "Erfaringsrapport: Kulturudvalget", "scope": "committee"}
    args["committee_id"] = world.topic.committee_id
    args.update(kw)
    d = services.create_definition(world.staff, **args)
    db.session.commit()
    return d


@pytest.fixture
def decided(world):
    outcome_services.add_update(
        world.politician,
        world.topic,
        status="decided",
        body="committee",
        text="Udvalget har besluttet at holde biblioteket åbent om aftenen.",
        decided_on=date.today(),
    )
    db.session.commit()


def test_who_makes_reports(world, client_for, make_user):
    for user, status in ((world.citizen, 403), (world.politician, 403), (world.staff, 200)):
        assert client_for(user).get("/rapporter").status_code == status
    d = define(world)
    assert client_for(world.politician).get(f"/rapporter/{d.id}").status_code == 403
    assert client_for(make_user("admin")).get(f"/rapporter/{d.id}").status_code == 200
    assert client_for(world.staff).get("/rapporter/99999").status_code == 404


def test_the_form_makes_a_definition_and_refuses_bad_input(world, client_for):
    staff = client_for(world.staff)
    r = staff.post(
        "/rapporter",
        data={"title": "Min rapport", "scope": "committee", "committee": "", "locale": "da"},
    )
    assert r.status_code == 400 and "Choose a committee." in r.text and "Min rapport" in r.text
    r = staff.post(
        "/rapporter",
        data={
            "title": "Min rapport",
            "scope": "platform",
            "period_start": "2026-12-01",
            "period_end": "2026-11-01",
            "locale": "da",
        },
    )
    assert r.status_code == 400 and "Choose a date on or after the start." in r.text
    r = staff.post(
        "/rapporter",
        data={
            "title": "Min rapport",
            "scope": "topic",
            "topic": str(world.topic.id),
            "locale": "en",
        },
    )
    assert r.status_code == 302
    d = db.session.get(ReportDefinition, int(r.headers["Location"].rsplit("/", 1)[1]))
    assert (d.scope.value, d.topic_id, d.locale) == ("topic", world.topic.id, "en")


def test_the_html_report(world, client_for, decided):
    d = define(world)
    page = client_for(world.staff).get(f"/rapporter/{d.id}").text
    assert "Erfaringsrapport: Kulturudvalget" in page and "Biblioteket" in page
    assert "Holbæk Kommune" in page and "Indhold" in page  # Danish by default, a contents list
    # quotes: citizens by their area, never by name; the politician by name
    assert "»Argument nummer 0 om biblioteket.«" in page
    assert "en borger fra Tølløse" in page and "Tølløse 0" not in page
    assert "Udvalget har besluttet at holde biblioteket åbent" in page
    english = client_for(world.staff).get(f"/rapporter/{d.id}?sprog=en").text
    assert "Contents" in english and "a citizen from Tølløse" in english


def test_the_pdf_has_title_figures_a_quote_and_the_outcome(world, client_for, decided):
    if not pdf.available():
        pytest.skip(pdf.INSTALL_HINT)
    d = define(world)
    r = client_for(world.staff).get(f"/rapporter/{d.id}/pdf")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(r.data))
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
    assert len(reader.pages) >= 2
    assert "Biblioteket" in text
    assert "Argument nummer 0 om biblioteket." in text
    assert "holde biblioteket åbent om aftenen" in text
    assert "9 deltagere" in text  # the figures
    assert "1 / " in text  # page numbers


def test_without_pango_the_page_says_what_to_install(world, client_for, monkeypatch):
    monkeypatch.setattr(pdf, "available", lambda: False)
    d = define(world)
    page = client_for(world.staff).get(f"/rapporter/{d.id}").text
    assert pdf.INSTALL_HINT in page and f"/rapporter/{d.id}/pdf" not in page
    r = client_for(world.staff).get(f"/rapporter/{d.id}/pdf")
    assert r.status_code == 503 and pdf.INSTALL_HINT in r.text


def test_the_csv_appendix(world, client_for):
    d = define(world, locale="en")
    r = client_for(world.staff).get(f"/rapporter/{d.id}/csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    text = r.data.decode("utf-8-sig")
    assert "Participation,All topics,Participants,,9" in text
    assert "Topics,Biblioteket,People by stance,For,5" in text
    assert "People by local area,Tølløse,6" in text and "Orø" not in text


def test_hidden_content_never_appears(world, client_for):
    for post, state in zip(world.posts[:3], ("hidden", "pending", "rejected"), strict=True):
        set_state(post, state)
    d = define(world)
    staff = client_for(world.staff)
    texts = [staff.get(f"/rapporter/{d.id}").text, staff.get(f"/rapporter/{d.id}/csv").text]
    if pdf.available():
        reader = PdfReader(io.BytesIO(staff.get(f"/rapporter/{d.id}/pdf").data))
        texts.append(" ".join(p.extract_text() or "" for p in reader.pages))
    for text in texts:
        for i in range(3):
            assert f"Argument nummer {i} " not in text


def test_an_empty_period_says_so(world, client_for):
    long_ago = date.today() - timedelta(days=3650)
    d = define(world, period_start=long_ago, period_end=long_ago + timedelta(days=30))
    page = client_for(world.staff).get(f"/rapporter/{d.id}?sprog=en").text
    assert "Nothing was written in this period" in page


def test_the_cli_makes_a_report_with_a_progress_bar(world, app, tmp_path):
    out = tmp_path / "r.html"
    slug = world.topic.committee.slug
    result = app.test_cli_runner().invoke(
        args=["reports", "make", "--committee", slug, "--format", "html", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Report" in result.output and "1 topics" in result.output
    html = out.read_text("utf-8")
    assert "Biblioteket" in html and "<style>" in html


def test_qa_sessions_count_published_questions_and_the_share_answered(world, client_for, app):
    from datetime import timedelta

    from forum.models import Role, utcnow
    from qa import services as qa

    app.config["MODERATION_ENABLED"] = False
    mod = world.staff
    mod.role = Role.MODERATOR  # sessions are run by moderators
    db.session.commit()
    now = utcnow()
    session = qa.schedule_session(
        mod,
        "Spørgetid om biblioteket",
        "Spørg løs.",
        now + timedelta(minutes=5),
        now + timedelta(hours=1),
        [world.politician.id],
        committee_id=world.topic.committee_id,
        premoderated=False,
    )
    qa.start_session(mod, session)
    db.session.commit()
    asked = [qa.ask(world.posts[i].author, session, f"Spørgsmål nummer {i}?") for i in range(3)]
    db.session.commit()
    qa.answer(world.politician, session, asked[0].id, "Svar på det første.")
    set_state(asked[2], "hidden")  # a hidden question never counts
    d = define(world, locale="en")
    page = client_for(world.staff).get(f"/rapporter/{d.id}").text
    row = page.split("Spørgetid om biblioteket</th>")[1].split("</tr>")[0]
    assert [c.split("<")[0] for c in row.split("<td>")[2:]] == ["2", "1", "50 %"]


def test_citizen_budgets_count_published_ideas(world, client_for, make_user, app):
    from budgets import services as budgets

    app.config["MODERATION_ENABLED"] = True  # ideas wait for review
    admin = make_user("admin")
    process = budgets.create_process(
        admin,
        title="Borgerbudget Tølløse",
        total_amount=100_000,
        committee_id=world.topic.committee_id,
    )
    budgets.advance_phase(admin, process)
    db.session.commit()
    budgets.propose_idea(world.citizen, process, "VENTENDE idé", "Venter på en moderator.", 1000)
    db.session.commit()
    d = define(world, locale="en")
    page = client_for(world.staff).get(f"/rapporter/{d.id}").text
    section = page.split('id="r-budgets"')[1].split("</section>")[0]
    assert "Borgerbudget Tølløse" in section and "0 ideas" in section
    assert "VENTENDE" not in page
