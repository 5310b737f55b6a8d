"""A real server process and python-socketio clients (tests/live/server.py, the live
fixtures): a citizen asks, a moderator approves, three citizens vote, the moderator pins,
a politician answers; each client's view of the session is asserted after each step, and a
client that disconnects and reconnects mid-session catches up through the replay."""

from __future__ import annotations

import html
import re
import time

import requests

from tests.live.conftest import (  # noqa: F401  (fixtures)
    World,
    cookie_header,
    http_login,
    live_client,
    start_server,
)

from .server_world import world  # noqa: F401  (the fixture start_server serves)

ITEM = re.compile(
    r'<li class="(qa-question|qa-answer|qa-statement)[^"]*" id="\w(\d+)"'
    r'(?: data-post-id="\d+")?(?: data-votes="(\d+)")?'
)
BODY = re.compile(r'<div class="post-body">(.*?)</div>', re.S)


class View:
    """One client's picture of the session, kept up to date the way qa.js does: counts
    from the messages, text from the fragment route (with this client's cookies)."""

    def __init__(self, base_url: str, w: World, http: requests.Session | None, client):
        self.base, self.w, self.http, self.client = base_url, w, http or requests.Session(), client
        self.questions: dict[int, dict] = {}
        self.pinned: int | None = None
        sid = w.ids["session"]
        page = self.http.get(f"{base_url}/spoergetid/{sid}", timeout=10).text
        for kind, pid, votes in ITEM.findall(page.split('id="qa-questions"')[1]):
            if kind == "qa-question":
                self._question(int(pid), int(votes), page)
        m = re.search(r'<a href="#q(\d+)">', page.split('id="qa-banner"')[1].split("</section>")[0])
        self.pinned = int(m.group(1)) if m else None

    def _question(self, pid: int, votes: int, page: str) -> None:
        chunk = page.split(f'id="q{pid}"', 1)[1]
        text = html.unescape(re.sub("<[^>]+>", "", BODY.search(chunk).group(1))).strip()
        answers = (
            re.findall(r'id="a(\d+)"', chunk.split("</ol>", 1)[0])
            if 'class="qa-answers"' in chunk
            else []
        )
        self.questions[pid] = {
            "votes": votes,
            "text": text,
            "answers": [self._answer_text(int(a)) for a in answers],
        }

    def _fragment(self, pid: int) -> str | None:
        r = self.http.get(
            f"{self.base}/spoergetid/{self.w.ids['session']}/indslag/{pid}", timeout=10
        )
        return r.text if r.status_code == 200 else None

    def _answer_text(self, pid: int) -> str:
        frag = self._fragment(pid)
        return html.unescape(re.sub("<[^>]+>", "", BODY.search(frag).group(1))).strip()

    def apply(self, msg: dict) -> None:
        kind = msg["kind"]
        if kind == "qa_votes" and msg["post_id"] in self.questions:
            self.questions[msg["post_id"]]["votes"] = msg["votes"]
        elif kind == "qa_pinned":
            self.pinned = msg["pinned_post_id"]
        elif kind.startswith("qa_"):
            return
        elif msg.get("topic_id") == self.w.ids["topic"] and msg.get("post_id"):
            pid = msg["post_id"]
            frag = self._fragment(pid)
            if frag is None:
                self.questions.pop(pid, None)
            elif "qa-question" in frag.split(">", 1)[0]:
                votes = int(re.search(r'data-votes="(\d+)"', frag).group(1))
                self._question(pid, votes, frag)
            elif "qa-answer" in frag.split(">", 1)[0] and msg.get("parent_id") in self.questions:
                text = self._answer_text(pid)
                answers = self.questions[msg["parent_id"]]["answers"]
                if text not in answers:
                    answers.append(text)

    def pump(self, until, timeout: float = 10.0) -> None:
        """Apply messages as they come until ``until(self)`` holds."""
        deadline = time.monotonic() + timeout
        while not until(self):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"view never got there: {self.state()}")
            try:
                name, payload = self.client.next(timeout=left)
            except AssertionError:
                continue
            if name == "live":
                self.apply(payload)
            elif name == "joined":
                for msg in payload["events"]:
                    self.apply(msg)

    def state(self) -> dict:
        order = sorted(self.questions, key=lambda p: (-self.questions[p]["votes"], p))
        return {
            "order": order,
            "votes": {p: q["votes"] for p, q in self.questions.items()},
            "pinned": self.pinned,
            "answers": {p: q["answers"] for p, q in self.questions.items()},
            "texts": {p: q["text"] for p, q in self.questions.items()},
        }


