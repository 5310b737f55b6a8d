"""Browser checks (axe: no WCAG 2.1 AA violations) for the reach dashboard, the facts page
and the site settings, driven as a person would: facts given by keyboard, colours refused
for contrast, a logo uploaded and shown in the header."""

from __future__ import annotations

import io

from .conftest import assert_no_axe_violations


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), (0, 80, 122)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_facts_by_keyboard_and_the_reach_dashboard(page, live_server, auth_cookies):
    page.context.add_cookies(auth_cookies("citizen"))
    assert page.goto(live_server.url("/privatliv/om-dig")).status == 200
    assert_no_axe_violations(page)
    # Keyboard only: the first answer of the children fact, the consent box, then send.
    page.focus("#children-value-0")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # the other answer of the same group is skipped by Tab
    page.keyboard.press("Space")
    assert page.is_checked("#children-consent")
    with page.expect_navigation():
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
    assert "#fact-children" in page.url
    assert page.locator("#fact-children form .btn-danger").count() == 1  # withdraw
    assert_no_axe_violations(page)
    page.context.clear_cookies()

    page.context.add_cookies(auth_cookies("admin"))
    assert page.goto(live_server.url("/deltagelse?fakta=children")).status == 200
    assert page.locator("svg[role=img]").count() == 1
    assert page.locator("table.data").count() == 2
    assert_no_axe_violations(page)
    assert page.goto(live_server.url("/deltagelse/befolkning/children")).status == 200
    page.fill("#yes", "80")
    page.fill("#no", "40")
    with page.expect_navigation() as nav:
        page.click("main form button[type=submit]")
    assert nav.value.status == 400 and page.locator(".error-summary").count() == 1
    assert_no_axe_violations(page)


def test_site_settings_refuse_poor_contrast_and_show_the_logo(page, live_server, auth_cookies):
    page.context.add_cookies(auth_cookies("admin"))
    assert page.goto(live_server.url("/admin/indstillinger")).status == 200
    assert_no_axe_violations(page)
    page.fill("#brand_colour", "#ffcc00")
    with page.expect_navigation() as nav:
        page.click("main form button[type=submit]")
    assert nav.value.status == 400
    assert page.get_attribute("#brand_colour", "aria-invalid") == "true"
    assert_no_axe_violations(page)
    page.fill("#brand_colour", "#1a4d2e")
    page.fill("#intro", "Velkommen til **debatten**.")
    page.set_input_files(
        "#logo", files=[{"name": "logo.png", "mimeType": "image/png", "buffer": _png()}]
    )
    with page.expect_navigation() as nav:
        page.click("main form button[type=submit]")
    assert nav.value.status == 200 and page.url.endswith("/admin/indstillinger")
    page.goto(live_server.url("/"))
    assert page.locator("header .brand img.brand-logo").count() == 1
    assert page.locator(".site-intro strong").inner_text() == "debatten"
    colour = page.evaluate(
        "() => getComputedStyle(document.querySelector('.site-header')).backgroundColor"
    )
    assert colour == "rgb(26, 77, 46)"  # the generated stylesheet applies (CSP allows it)
    assert_no_axe_violations(page)
    # Back to the built-in look, so the other browser tests see the usual site.
    page.goto(live_server.url("/admin/indstillinger"))
    page.fill("#brand_colour", "")
    page.fill("#intro", "")
    page.check("#remove_logo")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
