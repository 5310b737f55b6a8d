from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from dataclasses import dataclass

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from sqlalchemy import select

from .. import hooks, live, permissions, queries, services, uow
from ..cache import ThreadView, TTLCache
from ..converters import parse_id
from ..errorpages import render_error
from ..errors import Conflict, InvalidInput, PermissionDenied
from ..extensions import db, limiter
from ..forms import (
    EditPostForm,
    EmptyForm,
    PostForm,
    ProposalDecisionForm,
    TopicForm,
    TopicStatusForm,
    choices,
    new_nonce,
)
from ..localtime import to_utc
from ..models import Area, Committee, Post, PostState, Role, Support, Topic, TopicStatus
from . import apply_errors, bp, int_arg


def _topic_or_404(topic_id: int) -> Topic:
    topic = queries.topic_with_place(topic_id)
    if topic is None or not permissions.can_see_topic(current_user, topic):
        abort(404)
    return topic


def _post_or_404(post_id: int) -> Post:
    post = db.session.get(Post, post_id)
    if post is None or not permissions.can_see_topic(current_user, post.topic):
        abort(404)
    return post


def _post_limit() -> str:
    return current_app.config["RATELIMIT_POST"]


def _refuse_if_blocked() -> None:
    """A write form's own page for someone who may write nothing now (suspended): 403 with
    the reason, as the service would answer the form (its links are not shown to them)."""
    reason = permissions.write_block(current_user)
    if reason:
        raise PermissionDenied(reason)


@bp.route("/emner/nyt", methods=["GET", "POST"])
@login_required
def new_topic():
    _refuse_if_blocked()
    form = TopicForm()
    form.committee_id.choices = choices(
        [("", _("— none —"))]
        + [
            (str(c.id), c.name)
            for c in db.session.scalars(
                select(Committee)
                .where(Committee.archived_at.is_(None))
                .order_by(Committee.position, Committee.name)
            )
        ]
    )
    form.area_id.choices = choices(
        [("", _("— none —"))]
        + [
            (str(a.id), a.name)
            for a in db.session.scalars(
                select(Area).where(Area.archived_at.is_(None)).order_by(Area.position, Area.name)
            )
        ]
    )
    if request.method == "GET":
        form.committee_id.data = request.args.get("udvalg", "")
        form.area_id.data = request.args.get("omraade", "")
    if form.validate_on_submit():
        with uow.saving(form) as saved:
            topic = services.create_topic(
                current_user._get_current_object(),
                form.title.data,
                form.intro.data,
                committee_id=int(form.committee_id.data) if form.committee_id.data else None,
                area_id=int(form.area_id.data) if form.area_id.data else None,
                deadline=to_utc(form.deadline.data),
            )
        if not saved.ok:
            if not saved.placed:
                form.title.errors = [*form.title.errors, saved.error.message]
        else:
            if topic.status == TopicStatus.PROPOSED:
                flash(
                    _(
                        "Thank you! Your proposal waits for a moderator; until then only "
                        "you can see it."
                    ),
                    "success",
                )
            else:
                flash(_("The topic is open."), "success")
            return redirect(url_for("forum.topic", topic_id=topic.id))
    status = 400 if form.errors else 200
    return render_template("forum/topic_form.html", form=form), status


# Rendered thread pages for anonymous readers, who all see the same page. The key holds
# the newest event of the topic's room, so any change to the thread makes a new key; the
# TTL bounds how long a renamed author or changed badge can stay stale.
def _anonymous_threads() -> TTLCache:
    return current_app.extensions.setdefault(
        "borgerdialog.anonymous_threads", TTLCache(maxsize=256, ttl=60)
    )


def _page_args(topic: Topic, sort: str, stance: str | None, page: int = 1) -> dict:
    """The query arguments of a page of the thread (page 1 and the defaults left out)."""
    args: dict = {"topic_id": topic.id}
    if sort != "oldest":
        args["sort"] = sort
    if stance:
        args["holdning"] = stance
    if page > 1:
        args["side"] = page
    return args


def _page_sizes() -> dict:
    cfg = current_app.config
    return {
        "display_depth": cfg["THREAD_DISPLAY_DEPTH"],
        "max_roots": cfg["THREAD_PAGE_ROOTS"],
        "max_posts": cfg["THREAD_PAGE_POSTS"],
    }


