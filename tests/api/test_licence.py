"""The open data's licence is a site setting (/admin/indstillinger, audited): the open-data
page, the dump's README and datapackage.json, the OpenAPI document and the Atom feeds state
the chosen one; without a choice, the configured default (OPEN_DATA_LICENCE)."""

from __future__ import annotations

import json
import zipfile

import pytest

from admin import site
from admin.models import SiteLook
from api import dump
from forum.extensions import db
from tests.admin.conftest import audit_entries

CC0 = site.LICENCES["cc0-1.0"]


@pytest.fixture
def app_config(tmp_path) -> dict:
    return {"INSTANCE_PATH": str(tmp_path / "instance")}


@pytest.fixture
def admin(make_user):
    return make_user("admin", name="Ada Admin")


def _choose(client, login, admin, licence: str):
    login(admin)
    r = client.post("/admin/indstillinger", data={"licence": licence})
    client.post("/logout")
    return r


def test_without_a_choice_the_configured_licence_is_stated(client, app, make_topic, admin):
    make_topic(author=admin, title="Cykelsti til Orø")
    default = app.config["OPEN_DATA_LICENCE"]
    assert default == "CC BY 4.0"
    page = client.get("/aabne-data").get_data(as_text=True)
    assert f'rel="license">{default}</a>' in page
    assert "The first file has not been made yet" in page or "Den første fil" in page
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["info"]["license"] == {"name": default, "url": app.config["OPEN_DATA_LICENCE_URL"]}


def test_the_chosen_licence_is_audited_and_stated_everywhere(client, login, app, make_topic, admin):
    make_topic(author=admin, title="Cykelsti til Orø")
    r = _choose(client, login, admin, "cc0-1.0")
    assert r.status_code == 302
    assert db.session.get(SiteLook, 1).open_data_licence == "cc0-1.0"
    [entry] = audit_entries("site_settings")
    assert entry.data["before"]["licence"] is None
    assert entry.data["after"]["licence"] == "cc0-1.0"
    site.forget_cached()

    page = client.get("/aabne-data").get_data(as_text=True)
    assert f'<a href="{CC0.url}" rel="license">{CC0.name}</a>' in page
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["info"]["license"] == {"name": CC0.name, "url": CC0.url}
    feed = client.get("/feeds/emner.atom").get_data(as_text=True)
    assert f"<rights>{CC0.name}: {CC0.url}</rights>" in feed
    assert f'href="{CC0.url}" rel="license"' in feed

    dump.write_dump()
    with zipfile.ZipFile(dump.dump_dir() / dump.FILENAME) as zf:
        meta = json.loads(zf.read("datapackage.json"))
        readme = zf.read("README.txt").decode()
    assert meta["licenses"][0]["name"] == CC0.name and meta["licenses"][0]["path"] == CC0.url
    assert f"Licence: {CC0.name} ({CC0.url})" in readme
    # The data dictionary stays in English in the file, whatever the default language.
    assert "Topic id (stable)." in readme
    assert meta["resources"][2]["schema"]["fields"][0]["description"] == "Topic id (stable)."
    page = client.get("/aabne-data").get_data(as_text=True)
    assert 'href="/aabne-data/borgerdialog.zip"' in page
    assert "Emnets id (stabilt)." in page  # the page's data dictionary in Danish

    # Back to the default: the setting is cleared, and that is audited too.
    _choose(client, login, admin, "")
    assert db.session.get(SiteLook, 1).open_data_licence is None
    assert len(audit_entries("site_settings")) == 2


def test_an_unknown_licence_is_refused_and_nothing_changes(client, login, admin):
    r = _choose(client, login, admin, "all-rights-reserved")
    assert r.status_code == 400
    assert db.session.get(SiteLook, 1) is None
    assert audit_entries("site_settings") == []
