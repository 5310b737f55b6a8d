"""deploy/: the nginx site passes `nginx -t`, the Procfile and the units name only commands
that exist, and the systemd units parse."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess

import click
import pytest

from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
IN_CI = os.environ.get("CI") == "true"


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if IN_CI:
            pytest.fail(f"{tool} is missing in CI (.ci/run installs it)")
        pytest.skip(f"{tool} is not installed")
    return path


def procfile() -> dict[str, str]:
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, command = line.partition(":")
            entries[name.strip()] = command.strip()
    return entries


def flask_commands(text: str) -> list[list[str]]:
    """Every ``flask --app app <command ...>`` in a text, as argument lists."""
    found = []
    for m in re.finditer(r"flask\"? --app app ([a-z][a-z -]*[a-z])", text):
        found.append(m.group(1).split())
    for m in re.finditer(r"^\s*job ([a-z][a-z ]*[a-z])\s*(;|$)", text, re.M):
        found.append(m.group(1).split())
    return found


def _resolve(app, words: list[str]) -> click.Command:
    ctx = click.Context(app.cli)
    cmd: click.Command = app.cli
    for word in words:
        if not isinstance(cmd, click.Group):
            break
        sub = cmd.get_command(ctx, word)
        assert sub is not None, f"`flask {' '.join(words)}`: no command {word!r}"
        cmd = sub
    assert not isinstance(cmd, click.Group), f"`flask {' '.join(words)}` names a group"
    return cmd


def test_the_procfile_runs_the_whole_shape():
    entries = procfile()
    assert set(entries) == {
        "web1",
        "web2",
        "search",
        "search-standby",
        "fanout",
        "periodic",
        "proxy",
    }
    # The standby is the same worker: it writes only when the first one is gone.
    assert entries["search-standby"] == entries["search"]
    for name, port in (("web1", "${WEB1_PORT:-8001}"), ("web2", "${WEB2_PORT:-8002}")):
        argv = shlex.split(entries[name])
        assert argv[0] == ".venv/bin/gunicorn" and argv[-1] == "app:create_app()"
        assert argv[argv.index("-k") + 1] == "gevent" and argv[argv.index("-w") + 1] == "1"
        assert argv[argv.index("-b") + 1] == f"127.0.0.1:{port}"
    for name in ("periodic", "proxy"):
        script = ROOT / shlex.split(entries[name])[0]
        assert script.is_file() and os.access(script, os.X_OK), script


def test_every_flask_command_named_exists(app):
    texts = [(ROOT / "Procfile").read_text(), (DEPLOY / "run-periodic.sh").read_text()]
    texts += [p.read_text() for p in sorted(UNITS.glob("*.service"))]
    named = [words for text in texts for words in flask_commands(text)]
    expected = {
        ("search", "worker"),
        ("fanout", "worker"),
        ("mail", "send"),
        ("mail", "digests"),
        ("qa", "tick"),
        ("budgets", "advance"),
        ("opinions", "recompute"),
        ("moderation", "remind"),
        ("privacy", "purge"),
        ("meetings", "remind"),
        ("api", "dump"),
    }
    assert {tuple(w) for w in named} == expected
    for words in named:
        _resolve(app, words)
    with pytest.raises(AssertionError):
        _resolve(app, ["mail", "no-such-command"])  # the check can fail


def test_periodic_schedules_match_the_readme():
    every = {"mail-send": "*:*:00", "qa-tick": "*:*:00", "budgets-advance": "*:*:00"}
    every["opinions-recompute"] = "*:*:00"
    every |= {"mail-digests": "*:00/10:00", "moderation-remind": "*:00/5:00"}
    every |= {"privacy-purge": "*:17:00", "api-dump": "03:30:00"}
    for name, calendar in every.items():
        timer = (UNITS / f"borgerdialog-{name}.timer").read_text()
        assert f"OnCalendar=*-*-* {calendar}\n" in timer, name
        assert f"Unit=borgerdialog-{name}.service" in timer
        service = (UNITS / f"borgerdialog-{name}.service").read_text()
        assert "Type=oneshot" in service
        assert f"flask --app app {name.replace('-', ' ')}\n" in service
    loop = (DEPLOY / "run-periodic.sh").read_text()
    assert "minute % 5 == 0" in loop and "minute % 10 == 0" in loop
    assert "job api dump --if-due" in loop
    target = (UNITS / "borgerdialog.target").read_text()
    for timer in UNITS.glob("*.timer"):
        assert timer.name in target, f"borgerdialog.target does not want {timer.name}"


def test_systemd_units_parse(tmp_path):
    units = sorted(UNITS.iterdir())
    names = {p.name for p in units}
    assert {
        "borgerdialog@.service",
        "borgerdialog-search.service",
        "borgerdialog-fanout.service",
        "borgerdialog.target",
    } <= names
    assert "borgerdialog-search-standby.service" in names
    target = (UNITS / "borgerdialog.target").read_text()
    assert "borgerdialog-search-standby.service" in target
    instance = (UNITS / "borgerdialog@.service").read_text()
    assert "-k gevent -w 1" in instance and "-b 127.0.0.1:%i" in instance
    assert "EnvironmentFile=/etc/borgerdialog/borgerdialog.env" in instance
    for unit in units:  # structure: sections and key=value lines only
        sections = re.findall(r"^\[(\w+)\]$", unit.read_text(), re.M)
        assert sections and sections[0] == "Unit", unit.name
        for line in unit.read_text().splitlines():
            assert not line or line[0] in "#[" or re.match(r"^[A-Z]\w*=", line), (unit, line)
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed: structural checks only")
    # Point the units at this checkout so the executables they name exist.
    for unit in units:
        text = unit.read_text().replace("/srv/borgerdialog", str(ROOT))
        (tmp_path / unit.name).write_text(text)
    (tmp_path / "borgerdialog@8001.service").write_text(
        (tmp_path / "borgerdialog@.service").read_text()
    )
    files = sorted(str(p) for p in tmp_path.iterdir())
    proc = subprocess.run(
        [analyze, "verify", "--man=no", *files], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "Unknown" not in proc.stderr and "ignoring" not in proc.stderr, proc.stderr


def test_nginx_site_is_valid(tmp_path):
    nginx = _need("nginx")
    openssl = _need("openssl")
    site = (DEPLOY / "nginx-borgerdialog.conf").read_text()
    assert "hash $remote_addr consistent;" in site
    assert "server 127.0.0.1:8001" in site and "server 127.0.0.1:8002" in site
    for header in (
        "Host $http_host",
        "X-Forwarded-For",
        "X-Forwarded-Proto $scheme",
        "X-Request-ID",
    ):
        assert f"proxy_set_header {header}" in site
    assert "proxy_set_header Upgrade $http_upgrade;" in site
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=localhost", "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    site = (
        site.replace("/etc/ssl/borgerdialog/fullchain.pem", str(tmp_path / "cert.pem"))
        .replace("/etc/ssl/borgerdialog/privkey.pem", str(tmp_path / "key.pem"))
        .replace("/var/log/nginx/", f"{tmp_path}/")
        .replace("/srv/borgerdialog", str(ROOT))
    )
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{ include {tmp_path}/site.conf; }}\n"
    )
    proc = subprocess.run(
        [nginx, "-e", "stderr", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-t"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "test is successful" in proc.stderr
    # and the local variant the Procfile runs
    local = subprocess.run(
        [str(DEPLOY / "nginx-local.sh"), "-t"], capture_output=True, text=True, timeout=60
    )
    assert local.returncode == 0, local.stderr


def test_the_env_example_names_every_variable():
    """Every setting a package declares as read from the environment (forum/config.py) is
    in the example, set or commented out; and the example sets nothing undeclared."""
    from app import SETTINGS
    from forum.config import env_settings

    example = (DEPLOY / "borgerdialog.env.example").read_text()
    named = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", example, re.M))
    expected = set(env_settings(SETTINGS))
    assert "WORKERS" in expected and "FANOUT_WORKER" in expected
    assert expected <= named, expected - named
    assert set(re.findall(r"^([A-Z][A-Z0-9_]*)=", example, re.M)) <= expected
