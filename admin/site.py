"""Site settings: the logo, the colours, the home page's introduction, the footer's contact and
the licence of the open data (the dump, the API and the feeds state it: ``LICENCES``).

Colours must keep WCAG 2.1 AA contrast (4.5:1) where the stylesheet uses them: the brand
colour under white text (header, buttons) and as link text on the white and the pale grey
background, the dark one as link and button colour on hover. They are served as a small
generated stylesheet (the CSP allows no inline style) whose address carries the settings'
version. A logo must be a PNG or JPEG (an SVG can carry script) within ``ADMIN_LOGO_MAX_BYTES``;
Pillow checks that it really is one. It is kept in the instance folder as
``site/logo-<version>.<png|jpg>`` and served with its own content type.

Pages read the settings through ``current()``: a snapshot kept per process for
``ADMIN_SITE_LOOK_TTL`` seconds (saving refreshes it in the saving process at once).
"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from typing import NamedTuple

from flask import current_app
from flask_babel import gettext as _

from forum import hooks
from forum.errors import InvalidInput, PermissionDenied
from forum.extensions import db
from forum.models import User, utcnow
from forum.rendering import render_markdown

from . import permissions
from .models import SiteLook

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
WHITE, PALE = "#ffffff", "#f3f5f7"  # static/css/site.css: --bg and --soft
DEFAULT_BRAND, DEFAULT_BRAND_DARK = "#00507a", "#003a59"
MIN_CONTRAST = 4.5
INTRO_MAX, CONTACT_MAX = 4000, 500
_CACHE_KEY = "admin.site_look"


class Snapshot(NamedTuple):
    version: int
    intro_html: str
    contact: str
    brand: str | None
    brand_dark: str | None
    logo_type: str | None
    licence: str | None = None  # a key of LICENCES; None: the configured default


EMPTY = Snapshot(0, "", "", None, None, None)


class Licence(NamedTuple):
    name: str
    url: str


# The licences a municipality may choose for its open data (the usual ones for public-sector
# data: Creative Commons and Open Data Commons). Names are the licences' own (not translated).
LICENCES: dict[str, Licence] = {
    "cc0-1.0": Licence("CC0 1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "cc-by-4.0": Licence("CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/"),
    "cc-by-sa-4.0": Licence("CC BY-SA 4.0", "https://creativecommons.org/licenses/by-sa/4.0/"),
    "pddl-1.0": Licence("ODC PDDL 1.0", "https://opendatacommons.org/licenses/pddl/1-0/"),
    "odc-by-1.0": Licence("ODC-By 1.0", "https://opendatacommons.org/licenses/by/1-0/"),
}
_KEEP = object()


def default_licence() -> Licence:
    """The licence when none is chosen: the configuration's OPEN_DATA_LICENCE(_URL)."""
    cfg = current_app.config
    return Licence(
        cfg.get("OPEN_DATA_LICENCE", LICENCES["cc-by-4.0"].name),
        cfg.get("OPEN_DATA_LICENCE_URL", LICENCES["cc-by-4.0"].url),
    )


def licence(snap: Snapshot | None = None) -> Licence:
    """The open data's licence: the one chosen in the settings, else the default. Pass a
    fresh ``snapshot(row())`` where the cached one may be behind (the nightly dump)."""
    snap = snap if snap is not None else current()
    return LICENCES.get(snap.licence or "") or default_licence()


