"""One configuration rule (issue 13, part 6; forum/config.py): every package declares its
settings, one loader applies defaults, the environment (only without a test config), the test
config, and checks every value; ``WORKERS`` with per-job overrides; ``flask config``."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from app import SETTINGS, create_app
from forum.config import CORE, ConfigError, Setting, Settings, load_config, loaded, masked

ROOT = Path(__file__).resolve().parents[2]
JOBS = [s.name for d in (CORE, *SETTINGS) for s in d.items if s.worker]


@pytest.fixture
def clean_env(monkeypatch):
    """No declared variable from the shell running the tests."""
    for d in (CORE, *SETTINGS):
        for s in d.items:
            monkeypatch.delenv(s.name, raising=False)
    for name in ("HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _load(tmp_path, test_config=None, declarations=SETTINGS) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    load_config(app, test_config, declarations)
    return app


def test_every_job_has_its_own_switch():
    assert set(JOBS) >= {
        "FANOUT_WORKER",
        "SEARCH_WORKER",
        "MAIL_WORKER",
        "MODERATION_REMINDER_WORKER",
        "BUDGETS_SCHEDULER",
        "QA_WORKER",
        "PRIVACY_WORKER",
        "OPINIONS_WORKER",
        "MEETINGS_REMINDER_WORKER",
        "API_DUMP_WORKER",
    }


def test_the_environment_is_read_without_a_test_config(clean_env, tmp_path):
    clean_env.setenv("READY_MAX_SEARCH_LAG", "25")
    clean_env.setenv("MAIL_SECURITY", "SSL")
    clean_env.setenv("SEARCH_NODE", "web 2")
    clean_env.setenv("LIVE_ALLOWED_ORIGINS", "https://a.example/, https://b.example")
    app = _load(tmp_path)
    assert app.config["READY_MAX_SEARCH_LAG"] == 25
    assert app.config["MAIL_SECURITY"] == "ssl" and app.config["MAIL_PORT"] == 465
    assert app.config["SEARCH_NODE"] == "web-2"
    assert app.config["LIVE_ALLOWED_ORIGINS"] == ("https://a.example", "https://b.example")
    sources = loaded(app).sources
    assert sources["READY_MAX_SEARCH_LAG"] == "environment"
    assert sources["METRICS_ALLOW"] == "default"


def test_the_environment_is_not_read_with_a_test_config(clean_env, tmp_path):
    clean_env.setenv("READY_MAX_SEARCH_LAG", "25")
    clean_env.setenv("WORKERS", "external")
    clean_env.setenv("MAIL_SERVER", "smtp.example")
    clean_env.setenv("SEARCH_NODE", "from-shell")
    app = _load(tmp_path, {"SECRET_KEY": "x", "MAIL_PORT": "2525"})
    assert app.config["READY_MAX_SEARCH_LAG"] == 1000
    assert app.config["WORKERS"] == "thread"
    assert app.config["MAIL_SERVER"] is None
    assert app.config["SEARCH_NODE"] != "from-shell"
    assert app.config["MAIL_PORT"] == 2525  # parsed, whatever its source
    assert loaded(app).sources["MAIL_PORT"] == "test"


def test_a_variable_the_package_does_not_read_from_the_environment_stays_default(
    clean_env, tmp_path
):
    clean_env.setenv("MAIL_BATCH_SIZE", "7")  # a tuning knob, not an environment variable
    assert _load(tmp_path).config["MAIL_BATCH_SIZE"] == 100


@pytest.mark.parametrize(
    ("name", "value", "expect"),
    [
        ("WORKERS", "threads", "WORKERS must be thread or external, not 'threads'"),
        ("FANOUT_WORKER", "cron", "FANOUT_WORKER must be thread or external, not 'cron'"),
        ("OPINIONS_WORKER", "yes", "OPINIONS_WORKER must be thread or external"),
        ("BORGERDIALOG_ENV", "prod", "BORGERDIALOG_ENV must be embedded or production"),
        ("TRUSTED_PROXIES", "11", "TRUSTED_PROXIES must be a whole number from 0 to 10"),
        ("DATABASE_CONNECT_TIMEOUT", "0", "DATABASE_CONNECT_TIMEOUT must be a whole number"),
        ("MAIL_PORT", "smtp", "MAIL_PORT must be a whole number from 1 to 65535, not 'smtp'"),
        ("MAIL_SECURITY", "tls", "MAIL_SECURITY must be starttls, ssl or none, not 'tls'"),
        ("READY_MAX_SEARCH_LAG", "lots", "READY_MAX_SEARCH_LAG must be a whole number"),
        ("METRICS_ALLOW", "10.0.0.0/8,nowhere", "METRICS_ALLOW must be networks"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be json or text, not 'xml'"),
        ("SEARCH_MIN_FREE_MB", "much", "SEARCH_MIN_FREE_MB must be a number"),
        ("RATELIMIT_POST", "often", "RATELIMIT_POST must be rate limits"),
        ("API_RATELIMIT_KEY", "10 per fortnight", "API_RATELIMIT_KEY must be rate limits"),
        ("MEETINGS_INVITATION_REMINDER_DAYS", "-1", "must be a whole number of at least 1"),
    ],
)
def test_a_bad_value_in_the_environment_says_what_to_set(clean_env, tmp_path, name, value, expect):
    clean_env.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path)
    message = str(caught.value)
    assert expect in message
    assert "(from the environment)" in message and f"Set {name} to " in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MODERATION_DEFAULT_MODE", "later"),
        ("MODERATION_ENABLED", "perhaps"),
        ("QA_TICK_INTERVAL_SECONDS", "soon"),
        ("ADMIN_USERS_PER_PAGE", 0),
        ("REPORTS_K_MIN", "five"),
        ("FANOUT_BATCH_SIZE", True),
        ("PRIVACY_EXPORT_RATE", "3 a day"),
    ],
)
def test_a_bad_value_in_a_test_config_is_refused_the_same_way(clean_env, tmp_path, name, value):
    with pytest.raises(ConfigError, match=f"^{name} must be .*not {value!r} \\(from the test"):
        _load(tmp_path, {"SECRET_KEY": "x", name: value})


def test_checks_across_settings_are_the_packages_finish(clean_env, tmp_path):
    with pytest.raises(ConfigError, match="set MAIL_CLAIM_SECONDS to 60 or more"):
        _load(tmp_path, {"SECRET_KEY": "x", "MAIL_CLAIM_SECONDS": 30, "MAIL_TIMEOUT": 30})


def test_workers_sets_every_job_and_a_jobs_own_variable_wins(clean_env, tmp_path):
    embedded = _load(tmp_path)
    assert {embedded.config[j] for j in JOBS} == {"thread"}
    assert loaded(embedded).sources["QA_WORKER"] == "WORKERS (default)"

    clean_env.setenv("WORKERS", "external")
    clean_env.setenv("SEARCH_WORKER", "thread")
    app = _load(tmp_path)
    assert app.config["SEARCH_WORKER"] == "thread"
    assert {app.config[j] for j in JOBS if j != "SEARCH_WORKER"} == {"external"}
    assert loaded(app).sources["FANOUT_WORKER"] == "WORKERS (environment)"
    assert loaded(app).sources["SEARCH_WORKER"] == "environment"


def test_production_runs_every_job_externally_unless_told(clean_env, tmp_path):
    clean_env.setenv("BORGERDIALOG_ENV", "production")
    clean_env.setenv("SECRET_KEY", "s" * 32)
    clean_env.setenv("MAIL_WORKER", "thread")
    app = _load(tmp_path)
    assert app.config["WORKERS"] == "external"
    assert app.config["MAIL_WORKER"] == "thread"
    assert {app.config[j] for j in JOBS if j != "MAIL_WORKER"} == {"external"}


def test_a_setting_declared_twice_is_a_programming_error(tmp_path):
    twice = Settings("twice", (Setting("FANOUT_WORKER", None),))
    with pytest.raises(RuntimeError, match="FANOUT_WORKER is declared twice"):
        _load(tmp_path, {"SECRET_KEY": "x"}, (*SETTINGS, twice))


def test_masking():
    url = Setting("DATABASE_URL", secret=True)
    assert masked(url, "postgresql://app:hunter2@db/x") == "postgresql://app:***@db/x"
    assert masked(url, "redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert masked(Setting("SECRET_KEY", secret=True), "abc") == "***"
    assert masked(Setting("METRICS_TOKEN", secret=True), None) == "(unset)"
    assert masked(Setting("MAIL_BASE_URL"), "https://u:pw@debat.example") == (
        "https://u:***@debat.example"
    )
    assert masked(Setting("MAIL_SENDER"), "Borgerdialog <a@b>") == "Borgerdialog <a@b>"


def test_flask_config_prints_every_setting_with_its_source_and_masks_secrets(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "very-secret-key",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "SEARCH_INDEX_DIR": str(tmp_path / "ix"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "REDIS_URL": "redis://:redis-pass@127.0.0.1:6379/9",
            "MAIL_PASSWORD": "smtp-pass",
            "METRICS_TOKEN": "metrics-token",
            "QA_WORKER": "external",
        }
    )
    r = app.test_cli_runner().invoke(args=["config"])
    assert r.exit_code == 0, r.output
    out = r.output
    for secret in ("very-secret-key", "redis-pass", "smtp-pass", "metrics-token"):
        assert secret not in out
    for section in ("[forum]", "[mail]", "[search]", "[ops]", "[api]", "[meetings]"):
        assert section in out
    assert "  SECRET_KEY = ***  [test]" in out
    assert "  REDIS_URL = redis://:***@127.0.0.1:6379/9  [test]" in out
    assert "  QA_WORKER = external  [test]" in out
    assert "  FANOUT_WORKER = thread  [WORKERS (default)]" in out
    assert "  MAIL_PORT = 587  [default]" in out
    assert "  MAIL_BATCH_SIZE = 100  [default]  (not from the environment)" in out
    declared = [s.name for d in (CORE, *SETTINGS) for s in d.items]
    assert all(f"  {name} = " in out for name in declared)


def test_a_bad_value_refuses_the_start_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(WORKERS="threads", SEARCH_INDEX_DIR=str(tmp_path / "ix"), SECRET_KEY="s" * 32)
    proc = subprocess.run(
        [sys.executable, "-c", "from app import create_app; create_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 4
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "WORKERS must be thread or external, not 'threads'" in lines[0]
    assert "Traceback" not in proc.stderr


# The environment is the start path's (HOST, PORT: forum/config.py serving_address) and a
# backup's subprocess environment (ops/backup.py); everything else is declared settings.
ENVIRONMENT_READERS = {"forum/config.py", "ops/backup.py"}


def test_no_package_reads_the_environment_itself():
    packages = [
        p
        for p in ROOT.iterdir()
        if (p / "__init__.py").is_file() and p.name not in ("tests", "migrations")
    ]
    readers = set()
    for package in packages:
        for path in package.rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in ("environ", "getenv")
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "os"
                ):
                    readers.add(str(path.relative_to(ROOT)))
    assert readers == ENVIRONMENT_READERS
