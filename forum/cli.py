"""Command-line tools for people running the site: ``flask --app app <command>``."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select, update

from . import hooks, uow
from .extensions import db
from .models import Area, Committee, Post, Role, Topic, User, utcnow
from .text import drop_controls


def _progress(length: int, label: str):
    import sys

    return click.progressbar(length=length, label=label, show_pos=True, file=sys.stderr)


# Feature switches turned off while the demo history is written (read at call time).
SEED_PAUSED_SETTINGS = ("MODERATION_ENABLED", "MAIL_REQUIRE_VERIFICATION")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
@click.option("--big-posts", default=320, show_default=True, help="Posts in the big debate.")
@with_appcontext
def seed_demo_command(if_empty: bool, big_posts: int) -> None:
    """Fill the database with Holbæk's committees, areas, people and debates."""
    from .demo import demo_size, seed_demo

    if db.session.scalar(select(func.count(User.id))):
        if if_empty:
            click.echo("The database already has data; demo data not added.")
            return
        raise click.ClickException("The database is not empty; seed-demo needs an empty one.")
    # The demo is written as published history: policies other packages register (holding
    # new authors' posts, requiring verified e-mail) are paused while it is written.
    paused = {k: current_app.config.get(k) for k in SEED_PAUSED_SETTINGS}
    current_app.config.update(dict.fromkeys(SEED_PAUSED_SETTINGS, False))
    try:
        with _progress(demo_size(big_posts), "Seeding demo data") as bar:
            rows = seed_demo(bar.update, big_posts=big_posts)
            for step in hooks.demo_steps():  # other packages' demo data (e.g. live Q&A)
                bar.update(step())
    finally:
        current_app.config.update(paused)
    # Demo people count as having confirmed their (fictional) e-mail addresses.
    db.session.execute(update(User).values(email_verified_at=utcnow()))
    uow.commit()
    from .fanout import drain

    drain()  # other packages' demo posts: their readers are told now, not at the first request
    click.echo("\nDemo accounts (role, name, e-mail, password):")
    for role, name, email, password in rows:
        click.echo(f"  {role:<12} {name:<28} {email:<40} {password}")


users_cli = AppGroup("users", help="Manage accounts and roles.")


@users_cli.command("create")
@click.argument("email")
@click.argument("display_name")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default="citizen")
@click.option("--party", default=None)
@click.option("--committee", "committees", multiple=True, help="Committee slug (repeatable).")
@click.option("--area", "areas", multiple=True, help="Area slug a moderator is scoped to.")
def users_create(email, display_name, password, role, party, committees, areas) -> None:
    """Create an account."""
    from . import services
    from .errors import InvalidInput

    try:
        # Typed like a form's fields: no control characters (forum/text.py).
        user = services.register_user(email, drop_controls(display_name), password)
        services.set_role(
            user, Role(role), drop_controls(party), _committees(committees), _areas(areas)
        )
        user.email_verified_at = utcnow()  # made by an admin: the address counts as confirmed
    except InvalidInput as exc:
        uow.rollback()
        raise click.ClickException("; ".join(f"{k}: {v}" for k, v in exc.fields.items())) from None
    uow.commit()
    click.echo(f"Created {user.email} ({user.role.value}).")


def _committees(slugs) -> list[Committee]:
    found = list(db.session.scalars(select(Committee).where(Committee.slug.in_(slugs))))
    missing = set(slugs) - {c.slug for c in found}
    if missing:
        raise click.ClickException(f"Unknown committee: {', '.join(sorted(missing))}")
    return found


def _areas(slugs) -> list[Area]:
    found = list(db.session.scalars(select(Area).where(Area.slug.in_(slugs))))
    missing = set(slugs) - {a.slug for a in found}
    if missing:
        raise click.ClickException(f"Unknown area: {', '.join(sorted(missing))}")
    return found


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@click.option("--party", default=None)
@click.option("--committee", "committees", multiple=True, help="Committee slug (repeatable).")
@click.option("--area", "areas", multiple=True, help="Area slug a moderator is scoped to.")
def users_set_role(email, role, party, committees, areas) -> None:
    """Give an account a role (politician: --party, --committee; moderator: --area)."""
    from . import services

    user = services.get_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account with e-mail {email}.")
    services.set_role(user, Role(role), party, _committees(committees), _areas(areas))
    uow.commit()
    click.echo(f"{user.email} is now {user.role.value}.")