def _subtree_ids(nodes) -> list[int]:
    """The ids of ``nodes`` and everything below them (the posts a page may show)."""
    out: list[int] = []
    stack = list(nodes)
    while stack:
        node = stack.pop()
        out.append(node.post.id)
        stack.extend(node.children)
    return out


def _thread_view(
    topic: Topic,
    sort: str,
    stance: str | None,
    can_post: bool,
    page: int,
    room_last: int | None = None,
    viewer: queries.ViewerInTopic | None = None,
    marked: bool = False,
) -> ThreadView:
    anonymous = not current_user.is_authenticated
    if not anonymous:
        shared = _shared_thread(topic, sort, stance, can_post, page, room_last, viewer, marked)
        if shared is not None:
            return shared
    key = None
    if anonymous:
        key = (
            topic.id,
            queries.last_event_id(f"topic:{topic.id}") if room_last is None else room_last,
            str(get_locale()),
            sort,
            stance,
            page,
            current_app.config["THREAD_PAGE_ROOTS"],
            current_app.config["THREAD_PAGE_POSTS"],
        )
        cached = _anonymous_threads().get(key)
        if cached is not None:
            return cached
    thread = queries.load_thread_page(
        topic,
        current_user,
        sort=sort,
        stance=stance,
        page=page,
        **_page_sizes(),
    )
    html = Markup("")
    if thread.roots:
        html = Markup(
            render_template(
                "forum/_thread.html",
                nodes=thread.roots,
                thread=thread,
                topic=topic,
                base_depth=0,
                can_post=can_post,
                # Notes of other packages on the page's posts (outcomes' citations): the
                # same queries for the page, however many posts it shows.
                citations=hooks.post_citations(topic.id, thread.shown_ids),
            )
        )
    view = ThreadView(html, thread.total_visible, thread.stance_counts, thread.page, thread.pages)
    if key is not None:
        _anonymous_threads().set(key, view)
    return view


# Rendered thread pages that signed-in readers share: those who see the thread as everyone
# does (no post of their own that only they see, not moderating the topic). Rendered once
# with their own parts marked (templates/forum/_thread.html, ``shared``); each reader gets
# the marks filled in for them (``_fill_marks``). The key holds what the marked page depends
# on: the room's newest event, language, sort, filter, page, and the reader's rights.
def _shared_threads() -> TTLCache:
    return current_app.extensions.setdefault(
        "borgerdialog.shared_threads", TTLCache(maxsize=256, ttl=60)
    )


_MARK = Markup("\x00")  # the NUL byte that marks a reader's own parts
# A marked part: kind, post id, author id, the part. s: the supports form of another's post;
# o: the report link of another's post; m: the edit and delete links of one's own post.
# Or a single mark (``_fill_marks``' ``values``): c the CSRF token, and on a whole page shared
# by readers (``_plain_reader_page``) n the post form's nonce, l the live cursor, r the
# navigation's own items.
_MARKED = re.compile(r"\x00(?:([som])(\d+)\.(\d+)\x00(.*?)\x00/\x00|([cnlr])\x00)", re.S)


@functools.lru_cache(maxsize=256)
def _marked_parts(html: str) -> tuple:
    """``html`` cut at its marks once (the cached pages are the same string objects, whose
    hash Python keeps): text pieces, and for each mark ``(single,)`` or ``(kind, post id,
    author id, part)``. Filling in a reader's marks then costs no regular-expression scan."""
    pieces = _MARKED.split(html)  # text, then 5 groups and a text per mark
    parts: list = [pieces[0]]
    for i in range(1, len(pieces), 6):
        kind, post_id, author_id, part, single = pieces[i : i + 5]
        parts.append((single,) if single else (kind, int(post_id), int(author_id), part))
        parts.append(pieces[i + 5])
    return tuple(parts)


