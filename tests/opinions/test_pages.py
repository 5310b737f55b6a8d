"""The round's page for staff: the Pol.is download; the map's live fragment."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta

import pytest

from forum.extensions import db
from forum.models import utcnow
from opinions import services
from opinions.models import OpinionStatement, StatementState


@pytest.fixture
def rnd(staff, topic):
    r = services.open_round(
        staff, topic, "Hvad skal der ske med havnen?", utcnow() + timedelta(days=7),
        allow_anonymous=True, seeds=[f"Udsagn nummer {i}" for i in range(6)],
    )  # fmt: skip
    db.session.commit()
    return r


def _voted(rnd, make_user, n: int = 8):
    """``n`` people vote on the seeds; one of them writes a statement that is rejected and
    one writes one that waits; a formula-like seed is approved."""
    sts = list(
        db.session.scalars(
            db.select(OpinionStatement)
            .where(OpinionStatement.round_id == rnd.id)
            .order_by(OpinionStatement.id)
        )
    )
    t = utcnow() - timedelta(minutes=5)
    people = []
    for i in range(n):
        user = make_user(name=f"Deltager Navnesen {i}")
        p = services.participant_for(rnd, user=user)
        people.append((user, p))
        for j, st in enumerate(sts):
            services.cast_vote(rnd, p, st.id, "agree" if (i + j) % 2 else "disagree", t)
    rejected = OpinionStatement(
        round_id=rnd.id, body="Hemmeligt afvist udsagn", state=StatementState.REJECTED,
        author_participant_id=people[0][1].id,
    )  # fmt: skip
    waiting = OpinionStatement(
        round_id=rnd.id, body="Ventende udsagn", state=StatementState.PENDING,
        author_participant_id=people[1][1].id,
    )  # fmt: skip
    sts[0].body = "=HYPERLINK(1)"
    db.session.add_all([rejected, waiting])
    services.recompute(rnd)
    db.session.commit()
    return people


def _rows(zf: zipfile.ZipFile, name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(zf.read(name).decode("utf-8"))))


def test_staff_download_only_approved_statements_and_numbered_participants(
    client, login, rnd, staff, make_user
):
    people = _voted(rnd, make_user)
    login(staff)
    page = client.get(f"/holdninger/{rnd.id}").get_data(as_text=True)
    assert f"/holdninger/{rnd.id}/polis.zip" in page
    resp = client.get(f"/holdninger/{rnd.id}/polis.zip")
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    assert "attachment" in resp.headers["Content-Disposition"]
    zf = zipfile.ZipFile(io.BytesIO(resp.data))
    assert set(zf.namelist()) == {
        "comments.csv",
        "votes.csv",
        "participants-votes.csv",
        "README.txt",
    }
    everything = b"".join(zf.read(n) for n in zf.namelist()).decode("utf-8")
    assert "Hemmeligt" not in everything and "Ventende" not in everything
    assert "Navnesen" not in everything and staff.email not in everything
    comments = _rows(zf, "comments.csv")
    assert len(comments) == 1 + 6
    assert {row[6] for row in comments[1:]} == {"1"}  # moderated: shown
    assert "'=HYPERLINK(1)" in {row[7] for row in comments[1:]}
    votes = _rows(zf, "votes.csv")
    assert len(votes) == 1 + 8 * 6
    voters = {int(row[3]) for row in votes[1:]}
    assert voters == set(range(8))  # numbered anew, not our ids
    assert not voters & {p.id for _u, p in people if p.id >= 8}
    pv = _rows(zf, "participants-votes.csv")
    assert [int(r[0]) for r in pv[1:]] == list(range(8))
    assert all(r[1] != "" for r in pv[1:])  # each placed in a map group


def test_only_staff_download(client, login, rnd, make_user):
    assert client.get(f"/holdninger/{rnd.id}/polis.zip").status_code in (302, 401)
    citizen = make_user()
    login(citizen)
    assert client.get(f"/holdninger/{rnd.id}/polis.zip").status_code == 403
    assert "polis.zip" not in client.get(f"/holdninger/{rnd.id}").get_data(as_text=True)
    assert client.get("/holdninger/999999/polis.zip").status_code == 404


def test_map_fragments_follow_the_pages_rules(client, rnd, make_user, login, topic):
    """The fragments live.js fetches when the map is recomputed: the map's content and the
    voting page's summary, without rejected or waiting statements nor anyone's name."""
    _voted(rnd, make_user)
    page = client.get(f"/holdninger/{rnd.id}/kort").get_data(as_text=True)
    assert f"/holdninger/{rnd.id}/kort/indhold" in page and "data-opinion-map-live" in page
    frag = client.get(f"/holdninger/{rnd.id}/kort/indhold")
    assert frag.status_code == 200
    html = frag.get_data(as_text=True)
    assert "<svg" in html and "<html" not in html
    assert "Hemmeligt" not in html and "Ventende" not in html and "Navnesen" not in html
    voting = client.get(f"/holdninger/{rnd.id}").get_data(as_text=True)
    assert f'data-live-room="opinions:{rnd.id}"' in voting and "js/live.js" in voting
    summary = client.get(f"/holdninger/{rnd.id}/kort/resume").get_data(as_text=True)
    assert "8 participants are placed on the map" in summary and "<html" not in summary
    # who may not see the topic gets neither fragment
    from forum.models import TopicStatus

    topic.status = TopicStatus.PROPOSED
    db.session.commit()
    login(make_user())
    assert client.get(f"/holdninger/{rnd.id}/kort/indhold").status_code == 404
    assert client.get(f"/holdninger/{rnd.id}/kort/resume").status_code == 404