# --- contrast (WCAG 2.1, 1.4.3) -----------------------------------------------------------


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    """The contrast ratio of two "#rrggbb" colours, from 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _ratio_text(value: float) -> str:
    from flask_babel import format_decimal

    return format_decimal(round(value, 2), format="0.0#")


def _check_colour(name: str, value: str | None, errors: dict[str, str]) -> str | None:
    value = (value or "").strip().lower()
    if not value:
        return None
    if not HEX.match(value):
        errors[name] = _("Write the colour as # and six hexadecimal digits, e.g. #00507a.")
        return value
    worst = min(contrast(value, WHITE), contrast(value, PALE))
    if worst < MIN_CONTRAST:
        errors[name] = _(
            "Too little contrast: %(ratio)s:1 against white text and the pale background; "
            "at least %(min)s:1 is needed (WCAG 2.1 AA). Choose a darker colour.",
            ratio=_ratio_text(worst),
            min=_ratio_text(MIN_CONTRAST),
        )
    return value


# --- the logo -------------------------------------------------------------------------------


def _logo_kind(data: bytes) -> str:
    """ "png" or "jpeg", or InvalidInput with the reason (SVG refused, not an image...)."""
    limit = current_app.config["ADMIN_LOGO_MAX_BYTES"]
    if len(data) > limit:
        raise InvalidInput(
            logo=_("The logo may be at most %(kb)d KB.", kb=limit // 1024),
        )
    head = data[:512].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg", b"<!doctype")) or b"<svg" in head:
        raise InvalidInput(
            logo=_("SVG files are not accepted (they can carry script): use PNG or JPEG.")
        )
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = (image.format or "").lower()
            image.verify()
            width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidInput(logo=_("This is not a PNG or JPEG image.")) from None
    if kind not in ("png", "jpeg"):
        raise InvalidInput(logo=_("Use a PNG or JPEG image."))
    if not (16 <= width <= 2000 and 16 <= height <= 2000):
        raise InvalidInput(logo=_("The logo must be from 16 to 2000 pixels wide and high."))
    return kind


def logo_dir() -> Path:
    return Path(current_app.instance_path) / "site"


def logo_path(version: int, kind: str) -> Path:
    return logo_dir() / f"logo-{version}.{'jpg' if kind == 'jpeg' else 'png'}"


# --- reading and saving -------------------------------------------------------------------


def row() -> SiteLook:
    found = db.session.get(SiteLook, 1)
    return found if found is not None else SiteLook(id=1, version=0)


def snapshot(look: SiteLook) -> Snapshot:
    return Snapshot(
        look.version or 0,
        look.intro_html or "",
        look.contact or "",
        look.brand_colour,
        look.brand_dark_colour,
        look.logo_type,
        look.open_data_licence,
    )


def current() -> Snapshot:
    """The settings as pages use them (cached per process for a short while)."""
    ttl = current_app.config["ADMIN_SITE_LOOK_TTL"]
    cached = current_app.extensions.get(_CACHE_KEY)
    now = time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1]
    look = db.session.get(SiteLook, 1)
    snap = EMPTY if look is None else snapshot(look)
    current_app.extensions[_CACHE_KEY] = (now + ttl, snap)
    return snap


def forget_cached() -> None:
    current_app.extensions.pop(_CACHE_KEY, None)


def _data(look: SiteLook) -> dict:
    return {
        "intro": look.intro_source or "",
        "contact": look.contact or "",
        "brand_colour": look.brand_colour,
        "brand_dark_colour": look.brand_dark_colour,
        "logo": look.logo_type,
        "licence": look.open_data_licence,
        "version": look.version or 0,
    }


def _checked_logo(logo: bytes | None, errors: dict[str, str]) -> str | None:
    """The uploaded logo's kind ("png"/"jpeg"), None without one; problems go to ``errors``."""
    if not logo:
        return None
    try:
        return _logo_kind(logo)
    except InvalidInput as exc:
        errors.update(exc.fields)
        return None


def update(
    actor: User,
    intro: str,
    contact: str,
    brand_colour: str | None,
    brand_dark_colour: str | None,
    logo: bytes | None = None,
    remove_logo: bool = False,
    licence=_KEEP,
) -> bool:
    """Save the site settings (admins only), audited with before/after. Returns False when
    nothing changed. Bad input is an ``InvalidInput`` naming the fields; nothing is kept.
    ``licence``: a key of ``LICENCES``, or "" / None for the default; left out: unchanged."""
    if not permissions.is_admin(actor):
        raise PermissionDenied(_("Only admins may do this."))
    errors: dict[str, str] = {}
    intro = (intro or "").strip()
    contact = "\n".join(line.rstrip() for line in (contact or "").strip().splitlines())
    if len(intro) > INTRO_MAX:
        errors["intro"] = _("Use at most %(n)d characters.", n=INTRO_MAX)
    if len(contact) > CONTACT_MAX:
        errors["contact"] = _("Use at most %(n)d characters.", n=CONTACT_MAX)
    brand = _check_colour("brand_colour", brand_colour, errors)
    dark = _check_colour("brand_dark_colour", brand_dark_colour, errors)
    if licence is not _KEEP and licence and licence not in LICENCES:
        errors["licence"] = _("Choose one of the listed licences.")
    kind = _checked_logo(logo, errors)
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), **errors)
    look = db.session.get(SiteLook, 1)
    if look is None:
        look = SiteLook(id=1, version=0, intro_source="", intro_html="", contact="")
        db.session.add(look)
    before = _data(look)
    look.intro_source = intro
    look.intro_html = str(render_markdown(intro)) if intro else ""
    look.contact = contact
    look.brand_colour, look.brand_dark_colour = brand, dark
    if remove_logo:
        look.logo_type = None
    if licence is not _KEEP:
        look.open_data_licence = licence or None
    after = _data(look) | {"logo": kind or look.logo_type, "version": before["version"]}
    if after == before and not logo:
        return False
    look.version = (look.version or 0) + 1
    if kind is not None:
        path = logo_path(look.version, kind)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(logo)  # a new name per version: the old file serves until commit
        look.logo_type = kind
    look.updated_at = utcnow()
    look.updated_by_id = actor.id
    db.session.flush()
    after = _data(look)
    hooks.audit_log(
        "site_settings",
        "site",
        1,
        actor=actor,
        text=", ".join(k for k in after if k != "version" and after[k] != before[k]),
        data={"before": before, "after": after, "logo_uploaded": kind is not None},
    )
    return True


def stylesheet(snap: Snapshot) -> str:
    """The CSS that puts the chosen colours in place of the built-in ones."""
    lines = []
    if snap.brand:
        lines.append(f"--brand: {snap.brand}; --staff: {snap.brand};")
    if snap.brand_dark:
        lines.append(f"--brand-dark: {snap.brand_dark};")
    body = " ".join(lines)
    css = f":root {{ {body} }}\n" if body else ""
    if snap.logo_type:
        css += (
            ".brand-logo { height: 2rem; width: auto; margin-right: .5rem; "
            "vertical-align: middle; }\n"
        )
    return css