def _fill_marks(html: str, supported: set[int], values: dict[str, str] | None = None) -> Markup:
    """The shared thread for the signed-in reader: others' posts keep their supports form
    (pressed where the reader agrees) and report link, the reader's own posts their edit
    and delete links; the reader's CSRF token in every form; the single marks ``values``
    names."""
    uid = current_user.id
    agree = str(escape(_("Agree")))
    off = f'aria-pressed="false">{agree}</button>'
    on = f'aria-pressed="true">{agree} ✓</button>'
    token = generate_csrf()
    singles = {"c": token, **(values or {})}
    out: list[str] = []
    append = out.append
    for piece in _marked_parts(html):
        if type(piece) is str:
            append(piece)
            continue
        if len(piece) == 1:
            append(singles.get(piece[0], f"\x00{piece[0]}\x00"))
            continue
        kind, post_id, author_id, part = piece
        own = author_id == uid
        if kind == "m":
            if own:
                append(part.replace("\x00c\x00", token))  # the forms inside the part
        elif not own:
            part = part.replace("\x00c\x00", token)
            append(part.replace(off, on) if kind == "s" and post_id in supported else part)
    return Markup("".join(out))


def _shared_thread(
    topic: Topic,
    sort: str,
    stance: str | None,
    can_post: bool,
    page: int,
    room_last: int | None,
    viewer: queries.ViewerInTopic | None,
    marked: bool = False,
) -> ThreadView | None:
    """The thread page from the signed-in readers' shared cache, or None when this reader
    does not see the thread as everyone does. ``marked``: the reader's parts left marked
    (for a whole page shared by readers, ``_plain_reader_page``)."""
    if (
        not current_app.config.get("TOPIC_PAGE_SHARED_THREAD", True)
        or topic.status not in permissions.PUBLIC_TOPIC_STATES
        or permissions.can_moderate_topic(current_user, topic)
    ):
        return None
    if viewer is None or viewer.has_private:
        return None
    key = (
        topic.id,
        queries.last_event_id(f"topic:{topic.id}") if room_last is None else room_last,
        str(get_locale()),
        sort,
        stance,
        page,
        can_post,
        permissions.can_write(current_user),
        tuple(_page_sizes().values()),
    )
    cache = _shared_threads()
    view = cache.get(key)
    if view is None:
        # Everyone's tree: the anonymous reader's (the reader has no post only they see).
        thread = queries.load_thread_page(
            topic, None, sort=sort, stance=stance, page=page, **_page_sizes()
        )
        html = Markup("")
        if thread.roots:
            html = Markup(
                render_template(
                    "forum/_thread.html",
                    nodes=thread.roots,
                    thread=thread,
                    topic=topic,
                    base_depth=0,
                    can_post=can_post,
                    shared=True,
                    mark=_MARK,
                    # other packages' notes (outcomes' citations) are public: shared too
                    citations=hooks.post_citations(topic.id, thread.shown_ids),
                )
            )
        view = ThreadView(
            html, thread.total_visible, thread.stance_counts, thread.page, thread.pages
        )
        if view.page <= view.pages:  # else the page redirects
            section = render_template(
                "forum/_debate.html", **_debate_context(topic, view, sort, stance)
            )
            view = dataclasses.replace(view, html=Markup(""), section=Markup(section))
        cache.set(key, view)
    if view.section is None or marked:
        return view
    return dataclasses.replace(view, section=_fill_marks(view.section, viewer.supported_ids))


def _sort_and_stance() -> tuple[str, str | None]:
    sort = request.args.get("sort", "oldest")
    sort = sort if sort in queries.SORTS else "oldest"
    stance = request.args.get("holdning") or None
    return sort, stance


def _page_numbers(page: int, pages: int) -> list[int | None]:
    """The page links to show: the first, the last and two either side of the current one;
    ``None`` where numbers are left out."""
    wanted = {1, pages, *range(page - 2, page + 3)}
    out: list[int | None] = []
    for n in range(1, pages + 1):
        if n in wanted:
            out.append(n)
        elif out and out[-1] is not None:
            out.append(None)
    return out


def _debate_context(topic: Topic, thread: ThreadView, sort: str, stance: str | None) -> dict:
    """What templates/forum/_debate.html shows besides the topic."""
    return {
        "topic": topic,
        "thread": thread,
        "thread_html": thread.html,
        "sort": sort,
        "stance": stance,
        "page": thread.page,
        "pages": thread.pages,
        "page_numbers": _page_numbers(thread.page, thread.pages),
        "page_url": lambda n: url_for("forum.topic", **_page_args(topic, sort, stance, n)),
        # The page new top-level posts go to: the first when the newest come first, else the
        # last.
        "live_page": 1 if sort == "newest" else thread.pages,
    }


def _shared_forms() -> TTLCache:
    return current_app.extensions.setdefault(
        "borgerdialog.topic_write_forms", TTLCache(maxsize=256, ttl=60)
    )