def test_live_session_with_real_clients(start_server, world, live_client, http_login):  # noqa: F811
    server = start_server("threading", MODERATION_ENABLED=True)
    base, sid, topic = server.url, world.ids["session"], world.ids["topic"]
    rooms = [f"qa:{sid}", f"topic:{topic}"]
    first = world.ids["first"]

    def connect(key: str | None, extra: list[str] = ()):
        http = http_login(base, world.emails[key]) if key else None
        client = live_client([*rooms, *extra], cookie=cookie_header(http) if http else None)
        client.connect(base)
        client.next("joined")
        return View(base, world, http, client)

    asker = connect("citizen0", [f"user:{world.ids['citizen0']}"])
    staff = connect("staff", ["moderators"])
    pol = connect("politician")
    voters = [connect(f"citizen{i}") for i in (1, 2, 3)]
    anon = connect(None)
    everyone = [asker, staff, pol, *voters, anon]
    for v in everyone:
        assert v.state()["order"] == [first] and v.state()["pinned"] is None

    # 1. A citizen asks: held, seen by the asker and the moderator only.
    r = asker.http.post(
        f"{base}/spoergetid/{sid}/spoerg",
        data={"body": "Hvornår kommer cykelstien til Tølløse?", "nonce": "r1"},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302
    q = int(r.headers["Location"].rsplit("#q", 1)[1])
    for v in (asker, staff):
        v.pump(lambda v: q in v.questions)
    for v in (pol, *voters, anon):
        v.client.drain(0.5)
        assert q not in v.questions
    # 2. The moderator approves: everyone sees it, after the older question with a vote.
    r = staff.http.post(
        f"{base}/spoergetid/{sid}/spoergsmaal/{q}/moderer",
        data={"action": "approve"},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302
    for v in everyone:
        v.pump(lambda v: q in v.questions)
        assert v.state()["order"] == [first, q]
        assert v.questions[q]["text"] == "Hvornår kommer cykelstien til Tølløse?"

    # One watcher drops off here and comes back after the answer.
    away = voters[2]
    away.client.close()
    # 3. Three citizens vote (through their own sockets; one of them is the one away).
    for v in voters[:2]:
        v.client.sio.emit("qa_vote", {"session_id": sid, "post_id": q, "vote": True})
    third = http_login(base, world.emails["citizen4"])
    r = third.post(
        f"{base}/spoergetid/{sid}/spoergsmaal/{q}/stem",
        data={"vote": "1"},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302
    present = [v for v in everyone if v is not away]
    for v in present:
        v.pump(lambda v: v.questions[q]["votes"] == 3)
        assert v.state()["order"] == [q, first]
    # Voting twice: an error event, nothing changes.
    voters[0].client.sio.emit("qa_vote", {"session_id": sid, "post_id": q, "vote": True})
    assert voters[0].client.next("error")["code"] == "conflict"
    # 4. The moderator pins it: the banner for everyone.
    r = staff.http.post(
        f"{base}/spoergetid/{sid}/fastgoer",
        data={"post_id": str(q)},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302
    for v in present:
        v.pump(lambda v: v.pinned == q)
    # 5. The politician answers: everyone sees the answer.
    r = pol.http.post(
        f"{base}/spoergetid/{sid}/spoergsmaal/{q}/svar",
        data={"body": "Til foråret.", "nonce": "a1"},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302
    for v in present:
        v.pump(lambda v: v.questions[q]["answers"] == ["Til foråret."])

    # The one who was away reconnects with its last event id: nothing is lost.
    back = live_client(rooms, last_event_id=away.client.last_event_id)
    back.seen = list(away.client.seen)
    back.connect(base)
    away.client = back
    away.pump(lambda v: v.pinned == q and v.questions[q]["answers"] == ["Til foråret."])
    expected = anon.state()
    assert expected["votes"] == {first: 1, q: 3} and expected["order"] == [q, first]
    for v in everyone:
        assert v.state() == expected
