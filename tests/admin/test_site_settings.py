"""Site settings: colours checked for contrast and served as a stylesheet, a PNG/JPEG logo
(SVG refused), the home page's introduction and the footer's contact; every change audited."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from admin import site
from admin.models import SiteLook
from forum.extensions import db
from tests.admin.conftest import audit_entries, text_of


@pytest.fixture
def app_config(tmp_path) -> dict:
    return {"INSTANCE_PATH": str(tmp_path / "instance")}


def _image(fmt: str, size=(120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (0, 80, 122)).save(buffer, format=fmt)
    return buffer.getvalue()


SETTINGS = {
    "intro": "Velkommen til **Testrup**s debat.",
    "contact": "Borgerservice\nTorvet 1, 9999 Testrup",
    "brand_colour": "#1A4D2E",
    "brand_dark_colour": "#0f2e1b",
}


def test_contrast_follows_wcag():
    assert site.contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert site.contrast("#00507a", "#ffffff") > 4.5
    assert site.contrast("#ffff00", "#ffffff") < 1.1
    assert site.contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


def test_settings_show_on_every_page_and_are_audited(as_admin, client, admin_user):
    r = as_admin.post("/admin/indstillinger", data=SETTINGS)
    assert r.status_code == 302
    look = db.session.get(SiteLook, 1)
    assert look.brand_colour == "#1a4d2e" and look.version == 1
    [entry] = audit_entries("site_settings")
    assert entry.actor_id == admin_user.id
    assert entry.data["before"]["brand_colour"] is None
    assert entry.data["after"]["brand_colour"] == "#1a4d2e"
    assert entry.data["after"]["intro"] == SETTINGS["intro"]
    home = client.get("/").get_data(as_text=True)
    assert "Velkommen til <strong>Testrup</strong>s debat." in home
    assert "Torvet 1, 9999 Testrup" in home
    assert 'href="/udseende/tema-1.css"' in home
    css = client.get("/udseende/tema-1.css")
    assert css.mimetype == "text/css" and "--brand: #1a4d2e;" in css.get_data(as_text=True)
    assert "immutable" in css.headers["Cache-Control"]
    # Saving the same again changes nothing and writes no entry.
    as_admin.post("/admin/indstillinger", data=SETTINGS)
    assert len(audit_entries("site_settings")) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("brand_colour", "#ffdd00", "Too little contrast"),
        ("brand_colour", "#7a7a7a", "Too little contrast"),  # fine on white, not on pale grey
        ("brand_dark_colour", "green", "six hexadecimal digits"),
    ],
)
def test_colours_that_fail_are_refused_and_kept(as_admin, field, value, message):
    r = as_admin.post("/admin/indstillinger", data={**SETTINGS, field: value})
    assert r.status_code == 400
    assert message in text_of(r)
    assert f'value="{value}"' in r.get_data(as_text=True)  # what was typed stays
    assert db.session.get(SiteLook, 1) is None
    assert audit_entries("site_settings") == []


def test_a_png_logo_is_served_with_its_type(as_admin, client, app):
    data = {**SETTINGS, "logo": (io.BytesIO(_image("PNG")), "logo.png")}
    r = as_admin.post("/admin/indstillinger", data=data, content_type="multipart/form-data")
    assert r.status_code == 302
    look = db.session.get(SiteLook, 1)
    assert look.logo_type == "png"
    r = client.get(f"/udseende/logo-{look.version}")
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.data == site.logo_path(look.version, "png").read_bytes()
    assert f'src="/udseende/logo-{look.version}"' in client.get("/").get_data(as_text=True)
    assert client.get(f"/udseende/logo-{look.version + 5}").status_code == 404
    [entry] = audit_entries("site_settings")
    assert entry.data["logo_uploaded"] and entry.data["after"]["logo"] == "png"
    # A JPEG replaces it; removing it leaves none.
    data = {**SETTINGS, "logo": (io.BytesIO(_image("JPEG")), "logo.jpg")}
    as_admin.post("/admin/indstillinger", data=data, content_type="multipart/form-data")
    db.session.expire_all()
    look = db.session.get(SiteLook, 1)
    assert client.get(f"/udseende/logo-{look.version}").mimetype == "image/jpeg"
    as_admin.post("/admin/indstillinger", data={**SETTINGS, "remove_logo": "y"})
    db.session.expire_all()
    assert db.session.get(SiteLook, 1).logo_type is None
    assert "/udseende/logo-" not in client.get("/").get_data(as_text=True)


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)


@pytest.mark.parametrize(
    ("payload", "name", "message"),
    [
        (SVG, "logo.png", "SVG files are not accepted"),
        (b"  <svg onload='alert(1)'/>", "logo.svg", "SVG files are not accepted"),
        (b"GIF89a not really", "logo.png", "not a PNG or JPEG"),
        (None, "logo.gif", "Use a PNG or JPEG"),
        (None, "big.png", "at most 200 KB"),
        (None, "tiny.png", "from 16 to 2000 pixels"),
    ],
)
def test_a_logo_that_is_not_a_png_or_jpeg_in_limits_is_refused(as_admin, payload, name, message):
    if payload is None:
        if name == "logo.gif":
            payload = _image("GIF")
        elif name == "tiny.png":
            payload = _image("PNG", size=(8, 8))
        else:
            payload = b"\x89PNG\r\n\x1a\n" + b"\0" * (201 * 1024)
    data = {**SETTINGS, "logo": (io.BytesIO(payload), name)}
    r = as_admin.post("/admin/indstillinger", data=data, content_type="multipart/form-data")
    assert r.status_code == 400, text_of(r)
    assert message in text_of(r)
    assert "Velkommen til" in r.get_data(as_text=True)  # the rest of what was typed stays
    assert db.session.get(SiteLook, 1) is None


def test_only_admins_change_the_settings(app, make_user, login, client):
    for role in ("citizen", "politician", "moderator", "staff"):
        login(make_user(role))
        assert client.get("/admin/indstillinger").status_code == 403
        assert client.post("/admin/indstillinger", data=SETTINGS).status_code == 403
        client.post("/logout")
    assert db.session.get(SiteLook, 1) is None