def _write_form(topic: Topic, form: PostForm, marked: bool = False) -> Markup | None:
    """An empty post form (a GET) from the cache, with this reader's CSRF token and the
    form's nonce put in (left marked with ``marked``); None for a form with input or
    errors (rendered as it is)."""
    if (
        not current_app.config.get("TOPIC_PAGE_SHARED_THREAD", True)
        or request.method != "GET"
        or form.errors
        or form.body.data
        or form.parent_id.data
    ):
        return None
    key = (topic.id, str(get_locale()), bool(getattr(form, "csrf_token", None)))
    cache = _shared_forms()
    html = cache.get(key)
    if html is None:
        blank = PostForm()
        if hasattr(blank, "csrf_token"):
            blank.csrf_token.current_token = "\x00c\x00"
        blank.nonce.data = "\x00n\x00"
        html = render_template("forum/_write_form.html", topic=topic, form=blank)
        cache.set(key, html)
    if marked:
        return Markup(html)
    token = generate_csrf() if hasattr(form, "csrf_token") else ""
    return Markup(html.replace("\x00c\x00", token).replace("\x00n\x00", form.nonce.data))


def _render_topic(
    topic: Topic,
    form: PostForm | None,
    status: int = 200,
    room_last: int | None = None,
    viewer: queries.ViewerInTopic | None = None,
    marks: dict | None = None,
):
    """The topic page. ``marks``: render it once for many readers (``_plain_reader_page``),
    their own parts marked: the template variables that stand for them."""
    sort, stance = _sort_and_stance()
    page = int_arg("side") if request.method == "GET" else 1
    can_post = permissions.can_post(current_user, topic)
    if viewer is None and current_user.is_authenticated:
        viewer = queries.viewer_in_topic(current_user, topic)
    marked = marks is not None
    thread = _thread_view(topic, sort, stance, can_post, page, room_last, viewer, marked)
    if marked and thread.section is None:
        return None  # not the shared debate section (or a page past the end): not shareable
    if thread.page > thread.pages:
        # A page that no longer exists (the thread got shorter, or a typed number): the last.
        return redirect(url_for("forum.topic", **_page_args(topic, sort, stance, thread.pages)))
    write_form_html = _write_form(topic, form, marked) if can_post and form is not None else None
    if marked and can_post and write_form_html is None:
        return None
    can_manage = permissions.can_manage_topic(current_user, topic)
    return render_template(
        "forum/topic.html",
        **_debate_context(topic, thread, sort, stance),
        debate_html=thread.section,
        form=form,
        write_form_html=write_form_html,
        following=viewer is not None and viewer.following,
        can_post=can_post,
        can_manage=can_manage,
        base_depth=0,
        status_form=TopicStatusForm(status=topic.status.value) if can_manage else None,
        **(marks or {}),
    ), status


# Whole topic pages for anonymous readers: the same bytes for everyone who asks for the same
# URL in the same language while the topic's room has the same newest event. The page holds
# nothing per visitor (no CSRF token: base.html's language form has none for them, nor has
# the thread) and nothing of the session (pages with flashed messages are not cached). The
# TTL bounds how long what changes without an event in the room (a renamed author or
# committee, a Q&A session that starts) can stay stale, as for the thread cache above.
@dataclass(frozen=True)
class _CachedPage:
    body: bytes
    etag: str


def _anonymous_pages() -> TTLCache:
    return current_app.extensions.setdefault(
        "borgerdialog.anonymous_topic_pages", TTLCache(maxsize=512, ttl=60)
    )


def _cacheable_for_everyone() -> bool:
    return (
        request.method in ("GET", "HEAD")
        and not current_user.is_authenticated
        and "_flashes" not in session
    )


