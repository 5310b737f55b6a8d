import pytest
from sqlalchemy import select

from app import create_app
from forum import services
from forum.extensions import db
from forum.models import Notification, Post
from ops.startup import StartupRefused


@pytest.fixture(autouse=True)
def _no_background_jobs(monkeypatch):
    """The apps built here are not TESTING apps (their configuration is what is tested), so
    they would start every periodic job (mail, opinions, meetings, open data, privacy) on
    their own databases and leave the threads running into later tests. Configuration is
    what these tests check; the jobs are tested where they live."""
    from forum import periodic

    monkeypatch.setattr(periodic, "wants_thread", lambda app, key: False)


def test_production_without_secret_key_refuses_to_start(tmp_path):
    # load_config's ConfigError, turned into a one-line refusal by the factory (ops/startup.py)
    with pytest.raises(StartupRefused, match="SECRET_KEY"):
        create_app({"BORGERDIALOG_ENV": "production", "INSTANCE_PATH": str(tmp_path)})


def test_embedded_default_generates_and_keeps_a_secret(tmp_path):
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert len(first.config["SECRET_KEY"]) >= 32
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert first.config["SEARCH_INDEX_DIR"] == str(tmp_path / "search-index")


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example/x")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(tmp_path / "ix"))
    import app as app_module

    monkeypatch.setattr(app_module, "HERE", tmp_path)
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example/x"
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"
    assert app.config["SEARCH_INDEX_DIR"] == str(tmp_path / "ix")


def test_seed_demo_cli_refuses_a_non_empty_database(runner, make_user):
    make_user()
    r = runner.invoke(args=["seed-demo"])
    assert r.exit_code != 0 and "not empty" in r.output
    r = runner.invoke(args=["seed-demo", "--if-empty"])
    assert r.exit_code == 0 and "already has data" in r.output


def test_posts_rerender(runner, make_topic, make_post):
    topic = make_topic()
    post = make_post(topic, body="*kursiv*")
    post.body_html = "<p>stale</p>"
    topic.intro_html = "<p>stale</p>"
    db.session.commit()
    r = runner.invoke(args=["posts", "rerender"])
    assert r.exit_code == 0, r.output
    db.session.expire_all()
    assert db.session.get(Post, post.id).body_html == "<p><em>kursiv</em></p>"
    assert "stale" not in topic.intro_html
    assert "2 stored texts changed" in r.output


def test_notifications_mark_read(client, login, make_topic, make_user, make_post):
    topic = make_topic()
    me = make_user()
    mine = make_post(topic, author=me)
    make_post(topic, parent=mine)
    make_post(topic, parent=mine)
    login(me)
    assert '<span class="badge">2</span>' in client.get("/").get_data(as_text=True)
    first = db.session.scalars(select(Notification).where(Notification.user_id == me.id)).first()
    client.post("/notifikationer/laest", data={"id": str(first.id)})
    assert services.unread_count(me) == 1
    client.post("/notifikationer/laest")
    assert services.unread_count(me) == 0
    assert client.post("/notifikationer/laest", data={"id": "abc"}).status_code == 400