@users_cli.command("list")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=None)
def users_list(role) -> None:
    """List accounts."""
    stmt = select(User).order_by(User.role, User.display_name)
    if role:
        stmt = stmt.where(User.role == Role(role))
    for u in db.session.scalars(stmt):
        extra = ""
        if u.role == Role.POLITICIAN:
            extra = f" {u.party or ''} [{', '.join(c.slug for c in u.committees)}]"
        elif u.role == Role.MODERATOR and u.moderated_areas:
            extra = f" [{', '.join(a.slug for a in u.moderated_areas)}]"
        line = f"{u.id:>5} {u.role.value:<10} {u.email:<40} {u.display_name}{extra}"
        # A name stored before typed text was cleaned must not drive the admin's terminal.
        click.echo(drop_controls(line))


posts_cli = AppGroup("posts", help="Maintain stored posts.")


@posts_cli.command("rerender")
@click.option("--batch", default=500, show_default=True)
def posts_rerender(batch: int) -> None:
    """Re-render every stored post and topic introduction (after an allow-list change)."""
    from .rendering import render_markdown

    total = (db.session.scalar(select(func.count(Post.id))) or 0) + (
        db.session.scalar(select(func.count(Topic.id))) or 0
    )
    changed = 0
    with _progress(total, "Re-rendering") as bar:
        last = 0
        while True:
            rows = list(
                db.session.scalars(
                    select(Post).where(Post.id > last).order_by(Post.id).limit(batch)
                )
            )
            if not rows:
                break
            for p in rows:
                if p.body_source:
                    html = str(render_markdown(p.body_source))
                    if html != p.body_html:
                        p.body_html = html
                        changed += 1
            last = rows[-1].id
            uow.commit()
            bar.update(len(rows))
        for t in db.session.scalars(select(Topic)):
            html = str(render_markdown(t.intro_source))
            if html != t.intro_html:
                t.intro_html = html
                changed += 1
            bar.update(1)
        uow.commit()
    click.echo(f"\nRe-rendered; {changed} stored texts changed.")


fanout_cli = AppGroup("fanout", help="Tell followers of new posts (forum/fanout.py).")


@fanout_cli.command("worker")
@click.option("--once", is_flag=True, help="Write what is pending, then stop.")
def fanout_worker(once: bool) -> None:
    """Write the notifications of newly public posts as they come (production runs this)."""
    import signal
    import time

    from . import fanout

    app = current_app._get_current_object()
    if app.config["FANOUT_WORKER"] == "thread" and not once:
        click.echo(
            "Note: FANOUT_WORKER is 'thread', so app processes fan out too; each job is "
            "taken by one of them. Set FANOUT_WORKER=external for the app.",
            err=True,
        )
    stopping: list[bool] = []
    previous = signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    poll = float(app.config["FANOUT_POLL_INTERVAL"])
    try:
        while not stopping:
            try:
                told = fanout.drain()
            except Exception:
                app.logger.exception("The notification fan-out failed; it retries shortly.")
                db.session.rollback()
                time.sleep(5)
                continue
            finally:
                db.session.remove()
            if told:
                click.echo(f"Told {told} readers.", err=True)
            if once:
                break
            time.sleep(poll)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


@fanout_cli.command("status")
def fanout_status() -> None:
    """Open jobs and how long the oldest has waited; jobs done and readers told."""
    from . import fanout

    st = fanout.status()
    mode = current_app.config["FANOUT_WORKER"]
    where = "a thread in the app" if mode == "thread" else "`flask fanout worker`"
    click.echo(f"Worker: {mode} ({where})")
    waited = (
        f", the oldest waiting {st.oldest_open_seconds:.1f} s"
        if st.oldest_open_seconds is not None
        else ""
    )
    click.echo(f"Open jobs: {st.open_jobs}{waited}")
    click.echo(f"Done: {st.done_jobs} jobs ({st.skipped_jobs} skipped), {st.told} readers told")


@click.command("config")
@with_appcontext
def config_command() -> None:
    """Print every declared setting per package: its value and where it came from."""
    from .config import loaded, masked

    state = loaded(current_app)
    for package in state.declarations:
        click.echo(f"[{package.package}]")
        for item in package.items:
            value = masked(item, current_app.config.get(item.name))
            source = state.sources.get(item.name, "default")
            env = "" if item.env else "  (not from the environment)"
            click.echo(f"  {item.name} = {value}  [{source}]{env}")


def register(app: Flask) -> None:
    app.cli.add_command(config_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(posts_cli)
    app.cli.add_command(fanout_cli)