def _anonymous_topic_page(topic_id: int, facts: queries.TopicFacts):
    """The anonymous topic page from the cache (rendered on a miss), with its ETag: a
    browser that has this very page gets 304 Not Modified."""
    cfg = current_app.config
    key = (
        topic_id,
        facts.room_last,
        str(get_locale()),
        request.full_path,  # the page, sort and filter; the login link's ``next``
        cfg["THREAD_DISPLAY_DEPTH"],
        cfg["THREAD_PAGE_ROOTS"],
        cfg["THREAD_PAGE_POSTS"],
    )
    pages = _anonymous_pages()
    cached = pages.get(key)
    if cached is None:
        result = _render_topic(_topic_or_404(topic_id), None, room_last=facts.room_last)
        if not isinstance(result, tuple) or result[1] != 200:
            return result  # a redirect (page past the end): not cached
        body = result[0].encode()
        cached = _CachedPage(body, hashlib.sha256(body).hexdigest()[:32])
        # Only what was rendered without touching the session is the same for everyone.
        if not session.modified:
            pages.set(key, cached)
    response = current_app.response_class(cached.body, mimetype="text/html")
    response.set_etag(cached.etag)
    response.headers["Cache-Control"] = "no-cache"  # revalidate: the thread changes
    response.vary.add("Cookie")  # signed-in people get their own page at this URL
    return response.make_conditional(request)


# Whole topic pages that plain signed-in readers share: citizens with nothing of their own on
# the page but their supports, their own published posts' links and the follow button (no
# held post of theirs in the topic, no banner: hooks.register_reader_fact, no flashed
# message). Rendered once per key with every personal part marked and filled in for each
# reader: the debate section's marks (``_fill_marks``), the CSRF token, the post form's
# nonce, the live cursor, and the navigation's own items (templates/forum/_reader_nav.html,
# rendered for the reader). The key holds the rest of what the page depends on: the room's
# newest event, language, URL, page sizes, whether the reader may post and follows.
def _reader_pages() -> TTLCache:
    return current_app.extensions.setdefault(
        "borgerdialog.reader_topic_pages", TTLCache(maxsize=512, ttl=60)
    )


_PAGE_MARKS = {
    "csrf_token": lambda: "\x00c\x00",
    "live_cursor": lambda: "\x00l\x00",
    "reader_nav_mark": Markup("\x00r\x00"),
}


def _may_share_page() -> bool:
    """Could the shared whole page fit this request's reader (before reading their facts)?"""
    return (
        current_app.config.get("TOPIC_PAGE_SHARED_THREAD", True)
        and request.method == "GET"
        and "_flashes" not in session
        and current_user.is_authenticated
        and current_user.role == Role.CITIZEN
    )


def _plain_reader(topic: Topic) -> queries.ViewerInTopic | None:
    """The reader's facts in the topic when the shared whole page fits them, else None."""
    user = current_user._get_current_object()
    if not _may_share_page() or topic.status not in permissions.PUBLIC_TOPIC_STATES:
        return None
    reader, viewer = queries.reader_in_topic(user, topic)
    if (
        reader.personal
        or viewer.has_private
        or permissions.write_block(user) is not None
        or permissions.can_manage_topic(user, topic)
    ):
        return None
    return viewer


def _plain_reader_page(topic: Topic, facts: queries.TopicFacts):
    """The page from the plain readers' cache (rendered on a miss), or None when it does not
    fit this reader."""
    viewer = _plain_reader(topic)
    if viewer is None:
        return None
    cfg = current_app.config
    can_post = permissions.can_post(current_user, topic)
    key = (
        topic.id,
        facts.room_last,
        str(get_locale()),
        request.full_path,
        cfg["THREAD_DISPLAY_DEPTH"],
        cfg["THREAD_PAGE_ROOTS"],
        cfg["THREAD_PAGE_POSTS"],
        can_post,
        viewer.following,
    )
    pages = _reader_pages()
    html = pages.get(key)
    if html is None:
        queries.topic_with_place(topic.id)  # its committee, area and author, in one statement
        result = _render_topic(
            topic, PostForm(), room_last=facts.room_last, viewer=viewer, marks=_PAGE_MARKS
        )
        if result is None or not isinstance(result, tuple) or result[1] != 200:
            return result  # not shareable (None), or a redirect
        html = result[0]
        pages.set(key, html)
    user = current_user._get_current_object()
    nav = current_app.jinja_env.get_template("forum/_reader_nav.html").render(
        current_user=user, unread_count=queries.reader_facts(user).unread
    )
    values = {"n": new_nonce(), "l": str(facts.cursor), "r": nav}
    return str(_fill_marks(html, viewer.supported_ids, values)), 200


