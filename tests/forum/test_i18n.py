"""Danish by default, English selectable and remembered; both catalogues complete."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_danish_is_the_default(client):
    text = client.get("/login").get_data(as_text=True)
    assert '<html lang="da">' in text
    assert "Log ind" in text and "Adgangskode" in text


def test_switch_to_english_is_remembered_in_a_cookie(client):
    r = client.post("/sprog", data={"lang": "en", "next": "/login"})
    assert r.status_code == 302 and r.location == "/login"
    text = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in text and "Password" in text


def test_language_is_remembered_on_the_account(app, make_user):
    from forum.extensions import db

    user = make_user()
    first = app.test_client()
    first.post("/login", data={"email": user.email, "password": "correct-horse-battery"})
    first.post("/sprog", data={"lang": "en"})
    db.session.refresh(user)
    assert user.locale == "en"
    second = app.test_client()  # another device, no cookie
    second.post("/login", data={"email": user.email, "password": "correct-horse-battery"})
    assert '<html lang="en">' in second.get("/").get_data(as_text=True)


def test_unknown_language_falls_back_to_danish(client):
    client.post("/sprog", data={"lang": "xx"})
    assert '<html lang="da">' in client.get("/").get_data(as_text=True)


def test_form_errors_are_translated(client):
    r = client.post(
        "/registrer", data={"email": "", "display_name": "", "password": "", "confirm": ""}
    )
    assert "Dette felt skal udfyldes." in r.get_data(as_text=True)
    client.post("/sprog", data={"lang": "en"})
    r = client.post(
        "/registrer", data={"email": "", "display_name": "", "password": "", "confirm": ""}
    )
    assert "This field is required." in r.get_data(as_text=True)


def test_error_pages_are_translated(client):
    assert "Siden findes ikke" in client.get("/findes-ikke").get_data(as_text=True)


@pytest.mark.parametrize("lang", ["da", "en"])
def test_catalogue_is_complete(lang):
    """Every message in the template has a translation (no empty or fuzzy entries)."""
    with open(ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f)
    with open(ROOT / "translations" / "messages.pot", "rb") as f:
        template = read_po(f)
    missing = []
    for msg in template:
        if not msg.id:
            continue
        entry = catalog.get(msg.id)
        if entry is None or entry.fuzzy:
            missing.append(msg.id)
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(strings):
            missing.append(msg.id)
    assert not missing, f"{len(missing)} untranslated in {lang}: {missing[:10]}"


def test_template_is_up_to_date(tmp_path):
    """translations/messages.pot holds every string the code uses (run `./dev.sh i18n`)."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    with open(ROOT / "translations" / "messages.pot", "rb") as f:
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    assert not (found - known), f"not in messages.pot: {sorted(found - known)[:10]}"


def test_every_package_is_extracted():
    """A package missing from babel.cfg has its strings silently untranslated."""
    import tomllib

    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]
    cfg = (ROOT / "babel.cfg").read_text()
    missing = [p for p in packages if f"[python: {p}/**.py]" not in cfg]
    assert not missing, f"add these packages to babel.cfg: {missing}"
