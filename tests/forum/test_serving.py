"""``./dev.sh start`` (``python app.py``) serves on HOST/PORT; mail links follow it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app import create_app
from forum.config import ConfigError, served_url, serving_address

ROOT = Path(__file__).resolve().parents[2]
WORKERS = (
    "MAIL_WORKER",
    "SEARCH_WORKER",
    "QA_WORKER",
    "BUDGETS_SCHEDULER",
    "PRIVACY_WORKER",
    "FANOUT_WORKER",
)


def test_serving_address_defaults_to_this_machine_on_5000():
    assert serving_address({}) == ("127.0.0.1", 5000)
    assert serving_address({"PORT": "8123"}) == ("127.0.0.1", 8123)
    assert serving_address({"HOST": "0.0.0.0", "PORT": " 8000 "}) == ("0.0.0.0", 8000)


@pytest.mark.parametrize("port", ["http", "0", "65536", "-1", "80.5"])
def test_a_bad_port_is_refused_with_a_clear_message(port):
    with pytest.raises(ConfigError, match="PORT"):
        serving_address({"PORT": port})


def test_served_url():
    assert served_url("127.0.0.1", 8123) == "http://127.0.0.1:8123"
    assert served_url("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert served_url("::1", 8000) == "http://[::1]:8000"
    assert served_url("debat.local", 80) == "http://debat.local:80"


def _env_app(monkeypatch, tmp_path, **env):
    import app as app_module

    monkeypatch.setattr(app_module, "HERE", tmp_path)
    for name in ("MAIL_BASE_URL", "HOST", "PORT", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    for worker in WORKERS:
        monkeypatch.setenv(worker, "external")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return create_app()


def test_mail_links_follow_the_served_address(monkeypatch, tmp_path):
    app = _env_app(monkeypatch, tmp_path, PORT="8123")
    assert app.config["MAIL_BASE_URL"] == "http://127.0.0.1:8123"


def test_mail_links_default_to_the_default_address(monkeypatch, tmp_path):
    app = _env_app(monkeypatch, tmp_path)
    assert app.config["MAIL_BASE_URL"] == "http://127.0.0.1:5000"


def test_mail_base_url_wins_over_the_served_address(monkeypatch, tmp_path):
    app = _env_app(
        monkeypatch, tmp_path, PORT="8123", MAIL_BASE_URL="https://debat.holbaek.example"
    )
    assert app.config["MAIL_BASE_URL"] == "https://debat.holbaek.example"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_python_app_py_serves_on_port_from_the_environment(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "SECRET_KEY": "s" * 32,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SEARCH_INDEX_DIR": str(tmp_path / "ix"),
        **{w: "external" for w in WORKERS},
    }
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/static/css/site.css", timeout=2
                ) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None, "app.py exited"
                assert time.monotonic() < deadline, f"nothing listens on {port}"
                time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