@bp.route("/emner/<int:topic_id>")
def topic(topic_id: int):
    if _cacheable_for_everyone():
        facts = queries.topic_page_facts(topic_id)
        live.remember_cursor(facts.cursor if facts is not None else None)
        if facts is not None and facts.status in permissions.PUBLIC_TOPIC_STATES:
            return _anonymous_topic_page(topic_id, facts)
        topic = _topic_or_404(topic_id)
    elif _may_share_page():
        # Most often from the cache: the topic alone (its place and author load if rendered).
        topic, facts = queries.topic_alone_with_facts(topic_id)
        live.remember_cursor(facts.cursor if facts is not None else None)
        if topic is None or not permissions.can_see_topic(current_user, topic):
            abort(404)
        shared = _plain_reader_page(topic, facts)
        if shared is not None:
            return shared
    else:
        topic, facts = queries.topic_with_facts(topic_id)
        live.remember_cursor(facts.cursor if facts is not None else None)
        if topic is None or not permissions.can_see_topic(current_user, topic):
            abort(404)
    # The form only shows to those who may post (anonymous readers never may).
    return _render_topic(
        topic,
        PostForm() if current_user.is_authenticated else None,
        room_last=facts.room_last if facts is not None else None,
    )


def topic_url_at(post: Post, sort: str = "oldest", stance: str | None = None) -> str | None:
    """The topic page (with its page number) showing ``post``, at the post. The post's own
    page when the topic page does not show it: deeper than THREAD_DISPLAY_DEPTH, or cut
    from a very long thread (both behind "continue" links). None when the viewer's tree
    does not have it. With a stance filter that leaves the post out, the unfiltered page."""
    topic = post.topic
    depth = current_app.config["THREAD_DISPLAY_DEPTH"]
    if post.depth >= depth:
        return url_for("forum.post", post_id=post.id) + f"#p{post.id}"
    for filter_ in (stance, None) if stance else (None,):
        thread = queries.load_thread_page(
            topic, current_user, sort=sort, stance=filter_, locate=post.id, **_page_sizes()
        )
        if not thread.page:
            continue
        if post.id not in thread.shown_ids:
            break
        args = _page_args(topic, sort, filter_, thread.page)
        return url_for("forum.topic", **args) + f"#p{post.id}"
    else:
        return None
    return url_for("forum.post", post_id=post.id) + f"#p{post.id}"


@bp.route("/indlaeg/<int:post_id>/i-debatten")
def post_in_topic(post_id: int):
    """Where a post is in its topic's debate: a redirect to the page showing it, at the post
    (links from before the debate had pages, e.g. ``/emner/7#p42``, come here through
    static/js/topic.js)."""
    post = _post_or_404(post_id)
    sort, stance = _sort_and_stance()
    url = topic_url_at(post, sort, stance)
    if url is None:
        abort(404)
    return redirect(url)


@bp.route("/emner/<int:topic_id>/indlaeg", methods=["POST"])
@login_required
@limiter.limit(_post_limit)
def create_post(topic_id: int):
    """Post to a topic or reply to a post (``parent_id``); errors re-show the typed text."""
    topic = _topic_or_404(topic_id)
    form = PostForm()
    parent_id = None
    if form.parent_id.data:
        try:
            parent_id = parse_id(form.parent_id.data)
        except ValueError:
            abort(400)
    if form.validate_on_submit():
        with uow.saving(form) as saved:
            post = services.create_post(
                current_user._get_current_object(),
                topic,
                form.body.data,
                parent_id=parent_id,
                stance=form.stance.data or None,
                nonce=form.nonce.data,
            )
        if not saved.ok:
            if not saved.placed:
                # Not about a field (closed topic, vanished parent): an error page that
                # gives back the typed text.
                return render_error(saved.status, saved.error.message)
            status = saved.status
        else:
            if post.state == PostState.PENDING:
                flash(
                    _("Your post waits for a moderator. You can see it; others cannot yet."), "info"
                )
            return redirect(url_for("forum.post", post_id=post.id) + f"#p{post.id}")
    else:
        status = 400
    if parent_id is not None:
        parent = db.session.get(Post, parent_id)
        if parent is not None and parent.topic_id == topic.id:
            return render_template(
                "forum/reply.html", topic=topic, parent=parent, form=form
            ), status
    return _render_topic(topic, form, status)


@bp.route("/indlaeg/<int:post_id>")
def post(post_id: int):
    """The permalink: the post with its replies, and the path down to it."""
    post = _post_or_404(post_id)
    topic = post.topic
    thread = queries.load_thread(topic, current_user)
    node = thread.by_id.get(post.id)
    if node is None:
        abort(404)
    ancestors = []
    parent_id = post.parent_id
    while parent_id is not None and parent_id in thread.by_id:
        ancestors.append(thread.by_id[parent_id])
        parent_id = thread.by_id[parent_id].post.parent_id
    ancestors.reverse()
    if not node.show_text and not node.children:
        abort(404)
    return render_template(
        "forum/permalink.html",
        topic=topic,
        node=node,
        thread=thread,
        ancestors=ancestors,
        base_depth=post.depth,
        can_post=permissions.can_post(current_user, topic),
        button_form=EmptyForm(),
        citations=hooks.post_citations(topic.id, _subtree_ids([node])),
    )


def _in_viewers_tree(post: Post, topic: Topic) -> bool:
    """Would the topic page show ``post`` (text or placeholder) to this viewer? Its
    ancestors must all be in the viewer's tree: a reply below a post the viewer may not
    see (pending, rejected) is not on their page either."""
    parent_id = post.parent_id
    while parent_id is not None:
        parent = db.session.get(Post, parent_id)
        if parent is None or not (
            permissions.can_see_post(current_user, parent, topic)
            or parent.state in permissions.PLACEHOLDER_POST_STATES
        ):
            return False
        parent_id = parent.parent_id
    return True


@bp.route("/indlaeg/<int:post_id>/fragment")
def post_fragment(post_id: int):
    """One post as the topic page shows it (an ``<li>`` without replies), for live updates.

    404 unless the topic page would show the post to this viewer: its text when they may
    read it, or its placeholder (no text, author or stance) when it is deleted, hidden or
    removed and replies they can see hang on it. A reply below the display depth comes back
    as its ancestor on the deepest shown level, whose "continue this thread" link counts it.
    """
    post = _post_or_404(post_id)
    topic = post.topic
    shown = permissions.can_see_post(current_user, post, topic)
    if not shown and post.state not in permissions.PLACEHOLDER_POST_STATES:
        abort(404)
    edge = current_app.config["THREAD_DISPLAY_DEPTH"] - 1
    if post.depth > edge or not shown:
        # The tree decides (rare: deep replies and placeholders).
        thread = queries.load_thread(topic, current_user)
        node = thread.by_id.get(post.id)
        if node is None or not (node.show_text or node.children):
            abort(404)  # a placeholder with nothing visible below it is not on the page
        up = node
        while up.post.parent_id is not None:
            up = thread.by_id.get(up.post.parent_id)
            if up is None:
                abort(404)
        if post.depth > edge:
            while node.post.depth > edge:
                node = thread.by_id[node.post.parent_id]
        else:
            node = queries.Node(post, False)  # the placeholder alone, without the replies
            thread = queries.Thread([node], {post.id: node}, {}, set(), 0)
    else:
        if not _in_viewers_tree(post, topic):
            abort(404)
        node = queries.Node(post, shown)
        supported = set()
        if current_user.is_authenticated and db.session.get(Support, (current_user.id, post.id)):
            supported.add(post.id)
        thread = queries.Thread([node], {post.id: node}, {}, supported, 1)
    html = render_template(
        "forum/_thread.html",
        nodes=[node],
        thread=thread,
        topic=topic,
        base_depth=0,
        can_post=permissions.can_post(current_user, topic),
        button_form=EmptyForm(),
        citations=hooks.post_citations(topic.id, _subtree_ids([node])),
    )
    return html, 200, {"Cache-Control": "private, no-store"}


@bp.route("/emner/<int:topic_id>/hoved")
def topic_head(topic_id: int):
    """The topic's title, status, deadline and introduction as its page shows them, for live
    updates after an edit; 404 when the viewer may not see the topic (any more)."""
    topic = _topic_or_404(topic_id)
    html = render_template(
        "forum/_topic_head.html", topic=topic, can_post=permissions.can_post(current_user, topic)
    )
    return html, 200, {"Cache-Control": "private, no-store"}


@bp.route("/indlaeg/<int:post_id>/svar", methods=["GET"])
@login_required
def reply(post_id: int):
    """A reply form on its own page (the no-JavaScript way to reply), optionally quoting."""
    parent = _post_or_404(post_id)
    if not permissions.can_see_post(current_user, parent):
        abort(404)
    _refuse_if_blocked()
    if not permissions.can_post(current_user, parent.topic):
        raise Conflict(_("This topic no longer takes posts."))
    form = PostForm(parent_id=str(parent.id))
    if request.args.get("citer"):
        quoted = "\n".join("> " + line for line in parent.body_source.splitlines())
        form.body.data = f"> **{parent.author.display_name}:**\n{quoted}\n\n"
    return render_template("forum/reply.html", topic=parent.topic, parent=parent, form=form)


@bp.route("/indlaeg/<int:post_id>/rediger", methods=["GET", "POST"])
@login_required
def edit_post(post_id: int):
    post = _post_or_404(post_id)
    if not permissions.can_edit_post(current_user, post):
        abort(403)
    _refuse_if_blocked()
    form = EditPostForm(body=post.body_source) if request.method == "GET" else EditPostForm()
    if form.validate_on_submit():
        try:
            services.edit_post(current_user._get_current_object(), post, form.body.data)
        except InvalidInput as exc:
            uow.rollback()
            apply_errors(form, exc)
        else:
            uow.commit()
            flash(_("Your post is updated."), "success")
            return redirect(url_for("forum.post", post_id=post.id) + f"#p{post.id}")
    status = 400 if form.errors else 200
    return render_template("forum/edit_post.html", post=post, form=form), status


@bp.route("/indlaeg/<int:post_id>/slet", methods=["GET", "POST"])
@login_required
def delete_post(post_id: int):
    post = _post_or_404(post_id)
    if not permissions.can_delete_post(current_user, post):
        abort(403)
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        services.delete_post(current_user._get_current_object(), post)
        uow.commit()
        flash(_("Your post is deleted."), "success")
        return redirect(url_for("forum.topic", topic_id=post.topic_id))
    return render_template("forum/delete_post.html", post=post, form=form)


@bp.route("/indlaeg/<int:post_id>/historik")
def post_history(post_id: int):
    post = _post_or_404(post_id)
    if not permissions.can_see_post(current_user, post):
        abort(404)
    return render_template("forum/history.html", post=post, revisions=queries.revisions(post))


@bp.route("/indlaeg/<int:post_id>/stoet", methods=["POST"])
@login_required
@limiter.limit("60 per minute")
def support(post_id: int):
    post = _post_or_404(post_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    supported, _count = services.toggle_support(current_user._get_current_object(), post)
    uow.commit()
    flash(_("You support this post.") if supported else _("Your support is withdrawn."), "success")
    return redirect(
        topic_url_at(post) or url_for("forum.topic", topic_id=post.topic_id) + f"#p{post.id}"
    )


@bp.route("/emner/<int:topic_id>/foelg", methods=["POST"])
@login_required
def follow(topic_id: int):
    topic = _topic_or_404(topic_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    on = request.form.get("follow") == "1"
    services.set_follow(current_user._get_current_object(), topic, on)
    uow.commit()
    flash(_("You follow this topic.") if on else _("You no longer follow this topic."), "success")
    return redirect(url_for("forum.topic", topic_id=topic.id))


@bp.route("/emner/<int:topic_id>/status", methods=["POST"])
@login_required
def topic_status(topic_id: int):
    topic = _topic_or_404(topic_id)
    form = TopicStatusForm()
    if not form.validate_on_submit():
        abort(400)
    services.set_topic_status(
        current_user._get_current_object(), topic, TopicStatus(form.status.data)
    )
    uow.commit()
    flash(_("The topic's status is changed."), "success")
    return redirect(url_for("forum.topic", topic_id=topic.id))


@bp.route("/forslag")
@login_required
def proposals():
    if not permissions.is_moderator(current_user):
        abort(403)
    return render_template(
        "forum/proposals.html",
        items=queries.pending_proposals(current_user),
        form=ProposalDecisionForm(),
    )


@bp.route("/forslag/<int:topic_id>", methods=["POST"])
@login_required
def decide_proposal(topic_id: int):
    topic = _topic_or_404(topic_id)
    form = ProposalDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    services.decide_topic_proposal(
        current_user._get_current_object(), topic, form.decision.data == "accept"
    )
    uow.commit()
    flash(
        _("The proposal is accepted.")
        if form.decision.data == "accept"
        else _("The proposal is declined."),
        "success",
    )
    return redirect(url_for("forum.proposals"))
